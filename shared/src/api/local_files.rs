//! `GET /data/local-files/?d=<path>`: files below `LOCAL_FILES_DOCUMENT_ROOT` that a local-files
//! source storage covers (spec §6), with ranges, a weak ETag and 304s. A path that escapes the
//! root or the storages answers 404 (Label Studio answers 500 to an escape).

use std::path::{Component, Path, PathBuf};

use axum::Extension;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::access::Caller;
use crate::backends::local::LocalBackend;
use crate::backends::{BackendError, ObjectMeta};
use crate::context::Context;
use crate::model::StorageRole;
use crate::resolve::stream::{StreamOptions, object_response};
use crate::storage_types::localfiles::resolves_below;
use crate::storage_types::str_setting;

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
    match covered_by_a_storage(&ctx, &caller, &full).await {
        Ok(true) => {}
        Ok(false) => return StatusCode::NOT_FOUND.into_response(),
        Err(response) => return response,
    }
    let backend = LocalBackend::new(settings.document_root.clone());
    let options = StreamOptions {
        max_range: None,
        cache_control: "private, max-age=0, must-revalidate",
        etag: &weak_etag,
        not_modified_with_range: true,
    };
    match object_response(&backend, &relative.to_string_lossy(), &headers, &options).await {
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

/// Whether the file's directory is the path (or below the path) of a local-files source
/// storage of a project the caller may see.
async fn covered_by_a_storage(
    ctx: &Context,
    caller: &Caller,
    file: &Path,
) -> Result<bool, Response> {
    let Some(dir) = file.parent() else {
        return Ok(false);
    };
    let projects = ctx.state.list_projects().await.map_err(internal)?;
    for project in projects.into_iter().filter(|p| caller.sees(p.id)) {
        let storages = ctx
            .state
            .list_storages(project.id, StorageRole::Import)
            .await
            .map_err(internal)?;
        let root = &ctx.settings.local_files.document_root;
        let covered = storages
            .iter()
            .filter(|s| s.storage_type == "localfiles")
            .filter_map(|s| str_setting(&s.settings, "path"))
            .any(|path| {
                dir.starts_with(Path::new(path)) && still_inside(file, Path::new(path), root)
            });
        if covered {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Checked on the disk as it is now, not as it was when the storage was created: the
/// storage's directory must still resolve strictly below the document root (a directory swapped
/// for a symlink leads nowhere), and symlinks must not lead the file out of the storage.
fn still_inside(file: &Path, storage: &Path, root: &Path) -> bool {
    if !resolves_below(storage, root) {
        return false;
    }
    match (file.canonicalize(), storage.canonicalize()) {
        (Ok(f), Ok(s)) => f.starts_with(s),
        // A missing file is answered 404 by the read itself.
        (Err(_), _) => true,
        _ => false,
    }
}

fn internal(e: crate::state::StateError) -> Response {
    crate::api::error::ApiError::internal(e).into_response()
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
