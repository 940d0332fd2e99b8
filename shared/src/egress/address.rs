//! Which addresses are special-purpose: IANA's IPv4 and IPv6 Special-Purpose Address Registries,
//! plus everything in IPv6 outside global unicast (2000::/3).
//!
//! The registries mark a few blocks "globally reachable" (AS112, AMT, ORCHIDv2, some of
//! 192.0.0.0/24). They are refused all the same: no storage lives there, and a user-typed host
//! has no business reaching them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A block of addresses and its name, `bits` right-aligned (an IPv4 block in the low 32 bits).
struct Block {
    bits: u128,
    prefix: u8,
    name: &'static str,
}

const fn v4(octets: [u8; 4], prefix: u8, name: &'static str) -> Block {
    let bits = u32::from_be_bytes(octets) as u128;
    Block { bits, prefix, name }
}

/// An IPv6 block given by its first three 16-bit groups, enough for every registry prefix.
const fn v6(groups: [u16; 3], prefix: u8, name: &'static str) -> Block {
    let bits = (groups[0] as u128) << 112 | (groups[1] as u128) << 96 | (groups[2] as u128) << 80;
    Block { bits, prefix, name }
}

/// IPv4 blocks, first match wins: a narrower block comes before the one that contains it.
#[rustfmt::skip]
const V4: &[Block] = &[
    v4([0, 0, 0, 0], 8, "this network (0.0.0.0/8)"),
    v4([10, 0, 0, 0], 8, "private (10.0.0.0/8)"),
    v4([100, 64, 0, 0], 10, "shared address space (100.64.0.0/10)"),
    v4([127, 0, 0, 0], 8, "loopback (127.0.0.0/8)"),
    v4([169, 254, 0, 0], 16, "link-local (169.254.0.0/16)"),
    v4([172, 16, 0, 0], 12, "private (172.16.0.0/12)"),
    v4([192, 0, 0, 0], 24, "IETF protocol assignments (192.0.0.0/24)"),
    v4([192, 0, 2, 0], 24, "documentation (192.0.2.0/24)"),
    v4([192, 31, 196, 0], 24, "AS112-v4 (192.31.196.0/24)"),
    v4([192, 52, 193, 0], 24, "AMT (192.52.193.0/24)"),
    v4([192, 88, 99, 0], 24, "6to4 relay anycast (192.88.99.0/24)"),
    v4([192, 168, 0, 0], 16, "private (192.168.0.0/16)"),
    v4([192, 175, 48, 0], 24, "AS112 direct delegation (192.175.48.0/24)"),
    v4([198, 18, 0, 0], 15, "benchmarking (198.18.0.0/15)"),
    v4([198, 51, 100, 0], 24, "documentation (198.51.100.0/24)"),
    v4([203, 0, 113, 0], 24, "documentation (203.0.113.0/24)"),
    v4([224, 0, 0, 0], 4, "multicast (224.0.0.0/4)"),
    v4([255, 255, 255, 255], 32, "limited broadcast (255.255.255.255/32)"),
    v4([240, 0, 0, 0], 4, "reserved (240.0.0.0/4)"),
];

/// IPv6 blocks, first match wins. The IPv4-mapped and NAT64 forms are handled before this table.
#[rustfmt::skip]
const V6: &[Block] = &[
    v6([0, 0, 0], 128, "unspecified (::/128)"),
    Block { bits: 1, prefix: 128, name: "loopback (::1/128)" },
    v6([0, 0, 0], 96, "IPv4-compatible (::/96)"),
    v6([0x64, 0xff9b, 1], 48, "local-use NAT64 (64:ff9b:1::/48)"),
    v6([0x100, 0, 0], 64, "discard-only (100::/64)"),
    v6([0x2001, 0, 0], 32, "Teredo (2001::/32)"),
    v6([0x2001, 2, 0], 48, "benchmarking (2001:2::/48)"),
    v6([0x2001, 0x10, 0], 28, "ORCHID (2001:10::/28)"),
    v6([0x2001, 0x20, 0], 28, "ORCHIDv2 (2001:20::/28)"),
    v6([0x2001, 0, 0], 23, "IETF protocol assignments (2001::/23)"),
    v6([0x2001, 0xdb8, 0], 32, "documentation (2001:db8::/32)"),
    v6([0x2002, 0, 0], 16, "6to4 (2002::/16)"),
    v6([0x2620, 0x4f, 0x8000], 48, "AS112 direct delegation (2620:4f:8000::/48)"),
    v6([0x3fff, 0, 0], 20, "documentation (3fff::/20)"),
    v6([0x5f00, 0, 0], 16, "SRv6 SIDs (5f00::/16)"),
    v6([0xfc00, 0, 0], 7, "unique local (fc00::/7)"),
    v6([0xfe80, 0, 0], 10, "link-local (fe80::/10)"),
    v6([0xfec0, 0, 0], 10, "site-local (fec0::/10)"),
    v6([0xff00, 0, 0], 8, "multicast (ff00::/8)"),
];

