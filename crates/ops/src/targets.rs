//! Turning an operation's indicators into takedown targets.
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
//!   removes the content, so the target goes to the platform's abuse desk
//!   (a `domain` contact of the URL's host or a parent domain), else to
//!   that of the network the feeds linked the URL to. The platform's name is never a target (it is
//!   flagged) and neither is an address the feeds tie to a platform URL or
//!   name (counted as `platform-server`): it is the platform's server.
//!
//! Flagged indicators (CDN, public resolver, research scanner, allowlisted,
//! bogon, shared hosting, ...: a flag in their enrichment, or one that
//! [`cordon_enrich::offline_flags`] finds without geo data, so that the
//! allowlist and the warninglists hold before enrichment has run) never
//! become targets or members; they are counted by their first flag. A URL left without any
//! target (its host was flagged) is counted as `host-flagged`.
//!
//! Planning streams: [`Planner`] takes the scope a batch at a time in
//! [`SCOPE_ORDER`](cordon_store::ops::SCOPE_ORDER) (addresses, networks, domains, URLs, each by value) and
//! keeps across batches only what links need: the verdict of each linked
//! indicator, their neighbours and the names already covered, so its memory
//! follows the links, not the store.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use cordon_enrich::{domain_flags, offline_flags, ContactBook, Country, FlagConfig, FlagKind};
use cordon_model::{Kind, Observable};
use cordon_store::ops::{ContactRef, OpIndicator, OpsStore, TargetKind, TargetSpec};
use cordon_store::StoreError;

/// Why an address the feeds tie to a URL or name of a shared platform is
/// left out of targets (and of exports): it is the platform's server.
pub const PLATFORM_SERVER: &str = "platform-server";

/// Groups an operation's indicators into targets as
/// [`OpsStore::scope_each`] hands them over. Flagged indicators are left
/// out (and counted) unless `include_flagged` (`--include-flagged`).
pub struct Planner<'a> {
    contacts: &'a ContactBook,
    config: &'a FlagConfig<'a>,
    include_flagged: bool,
    /// Every indicator a link touches, with its verdict.
    linked: HashMap<i64, Linked>,
    /// Links between grouped (usable, not platform) indicators.
    neighbours: HashMap<i64, BTreeSet<i64>>,
    /// Linked names already a member or key of a target.
    covered: HashSet<i64>,
    left_out: BTreeMap<String, u64>,
    /// Usable URLs left without any target.
    orphans: u64,
}

/// What planning knows of a linked indicator.
struct Linked {
    kind: Kind,
    usable: bool,
    platform: bool,
}

