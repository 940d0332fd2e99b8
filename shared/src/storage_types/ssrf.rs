//! Server-side request forgery guard: a user-supplied endpoint may not reach this machine's
//! or its network's private addresses unless the operator allows it
//! (`LABELSYNC_ALLOW_PRIVATE_ENDPOINTS`). Every address the host resolves to must pass.

use std::net::IpAddr;

use super::SettingsError;

/// Checks `endpoint` (the value of `field`): http(s), resolvable, and public unless allowed.
pub async fn check_endpoint(
    field: &str,
    endpoint: &str,
    allow_private: bool,
) -> Result<(), SettingsError> {
    let (host, port) = host_and_port(endpoint).ok_or_else(|| {
        SettingsError::field(
            field,
            format!("{endpoint:?} is not an http:// or https:// URL"),
        )
    })?;
    check_host(field, &host, port, allow_private).await
}

/// Checks that `host` resolves to public addresses only, unless private ones are allowed.
pub async fn check_host(
    field: &str,
    host: &str,
    port: u16,
    allow_private: bool,
) -> Result<(), SettingsError> {
    if allow_private {
        return Ok(());
    }
    let addresses: Vec<IpAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| SettingsError::field(field, format!("cannot resolve {host:?}: {e}")))?
        .map(|a| a.ip())
        .collect();
    match addresses.iter().find(|ip| !is_public(**ip)) {
        Some(ip) => Err(SettingsError::field(
            field,
            format!(
                "{host:?} resolves to the non-public address {ip}; the operator must set LABELSYNC_ALLOW_PRIVATE_ENDPOINTS=true to allow it"
            ),
        )),
        None => Ok(()),
    }
}

/// `http(s)://host[:port]/…` to host and port (80/443 by default).
fn host_and_port(endpoint: &str) -> Option<(String, u16)> {
    let (rest, default_port) = if let Some(rest) = endpoint.strip_prefix("https://") {
        (rest, 443)
    } else {
        (endpoint.strip_prefix("http://")?, 80)
    };
    let authority = rest.split(['/', '?', '#']).next()?.rsplit('@').next()?;
    if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        let port = after
            .strip_prefix(':')
            .map_or(Some(default_port), |p| p.parse().ok())?;
        return Some((host.to_owned(), port));
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, port.parse().ok()?),
        None => (authority, default_port),
    };
    (!host.is_empty()).then(|| (host.to_owned(), port))
}

fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let shared = v4.octets()[0] == 100 && (64..128).contains(&v4.octets()[1]);
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || shared)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            let unique_local = first & 0xfe00 == 0xfc00;
            let link_local = first & 0xffc0 == 0xfe80;
            !(v6.is_loopback() || v6.is_unspecified() || unique_local || link_local)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_hosts_and_ports() {
        assert_eq!(
            host_and_port("http://127.0.0.1:5000"),
            Some(("127.0.0.1".into(), 5000))
        );
        assert_eq!(
            host_and_port("https://s3.example.com/path"),
            Some(("s3.example.com".into(), 443))
        );
        assert_eq!(
            host_and_port("http://[::1]:9000/"),
            Some(("::1".into(), 9000))
        );
        assert_eq!(host_and_port("ftp://x"), None);
    }

    #[test]
    fn private_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "172.16.5.5",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        assert!(is_public("52.216.0.1".parse().unwrap()));
    }

    #[tokio::test]
    async fn loopback_endpoints_are_refused_unless_allowed() {
        let refused = check_endpoint("s3_endpoint", "http://127.0.0.1:9000", false)
            .await
            .unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("LABELSYNC_ALLOW_PRIVATE_ENDPOINTS"),
            "{refused}"
        );
        check_endpoint("s3_endpoint", "http://127.0.0.1:9000", true)
            .await
            .unwrap();
        assert!(
            check_endpoint("s3_endpoint", "gopher://x", true)
                .await
                .is_err()
        );
    }
}
