//! The HTTP surface: one axum Router speaking Label Studio's storage API, served by `axum::serve`
//! in the local process and by `lambda_http` in Lambda. Paths take an optional trailing slash.

pub mod access;
mod annotations;
pub mod auth;
mod body;
mod console;
pub mod error;
mod local_files;
mod object_events;
mod projects;
mod resolve;
mod signed_media;
mod storages;
mod task_deletion;
mod tasks;
mod tokens;

use axum::Router;
use axum::extract::Request;
use axum::http::Uri;
use axum::routing::{delete, get, post};

use crate::config::CorsOrigins;
use crate::context::Context;
pub use auth::ApiToken;

/// Every route, behind the token check (which tells handlers who the [`access::Caller`] is),
/// but the console's page and the pushed object events.
pub fn router(ctx: Context, token: ApiToken) -> Router {
    let routes = Router::new()
        .route("/health", get(|| async { "ok" }))
        .merge(storages::routes())
        .route("/api/projects", get(projects::list).post(projects::create))
        .route(
            "/api/projects/{id}",
            get(projects::get_one)
                .patch(projects::update)
                .delete(projects::delete),
        )
        .route(
            "/api/projects/{id}/tasks",
            get(tasks::list_of_project).delete(task_deletion::delete_all_of_project),
        )
        .route("/api/tasks", get(tasks::list))
        .route(
            "/api/tasks/{id}",
            get(tasks::get_one).delete(task_deletion::delete_one),
        )
        .route(
            "/api/tasks/{id}/annotations",
            get(annotations::list_of_task).post(annotations::create),
        )
        .route(
            "/api/annotations/{id}",
            get(annotations::get_one)
                .patch(annotations::update)
                .delete(annotations::delete),
        )
        .merge(media_routes())
        .route("/api/tokens", get(tokens::list).post(tokens::create))
        .route("/api/tokens/{id}", delete(tokens::revoke));
    // Providers that push notifications present the operator's events secret, not a token.
    let pushed = Router::new()
        .route(
            "/api/object-events",
            post(object_events::push).options(object_events::handshake),
        )
        .with_state(ctx.clone());
    let cors = ctx.settings.cors_origins.clone();
    // The console's static page holds no data; its API calls carry the user's token.
    with_cors(guarded(routes, ctx, token), cors.as_ref())
        .merge(pushed)
        .merge(console::routes())
}

/// The media routes alone (`uri-resolve`): storage URIs to redirects or proxy streams, and
/// local files.
pub fn media_router(ctx: Context, token: ApiToken) -> Router {
    let routes = Router::new()
        .route("/health", get(|| async { "ok" }))
        .merge(media_routes());
    let cors = ctx.settings.cors_origins.clone();
    with_cors(guarded(routes, ctx, token), cors.as_ref())
}

/// Browsers' cross-origin rules, outside the token check so that preflights (which carry no
/// token) are answered; no layer at all when the operator allows no origin. Providers' push
/// endpoints stay outside it: Event Grid's `OPTIONS` handshake is not a preflight.
fn with_cors(router: Router, origins: Option<&CorsOrigins>) -> Router {
    use axum::http::{HeaderValue, Method, header};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let Some(origins) = origins else {
        return router;
    };
    let allow_origin = match origins {
        CorsOrigins::Any => AllowOrigin::any(),
        CorsOrigins::List(list) => AllowOrigin::list(
            list.iter()
                .filter_map(|origin| HeaderValue::from_str(origin).ok()),
        ),
    };
    let layer = CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::RANGE,
            header::IF_NONE_MATCH,
            header::IF_MODIFIED_SINCE,
        ])
        .expose_headers([
            header::CONTENT_RANGE,
            header::ACCEPT_RANGES,
            header::CONTENT_LENGTH,
            header::ETAG,
            header::LAST_MODIFIED,
        ])
        .max_age(std::time::Duration::from_secs(CORS_MAX_AGE_SECS));
    router.layer(layer)
}

/// How long browsers may cache a preflight's answer.
const CORS_MAX_AGE_SECS: u64 = 600;

fn media_routes() -> Router<Context> {
    Router::new()
        .route("/tasks/{id}/resolve", get(resolve::for_task))
        .route("/tasks/{id}/presign", get(resolve::for_task))
        .route("/projects/{id}/resolve", get(resolve::for_project))
        .route("/projects/{id}/presign", get(resolve::for_project))
        .route("/data/local-files", get(local_files::serve))
}

/// Routes behind the token check, with Label Studio's 404 for other paths and 405 for other
/// methods.
fn guarded(routes: Router<Context>, ctx: Context, token: ApiToken) -> Router {
    routes
        .fallback(|| async { error::ApiError::not_found("This path") })
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(axum::middleware::map_response(
            error::rejections_in_envelope,
        ))
        .layer(axum::middleware::from_fn_with_state(
            auth::TokenCheck {
                admin: token,
                ctx: ctx.clone(),
            },
            auth::require_token,
        ))
        .with_state(ctx)
}

/// A router with trailing slashes made optional: `/api/storages/s3/` and `/api/storages/s3`
/// reach the same route, without a redirect (as Label Studio).
pub fn optional_slashes(
    router: Router,
) -> impl tower::Service<
    Request,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future = impl Send,
> + Clone
+ Send
+ 'static {
    tower::ServiceExt::map_request(router, trim_trailing_slash)
}

/// The whole API, slashes optional.
pub fn app(
    ctx: Context,
    token: ApiToken,
) -> impl tower::Service<
    Request,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future = impl Send,
> + Clone
+ Send
+ 'static {
    optional_slashes(router(ctx, token))
}

fn trim_trailing_slash(mut request: Request) -> Request {
    let path = request.uri().path();
    if path.len() > 1 && path.ends_with('/') {
        let trimmed = path.trim_end_matches('/');
        let trimmed = if trimmed.is_empty() { "/" } else { trimmed };
        let rebuilt = match request.uri().query() {
            Some(q) => format!("{trimmed}?{q}"),
            None => trimmed.to_owned(),
        };
        if let Ok(uri) = rebuilt.parse::<Uri>() {
            *request.uri_mut() = uri;
        }
    }
    request
}
