//! Flags: what to be careful about before acting on an address or a domain,
//! each with a reason a person can read.

use std::fmt;
use std::net::IpAddr;

use cordon_model::{ip_not_targetable, Kind, Observable, SkipReason};

use crate::{Allowlist, GeoInfo, Hosting, Subject, Warninglists};

/// The default for [`FlagConfig::shared_hosting_threshold`].
pub const DEFAULT_SHARED_HOSTING_THRESHOLD: usize = 20;

/// Public DNS resolvers that the MISP warninglists miss (checked against
/// pymispwarninglists 1.7.0's `public-dns-v4` and `public-dns-v6`):
/// (address, service). Every other resolver comes from the lists (see
/// [`crate::Warninglists`]), so without them only these are flagged.
pub const RESOLVERS_NOT_IN_WARNINGLISTS: &[(&str, &str)] =
    &[("2606:4700:4700::1001", "Cloudflare DNS"), ("2620:119:53::53", "Cisco OpenDNS")];

/// The service of a resolver in [`RESOLVERS_NOT_IN_WARNINGLISTS`].
fn fallback_resolver(ip: IpAddr) -> Option<&'static str> {
    RESOLVERS_NOT_IN_WARNINGLISTS
        .iter()
        .find(|(addr, _)| addr.parse::<IpAddr>().is_ok_and(|a| a == ip))
        .map(|(_, service)| *service)
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
    /// A research or commercial Internet scanner (Censys, Shodan, ONYPHE,
    /// ...; from the warninglists): not a takedown target.
    ResearchScanner,
    /// A sinkhole (from the warninglists).
    Sinkhole,
    /// A shared platform: file hosting, pastes, URL shorteners, link-in-bio
    /// (from the warninglists). Its name and servers are never targets;
    /// the URLs on it are, at URL level.
    SharedPlatform,
    /// One of the most visited sites (from the warninglists); like a
    /// shared platform, the URLs on it stay listed.
    TopSite,
    /// In another MISP warninglist that calls for leaving it alone (Tor,
    /// a dynamic DNS provider's own domain); the reason names the list.
    Warninglist,
}

impl FlagKind {
    /// The flags that condemn a name but not the URLs under it: a URL
    /// whose host has one of these is not flagged for it.
    pub const URL_LEVEL: [FlagKind; 2] = [FlagKind::SharedPlatform, FlagKind::TopSite];

