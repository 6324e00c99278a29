//! The lifecycle applied to stored targets: building and rebuilding them,
//! and moving them from state to state with a recorded history.

use std::collections::{BTreeMap, HashMap};

use cordon_enrich::ContactBook;
use cordon_model::Timestamp;
use cordon_store::ops::{Operation, OpsStore, Target, TargetFilter, TargetKind, TargetState, Transition};

use crate::lifecycle::{check, RejectReason, TransitionError};
use crate::targets::Planner;
use crate::OpsError;

/// Who moved a target, when, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    /// The person or component.
    pub name: String,
    /// When.
    pub time: Timestamp,
    /// A note for the history.
    pub note: String,
}

impl Actor {
    /// `name` acting at `time` with `note`.
    pub fn new(name: &str, time: Timestamp, note: &str) -> Actor {
        Actor { name: name.to_string(), time, note: note.to_string() }
    }
}

/// What `targets build` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildSummary {
    /// Targets in the plan.
    pub targets: usize,
    /// Of which new.
    pub new: usize,
    /// Targets by kind.
    pub by_kind: BTreeMap<TargetKind, usize>,
    /// Taken-down or verified targets seen again in a newer import, moved
    /// back to triaged.
    pub reemerged: usize,
    /// Earlier targets that the feeds no longer make (their indicators got
    /// flagged since, e.g. allowlisted), rejected as out of scope. Those
    /// already taken down are left as they are.
    pub withdrawn: usize,
    /// Indicators left out, by reason.
    pub left_out: BTreeMap<String, u64>,
}

/// What a bulk transition did.
#[derive(Debug, Default)]
pub struct TransitionSummary {
    /// Targets moved.
    pub applied: Vec<i64>,
    /// Targets refused, with why.
    pub refused: Vec<(i64, TransitionError)>,
}

/// What a transition of every target a filter selects did
/// ([`transition_matching`]): counts, and the first few refused ids per
/// reason, so its size does not follow the selection.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SelectionSummary {
    /// Targets moved.
    pub applied: u64,
    /// Targets refused, by the refusal's text.
    pub refused: BTreeMap<String, Refused>,
}

/// Targets refused for one reason.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Refused {
    /// How many.
    pub count: u64,
    /// The first [`REFUSED_SHOWN`] of them, by id.
    pub first: Vec<i64>,
}

/// How many refused ids a [`Refused`] keeps.
pub const REFUSED_SHOWN: usize = 10;

impl SelectionSummary {
    /// Counts `ids` refused with `error`.
    fn refuse(&mut self, error: &TransitionError, ids: impl IntoIterator<Item = i64>) {
        let refused = self.refused.entry(error.to_string()).or_default();
        for id in ids {
            refused.count += 1;
            if refused.first.len() < REFUSED_SHOWN {
                refused.first.push(id);
            }
        }
    }
}

impl From<&TransitionSummary> for SelectionSummary {
    fn from(summary: &TransitionSummary) -> SelectionSummary {
        let mut out = SelectionSummary { applied: summary.applied.len() as u64, ..SelectionSummary::default() };
        for (id, error) in &summary.refused {
            out.refuse(error, [*id]);
        }
        out
    }
}

/// What target planning routes by and never acts on.
#[derive(Clone, Debug, Default)]
pub struct Routing {
    /// Abuse contacts and agencies.
    pub contacts: ContactBook,
    /// What must never be a target, checked whether or not enrichment ran.
    pub allowlist: cordon_enrich::Allowlist,
    /// The MISP warninglists, when loaded: their flags and platforms
    /// (checked whether or not enrichment ran).
    pub warninglists: Option<std::sync::Arc<cordon_enrich::Warninglists>>,
}

/// How many indicators (and targets) [`build_targets`] plans, writes and
/// checks at a time.
pub const BUILD_BATCH: usize = 4096;

/// Builds (or rebuilds) the operation's targets, routing them through
/// `routing`'s contacts and leaving out what its allowlist names. Idempotent: existing
/// targets keep their state and history and get their data refreshed; new
/// ones start `identified`; a taken-down or verified target whose members
/// appear in an import newer than its takedown goes `reemerged`, then
/// `triaged`.
///
/// One transaction: the targets and their first transitions are written
/// together or not at all. Inside it the work goes [`BUILD_BATCH`]
/// indicators, then targets, at a time: memory follows the batch and the
/// operation's links, not the number of targets.
pub fn build_targets(
    store: &dyn OpsStore,
    operation: &Operation,
    routing: &Routing,
    actor: &Actor,
    include_flagged: bool,
) -> Result<BuildSummary, OpsError> {
    build_targets_in_batches(store, operation, routing, actor, include_flagged, BUILD_BATCH)
}

