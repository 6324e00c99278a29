//! What the dashboard shows that the other front ends have no call for: a
//! partner's view of what became of its reports.

use cordon_model::Viewer;
use cordon_ops::report::PartnerRow;
use cordon_store::ops::OpsStore;
use cordon_store::orgs::OrgStore;

use crate::{App, AppError};

/// One operation's figures about one of the partner's sources.
#[derive(Clone, Debug, PartialEq)]
pub struct Contribution {
    /// The operation.
    pub operation: String,
    /// The partner's figures in it (its source as `partner`).
    pub row: PartnerRow,
}

impl App {
    /// How many targets the viewer's own sources reported in each
    /// operation, how many were taken down and how many were rejected as
    /// false positives: counts about its own reports only, for any
    /// organisation (the hub: every partner's).
    pub fn contribution(&self, viewer: &Viewer) -> Result<Vec<Contribution>, AppError> {
        let owners = self.store.source_owners()?;
        let org = self.store.orgs()?.into_iter().find(|o| Some(o.id) == viewer.org_id());
        let own = |source: &str| {
            viewer.is_hub()
                || owners.iter().any(|o| o.source == source && org.as_ref().is_some_and(|g| g.name == o.org))
        };
        let mut rows = Vec::new();
        for operation in self.store.operations()? {
            let report = cordon_ops::report::load(&self.store, &operation)?;
            let name = operation.name.clone();
            rows.extend(
                report
                    .by_partner
                    .into_iter()
                    .filter(|row| own(&row.partner))
                    .map(|row| Contribution { operation: name.clone(), row }),
            );
        }
        Ok(rows)
    }
}