/// The special-purpose range `ip` falls in, by name (e.g. `"loopback (127.0.0.0/8)"`), or
/// `None` for a globally routable unicast address.
///
/// IPv6 is public only inside global unicast (2000::/3) and outside the special blocks there;
/// 6to4 and Teredo are refused outright since the IPv4 address they carry is not checked. The
/// two forms that name an IPv4 address directly, IPv4-mapped (`::ffff:0:0/96`) and NAT64
/// (`64:ff9b::/96`), are judged by that address.
pub fn special_purpose(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => special_v4(v4),
        IpAddr::V6(v6) => match embedded_ipv4(v6) {
            Some(v4) => special_v4(v4),
            None => special_v6(v6),
        },
    }
}

/// The IPv4 address an IPv4-mapped (`::ffff:a.b.c.d`) or NAT64 (`64:ff9b::a.b.c.d`) address
/// stands for; `None` for any other IPv6 address.
pub fn embedded_ipv4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let nat64 = ip.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
    nat64.then(|| Ipv4Addr::from_bits(ip.to_bits() as u32))
}

fn special_v4(ip: Ipv4Addr) -> Option<&'static str> {
    find(V4, ip.to_bits().into(), 32)
}

fn special_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let global_unicast = ip.segments()[0] & 0xe000 == 0x2000;
    find(V6, ip.to_bits(), 128)
        .or((!global_unicast).then_some("not global unicast (outside 2000::/3)"))
}

fn find(blocks: &[Block], bits: u128, width: u32) -> Option<&'static str> {
    blocks
        .iter()
        .find(|block| same_prefix(bits, block.bits, block.prefix, width))
        .map(|block| block.name)
}

