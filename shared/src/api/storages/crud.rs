//! List, create, read, update and delete storages.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::json::storage_json;
use super::request::{
    SecretRule, SettingsChange, checked_storage, link_scope, optional_text, removed_objects,
    required_project, sync_interval, synchronizable,
};
use crate::api::access::Caller;
use crate::api::body::object_body;
use crate::api::error::{ApiError, ApiResult};
use crate::connectors::{self, Connector, Storage};
use crate::context::Context;
use crate::jobs::fail_if_stale;
use crate::jobs::start::start_sync;
use crate::model::{NewStorage, StorageRecord, StorageRole, SyncSchedule};

#[derive(Deserialize)]
pub struct ProjectQuery {
    project: Option<String>,
}

/// The type of a path's `{storage_type}`, 404 when unknown.
pub fn type_of(slug: &str) -> ApiResult<&'static dyn Connector> {
    connectors::by_slug(slug).ok_or_else(|| ApiError::not_found(format!("Storage type {slug:?}")))
}

/// A stored storage of this role and type that the caller may see, 404 otherwise; a sync of
/// it that went stale is failed first, so it is shown as it is.
pub async fn find(
    ctx: &Context,
    caller: &Caller,
    role: StorageRole,
    slug: &str,
    id: u64,
) -> ApiResult<StorageRecord> {
    match ctx.state.get_storage(id).await? {
        Some(s) if s.role == role && s.storage_type == slug && caller.sees(s.project) => {
            Ok(fail_if_stale(ctx, s).await?)
        }
        _ => Err(ApiError::not_found(format!("{slug} storage {id}"))),
    }
}

/// `GET /api/storages/?project=`: every type's storages; `[]` without a project (as Label Studio).
pub async fn list_all(
    role: StorageRole,
    State(ctx): State<Context>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<ProjectQuery>,
) -> ApiResult<Json<Vec<Value>>> {
    let Some(project) = q.project.and_then(|p| p.parse::<u64>().ok()) else {
        return Ok(Json(Vec::new()));
    };
    caller.check(project, format!("Project {project}"))?;
    let records = ctx.state.list_storages(project, role).await?;
    let mut out = Vec::with_capacity(records.len());
    for ty in connectors::all() {
        for record in records.iter().filter(|r| r.storage_type == ty.slug()) {
            let record = fail_if_stale(&ctx, record.clone()).await?;
            out.push(storage_json(&ctx, *ty, &record).await);
        }
    }
    Ok(Json(out))
}

/// `GET /api/storages/<type>/?project=`.
pub async fn list(
    role: StorageRole,
    State(ctx): State<Context>,
    Extension(caller): Extension<Caller>,
    Path(slug): Path<String>,
    Query(q): Query<ProjectQuery>,
) -> ApiResult<Json<Vec<Value>>> {
    let ty = type_of(&slug)?;
    let Some(raw) = q.project else {
        return Err(ApiError::validation(
            "non_field_errors",
            "query parameter \"project\" is required",
        ));
    };
    let project = raw
        .parse::<u64>()
        .map_err(|_| ApiError::validation("project", "A valid integer is required."))?;
    if !caller.sees(project) || ctx.state.get_project(project).await?.is_none() {
        return Err(ApiError::not_found(format!("Project {project}")));
    }
    let mut out = Vec::new();
    for record in ctx
        .state
        .list_storages(project, role)
        .await?
        .iter()
        .filter(|r| r.storage_type == slug)
    {
        let record = fail_if_stale(&ctx, record.clone()).await?;
        out.push(storage_json(&ctx, ty, &record).await);
    }
    Ok(Json(out))
}

