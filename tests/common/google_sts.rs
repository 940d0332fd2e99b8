//! Stand-ins for Google's Security Token Service and IAM Credentials API, for Workload
//! Identity Federation: `POST /v1/token` checks a token-exchange request carrying an AWS
//! GetCallerIdentity subject token, `…:generateAccessToken` checks the federated token, and
//! `…:signBlob` checks the impersonated token and returns a fixed signature. Every request is
//! recorded. Only real Google can check the AWS signature inside the subject token and the
//! pool's attribute conditions.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

pub const FEDERATED_TOKEN: &str = "federated-token";
pub const ACCOUNT_TOKEN: &str = "impersonated-token";
/// The bytes `signBlob` answers with; signed URLs carry them hex-encoded.
pub const SIGNATURE: &[u8] = b"iam-signature";

/// What the stand-ins received.
#[derive(Clone, Debug, Default)]
pub struct Seen {
    pub exchanges: Vec<HashMap<String, String>>,
    /// (path, bearer token, body) of IAM calls.
    pub iam_calls: Vec<(String, String, Value)>,
}

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Seen>>);

pub struct GoogleStandIn {
    pub url: String,
    shared: Shared,
}

impl GoogleStandIn {
    pub async fn start() -> GoogleStandIn {
        let shared = Shared::default();
        let app = axum::Router::new()
            .route("/v1/token", post(exchange))
            .route("/v1/projects/-/serviceAccounts/{*call}", post(iam))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        GoogleStandIn { url, shared }
    }

    pub fn seen(&self) -> Seen {
        self.shared.0.lock().unwrap().clone()
    }
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"code": status.as_u16(), "message": message}})),
    )
        .into_response()
}

async fn exchange(
    State(shared): State<Shared>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    shared.0.lock().unwrap().exchanges.push(form.clone());
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    let well_formed = field("grant_type") == "urn:ietf:params:oauth:grant-type:token-exchange"
        && field("subject_token_type") == "urn:ietf:params:aws:token-type:aws4_request"
        && field("audience").starts_with("//iam.googleapis.com/projects/")
        && field("subject_token").contains("GetCallerIdentity");
    if !well_formed {
        return refuse(StatusCode::BAD_REQUEST, "invalid token exchange request");
    }
    Json(json!({"access_token": FEDERATED_TOKEN, "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
                "token_type": "Bearer", "expires_in": 3600}))
    .into_response()
}

async fn iam(
    State(shared): State<Shared>,
    Path(call): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    shared
        .0
        .lock()
        .unwrap()
        .iam_calls
        .push((call.clone(), bearer.clone(), body.clone()));
    if call.ends_with(":generateAccessToken") {
        if bearer != FEDERATED_TOKEN {
            return refuse(
                StatusCode::UNAUTHORIZED,
                "generateAccessToken needs the federated token",
            );
        }
        let expires = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
        return Json(json!({"accessToken": ACCOUNT_TOKEN, "expireTime": expires})).into_response();
    }
    if call.ends_with(":signBlob") {
        if bearer != ACCOUNT_TOKEN && bearer != FEDERATED_TOKEN {
            return refuse(StatusCode::UNAUTHORIZED, "signBlob needs a token");
        }
        return Json(json!({"keyId": "k1", "signedBlob": STANDARD.encode(SIGNATURE)}))
            .into_response();
    }
    refuse(StatusCode::NOT_FOUND, "unknown IAM call")
}
