//! Storage of operations: targets, their lifecycle, packages, notifications,
//! verification checks and outcomes (issue 5). The SQLite implementation is
//! in `sqlite/ops.rs`.
//!
//! Everything here is plain data: the rules (which transition is legal,
//! which sighting a package may carry, how targets are grouped) live in the
//! `cordon-ops` crate. The one rule the store enforces itself is that the
//! lifecycle history is append-only: [`OpsStore::append_transitions`] refuses
//! a transition whose `from` is not the target's current state, and the
//! database refuses to update or delete a transition.

use std::fmt;
use std::str::FromStr;

use cordon_model::{Category, Consent, Kind, Timestamp, Tlp};

use crate::StoreError;

/// An operation: a named window that scopes targets, packages, outcomes and
/// reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    /// Its id (0 for one not yet stored).
    pub id: i64,
    /// Its unique name.
    pub name: String,
    /// The start of its window.
    pub start: Timestamp,
    /// The end of its window (inclusive).
    pub end: Timestamp,
    /// What it is about.
    pub description: String,
    /// When it was created.
    pub created: Timestamp,
}

/// The lifecycle state of a target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TargetState {
    /// Built from the feeds; nobody has looked at it yet.
    Identified,
    /// Checked by an analyst; ready to refer.
    Triaged,
    /// Sent to its country's agency in an action package.
    Referred,
    /// Its provider's abuse desk was notified.
    Notified,
    /// Reported down (seized, suspended, null-routed).
    TakenDown,
    /// Checked down twice, some time apart.
    Verified,
    /// Not acted on (see the transition's reason).
    Rejected,
    /// Seen again in a newer import after it was taken down.
    Reemerged,
}

impl TargetState {
    /// Every state, in lifecycle order.
    pub const ALL: [TargetState; 8] = [
        TargetState::Identified,
        TargetState::Triaged,
        TargetState::Referred,
        TargetState::Notified,
        TargetState::TakenDown,
        TargetState::Verified,
        TargetState::Rejected,
        TargetState::Reemerged,
    ];

    /// The state's name: `identified`, `triaged`, `referred`, `notified`,
    /// `taken-down`, `verified`, `rejected`, `reemerged`.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetState::Identified => "identified",
            TargetState::Triaged => "triaged",
            TargetState::Referred => "referred",
            TargetState::Notified => "notified",
            TargetState::TakenDown => "taken-down",
            TargetState::Verified => "verified",
            TargetState::Rejected => "rejected",
            TargetState::Reemerged => "reemerged",
        }
    }
}

impl fmt::Display for TargetState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a target state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown state '{0}' (expected identified, triaged, referred, notified, taken-down, verified, rejected or reemerged)")]
pub struct UnknownState(pub String);

impl FromStr for TargetState {
    type Err = UnknownState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim().to_ascii_lowercase().replace('_', "-");
        let name = if name == "takendown" { "taken-down".to_string() } else { name };
        TargetState::ALL.into_iter().find(|t| t.as_str() == name).ok_or_else(|| UnknownState(s.to_string()))
    }
}

/// What a target acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TargetKind {
    /// One server address, with the domains and URLs the feeds tie to it.
    Server,
    /// A CIDR listing: network-level action.
    Network,
    /// A domain no feed tied to an address: registrar or DNS action.
    Domain,
    /// A URL on a shared platform (file hosting, pastes, URL shorteners,
    /// link-in-bio, top sites): the platform removes the content; its name
    /// and servers are never targets.
    Url,
}

impl TargetKind {
    /// The kind's name: `server`, `network`, `domain`, `url`.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Server => "server",
            TargetKind::Network => "network",
            TargetKind::Domain => "domain",
            TargetKind::Url => "url",
        }
    }

    /// The kind of a stored name (unknown names read as `server`).
    pub fn from_name(name: &str) -> TargetKind {
        match name {
            "network" => TargetKind::Network,
            "domain" => TargetKind::Domain,
            "url" => TargetKind::Url,
            _ => TargetKind::Server,
        }
    }
}

