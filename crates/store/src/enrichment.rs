//! Plain data for enrichment, the allowlist and contacts, stored beside the
//! indicators.

use cordon_model::{Kind, Tlp};

/// What enrichment knows about one indicator.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Enrichment {
    /// The routed network the address lies in.
    pub network: Option<String>,
    /// The origin AS number.
    pub asn: Option<u32>,
    /// The AS's organisation.
    pub as_org: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    pub country: Option<String>,
    /// Hosting type: `cdn`, `cloud`, `hosting`, `isp` or `unknown`.
    pub hosting: String,
    /// "Do not take down" flags with their reasons, e.g. `("cdn", "…")`.
    pub flags: Vec<(String, String)>,
    /// When the network, ASN and country come from a linked address rather
    /// than the indicator's own (a domain's from its IP): the TLP of the
    /// sightings that link them. Such enrichment is as sensitive as the
    /// link, and readers see it only where they could see the link.
    pub via: Option<Tlp>,
}

/// A link between two indicators that sightings record: `derived` was
/// derived from `from` (a URL's host from the URL, a feed's linked address).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Link {
    /// The derived indicator's id.
    pub derived: i64,
    /// The indicator it was derived from.
    pub from: i64,
    /// The least restrictive TLP among the sightings that record the link:
    /// who may see any of them may know the link.
    pub tlp: Tlp,
}

/// An indicator as enrichment sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndicatorRef {
    /// The store's id.
    pub id: i64,
    /// The canonical value.
    pub value: String,
    /// Its kind.
    pub kind: Kind,
}

/// An allowlist entry: a CIDR, address or domain that must never be a target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowEntry {
    /// The canonical value.
    pub value: String,
    /// Why it is allowlisted.
    pub reason: String,
    /// When it was added.
    pub added: i64,
}

/// An abuse or agency contact row (`cordon contacts import`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactRow {
    /// `prefix`, `asn` or `country`.
    pub kind: String,
    /// The CIDR, AS number or country code.
    pub key: String,
    /// Who.
    pub name: String,
    /// Where to write.
    pub email: String,
    /// OpenPGP fingerprint.
    pub pgp_fingerprint: Option<String>,
    /// Preferred language.
    pub language: Option<String>,
}

/// Storage of enrichment results, the allowlist and contacts.
pub trait EnrichmentStore {
    /// Every indicator (id, value, kind), ordered by id.
    fn indicator_refs(&self, each: &mut dyn FnMut(IndicatorRef)) -> Result<(), crate::StoreError>;
    /// Every link between two indicators that a sighting records.
    fn links(&self) -> Result<Vec<Link>, crate::StoreError>;
    /// The links of [`EnrichmentStore::links`] with either end among
    /// `ids`, each once, ordered by `(derived, from)`: a neighbourhood read
    /// through the sightings' key and `derived_from` indexes, so enriching
    /// after an import costs what it touched, not the store.
    fn links_touching(&self, ids: &[i64]) -> Result<Vec<Link>, crate::StoreError>;
    /// The indicators among `ids` that exist, each once, ordered by id.
    fn indicator_refs_of(&self, ids: &[i64], each: &mut dyn FnMut(IndicatorRef)) -> Result<(), crate::StoreError>;
    /// Up to `limit` indicators with an id above `after`, ordered by id: a
    /// keyset page of [`EnrichmentStore::indicator_refs`], so a whole-store
    /// run holds one page at a time.
    fn indicator_refs_after(&self, after: i64, limit: usize) -> Result<Vec<IndicatorRef>, crate::StoreError>;
    /// How many indicators the store holds.
    fn indicator_count(&self) -> Result<u64, crate::StoreError>;
    /// Indicators whose enrichment may be out of date after the given
    /// imports: those with a sighting one of them created (new indicators,
    /// new sources, new links), and those never enriched. Sorted by id.
    fn stale_indicators(&self, imports: &[i64]) -> Result<Vec<i64>, crate::StoreError>;
    /// The indicators with a sighting one of the given imports created,
    /// each once (what flag checks without geo data cover).
    fn created_indicators(&self, imports: &[i64], each: &mut dyn FnMut(IndicatorRef)) -> Result<(), crate::StoreError>;
    /// How many indicators [`EnrichmentStore::created_indicators`] hands
    /// over for `imports`, handing over only those whose value is among
    /// `values` (distinct): a flag check that already knows which values
    /// flag reads the few it needs, not every indicator an import made.
    fn created_among(
        &self,
        imports: &[i64],
        values: &[String],
        each: &mut dyn FnMut(IndicatorRef),
    ) -> Result<u64, crate::StoreError>;
    /// Replaces the enrichment of the given indicators, in one transaction.
    fn write_enrichment(&self, rows: &[(i64, Enrichment)]) -> Result<(), crate::StoreError>;
    /// The enrichment of one indicator, if any.
    fn enrichment_of(&self, value: &str) -> Result<Option<Enrichment>, crate::StoreError>;
    /// Adds (or re-words) an allowlist entry.
    fn allow_add(&self, value: &str, reason: &str) -> Result<(), crate::StoreError>;
    /// Removes an allowlist entry; false when there was none.
    fn allow_remove(&self, value: &str) -> Result<bool, crate::StoreError>;
    /// The allowlist, ordered by value.
    fn allowlist(&self) -> Result<Vec<AllowEntry>, crate::StoreError>;
    /// Replaces every contact with `rows`, in one transaction.
    fn replace_contacts(&self, rows: &[ContactRow]) -> Result<(), crate::StoreError>;
    /// Every contact.
    fn contacts(&self) -> Result<Vec<ContactRow>, crate::StoreError>;
}
