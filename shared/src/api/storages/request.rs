//! Request bodies to storage settings: which keys are common, which belong to the type, and
//! how secrets are kept when a request leaves them out.

use serde_json::{Map, Value};

use crate::api::body::id_value;
use crate::api::error::{ApiError, ApiResult};
use crate::context::Context;
use crate::model::{Project, StorageRole};
use crate::storage_types::{StorageType, apply_defaults};

/// How a secret absent from (or empty in) the body is treated.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SecretRule {
    /// PATCH: absent keeps the stored value, `""` overwrites it.
    AbsentKeeps,
    /// `validate` and `files` with an `id`: absent or empty takes the stored value.
    FalsyKeeps,
}

/// The body's type fields merged over `base` (a stored storage's settings, or empty), with
/// defaults for what is still missing.
pub fn merged_settings(
    ty: &dyn StorageType,
    role: StorageRole,
    body: &Map<String, Value>,
    base: &Map<String, Value>,
    rule: SecretRule,
) -> Map<String, Value> {
    let mut settings = base.clone();
    for field in ty.fields(role) {
        let Some(value) = body.get(field.name) else {
            continue;
        };
        let falsy = value.is_null() || value.as_str() == Some("");
        if field.secret && falsy && rule == SecretRule::FalsyKeeps && base.contains_key(field.name)
        {
            continue;
        }
        settings.insert(field.name.into(), value.clone());
    }
    apply_defaults(ty.fields(role), &mut settings);
    settings
}

/// The `project` of a request body: required, and it must exist.
pub async fn required_project(ctx: &Context, body: &Map<String, Value>) -> ApiResult<Project> {
    let Some(raw) = body.get("project").filter(|v| !v.is_null()) else {
        return Err(ApiError::validation("project", "This field is required."));
    };
    let Some(id) = id_value(Some(raw)) else {
        return Err(ApiError::validation(
            "project",
            format!("Incorrect type. Expected pk value, received {raw}."),
        ));
    };
    ctx.state.get_project(id).await?.ok_or_else(|| {
        ApiError::validation(
            "project",
            format!("Invalid pk \"{id}\" - object does not exist."),
        )
    })
}

/// An optional text field of the body (`title`, `description`).
pub fn optional_text(body: &Map<String, Value>, name: &str) -> Option<Option<String>> {
    body.get(name).map(|v| v.as_str().map(str::to_owned))
}

/// `synchronizable` when the body has it.
pub fn synchronizable(body: &Map<String, Value>) -> Option<bool> {
    body.get("synchronizable")
        .map(|_| crate::storage_types::bool_setting(body, "synchronizable"))
}

/// [`merged_settings`], normalized and checked against the storage itself.
pub async fn checked_settings(
    ctx: &Context,
    ty: &dyn StorageType,
    role: StorageRole,
    body: &Map<String, Value>,
    base: &Map<String, Value>,
    rule: SecretRule,
) -> ApiResult<Map<String, Value>> {
    let mut settings = merged_settings(ty, role, body, base, rule);
    ty.normalize(role, &mut settings)?;
    ty.validate_connection(role, &settings, &ctx.settings)
        .await?;
    Ok(settings)
}
