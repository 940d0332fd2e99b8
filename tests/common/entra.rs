//! A stand-in for Entra ID's token endpoint (`POST /<tenant>/oauth2/v2.0/token`) that checks a
//! client-credentials request the way the real service would (grant type, client id and
//! secret, the storage scope) and records what it received.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;

pub const TENANT: &str = "72f988bf-0000-4000-8000-2d7cd011db47";
pub const CLIENT_ID: &str = "labelsync-app";
pub const CLIENT_SECRET: &str = "entra-test-secret";

/// One token request: the tenant in its path and its form fields.
pub type TokenRequest = (String, HashMap<String, String>);

#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<TokenRequest>>>);

pub struct TokenService {
    pub url: String,
    seen: Seen,
}

impl TokenService {
    pub async fn start() -> TokenService {
        let seen = Seen::default();
        let app = axum::Router::new()
            .route("/{tenant}/oauth2/v2.0/token", post(token))
            .with_state(seen.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        TokenService { url, seen }
    }

    /// Every request: the tenant in the path and the form fields.
    pub fn requests(&self) -> Vec<TokenRequest> {
        self.seen.0.lock().unwrap().clone()
    }
}

async fn token(
    State(seen): State<Seen>,
    Path(tenant): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    seen.0.lock().unwrap().push((tenant.clone(), form.clone()));
    let field = |name: &str| form.get(name).map(String::as_str);
    let valid = tenant == TENANT
        && field("grant_type") == Some("client_credentials")
        && field("client_id") == Some(CLIENT_ID)
        && field("client_secret") == Some(CLIENT_SECRET)
        && field("scope") == Some("https://storage.azure.com/.default");
    if !valid {
        let body = json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."});
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    }
    Json(json!({"token_type": "Bearer", "expires_in": 3599, "access_token": "entra-issued-token"}))
        .into_response()
}
