//! Shape checks for the host-like fields of storage forms (hosts, endpoints, account names),
//! before any of them reaches a URL or a socket: a field that is meant to be a host name is a
//! host name, not a URL fragment that bends the URL it is pasted into.

use std::net::IpAddr;

use super::SettingsError;

/// A host name (letters, digits, `-`, `.`; labels of 1-63) or an IP address (IPv6 with or
/// without brackets).
pub fn is_host(host: &str) -> bool {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if bare.parse::<IpAddr>().is_ok() {
        return true;
    }
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    let name = host.strip_suffix('.').unwrap_or(host);
    (1..=253).contains(&name.len()) && name.split('.').all(label_ok)
}

/// Checks a host field.
pub fn check_host(field: &str, host: &str) -> Result<(), SettingsError> {
    if is_host(host) {
        return Ok(());
    }
    Err(SettingsError::field(
        field,
        format!("{host:?} is not a host name or IP address"),
    ))
}

/// The parts of a base URL: `http(s)://host[:port]` with at most a path after it; no user
/// info, query or fragment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseUrl {
    pub https: bool,
    pub host: String,
    pub port: u16,
}

/// Parses a base URL field, refusing anything but `http(s)://host[:port][/path]`.
pub fn parse_base_url(field: &str, url: &str) -> Result<BaseUrl, SettingsError> {
    let refuse = |why: &str| {
        SettingsError::field(
            field,
            format!("{url:?} is not a base URL like https://host[:port] ({why})"),
        )
    };
    let (https, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err(refuse("it must start with http:// or https://"));
    };
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(refuse("it has spaces or control characters"));
    }
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    if authority.contains('@') {
        return Err(refuse("user names and passwords do not belong in it"));
    }
    if path.contains(['?', '#']) || authority.contains(['?', '#']) {
        return Err(refuse("a query or fragment does not belong in it"));
    }
    let default_port = if https { 443 } else { 80 };
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(':') && !port.contains(']') => {
            let port = port
                .parse()
                .map_err(|_| refuse("the port is not a number"))?;
            (host, port)
        }
        _ => (authority, default_port),
    };
    if port == 0 || !is_host(host) {
        return Err(refuse("the host is not a host name or IP address"));
    }
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Ok(BaseUrl {
        https,
        host: host.to_owned(),
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_names_or_addresses() {
        for good in [
            "redis.internal",
            "10.0.0.5",
            "::1",
            "[::1]",
            "a-b.example.com.",
        ] {
            assert!(is_host(good), "{good}");
        }
        for bad in [
            "",
            "127.0.0.1:18671/x?",
            "a/b",
            "user@host",
            "host name",
            "-x.com",
            "x..y",
            "ex\u{0}ample",
        ] {
            assert!(!is_host(bad), "{bad}");
        }
    }

    #[test]
    fn base_urls_have_no_user_info_query_or_fragment() {
        let parsed = parse_base_url("host", "https://adb-1.7.azuredatabricks.net").unwrap();
        assert_eq!(
            parsed,
            BaseUrl {
                https: true,
                host: "adb-1.7.azuredatabricks.net".into(),
                port: 443
            }
        );
        let local = parse_base_url("host", "http://127.0.0.2:8080/").unwrap();
        assert_eq!((local.host.as_str(), local.port), ("127.0.0.2", 8080));
        let v6 = parse_base_url("host", "http://[::1]:9000").unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("::1", 9000));
        for bad in [
            "ftp://x",
            "https://user:pw@host",
            "https://host?x=1",
            "https://host/#frag",
            "https://host:port",
            "https://ho st",
            "https://",
            "https://host:0",
        ] {
            assert!(parse_base_url("host", bad).is_err(), "{bad}");
        }
    }
}
