//! `/tasks/<id>/resolve/?fileuri=` and `/projects/<id>/resolve/` (and the `presign` aliases):
//! a storage URI to a 303 pre-signed redirect or a ranged proxy stream (spec §4.3–4.5).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;

use super::access::Caller;
use super::error::{ApiError, ApiResult};
use super::tasks::visible_task;
use crate::backends::ObjectMeta;
use crate::context::Context;
use crate::model::StorageRole;
use crate::resolve::stream::{StreamOptions, object_response};
use crate::resolve::uri::decode_fileuri;

#[derive(Deserialize)]
pub struct ResolveQuery {
    fileuri: Option<String>,
}

pub async fn for_task(
    State(ctx): State<Context>,
    Extension(caller): Extension<Caller>,
    Path(task): Path<u64>,
    Query(q): Query<ResolveQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let task = visible_task(&ctx, &caller, task).await?;
    resolve(&ctx, task.project, q, &headers).await
}

pub async fn for_project(
    State(ctx): State<Context>,
    Extension(caller): Extension<Caller>,
    Path(project): Path<u64>,
    Query(q): Query<ResolveQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    if !caller.sees(project) || ctx.state.get_project(project).await?.is_none() {
        return Err(ApiError::not_found(format!("Project {project}")));
    }
    resolve(&ctx, project, q, &headers).await
}

async fn resolve(
    ctx: &Context,
    project: u64,
    q: ResolveQuery,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let raw = q
        .fileuri
        .ok_or_else(|| ApiError::validation("fileuri", "This query parameter is required."))?;
    let uri = decode_fileuri(&raw).ok_or_else(|| ApiError::not_found("Storage URI"))?;
    let storages = ctx
        .state
        .list_storages(project, StorageRole::Import)
        .await?;
    let found = storages.iter().find_map(|record| {
        let storage = ctx.storage(record).ok()?;
        let key = storage.resolve_key(&uri)?;
        Some((record, storage, key))
    });
    let Some((record, storage, key)) = found else {
        return Err(ApiError::not_found(format!(
            "A storage of project {project} serving {uri}"
        )));
    };
    let backend = ctx.backend(record)?;
    // A storage that cannot sign (say, GCS on credentials without a private key) is proxied.
    if let (Some(ttl), Some(presigner)) = (storage.presign(), backend.presigner()) {
        let url = presigner
            .presign_get(&key, ttl, mime_guess::from_path(&key).first_raw())
            .await
            .map_err(|e| ApiError::not_found(format!("A pre-signed URL ({e})")))?;
        return Ok(redirect(&url, ttl.as_secs()));
    }
    let options = StreamOptions {
        max_range: Some(ctx.settings.resolver.max_range_size),
        cache_control: &format!(
            "private, max-age={}, must-revalidate",
            ctx.settings.resolver.cache_timeout
        ),
        etag: &strong_etag,
        not_modified_with_range: false,
        timeout: Some(ctx.settings.resolver.proxy_timeout),
    };
    match object_response(backend.as_ref(), &key, headers, &options).await {
        Ok(response) => Ok(response),
        Err(e) => Ok((
            StatusCode::FAILED_DEPENDENCY,
            Json(json!({"error": "Storage stream failed while proxying data", "detail": e.to_string()})),
        )
            .into_response()),
    }
}

fn strong_etag(meta: &ObjectMeta) -> Option<String> {
    meta.etag
        .as_ref()
        .map(|e| format!("\"{}\"", e.trim_matches('"')))
}

/// 303 to the pre-signed URL, cacheable by nobody (Label Studio's contract).
fn redirect(url: &str, ttl_secs: u64) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    if let Ok(location) = HeaderValue::from_str(url) {
        headers.insert(header::LOCATION, location);
    }
    if let Ok(cache) = HeaderValue::from_str(&format!("no-store, max-age={ttl_secs}")) {
        headers.insert(header::CACHE_CONTROL, cache);
    }
    response
}
