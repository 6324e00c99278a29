//! Observables in canonical form and their kinds.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;

/// The kind of an observable, as named on the command line and in JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A single IPv4 address.
    Ipv4,
    /// A single IPv6 address.
    Ipv6,
    /// An IPv4 or IPv6 network with a prefix shorter than the address length.
    Cidr,
    /// A domain name.
    Domain,
    /// A URL.
    Url,
}

impl Kind {
    /// Every kind, in display order.
    pub const ALL: [Kind; 5] = [Kind::Ipv4, Kind::Ipv6, Kind::Cidr, Kind::Domain, Kind::Url];

    /// The kind's name: `ipv4`, `ipv6`, `cidr`, `domain` or `url`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Ipv4 => "ipv4",
            Kind::Ipv6 => "ipv6",
            Kind::Cidr => "cidr",
            Kind::Domain => "domain",
            Kind::Url => "url",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A kind name that is not one of `ipv4, ipv6, cidr, domain, url`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown kind '{0}' (expected one of ipv4, ipv6, cidr, domain, url)")]
pub struct UnknownKind(pub String);

impl FromStr for Kind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownKind(s.to_string()))
    }
}

/// One network observable in canonical form.
///
/// Invariants, upheld by [`crate::normalize`] (the only constructor that sees
/// raw input): an `Ip` is never an IPv4-mapped IPv6 address; a `Net` has its
/// host bits cleared and a prefix shorter than its address length; a `Domain`
/// is lowercase ASCII (A-labels) without a trailing dot; a `Url` is the WHATWG
/// serialization with a host and without a fragment.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Observable {
    /// A single address.
    Ip(IpAddr),
    /// A network of more than one address.
    Net(IpNet),
    /// A domain name.
    Domain(String),
    /// A URL.
    Url(String),
}

impl Observable {
    /// The observable's kind.
    pub fn kind(&self) -> Kind {
        match self {
            Observable::Ip(IpAddr::V4(_)) => Kind::Ipv4,
            Observable::Ip(IpAddr::V6(_)) => Kind::Ipv6,
            Observable::Net(_) => Kind::Cidr,
            Observable::Domain(_) => Kind::Domain,
            Observable::Url(_) => Kind::Url,
        }
    }

    /// The host of a URL (an address or a domain), which is the server a
    /// takedown acts on; `None` for other kinds.
    pub fn url_host(&self) -> Option<Observable> {
        let Observable::Url(url) = self else {
            return None;
        };
        let parsed = url::Url::parse(url).ok()?;
        match parsed.host()? {
            url::Host::Ipv4(ip) => Some(Observable::Ip(IpAddr::V4(ip))),
            url::Host::Ipv6(ip) => Some(Observable::Ip(match ip.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6(ip),
            })),
            url::Host::Domain(d) => Some(Observable::Domain(d.trim_end_matches('.').to_string())),
        }
    }

    /// The range of addresses covered by an `Ip` or `Net` observable.
    pub fn ip_range(&self) -> Option<(IpAddr, IpAddr)> {
        match self {
            Observable::Ip(ip) => Some((*ip, *ip)),
            Observable::Net(net) => Some((net.network(), net.broadcast())),
            _ => None,
        }
    }
}

impl fmt::Display for Observable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Observable::Ip(IpAddr::V4(v4)) => write_ipv4(*v4, f),
            Observable::Ip(ip) => write!(f, "{ip}"),
            Observable::Net(net) => write!(f, "{net}"),
            Observable::Domain(d) | Observable::Url(d) => f.write_str(d),
        }
    }
}

/// Writes `v4` in dotted-decimal, the text of `Ipv4Addr`'s `Display`.
/// That one goes through the formatting machinery for each octet and its
/// padding (about 1,000 instructions an address in callgrind); ingest
/// writes every stored address, so this writes the digits directly.
fn write_ipv4(v4: std::net::Ipv4Addr, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let mut text = [0u8; 15];
    let mut len = 0;
    for (i, octet) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            text[len] = b'.';
            len += 1;
        }
        if octet >= 100 {
            text[len] = b'0' + octet / 100;
            len += 1;
        }
        if octet >= 10 {
            text[len] = b'0' + octet / 10 % 10;
            len += 1;
        }
        text[len] = b'0' + octet % 10;
        len += 1;
    }
    // Digits and dots only, so always UTF-8.
    f.write_str(std::str::from_utf8(&text[..len]).map_err(|_| fmt::Error)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_text_is_dotted_decimal() {
        let samples = [0u32, 1, 9, 10, 99, 100, 255, 0x0a00_0001, 0x2d63_6407, 0xc0a8_0a64, u32::MAX];
        for (i, raw) in samples.into_iter().chain((0..2000u32).map(|i| i.wrapping_mul(2_654_435_761))).enumerate() {
            let v4 = std::net::Ipv4Addr::from(raw);
            assert_eq!(Observable::Ip(IpAddr::V4(v4)).to_string(), v4.to_string(), "sample {i}");
        }
    }

    #[test]
    fn kind_names_round_trip() {
        for kind in Kind::ALL {
            assert_eq!(kind.as_str().parse::<Kind>(), Ok(kind));
        }
        assert!("asn".parse::<Kind>().is_err());
    }

    #[test]
    fn url_host_of_ip_and_domain() {
        let url = Observable::Url("http://[2001:4860::8888]:8080/x".into());
        assert_eq!(url.url_host(), Some(Observable::Ip("2001:4860::8888".parse().unwrap())));
        assert_eq!(Observable::Domain("a.b".into()).url_host(), None);
    }
}
