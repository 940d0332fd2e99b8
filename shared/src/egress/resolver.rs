//! The guard: resolves a user-supplied host once and hands out only the addresses that pass.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use async_trait::async_trait;

use super::error::EgressError;
use super::policy::EgressPolicy;

/// Turns a host name into socket addresses; the system resolver, or a stand-in in tests.
#[async_trait]
pub trait Resolve: Send + Sync + std::fmt::Debug {
    /// Every address `host` has, with `port`.
    async fn resolve(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>>;
}

/// The operating system's resolver (`getaddrinfo` through [`tokio::net::lookup_host`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemResolver;

#[async_trait]
impl Resolve for SystemResolver {
    async fn resolve(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
        Ok(tokio::net::lookup_host((host, port)).await?.collect())
    }
}

/// The one way to get addresses for a user-supplied host: the policy applied to exactly the
/// addresses that will be connected to. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Guard {
    policy: EgressPolicy,
    resolver: Arc<dyn Resolve>,
}

impl Guard {
    /// A guard over the system resolver.
    pub fn new(policy: EgressPolicy) -> Self {
        Self::with_resolver(policy, Arc::new(SystemResolver))
    }

    /// A guard over `resolver` (tests answer names without DNS).
    pub fn with_resolver(policy: EgressPolicy, resolver: Arc<dyn Resolve>) -> Self {
        Self { policy, resolver }
    }

    /// The policy this guard applies.
    pub fn policy(&self) -> &EgressPolicy {
        &self.policy
    }

