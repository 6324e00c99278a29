//! Enrichment, the allowlist, contacts and routing: the hub's own data
//! about what to act on, whom to tell and what never to touch.

use std::net::IpAddr;

use cordon_enrich::{Contact, ContactBook, ContactKey, Route};
use cordon_model::{normalize, Observable, Viewer};
use cordon_store::enrichment::{AllowEntry, ContactRow, Enrichment, EnrichmentStore};
use cordon_store::{IndicatorFilter, Store};

use crate::enrichment::{enrich_store, flag_store, load_contacts, EnrichSummary, Enricher, Scope};
use crate::{require_hub, App, AppError};

/// Where a takedown of one address goes.
#[derive(Clone, Debug)]
pub struct RouteAnswer {
    /// The address.
    pub ip: IpAddr,
    /// Its enrichment (network, flags).
    pub enrichment: Enrichment,
    /// The routing book's answer (ASN, country, provider, agency).
    pub route: Route,
}

/// What a contacts import did.
#[derive(Clone, Debug)]
pub struct ContactsImport {
    /// Contacts stored.
    pub contacts: usize,
    /// Rows with problems, as `file:line: reason`.
    pub problems: Vec<String>,
}

/// The store row of a routing contact.
pub fn contact_row(c: &Contact) -> ContactRow {
    let (kind, key) = match &c.key {
        ContactKey::Prefix(net) => ("prefix", net.to_string()),
        ContactKey::Asn(asn) => ("asn", asn.to_string()),
        ContactKey::Country(country) => ("country", country.to_string()),
        ContactKey::Domain(domain) => ("domain", domain.clone()),
    };
    ContactRow {
        kind: kind.into(),
        key,
        name: c.name.clone(),
        email: c.email.clone(),
        pgp_fingerprint: c.pgp_fingerprint.clone(),
        language: c.language.clone(),
    }
}

/// The canonical allowlist form of an address, CIDR or domain.
fn allow_value(raw: &str) -> Result<String, AppError> {
    let normalized = normalize(raw).map_err(|e| AppError::Invalid(e.to_string()))?;
    match normalized.observables.as_slice() {
        [Observable::Url(_)] => Err(AppError::Invalid(format!("'{raw}' is a URL: allowlist its host instead"))),
        [one] => Ok(one.to_string()),
        _ => Err(AppError::Invalid(format!("'{raw}' is a range of several networks: allowlist them one by one"))),
    }
}

