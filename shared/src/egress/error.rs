//! Why a connection to a user-supplied host was not made.

use std::net::IpAddr;

/// A host the guard will not connect to, or could not find.
#[derive(Debug, thiserror::Error)]
pub enum EgressError {
    /// `host` is, or resolves to, a special-purpose address the operator did not allow.
    #[error(
        "refusing to connect to {host:?}: its address {ip} is in {range}, which is not public; \
         the operator can allow it with LABELSYNC_ALLOW_PRIVATE_ENDPOINTS (true, or a \
         comma-separated list of addresses/ranges such as {ip})"
    )]
    Refused {
        host: String,
        ip: IpAddr,
        range: &'static str,
    },
    /// Resolving `host` failed.
    #[error("cannot resolve {host:?}: {source}")]
    Unresolvable {
        host: String,
        #[source]
        source: std::io::Error,
    },
    /// `host` resolved, to nothing.
    #[error("{host:?} resolves to no address")]
    NoAddresses { host: String },
    /// `host` (or the URL it came from) cannot be connected to as written.
    #[error("{host:?} is not a usable host: {reason}")]
    BadHost { host: String, reason: &'static str },
}

/// The guard's refusal somewhere in an error's source chain (a client library wraps it in its
/// own errors), as text for [`crate::backends::BackendError::Refused`]; `None` when the
/// error is not the guard's.
pub fn refusal_in(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(egress) = error.downcast_ref::<EgressError>() {
            return matches!(
                egress,
                EgressError::Refused { .. } | EgressError::BadHost { .. }
            )
            .then(|| egress.to_string());
        }
        current = error.source();
    }
    None
}
