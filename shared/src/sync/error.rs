//! How a message handler fails, and what the queue does about it.

use crate::backends::BackendError;
use crate::queue::QueueError;
use crate::state::StateError;

/// A failed message. Each variant knows its fate: retried (transient) or dropped (it can never
/// succeed, so redelivery would only fill the dead-letter queue).
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error("malformed message: {0}")]
    Malformed(#[from] serde_json::Error),
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("storage {storage} cannot be opened: {source}")]
    Settings {
        storage: u64,
        #[source]
        source: crate::connectors::SettingsError,
    },
    #[error("storage {storage}: {source}")]
    Backend {
        storage: u64,
        #[source]
        source: BackendError,
    },
}

impl HandlerError {
    /// Whether another delivery may succeed.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, HandlerError::Malformed(_))
    }
}
