//! Before a storage is saved: whether the host its fields name passes the egress guard, so
//! that a refusal names the field. This is for the message only; what keeps connections safe
//! is the guard inside every client, checking again at connect time (see [`crate::egress`]).

use super::SettingsError;
use super::host::parse_base_url;
use crate::config::Settings;
use crate::egress::{EgressError, Guard};

/// Checks the host of an `http(s)://` base URL field.
pub async fn check_endpoint(field: &str, url: &str, env: &Settings) -> Result<(), SettingsError> {
    let parsed = parse_base_url(field, url)?;
    check_host(field, &parsed.host, parsed.port, env).await
}

/// Checks that `host` resolves to addresses the operator lets storages reach.
pub async fn check_host(
    field: &str,
    host: &str,
    port: u16,
    env: &Settings,
) -> Result<(), SettingsError> {
    let guard = Guard::new(env.egress.clone());
    match guard.addresses(host, port).await {
        Ok(_) => Ok(()),
        Err(EgressError::Refused { ip, range, .. }) => Err(SettingsError::field(
            field,
            format!(
                "{host:?} resolves to the non-public address {ip} ({range}); the operator must allow it with LABELSYNC_ALLOW_PRIVATE_ENDPOINTS (true, or a list of addresses and ranges)"
            ),
        )),
        Err(other) => Err(SettingsError::field(field, other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::egress::EgressPolicy;

    fn settings(egress: EgressPolicy) -> Settings {
        let mut settings =
            Settings::from_env(&|_: &str| None, std::path::Path::new("/nonexistent")).unwrap();
        settings.egress = egress;
        settings
    }

    #[tokio::test]
    async fn loopback_endpoints_are_refused_unless_allowed() {
        let denied = settings(EgressPolicy::deny_private());
        let refused = check_endpoint("s3_endpoint", "http://127.0.0.1:9000", &denied)
            .await
            .unwrap_err();
        assert!(
            refused.to_string().contains("non-public address"),
            "{refused}"
        );
        let allowed = settings(EgressPolicy::allow_all());
        check_endpoint("s3_endpoint", "http://127.0.0.1:9000", &allowed)
            .await
            .unwrap();
        let one = settings(EgressPolicy::parse("127.0.0.2/32").unwrap());
        check_host("host", "127.0.0.2", 6379, &one).await.unwrap();
        assert!(check_host("host", "127.0.0.1", 6379, &one).await.is_err());
        assert!(
            check_endpoint("s3_endpoint", "gopher://x", &allowed)
                .await
                .is_err()
        );
    }
}
