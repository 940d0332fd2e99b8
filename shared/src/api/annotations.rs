//! Annotations: create, read, update, delete; every change is queued for export.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::{Extension, Json};
use serde_json::Value;

use super::access::Caller;
use super::body::{flag, id_value, object_body};
use super::error::{ApiError, ApiResult};
use super::tasks::{annotation_json, visible_task};
use crate::context::Context;
use crate::export::announce;
use crate::model::{Annotation, AnnotationPatch, NewAnnotation};

/// `POST /api/tasks/<id>/annotations`.
pub async fn create(
    State(ctx): State<Context>,
    Extension(caller): Extension<Caller>,
    Path(task): Path<u64>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    visible_task(&ctx, &caller, task).await?;
    let body = object_body(&headers, &body)?;
    let result = body
        .get("result")
        .cloned()
        .unwrap_or(Value::Array(Vec::new()));
    if !result.is_array() {
        return Err(ApiError::validation(
            "result",
            "Expected a list of region results.",
        ));
    }
    let new = NewAnnotation {
        result,
        was_cancelled: flag(&body, "was_cancelled").unwrap_or(false),
        ground_truth: flag(&body, "ground_truth").unwrap_or(false),
        lead_time: body.get("lead_time").and_then(Value::as_f64),
        completed_by: id_value(body.get("completed_by")),
    };
    let annotation = ctx.state.create_annotation(task, new).await?;
    announce(&ctx).await;
    Ok((StatusCode::CREATED, Json(annotation_json(&annotation))))
}

/// `GET /api/tasks/<id>/annotations`.
pub async fn list_of_task(
    State(ctx): State<Context>,
    Extension(caller): Extension<Caller>,
    Path(task): Path<u64>,
) -> ApiResult<Json<Vec<Value>>> {
    visible_task(&ctx, &caller, task).await?;
    Ok(Json(
        ctx.state
            .list_task_annotations(task)
            .await?
            .iter()
            .map(annotation_json)
            .collect(),
    ))
}

/// An annotation the caller may see, 404 otherwise.
async fn visible_annotation(ctx: &Context, caller: &Caller, id: u64) -> ApiResult<Annotation> {
    match ctx.state.get_annotation(id).await? {
        Some(annotation) if caller.sees(annotation.project) => Ok(annotation),
        _ => Err(ApiError::not_found(format!("Annotation {id}"))),
    }
}

/// `GET /api/annotations/<id>`.
pub async fn get_one(
    State(ctx): State<Context>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<u64>,
) -> ApiResult<Json<Value>> {
    let annotation = visible_annotation(&ctx, &caller, id).await?;
    Ok(Json(annotation_json(&annotation)))
}

/// `PATCH /api/annotations/<id>`.
pub async fn update(
    State(ctx): State<Context>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<u64>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    visible_annotation(&ctx, &caller, id).await?;
    let body = object_body(&headers, &body)?;
    let patch = AnnotationPatch {
        result: body.get("result").cloned(),
        was_cancelled: flag(&body, "was_cancelled"),
        ground_truth: flag(&body, "ground_truth"),
        lead_time: body.get("lead_time").and_then(Value::as_f64),
    };
    let annotation = ctx
        .state
        .update_annotation(id, patch)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Annotation {id}")))?;
    announce(&ctx).await;
    Ok(Json(annotation_json(&annotation)))
}

/// `DELETE /api/annotations/<id>`: 204; target storages with `can_delete_objects` lose its object.
pub async fn delete(
    State(ctx): State<Context>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<u64>,
) -> ApiResult<StatusCode> {
    visible_annotation(&ctx, &caller, id).await?;
    ctx.state
        .delete_annotation(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Annotation {id}")))?;
    announce(&ctx).await;
    Ok(StatusCode::NO_CONTENT)
}
