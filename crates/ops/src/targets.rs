//! Turning an operation's indicators into takedown targets (pure).
//!
//! * one **server** target per address, holding every domain and URL the
//!   feeds tie to it (the `derived_from` links, followed two steps so a
//!   URL's host domain comes along with the URL);
//! * one **network** target per CIDR listing;
//! * one **domain** target per domain no feed tied to an address, holding
//!   its URLs;
//! * one **URL** target per URL on a shared platform (a host with a
//!   [`FlagKind::URL_LEVEL`] flag: file hosting, pastes, URL shorteners,
//!   link-in-bio, top sites, from the MISP warninglists): the platform
//!   removes the content, routed by the URL's own enrichment (the network
//!   the feeds linked it to). The platform's name is never a target (it is
//!   flagged) and neither is an address the feeds tie to a platform URL or
//!   name (counted as `platform-server`): it is the platform's server.
//!
//! Flagged indicators (CDN, public resolver, research scanner, allowlisted,
//! bogon, shared hosting, ...: a flag in their enrichment, or one that
//! [`cordon_enrich::offline_flags`] finds without geo data, so that the
//! allowlist and the warninglists hold before enrichment has run) never
//! become targets or members; they are counted by their first flag. A URL left without any
//! target (its host was flagged) is counted as `host-flagged`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use cordon_enrich::{domain_flags, offline_flags, ContactBook, Country, FlagConfig, FlagKind};
use cordon_model::{Kind, Observable};
use cordon_store::ops::{ContactRef, OpIndicator, OpScope, TargetKind, TargetSpec};

/// Why an address the feeds tie to a URL or name of a shared platform is
/// left out of targets (and of exports): it is the platform's server.
pub const PLATFORM_SERVER: &str = "platform-server";

/// The targets an operation's scope yields, and what was left out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildPlan {
    /// The targets, sorted by kind then key.
    pub specs: Vec<TargetSpec>,
    /// Indicators left out, by reason (the flag's name).
    pub left_out: BTreeMap<String, u64>,
}

/// Groups the scope's indicators into targets. Flagged indicators are left
/// out (and counted) unless `include_flagged` (`--include-flagged`);
/// `config` holds the allowlist and the warninglists.
pub fn plan_targets(
    scope: &OpScope,
    contacts: &ContactBook,
    config: &FlagConfig<'_>,
    include_flagged: bool,
) -> BuildPlan {
    let by_id: HashMap<i64, &OpIndicator> = scope.indicators.iter().map(|i| (i.id, i)).collect();
    let mut left_out = BTreeMap::new();
    let mut usable = HashSet::new();
    // Platform names and the URLs on them.
    let mut platform: HashSet<i64> = HashSet::new();
    let url_level = |key: &str| FlagKind::URL_LEVEL.iter().any(|kind| kind.key() == key);
    for indicator in &scope.indicators {
        let mut flags = indicator.flags.clone();
        flags.extend(offline_flags(indicator.kind, &indicator.value, config).iter().map(|f| f.kind.key().to_string()));
        let on_platform = match indicator.kind {
            Kind::Domain => flags.iter().any(|f| url_level(f)),
            Kind::Url => match Observable::Url(indicator.value.clone()).url_host() {
                Some(Observable::Domain(host)) => domain_flags(&host, config).iter().any(|f| url_level(f.kind.key())),
                _ => false,
            },
            _ => false,
        };
        if on_platform {
            platform.insert(indicator.id);
        }
        match flags.first() {
            Some(flag) if !include_flagged => *left_out.entry(flag.clone()).or_insert(0) += 1,
            _ => {
                usable.insert(indicator.id);
            }
        }
    }
    let mut neighbours: HashMap<i64, BTreeSet<i64>> = HashMap::new();
    for (a, b) in &scope.links {
        let is_ip = |id: &i64| by_id.get(id).is_some_and(|i| matches!(i.kind, Kind::Ipv4 | Kind::Ipv6));
        for (ip, other) in [(a, b), (b, a)] {
            if is_ip(ip) && platform.contains(other) && !include_flagged && usable.remove(ip) {
                *left_out.entry(PLATFORM_SERVER.to_string()).or_insert(0) += 1;
            }
        }
    }
    for (a, b) in &scope.links {
        let grouped = |id: &i64| usable.contains(id) && !platform.contains(id);
        if grouped(a) && grouped(b) {
            neighbours.entry(*a).or_default().insert(*b);
            neighbours.entry(*b).or_default().insert(*a);
        }
    }
    let named = |id: &i64| by_id.get(id).is_some_and(|i| matches!(i.kind, Kind::Domain | Kind::Url));
    let near = |id: i64| neighbours.get(&id).into_iter().flatten().copied().filter(|n| named(n));

    let mut specs = Vec::new();
    let mut covered = HashSet::new();
    let usable_of = |kinds: &[Kind]| {
        let mut found: Vec<&OpIndicator> =
            scope.indicators.iter().filter(|i| usable.contains(&i.id) && kinds.contains(&i.kind)).collect();
        found.sort_by(|a, b| a.value.cmp(&b.value));
        found
    };
    for ip in usable_of(&[Kind::Ipv4, Kind::Ipv6]) {
        let mut members = BTreeSet::new();
        for first in near(ip.id) {
            members.insert(first);
            members.extend(near(first));
        }
        covered.extend(members.iter().copied());
        specs.push(spec(TargetKind::Server, ip, &members, &by_id, contacts));
    }
    for net in usable_of(&[Kind::Cidr]) {
        specs.push(spec(TargetKind::Network, net, &BTreeSet::new(), &by_id, contacts));
    }
    for domain in usable_of(&[Kind::Domain]) {
        if covered.contains(&domain.id) || platform.contains(&domain.id) {
            continue;
        }
        let members: BTreeSet<i64> = near(domain.id).filter(|n| !covered.contains(n)).collect();
        covered.insert(domain.id);
        covered.extend(members.iter().copied());
        specs.push(spec(TargetKind::Domain, domain, &members, &by_id, contacts));
    }
    for url in usable_of(&[Kind::Url]) {
        if platform.contains(&url.id) {
            covered.insert(url.id);
            specs.push(spec(TargetKind::Url, url, &BTreeSet::new(), &by_id, contacts));
        }
    }
    let orphans = usable_of(&[Kind::Url]).iter().filter(|u| !covered.contains(&u.id)).count();
    if orphans > 0 {
        left_out.insert("host-flagged".to_string(), orphans as u64);
    }
    BuildPlan { specs, left_out }
}

