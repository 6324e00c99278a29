//! Flags: what to be careful about before acting on an address or a domain,
//! each with a reason a person can read.

use std::fmt;
use std::net::IpAddr;

use cordon_model::{ip_not_targetable, Kind, Observable, SkipReason};

use crate::{Allowlist, GeoInfo, Hosting};

/// The default for [`FlagConfig::shared_hosting_threshold`].
pub const DEFAULT_SHARED_HOSTING_THRESHOLD: usize = 20;

/// Well-known public DNS resolvers: (address, service).
pub const PUBLIC_RESOLVERS: &[(&str, &str)] = &[
    ("8.8.8.8", "Google Public DNS"),
    ("8.8.4.4", "Google Public DNS"),
    ("2001:4860:4860::8888", "Google Public DNS"),
    ("2001:4860:4860::8844", "Google Public DNS"),
    ("1.1.1.1", "Cloudflare DNS"),
    ("1.0.0.1", "Cloudflare DNS"),
    ("1.1.1.2", "Cloudflare DNS for Families"),
    ("1.0.0.2", "Cloudflare DNS for Families"),
    ("1.1.1.3", "Cloudflare DNS for Families"),
    ("1.0.0.3", "Cloudflare DNS for Families"),
    ("2606:4700:4700::1111", "Cloudflare DNS"),
    ("2606:4700:4700::1001", "Cloudflare DNS"),
    ("9.9.9.9", "Quad9"),
    ("149.112.112.112", "Quad9"),
    ("9.9.9.10", "Quad9 (unfiltered)"),
    ("149.112.112.10", "Quad9 (unfiltered)"),
    ("9.9.9.11", "Quad9 (ECS)"),
    ("149.112.112.11", "Quad9 (ECS)"),
    ("2620:fe::fe", "Quad9"),
    ("2620:fe::9", "Quad9"),
    ("208.67.222.222", "Cisco OpenDNS"),
    ("208.67.220.220", "Cisco OpenDNS"),
    ("2620:119:35::35", "Cisco OpenDNS"),
    ("2620:119:53::53", "Cisco OpenDNS"),
    ("94.140.14.14", "AdGuard DNS"),
    ("94.140.15.15", "AdGuard DNS"),
    ("2a10:50c0::ad1:ff", "AdGuard DNS"),
    ("2a10:50c0::ad2:ff", "AdGuard DNS"),
    ("76.76.2.0", "Control D"),
    ("76.76.10.0", "Control D"),
    ("2606:1a40::", "Control D"),
    ("2606:1a40:1::", "Control D"),
    ("185.228.168.9", "CleanBrowsing"),
    ("185.228.169.9", "CleanBrowsing"),
    ("2a0d:2a00:1::2", "CleanBrowsing"),
    ("2a0d:2a00:2::2", "CleanBrowsing"),
    ("77.88.8.8", "Yandex DNS"),
    ("77.88.8.1", "Yandex DNS"),
];

/// The service of a public resolver's address: [`PUBLIC_RESOLVERS`] parsed
/// once (this runs for every indicator of an export).
fn public_resolver(ip: IpAddr) -> Option<&'static str> {
    static PARSED: std::sync::OnceLock<Vec<(IpAddr, &'static str)>> = std::sync::OnceLock::new();
    let parsed = PARSED.get_or_init(|| {
        let mut parsed: Vec<(IpAddr, &'static str)> =
            PUBLIC_RESOLVERS.iter().filter_map(|(addr, service)| Some((addr.parse().ok()?, *service))).collect();
        parsed.sort();
        parsed
    });
    let at = parsed.partition_point(|(addr, _)| *addr < ip);
    parsed.get(at).filter(|(addr, _)| *addr == ip).map(|(_, service)| *service)
}

/// What a flag warns about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FlagKind {
    /// Special-use address space: never a target.
    Bogon(SkipReason),
    /// The address belongs to a CDN and fronts many customers.
    Cdn,
    /// A well-known public DNS resolver.
    PublicResolver,
    /// Many distinct domains point at the address.
    SharedHosting,
    /// Listed in the allowlist.
    Allowlisted,
    /// In a MISP warninglist ([`crate::Warninglists`]); the reason names
    /// the list.
    Warninglist,
}