/// [`build_targets`] going `batch` indicators and targets at a time; the
/// result is the same for any batch size.
pub fn build_targets_in_batches(
    store: &dyn OpsStore,
    operation: &Operation,
    routing: &Routing,
    actor: &Actor,
    include_flagged: bool,
    batch: usize,
) -> Result<BuildSummary, OpsError> {
    let mut summary = BuildSummary::default();
    store.atomically(&mut |store| {
        summary = plan_and_store(store, operation, routing, actor, include_flagged, batch)?;
        Ok(())
    })?;
    Ok(summary)
}

/// [`build_targets`] inside its transaction.
fn plan_and_store(
    store: &dyn OpsStore,
    operation: &Operation,
    routing: &Routing,
    actor: &Actor,
    include_flagged: bool,
    batch: usize,
) -> Result<BuildSummary, cordon_store::StoreError> {
    let config = cordon_enrich::FlagConfig {
        warninglists: routing.warninglists.as_deref(),
        ..cordon_enrich::FlagConfig::new(&routing.allowlist)
    };
    let mark = store.newest_import()?;
    let step = |target_id, from, to: TargetState, note: &str| Transition {
        target_id,
        time: actor.time,
        from,
        to,
        reason: None,
        actor: actor.name.clone(),
        note: note.to_string(),
        import_mark: mark,
    };
    let mut planner = Planner::new(store, operation.id, &routing.contacts, &config, include_flagged, batch)?;
    let mut summary = BuildSummary::default();
    let mut built = IdSet::default();
    store.scope_each(operation.id, batch, &mut |indicators| {
        let specs = planner.plan(store, operation.id, indicators)?;
        let ids = store.upsert_targets(operation.id, &specs, actor.time)?;
        summary.targets += specs.len();
        for spec in &specs {
            *summary.by_kind.entry(spec.kind).or_insert(0) += 1;
        }
        let mut transitions = Vec::new();
        for (id, is_new) in ids {
            built.insert(id);
            if is_new {
                summary.new += 1;
                transitions.push(step(id, None, TargetState::Identified, "built from the feeds"));
            }
        }
        store.append_transitions(&transitions)
    })?;
    summary.left_out = planner.left_out();
    let filter = TargetFilter { operation_id: Some(operation.id), ..TargetFilter::default() };
    let mut after = i64::MIN;
    loop {
        let targets = store.targets_after(&filter, after, batch.max(1))?;
        let Some(last) = targets.last() else { break };
        after = last.id;
        let mut transitions = Vec::new();
        for target in targets.iter().filter(|t| !built.contains(t.id)) {
            if check(target.state, TargetState::Rejected, Some(RejectReason::OutOfScope)).is_ok() {
                summary.withdrawn += 1;
                transitions.push(Transition {
                    reason: Some(RejectReason::OutOfScope.as_str().to_string()),
                    ..step(target.id, Some(target.state), TargetState::Rejected, WITHDRAWN)
                });
            }
        }
        for target in targets.iter().filter(|t| matches!(t.state, TargetState::TakenDown | TargetState::Verified)) {
            let history = store.history(target.id)?;
            let takedown = history.iter().rev().find(|t| t.to == TargetState::TakenDown).map(|t| t.import_mark);
            if takedown.is_some_and(|mark| target.spec.last_import > mark) {
                summary.reemerged += 1;
                transitions.push(step(
                    target.id,
                    Some(target.state),
                    TargetState::Reemerged,
                    "seen again in a newer import",
                ));
                transitions.push(step(
                    target.id,
                    Some(TargetState::Reemerged),
                    TargetState::Triaged,
                    "re-entered triage",
                ));
            }
        }
        store.append_transitions(&transitions)?;
    }
    Ok(summary)
}

/// A set of target ids at a bit each, in pages of 64 Ki ids: what a build
/// made, checked against every target of the operation afterwards.
#[derive(Default)]
struct IdSet {
    pages: HashMap<i64, Box<[u64; 1024]>>,
}

