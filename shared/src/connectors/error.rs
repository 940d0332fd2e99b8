//! What is wrong with a storage's settings.

/// A storage's settings are wrong. `Field` errors name the request field; `Connection` errors
/// are about the storage as a whole (Label Studio's `non_field_errors`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("{field}: {message}")]
    Field { field: String, message: String },
    #[error("{0}")]
    Connection(String),
}

impl SettingsError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        SettingsError::Field {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// Label Studio's message for a missing required field.
    pub fn required(field: &str) -> Self {
        SettingsError::field(field, "This field is required.")
    }
}