impl fmt::Display for TargetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A named contact (a provider's abuse desk or a national agency).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactRef {
    /// The organisation or desk.
    pub name: String,
    /// Where reports go.
    pub email: String,
}

/// One indicator in scope of an operation, with its enrichment and what its
/// sightings say (all sources, every TLP: this is the coordinator's view).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpIndicator {
    /// The indicator's id.
    pub id: i64,
    /// Its canonical value.
    pub value: String,
    /// Its kind.
    pub kind: Kind,
    /// The kinds of its enrichment flags (`cdn`, `bogon`, …; empty when
    /// none or not enriched).
    pub flags: Vec<String>,
    /// Country code, when enriched.
    pub country: Option<String>,
    /// Announcing ASN, when enriched.
    pub asn: Option<u32>,
    /// The AS organisation.
    pub as_org: Option<String>,
    /// The hosting type.
    pub hosting: Option<String>,
    /// Distinct categories, sorted.
    pub categories: Vec<Category>,
    /// Distinct malware families, sorted.
    pub malware: Vec<String>,
    /// Distinct sources, sorted.
    pub sources: Vec<String>,
    /// Distinct ports, sorted.
    pub ports: Vec<u16>,
    /// Earliest first-seen.
    pub first_seen: Timestamp,
    /// Latest last-seen.
    pub last_seen: Timestamp,
    /// The newest import that carried it.
    pub last_import: i64,
}

/// An operation's indicators and the links between them (`derived_from`:
/// a URL's host, a feed's linked address), as pairs of indicator ids.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpScope {
    /// The indicators, by id.
    pub indicators: Vec<OpIndicator>,
    /// `(indicator, derived_from)` pairs, both in `indicators`.
    pub links: Vec<(i64, i64)>,
}

/// The order in which targets are planned, as groups of indicator kinds:
/// addresses (server targets), networks, domains, URLs. Within a group
/// indicators go by value; [`OpsStore::scope_each`] follows it.
pub const SCOPE_ORDER: [&[Kind]; 4] = [&[Kind::Ipv4, Kind::Ipv6], &[Kind::Cidr], &[Kind::Domain], &[Kind::Url]];

/// A target as built from the feeds, to insert or refresh.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetSpec {
    /// Its key within the operation: the address, network or domain.
    pub key: String,
    /// What it acts on.
    pub kind: TargetKind,
    /// Country code.
    pub country: Option<String>,
    /// ASN.
    pub asn: Option<u32>,
    /// AS organisation.
    pub as_org: Option<String>,
    /// Hosting type.
    pub hosting: Option<String>,
    /// The provider's abuse contact.
    pub provider: Option<ContactRef>,
    /// The national agency.
    pub agency: Option<ContactRef>,
    /// Categories, sorted.
    pub categories: Vec<Category>,
    /// Malware families, sorted.
    pub malware: Vec<String>,
    /// Partners that reported any member, sorted.
    pub partners: Vec<String>,
    /// Ports seen, sorted.
    pub ports: Vec<u16>,
    /// Earliest first-seen over its members.
    pub first_seen: Timestamp,
    /// Latest last-seen over its members.
    pub last_seen: Timestamp,
    /// The newest import that carried a member.
    pub last_import: i64,
    /// Member indicator ids (the key's own indicator first).
    pub members: Vec<i64>,
}

/// A stored target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// Its id.
    pub id: i64,
    /// Its operation.
    pub operation_id: i64,
    /// Its current state (the `to` of its last transition).
    pub state: TargetState,
    /// When it was first built.
    pub created: Timestamp,
    /// Everything it was built from.
    pub spec: TargetSpec,
}

