//! `/api/projects`: enough of Label Studio's project API for storages to have an owner:
//! create, list, read, update and delete.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::{Extension, Json};
use serde_json::{Map, Value, json};

use super::access::Caller;
use super::body::{id_value, object_body};
use super::error::{ApiError, ApiResult};
use crate::context::Context;
use crate::export::announce;
use crate::model::{NewProject, Project, iso_time};

fn text(body: &Map<String, Value>, name: &str) -> Option<String> {
    body.get(name).and_then(Value::as_str).map(str::to_owned)
}

/// A project as Label Studio shows it. The SDK's project models (generated from Label Studio
/// Enterprise's schema) require `assignment_settings` and `review_settings`; labelsync has
/// neither feature, so both are the empty settings of this project.
pub async fn project_json(ctx: &Context, project: &Project) -> ApiResult<Value> {
    let counts = ctx.state.project_counts(project.id).await?;
    Ok(json!({
        "id": project.id,
        "title": project.title,
        "description": project.description,
        "label_config": project.label_config,
        "maximum_annotations": project.maximum_annotations,
        "created_at": iso_time(&project.created_at),
        "task_number": counts.tasks,
        "total_annotations_number": counts.annotations,
        "total_predictions_number": counts.predictions,
        "assignment_settings": {"project": project.id},
        "review_settings": {"project": project.id},
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
    Query(paging): Query<Paging>,
) -> ApiResult<Json<Value>> {
    let visible: Vec<Project> = ctx
        .state
        .list_projects()
        .await?
        .into_iter()
        .filter(|p| caller.sees(p.id))
        .collect();
    let size = paging
        .page_size
        .unwrap_or(PAGE_SIZE)
        .clamp(1, MAX_PAGE_SIZE);
    let page = paging.page.unwrap_or(1).max(1);
    let first = (page - 1).saturating_mul(size);
    // As Django REST framework: a page past the end is 404, except the first.
    if page > 1 && first >= visible.len() {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "Invalid page."));
    }
    let mut results = Vec::new();
    for project in visible.iter().skip(first).take(size) {
        results.push(project_json(&ctx, project).await?);
    }
    let link = |page: usize| {
        format!(
            "{}/api/projects?page={page}&page_size={size}",
            ctx.settings.hostname
        )
    };
    let next = (first + size < visible.len()).then(|| link(page + 1));
    let previous = (page > 1).then(|| link(page - 1));
    Ok(Json(json!({
        "count": visible.len(), "next": next, "previous": previous, "results": results
    })))
}

/// Projects per page unless `page_size` says otherwise (Label Studio's 30).
const PAGE_SIZE: usize = 30;
const MAX_PAGE_SIZE: usize = 1000;

/// `?page=&page_size=` of a list.
#[derive(serde::Deserialize)]
pub struct Paging {
    page: Option<usize>,
    page_size: Option<usize>,
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

/// `DELETE /api/projects/<id>`: the project with its storages, tasks, annotations and links;
/// 204, or 404 for a project the caller cannot see. Objects already exported stay where they
/// were written (the project's target storages go with it).
pub async fn delete(
    State(ctx): State<Context>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<u64>,
) -> ApiResult<StatusCode> {
    get_project(&ctx, &caller, id).await?;
    if !ctx.state.delete_project(id).await? {
        return Err(ApiError::not_found(format!("Project {id}")));
    }
    // The deleted annotations' outbox entries name no target any more; the relay clears them.
    announce(&ctx).await;
    Ok(StatusCode::NO_CONTENT)
}
