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
    build_targets, operation as find_operation, transition, transition_matching, Actor, BuildSummary, Routing,
    SelectionSummary, TransitionSummary,
};
use std::collections::BTreeSet;

use cordon_ops::tlp::{may_pass_on, Recipient};
use cordon_store::ops::{
    Evidence, Operation, OpsStore, Outcome, SortValue, Target, TargetCursor, TargetFilter, TargetKind, TargetOrder,
    TargetPage, TargetState,
};
use cordon_store::orgs::OrgStore;

use crate::enrichment::{load_allowlist, load_contacts};
use crate::view::{CheckView, TargetDetailView, TargetView, TransitionView};
use crate::{require_hub, App, AppError};

/// Targets per store read of [`App::each_target_view`].
pub const VIEW_PAGE: usize = 1_000;

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
    /// Only this kind.
    pub kind: Option<TargetKind>,
    /// Only targets whose key contains this (ASCII letters in either case).
    pub key_contains: Option<String>,
}

/// One page of targets as a viewer may see them ([`App::target_page`]).
#[derive(Clone, Debug, Default)]
pub struct TargetPageView {
    /// The page's targets, in the page's order.
    pub targets: Vec<TargetView>,
    /// Where the first target stands (for the previous page).
    pub first: Option<TargetCursor>,
    /// Where the last target stands (for the next page).
    pub last: Option<TargetCursor>,
    /// Whether targets come before this page.
    pub more_before: bool,
    /// Whether targets come after this page.
    pub more_after: bool,
    /// How many targets the selection matches: the hub's count; `None`
    /// for an agency, whose visible targets are only known page by page.
    pub total: Option<u64>,
}

/// The text form of a cursor, for a link: `id` or `id:value`.
pub fn cursor_text(cursor: &TargetCursor) -> String {
    match &cursor.value {
        SortValue::None => cursor.id.to_string(),
        SortValue::Text(text) => format!("{}:{text}", cursor.id),
        SortValue::Time(time) => format!("{}:{time}", cursor.id),
    }
}