/// One lifecycle step. Never edited or deleted once stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    /// The target.
    pub target_id: i64,
    /// When.
    pub time: Timestamp,
    /// The state before (`None` for the first).
    pub from: Option<TargetState>,
    /// The state after.
    pub to: TargetState,
    /// For `rejected`: false-positive, out-of-scope or duplicate.
    pub reason: Option<String>,
    /// Who made it.
    pub actor: String,
    /// Why, in words.
    pub note: String,
    /// The newest import id when it was made (tells re-emergence).
    pub import_mark: i64,
}

/// Which targets a read returns; `None` matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TargetFilter {
    /// Only this operation.
    pub operation_id: Option<i64>,
    /// Only this target.
    pub id: Option<i64>,
    /// Only this country.
    pub country: Option<String>,
    /// Only this ASN.
    pub asn: Option<u32>,
    /// Only this state.
    pub state: Option<TargetState>,
    /// Only targets with this category.
    pub category: Option<Category>,
    /// Only targets of this kind.
    pub kind: Option<TargetKind>,
    /// Only targets whose key contains this text, ASCII letters matched in
    /// either case.
    pub key_contains: Option<String>,
}

/// The orders a page of targets can follow; ties go by id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TargetOrder {
    /// By id, oldest first.
    #[default]
    Id,
    /// By key (byte order).
    Key,
    /// By state name (byte order).
    State,
    /// By country code, targets without one first.
    Country,
    /// By last sighting, newest first (ties: the newest id first).
    LastSeen,
}

impl TargetOrder {
    /// Every order.
    pub const ALL: [TargetOrder; 5] =
        [TargetOrder::Id, TargetOrder::Key, TargetOrder::State, TargetOrder::Country, TargetOrder::LastSeen];

    /// The order's name: `id`, `key`, `state`, `country`, `last-seen`.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetOrder::Id => "id",
            TargetOrder::Key => "key",
            TargetOrder::State => "state",
            TargetOrder::Country => "country",
            TargetOrder::LastSeen => "last-seen",
        }
    }

    /// The order named `name` (see [`TargetOrder::as_str`]).
    pub fn from_name(name: &str) -> Option<TargetOrder> {
        TargetOrder::ALL.into_iter().find(|o| o.as_str() == name)
    }

    /// Where `target` stands in this order.
    pub fn cursor(self, target: &Target) -> TargetCursor {
        let value = match self {
            TargetOrder::Id => SortValue::None,
            TargetOrder::Key => SortValue::Text(target.spec.key.clone()),
            TargetOrder::State => SortValue::Text(target.state.as_str().to_string()),
            TargetOrder::Country => SortValue::Text(target.spec.country.clone().unwrap_or_default()),
            TargetOrder::LastSeen => SortValue::Time(target.spec.last_seen),
        };
        TargetCursor { value, id: target.id }
    }

    /// Whether this order goes from the largest value down.
    pub fn descending(self) -> bool {
        self == TargetOrder::LastSeen
    }
}

/// The value a target sorts by in a [`TargetOrder`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SortValue {
    /// By id alone.
    None,
    /// A key, a state name or a country code (`""`: none).
    Text(String),
    /// A last sighting.
    Time(Timestamp),
}

/// A target's position in an order: where a page starts after (or ends
/// before). Made by [`TargetOrder::cursor`]; a cursor of another order's
/// kind of value stands at that order's first value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetCursor {
    /// The value it sorts by.
    pub value: SortValue,
    /// Its id (the tie-break).
    pub id: i64,
}

impl TargetCursor {
    /// The text kind of value (`""` for another kind).
    pub fn text(&self) -> &str {
        match &self.value {
            SortValue::Text(text) => text,
            _ => "",
        }
    }

    /// The time kind of value (the latest time for another kind).
    pub fn time(&self) -> Timestamp {
        match self.value {
            SortValue::Time(time) => time,
            _ => Timestamp::MAX,
        }
    }
}

