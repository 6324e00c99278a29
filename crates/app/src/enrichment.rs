//! Enrichment of the store: ASN, organisation, country, hosting type and
//! "do not take down" flags for every indicator, from the geo snapshot, the
//! built-in hosting table, the stored allowlist and the MISP warninglists
//! (when loaded). A URL is flagged for its host's flags, except those that
//! condemn a platform's name but not the URLs on it (`shared-platform`,
//! `top-site`).
//!
//! Domains and URLs are enriched through the addresses the feeds linked to
//! them (a URL's host, PhishTank's hosting IP, MISP `domain|ip`): an
//! observable is linked to another when a sighting derives one from the
//! other, and to the other's links in turn (a domain and an IP that came
//! from one URL are linked through it). Such enrichment is as sensitive as
//! the links it went through: the row records that TLP
//! ([`Enrichment::via`]) and readers see it only where they could see the
//! link. Of several linked addresses, the one reached through the least
//! restrictive links is used.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use cordon_enrich::{
    domain_flags, ip_flags, offline_flags, Allowlist, Contact, ContactBook, Flag, FlagConfig, FlagKind, GeoDb,
    HostingTable, Warninglists,
};
use cordon_model::{Kind, Observable, Tlp};
use cordon_store::enrichment::{AllowEntry, Enrichment, EnrichmentStore, IndicatorRef, Link};
use cordon_store::AnyStore;
use serde::Serialize;

use crate::warninglists::OfflineFlags;
use crate::AppError;

/// What a run of enrichment did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EnrichSummary {
    /// Indicators enriched.
    pub indicators: u64,
    /// Indicators for which the snapshot knew no network.
    pub unknown_network: u64,
    /// Flagged indicators per flag.
    pub flagged: BTreeMap<String, u64>,
    /// Whether geo data was there (else only flags that need none were
    /// recorded).
    pub geo: bool,
}

/// Everything enrichment reads besides the indicators.
pub struct Enricher {
    geo: GeoDb,
    hosting: HostingTable,
    allowlist: Allowlist,
    warninglists: Option<Arc<Warninglists>>,
}

/// The stored allowlist as the enrichment engine reads it.
pub(crate) fn load_allowlist(store: &AnyStore) -> Result<Allowlist, AppError> {
    allowlist_of(&store.allowlist()?)
}

/// The allowlist of stored `entries`.
pub(crate) fn allowlist_of(entries: &[AllowEntry]) -> Result<Allowlist, AppError> {
    let mut list = Allowlist::default();
    for entry in entries {
        list.insert(&entry.value, &entry.reason)
            .map_err(|e| AppError::Storage(format!("stored allowlist entry: {e}")))?;
    }
    Ok(list)
}

/// The stored contacts as a routing book.
pub(crate) fn load_contacts(store: &AnyStore) -> Result<ContactBook, AppError> {
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
        let contact =
            Contact::from_fields(&fields).map_err(|e| AppError::Storage(format!("stored contact {}: {e}", c.key)))?;
        book.insert(contact);
    }
    Ok(book)
}

impl Enricher {
    /// Loads the snapshot at `snapshot` and the store's allowlist; flags
    /// come from `warninglists` too.
    pub(crate) fn load(
        store: &AnyStore,
        snapshot: &Path,
        warninglists: Option<Arc<Warninglists>>,
    ) -> Result<Enricher, AppError> {
        let geo = GeoDb::load(snapshot).map_err(|e| {
            AppError::Invalid(format!("no usable geo snapshot at {} ({e}): {}", snapshot.display(), crate::GEO_HELP))
        })?;
        Ok(Enricher { geo, hosting: HostingTable::builtin(), allowlist: load_allowlist(store)?, warninglists })
    }