    /// The addresses to connect to for `host`: an IP literal (bare or `[v6]`) is checked as it
    /// is; a name is resolved once and every address it has must pass, so a name with one
    /// private address among public ones is refused (naming that address).
    pub async fn addresses(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, EgressError> {
        if let Some(ip) = literal(host) {
            self.policy.check(host, ip)?;
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        if host.is_empty() {
            return Err(bad(host, "the host is empty"));
        }
        let addresses = self.resolver.resolve(host, port).await.map_err(|source| {
            EgressError::Unresolvable {
                host: host.to_owned(),
                source,
            }
        })?;
        if addresses.is_empty() {
            return Err(EgressError::NoAddresses {
                host: host.to_owned(),
            });
        }
        for address in &addresses {
            self.policy.check(host, address.ip())?;
        }
        Ok(addresses)
    }

    /// Checks a host that is an IP literal; a name passes, its addresses are checked when it
    /// is resolved. HTTP clients connect to a literal without asking a resolver, so a backend
    /// checks its literal hosts when it is built.
    pub fn check_literal(&self, host: &str) -> Result<(), EgressError> {
        match literal(host) {
            Some(ip) => self.policy.check(host, ip),
            None => Ok(()),
        }
    }

    /// [`Guard::check_literal`] for the host of an `http(s)://` URL, read the way reqwest reads
    /// it (so `http://0x7f.1/` is the literal 127.0.0.1). A URL with user credentials
    /// (`user@host`) or without a host is refused.
    pub fn check_url(&self, url: &str) -> Result<(), EgressError> {
        let parsed = reqwest::Url::parse(url).map_err(|_| bad(url, "it is not a valid URL"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(bad(url, "only http:// and https:// URLs are accepted"));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(bad(
                url,
                "URLs with user credentials (user@host) are refused",
            ));
        }
        match parsed.host_str() {
            Some(host) if !host.is_empty() => self.check_literal(host),
            _ => Err(bad(url, "the URL has no host")),
        }
    }
}

/// `host` as an IP address, brackets around IPv6 allowed.
fn literal(host: &str) -> Option<IpAddr> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse().ok()
}

fn bad(host: &str, reason: &'static str) -> EgressError {
    EgressError::BadHost {
        host: host.to_owned(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Answers every name with fixed addresses and counts the questions.
    #[derive(Debug, Default)]
    struct Fixed {
        answer: Vec<IpAddr>,
        calls: AtomicUsize,
    }

    #[async_trait]
    impl Resolve for Fixed {
        async fn resolve(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if host == "missing.test" {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no such host",
                ));
            }
            Ok(self
                .answer
                .iter()
                .map(|ip| SocketAddr::new(*ip, port))
                .collect())
        }
    }

    fn guard_over(policy: EgressPolicy, answer: &[&str]) -> (Guard, Arc<Fixed>) {
        let resolver = Arc::new(Fixed {
            answer: answer
                .iter()
                .map(|a| a.parse().expect("test address"))
                .collect(),
            ..Fixed::default()
        });
        (Guard::with_resolver(policy, resolver.clone()), resolver)
    }

    #[tokio::test]
    async fn literals_are_checked_without_resolving() {
        let (guard, resolver) = guard_over(EgressPolicy::deny_private(), &["8.8.8.8"]);
        for host in [
            "127.0.0.1",
            "::1",
            "[::1]",
            "[::ffff:10.0.0.1]",
            "169.254.169.254",
        ] {
            let refused = guard.addresses(host, 80).await.expect_err(host);
            assert!(
                matches!(refused, EgressError::Refused { .. }),
                "{host}: {refused}"
            );
            assert!(guard.check_literal(host).is_err(), "{host}");
        }
        assert_eq!(
            guard
                .addresses("[2606:4700:4700::1111]", 443)
                .await
                .expect("public"),
            vec![
                "[2606:4700:4700::1111]:443"
                    .parse()
                    .expect("socket address")
            ]
        );
        assert_eq!(resolver.calls.load(Ordering::SeqCst), 0);
        assert!(guard.check_literal("storage.example.com").is_ok());
    }

    #[tokio::test]
    async fn every_resolved_address_must_pass() {
        let (guard, resolver) = guard_over(EgressPolicy::deny_private(), &["8.8.8.8", "10.0.0.7"]);
        let refused = guard
            .addresses("mixed.test", 9000)
            .await
            .expect_err("one is private");
        let message = refused.to_string();
        assert!(
            message.contains("\"mixed.test\"") && message.contains("10.0.0.7"),
            "{message}"
        );
        assert!(message.contains("private (10.0.0.0/8)"), "{message}");
        assert!(
            message.contains("LABELSYNC_ALLOW_PRIVATE_ENDPOINTS"),
            "{message}"
        );
        assert_eq!(resolver.calls.load(Ordering::SeqCst), 1);

        let (guard, _) = guard_over(
            EgressPolicy::parse("10.0.0.7").expect("valid"),
            &["8.8.8.8", "10.0.0.7"],
        );
        assert_eq!(
            guard
                .addresses("mixed.test", 9000)
                .await
                .expect("allowed")
                .len(),
            2
        );
    }

    #[tokio::test]
    async fn failures_are_named() {
        let (guard, _) = guard_over(EgressPolicy::allow_all(), &[]);
        assert!(matches!(
            guard.addresses("empty.test", 1).await,
            Err(EgressError::NoAddresses { host }) if host == "empty.test"
        ));
        assert!(matches!(
            guard.addresses("missing.test", 1).await,
            Err(EgressError::Unresolvable { .. })
        ));
        assert!(matches!(
            guard.addresses("", 1).await,
            Err(EgressError::BadHost { .. })
        ));
    }

    #[test]
    fn urls_are_read_like_the_http_client_reads_them() {
        let (guard, _) = guard_over(EgressPolicy::deny_private(), &[]);
        for refused in [
            "http://127.0.0.1:9000",
            "https://[::1]/bucket",
            "http://0x7f.1/",
            "http://2130706433/",
            "http://[::ffff:169.254.169.254]/",
        ] {
            assert!(
                matches!(guard.check_url(refused), Err(EgressError::Refused { .. })),
                "{refused}"
            );
        }
        for bad in [
            "ftp://8.8.8.8/",
            "http://user@8.8.8.8/",
            "http://a:b@s3.example.com/",
            "nonsense",
            "file:///etc/passwd",
        ] {
            assert!(
                matches!(guard.check_url(bad), Err(EgressError::BadHost { .. })),
                "{bad}"
            );
        }
        for fine in ["https://s3.amazonaws.com", "http://8.8.8.8:9000/x?y=1"] {
            assert!(guard.check_url(fine).is_ok(), "{fine}");
        }
    }
}