impl App {
    /// Enriches the indicators in `scope`; without a geo snapshot, records
    /// their flags that need none (of `flagged` only, when given: see
    /// [`flag_store`]).
    pub(crate) fn enrich_scope(
        &self,
        scope: &Scope,
        flagged: Option<&[String]>,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<EnrichSummary, AppError> {
        if !self.has_geo() {
            return flag_store(&self.store, &mut self.offline_flags()?, scope, flagged, progress);
        }
        let enricher = self.enricher()?;
        enrich_store(&self.store, &enricher, scope, progress)
    }

    /// The enrichment engine: the geo snapshot, the allowlist, the
    /// warninglists.
    fn enricher(&self) -> Result<Enricher, AppError> {
        Enricher::load(&self.store, &self.config.geo, self.warninglists()?)
    }

    /// Re-runs enrichment over the whole store.
    pub fn enrich(&self, viewer: &Viewer, progress: &mut dyn FnMut(u64, u64)) -> Result<EnrichSummary, AppError> {
        require_hub(viewer, "enrichment")?;
        enrich_store(&self.store, &self.enricher()?, &Scope::All, progress)
    }

    /// Re-enriches everything after the allowlist changed (without geo
    /// data, re-records the flags that need none).
    fn refresh(&self) -> Result<(), AppError> {
        self.enrich_scope(&Scope::All, None, &mut |_, _| {})?;
        Ok(())
    }

    /// Allowlists an address, CIDR or domain; returns its canonical form.
    pub fn allow_add(&self, viewer: &Viewer, raw: &str, reason: &str) -> Result<String, AppError> {
        require_hub(viewer, "changing the allowlist")?;
        let value = allow_value(raw)?;
        self.store.allow_add(&value, reason)?;
        self.refresh()?;
        Ok(value)
    }

    /// Removes an allowlist entry; returns its canonical form.
    pub fn allow_remove(&self, viewer: &Viewer, raw: &str) -> Result<String, AppError> {
        require_hub(viewer, "changing the allowlist")?;
        let value = allow_value(raw).unwrap_or_else(|_| raw.to_string());
        if !self.store.allow_remove(&value)? {
            return Err(AppError::NotFound(format!("{value} is not in the allowlist")));
        }
        self.refresh()?;
        Ok(value)
    }

    /// The allowlist.
    pub fn allowlist(&self, viewer: &Viewer) -> Result<Vec<AllowEntry>, AppError> {
        require_hub(viewer, "reading the allowlist")?;
        Ok(self.store.allowlist()?)
    }

    /// Replaces the contacts with those of a CSV table (`name` is the file
    /// for messages).
    pub fn import_contacts(&self, viewer: &Viewer, name: &str, text: &str) -> Result<ContactsImport, AppError> {
        require_hub(viewer, "changing contacts")?;
        let (book, diagnostics) = ContactBook::from_csv(name, text);
        let rows: Vec<ContactRow> = book.contacts().map(contact_row).collect();
        self.store.replace_contacts(&rows)?;
        Ok(ContactsImport { contacts: rows.len(), problems: diagnostics.iter().map(ToString::to_string).collect() })
    }

    /// The contacts as a routing book.
    pub fn contacts(&self, viewer: &Viewer) -> Result<ContactBook, AppError> {
        require_hub(viewer, "reading contacts")?;
        load_contacts(&self.store)
    }

    /// Where a takedown of `raw` goes, per address: an IP or CIDR itself, a
    /// domain or URL through the addresses the feeds linked to it.
    pub fn route(&self, viewer: &Viewer, raw: &str) -> Result<Vec<RouteAnswer>, AppError> {
        require_hub(viewer, "routing")?;
        let normalized = normalize(raw).map_err(|e| AppError::Invalid(e.to_string()))?;
        let enricher = self.enricher()?;
        let contacts = load_contacts(&self.store)?;
        let filter = IndicatorFilter::new(*viewer);
        let mut ips: Vec<IpAddr> = Vec::new();
        let mut platform: Option<Contact> = None;
        for observable in &normalized.observables {
            match observable {
                Observable::Ip(ip) => ips.push(*ip),
                Observable::Net(net) => ips.push(net.network()),
                other => {
                    match other.url_host() {
                        Some(Observable::Ip(ip)) => ips.push(ip),
                        // A URL on a shared platform goes to the platform's
                        // own desk, as its target does.
                        Some(Observable::Domain(host)) if enricher.on_platform(&host) => {
                            platform = contacts.platform_contact(&host).cloned();
                        }
                        _ => {}
                    }
                    ips.extend(self.linked_ips(&other.to_string(), &filter)?);
                }
            }
        }
        ips.sort();
        ips.dedup();
        if ips.is_empty() {
            return Err(AppError::NotFound(format!("no address is known for {raw} (no feed linked one to it)")));
        }
        Ok(ips
            .into_iter()
            .map(|ip| {
                let mut route = enricher.route(&contacts, ip);
                if platform.is_some() {
                    route.provider_contact.clone_from(&platform);
                }
                RouteAnswer { ip, route, enrichment: enricher.enrich_ip(ip, 0) }
            })
            .collect())
    }

    /// The addresses the feeds linked to a domain or URL, directly or
    /// through one observable in between (a domain and an IP seen in one
    /// URL), by sightings the filter's viewer may see.
    fn linked_ips(&self, value: &str, filter: &IndicatorFilter) -> Result<Vec<IpAddr>, AppError> {
        let linked = |v: &str| -> Result<Vec<String>, AppError> {
            Ok(self.store.indicator(v, filter)?.map(|d| d.linked).unwrap_or_default())
        };
        let mut ips = Vec::new();
        for near in linked(value)? {
            match near.parse::<IpAddr>() {
                Ok(ip) => ips.push(ip),
                Err(_) => ips.extend(linked(&near)?.iter().filter_map(|v| v.parse::<IpAddr>().ok())),
            }
        }
        Ok(ips)
    }
}