impl<'a> Planner<'a> {
    /// Reads the operation's links and the verdicts of the indicators they
    /// touch (`batch` at a time); `config` holds the allowlist and the
    /// warninglists.
    pub fn new(
        store: &dyn OpsStore,
        operation_id: i64,
        contacts: &'a ContactBook,
        config: &'a FlagConfig<'a>,
        include_flagged: bool,
        batch: usize,
    ) -> Result<Planner<'a>, StoreError> {
        let mut planner = Planner {
            contacts,
            config,
            include_flagged,
            linked: HashMap::new(),
            neighbours: HashMap::new(),
            covered: HashSet::new(),
            left_out: BTreeMap::new(),
            orphans: 0,
        };
        let links = store.scope_links(operation_id)?;
        let mut ids: Vec<i64> = links.iter().flat_map(|(a, b)| [*a, *b]).collect();
        ids.sort_unstable();
        ids.dedup();
        for chunk in ids.chunks(batch.max(1)) {
            for indicator in store.scope_indicators(operation_id, chunk)? {
                let (usable, platform) = planner.verdict(&indicator);
                planner.linked.insert(indicator.id, Linked { kind: indicator.kind, usable, platform });
            }
        }
        // An address tied to a platform's URL or name is its server.
        for (a, b) in &links {
            for (ip, other) in [(a, b), (b, a)] {
                let other_on_platform = planner.linked.get(other).is_some_and(|l| l.platform);
                let Some(address) = planner.linked.get_mut(ip) else { continue };
                if matches!(address.kind, Kind::Ipv4 | Kind::Ipv6)
                    && other_on_platform
                    && !include_flagged
                    && address.usable
                {
                    address.usable = false;
                    *planner.left_out.entry(PLATFORM_SERVER.to_string()).or_insert(0) += 1;
                }
            }
        }
        let grouped = |id: &i64| planner.linked.get(id).is_some_and(|l| l.usable && !l.platform);
        let mut neighbours: HashMap<i64, BTreeSet<i64>> = HashMap::new();
        for (a, b) in links.iter().filter(|(a, b)| grouped(a) && grouped(b)) {
            neighbours.entry(*a).or_default().insert(*b);
            neighbours.entry(*b).or_default().insert(*a);
        }
        planner.neighbours = neighbours;
        Ok(planner)
    }

    /// The targets keyed by the indicators of `batch`, the next batch of
    /// [`OpsStore::scope_each`], in its order; their members are read from
    /// the store.
    pub fn plan(
        &mut self,
        store: &dyn OpsStore,
        operation_id: i64,
        batch: &[OpIndicator],
    ) -> Result<Vec<TargetSpec>, StoreError> {
        let mut keys: Vec<(TargetKind, &OpIndicator, BTreeSet<i64>)> = Vec::new();
        for indicator in batch {
            let (usable, platform) = match self.linked.get(&indicator.id) {
                Some(linked) => (linked.usable, linked.platform),
                None => self.verdict(indicator),
            };
            if !usable {
                continue;
            }
            match indicator.kind {
                Kind::Ipv4 | Kind::Ipv6 => {
                    let mut members = BTreeSet::new();
                    for first in self.near(indicator.id) {
                        members.insert(first);
                        members.extend(self.near(first));
                    }
                    self.covered.extend(members.iter().copied());
                    keys.push((TargetKind::Server, indicator, members));
                }
                Kind::Cidr => keys.push((TargetKind::Network, indicator, BTreeSet::new())),
                Kind::Domain => {
                    if platform || self.covered.contains(&indicator.id) {
                        continue;
                    }
                    let members: BTreeSet<i64> =
                        self.near(indicator.id).filter(|n| !self.covered.contains(n)).collect();
                    if self.linked.contains_key(&indicator.id) {
                        self.covered.insert(indicator.id);
                    }
                    self.covered.extend(members.iter().copied());
                    keys.push((TargetKind::Domain, indicator, members));
                }
                Kind::Url if platform => keys.push((TargetKind::Url, indicator, BTreeSet::new())),
                Kind::Url => {
                    if !self.covered.contains(&indicator.id) {
                        self.orphans += 1;
                    }
                }
            }
        }
        let wanted: Vec<i64> = keys.iter().flat_map(|(_, _, members)| members.iter().copied()).collect();
        let members: HashMap<i64, OpIndicator> =
            store.scope_indicators(operation_id, &wanted)?.into_iter().map(|i| (i.id, i)).collect();
        Ok(keys.into_iter().map(|(kind, key, ids)| spec(kind, key, &ids, &members, self.contacts)).collect())
    }

    /// Indicators left out, by reason (the flag's name; `platform-server`;
    /// `host-flagged` for URLs left without any target because their host
    /// was flagged), once every batch is planned.
    pub fn left_out(mut self) -> BTreeMap<String, u64> {
        if self.orphans > 0 {
            self.left_out.insert("host-flagged".to_string(), self.orphans);
        }
        self.left_out
    }

    /// Whether `indicator` may be a target (counting it left out if not)
    /// and whether it is a shared platform's name or a URL on one.
    fn verdict(&mut self, indicator: &OpIndicator) -> (bool, bool) {
        let url_level = |key: &str| FlagKind::URL_LEVEL.iter().any(|kind| kind.key() == key);
        let mut flags = indicator.flags.clone();
        flags.extend(
            offline_flags(indicator.kind, &indicator.value, self.config).iter().map(|f| f.kind.key().to_string()),
        );
        let platform = match indicator.kind {
            Kind::Domain => flags.iter().any(|f| url_level(f)),
            Kind::Url => match Observable::Url(indicator.value.clone()).url_host() {
                Some(Observable::Domain(host)) => {
                    domain_flags(&host, self.config).iter().any(|f| url_level(f.kind.key()))
                }
                _ => false,
            },
            _ => false,
        };
        match flags.first() {
            Some(flag) if !self.include_flagged => {
                *self.left_out.entry(flag.clone()).or_insert(0) += 1;
                (false, platform)
            }
            _ => (true, platform),
        }
    }

    /// The names (domains, URLs) grouped with `id`.
    fn near(&self, id: i64) -> impl Iterator<Item = i64> + '_ {
        self.neighbours
            .get(&id)
            .into_iter()
            .flatten()
            .copied()
            .filter(|n| self.linked.get(n).is_some_and(|l| matches!(l.kind, Kind::Domain | Kind::Url)))
    }
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

/// The domain host of a URL, if it has one.
fn platform_host(url: &str) -> Option<String> {
    match Observable::Url(url.to_string()).url_host() {
        Some(Observable::Domain(host)) => Some(host),
        _ => None,
    }
}

/// One target: its key indicator's enrichment and contacts, everything
/// else aggregated over the key and its members.
fn spec(
    kind: TargetKind,
    key: &OpIndicator,
    members: &BTreeSet<i64>,
    by_id: &HashMap<i64, OpIndicator>,
    contacts: &ContactBook,
) -> TargetSpec {
    let all: Vec<&OpIndicator> =
        std::iter::once(key).chain(members.iter().filter(|m| **m != key.id).filter_map(|m| by_id.get(m))).collect();
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
    let by_network = || match address {
        Some(ip) => contacts.prefix_contact(ip).or_else(by_asn),
        None if kind == TargetKind::Url => by_asn(),
        None => None,
    };
    // A URL on a platform goes to the platform's abuse desk (a `domain`
    // contact of its host or a parent), else to that of the network the
    // feeds linked it to.
    let provider = match kind {
        TargetKind::Url => platform_host(&key.value).and_then(|host| contacts.platform_contact(&host)),
        _ => None,
    }
    .or_else(by_network)
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