/// One page of targets to read: keyset paging, so the page after the
/// 30,000th target costs what the first does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TargetPage {
    /// The order.
    pub order: TargetOrder,
    /// The position the page starts after (`None`: the first page).
    pub after: Option<TargetCursor>,
    /// Read the page that ends before `after` instead (the previous page);
    /// its targets still come in `order`.
    pub backward: bool,
    /// At most this many targets.
    pub limit: usize,
}

/// One sighting of one member of a target, with what the visibility rule
/// needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    /// The target.
    pub target_id: i64,
    /// The member's value.
    pub value: String,
    /// Its kind.
    pub kind: Kind,
    /// The reporting source.
    pub source: String,
    /// The organisation that owns the source.
    pub source_org: i64,
    /// Where the source lets its AMBER sightings go.
    pub consent: Consent,
    /// Category.
    pub category: Category,
    /// Malware family.
    pub malware: Option<String>,
    /// TLP.
    pub tlp: Tlp,
    /// Port.
    pub port: Option<u16>,
    /// First seen.
    pub first_seen: Timestamp,
    /// Last seen.
    pub last_seen: Timestamp,
    /// Confidence.
    pub confidence: u8,
}

/// One verification check of a target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// The target.
    pub target_id: i64,
    /// When.
    pub time: Timestamp,
    /// Whether anything answered.
    pub up: bool,
    /// What was probed and what answered.
    pub detail: String,
}

/// A recorded outcome: counts only, never personal data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The operation.
    pub operation_id: i64,
    /// The country that reported it.
    pub country: String,
    /// `arrest`, `house-search`, `server-seized`, …
    pub kind: String,
    /// How many.
    pub count: u64,
    /// When.
    pub date: Timestamp,
    /// A note.
    pub note: String,
}

/// Storage for operations, implemented by every backend.
pub trait OpsStore {
    /// Runs `work` as one transaction holding the write lock from its
    /// start: every read inside sees what no other writer can change before
    /// the writes commit (no lost update when two analysts move the same
    /// target), and a failure leaves nothing of the work behind. The other
    /// methods of this trait nest inside it.
    fn atomically(&self, work: &mut dyn FnMut(&dyn OpsStore) -> Result<(), StoreError>) -> Result<(), StoreError>;

    /// The current state of each of the given targets that exists.
    fn states(&self, target_ids: &[i64]) -> Result<std::collections::HashMap<i64, TargetState>, StoreError>;

    /// Stores a new operation and returns its id; fails if the name is taken.
    fn create_operation(&self, operation: &Operation) -> Result<i64, StoreError>;

    /// Every operation, by name.
    fn operations(&self) -> Result<Vec<Operation>, StoreError>;

    /// The operation named `name`.
    fn operation(&self, name: &str) -> Result<Option<Operation>, StoreError>;

    /// Puts an import in an operation's scope (`cordon ingest --operation`).
    fn attach_import(&self, operation: &str, import_id: i64) -> Result<(), StoreError>;

    /// The operation's indicators: those with a sighting inside its window
    /// and those of its attached imports, with their links.
    fn scope(&self, operation_id: i64) -> Result<OpScope, StoreError>;

    /// The links among the operation's indicators (`scope().links`,
    /// sorted, distinct), without the indicators themselves.
    fn scope_links(&self, operation_id: i64) -> Result<Vec<(i64, i64)>, StoreError> {
        Ok(self.scope(operation_id)?.links)
    }

    /// The operation's indicators among `ids` (ids that [`scope_links`]
    /// named), by id, built as [`OpsStore::scope`] builds them.
    ///
    /// [`scope_links`]: OpsStore::scope_links
    fn scope_indicators(&self, operation_id: i64, ids: &[i64]) -> Result<Vec<OpIndicator>, StoreError> {
        let wanted: std::collections::HashSet<i64> = ids.iter().copied().collect();
        Ok(self.scope(operation_id)?.indicators.into_iter().filter(|i| wanted.contains(&i.id)).collect())
    }

