//! The one place errors become responses: Label Studio's error envelope
//! `{id, status_code, version, detail, exc_info, validation_errors}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::connectors::SettingsError;
use crate::jobs::HandlerError;
use crate::queue::QueueError;
use crate::state::StateError;

/// An API failure with its HTTP status.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub detail: String,
    pub validation_errors: Option<Map<String, Value>>,
}

impl ApiError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            detail: detail.into(),
            validation_errors: None,
        }
    }

    pub fn not_found(what: impl std::fmt::Display) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, format!("{what} not found."))
    }

    /// A 400 "Validation error" with messages per field (`non_field_errors` for the whole).
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        let mut errors = Map::new();
        errors.insert(field.to_owned(), json!([message.into()]));
        ApiError {
            status: StatusCode::BAD_REQUEST,
            detail: "Validation error".into(),
            validation_errors: Some(errors),
        }
    }

    pub fn internal(error: impl std::fmt::Display) -> Self {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, error.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(status = self.status.as_u16(), detail = %self.detail, "request failed");
        }
        let body = json!({
            "id": uuid::Uuid::new_v4().to_string(),
            "status_code": self.status.as_u16(),
            "version": concat!("labelsync ", env!("CARGO_PKG_VERSION")),
            "detail": self.detail,
            "exc_info": null,
            "validation_errors": self.validation_errors,
        });
        let mut body = body;
        if let Some(map) = body
            .as_object_mut()
            .filter(|_| self.validation_errors.is_none())
        {
            map.remove("validation_errors");
        }
        (self.status, axum::Json(body)).into_response()
    }
}

impl From<SettingsError> for ApiError {
    fn from(error: SettingsError) -> Self {
        match error {
            SettingsError::Field { field, message } => ApiError::validation(&field, message),
            SettingsError::Connection(message) => ApiError::validation("non_field_errors", message),
        }
    }
}

impl From<StateError> for ApiError {
    fn from(error: StateError) -> Self {
        match error {
            StateError::NotFound { what, id } => ApiError::not_found(format!("{what} {id}")),
            other => ApiError::internal(other),
        }
    }
}

impl From<QueueError> for ApiError {
    fn from(error: QueueError) -> Self {
        ApiError::internal(error)
    }
}

impl From<HandlerError> for ApiError {
    fn from(error: HandlerError) -> Self {
        match error {
            HandlerError::State(e) => e.into(),
            other => ApiError::internal(other),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// A known path asked with a method it does not have: Django REST framework's 405 in the
/// envelope (axum's own has an empty body).
pub async fn method_not_allowed(method: axum::http::Method) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("Method \"{method}\" not allowed."),
    )
}

/// The most bytes of one of axum's own plain-text rejections read back.
const REJECTION_BYTES: usize = 16 * 1024;

/// axum's own rejections (a path id that is not a number, a query that does not parse) are
/// plain text; they leave in Label Studio's envelope instead, and a path whose id is not a
/// number is a path that does not exist (404), as Django's integer URL patterns answer.
pub async fn rejections_in_envelope(response: Response) -> Response {
    let plain_text = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/plain"));
    if !(response.status().is_client_error() && plain_text) {
        return response;
    }
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), REJECTION_BYTES)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body);
    if text.starts_with("Invalid URL") {
        return ApiError::not_found("This path").into_response();
    }
    ApiError::new(status, text.trim()).into_response()
}