    fn config(&self) -> FlagConfig<'_> {
        FlagConfig { warninglists: self.warninglists.as_deref(), ..FlagConfig::new(&self.allowlist) }
    }

    /// The enrichment of one address, given how many distinct domains the
    /// feeds link to it.
    pub fn enrich_ip(&self, ip: IpAddr, linked_domains: usize) -> Enrichment {
        let info = self.geo.lookup(ip);
        let asn = info.as_ref().and_then(|i| i.asn);
        let hosting = asn.map_or(cordon_enrich::Hosting::Unknown, |a| self.hosting.classify(a));
        let flags = ip_flags(ip, info.as_ref(), hosting, linked_domains, &self.config());
        Enrichment {
            network: info.as_ref().map(|i| range_text(i.first, i.last)),
            asn,
            as_org: info.as_ref().and_then(|i| i.org.map(str::to_string)),
            country: info.as_ref().and_then(|i| i.country.map(|c| c.to_string())),
            hosting: hosting.as_str().to_string(),
            flags: flag_pairs(flags),
            via: None,
        }
    }

    /// The flags of a domain (allowlisted, or under an allowlisted parent;
    /// its warninglist flags).
    pub fn domain_flags(&self, domain: &str) -> Vec<(String, String)> {
        flag_pairs(domain_flags(domain, &self.config()))
    }

    /// The flags of a URL with a domain host: the host's, but for those
    /// that spare the URLs on a platform, and the URL's own.
    pub fn url_flags(&self, url: &str) -> Vec<(String, String)> {
        flag_pairs(offline_flags(Kind::Url, url, &self.config()))
    }

    /// Whether `host` is a shared platform's name (a flag that condemns
    /// the name but not the URLs on it: file hosting, shorteners, ...).
    pub fn on_platform(&self, host: &str) -> bool {
        domain_flags(host, &self.config()).iter().any(|f| FlagKind::URL_LEVEL.contains(&f.kind))
    }

    /// The routing book's view of an address.
    pub fn route(&self, contacts: &ContactBook, ip: IpAddr) -> cordon_enrich::Route {
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

/// Ids per neighbourhood read ([`EnrichmentStore::links_touching`],
/// [`EnrichmentStore::indicator_refs_of`]): PostgreSQL takes them as one
/// array parameter, SQLite reads each by its index.
const ID_BATCH: usize = 10_000;

/// Enrichment rows per write: results are written as they are made, so
/// memory holds one batch, not every row of the store. Enrichment is
/// derived data that a run rewrites whole, so a run cut short between two
/// batches leaves rows that the next run replaces.
const ROW_BATCH: usize = 10_000;

/// The store's link graph: for each indicator, its neighbours and the TLP
/// of the sightings that link them.
pub(crate) struct Links {
    neighbours: HashMap<i64, Vec<(i64, Tlp)>>,
}

impl Links {
    /// The graph of `links`.
    fn of(links: Vec<Link>) -> Links {
        let mut neighbours: HashMap<i64, Vec<(i64, Tlp)>> = HashMap::new();
        for link in links {
            neighbours.entry(link.derived).or_default().push((link.from, link.tlp));
            neighbours.entry(link.from).or_default().push((link.derived, link.tlp));
        }
        Links { neighbours }
    }

    /// The part of the graph that enriching `stale` and everything within
    /// two links of it reads, and the ids in it: [`Links::near`] of an
    /// indicator two links out walks two more, so the links of every
    /// indicator up to three links from `stale` are read, one ring at a
    /// time (a ring's links are the next ring's ids).
    fn around(store: &AnyStore, stale: &[i64]) -> Result<(Links, BTreeSet<i64>), AppError> {
        let mut known: BTreeSet<i64> = stale.iter().copied().collect();
        let mut ring: Vec<i64> = stale.to_vec();
        let mut links: BTreeMap<(i64, i64), Link> = BTreeMap::new();
        for _ in 0..4 {
            if ring.is_empty() {
                break;
            }
            let mut next = Vec::new();
            for chunk in ring.chunks(ID_BATCH) {
                for link in store.links_touching(chunk)? {
                    next.extend([link.derived, link.from].into_iter().filter(|&id| known.insert(id)));
                    links.insert((link.derived, link.from), link);
                }
            }
            ring = next;
        }
        Ok((Links::of(links.into_values().collect()), known))
    }

    /// Indicators within two links of `id` (its neighbours, and theirs),
    /// each with the least restrictive TLP at which the path to it can be
    /// known (the most restrictive link along the path).
    pub(crate) fn near(&self, id: i64) -> BTreeMap<i64, Tlp> {
        let mut out: BTreeMap<i64, Tlp> = BTreeMap::new();
        let mut reach = |to: i64, tlp: Tlp| {
            let best = out.entry(to).or_insert(tlp);
            *best = (*best).min(tlp);
        };
        for (n, first) in self.neighbours.get(&id).into_iter().flatten() {
            reach(*n, *first);
            for (m, second) in self.neighbours.get(n).into_iter().flatten() {
                reach(*m, (*first).max(*second));
            }
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

/// Which indicators a run of enrichment covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every indicator (after the geo data or the allowlist changed).
    All,
    /// What the given imports may have changed: the indicators with a
    /// sighting they created, those never enriched, and everything within
    /// two links of these (a new domain changes its IP's count of linked
    /// domains; a new IP gives its domains a network).
    Imports(Vec<i64>),
}

/// Records the flags that need no geo data (allowlist, bogons,
/// warninglists) where there is no snapshot to enrich with, so that "do not
/// take down" shows in `show`, the lists and the import's summary before
/// geo data arrives. An indicator that geo data enriched keeps its row
/// (`cordon enrich` refreshes those); one without a row gets one only when
/// flagged, so that the first enrichment with geo data still finds the
/// rest never enriched. For [`Scope::Imports`] this covers what the
/// imports created (streamed; only flagged ones are read back); for
/// [`Scope::All`] (after the allowlist changed) every indicator, and a
/// flags-only row nothing flags any more is emptied. `flagged`, for
/// [`Scope::Imports`], names every value of the imports that flags (a
/// [`FlaggedNames`] gathered them while the inputs were parsed): only
/// those are read back.
pub(crate) fn flag_store(
    store: &AnyStore,
    offline: &mut OfflineFlags<'_>,
    scope: &Scope,
    flagged: Option<&[String]>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<EnrichSummary, AppError> {
    let mut candidates: Vec<(IndicatorRef, Vec<(String, String)>)> = Vec::new();
    let mut checked = 0u64;
    let mut failure = None;
    let mut check = |r: IndicatorRef, keep_unflagged: bool| {
        checked += 1;
        match offline.flags(r.kind, &r.value) {
            Ok(flags) if keep_unflagged || !flags.is_empty() => candidates.push((r, flag_pairs(flags))),
            Ok(_) => {}
            Err(error) => {
                failure.get_or_insert(error);
            }
        }
    };
    let created = match (scope, flagged) {
        (Scope::Imports(imports), Some(values)) => {
            Some(store.created_among(imports, values, &mut |r| check(r, false))?)
        }
        (Scope::Imports(imports), None) => {
            store.created_indicators(imports, &mut |r| check(r, false))?;
            None
        }
        (Scope::All, _) => {
            store.indicator_refs(&mut |r| check(r, true))?;
            None
        }
    };
    let checked = created.unwrap_or(checked);
    if let Some(error) = failure {
        return Err(error);
    }
    let mut summary = EnrichSummary::default();
    let mut rows = Vec::new();
    let total = candidates.len() as u64;
    for (done, (r, flags)) in candidates.into_iter().enumerate() {
        progress(done as u64, total);
        let replace = match store.enrichment_of(&r.value)? {
            Some(stored) => stored.network.is_none() && stored.via.is_none(),
            None => !flags.is_empty(),
        };
        if !replace {
            continue;
        }
        for (flag, _) in &flags {
            *summary.flagged.entry(flag.clone()).or_default() += 1;
        }
        rows.push((r.id, Enrichment { hosting: "unknown".into(), flags, ..Enrichment::default() }));
    }
    progress(total, total);
    store.write_enrichment(&rows)?;
    summary.indicators = checked;
    summary.unknown_network = checked;
    Ok(summary)
}

/// The values of an input that flag without geo data, gathered as it is
/// parsed (on the parser's thread, beside the import's): the flag check
/// after the import then reads those few back, not every indicator the
/// import created (a sixth of a 333,000-line ingest into SQLite).
pub(crate) struct FlaggedNames<'a> {
    offline: OfflineFlags<'a>,
    /// The stored entries of the allowlist `offline` holds.
    allowlist: Vec<AllowEntry>,
    /// `None` once more than [`FLAGGED_NAMES`] values flagged or a check
    /// failed: the check after the import then reads everything back.
    values: Option<BTreeSet<String>>,
    /// The value being checked (one buffer for all of them).
    value: String,
}

/// The most flagged values one input's [`FlaggedNames`] keeps.
const FLAGGED_NAMES: usize = 100_000;

impl<'a> FlaggedNames<'a> {
    /// Gathers with `offline`'s lists; `allowlist` holds the stored entries
    /// `offline`'s allowlist was built from.
    pub(crate) fn new(offline: OfflineFlags<'a>, allowlist: Vec<AllowEntry>) -> FlaggedNames<'a> {
        FlaggedNames { offline, allowlist, values: Some(BTreeSet::new()), value: String::new() }
    }

    /// Checks one value an input names.
    pub(crate) fn see(&mut self, observable: &Observable) {
        use std::fmt::Write as _;
        let Some(values) = self.values.as_mut() else { return };
        self.value.clear();
        let _ = write!(self.value, "{observable}");
        match self.offline.flags(observable.kind(), &self.value) {
            Ok(flags) if flags.is_empty() => {}
            Ok(_) if values.len() < FLAGGED_NAMES => {
                values.insert(self.value.clone());
            }
            _ => self.values = None,
        }
    }

    /// The flagged values, in order, unless there were too many.
    pub(crate) fn finish(self) -> Option<Flagged> {
        let allowlist = self.allowlist;
        self.values.map(|values| Flagged { allowlist, values: values.into_iter().collect() })
    }
}

/// What [`FlaggedNames`] found in one input.
pub(crate) struct Flagged {
    /// The allowlist the values were checked against.
    pub(crate) allowlist: Vec<AllowEntry>,
    /// The values that flagged, in order.
    pub(crate) values: Vec<String>,
}

/// Enriches the indicators in `scope` and records the results; `progress`
/// is told how many of how many are done.
///
/// The whole store is read a page of [`REF_BATCH`] indicators at a time,
/// with the refs of their neighbours outside the page, against the store's
/// link graph (one entry per link, not per indicator); an import's scope
/// is its stale indicators' neighbourhood only, so an ingest pays for what
/// it changed.
pub(crate) fn enrich_store(
    store: &AnyStore,
    enricher: &Enricher,
    scope: &Scope,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<EnrichSummary, AppError> {
    enrich_in_pages(store, enricher, scope, REF_BATCH, progress)
}

/// [`enrich_store`] in pages of `page` indicators (whole-store pages, or
/// pages of an import's stale indicators).
fn enrich_in_pages(
    store: &AnyStore,
    enricher: &Enricher,
    scope: &Scope,
    page: usize,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<EnrichSummary, AppError> {
    let summary = EnrichSummary { geo: true, ..EnrichSummary::default() };
    let mut run = Run { store, enricher, summary, progress, done: 0, total: 0 };
    match scope {
        Scope::All => {
            let links = Links::of(store.links()?);
            run.total = store.indicator_count()?;
            let mut after = i64::MIN;
            loop {
                let refs = store.indicator_refs_after(after, page)?;
                let Some(last) = refs.last() else { break };
                after = last.id;
                let paged: BTreeSet<i64> = refs.iter().map(|r| r.id).collect();
                let outside: BTreeSet<i64> =
                    refs.iter().flat_map(|r| links.near(r.id).into_keys()).filter(|id| !paged.contains(id)).collect();
                let neighbours = refs_of(store, outside.into_iter().collect())?;
                let by_id: HashMap<i64, &IndicatorRef> = refs.iter().chain(&neighbours).map(|r| (r.id, r)).collect();
                run.enrich(refs.iter(), &links, &by_id)?;
            }
        }
        Scope::Imports(imports) => {
            // A page of stale indicators at a time, each with what lies
            // within two links of it; an indicator two pages reach is
            // enriched by the first (its whole neighbourhood is read with
            // it, so the row is the same).
            let stale = store.stale_indicators(imports)?;
            run.total = stale.len() as u64;
            let mut enriched: HashSet<i64> = HashSet::new();
            for chunk in stale.chunks(page.max(1)) {
                let (links, known) = Links::around(store, chunk)?;
                let refs = refs_of(store, known.into_iter().collect())?;
                let covered: BTreeSet<i64> = chunk
                    .iter()
                    .flat_map(|&id| links.near(id).into_keys().chain([id]))
                    .filter(|id| !enriched.contains(id))
                    .collect();
                run.total += covered.iter().filter(|id| stale.binary_search(id).is_err()).count() as u64;
                let by_id: HashMap<i64, &IndicatorRef> = refs.iter().map(|r| (r.id, r)).collect();
                run.enrich(refs.iter().filter(|r| covered.contains(&r.id)), &links, &by_id)?;
                enriched.extend(covered);
            }
        }
    }
    // Indicators added while a whole-store run paged are counted too.
    let done = run.done.max(run.total);
    (run.progress)(done, done);
    Ok(run.summary)
}

/// Indicators per page of a whole-store run.
const REF_BATCH: usize = 50_000;

/// The refs of `ids` that exist, read [`ID_BATCH`] at a time.
fn refs_of(store: &AnyStore, ids: Vec<i64>) -> Result<Vec<IndicatorRef>, AppError> {
    let mut refs = Vec::new();
    for chunk in ids.chunks(ID_BATCH) {
        store.indicator_refs_of(chunk, &mut |r| refs.push(r))?;
    }
    Ok(refs)
}

/// A run of enrichment: what it reads with, what it has counted and whom
/// it tells how far it is.
struct Run<'a> {
    store: &'a AnyStore,
    enricher: &'a Enricher,
    summary: EnrichSummary,
    progress: &'a mut dyn FnMut(u64, u64),
    /// Indicators enriched so far, of `total`.
    done: u64,
    total: u64,
}

impl Run<'_> {
    /// Enriches `refs`, whose neighbours within two links are in `by_id`,
    /// and writes the rows [`ROW_BATCH`] at a time.
    fn enrich<'r>(
        &mut self,
        refs: impl Iterator<Item = &'r IndicatorRef>,
        links: &Links,
        by_id: &HashMap<i64, &IndicatorRef>,
    ) -> Result<(), AppError> {
        let mut rows = Vec::with_capacity(ROW_BATCH);
        for r in refs {
            (self.progress)(self.done, self.total);
            self.done += 1;
            let enrichment = self.enrich_one(r, links, by_id);
            rows.push((r.id, enrichment));
            if rows.len() == ROW_BATCH {
                self.store.write_enrichment(&rows)?;
                rows.clear();
            }
        }
        if !rows.is_empty() {
            self.store.write_enrichment(&rows)?;
        }
        Ok(())
    }

    /// The enrichment of one indicator, counted in the summary.
    fn enrich_one(&mut self, r: &IndicatorRef, links: &Links, by_id: &HashMap<i64, &IndicatorRef>) -> Enrichment {
        let enricher = self.enricher;
        let near = links.near(r.id);
        let near_refs = || near.iter().filter_map(|(id, tlp)| Some((by_id.get(id).copied()?, *tlp)));
        let mut enrichment = match own_ip(r) {
            Some(ip) => {
                let domains: BTreeSet<String> = near_refs().filter_map(|(n, _)| own_domain(n)).collect();
                enricher.enrich_ip(ip, if r.kind == Kind::Url { 0 } else { domains.len() })
            }
            // The linked address reached through the least restrictive
            // links (then the lowest id, so the choice is stable).
            None => match near_refs().filter_map(|(n, tlp)| Some((tlp, n.id, own_ip(n)?))).min() {
                Some((tlp, _, ip)) => Enrichment { flags: Vec::new(), via: Some(tlp), ..enricher.enrich_ip(ip, 0) },
                None => Enrichment { hosting: "unknown".into(), ..Enrichment::default() },
            },
        };
        if let Some(domain) = own_domain(r) {
            let flags = if r.kind == Kind::Url { enricher.url_flags(&r.value) } else { enricher.domain_flags(&domain) };
            enrichment.flags.extend(flags);
        }
        if enrichment.network.is_none() {
            self.summary.unknown_network += 1;
        }
        for (flag, _) in &enrichment.flags {
            *self.summary.flagged.entry(flag.clone()).or_default() += 1;
        }
        self.summary.indicators += 1;
        enrichment
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::Input;
    use crate::{App, Config};
    use cordon_ingest::IngestOptions;

    /// A whole-store run, and a run over every import, in pages of one
    /// indicator (every neighbour read from outside the page) write what
    /// one page of everything writes, and what enrichment after each
    /// import wrote, each indicator once: links at several TLPs, two hops
    /// out.
    #[test]
    fn pages_of_one_enrich_as_one_page_of_everything() {
        let dir = tempfile::tempdir().unwrap();
        let app = App::open(&Config::new(dir.path().join("cordon.db"))).unwrap();
        let hub = app.viewer(None).unwrap();
        let mut geo = cordon_enrich::Import::new();
        geo.add_csv("asn.csv", b"51.38.0.0,51.38.255.255,16276,OVH SAS\n88.198.0.0,88.198.255.255,24940,Hetzner\n");
        geo.add_csv("country.csv", b"51.38.0.0,51.38.255.255,FR\n88.198.0.0,88.198.255.255,DE\n");
        cordon_enrich::write_snapshot(&app.config().geo, &geo.finish().snapshot).unwrap();
        let feeds: [(&str, &[u8], Tlp); 3] = [
            ("list.txt", b"51.38.12.34\n88.198.5.6\n", Tlp::Green),
            ("a.csv", b"url,ip,category\nhttp://paypa1-verify.com/login,51.38.12.34,phishing\n", Tlp::Amber),
            ("b.csv", b"url,ip,category\nhttp://paypa1-verify.com/reset,88.198.5.6,phishing\n", Tlp::Red),
        ];
        for (i, (name, bytes, tlp)) in feeds.into_iter().enumerate() {
            let options = IngestOptions { source: format!("s{i}"), tlp: Some(tlp), ..IngestOptions::default() };
            let report = app.ingest(&hub, Input::Bytes { name, bytes }, &options, None, &mut |_| {}).unwrap();
            app.enrich_imports(report.import_id.into_iter().collect(), &mut |_, _| {}).unwrap();
        }
        let table = || {
            let mut refs = Vec::new();
            app.store.indicator_refs(&mut |r| refs.push(r)).unwrap();
            refs.iter().map(|r| (r.value.clone(), app.store.enrichment_of(&r.value).unwrap())).collect::<Vec<_>>()
        };
        let by_imports = table();
        assert!(by_imports.len() == 5 && by_imports.iter().all(|(_, e)| e.is_some()), "{by_imports:?}");
        assert!(by_imports.iter().any(|(_, e)| e.as_ref().is_some_and(|e| e.via.is_some())), "{by_imports:?}");
        let enricher = Enricher::load(&app.store, &app.config().geo, None).unwrap();
        let imports: Vec<i64> = cordon_store::Store::imports(&app.store, &hub).unwrap().iter().map(|i| i.id).collect();
        for scope in [Scope::All, Scope::Imports(imports)] {
            for page in [usize::MAX, 1] {
                let mut last = (0, 0);
                let summary = enrich_in_pages(&app.store, &enricher, &scope, page, &mut |d, t| last = (d, t)).unwrap();
                assert_eq!(summary.indicators, by_imports.len() as u64, "{scope:?} in pages of {page}");
                assert_eq!(last, (summary.indicators, summary.indicators), "progress ends at the total");
                assert_eq!(table(), by_imports, "{scope:?} in pages of {page}");
            }
        }
    }

    /// Without geo data, the flag check after ingests reads back only the
    /// values their parsing found flagged, and records what reading back
    /// every indicator they created records: the same rows, the same
    /// summary. An import this process did not parse falls back to reading
    /// everything back.
    #[test]
    fn the_check_of_the_flagged_names_is_the_check_of_everything_created() {
        let dir = tempfile::tempdir().unwrap();
        let app = App::open(&Config::new(dir.path().join("cordon.db"))).unwrap();
        let hub = app.viewer(None).unwrap();
        app.allow_add(&hub, "paypa1-verify.com", "the partner's own test domain").unwrap();
        app.allow_add(&hub, "9.9.9.0/24", "a resolver").unwrap();
        let feeds: [(&str, &[u8]); 3] = [
            ("list.txt", b"9.9.9.9\n51.38.12.34\n"),
            ("a.csv", b"url,ip,category\nhttp://paypa1-verify.com/login,88.198.5.6,phishing\n"),
            // 9.9.9.9 again, from another source: an indicator that existed, with a new sighting.
            ("b.txt", b"8.8.8.8\n9.9.9.9\n"),
        ];
        let mut imports = Vec::new();
        for (i, (name, bytes)) in feeds.into_iter().enumerate() {
            let options = IngestOptions { source: format!("s{i}"), ..IngestOptions::default() };
            let report = app.ingest(&hub, Input::Bytes { name, bytes }, &options, None, &mut |_| {}).unwrap();
            imports.extend(report.import_id);
        }
        let named = app.flagged_names(&imports).unwrap();
        assert_eq!(named, ["9.9.9.9", "http://paypa1-verify.com/login", "paypa1-verify.com"]);
        assert_eq!(app.flagged_names(&imports), None, "taken once");
        let table = || {
            let mut refs = Vec::new();
            app.store.indicator_refs(&mut |r| refs.push(r)).unwrap();
            refs.iter().map(|r| (r.value.clone(), app.store.enrichment_of(&r.value).unwrap())).collect::<Vec<_>>()
        };
        let scope = Scope::Imports(imports);
        let check = |flagged: Option<&[String]>| {
            flag_store(&app.store, &mut app.offline_flags().unwrap(), &scope, flagged, &mut |_, _| {}).unwrap()
        };
        let by_names = check(Some(&named));
        let rows = table();
        assert_eq!(rows.iter().filter(|(_, e)| e.is_some()).count(), 3, "{rows:?}");
        assert_eq!((by_names.indicators, by_names.flagged.values().sum::<u64>()), (6, 3), "{by_names:?}");
        assert_eq!(check(None), by_names);
        assert_eq!(table(), rows);

        // An allowlist changed after the parse (by another process, say)
        // could name a value the parse did not flag: everything is read back.
        let (name, bytes) = ("c.txt", &b"51.38.12.35\n"[..]);
        let options = IngestOptions { source: "s3".into(), ..IngestOptions::default() };
        let report = app.ingest(&hub, Input::Bytes { name, bytes }, &options, None, &mut |_| {}).unwrap();
        app.store.allow_add("51.38.12.35", "changed behind this process's back").unwrap();
        assert_eq!(app.flagged_names(&report.import_id.into_iter().collect::<Vec<_>>()), None);
    }
}
