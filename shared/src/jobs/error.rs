//! How a message handler fails, and the one place that decides what becomes of the message:
//! retried (another delivery may succeed) or dropped (none can), and which backend errors end
//! a job at once instead of being retried.

use crate::backends::BackendError;
use crate::connectors::SettingsError;
use crate::queue::QueueError;
use crate::state::StateError;

/// A failed message. Each variant knows its fate: retried (transient) or dropped (it can never
/// succeed, so redelivery would only fill the dead-letter queue).
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error("malformed message: {0}")]
    Malformed(#[from] serde_json::Error),
    #[error("a {found} message on the {expected} queue")]
    Misrouted {
        expected: &'static str,
        found: &'static str,
    },
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("storage {storage} cannot be opened: {source}")]
    Settings {
        storage: u64,
        #[source]
        source: SettingsError,
    },
    #[error("storage {storage}: {source}")]
    Backend {
        storage: u64,
        #[source]
        source: BackendError,
    },
}

/// What becomes of a message whose handler failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Delivered again later (with back-off); the queue dead-letters it after its last try.
    Retry,
    /// Acknowledged and logged: no delivery could succeed, so retrying would only fill the
    /// dead-letter queue.
    Drop,
}

impl HandlerError {
    /// A storage whose stored settings cannot be opened.
    pub fn settings(storage: u64, source: SettingsError) -> Self {
        HandlerError::Settings { storage, source }
    }

    /// The one retry-or-drop decision for every pipeline.
    pub fn fate(&self) -> Fate {
        match self {
            HandlerError::Malformed(_)
            | HandlerError::Misrouted { .. }
            | HandlerError::Settings { .. } => Fate::Drop,
            HandlerError::Backend { source, .. } if is_permanent(source) => Fate::Drop,
            HandlerError::Backend { .. } | HandlerError::State(_) | HandlerError::Queue(_) => {
                Fate::Retry
            }
        }
    }
}

/// Backend errors no retry can fix (a missing bucket, a refused credential, a hostile server
/// over a limit): a job fails at once with the message, and a message is dropped.
pub fn is_permanent(error: &BackendError) -> bool {
    matches!(
        error,
        BackendError::NotFound { .. }
            | BackendError::PermissionDenied { .. }
            | BackendError::InvalidKey { .. }
            | BackendError::OverLimit { .. }
            | BackendError::Refused { .. }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permanent_failures_drop_and_transient_ones_retry() {
        let backend = |source| HandlerError::Backend { storage: 1, source };
        let denied = BackendError::PermissionDenied {
            what: "b".into(),
            detail: "403".into(),
        };
        assert_eq!(backend(denied).fate(), Fate::Drop);
        let outage = BackendError::Service {
            operation: "list",
            source: "503".into(),
        };
        assert_eq!(backend(outage).fate(), Fate::Retry);
        let malformed = serde_json::from_str::<u8>("x").unwrap_err();
        assert_eq!(HandlerError::Malformed(malformed).fate(), Fate::Drop);
    }
}
