//! `/api/projects`: enough of Label Studio's project API for storages to have an owner.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::{Extension, Json};
use serde_json::{Map, Value, json};

use super::access::Caller;
use super::body::{id_value, object_body};
use super::error::{ApiError, ApiResult};
use crate::context::Context;
use crate::model::{NewProject, Project, iso_time};

fn text(body: &Map<String, Value>, name: &str) -> Option<String> {
    body.get(name).and_then(Value::as_str).map(str::to_owned)
}

pub async fn project_json(ctx: &Context, project: &Project) -> ApiResult<Value> {
    Ok(json!({
        "id": project.id,
        "title": project.title,
        "description": project.description,
        "label_config": project.label_config,
        "maximum_annotations": project.maximum_annotations,
        "created_at": iso_time(&project.created_at),
        "task_number": ctx.state.count_tasks(project.id).await?,
    }))
}

/// `POST /api/projects`.
pub async fn create(
    State(ctx): State<Context>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require_admin()?;
    let body = object_body(&headers, &body)?;
    let maximum_annotations = id_value(body.get("maximum_annotations"))
        .unwrap_or(1)
        .max(1);
    let new = NewProject {
        title: text(&body, "title").unwrap_or_default(),
        description: text(&body, "description").unwrap_or_default(),
        label_config: text(&body, "label_config").unwrap_or_else(|| "<View></View>".into()),
        maximum_annotations,
    };
    let project = ctx.state.create_project(new).await?;
    Ok((
        StatusCode::CREATED,
        Json(project_json(&ctx, &project).await?),
    ))
}

/// `GET /api/projects`: Label Studio's paginated shape, all on one page; the caller's projects.
pub async fn list(
    State(ctx): State<Context>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Value>> {
    let projects = ctx.state.list_projects().await?;
    let mut results = Vec::with_capacity(projects.len());
    for project in projects.iter().filter(|p| caller.sees(p.id)) {
        results.push(project_json(&ctx, project).await?);
    }
    Ok(Json(
        json!({"count": results.len(), "next": null, "previous": null, "results": results}),
    ))
}

/// The project, 404 when it does not exist or the caller may not see it.
pub async fn get_project(ctx: &Context, caller: &Caller, id: u64) -> ApiResult<Project> {
    caller.check(id, format!("Project {id}"))?;
    ctx.state
        .get_project(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Project {id}")))
}

/// `GET /api/projects/<id>`.
pub async fn get_one(
    State(ctx): State<Context>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<u64>,
) -> ApiResult<Json<Value>> {
    let project = get_project(&ctx, &caller, id).await?;
    Ok(Json(project_json(&ctx, &project).await?))
}

/// `PATCH /api/projects/<id>`: title, description, label_config, maximum_annotations.
pub async fn update(
    State(ctx): State<Context>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<u64>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let mut project = get_project(&ctx, &caller, id).await?;
    let body = object_body(&headers, &body)?;
    if let Some(title) = text(&body, "title") {
        project.title = title;
    }
    if let Some(description) = text(&body, "description") {
        project.description = description;
    }
    if let Some(config) = text(&body, "label_config") {
        project.label_config = config;
    }
    if let Some(max) = id_value(body.get("maximum_annotations")) {
        project.maximum_annotations = max.max(1);
    }
    ctx.state.put_project(&project).await?;
    Ok(Json(project_json(&ctx, &project).await?))
}
