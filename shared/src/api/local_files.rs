//! `GET /data/local-files/?d=<path>`: files below `LOCAL_FILES_DOCUMENT_ROOT` that a local-files
//! source storage covers (spec §6), with ranges, a weak ETag and 304s. A path that escapes the
//! root or the storages answers 404 (Label Studio answers 500 to an escape).

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use axum::Extension;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::access::Caller;
use super::error::ApiError;
use crate::backends::{BackendError, ObjectMeta, ObjectStore};
use crate::context::Context;
use crate::model::StorageRole;
use crate::resolve::stream::{StreamOptions, object_response};

#[derive(Deserialize)]
pub struct LocalFileQuery {
    d: Option<String>,
}

const SERVING_DISABLED: &str = "Serving local files can be dangerous, so it's disabled by default. \
You can enable it with LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED environment variable, \
please check docs: https://labelstud.io/guide/storage.html#Local-storage";

pub async fn serve(
    State(ctx): State<Context>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<LocalFileQuery>,
    headers: HeaderMap,
) -> Response {
    let settings = &ctx.settings.local_files;
    if !settings.serving_enabled {
        return (StatusCode::FORBIDDEN, SERVING_DISABLED).into_response();
    }
    let Some(requested) = q.d.filter(|d| !d.is_empty()) else {
        return StatusCode::FORBIDDEN.into_response();
    };
    let Some(relative) = relative_path(&requested) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let full = settings.document_root.join(&relative);
    let (backend, key) = match serving_storage(&ctx, &caller, &full).await {
        Ok(Some(found)) => found,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(response) => return response,
    };
    let options = StreamOptions {
        max_range: None,
        cache_control: "private, max-age=0, must-revalidate",
        etag: &weak_etag,
        not_modified_with_range: true,
        timeout: None,
    };
    match object_response(backend.as_ref(), &key, &headers, &options).await {
        Ok(response) => response,
        Err(BackendError::NotFound { .. } | BackendError::InvalidKey { .. }) => {
            StatusCode::NOT_FOUND.into_response()
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, Body::from(e.to_string())).into_response(),
    }
}

/// Label Studio's `W/"<mtime_ns hex>-<size hex>"`; the local backend's etag is exactly that pair.
fn weak_etag(meta: &ObjectMeta) -> Option<String> {
    meta.etag.as_ref().map(|e| format!("W/\"{e}\""))
}

/// `normpath(d).lstrip('/')`, refusing anything that climbs out with `..`.
fn relative_path(requested: &str) -> Option<PathBuf> {
    let mut parts: Vec<&str> = Vec::new();
    for component in Path::new(requested).components() {
        match component {
            Component::Normal(p) => parts.push(p.to_str()?),
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    (!parts.is_empty()).then(|| parts.iter().collect())
}

/// The backend and key of the source storage (of a project the caller may see) that serves
/// `file`, checked on the disk as it is now; `None` when no storage does.
async fn serving_storage(
    ctx: &Context,
    caller: &Caller,
    file: &Path,
) -> Result<Option<(Arc<dyn ObjectStore>, String)>, Response> {
    let projects = ctx.state.list_projects().await.map_err(internal)?;
    for project in projects.into_iter().filter(|p| caller.sees(p.id)) {
        let records = ctx
            .state
            .list_storages(project.id, StorageRole::Import)
            .await
            .map_err(internal)?;
        for record in &records {
            let Ok(storage) = ctx.storage(record) else {
                continue;
            };
            if let Some(key) = storage.local_file(file) {
                let backend = ctx
                    .backend(record)
                    .map_err(|e| ApiError::from(e).into_response())?;
                return Ok(Some((backend, key)));
            }
        }
    }
    Ok(None)
}

fn internal(e: crate::state::StateError) -> Response {
    ApiError::internal(e).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_never_climb_out() {
        assert_eq!(relative_path("ds/a.png"), Some(PathBuf::from("ds/a.png")));
        assert_eq!(
            relative_path("/ds//./a.png"),
            Some(PathBuf::from("ds/a.png"))
        );
        assert_eq!(
            relative_path("ds/x/../a.png"),
            Some(PathBuf::from("ds/a.png"))
        );
        assert_eq!(relative_path("../etc/passwd"), None);
        assert_eq!(relative_path("ds/../../etc/passwd"), None);
        assert_eq!(relative_path("/"), None);
    }
}
