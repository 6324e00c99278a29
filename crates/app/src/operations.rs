//! Operations: create them, build their targets, move targets through the
//! lifecycle, write packages and notifications, verify takedowns, record
//! outcomes and report. This is the hub's coordination work: every call
//! refuses other viewers (agencies and providers receive packages and
//! notifications, built from what the visibility rule lets go to them).

use std::path::Path;

use cordon_model::{Consent, Viewer};
use cordon_ops::lifecycle::RejectReason;
use cordon_ops::notify::{NotifyConfig, NotifySummary};
use cordon_ops::package::{build_packages, PackageSummary};
use cordon_ops::report::Report;
use cordon_ops::verify::{VerifyConfig, VerifySummary};
use cordon_ops::workflow::{
    build_targets, operation as find_operation, transition, Actor, BuildSummary, Routing, TransitionSummary,
};
use cordon_store::ops::{Operation, OpsStore, Outcome, Target, TargetFilter, TargetState};

use crate::enrichment::{load_allowlist, load_contacts};
use crate::view::{CheckView, TargetDetailView, TransitionView};
use crate::{require_hub, App, AppError};

/// Which targets a command acts on.
#[derive(Clone, Debug, Default)]
pub struct TargetSelection {
    /// Only this operation (by name).
    pub operation: Option<String>,
    /// Only these ids (empty: no restriction).
    pub ids: Vec<i64>,
    /// Only this country.
    pub country: Option<String>,
    /// Only this ASN.
    pub asn: Option<u32>,
    /// Only this state.
    pub state: Option<TargetState>,
    /// Only this category.
    pub category: Option<cordon_model::Category>,
}

impl App {
    /// The operation named `name`.
    pub fn operation(&self, name: &str) -> Result<Operation, AppError> {
        Ok(find_operation(&self.store, name)?)
    }

    /// Creates an operation over `[start, end]` (a bare end date means the
    /// whole of that day).
    pub fn create_operation(
        &self,
        viewer: &Viewer,
        name: &str,
        start: i64,
        end: i64,
        description: &str,
    ) -> Result<Operation, AppError> {
        require_hub(viewer, "creating operations")?;
        if end < start {
            return Err(AppError::Invalid("the operation ends before it starts".into()));
        }
        if self.store.operation(name)?.is_some() {
            return Err(AppError::Conflict(format!("there is already an operation '{name}'")));
        }
        let end = if end % 86_400 == 0 { end + 86_399 } else { end };
        let mut operation = Operation {
            id: 0,
            name: name.to_string(),
            start,
            end,
            description: description.to_string(),
            created: crate::now(),
        };
        operation.id = self.store.create_operation(&operation)?;
        Ok(operation)
    }

    /// Every operation.
    pub fn operations(&self, viewer: &Viewer) -> Result<Vec<Operation>, AppError> {
        require_hub(viewer, "listing operations")?;
        Ok(self.store.operations()?)
    }

    /// Builds (or rebuilds) the operation's targets, routed through the
    /// stored contacts, leaving out what is flagged or allowlisted.
    pub fn build_targets(
        &self,
        viewer: &Viewer,
        operation: &Operation,
        actor: &Actor,
        include_flagged: bool,
    ) -> Result<BuildSummary, AppError> {
        require_hub(viewer, "building targets")?;
        let routing = Routing { contacts: load_contacts(&self.store)?, allowlist: load_allowlist(&self.store)? };
        Ok(build_targets(&self.store, operation, &routing, actor, include_flagged)?)
    }

    /// The targets `selection` names.
    pub fn targets(&self, viewer: &Viewer, selection: &TargetSelection) -> Result<Vec<Target>, AppError> {
        require_hub(viewer, "reading targets")?;
        let operation_id = selection.operation.as_deref().map(|n| self.operation(n).map(|op| op.id)).transpose()?;
        let filter = TargetFilter {
            operation_id,
            country: selection.country.as_deref().map(str::to_ascii_uppercase),
            asn: selection.asn,
            state: selection.state,
            category: selection.category,
            ..TargetFilter::default()
        };
        let mut targets = self.store.targets(&filter)?;
        if !selection.ids.is_empty() {
            targets.retain(|t| selection.ids.contains(&t.id));
        }
        Ok(targets)
    }