    /// The operation's indicators (those of [`OpsStore::scope`]) in the
    /// order targets are planned: the kinds of [`SCOPE_ORDER`] group by
    /// group, each group by value (byte order); handed to `each` at most
    /// `batch` at a time, so a backend that streams holds one batch.
    /// This default reads the whole scope; the SQLite backend streams.
    fn scope_each(
        &self,
        operation_id: i64,
        batch: usize,
        each: &mut dyn FnMut(&[OpIndicator]) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut indicators = self.scope(operation_id)?.indicators;
        let group = |kind: Kind| SCOPE_ORDER.iter().position(|kinds| kinds.contains(&kind));
        indicators.sort_by(|a, b| (group(a.kind), &a.value).cmp(&(group(b.kind), &b.value)));
        for chunk in indicators.chunks(batch.max(1)) {
            each(chunk)?;
        }
        Ok(())
    }

    /// Inserts new targets and refreshes existing ones (same operation and
    /// key), in one transaction. Returns each spec's target id and whether
    /// it is new, in the order given. State and history are not touched.
    fn upsert_targets(
        &self,
        operation_id: i64,
        specs: &[TargetSpec],
        time: Timestamp,
    ) -> Result<Vec<(i64, bool)>, StoreError>;

    /// The targets matching `filter`, by id.
    fn targets(&self, filter: &TargetFilter) -> Result<Vec<Target>, StoreError>;

    /// At most `limit` of the targets matching `filter` whose id is above
    /// `after`, by id: [`OpsStore::targets`] a page at a time.
    fn targets_after(&self, filter: &TargetFilter, after: i64, limit: usize) -> Result<Vec<Target>, StoreError> {
        Ok(self.targets(filter)?.into_iter().filter(|t| t.id > after).take(limit).collect())
    }

    /// One page of the targets matching `filter` (see [`TargetPage`]), in
    /// its order.
    fn targets_page(&self, filter: &TargetFilter, page: &TargetPage) -> Result<Vec<Target>, StoreError>;

    /// How many targets match `filter`, counted by the database.
    fn count_targets(&self, filter: &TargetFilter) -> Result<u64, StoreError>;

    /// The values of a target's members.
    fn members(&self, target_id: i64) -> Result<Vec<String>, StoreError>;

    /// A target's history, oldest first.
    fn history(&self, target_id: i64) -> Result<Vec<Transition>, StoreError>;

    /// Every transition of the operation's targets, oldest first.
    fn operation_history(&self, operation_id: i64) -> Result<Vec<Transition>, StoreError>;

    /// Appends transitions in one transaction and moves each target to its
    /// `to` state. Fails, appending none, if a transition's `from` is not
    /// its target's current state.
    fn append_transitions(&self, transitions: &[Transition]) -> Result<(), StoreError>;

    /// Moves those of `target_ids` that are in state `from` to
    /// `transition.to`, appending `transition` to each (its `target_id` and
    /// `from` are set per target); returns the ids moved, ascending. One
    /// set-based step for a bulk transition; this default goes through
    /// [`OpsStore::states`] and [`OpsStore::append_transitions`].
    fn move_targets(
        &self,
        target_ids: &[i64],
        from: TargetState,
        transition: &Transition,
    ) -> Result<Vec<i64>, StoreError> {
        let states = self.states(target_ids)?;
        let mut moved: Vec<i64> = target_ids.iter().copied().filter(|id| states.get(id) == Some(&from)).collect();
        moved.sort_unstable();
        moved.dedup();
        let steps: Vec<Transition> =
            moved.iter().map(|id| Transition { target_id: *id, from: Some(from), ..transition.clone() }).collect();
        self.append_transitions(&steps)?;
        Ok(moved)
    }

    /// The newest import id (0 when none).
    fn newest_import(&self) -> Result<i64, StoreError>;

