//! [`Entry`]: one indicator as the writers see it.

use std::net::IpAddr;

use cordon_model::{Category, Kind, Observable, Timestamp, Tlp};
use ipnet::IpNet;

/// One indicator to export. Plain data: the caller fills it from whatever
/// it read (the binary converts the store's summaries).
///
/// `value` is expected in cordon's canonical form for its `kind` (see
/// [`cordon_model::Observable`]); a value that does not parse as its kind
/// is treated as one the format cannot carry, never as a reason to fail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The canonical value: an address, a CIDR, a domain or a URL.
    pub value: String,
    /// Its kind.
    pub kind: Kind,
    /// Its categories, sorted, distinct.
    pub categories: Vec<Category>,
    /// The sources that reported it, sorted, distinct.
    pub sources: Vec<String>,
    /// The most restrictive TLP among the sightings the export may show:
    /// the entry names their sources and categories, so it is as sensitive
    /// as the most sensitive of them.
    pub tlp: Tlp,
    /// Combined confidence, 0–100.
    pub confidence: u8,
    /// The earliest first-seen.
    pub first_seen: Timestamp,
    /// The latest last-seen.
    pub last_seen: Timestamp,
    /// For a URL: its host is a shared platform (file hosting, pastes, URL
    /// shorteners, link-in-bio, top sites). The URL is exported where a
    /// format carries URLs, its host never as a DNS name to block.
    pub on_platform: bool,
}

/// A DNS name to block, from a domain or a URL's host.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct DnsName {
    /// The name, lowercase, without a trailing dot.
    pub(crate) name: String,
    /// Whether names below it are blocked too: true for a domain
    /// indicator, false for the host of a URL (a URL condemns its server,
    /// not every sibling under the same parent).
    pub(crate) subdomains: bool,
}

impl Entry {
    /// Whether the entry is of `category`; an entry without categories
    /// counts as [`Category::Other`], so that formats that group by
    /// category never drop it.
    pub(crate) fn in_category(&self, category: Category) -> bool {
        self.categories.contains(&category) || (self.categories.is_empty() && category == Category::Other)
    }

    /// The network of an address or CIDR entry; `None` for other kinds and
    /// for values that do not parse as their kind.
    pub(crate) fn network(&self) -> Option<IpNet> {
        match self.kind {
            Kind::Ipv4 => self.value.parse::<IpAddr>().ok().filter(IpAddr::is_ipv4).map(IpNet::from),
            Kind::Ipv6 => self.value.parse::<IpAddr>().ok().filter(IpAddr::is_ipv6).map(IpNet::from),
            Kind::Cidr => self.value.parse::<IpNet>().ok().map(|net| net.trunc()),
            Kind::Domain | Kind::Url => None,
        }
    }

    /// The DNS name a domain entry or a URL entry's host stands for; `None`
    /// for addresses, URLs on an address or on a platform
    /// ([`Entry::on_platform`]), and names that are not plain LDH labels
    /// (which a zone file or hosts file could not carry as is).
    pub(crate) fn dns_name(&self) -> Option<DnsName> {
        let (name, subdomains) = match self.kind {
            Kind::Domain => (self.value.clone(), true),
            Kind::Url if self.on_platform => return None,
            Kind::Url => match Observable::Url(self.value.clone()).url_host()? {
                Observable::Domain(host) => (host, false),
                _ => return None,
            },
            Kind::Ipv4 | Kind::Ipv6 | Kind::Cidr => return None,
        };
        let plain = |label: &str| {
            !label.is_empty()
                && label.len() <= 63
                && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        };
        (name.len() <= 253 && name.split('.').all(plain)).then_some(DnsName { name, subdomains })
    }
}
