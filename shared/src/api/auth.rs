//! `Authorization: Token <key>` (Label Studio's header; `Bearer` is accepted too) on every
//! endpoint but `/health`. The key is compared in constant time.

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::error::ApiError;

/// The API token this server accepts.
#[derive(Clone)]
pub struct ApiToken(pub std::sync::Arc<str>);

pub async fn require_token(
    State(token): State<ApiToken>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if request.uri().path() == "/health" {
        return Ok(next.run(request).await);
    }
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Token ")
                .or_else(|| v.strip_prefix("Bearer "))
        })
        .map(str::trim);
    match presented {
        Some(key) if constant_time_eq(key.as_bytes(), token.0.as_bytes()) => {
            Ok(next.run(request).await)
        }
        Some(_) => Err(ApiError::new(StatusCode::UNAUTHORIZED, "Invalid token.")),
        None => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "Authentication credentials were not provided.",
        )),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
