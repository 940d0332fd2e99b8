//! Storage actions: types, form, validate, files preview, sync.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{Map, Value, json};

use super::crud::{find, type_of};
use super::json::storage_json;
use super::request::{SecretRule, SettingsChange, checked_storage, required_project};
use crate::api::access::Caller;
use crate::api::body::{id_value, object_body};
use crate::api::error::{ApiError, ApiResult};
use crate::backends::{ListRequest, ObjectMeta};
use crate::connectors::{self, Storage};
use crate::context::Context;
use crate::jobs::start::start_sync;
use crate::model::{StorageRecord, StorageRole, iso_time};

/// Files in one `files` preview unless `limit` asks for another number.
const DEFAULT_PREVIEW_LIMIT: usize = 100;
/// The most files one preview lists, whatever `limit` asks: a preview is one listing call's
/// worth, not a way to make the server walk a whole bucket into memory.
const MAX_PREVIEW_LIMIT: usize = 1000;
/// A preview stops listing after this long, as Label Studio's does.
const PREVIEW_TIMEOUT: Duration = Duration::from_secs(30);

/// `GET /api/storages/types`: the supported types in Label Studio's order.
pub async fn types() -> Json<Vec<Value>> {
    Json(
        connectors::all()
            .iter()
            .map(|t| json!({"name": t.slug(), "title": t.title()}))
            .collect(),
    )
}

/// `GET …/<type>/form`.
pub async fn form(role: StorageRole, Path(slug): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(type_of(&slug)?.form_layout(role)))
}

/// A validate/files body: with `id`, merged over the stored storage (stored secrets fill
/// in what the body leaves out or empty).
async fn storage_to_check(
    ctx: &Context,
    caller: &Caller,
    role: StorageRole,
    slug: &str,
    body: &Map<String, Value>,
) -> ApiResult<Arc<dyn Storage>> {
    let connector = type_of(slug)?;
    required_project(ctx, caller, body).await?;
    let base = match id_value(body.get("id")) {
        Some(id) => find(ctx, caller, role, slug, id).await?.settings,
        None => Map::new(),
    };
    let change = SettingsChange {
        connector,
        role,
        body,
        base: &base,
        rule: SecretRule::FalsyKeeps,
    };
    checked_storage(ctx, caller, &change).await
}

/// `POST …/<type>/validate`: 200 with an empty body, or the 400 envelope.
pub async fn validate(
    role: StorageRole,
    State(ctx): State<Context>,
    Extension(caller): Extension<Caller>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let body = object_body(&headers, &body)?;
    storage_to_check(&ctx, &caller, role, &slug, &body).await?;
    Ok(StatusCode::OK)
}

/// `POST /api/storages/<type>/files`: the first `limit` keys a sync would import, then a
/// `{"key": null}` sentinel if there are more.
pub async fn files(
    State(ctx): State<Context>,
    Extension(caller): Extension<Caller>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let body = object_body(&headers, &body)?;
    let role = StorageRole::Import;
    let storage = storage_to_check(&ctx, &caller, role, &slug, &body).await?;
    let limit = id_value(body.get("limit"))
        .map_or(DEFAULT_PREVIEW_LIMIT, |l| {
            usize::try_from(l).unwrap_or(usize::MAX)
        })
        .clamp(1, MAX_PREVIEW_LIMIT);
    let spec = storage.source();
    let backend = storage.backend()?;
    let started = Instant::now();
    let mut files = Vec::new();
    let mut continuation: Option<String> = None;
    loop {
        let request = ListRequest {
            prefix: &spec.prefix,
            recursive: spec.recursive,
            continuation: continuation.as_deref(),
            start_after: None,
            max_keys: limit + 1,
        };
        let page = backend.list_page(request).await.map_err(|e| {
            ApiError::validation(
                "non_field_errors",
                format!("Failed to list storage files: {e}"),
            )
        })?;
        for object in page.objects.iter().filter(|o| spec.accepts(&o.key)) {
            if files.len() == limit {
                files.push(json!({"key": null, "last_modified": null, "size": null}));
                return Ok(Json(json!({"files": files})));
            }
            files.push(file_json(storage.as_ref(), object));
        }
        continuation = page.next;
        if continuation.is_none() {
            break;
        }
        if started.elapsed() > PREVIEW_TIMEOUT {
            files.push(json!({"key": "... storage scan timeout reached ...", "last_modified": null, "size": null}));
            break;
        }
    }
    Ok(Json(json!({"files": files})))
}

fn file_json(storage: &dyn Storage, object: &ObjectMeta) -> Value {
    json!({
        "key": storage.storage_filename(&object.key),
        "last_modified": object.last_modified.as_ref().map(iso_time),
        "size": object.size,
    })
}

/// `POST …/<type>/<id>/sync`: checks the connection, queues the sync, answers 200 with the
/// storage (status `queued`; poll `GET` for progress). A connection failure answers 400 with
/// the reason, where Label Studio answers 500.
pub async fn sync(
    role: StorageRole,
    State(ctx): State<Context>,
    Extension(caller): Extension<Caller>,
    Path((slug, id)): Path<(String, u64)>,
) -> ApiResult<Response> {
    let ty = type_of(&slug)?;
    let record: StorageRecord = find(&ctx, &caller, role, &slug, id).await?;
    if !record.synchronizable {
        let body = json!({"message": format!("Storage {id} is not synchronizable")});
        return Ok((StatusCode::BAD_REQUEST, Json(body)).into_response());
    }
    ctx.storage(&record)?.check_connection(role).await?;
    let record = start_sync(&ctx, &record).await?;
    Ok(Json(storage_json(&ctx, ty, &record).await).into_response())
}