/// Reads [`cursor_text`]'s form back for `order`.
pub fn parse_cursor(order: TargetOrder, text: &str) -> Result<TargetCursor, AppError> {
    let invalid = || AppError::Invalid(format!("'{text}' is not a position in the targets"));
    let (id, value) = text.split_once(':').unwrap_or((text, ""));
    let id = id.parse::<i64>().map_err(|_| invalid())?;
    let value = match order {
        TargetOrder::Id => SortValue::None,
        TargetOrder::LastSeen => SortValue::Time(value.parse().map_err(|_| invalid())?),
        _ => SortValue::Text(value.to_string()),
    };
    Ok(TargetCursor { value, id })
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

    /// Every operation (the hub and the agencies).
    pub fn operations(&self, viewer: &Viewer) -> Result<Vec<Operation>, AppError> {
        if self.agency_country(viewer)?.is_none() {
            require_hub(viewer, "listing operations")?;
        }
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
        let routing = Routing {
            contacts: load_contacts(&self.store)?,
            allowlist: load_allowlist(&self.store)?,
            warninglists: self.warninglists()?,
        };
        Ok(build_targets(&self.store, operation, &routing, actor, include_flagged)?)
    }

    /// The targets `selection` names (the hub's analysts; the CLI).
    pub fn targets(&self, viewer: &Viewer, selection: &TargetSelection) -> Result<Vec<Target>, AppError> {
        require_hub(viewer, "reading targets")?;
        self.select_targets(selection)
    }

    fn select_targets(&self, selection: &TargetSelection) -> Result<Vec<Target>, AppError> {
        let mut targets = self.store.targets(&self.target_filter(selection)?)?;
        if !selection.ids.is_empty() {
            targets.retain(|t| selection.ids.contains(&t.id));
        }
        Ok(targets)
    }

    /// The store's filter for `selection` (all but its ids).
    fn target_filter(&self, selection: &TargetSelection) -> Result<TargetFilter, AppError> {
        let operation_id = selection.operation.as_deref().map(|n| self.operation(n).map(|op| op.id)).transpose()?;
        Ok(TargetFilter {
            operation_id,
            country: selection.country.as_deref().map(str::to_ascii_uppercase),
            asn: selection.asn,
            state: selection.state,
            category: selection.category,
            kind: selection.kind,
            key_contains: selection.key_contains.clone(),
            ..TargetFilter::default()
        })
    }

    /// Moves every target `selection` names but its ids (the hub's bulk
    /// transition) to `to` where the lifecycle allows it, a batch at a time
    /// inside one transaction: no target is held but the batch's.
    pub fn transition_selection(
        &self,
        viewer: &Viewer,
        selection: &TargetSelection,
        to: TargetState,
        reason: Option<RejectReason>,
        actor: &Actor,
    ) -> Result<SelectionSummary, AppError> {
        require_hub(viewer, "moving selected targets")?;
        Ok(transition_matching(&self.store, &self.target_filter(selection)?, to, reason, actor)?)
    }

    /// The country an agency viewer acts for.
    pub(crate) fn agency_country(&self, viewer: &Viewer) -> Result<Option<String>, AppError> {
        if viewer.kind() != Some(cordon_model::OrgKind::Agency) {
            return Ok(None);
        }
        let org = self.store.orgs()?.into_iter().find(|o| Some(o.id) == viewer.org_id());
        Ok(org.and_then(|o| o.country))
    }

    /// The targets `selection` names as `viewer` may see them: the hub all
    /// of them, each from all its sightings; an agency those of its
    /// country, each built only from the sightings that may go to an agency
    /// (a target with none is not shown, as a package would withhold it);
    /// anyone else none.
    pub fn target_views(&self, viewer: &Viewer, selection: &TargetSelection) -> Result<Vec<TargetView>, AppError> {
        let mut views = Vec::new();
        self.each_target_view(viewer, selection, &mut |view| {
            views.push(view);
            Ok(())
        })?;
        Ok(views)
    }

    /// The targets of [`App::target_views`], handed to `each` in id order
    /// as the store reads them, [`VIEW_PAGE`] at a time: memory holds a
    /// page, whatever the operation's size. An error of `each` (a client
    /// that left) ends the walk with that error.
    pub fn each_target_view(
        &self,
        viewer: &Viewer,
        selection: &TargetSelection,
        each: &mut dyn FnMut(TargetView) -> Result<(), AppError>,
    ) -> Result<(), AppError> {
        let agency = if viewer.is_hub() {
            None
        } else {
            let Some(country) = self.agency_country(viewer)? else {
                return Err(AppError::Forbidden("targets are the hub's and the agencies' work".into()));
            };
            if selection.country.as_deref().is_some_and(|c| !c.eq_ignore_ascii_case(&country)) {
                return Ok(());
            }
            Some(country)
        };
        let country = agency.clone().or_else(|| selection.country.clone());
        let filter = self.target_filter(&TargetSelection { country, ..selection.clone() })?;
        let wanted = |id: i64| selection.ids.is_empty() || selection.ids.contains(&id);
        let mut after = i64::MIN;
        loop {
            let (views, read) = if agency.is_some() {
                let page = TargetPage {
                    after: Some(TargetCursor { value: SortValue::None, id: after }),
                    limit: VIEW_PAGE,
                    ..TargetPage::default()
                };
                let views: Vec<TargetView> = self.agency_page(&filter, &page)?.into_iter().map(|(_, v)| v).collect();
                let read = views.len();
                (views, read)
            } else {
                let targets = self.store.targets_after(&filter, after, VIEW_PAGE)?;
                (targets.iter().map(TargetView::from).collect(), targets.len())
            };
            let Some(last) = views.last() else { break };
            after = last.id;
            for view in views.into_iter().filter(|v| wanted(v.id)) {
                each(view)?;
            }
            if read < VIEW_PAGE {
                break;
            }
        }
        Ok(())
    }

    /// One page of the targets `selection` names (its ids aside) as
    /// `viewer` may see them, by the rules of [`App::target_views`]: the
    /// store reads the page (keyset paging: any page costs what the first
    /// does), and for an agency reads on, a page at a time, while targets
    /// with nothing that may go to it leave the page short.
    pub fn target_page(
        &self,
        viewer: &Viewer,
        selection: &TargetSelection,
        page: &TargetPage,
    ) -> Result<TargetPageView, AppError> {
        let limit = page.limit.max(1);
        // One more than the page, to know whether another follows.
        let wanted = TargetPage { limit: limit + 1, ..page.clone() };
        let (mut found, total) = if viewer.is_hub() {
            let filter = self.target_filter(selection)?;
            let targets = self.store.targets_page(&filter, &wanted)?;
            let found: Vec<(TargetCursor, TargetView)> =
                targets.iter().map(|t| (page.order.cursor(t), TargetView::from(t))).collect();
            (found, Some(self.store.count_targets(&filter)?))
        } else {
            let Some(country) = self.agency_country(viewer)? else {
                return Err(AppError::Forbidden("targets are the hub's and the agencies' work".into()));
            };
            if selection.country.as_deref().is_some_and(|c| !c.eq_ignore_ascii_case(&country)) {
                return Ok(TargetPageView::default());
            }
            let filter = self.target_filter(&TargetSelection { country: Some(country), ..selection.clone() })?;
            (self.agency_page(&filter, &wanted)?, None)
        };
        let more = found.len() > limit;
        if more && page.backward {
            found.remove(0);
        } else {
            found.truncate(limit);
        }
        Ok(TargetPageView {
            first: found.first().map(|(c, _)| c.clone()),
            last: found.last().map(|(c, _)| c.clone()),
            more_before: if page.backward { more } else { page.after.is_some() },
            more_after: if page.backward { page.after.is_some() } else { more },
            targets: found.into_iter().map(|(_, v)| v).collect(),
            total,
        })
    }

    /// Up to `page.limit` targets an agency may see, from `page` on: the
    /// store's pages, each target built from what may go to an agency.
    fn agency_page(
        &self,
        filter: &TargetFilter,
        page: &TargetPage,
    ) -> Result<Vec<(TargetCursor, TargetView)>, AppError> {
        let mut found = Vec::new();
        let mut next = page.clone();
        while found.len() < page.limit {
            let targets = self.store.targets_page(filter, &next)?;
            let ids: Vec<i64> = targets.iter().map(|t| t.id).collect();
            let evidence = self.store.evidence(&ids)?;
            let views = targets.iter().filter_map(|t| Some((page.order.cursor(t), agency_view(t, &evidence)?)));
            let views: Vec<_> = views.collect();
            let edge = if page.backward { targets.first() } else { targets.last() };
            let Some(edge) = edge else { break };
            next.after = Some(page.order.cursor(edge));
            if page.backward {
                found.splice(0..0, views);
            } else {
                found.extend(views);
            }
            if targets.len() < next.limit {
                break;
            }
        }
        // A backward read keeps the targets nearest the cursor.
        if found.len() > page.limit {
            if page.backward {
                found.drain(..found.len() - page.limit);
            } else {
                found.truncate(page.limit);
            }
        }
        Ok(found)
    }

    /// One target with its members, history and checks, as `viewer` may
    /// see it: another country's target does not exist for an agency.
    pub fn target(&self, viewer: &Viewer, id: i64) -> Result<TargetDetailView, AppError> {
        let missing = || AppError::NotFound(format!("there is no target #{id}"));
        let Some(target) = self.store.targets(&TargetFilter { id: Some(id), ..TargetFilter::default() })?.pop() else {
            return Err(missing());
        };
        let (view, members) = if viewer.is_hub() {
            ((&target).into(), self.store.members(target.id)?)
        } else {
            let country = self.agency_country(viewer)?.ok_or_else(missing)?;
            if target.spec.country.as_deref() != Some(country.as_str()) {
                return Err(missing());
            }
            let evidence = self.store.evidence(&[target.id])?;
            let view = agency_view(&target, &evidence).ok_or_else(missing)?;
            let shared = evidence.iter().filter(|e| may_pass_on(Recipient::Agency, e));
            let members: BTreeSet<String> = shared.map(|e| e.value.clone()).collect();
            (view, members.into_iter().collect())
        };
        Ok(TargetDetailView {
            members,
            history: self.store.history(target.id)?.iter().map(TransitionView::from).collect(),
            checks: self.store.checks(target.id)?.iter().map(CheckView::from).collect(),
            target: view,
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
        if !viewer.is_hub() {
            // An agency records takedowns and rejections of its country's
            // targets, nothing else.
            let country = self
                .agency_country(viewer)?
                .ok_or_else(|| AppError::Forbidden("moving targets is the hub's and the agencies' work".into()))?;
            if targets.iter().any(|t| t.spec.country.as_deref() != Some(country.as_str())) {
                return Err(AppError::NotFound("there is no such target".into()));
            }
            if !matches!(to, TargetState::TakenDown | TargetState::Rejected) {
                return Err(AppError::Forbidden("an agency records takedowns and rejections only".into()));
            }
        }
        Ok(transition(&self.store, targets, to, reason, actor)?)
    }

    /// The target with this id, for a transition by `viewer` (see
    /// [`App::transition`] for what an agency may do).
    pub fn target_for_move(&self, viewer: &Viewer, id: i64) -> Result<Target, AppError> {
        let target = self.store.targets(&TargetFilter { id: Some(id), ..TargetFilter::default() })?.pop();
        let visible = match (&target, viewer.is_hub()) {
            (Some(_), true) => true,
            (Some(t), false) => {
                self.agency_country(viewer)?.is_some_and(|c| t.spec.country.as_deref() == Some(c.as_str()))
            }
            (None, _) => false,
        };
        target.filter(|_| visible).ok_or_else(|| AppError::NotFound(format!("there is no target #{id}")))
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
        // The store records where each package went, and the server (started
        // elsewhere) serves its files from there: keep the path absolute.
        let out = std::path::absolute(out)
            .map_err(|e| AppError::Invalid(format!("cannot resolve the directory {}: {e}", out.display())))?;
        Ok(build_packages(&self.store, operation, country, &out, actor)?)
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
        let country = crate::orgs::country_code(&outcome.country)?;
        if !viewer.is_hub() && self.agency_country(viewer)?.as_deref() != Some(country.as_str()) {
            return Err(AppError::Forbidden("an agency records the outcomes of its own country".into()));
        }
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

/// A target as an agency sees it: its categories, families, partners,
/// ports and dates from the sightings that may go to an agency only;
/// `None` when there is none.
pub(crate) fn agency_view(target: &Target, evidence: &[Evidence]) -> Option<TargetView> {
    let shared: Vec<&Evidence> =
        evidence.iter().filter(|e| e.target_id == target.id && may_pass_on(Recipient::Agency, e)).collect();
    if shared.is_empty() {
        return None;
    }
    let mut view = TargetView::from(target);
    view.categories = shared.iter().map(|e| e.category.as_str()).collect::<BTreeSet<_>>().into_iter().collect();
    view.malware = shared.iter().filter_map(|e| e.malware.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    view.partners = shared.iter().map(|e| e.source.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    view.ports = shared.iter().filter_map(|e| e.port).collect::<BTreeSet<_>>().into_iter().collect();
    view.first_seen = shared.iter().map(|e| e.first_seen).min().map(cordon_model::format_timestamp).unwrap_or_default();
    view.last_seen = shared.iter().map(|e| e.last_seen).max().map(cordon_model::format_timestamp).unwrap_or_default();
    Some(view)
}
