//! The operator's choice of which special-purpose addresses user-supplied hosts may reach
//! (`LABELSYNC_ALLOW_PRIVATE_ENDPOINTS`).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use super::address::{embedded_ipv4, same_prefix, special_purpose};
use super::error::EgressError;

/// An address range, `addr/prefix`; `addr` is kept with its host bits cleared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

/// Text that is neither an IP address nor `address/prefix`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an IP address or an address/prefix range")]
pub struct InvalidNet(String);

impl IpNet {
    /// The range of `prefix` leading bits of `addr`; `None` if `prefix` is longer than the
    /// address (32 for IPv4, 128 for IPv6).
    pub fn new(addr: IpAddr, prefix: u8) -> Option<Self> {
        let width = width(addr);
        if u32::from(prefix) > width {
            return None;
        }
        let host_bits = width - u32::from(prefix);
        let bits = bits(addr).checked_shr(host_bits).unwrap_or(0);
        let network = bits.checked_shl(host_bits).unwrap_or(0);
        let addr = match addr {
            IpAddr::V4(_) => IpAddr::V4((network as u32).into()),
            IpAddr::V6(_) => IpAddr::V6(network.into()),
        };
        Some(Self { addr, prefix })
    }

    /// The first address of the range.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The number of leading bits every address in the range shares.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether `ip` lies in the range; an address of the other family never does.
    pub fn contains(&self, ip: IpAddr) -> bool {
        ip.is_ipv4() == self.addr.is_ipv4()
            && same_prefix(bits(ip), bits(self.addr), self.prefix, width(ip))
    }
}

impl FromStr for IpNet {
    type Err = InvalidNet;

    /// `a.b.c.d/n`, `v6/n`, or a bare address meaning that address alone (/32 or /128).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidNet(text.to_owned());
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let addr: IpAddr = addr.trim().parse().map_err(|_| invalid())?;
        let prefix = match prefix {
            Some(p) => p.trim().parse().map_err(|_| invalid())?,
            None => width(addr) as u8,
        };
        Self::new(addr, prefix).ok_or_else(invalid)
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

fn width(ip: IpAddr) -> u32 {
    if ip.is_ipv4() { 32 } else { 128 }
}

fn bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => v4.to_bits().into(),
        IpAddr::V6(v6) => v6.to_bits(),
    }
}

/// Which special-purpose addresses are reachable anyway.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrivateAllowance {
    /// None: only globally routable addresses.
    None,
    /// Every address (a trusted network where storages live on private addresses).
    All,
    /// The special-purpose addresses inside these ranges (e.g. one MinIO host).
    Ranges(Vec<IpNet>),
}

/// Which addresses a connection to a user-supplied host may go to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EgressPolicy {
    allowance: PrivateAllowance,
}

impl Default for EgressPolicy {
    fn default() -> Self {
        Self::deny_private()
    }
}

const ACCEPTED: &str = "expected true/false (also 1/0, yes/no, on/off; empty is false) or a \
    comma-separated list of addresses and ranges such as 10.0.0.5, 172.16.0.0/12, fd00::/8";

impl EgressPolicy {
    /// Only globally routable addresses: the default.
    pub fn deny_private() -> Self {
        Self {
            allowance: PrivateAllowance::None,
        }
    }

    /// Every address, special-purpose ones included.
    pub fn allow_all() -> Self {
        Self {
            allowance: PrivateAllowance::All,
        }
    }

    /// The policy for these special-purpose addresses in addition to the public ones.
    pub fn allow_ranges(ranges: Vec<IpNet>) -> Self {
        Self {
            allowance: PrivateAllowance::Ranges(ranges),
        }
    }