    /// The flag's key: `bogon:<kind>`, `cdn`, `public-resolver`,
    /// `shared-hosting`, `allowlisted`, `research-scanner`, `sinkhole`,
    /// `shared-platform`, `top-site`, `warninglist`.
    pub fn key(self) -> &'static str {
        match self {
            FlagKind::Bogon(reason) => reason.key(),
            FlagKind::Cdn => "cdn",
            FlagKind::PublicResolver => "public-resolver",
            FlagKind::SharedHosting => "shared-hosting",
            FlagKind::Allowlisted => "allowlisted",
            FlagKind::ResearchScanner => "research-scanner",
            FlagKind::Sinkhole => "sinkhole",
            FlagKind::SharedPlatform => "shared-platform",
            FlagKind::TopSite => "top-site",
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
    /// The MISP warninglists, when loaded: their hits become flags
    /// ([`crate::Hit::flag`]).
    pub warninglists: Option<&'a Warninglists>,
}

impl<'a> FlagConfig<'a> {
    /// The configuration with the default threshold and no warninglists.
    pub fn new(allowlist: &'a Allowlist) -> FlagConfig<'a> {
        FlagConfig { allowlist, shared_hosting_threshold: DEFAULT_SHARED_HOSTING_THRESHOLD, warninglists: None }
    }
}

/// The flags of the warninglists' hits on `observable`, one per kind (the
/// first list's), in list order. A URL is not flagged for a
/// [`FlagKind::URL_LEVEL`] hit on its host.
fn warninglist_flags(observable: &Observable, config: &FlagConfig<'_>) -> Vec<Flag> {
    let Some(lists) = config.warninglists else { return Vec::new() };
    let mut flags: Vec<Flag> = Vec::new();
    for hit in lists.check(observable) {
        let Some(flag) = hit.flag() else { continue };
        let spared = hit.subject == Subject::UrlHost && FlagKind::URL_LEVEL.contains(&flag.kind);
        if !spared && !flags.iter().any(|f| f.kind == flag.kind) {
            flags.push(flag);
        }
    }
    flags
}

/// Removes and returns the flag of `kind` from `flags`.
fn take(flags: &mut Vec<Flag>, kind: FlagKind) -> Option<Flag> {
    flags.iter().position(|f| f.kind == kind).map(|at| flags.remove(at))
}

/// The flags of `ip`, in a fixed order (bogon, allowlisted, public-resolver,
/// cdn, shared-hosting, then the other warninglist flags in list order).
/// Public resolvers and CDNs come from the warninglists when they are
/// loaded, CDNs also from `hosting`. `geo` names the network in reasons; `hosting` is the
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
    let mut listed = warninglist_flags(&Observable::Ip(ip), config);
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
    let resolver = take(&mut listed, FlagKind::PublicResolver).or_else(|| {
        let service = fallback_resolver(ip)?;
        let reason = format!("{ip} is a public DNS resolver ({service}) used by millions: never block it");
        Some(Flag { kind: FlagKind::PublicResolver, reason })
    });
    flags.extend(resolver);
    let listed_cdn = take(&mut listed, FlagKind::Cdn);
    if hosting == Hosting::Cdn {
        let network = geo.map_or_else(String::new, |g| {
            let org = g.org.unwrap_or("unknown organisation");
            g.asn.map_or_else(|| format!(" ({org})"), |asn| format!(" in AS{asn} ({org})"))
        });
        let reason = format!(
            "{ip} belongs to a CDN{network}: it fronts many unrelated sites; act on the domain or report to the CDN, not the address"
        );
        flags.push(Flag { kind: FlagKind::Cdn, reason });
    } else {
        flags.extend(listed_cdn);
    }
    if linked_domains >= config.shared_hosting_threshold {
        let reason = format!(
            "{linked_domains} distinct domains point at {ip} (threshold {}): blocking it would hit unrelated sites",
            config.shared_hosting_threshold
        );
        flags.push(Flag { kind: FlagKind::SharedHosting, reason });
    }
    flags.extend(listed);
    flags
}

/// The flags of a domain: `allowlisted` when it or a parent is listed,
/// then its warninglist flags.
pub fn domain_flags(domain: &str, config: &FlagConfig<'_>) -> Vec<Flag> {
    let mut flags: Vec<Flag> = config
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
        .collect();
    flags.extend(warninglist_flags(&Observable::Domain(domain.to_string()), config));
    flags
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
        Kind::Url => {
            let url = Observable::Url(value.to_string());
            let host_only = FlagConfig { warninglists: None, ..*config };
            let mut flags = match url.url_host() {
                Some(Observable::Ip(ip)) => ip_flags(ip, None, Hosting::Unknown, 0, &host_only),
                Some(Observable::Domain(domain)) => domain_flags(&domain, &host_only),
                _ => Vec::new(),
            };
            for flag in warninglist_flags(&url, config) {
                if !flags.iter().any(|f| f.kind == flag.kind) {
                    flags.push(flag);
                }
            }
            flags
        }
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
        assert!(ip_flags("8.8.8.8".parse().unwrap(), None, Hosting::Cloud, 0, &config).is_empty(), "without lists");
        let fallback = ip_flags("2620:119:53::53".parse().unwrap(), None, Hosting::Cloud, 0, &config);
        assert_eq!(keys(&fallback), ["public-resolver"]);
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
        assert_eq!(check(Kind::Ipv6, "2606:4700:4700::1001"), ["public-resolver"]);
        assert_eq!(check(Kind::Cidr, "51.0.0.0/8"), ["allowlisted"]);
        assert_eq!(check(Kind::Cidr, "51.38.7.0/24"), ["allowlisted"]);
        assert!(check(Kind::Cidr, "52.0.0.0/8").is_empty());
        assert_eq!(check(Kind::Domain, "www.example.net"), ["allowlisted"]);
        assert_eq!(check(Kind::Url, "http://www.example.net/x"), ["allowlisted"]);
        assert_eq!(check(Kind::Url, "http://51.38.9.9/x"), ["allowlisted"]);
        assert!(check(Kind::Url, "http://evil.example/x").is_empty());
    }

    #[test]
    fn every_fallback_resolver_parses() {
        assert!(RESOLVERS_NOT_IN_WARNINGLISTS.iter().all(|(a, _)| a.parse::<IpAddr>().is_ok()));
    }
}