impl FlagKind {
    /// The flag's key: `bogon:<kind>`, `cdn`, `public-resolver`,
    /// `shared-hosting`, `allowlisted`, `warninglist`.
    pub fn key(self) -> &'static str {
        match self {
            FlagKind::Bogon(reason) => reason.key(),
            FlagKind::Cdn => "cdn",
            FlagKind::PublicResolver => "public-resolver",
            FlagKind::SharedHosting => "shared-hosting",
            FlagKind::Allowlisted => "allowlisted",
            FlagKind::Warninglist => "warninglist",
        }
    }
}

/// A flag and why it was raised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flag {
    /// What the flag warns about.
    pub kind: FlagKind,
    /// Why, in words a person can check.
    pub reason: String,
}

impl fmt::Display for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.key(), self.reason)
    }
}

/// What flags are computed against.
#[derive(Clone, Copy, Debug)]
pub struct FlagConfig<'a> {
    /// Networks and domains never to act on.
    pub allowlist: &'a Allowlist,
    /// From how many distinct linked domains an address is `shared-hosting`.
    pub shared_hosting_threshold: usize,
}

impl<'a> FlagConfig<'a> {
    /// The configuration with the default threshold.
    pub fn new(allowlist: &'a Allowlist) -> FlagConfig<'a> {
        FlagConfig { allowlist, shared_hosting_threshold: DEFAULT_SHARED_HOSTING_THRESHOLD }
    }
}

/// The flags of `ip`, in a fixed order (bogon, allowlisted, public-resolver,
/// cdn, shared-hosting). `geo` names the network in reasons; `hosting` is the
/// ASN's type ([`crate::HostingTable::classify`]); `linked_domains` is the
/// number of distinct domains the caller knows to resolve to `ip`.
pub fn ip_flags(
    ip: IpAddr,
    geo: Option<&GeoInfo<'_>>,
    hosting: Hosting,
    linked_domains: usize,
    config: &FlagConfig<'_>,
) -> Vec<Flag> {
    let mut flags = Vec::new();
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    };
    if let Some(reason) = ip_not_targetable(ip) {
        let why = format!(
            "{ip} is in special-use address space ({}): it cannot be anyone's server on the Internet",
            reason.key()
        );
        flags.push(Flag { kind: FlagKind::Bogon(reason), reason: why });
    }
    if let Some((net, reason)) = config.allowlist.match_ip(ip) {
        flags.push(Flag { kind: FlagKind::Allowlisted, reason: format!("{ip} is in allowlisted {net}: {reason}") });
    }
    if let Some(service) = public_resolver(ip) {
        let reason = format!("{ip} is a public DNS resolver ({service}) used by millions: never block it");
        flags.push(Flag { kind: FlagKind::PublicResolver, reason });
    }
    if hosting == Hosting::Cdn {
        let network = geo.map_or_else(String::new, |g| {
            let org = g.org.unwrap_or("unknown organisation");
            g.asn.map_or_else(|| format!(" ({org})"), |asn| format!(" in AS{asn} ({org})"))
        });
        let reason = format!(
            "{ip} belongs to a CDN{network}: it fronts many unrelated sites; act on the domain or report to the CDN, not the address"
        );
        flags.push(Flag { kind: FlagKind::Cdn, reason });
    }
    if linked_domains >= config.shared_hosting_threshold {
        let reason = format!(
            "{linked_domains} distinct domains point at {ip} (threshold {}): blocking it would hit unrelated sites",
            config.shared_hosting_threshold
        );
        flags.push(Flag { kind: FlagKind::SharedHosting, reason });
    }
    flags
}

/// The flags of a domain: `allowlisted` when it or a parent is listed.
pub fn domain_flags(domain: &str, config: &FlagConfig<'_>) -> Vec<Flag> {
    config
        .allowlist
        .match_domain(domain)
        .map(|hit| {
            let reason = if hit.entry == domain.trim_end_matches('.').to_ascii_lowercase() {
                format!("{domain} is allowlisted: {}", hit.reason)
            } else {
                format!("{domain} is under allowlisted {}: {}", hit.entry, hit.reason)
            };
            Flag { kind: FlagKind::Allowlisted, reason }
        })
        .into_iter()
        .collect()
}

