//! Address space that can never be a takedown target.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use crate::Observable;

/// Why an observable is skipped rather than stored. The [`SkipReason::key`]
/// names the reason in summaries (`skip_reasons` in `ingest --json`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    /// RFC 1918 or unique-local (fc00::/7) space.
    Private,
    /// 127.0.0.0/8 or ::1.
    Loopback,
    /// 169.254.0.0/16 or fe80::/10.
    LinkLocal,
    /// Carrier-grade NAT, 100.64.0.0/10.
    Cgnat,
    /// Documentation ranges (RFC 5737, RFC 3849).
    Documentation,
    /// Multicast space.
    Multicast,
    /// 0.0.0.0/8 or ::.
    Unspecified,
    /// 240.0.0.0/4 (reserved) and the broadcast address.
    Reserved,
    /// A reserved or special-use domain name (RFC 2606, RFC 6761).
    ReservedDomain,
}

impl SkipReason {
    /// The reason's key: `bogon:private`, `bogon:loopback`, …, `reserved-domain`.
    pub fn key(self) -> &'static str {
        match self {
            SkipReason::Private => "bogon:private",
            SkipReason::Loopback => "bogon:loopback",
            SkipReason::LinkLocal => "bogon:link-local",
            SkipReason::Cgnat => "bogon:cgnat",
            SkipReason::Documentation => "bogon:documentation",
            SkipReason::Multicast => "bogon:multicast",
            SkipReason::Unspecified => "bogon:unspecified",
            SkipReason::Reserved => "bogon:reserved",
            SkipReason::ReservedDomain => "reserved-domain",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

const fn v4(a: u8, b: u8, c: u8, d: u8, len: u8) -> (Ipv4Addr, u8) {
    (Ipv4Addr::new(a, b, c, d), len)
}

const V4_BOGONS: &[((Ipv4Addr, u8), SkipReason)] = &[
    (v4(0, 0, 0, 0, 8), SkipReason::Unspecified),
    (v4(10, 0, 0, 0, 8), SkipReason::Private),
    (v4(100, 64, 0, 0, 10), SkipReason::Cgnat),
    (v4(127, 0, 0, 0, 8), SkipReason::Loopback),
    (v4(169, 254, 0, 0, 16), SkipReason::LinkLocal),
    (v4(172, 16, 0, 0, 12), SkipReason::Private),
    (v4(192, 0, 2, 0, 24), SkipReason::Documentation),
    (v4(192, 168, 0, 0, 16), SkipReason::Private),
    (v4(198, 51, 100, 0, 24), SkipReason::Documentation),
    (v4(203, 0, 113, 0, 24), SkipReason::Documentation),
    (v4(224, 0, 0, 0, 4), SkipReason::Multicast),
    (v4(240, 0, 0, 0, 4), SkipReason::Reserved),
];

const V6_BOGONS: &[(u16, u16, u8, SkipReason)] = &[
    // (first hextet, second hextet, prefix length, reason)
    (0xfc00, 0, 7, SkipReason::Private),
    (0xfe80, 0, 10, SkipReason::LinkLocal),
    (0xff00, 0, 8, SkipReason::Multicast),
    (0x2001, 0x0db8, 32, SkipReason::Documentation),
];

/// Special-use domain suffixes (RFC 2606, RFC 6761, RFC 6762, RFC 8375).
const RESERVED_DOMAIN_SUFFIXES: &[&str] = &[
    "example",
    "example.com",
    "example.net",
    "example.org",
    "test",
    "invalid",
    "localhost",
    "local",
    "home.arpa",
    "in-addr.arpa",
    "ip6.arpa",
];

/// Two prefixes either nest or are disjoint, so "one contains the other"
/// is "their ranges overlap", tested here on the addresses as numbers: every
/// ingested address goes through this, and building and comparing an
/// `Ipv4Net` per bogon was a few percent of an import.
fn v4_reason(net: Ipv4Net) -> Option<SkipReason> {
    let (first, last) = (u32::from(net.network()), u32::from(net.broadcast()));
    V4_BOGONS.iter().find_map(|((addr, len), reason)| {
        let start = u32::from(*addr);
        let end = start | u32::MAX.checked_shr(u32::from(*len)).unwrap_or(0);
        (first <= end && start <= last).then_some(*reason)
    })
}

fn v6_reason(net: Ipv6Net) -> Option<SkipReason> {
    if net.network() == Ipv6Addr::UNSPECIFIED && net.prefix_len() == 128 {
        return Some(SkipReason::Unspecified);
    }
    if net.network() == Ipv6Addr::LOCALHOST && net.prefix_len() == 128 {
        return Some(SkipReason::Loopback);
    }
    if net.prefix_len() == 0 {
        return Some(SkipReason::Unspecified);
    }
    V6_BOGONS.iter().find_map(|(a, b, len, reason)| {
        let bogon = Ipv6Net::new(Ipv6Addr::new(*a, *b, 0, 0, 0, 0, 0, 0), *len).ok()?;
        (bogon.contains(&net) || net.contains(&bogon)).then_some(*reason)
    })
}

fn net_reason(net: IpNet) -> Option<SkipReason> {
    match net {
        IpNet::V4(n) if n.network() == Ipv4Addr::BROADCAST => Some(SkipReason::Reserved),
        IpNet::V4(n) => v4_reason(n),
        IpNet::V6(n) => v6_reason(n),
    }
}

/// Why `observable` can never be a takedown target, or `None` when it can.
///
/// An address is skipped when it lies in special-use space; a network when
/// it overlaps special-use space at all (so `0.0.0.0/0` is skipped too); a
/// URL when its host is skipped; a domain under a reserved suffix.
pub fn not_targetable(observable: &Observable) -> Option<SkipReason> {
    match observable {
        Observable::Ip(ip) => net_reason(IpNet::from(*ip)),
        Observable::Net(net) => net_reason(*net),
        Observable::Domain(domain) => {
            let reserved = RESERVED_DOMAIN_SUFFIXES
                .iter()
                .any(|s| domain == s || domain.strip_suffix(s).is_some_and(|rest| rest.ends_with('.')));
            reserved.then_some(SkipReason::ReservedDomain)
        }
        Observable::Url(_) => observable.url_host().and_then(|host| not_targetable(&host)),
    }
}

/// Why an address can never be a takedown target, or `None`.
pub fn ip_not_targetable(ip: IpAddr) -> Option<SkipReason> {
    net_reason(IpNet::from(ip))
}

/// Which addresses cordon's outbound connections (takedown verification,
/// feed collectors) may reach.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Destinations {
    /// Only addresses that could be takedown targets: loopback, private,
    /// link-local (cloud metadata), CGNAT, documentation, multicast,
    /// unspecified and reserved addresses are refused. What every command
    /// and the server use.
    #[default]
    Public,
    /// Any address. Only for tests against servers they run on 127.0.0.1; never
    /// chosen by anything a user or a feed controls.
    AnyForTesting,
}

/// Why `ip` may not be connected to under `destinations`, in words, or
/// `None` when it may. An IPv6 address embedding an IPv4 one
/// (`::ffff:a.b.c.d`, `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`)
/// is checked for that IPv4 address too.
pub fn refusal(ip: IpAddr, destinations: Destinations) -> Option<String> {
    if destinations == Destinations::AnyForTesting {
        return None;
    }
    let embedded = match ip {
        IpAddr::V4(_) => None,
        IpAddr::V6(v6) => {
            let [a, b, ..] = v6.segments();
            let octets = v6.octets();
            let low = Ipv4Addr::new(octets[12], octets[13], octets[14], octets[15]);
            if let Some(mapped) = v6.to_ipv4() {
                // ::ffff:a.b.c.d and the deprecated ::a.b.c.d (not ::1, ::).
                Some(mapped).filter(|m| !m.is_unspecified() && *m != Ipv4Addr::new(0, 0, 0, 1))
            } else if (a, b) == (0x64, 0xff9b) && v6.segments()[2..6] == [0, 0, 0, 0] {
                Some(low)
            } else if a == 0x2002 {
                Some(Ipv4Addr::new(octets[2], octets[3], octets[4], octets[5]))
            } else {
                None
            }
        }
    };
    let reason = ip_not_targetable(ip).or_else(|| embedded.and_then(|v4| ip_not_targetable(IpAddr::V4(v4))))?;
    let kind = match reason {
        SkipReason::Private => "a private",
        SkipReason::Loopback => "a loopback",
        SkipReason::LinkLocal => "a link-local",
        SkipReason::Cgnat => "a carrier-grade NAT",
        SkipReason::Documentation => "a documentation",
        SkipReason::Multicast => "a multicast",
        SkipReason::Unspecified => "an unspecified",
        SkipReason::Reserved | SkipReason::ReservedDomain => "a reserved",
    };
    Some(format!("{ip} is {kind} address ({reason})"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize;

    fn reason(raw: &str) -> Option<&'static str> {
        not_targetable(&normalize(raw).unwrap().observables[0]).map(SkipReason::key)
    }

    #[test]
    fn bogons_are_skipped_with_reasons() {
        assert_eq!(reason("10.1.2.3"), Some("bogon:private"));
        assert_eq!(reason("172.31.255.255"), Some("bogon:private"));
        assert_eq!(reason("172.32.0.1"), None);
        assert_eq!(reason("127.0.0.1"), Some("bogon:loopback"));
        assert_eq!(reason("169.254.1.1"), Some("bogon:link-local"));
        assert_eq!(reason("100.64.0.1"), Some("bogon:cgnat"));
        assert_eq!(reason("100.128.0.1"), None);
        assert_eq!(reason("192.0.2.1"), Some("bogon:documentation"));
        assert_eq!(reason("198.51.100.7"), Some("bogon:documentation"));
        assert_eq!(reason("203.0.113.9"), Some("bogon:documentation"));
        assert_eq!(reason("224.0.0.1"), Some("bogon:multicast"));
        assert_eq!(reason("0.1.2.3"), Some("bogon:unspecified"));
        assert_eq!(reason("250.1.1.1"), Some("bogon:reserved"));
        assert_eq!(reason("255.255.255.255"), Some("bogon:reserved"));
        assert_eq!(reason("fd00::1"), Some("bogon:private"));
        assert_eq!(reason("fe80::1"), Some("bogon:link-local"));
        assert_eq!(reason("::1"), Some("bogon:loopback"));
        assert_eq!(reason("2001:db8::1"), Some("bogon:documentation"));
        assert_eq!(reason("ff02::1"), Some("bogon:multicast"));
        assert_eq!(reason("2a01:4f8::1"), None);
        assert_eq!(reason("80.94.95.112"), None);
    }

    #[test]
    fn networks_overlapping_bogons_are_skipped() {
        assert_eq!(reason("0.0.0.0/0"), Some("bogon:unspecified"));
        assert_eq!(reason("10.0.0.0/7"), Some("bogon:private"));
        assert_eq!(reason("80.94.0.0/16"), None);
        assert_eq!(reason("172.0.0.0/8"), Some("bogon:private"));
        assert_eq!(reason("172.15.255.255"), None);
        assert_eq!(reason("192.0.2.0/23"), Some("bogon:documentation"));
        assert_eq!(reason("223.255.255.255"), None);
    }

    #[test]
    fn urls_and_domains() {
        assert_eq!(reason("http://192.168.1.1/x"), Some("bogon:private"));
        assert_eq!(reason("http://80.94.95.112/x"), None);
        assert_eq!(reason("www.example.com"), Some("reserved-domain"));
        assert_eq!(reason("foo.test"), Some("reserved-domain"));
        assert_eq!(reason("contest.com"), None);
        assert_eq!(reason("evil.com"), None);
    }
}
