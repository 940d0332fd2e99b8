//! Media requests signed instead of authenticated: `/tasks/<id>/resolve/` (and `presign`),
//! `/projects/<id>/resolve/` and `/data/local-files/` with `&exp=…&sig=…`, as task data hands
//! them out ([`crate::resolve::rewrite`]). A valid signature makes the caller
//! [`Caller::SignedMedia`] of the signed task's project; a tampered or expired one answers 403.
//! Requests without `sig`, and every other route, are left to the token check (401).

use axum::extract::Query;
use axum::http::{Method, StatusCode, Uri};
use serde::Deserialize;

use super::access::Caller;
use super::error::{ApiError, ApiResult};
use crate::context::Context;
use crate::resolve::rewrite::LOCAL_FILES_PATH;
use crate::resolve::signing::{MediaSigner, Scope, SignatureError, Signed};
use crate::resolve::uri::decode_fileuri;

#[derive(Deserialize, Default)]
struct SignedQuery {
    fileuri: Option<String>,
    d: Option<String>,
    task: Option<String>,
    exp: Option<String>,
    sig: Option<String>,
}

/// The caller a signed media request stands for; `None` when the request is not one (no
/// `sig`, another route or method), so the token check answers.
pub async fn caller(ctx: &Context, method: &Method, uri: &Uri) -> Option<ApiResult<Caller>> {
    if !matches!(*method, Method::GET | Method::HEAD) {
        return None;
    }
    let query = uri.query()?;
    if !query.split('&').any(|pair| pair.starts_with("sig=")) {
        return None;
    }
    let path = uri.path().trim_end_matches('/');
    let route = media_route(path)?;
    Some(check(ctx, path, route, uri).await)
}

/// A media route: resolve names its scope in the path; local files take the task from the
/// query.
enum Route {
    Resolve(Scope),
    LocalFiles,
}

fn media_route(path: &str) -> Option<Route> {
    if path == LOCAL_FILES_PATH {
        return Some(Route::LocalFiles);
    }
    let mut parts = path.strip_prefix('/')?.split('/');
    let (kind, id, action) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !matches!(action, "resolve" | "presign") {
        return None;
    }
    let id = id.parse().ok()?;
    match kind {
        "tasks" => Some(Route::Resolve(Scope::Task(id))),
        "projects" => Some(Route::Resolve(Scope::Project(id))),
        _ => None,
    }
}

async fn check(ctx: &Context, path: &str, route: Route, uri: &Uri) -> ApiResult<Caller> {
    let invalid = || forbidden(SignatureError::Invalid);
    let Ok(Query(q)) = Query::<SignedQuery>::try_from_uri(uri) else {
        return Err(invalid());
    };
    let (scope, object) = match route {
        Route::Resolve(scope) => {
            let uri = q.fileuri.as_deref().and_then(decode_fileuri);
            (scope, uri.ok_or_else(invalid)?)
        }
        Route::LocalFiles => {
            let task = q.task.as_deref().and_then(|t| t.parse().ok());
            (
                Scope::Task(task.ok_or_else(invalid)?),
                q.d.ok_or_else(invalid)?,
            )
        }
    };
    let expires = q
        .exp
        .as_deref()
        .and_then(|e| e.parse().ok())
        .ok_or_else(invalid)?;
    let sig = q.sig.as_deref().unwrap_or_default();
    let signer = MediaSigner::new(&ctx.settings.media).ok_or_else(invalid)?;
    let signed = Signed {
        path,
        scope,
        object: &object,
        expires,
    };
    signer.verify(&signed, sig).map_err(forbidden)?;
    let project = match scope {
        Scope::Project(id) => id,
        Scope::Task(id) => match ctx.state.get_task(id).await? {
            Some(task) => task.project,
            None => return Err(ApiError::not_found(format!("Task {id}"))),
        },
    };
    Ok(Caller::SignedMedia { project })
}

fn forbidden(error: SignatureError) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_media_routes_take_signatures() {
        assert!(matches!(
            media_route("/tasks/5/resolve"),
            Some(Route::Resolve(Scope::Task(5)))
        ));
        assert!(matches!(
            media_route("/projects/2/presign"),
            Some(Route::Resolve(Scope::Project(2)))
        ));
        assert!(matches!(
            media_route("/data/local-files"),
            Some(Route::LocalFiles)
        ));
        for other in [
            "/api/tasks/5",
            "/tasks/5/annotations",
            "/tasks/x/resolve",
            "/tasks/5/resolve/more",
            "/api/projects",
        ] {
            assert!(media_route(other).is_none(), "{other}");
        }
    }
}