/// Whether `a` and `b`, both `width` bits wide, agree in their first `prefix` bits.
pub(super) fn same_prefix(a: u128, b: u128, prefix: u8, width: u32) -> bool {
    let prefix = u32::from(prefix).min(width);
    let host_bits = width - prefix;
    a.checked_shr(host_bits).unwrap_or(0) == b.checked_shr(host_bits).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (address, the range it must be named by; `None` = public).
    #[rustfmt::skip]
    const TABLE: &[(&str, Option<&str>)] = &[
        // IPv4, every registry block, edges where they matter.
        ("0.0.0.0", Some("this network (0.0.0.0/8)")),
        ("0.255.255.255", Some("this network (0.0.0.0/8)")),
        ("1.0.0.0", None),
        ("9.255.255.255", None),
        ("10.0.0.0", Some("private (10.0.0.0/8)")),
        ("10.255.255.255", Some("private (10.0.0.0/8)")),
        ("11.0.0.0", None),
        ("100.63.255.255", None),
        ("100.64.0.0", Some("shared address space (100.64.0.0/10)")),
        ("100.127.255.255", Some("shared address space (100.64.0.0/10)")),
        ("100.128.0.0", None),
        ("126.255.255.255", None),
        ("127.0.0.1", Some("loopback (127.0.0.0/8)")),
        ("127.255.255.254", Some("loopback (127.0.0.0/8)")),
        ("128.0.0.0", None),
        ("169.253.255.255", None),
        ("169.254.169.254", Some("link-local (169.254.0.0/16)")),
        ("169.255.0.0", None),
        ("172.15.255.255", None),
        ("172.16.0.0", Some("private (172.16.0.0/12)")),
        ("172.31.255.255", Some("private (172.16.0.0/12)")),
        ("172.32.0.0", None),
        ("192.0.0.9", Some("IETF protocol assignments (192.0.0.0/24)")),
        ("192.0.1.0", None),
        ("192.0.2.1", Some("documentation (192.0.2.0/24)")),
        ("192.31.196.1", Some("AS112-v4 (192.31.196.0/24)")),
        ("192.52.193.1", Some("AMT (192.52.193.0/24)")),
        ("192.88.99.1", Some("6to4 relay anycast (192.88.99.0/24)")),
        ("192.88.100.0", None),
        ("192.167.255.255", None),
        ("192.168.0.1", Some("private (192.168.0.0/16)")),
        ("192.169.0.0", None),
        ("192.175.48.1", Some("AS112 direct delegation (192.175.48.0/24)")),
        ("198.17.255.255", None),
        ("198.18.0.0", Some("benchmarking (198.18.0.0/15)")),
        ("198.19.255.255", Some("benchmarking (198.18.0.0/15)")),
        ("198.20.0.0", None),
        ("198.51.100.7", Some("documentation (198.51.100.0/24)")),
        ("203.0.113.7", Some("documentation (203.0.113.0/24)")),
        ("223.255.255.255", None),
        ("224.0.0.1", Some("multicast (224.0.0.0/4)")),
        ("239.255.255.255", Some("multicast (224.0.0.0/4)")),
        ("240.0.0.0", Some("reserved (240.0.0.0/4)")),
        ("255.255.255.254", Some("reserved (240.0.0.0/4)")),
        ("255.255.255.255", Some("limited broadcast (255.255.255.255/32)")),
        // Real public IPv4.
        ("8.8.8.8", None),
        ("1.1.1.1", None),
        ("52.216.0.1", None),
        // IPv6 outside 2000::/3.
        ("::", Some("unspecified (::/128)")),
        ("::1", Some("loopback (::1/128)")),
        ("::127.0.0.1", Some("IPv4-compatible (::/96)")),
        ("::8.8.8.8", Some("IPv4-compatible (::/96)")),
        ("64:ff9b:1::1", Some("local-use NAT64 (64:ff9b:1::/48)")),
        ("100::1", Some("discard-only (100::/64)")),
        ("100:0:0:1::", Some("not global unicast (outside 2000::/3)")),
        ("1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Some("not global unicast (outside 2000::/3)")),
        ("4000::1", Some("not global unicast (outside 2000::/3)")),
        ("fc00::1", Some("unique local (fc00::/7)")),
        ("fdff:ffff::1", Some("unique local (fc00::/7)")),
        ("fe80::1", Some("link-local (fe80::/10)")),
        ("febf:ffff::1", Some("link-local (fe80::/10)")),
        ("fec0::1", Some("site-local (fec0::/10)")),
        ("ff02::1", Some("multicast (ff00::/8)")),
        // Special blocks inside 2000::/3.
        ("2000::", None),
        ("2001::1", Some("Teredo (2001::/32)")),
        ("2001:1::1", Some("IETF protocol assignments (2001::/23)")),
        ("2001:2::1", Some("benchmarking (2001:2::/48)")),
        ("2001:10::1", Some("ORCHID (2001:10::/28)")),
        ("2001:20::1", Some("ORCHIDv2 (2001:20::/28)")),
        ("2001:1ff:ffff::1", Some("IETF protocol assignments (2001::/23)")),
        ("2001:200::1", None),
        ("2001:db8::1", Some("documentation (2001:db8::/32)")),
        ("2001:db9::1", None),
        ("2002:7f00:1::1", Some("6to4 (2002::/16)")),
        ("2002:808:808::1", Some("6to4 (2002::/16)")),
        ("2620:4f:8000::1", Some("AS112 direct delegation (2620:4f:8000::/48)")),
        ("3ffe:ffff::1", None),
        ("3fff::1", Some("documentation (3fff::/20)")),
        ("3fff:1000::1", None),
        ("5f00::1", Some("SRv6 SIDs (5f00::/16)")),
        // IPv4-mapped and NAT64: judged by the IPv4 address they carry.
        ("::ffff:127.0.0.1", Some("loopback (127.0.0.0/8)")),
        ("::ffff:10.1.2.3", Some("private (10.0.0.0/8)")),
        ("::ffff:169.254.169.254", Some("link-local (169.254.0.0/16)")),
        ("::ffff:8.8.8.8", None),
        ("64:ff9b::7f00:1", Some("loopback (127.0.0.0/8)")),
        ("64:ff9b::192.168.1.1", Some("private (192.168.0.0/16)")),
        ("64:ff9b::8.8.8.8", None),
        // Real public IPv6.
        ("2606:4700:4700::1111", None),
        ("2a00:1450:4001:800::200e", None),
        ("2600:1f18::1", None),
    ];

    #[test]
    fn every_range_is_named_and_public_addresses_pass() {
        assert!(TABLE.len() >= 50);
        for (text, expected) in TABLE {
            let ip: IpAddr = text.parse().expect("the table holds addresses");
            assert_eq!(special_purpose(ip), *expected, "{text}");
        }
    }

    #[test]
    fn embedded_ipv4_only_for_mapped_and_nat64() {
        let v4 = |s: &str| embedded_ipv4(s.parse().expect("address"));
        assert_eq!(v4("::ffff:1.2.3.4"), Some(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(v4("64:ff9b::1.2.3.4"), Some(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(v4("::1.2.3.4"), None);
        assert_eq!(v4("64:ff9b:1::1.2.3.4"), None);
        assert_eq!(v4("2002:102:304::"), None);
    }
}