/// Malware families named case-insensitively ("Mirai" and "mirai" are one
/// family): each lower-cased name with the spelling shown for it, the
/// smallest of those seen (so a capitalised one, the same on every run).
pub fn family_spellings<'a>(names: impl Iterator<Item = &'a str>) -> BTreeMap<String, String> {
    let mut spellings: BTreeMap<String, String> = BTreeMap::new();
    for name in names {
        let shown = spellings.entry(name.to_lowercase()).or_insert_with(|| name.to_string());
        if name < shown.as_str() {
            *shown = name.to_string();
        }
    }
    spellings
}

/// One target: its key indicator's enrichment and contacts, everything
/// else aggregated over the key and its members.
fn spec(
    kind: TargetKind,
    key: &OpIndicator,
    members: &BTreeSet<i64>,
    by_id: &HashMap<i64, &OpIndicator>,
    contacts: &ContactBook,
) -> TargetSpec {
    let all: Vec<&OpIndicator> = std::iter::once(key)
        .chain(members.iter().filter(|m| **m != key.id).filter_map(|m| by_id.get(m).copied()))
        .collect();
    let union = |get: &dyn Fn(&OpIndicator) -> Vec<String>| -> Vec<String> {
        all.iter().flat_map(|i| get(i)).collect::<BTreeSet<_>>().into_iter().collect()
    };
    let address = match kind {
        TargetKind::Server => key.value.parse().ok(),
        TargetKind::Network => key.value.parse::<ipnet::IpNet>().ok().map(|n| n.network()),
        TargetKind::Domain => None,
        TargetKind::Url => match Observable::Url(key.value.clone()).url_host() {
            Some(Observable::Ip(ip)) => Some(ip),
            _ => None,
        },
    };
    let by_asn = || key.asn.and_then(|a| contacts.asn_contact(a));
    // A URL on a platform goes to the abuse desk of the network the feeds
    // linked it to (the platform's).
    let provider = match address {
        Some(ip) => contacts.prefix_contact(ip).or_else(by_asn),
        None if kind == TargetKind::Url => by_asn(),
        None => None,
    }
    .map(|c| ContactRef { name: c.name.clone(), email: c.email.clone() });
    let agency = key
        .country
        .as_deref()
        .and_then(|c| c.parse::<Country>().ok())
        .and_then(|c| contacts.agency(c))
        .map(|c| ContactRef { name: c.name.clone(), email: c.email.clone() });
    TargetSpec {
        key: key.value.clone(),
        kind,
        country: key.country.clone(),
        asn: key.asn,
        as_org: key.as_org.clone(),
        hosting: key.hosting.clone(),
        provider,
        agency,
        categories: all
            .iter()
            .flat_map(|i| i.categories.iter().copied())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        malware: family_spellings(all.iter().flat_map(|i| i.malware.iter().map(String::as_str)))
            .into_values()
            .collect(),
        partners: union(&|i| i.sources.clone()),
        ports: all.iter().flat_map(|i| i.ports.iter().copied()).collect::<BTreeSet<_>>().into_iter().collect(),
        first_seen: all.iter().map(|i| i.first_seen).min().unwrap_or(key.first_seen),
        last_seen: all.iter().map(|i| i.last_seen).max().unwrap_or(key.last_seen),
        last_import: all.iter().map(|i| i.last_import).max().unwrap_or(key.last_import),
        members: all.iter().map(|i| i.id).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_are_one_whatever_their_case() {
        let spellings = family_spellings(["mirai", "Mirai", "QakBot", "qakbot", "Sliver"].into_iter());
        let shown: Vec<&str> = spellings.values().map(String::as_str).collect();
        assert_eq!(shown, ["Mirai", "QakBot", "Sliver"]);
    }
}