/// `POST /api/storages/<type>/`: validated, stored; a target storage then exports everything.
pub async fn create(
    role: StorageRole,
    State(ctx): State<Context>,
    Extension(caller): Extension<Caller>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let ty = type_of(&slug)?;
    let body = object_body(&headers, &body)?;
    let project = required_project(&ctx, &caller, &body).await?;
    let change = SettingsChange {
        connector: ty,
        role,
        body: &body,
        base: &Map::new(),
        rule: SecretRule::AbsentKeeps,
    };
    let bound = checked_storage(&ctx, &caller, &change).await?;
    let is_source = role == StorageRole::Import;
    let new = NewStorage {
        role,
        storage_type: slug,
        project: project.id,
        title: optional_text(&body, "title").flatten(),
        description: optional_text(&body, "description").flatten(),
        synchronizable: synchronizable(&body).unwrap_or(true),
        settings: bound.settings(),
        links: link_scope(&body),
        location: location(role, bound.as_ref()),
        schedule: SyncSchedule::every(sync_interval(&body)?.flatten().filter(|_| is_source)),
        removed_objects: removed_objects(&body)?.unwrap_or_default(),
    };
    let mut record = ctx.state.create_storage(new).await?;
    if role == StorageRole::Export && ctx.settings.sync_on_target_storage_creation {
        record = start_sync(&ctx, &record).await?;
    }
    Ok((
        StatusCode::CREATED,
        Json(storage_json(&ctx, ty, &record).await),
    )
        .into_response())
}

/// Where a source storage's objects live, for object events to find it.
fn location(role: StorageRole, bound: &dyn Storage) -> Option<String> {
    (role == StorageRole::Import).then(|| bound.location())
}

/// `GET /api/storages/<type>/<id>`.
pub async fn get_one(
    role: StorageRole,
    State(ctx): State<Context>,
    Extension(caller): Extension<Caller>,
    Path((slug, id)): Path<(String, u64)>,
) -> ApiResult<Json<Value>> {
    let ty = type_of(&slug)?;
    let record = find(&ctx, &caller, role, &slug, id).await?;
    Ok(Json(storage_json(&ctx, ty, &record).await))
}

/// `PATCH`/`PUT /api/storages/<type>/<id>`: the body merged over the stored storage, always
/// re-validated (Label Studio re-validates only some types, some of the time). Status fields
/// in the body are accepted and ignored, so clients that echo whole objects keep working.
pub async fn update(
    role: StorageRole,
    State(ctx): State<Context>,
    Extension(caller): Extension<Caller>,
    Path((slug, id)): Path<(String, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let ty = type_of(&slug)?;
    let record = find(&ctx, &caller, role, &slug, id).await?;
    let body = object_body(&headers, &body)?;
    let change = SettingsChange {
        connector: ty,
        role,
        body: &body,
        base: &record.settings,
        rule: SecretRule::AbsentKeeps,
    };
    let bound = checked_storage(&ctx, &caller, &change).await?;
    let (settings, location) = (bound.settings(), location(role, bound.as_ref()));
    let (title, description, sync_flag) = (
        optional_text(&body, "title"),
        optional_text(&body, "description"),
        synchronizable(&body),
    );
    let interval = sync_interval(&body)?.filter(|_| role == StorageRole::Import);
    let removal = removed_objects(&body)?.filter(|_| role == StorageRole::Import);
    let apply = |s: &mut StorageRecord| {
        s.settings = settings.clone();
        s.location = location.clone();
        if let Some(title) = &title {
            s.title = title.clone();
        }
        if let Some(description) = &description {
            s.description = description.clone();
        }
        if let Some(flag) = sync_flag {
            s.synchronizable = flag;
        }
        if let Some(every) = interval
            && s.schedule.every_minutes != every
        {
            s.schedule = SyncSchedule::every(every);
        }
        if let Some(policy) = removal {
            s.removed_objects = policy;
        }
    };
    let updated = ctx
        .state
        .update_storage(id, &apply)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("{slug} storage {id}")))?;
    Ok(Json(storage_json(&ctx, ty, &updated).await))
}

/// `DELETE /api/storages/<type>/<id>`: 204; tasks and exported objects stay.
pub async fn delete(
    role: StorageRole,
    State(ctx): State<Context>,
    Extension(caller): Extension<Caller>,
    Path((slug, id)): Path<(String, u64)>,
) -> ApiResult<StatusCode> {
    find(&ctx, &caller, role, &slug, id).await?;
    ctx.state.delete_storage(id).await?;
    Ok(StatusCode::NO_CONTENT)
}