    /// Reads `LABELSYNC_ALLOW_PRIVATE_ENDPOINTS`: `true`/`1`/`yes`/`on` allows every address,
    /// `false`/`0`/`no`/`off` or empty none, anything else is a comma-separated list of
    /// addresses and `address/prefix` ranges. The error says what is accepted.
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        match value.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => return Ok(Self::allow_all()),
            "false" | "0" | "no" | "off" | "" => return Ok(Self::deny_private()),
            _ => {}
        }
        let ranges = value
            .split(',')
            .map(str::trim)
            .filter(|piece| !piece.is_empty())
            .map(|piece| {
                piece
                    .parse()
                    .map_err(|e: InvalidNet| format!("{e}; {ACCEPTED}"))
            })
            .collect::<Result<Vec<IpNet>, String>>()?;
        if ranges.is_empty() {
            return Err(format!("{value:?} names no address; {ACCEPTED}"));
        }
        Ok(Self::allow_ranges(ranges))
    }

    /// What is allowed beyond the public addresses.
    pub fn allowance(&self) -> &PrivateAllowance {
        &self.allowance
    }

    /// Whether `host`, at `ip`, may be connected to: a public address always, a special-purpose
    /// one only if the operator allowed it. An IPv4-mapped or NAT64 address is also matched by
    /// the IPv4 address it carries, so `127.0.0.2/32` allows `::ffff:127.0.0.2`.
    pub fn check(&self, host: &str, ip: IpAddr) -> Result<(), EgressError> {
        let Some(range) = special_purpose(ip) else {
            return Ok(());
        };
        let allowed = match &self.allowance {
            PrivateAllowance::None => false,
            PrivateAllowance::All => true,
            PrivateAllowance::Ranges(nets) => {
                let embedded = match ip {
                    IpAddr::V6(v6) => embedded_ipv4(v6).map(IpAddr::V4),
                    IpAddr::V4(_) => None,
                };
                nets.iter()
                    .any(|net| net.contains(ip) || embedded.is_some_and(|v4| net.contains(v4)))
            }
        };
        if allowed {
            Ok(())
        } else {
            Err(EgressError::Refused {
                host: host.to_owned(),
                ip,
                range,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("test address")
    }

    fn net(text: &str) -> IpNet {
        text.parse().expect("test range")
    }

    #[test]
    fn nets_parse_and_contain() {
        assert_eq!(net("127.0.0.2"), net("127.0.0.2/32"));
        assert_eq!(net("::1"), net("::1/128"));
        assert_eq!(net("10.1.2.3/8").to_string(), "10.0.0.0/8");
        assert_eq!(net(" fd00::/8 ").to_string(), "fd00::/8");
        assert!(net("10.0.0.0/8").contains(ip("10.255.0.1")));
        assert!(!net("10.0.0.0/8").contains(ip("11.0.0.0")));
        assert!(net("0.0.0.0/0").contains(ip("1.2.3.4")));
        assert!(!net("0.0.0.0/0").contains(ip("::1")));
        assert!(net("fe80::/10").contains(ip("febf::1")));
        assert!(!net("fe80::/10").contains(ip("fec0::1")));
        for bad in [
            "",
            "10.0.0.0/33",
            "::/129",
            "10.0.0/8",
            "10.0.0.0/",
            "host.example",
            "1.2.3.4/x",
        ] {
            assert!(bad.parse::<IpNet>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn parses_the_operator_variable() {
        for all in ["true", "1", "yes", "on", "TRUE", " On "] {
            assert_eq!(
                EgressPolicy::parse(all),
                Ok(EgressPolicy::allow_all()),
                "{all}"
            );
        }
        for none in ["false", "0", "no", "off", "", "  ", "False"] {
            assert_eq!(
                EgressPolicy::parse(none),
                Ok(EgressPolicy::deny_private()),
                "{none}"
            );
        }
        assert_eq!(
            EgressPolicy::parse(" 127.0.0.2/32 , 10.0.0.0/8,fd00::1 "),
            Ok(EgressPolicy::allow_ranges(vec![
                net("127.0.0.2/32"),
                net("10.0.0.0/8"),
                net("fd00::1/128"),
            ]))
        );
        for bad in [
            "maybe",
            "127.0.0.1/40",
            "10.0.0.1, nope",
            ",",
            "127.0.0.1;10.0.0.1",
        ] {
            let error = EgressPolicy::parse(bad).expect_err(bad);
            assert!(
                error.contains("true/false") && error.contains("comma-separated"),
                "{error}"
            );
        }
    }

    #[test]
    fn a_range_allows_exactly_its_addresses() {
        let policy = EgressPolicy::parse("127.0.0.2/32").expect("valid");
        assert!(policy.check("h", ip("127.0.0.2")).is_ok());
        assert!(policy.check("h", ip("::ffff:127.0.0.2")).is_ok());
        assert!(policy.check("h", ip("64:ff9b::127.0.0.2")).is_ok());
        assert!(policy.check("h", ip("8.8.8.8")).is_ok());
        let refused = policy
            .check("h", ip("127.0.0.1"))
            .expect_err("outside the range");
        let EgressError::Refused { ip: at, range, .. } = refused else {
            panic!("expected a refusal, got {refused:?}");
        };
        assert_eq!((at, range), (ip("127.0.0.1"), "loopback (127.0.0.0/8)"));
        assert!(policy.check("h", ip("::ffff:127.0.0.1")).is_err());
        assert!(policy.check("h", ip("::1")).is_err());
    }

    #[test]
    fn deny_and_allow_all() {
        let deny = EgressPolicy::default();
        assert!(deny.check("h", ip("52.216.0.1")).is_ok());
        assert!(deny.check("h", ip("169.254.169.254")).is_err());
        assert!(deny.check("h", ip("fd00::1")).is_err());
        let all = EgressPolicy::allow_all();
        assert!(all.check("h", ip("169.254.169.254")).is_ok());
        assert!(all.check("h", ip("::1")).is_ok());
    }
}
