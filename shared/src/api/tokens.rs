//! `/api/tokens`: the admin mints, lists and revokes project tokens. A token's secret is shown
//! once, in the answer to its creation; the store keeps only its SHA-256.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::{Extension, Json};
use serde_json::{Value, json};

use super::access::Caller;
use super::auth::{PROJECT_TOKEN_PREFIX, secret_hash};
use super::body::{id_value, object_body};
use super::error::{ApiError, ApiResult};
use crate::context::Context;
use crate::model::{ApiTokenRecord, NewApiToken, ProjectId, iso_time};

fn token_json(record: &ApiTokenRecord) -> Value {
    json!({
        "id": record.id,
        "name": record.name,
        "projects": record.projects,
        "created_at": iso_time(&record.created_at),
    })
}

/// The `projects` of a create body: a non-empty list of existing project ids.
async fn projects_of(
    ctx: &Context,
    body: &serde_json::Map<String, Value>,
) -> ApiResult<Vec<ProjectId>> {
    let invalid = || ApiError::validation("projects", "Expected a non-empty list of project ids.");
    let list = body
        .get("projects")
        .and_then(Value::as_array)
        .ok_or_else(invalid)?;
    let mut ids = Vec::with_capacity(list.len());
    for raw in list {
        let id = id_value(Some(raw)).ok_or_else(invalid)?;
        if ctx.state.get_project(id).await?.is_none() {
            return Err(ApiError::validation(
                "projects",
                format!("Invalid pk \"{id}\" - object does not exist."),
            ));
        }
        ids.push(id);
    }
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Err(invalid());
    }
    Ok(ids)
}

/// `POST /api/tokens` `{"projects": [1, 2], "name": "ci"}`: 201 with the token, shown once.
pub async fn create(
    State(ctx): State<Context>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require_admin()?;
    let body = object_body(&headers, &body)?;
    let projects = projects_of(&ctx, &body).await?;
    let secret = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let new = NewApiToken {
        name: body.get("name").and_then(Value::as_str).map(str::to_owned),
        projects,
        secret_hash: secret_hash(&secret),
    };
    let record = ctx.state.create_api_token(new).await?;
    let token = format!("{PROJECT_TOKEN_PREFIX}{}_{secret}", record.id);
    let mut reply = token_json(&record);
    reply["token"] = json!(token);
    Ok((StatusCode::CREATED, Json(reply)))
}

/// `GET /api/tokens`: every project token, without secrets.
pub async fn list(
    State(ctx): State<Context>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Vec<Value>>> {
    caller.require_admin()?;
    let tokens = ctx.state.list_api_tokens().await?;
    Ok(Json(tokens.iter().map(token_json).collect()))
}

/// `DELETE /api/tokens/<id>`: revoked at once; 204.
pub async fn revoke(
    State(ctx): State<Context>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<u64>,
) -> ApiResult<StatusCode> {
    caller.require_admin()?;
    if !ctx.state.delete_api_token(id).await? {
        return Err(ApiError::not_found(format!("Token {id}")));
    }
    Ok(StatusCode::NO_CONTENT)
}
