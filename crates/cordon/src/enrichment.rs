//! Enrichment of the store: ASN, organisation, country, hosting type and
//! "do not take down" flags for every indicator, from the geo snapshot, the
//! built-in hosting table and the stored allowlist.
//!
//! Domains and URLs are enriched through the addresses the feeds linked to
//! them (a URL's host, PhishTank's hosting IP, MISP `domain|ip`): an
//! observable is linked to another when a sighting derives one from the
//! other, and to the other's links in turn (a domain and an IP that came
//! from one URL are linked through it).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::path::Path;

use anyhow::Context;
use cordon_enrich::{domain_flags, ip_flags, Allowlist, Contact, ContactBook, Flag, FlagConfig, GeoDb, HostingTable};
use cordon_model::{Kind, Observable};
use cordon_store::enrichment::{Enrichment, EnrichmentStore, IndicatorRef};
use cordon_store::SqliteStore;

/// What a run of [`enrich_store`] did.
#[derive(Debug, Default)]
pub(crate) struct EnrichSummary {
    /// Indicators enriched.
    pub(crate) indicators: u64,
    /// Indicators for which the snapshot knew no network.
    pub(crate) unknown_network: u64,
    /// Flagged indicators per flag.
    pub(crate) flagged: BTreeMap<String, u64>,
}

/// Everything enrichment reads besides the indicators.
pub(crate) struct Enricher {
    geo: GeoDb,
    hosting: HostingTable,
    allowlist: Allowlist,
}

/// The stored allowlist as the enrichment engine reads it.
pub(crate) fn load_allowlist(store: &SqliteStore) -> anyhow::Result<Allowlist> {
    let mut list = Allowlist::default();
    for entry in store.allowlist()? {
        list.insert(&entry.value, &entry.reason).map_err(|e| anyhow::anyhow!("stored allowlist entry: {e}"))?;
    }
    Ok(list)
}

/// The stored contacts as a routing book.
pub(crate) fn load_contacts(store: &SqliteStore) -> anyhow::Result<ContactBook> {
    let mut book = ContactBook::default();
    for c in store.contacts()? {
        let fields = [
            c.kind.as_str(),
            c.key.as_str(),
            c.name.as_str(),
            c.email.as_str(),
            c.pgp_fingerprint.as_deref().unwrap_or(""),
            c.language.as_deref().unwrap_or(""),
        ];
        let contact = Contact::from_fields(&fields).map_err(|e| anyhow::anyhow!("stored contact {}: {e}", c.key))?;
        book.insert(contact);
    }
    Ok(book)
}

impl Enricher {
    /// Loads the snapshot at `snapshot` and the store's allowlist.
    pub(crate) fn load(store: &SqliteStore, snapshot: &Path) -> anyhow::Result<Enricher> {
        let geo = GeoDb::load(snapshot).with_context(|| {
            format!(
                "no usable geo snapshot at {} (build one with `cordon geo fetch` then `cordon geo import data/geo/…`)",
                snapshot.display()
            )
        })?;
        Ok(Enricher { geo, hosting: HostingTable::builtin(), allowlist: load_allowlist(store)? })
    }

    /// The enrichment of one address, given how many distinct domains the
    /// feeds link to it.
    pub(crate) fn enrich_ip(&self, ip: IpAddr, linked_domains: usize) -> Enrichment {
        let info = self.geo.lookup(ip);
        let asn = info.as_ref().and_then(|i| i.asn);
        let hosting = asn.map_or(cordon_enrich::Hosting::Unknown, |a| self.hosting.classify(a));
        let flags = ip_flags(ip, info.as_ref(), hosting, linked_domains, &FlagConfig::new(&self.allowlist));
        Enrichment {
            network: info.as_ref().map(|i| range_text(i.first, i.last)),
            asn,
            as_org: info.as_ref().and_then(|i| i.org.map(str::to_string)),
            country: info.as_ref().and_then(|i| i.country.map(|c| c.to_string())),
            hosting: hosting.as_str().to_string(),
            flags: flag_pairs(flags),
        }
    }

    /// The flags of a domain (allowlisted, or under an allowlisted parent).
    pub(crate) fn domain_flags(&self, domain: &str) -> Vec<(String, String)> {
        flag_pairs(domain_flags(domain, &FlagConfig::new(&self.allowlist)))
    }

    /// The routing book's view of an address.
    pub(crate) fn route(&self, contacts: &ContactBook, ip: IpAddr) -> cordon_enrich::Route {
        let info = self.geo.lookup(ip);
        let hosting =
            info.as_ref().and_then(|i| i.asn).map_or(cordon_enrich::Hosting::Unknown, |a| self.hosting.classify(a));
        contacts.route(ip, info.as_ref(), hosting)
    }
}

fn flag_pairs(flags: Vec<Flag>) -> Vec<(String, String)> {
    flags.into_iter().map(|f| (f.kind.key().to_string(), f.reason)).collect()
}

/// A network as the smallest CIDR list text: one CIDR when the range is
/// one, else `first-last`.
fn range_text(first: IpAddr, last: IpAddr) -> String {
    let nets: Vec<ipnet::IpNet> = match (first, last) {
        (IpAddr::V4(a), IpAddr::V4(b)) => ipnet::Ipv4Subnets::new(a, b, 0).map(ipnet::IpNet::V4).collect(),
        (IpAddr::V6(a), IpAddr::V6(b)) => ipnet::Ipv6Subnets::new(a, b, 0).map(ipnet::IpNet::V6).collect(),
        _ => Vec::new(),
    };
    match nets.as_slice() {
        [one] => one.to_string(),
        _ => format!("{first}-{last}"),
    }
}

