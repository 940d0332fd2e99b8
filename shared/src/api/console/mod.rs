//! The console: one static page at `/` (with its script and style under `/console/`) that
//! watches projects, storages and their syncs, and pages through tasks with their media.
//! Served without a token: the page holds no data; its API calls carry the token the user
//! types in. Embedded in the binary, no build step.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

const INDEX: &str = include_str!("index.html");
const SCRIPT: &str = include_str!("app.js");
const STYLE: &str = include_str!("style.css");

/// Scripts and styles from this origin only (no inline script, no `eval`); API calls to this
/// origin only. Images may come from elsewhere: task data holds http(s) image URLs, and
/// `resolve` redirects to pre-signed URLs on the storage's host. `blob:` is the media the
/// page fetched with the token itself.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' blob: https: http:; connect-src 'self'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `GET /`, `GET /console/app.js`, `GET /console/style.css`.
pub fn routes() -> Router {
    Router::new()
        .route("/", get(|| page("text/html; charset=utf-8", INDEX)))
        .route(
            "/console/app.js",
            get(|| page("text/javascript; charset=utf-8", SCRIPT)),
        )
        .route(
            "/console/style.css",
            get(|| page("text/css; charset=utf-8", STYLE)),
        )
}

async fn page(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            // A new binary serves a new page at once.
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
}

#[cfg(all(test, feature = "embedded"))]
mod tests {
    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::{Request, StatusCode, header};
    use tower::ServiceExt;

    use super::CONTENT_SECURITY_POLICY;
    use crate::api::{ApiToken, app};
    use crate::config::Settings;
    use crate::context::Context;
    use crate::embedded_db::EmbeddedDb;
    use crate::queue::embedded::EmbeddedQueue;
    use crate::state::embedded::EmbeddedState;

    const TOKEN: &str = "console-test-token";

    /// The whole API as the local process serves it, on a fresh embedded store.
    fn api(
        dir: &std::path::Path,
    ) -> impl tower::Service<
        Request<Body>,
        Response = axum::response::Response,
        Error = std::convert::Infallible,
    > + Clone {
        let db = EmbeddedDb::open(dir).expect("open the store");
        let state = Arc::new(EmbeddedState::new(db.clone()).expect("state tables"));
        let queue = Arc::new(EmbeddedQueue::open(db, 3).expect("queue tables"));
        let env = |_: &str| None;
        let settings = Settings::from_env(&env, dir).expect("default settings");
        app(Context::new(state, queue, settings), ApiToken(TOKEN.into()))
    }

    async fn get(path: &str, token: Option<&str>) -> axum::response::Response {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut request = Request::get(path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Token {token}"));
        }
        let request = request.body(Body::empty()).expect("request");
        api(dir.path()).oneshot(request).await.expect("infallible")
    }

    fn header_of(response: &axum::response::Response, name: header::HeaderName) -> &str {
        response.headers()[name].to_str().expect("text header")
    }

    #[tokio::test]
    async fn the_page_and_its_files_need_no_token() {
        for (path, content_type) in [
            ("/", "text/html; charset=utf-8"),
            ("/console/app.js", "text/javascript; charset=utf-8"),
            ("/console/style.css", "text/css; charset=utf-8"),
        ] {
            let response = get(path, None).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            assert_eq!(header_of(&response, header::CONTENT_TYPE), content_type);
            assert_eq!(
                header_of(&response, header::CONTENT_SECURITY_POLICY),
                CONTENT_SECURITY_POLICY
            );
        }
    }

    #[tokio::test]
    async fn the_api_still_needs_a_token() {
        let response = get("/api/projects", None).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let response = get("/api/projects", Some("wrong")).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let response = get("/api/projects", Some(TOKEN)).await;
        assert_eq!(response.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn the_page_loads_no_inline_script() {
        let page = super::INDEX;
        assert!(page.contains(r#"<script src="/console/app.js" defer></script>"#));
        assert_eq!(
            page.matches("<script").count(),
            1,
            "one script, from a file"
        );
        assert!(!page.contains("style="), "no inline style");
        let handler = regex::Regex::new(r"\son[a-z]+\s*=").expect("regex");
        assert!(!handler.is_match(page), "no inline event handler");
    }
}
