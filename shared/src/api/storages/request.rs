//! Request bodies to storage settings: which keys are common, which belong to the type, and
//! how secrets are kept when a request leaves them out.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::api::access::Caller;
use crate::api::body::id_value;
use crate::api::error::{ApiError, ApiResult};
use crate::connectors::{Connector, Storage};
use crate::context::Context;
use crate::model::{LinkScope, Project, RemovedObjects, StorageRole};

/// How a secret absent from (or empty in) the body is treated.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SecretRule {
    /// PATCH: absent keeps the stored value, `""` overwrites it.
    AbsentKeeps,
    /// `validate` and `files` with an `id`: absent or empty takes the stored value.
    FalsyKeeps,
}

/// A request's change to a storage's settings: the type's fields of `body` over `base` (the
/// stored storage's settings, or empty for a new one).
pub struct SettingsChange<'a> {
    pub connector: &'static dyn Connector,
    pub role: StorageRole,
    pub body: &'a Map<String, Value>,
    pub base: &'a Map<String, Value>,
    pub rule: SecretRule,
}

/// The body's type fields merged over the base.
///
/// A stored secret is sent only where it was entered for: when the body moves the storage
/// elsewhere (any of the type's [`Connector::destination_fields`] changes) and does not send
/// a secret again, the request is refused, so that no one holding the API token can redirect a
/// stored password or key to a host of their choosing.
pub fn merged_settings(change: &SettingsChange<'_>) -> ApiResult<Map<String, Value>> {
    let SettingsChange {
        connector: ty,
        role,
        body,
        base,
        rule,
    } = *change;
    let mut settings = base.clone();
    for field in ty.fields(role) {
        let Some(value) = body.get(field.name) else {
            continue;
        };
        if field.secret
            && is_falsy(value)
            && rule == SecretRule::FalsyKeeps
            && base.contains_key(field.name)
        {
            continue;
        }
        settings.insert(field.name.into(), value.clone());
    }
    if let Some(moved) = moved_field(ty, base, &settings) {
        let kept = ty.fields(role).iter().filter(|f| f.secret).find(|f| {
            !base.get(f.name).is_none_or(is_falsy) && body.get(f.name).is_none_or(is_falsy)
        });
        if let Some(secret) = kept {
            return Err(ApiError::validation(
                secret.name,
                format!(
                    "Enter {} again: `{moved}` changed, and a stored secret is only ever sent to where it was entered for.",
                    secret.name
                ),
            ));
        }
    }
    Ok(settings)
}

fn is_falsy(value: &Value) -> bool {
    value.is_null() || value.as_str() == Some("")
}

/// The first destination field whose value differs between the stored storage and the request.
fn moved_field(
    ty: &dyn Connector,
    base: &Map<String, Value>,
    merged: &Map<String, Value>,
) -> Option<&'static str> {
    if base.is_empty() {
        return None;
    }
    let value = |settings: &Map<String, Value>, name: &str| {
        settings.get(name).filter(|v| !is_falsy(v)).cloned()
    };
    ty.destination_fields()
        .iter()
        .copied()
        .find(|name| value(base, name) != value(merged, name))
}

/// The `project` of a request body: required, and it must exist and be the caller's.
pub async fn required_project(
    ctx: &Context,
    caller: &Caller,
    body: &Map<String, Value>,
) -> ApiResult<Project> {
    let Some(raw) = body.get("project").filter(|v| !v.is_null()) else {
        return Err(ApiError::validation("project", "This field is required."));
    };
    let Some(id) = id_value(Some(raw)) else {
        return Err(ApiError::validation(
            "project",
            format!("Incorrect type. Expected pk value, received {raw}."),
        ));
    };
    let visible = caller.sees(id).then_some(());
    let project = match visible {
        Some(()) => ctx.state.get_project(id).await?,
        None => None,
    };
    project.ok_or_else(|| {
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
    crate::api::body::flag(body, "synchronizable")
}

/// The longest schedule interval: 30 days.
const MAX_INTERVAL_MINUTES: u64 = 43_200;

/// `sync_interval_minutes` (labelsync's own field, source storages): minutes between
/// scheduled syncs, `null` or `0` for none. `None` when the body does not name it.
pub fn sync_interval(body: &Map<String, Value>) -> ApiResult<Option<Option<u32>>> {
    let Some(value) = body.get("sync_interval_minutes") else {
        return Ok(None);
    };
    match value {
        Value::Null => Ok(Some(None)),
        Value::Number(n) => match n.as_u64() {
            Some(0) => Ok(Some(None)),
            Some(minutes @ 1..=MAX_INTERVAL_MINUTES) => Ok(Some(Some(minutes as u32))),
            _ => Err(bad_interval()),
        },
        _ => Err(bad_interval()),
    }
}

fn bad_interval() -> ApiError {
    ApiError::validation(
        "sync_interval_minutes",
        "Enter a whole number of minutes from 1 to 43200, or null for no schedule.",
    )
}

/// `removed_objects` (labelsync's own field, source storages): what an object that leaves the
/// storage does to its tasks, `keep` (Label Studio's behaviour) or `delete_unlabeled`. `None`
/// when the body does not name it.
pub fn removed_objects(body: &Map<String, Value>) -> ApiResult<Option<RemovedObjects>> {
    match body.get("removed_objects") {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_str()
            .and_then(RemovedObjects::from_name)
            .map(Some)
            .ok_or_else(|| {
                ApiError::validation(
                    "removed_objects",
                    "Choose \"keep\" or \"delete_unlabeled\".",
                )
            }),
    }
}

/// `fresh_import` (create only, not stored as a setting): `true` gives the storage links of its
/// own, so its sync imports every object again although tasks of the same location exist (from
/// a deleted storage, or another storage on it); by default it shares them and imports nothing
/// twice.
pub fn link_scope(body: &Map<String, Value>) -> LinkScope {
    match crate::api::body::flag(body, "fresh_import") {
        Some(true) => LinkScope::Storage,
        _ => LinkScope::Location,
    }
}

/// [`merged_settings`] bound to the type (parsed and checked) and checked against the storage
/// itself; store its [`Storage::settings`].
pub async fn checked_storage(
    ctx: &Context,
    caller: &Caller,
    change: &SettingsChange<'_>,
) -> ApiResult<Arc<dyn Storage>> {
    let settings = merged_settings(change)?;
    let storage = change
        .connector
        .bind(change.role, &settings, &ctx.settings)?;
    check_server_credentials(ctx, caller, storage.as_ref())?;
    storage.check_connection(change.role).await?;
    Ok(storage)
}

/// A storage that would act with the server's own cloud identity (empty keys, an `s3s` role
/// assumed with the server's credentials, `gcswif`, application default credentials) may be
/// set up by the admin; by a project token only when the operator allows it
/// (`LABELSYNC_PROJECT_TOKENS_USE_SERVER_CREDENTIALS`).
fn check_server_credentials(
    ctx: &Context,
    caller: &Caller,
    storage: &dyn Storage,
) -> ApiResult<()> {
    if caller.is_admin() || ctx.settings.project_tokens_use_server_credentials {
        return Ok(());
    }
    match storage.server_credentials_field() {
        None => Ok(()),
        Some(field) => Err(ApiError::validation(
            field,
            "This storage would use the server's own cloud credentials, which project tokens may not do: give the storage its own credentials (or ask the operator).",
        )),
    }
}