    /// Every sighting of every member of the given targets, every TLP.
    fn evidence(&self, target_ids: &[i64]) -> Result<Vec<Evidence>, StoreError>;

    /// Records a written package and the targets it carries.
    fn record_package(
        &self,
        operation_id: i64,
        country: &str,
        path: &str,
        manifest_sha256: &str,
        target_ids: &[i64],
        time: Timestamp,
    ) -> Result<i64, StoreError>;

    /// When `contact` was last notified about `target_id`. Addresses are
    /// compared exactly: callers record and ask them in lowercase.
    fn last_notified(&self, contact: &str, target_id: i64) -> Result<Option<Timestamp>, StoreError>;

    /// Records a notification of `contact` about each target.
    fn record_notification(
        &self,
        operation_id: i64,
        contact: &str,
        message_id: &str,
        target_ids: &[i64],
        time: Timestamp,
    ) -> Result<(), StoreError>;

    /// Records verification checks.
    fn record_checks(&self, checks: &[Check]) -> Result<(), StoreError>;

    /// A target's checks, oldest first.
    fn checks(&self, target_id: i64) -> Result<Vec<Check>, StoreError>;

    /// Records an outcome.
    fn add_outcome(&self, outcome: &Outcome) -> Result<(), StoreError>;

    /// The operation's outcomes, oldest first.
    fn outcomes(&self, operation_id: i64) -> Result<Vec<Outcome>, StoreError>;

    /// The operation report's figures, aggregated by the store (see
    /// [`ReportCounts`]): reads no target or transition into memory.
    fn report_counts(&self, operation_id: i64) -> Result<ReportCounts, StoreError>;
}

/// How many of an operation's targets have `key` and are in `state`: one
/// cell of a report breakdown, counted by the database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateCount<K> {
    /// What the targets share (a country, a provider, a category list…).
    pub key: K,
    /// Their current state.
    pub state: TargetState,
    /// How many targets.
    pub targets: u64,
}

/// One day's first lifecycle events of a kind: how many targets first
/// reached `event` that UTC day, by their current state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayEvents {
    /// The earliest such event that day.
    pub first: Timestamp,
    /// The latest such event that day.
    pub last: Timestamp,
    /// `identified` or `taken-down`.
    pub event: TargetState,
    /// The targets' current state.
    pub state: TargetState,
    /// How many targets.
    pub targets: u64,
}

/// Everything the operation report needs, aggregated by the database over
/// the operation's targets and their history: its size is that of the
/// breakdowns (countries, providers, days…), never that of the operation.
///
/// A target's first `identified` (and first `taken-down`) is its earliest
/// such transition in the order they were appended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportCounts {
    /// Targets by kind and state.
    pub kinds: Vec<StateCount<TargetKind>>,
    /// Targets by country (`None`: no country) and state.
    pub countries: Vec<StateCount<Option<String>>>,
    /// Targets by provider (the AS organisation, else the provider contact's
    /// name; `None`: neither) and state.
    pub providers: Vec<StateCount<Option<String>>>,
    /// Targets by their category list (as stored) and state.
    pub categories: Vec<StateCount<Vec<Category>>>,
    /// Targets by their partner list (as stored), whether a transition
    /// rejected them as a false positive, and state.
    pub partners: Vec<StateCount<(Vec<String>, bool)>>,
    /// How many targets ever reached each state, for the states reached.
    pub reached: Vec<(TargetState, u64)>,
    /// First `identified` and first `taken-down` events, by day.
    pub days: Vec<DayEvents>,
    /// The middle one (odd count) or two (even count) of the seconds from a
    /// target's first `identified` to its first `taken-down`, over targets
    /// with both, smallest first: what a median needs.
    pub middle_seconds_to_takedown: Vec<i64>,
    /// Distinct countries among the targets and the outcomes.
    pub countries_involved: u64,
    /// Outcome totals as `(country, kind, sum of counts)`.
    pub outcomes: Vec<(String, String, u64)>,
}