/// The store's link graph: for each indicator, its neighbours.
pub(crate) struct Links {
    neighbours: HashMap<i64, Vec<i64>>,
}

impl Links {
    pub(crate) fn load(store: &SqliteStore) -> anyhow::Result<Links> {
        let mut neighbours: HashMap<i64, Vec<i64>> = HashMap::new();
        for (a, b) in store.links()? {
            neighbours.entry(a).or_default().push(b);
            neighbours.entry(b).or_default().push(a);
        }
        Ok(Links { neighbours })
    }

    /// Indicators within two links of `id` (its neighbours, and theirs).
    pub(crate) fn near(&self, id: i64) -> BTreeSet<i64> {
        let mut out = BTreeSet::new();
        for n in self.neighbours.get(&id).into_iter().flatten() {
            out.insert(*n);
            out.extend(self.neighbours.get(n).into_iter().flatten().copied());
        }
        out.remove(&id);
        out
    }
}

/// The address an indicator stands for, when it stands for one: itself, a
/// CIDR's network address, or a URL's IP host.
fn own_ip(r: &IndicatorRef) -> Option<IpAddr> {
    match r.kind {
        Kind::Ipv4 | Kind::Ipv6 => r.value.parse().ok(),
        Kind::Cidr => r.value.parse::<ipnet::IpNet>().ok().map(|n| n.network()),
        Kind::Url => match Observable::Url(r.value.clone()).url_host() {
            Some(Observable::Ip(ip)) => Some(ip),
            _ => None,
        },
        Kind::Domain => None,
    }
}

/// The domain an indicator names: itself or a URL's domain host.
fn own_domain(r: &IndicatorRef) -> Option<String> {
    match r.kind {
        Kind::Domain => Some(r.value.clone()),
        Kind::Url => match Observable::Url(r.value.clone()).url_host() {
            Some(Observable::Domain(d)) => Some(d),
            _ => None,
        },
        _ => None,
    }
}

/// Which indicators a run of [`enrich_store`] covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Every indicator (after the geo data or the allowlist changed).
    All,
    /// What the given imports may have changed: the indicators with a
    /// sighting they created, those never enriched, and everything within
    /// two links of these (a new domain changes its IP's count of linked
    /// domains; a new IP gives its domains a network).
    Imports(Vec<i64>),
}

/// Enriches the indicators in `scope` and records the results.
pub(crate) fn enrich_store(store: &mut SqliteStore, snapshot: &Path, scope: &Scope) -> anyhow::Result<EnrichSummary> {
    let enricher = Enricher::load(store, snapshot)?;
    let links = Links::load(store)?;
    let mut refs = Vec::new();
    store.indicator_refs(&mut |r| refs.push(r))?;
    let by_id: HashMap<i64, &IndicatorRef> = refs.iter().map(|r| (r.id, r)).collect();
    let covered: Option<BTreeSet<i64>> = match scope {
        Scope::All => None,
        Scope::Imports(imports) => {
            let stale = store.stale_indicators(imports)?;
            Some(stale.iter().flat_map(|&id| links.near(id).into_iter().chain([id])).collect())
        }
    };
    let refs: Vec<&IndicatorRef> =
        refs.iter().filter(|r| covered.as_ref().is_none_or(|ids| ids.contains(&r.id))).collect();
    let mut summary = EnrichSummary::default();
    let mut rows = Vec::with_capacity(refs.len());
    let progress = progress_bar(refs.len() as u64);
    for &r in &refs {
        progress.inc(1);
        let near = links.near(r.id);
        let near_refs = || near.iter().filter_map(|id| by_id.get(id).copied());
        let mut enrichment = match own_ip(r) {
            Some(ip) => {
                let domains: BTreeSet<String> = near_refs().filter_map(own_domain).collect();
                enricher.enrich_ip(ip, if r.kind == Kind::Url { 0 } else { domains.len() })
            }
            None => match near_refs().find_map(own_ip) {
                Some(ip) => Enrichment { flags: Vec::new(), ..enricher.enrich_ip(ip, 0) },
                None => Enrichment { hosting: "unknown".into(), ..Enrichment::default() },
            },
        };
        if let Some(domain) = own_domain(r) {
            enrichment.flags.extend(enricher.domain_flags(&domain));
        }
        if enrichment.network.is_none() {
            summary.unknown_network += 1;
        }
        for (flag, _) in &enrichment.flags {
            *summary.flagged.entry(flag.clone()).or_default() += 1;
        }
        summary.indicators += 1;
        rows.push((r.id, enrichment));
    }
    progress.finish_and_clear();
    store.write_enrichment(&rows)?;
    Ok(summary)
}

/// A progress bar on stderr for large stores, hidden otherwise.
fn progress_bar(len: u64) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if len < PROGRESS_MIN_INDICATORS || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) = indicatif::ProgressStyle::with_template("enriching [{bar:40}] {pos}/{len} ({eta})") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Stores with at least this many indicators show enrichment progress.
const PROGRESS_MIN_INDICATORS: u64 = 100_000;