impl IdSet {
    fn insert(&mut self, id: i64) {
        let bit = (id & 0xffff) as usize;
        self.pages.entry(id >> 16).or_insert_with(|| Box::new([0; 1024]))[bit / 64] |= 1 << (bit % 64);
    }

    fn contains(&self, id: i64) -> bool {
        let bit = (id & 0xffff) as usize;
        self.pages.get(&(id >> 16)).is_some_and(|page| page[bit / 64] & (1 << (bit % 64)) != 0)
    }
}

/// The note on a target the feeds no longer make.
const WITHDRAWN: &str =
    "no longer built from the feeds: its indicators are now flagged (allowlist, CDN, resolver, bogon)";

/// Moves each target to `to` where the lifecycle allows it, in one
/// transaction that reads each target's current state under the write lock
/// (so a move another analyst made meanwhile is seen, never overwritten);
/// the others are returned refused, with the reason.
pub fn transition(
    store: &dyn OpsStore,
    targets: &[Target],
    to: TargetState,
    reason: Option<RejectReason>,
    actor: &Actor,
) -> Result<TransitionSummary, OpsError> {
    let mut summary = TransitionSummary::default();
    store.atomically(&mut |store| {
        summary = TransitionSummary::default();
        let mark = store.newest_import()?;
        // The state as it is now, under the write lock: the caller's copy
        // may be stale if another analyst moved the target meanwhile.
        let ids: Vec<i64> = targets.iter().map(|t| t.id).collect();
        let current = store.states(&ids)?;
        let mut transitions = Vec::new();
        for target in targets {
            let Some(&state) = current.get(&target.id) else { continue };
            match check(state, to, reason) {
                Ok(()) => {
                    summary.applied.push(target.id);
                    transitions.push(Transition {
                        target_id: target.id,
                        time: actor.time,
                        from: Some(state),
                        to,
                        reason: reason.map(|r| r.as_str().to_string()),
                        actor: actor.name.clone(),
                        note: actor.note.clone(),
                        import_mark: mark,
                    });
                }
                Err(err) => summary.refused.push((target.id, err)),
            }
        }
        store.append_transitions(&transitions)
    })?;
    Ok(summary)
}

/// Moves every target `filter` selects to `to` where the lifecycle allows
/// it, in one transaction, [`BUILD_BATCH`] targets at a time: each page is
/// grouped by current state and each group moved by one set-based
/// [`OpsStore::move_targets`] (the lifecycle's answer depends on the state
/// alone). The others are counted refused.
pub fn transition_matching(
    store: &dyn OpsStore,
    filter: &TargetFilter,
    to: TargetState,
    reason: Option<RejectReason>,
    actor: &Actor,
) -> Result<SelectionSummary, OpsError> {
    let mut summary = SelectionSummary::default();
    store.atomically(&mut |store| {
        summary = SelectionSummary::default();
        let step = Transition {
            target_id: 0,
            time: actor.time,
            from: None,
            to,
            reason: reason.map(|r| r.as_str().to_string()),
            actor: actor.name.clone(),
            note: actor.note.clone(),
            import_mark: store.newest_import()?,
        };
        let mut after = i64::MIN;
        loop {
            let targets = store.targets_after(filter, after, BUILD_BATCH)?;
            let Some(last) = targets.last() else { break };
            after = last.id;
            let mut by_state: BTreeMap<TargetState, Vec<i64>> = BTreeMap::new();
            for target in &targets {
                by_state.entry(target.state).or_default().push(target.id);
            }
            for (from, ids) in by_state {
                match check(from, to, reason) {
                    Ok(()) => summary.applied += store.move_targets(&ids, from, &step)?.len() as u64,
                    Err(error) => summary.refuse(&error, ids),
                }
            }
        }
        Ok(())
    })?;
    Ok(summary)
}

/// The operation named `name`, or [`OpsError::NotFound`].
pub fn operation(store: &dyn OpsStore, name: &str) -> Result<Operation, OpsError> {
    store.operation(name)?.ok_or_else(|| OpsError::NotFound(format!("there is no operation '{name}'")))
}

/// The operation's targets in `state`.
pub fn targets_in(store: &dyn OpsStore, operation_id: i64, state: TargetState) -> Result<Vec<Target>, OpsError> {
    Ok(store.targets(&TargetFilter {
        operation_id: Some(operation_id),
        state: Some(state),
        ..TargetFilter::default()
    })?)
}
