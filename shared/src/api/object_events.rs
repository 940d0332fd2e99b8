//! `POST /api/object-events?secret=…`: object notifications that a provider pushes over HTTP
//! (Azure Event Grid webhooks, Google Pub/Sub push subscriptions; S3's arrive through SQS),
//! handled as `sync-trigger` handles a queued one. Providers cannot send labelsync's token,
//! so the operator's `LABELSYNC_EVENTS_SECRET` in the query authenticates them; without it set
//! the endpoint does not exist. A failure answers 500, and the provider delivers again.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::constant_time_eq;
use super::error::ApiError;
use crate::context::Context;
use crate::triggers::handle_notification;

#[derive(Deserialize)]
pub struct Presented {
    secret: Option<String>,
}

/// A push of object notifications, or a provider's subscription handshake.
pub async fn push(
    State(ctx): State<Context>,
    Query(presented): Query<Presented>,
    body: Bytes,
) -> Response {
    if let Err(refused) = authenticate(&ctx, &presented) {
        return refused.into_response();
    }
    let Ok(value) = serde_json::from_slice::<Value>(&body) else {
        return ApiError::new(StatusCode::BAD_REQUEST, "The body is not JSON.").into_response();
    };
    let handshake = crate::connectors::all()
        .iter()
        .find_map(|connector| connector.subscription_handshake(&value));
    if let Some(answer) = handshake {
        return Json(answer).into_response();
    }
    match handle_notification(&ctx, &String::from_utf8_lossy(&body)).await {
        Ok(outcome) => Json(json!({
            "events": outcome.events,
            "created": outcome.created,
            "existed": outcome.existed,
            "kept": outcome.kept,
            "errors": outcome.errors.len(),
        }))
        .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "pushed object notifications failed; the provider retries");
            ApiError::internal("the notifications could not be handled now").into_response()
        }
    }
}

/// The CloudEvents webhook handshake (Event Grid with the CloudEvents schema): `OPTIONS` with
/// `WebHook-Request-Origin`, answered with `WebHook-Allowed-Origin`.
pub async fn handshake(
    State(ctx): State<Context>,
    Query(presented): Query<Presented>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = authenticate(&ctx, &presented) {
        return refused.into_response();
    }
    let origin = headers
        .get("webhook-request-origin")
        .cloned()
        .unwrap_or_else(|| HeaderValue::from_static("*"));
    (StatusCode::OK, [("webhook-allowed-origin", origin)]).into_response()
}

fn authenticate(ctx: &Context, presented: &Presented) -> Result<(), ApiError> {
    let Some(expected) = &ctx.settings.events_secret else {
        return Err(ApiError::not_found("This path"));
    };
    let given = presented.secret.as_deref().unwrap_or_default();
    if constant_time_eq(given.as_bytes(), expected.expose().as_bytes()) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::UNAUTHORIZED,
        "Invalid or missing secret.",
    ))
}