    /// One target with its members, history and checks.
    pub fn target(&self, viewer: &Viewer, id: i64) -> Result<TargetDetailView, AppError> {
        require_hub(viewer, "reading targets")?;
        let Some(target) = self.store.targets(&TargetFilter { id: Some(id), ..TargetFilter::default() })?.pop() else {
            return Err(AppError::NotFound(format!("there is no target #{id}")));
        };
        Ok(TargetDetailView {
            members: self.store.members(target.id)?,
            history: self.store.history(target.id)?.iter().map(TransitionView::from).collect(),
            checks: self.store.checks(target.id)?.iter().map(CheckView::from).collect(),
            target: (&target).into(),
        })
    }

    /// Moves the targets to `to` where the lifecycle allows it.
    pub fn transition(
        &self,
        viewer: &Viewer,
        targets: &[Target],
        to: TargetState,
        reason: Option<RejectReason>,
        actor: &Actor,
    ) -> Result<TransitionSummary, AppError> {
        require_hub(viewer, "moving targets")?;
        Ok(transition(&self.store, targets, to, reason, actor)?)
    }

    /// Writes the operation's packages (all countries, or one) under `out`.
    pub fn build_packages(
        &self,
        viewer: &Viewer,
        operation: &Operation,
        country: Option<&str>,
        out: &Path,
        actor: &Actor,
    ) -> Result<PackageSummary, AppError> {
        require_hub(viewer, "writing packages")?;
        Ok(build_packages(&self.store, operation, country, out, actor)?)
    }

    /// Writes (and optionally sends) the providers' notifications.
    pub fn notify(
        &self,
        viewer: &Viewer,
        operation: &Operation,
        config: &NotifyConfig,
        actor: &Actor,
    ) -> Result<NotifySummary, AppError> {
        require_hub(viewer, "notifying providers")?;
        Ok(cordon_ops::notify::notify(&self.store, operation, config, actor)?)
    }

    /// Probes the operation's taken-down targets; with `apply`, moves those
    /// down twice far enough apart to verified.
    pub fn verify(
        &self,
        viewer: &Viewer,
        operation: &Operation,
        config: &VerifyConfig,
        apply: bool,
        actor: &Actor,
    ) -> Result<VerifySummary, AppError> {
        require_hub(viewer, "verifying takedowns")?;
        Ok(cordon_ops::verify::verify(&self.store, operation, config, apply, actor)?)
    }

    /// Records an outcome (counts only).
    pub fn add_outcome(&self, viewer: &Viewer, outcome: &Outcome) -> Result<(), AppError> {
        require_hub(viewer, "recording outcomes")?;
        let country = crate::orgs::country_code(&outcome.country)?;
        self.store.add_outcome(&Outcome { country, ..outcome.clone() })?;
        Ok(())
    }

    /// The operation's outcomes.
    pub fn outcomes(&self, viewer: &Viewer, operation: &Operation) -> Result<Vec<Outcome>, AppError> {
        require_hub(viewer, "reading outcomes")?;
        Ok(self.store.outcomes(operation.id)?)
    }

    /// The operation report.
    pub fn report(&self, viewer: &Viewer, operation: &Operation) -> Result<Report, AppError> {
        require_hub(viewer, "the operation report")?;
        Ok(cordon_ops::report::load(&self.store, operation)?)
    }

    /// A partner's consent, by its source name (see [`App::set_consent`]).
    pub fn consent(&self, viewer: &Viewer, source: &str, consent: Consent) -> Result<(), AppError> {
        self.set_consent(viewer, source, consent)
    }
}
