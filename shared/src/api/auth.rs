//! `Authorization: Token <key>` (Label Studio's header; `Bearer` is accepted too) on every
//! endpoint but `/health`. The operator's token makes the caller the admin; a project token
//! (`lst_<id>_<secret>`, minted by the admin, stored only as a SHA-256 hash) makes the caller
//! that token's projects. Keys are compared in constant time. Without the header, a media
//! route accepts a signed URL instead ([`super::signed_media`]).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest, Sha256};

use super::access::Caller;
use super::error::ApiError;
use crate::context::Context;

/// The operator's (admin) API token.
#[derive(Clone)]
pub struct ApiToken(pub std::sync::Arc<str>);

/// What the token check needs: the admin token and the store of project tokens.
#[derive(Clone)]
pub struct TokenCheck {
    pub admin: ApiToken,
    pub ctx: Context,
}

/// The prefix of project tokens: `lst_<id>_<secret>`.
pub const PROJECT_TOKEN_PREFIX: &str = "lst_";

/// The stored form of a project token's secret part (the id before it is not secret).
pub fn secret_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub async fn require_token(
    State(check): State<TokenCheck>,
    mut request: Request,
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
        .map(str::trim)
        .map(str::to_owned);
    let Some(key) = presented else {
        let (method, uri) = (request.method().clone(), request.uri().clone());
        if let Some(signed) = super::signed_media::caller(&check.ctx, &method, &uri).await {
            request.extensions_mut().insert(signed?);
            return Ok(next.run(request).await);
        }
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "Authentication credentials were not provided.",
        ));
    };
    let caller = identify(&check, &key)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "Invalid token."))?;
    request.extensions_mut().insert(caller);
    Ok(next.run(request).await)
}

/// The caller a key stands for, `None` for an unknown or revoked key.
async fn identify(check: &TokenCheck, key: &str) -> Result<Option<Caller>, ApiError> {
    if constant_time_eq(key.as_bytes(), check.admin.0.as_bytes()) {
        return Ok(Some(Caller::Admin));
    }
    let Some((id, secret)) = key
        .strip_prefix(PROJECT_TOKEN_PREFIX)
        .and_then(|rest| rest.split_once('_'))
        .and_then(|(id, secret)| Some((id.parse().ok()?, secret)))
    else {
        return Ok(None);
    };
    let Some(record) = check.ctx.state.get_api_token(id).await? else {
        return Ok(None);
    };
    let presented = secret_hash(secret);
    if !constant_time_eq(presented.as_bytes(), record.secret_hash.as_bytes()) {
        return Ok(None);
    }
    Ok(Some(Caller::Projects {
        token: record.id,
        projects: Arc::new(record.projects.into_iter().collect()),
    }))
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