/// The flags of an indicator that need no geo data: for an address,
/// bogon, allowlisted and public resolver; for a CIDR, those of its
/// addresses' allowlisted networks (any overlap) and of its network
/// address; for a domain, allowlisted; for a URL, those of its host.
///
/// Target planning and exports check these themselves, so the allowlist
/// holds whether or not enrichment has run.
pub fn offline_flags(kind: Kind, value: &str, config: &FlagConfig<'_>) -> Vec<Flag> {
    match kind {
        Kind::Ipv4 | Kind::Ipv6 => {
            value.parse().map(|ip| ip_flags(ip, None, Hosting::Unknown, 0, config)).unwrap_or_default()
        }
        Kind::Cidr => {
            let Ok(net) = value.parse::<ipnet::IpNet>() else { return Vec::new() };
            let mut flags = ip_flags(net.network(), None, Hosting::Unknown, 0, config);
            if !flags.iter().any(|f| f.kind == FlagKind::Allowlisted) {
                if let Some((listed, reason)) = config.allowlist.overlapping(net) {
                    let reason = format!("{net} overlaps allowlisted {listed}: {reason}");
                    flags.push(Flag { kind: FlagKind::Allowlisted, reason });
                }
            }
            flags
        }
        Kind::Domain => domain_flags(value, config),
        Kind::Url => match Observable::Url(value.to_string()).url_host() {
            Some(Observable::Ip(ip)) => ip_flags(ip, None, Hosting::Unknown, 0, config),
            Some(Observable::Domain(domain)) => domain_flags(&domain, config),
            _ => Vec::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(flags: &[Flag]) -> Vec<&'static str> {
        flags.iter().map(|f| f.kind.key()).collect()
    }

    #[test]
    fn resolver_bogon_shared_and_allowlisted() {
        let (allow, _) = Allowlist::from_csv("a.csv", "203.0.113.0/24,lab\nexample.net,ours\n");
        let config = FlagConfig::new(&allow);
        assert_eq!(keys(&ip_flags("8.8.8.8".parse().unwrap(), None, Hosting::Cloud, 0, &config)), ["public-resolver"]);
        assert_eq!(keys(&ip_flags("10.1.2.3".parse().unwrap(), None, Hosting::Unknown, 0, &config)), ["bogon:private"]);
        assert_eq!(
            keys(&ip_flags("203.0.113.5".parse().unwrap(), None, Hosting::Unknown, 25, &config)),
            ["bogon:documentation", "allowlisted", "shared-hosting"]
        );
        assert_eq!(
            keys(&ip_flags("::ffff:10.0.0.1".parse().unwrap(), None, Hosting::Unknown, 19, &config)),
            ["bogon:private"]
        );
        assert_eq!(keys(&domain_flags("a.b.example.net", &config)), ["allowlisted"]);
        assert!(domain_flags("example.com", &config).is_empty());
    }

    #[test]
    fn offline_flags_need_no_geo() {
        let (allow, _) = Allowlist::from_csv("a.csv", "51.38.0.0/16,ours\nexample.net,ours\n");
        let config = FlagConfig::new(&allow);
        let check = |kind, value| keys(&offline_flags(kind, value, &config));
        assert_eq!(check(Kind::Ipv4, "51.38.1.2"), ["allowlisted"]);
        assert_eq!(check(Kind::Ipv4, "8.8.8.8"), ["public-resolver"]);
        assert_eq!(check(Kind::Cidr, "51.0.0.0/8"), ["allowlisted"]);
        assert_eq!(check(Kind::Cidr, "51.38.7.0/24"), ["allowlisted"]);
        assert!(check(Kind::Cidr, "52.0.0.0/8").is_empty());
        assert_eq!(check(Kind::Domain, "www.example.net"), ["allowlisted"]);
        assert_eq!(check(Kind::Url, "http://www.example.net/x"), ["allowlisted"]);
        assert_eq!(check(Kind::Url, "http://51.38.9.9/x"), ["allowlisted"]);
        assert!(check(Kind::Url, "http://evil.example/x").is_empty());
    }

    #[test]
    fn every_resolver_parses() {
        assert!(PUBLIC_RESOLVERS.iter().all(|(a, _)| a.parse::<IpAddr>().is_ok()));
    }
}
