//! Organisations, the sources they own and the consents of those sources:
//! what the visibility rule ([`cordon_model::may_see`]) needs to know about
//! who submitted a sighting and who is reading it.

use cordon_model::{Consent, OrgKind, Timestamp, Viewer};

use crate::StoreError;

/// An organisation of the hub's community.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Organisation {
    /// Its id, assigned by the store.
    pub id: i64,
    /// Its unique name.
    pub name: String,
    /// What it is.
    pub kind: OrgKind,
    /// For an agency: the country it acts for (ISO alpha-2, uppercase).
    pub country: Option<String>,
    /// For a provider: the AS numbers of its networks.
    pub asns: Vec<u32>,
    /// When it was created.
    pub created: Timestamp,
}

impl Organisation {
    /// The viewer that reads as a member of this organisation.
    pub fn viewer(&self) -> Viewer {
        Viewer::org(self.id, self.kind)
    }
}

/// A new organisation (`cordon org add`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewOrganisation {
    /// Its unique name.
    pub name: String,
    /// What it is (not [`OrgKind::Hub`]: a store has exactly one hub).
    pub kind: OrgKind,
    /// For an agency, its country.
    pub country: Option<String>,
    /// For a provider, its AS numbers.
    pub asns: Vec<u32>,
}

/// A source, the organisation that owns it and its consents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceOwner {
    /// The source's name.
    pub source: String,
    /// The owning organisation's name.
    pub org: String,
    /// Where its AMBER sightings may go.
    pub consent: Consent,
}

/// Storage of organisations and of which source belongs to which.
pub trait OrgStore {
    /// The hub organisation (every store has exactly one, created with it).
    fn hub(&self) -> Result<Organisation, StoreError>;

    /// Adds an organisation and returns it with its id; fails with
    /// [`StoreError::Conflict`] when the name is taken or a second hub is
    /// asked for.
    fn add_org(&self, org: &NewOrganisation) -> Result<Organisation, StoreError>;

    /// Every organisation, by name.
    fn orgs(&self) -> Result<Vec<Organisation>, StoreError>;

    /// The organisation named `name`.
    fn org(&self, name: &str) -> Result<Option<Organisation>, StoreError>;

    /// Moves a source to an organisation; false when either does not exist.
    fn set_source_org(&self, source: &str, org: &str) -> Result<bool, StoreError>;

    /// Sets where a source's AMBER sightings may go; false when there is no
    /// such source.
    fn set_consent(&self, source: &str, consent: Consent) -> Result<bool, StoreError>;

    /// Every source with its owner and consents, by source name. Hub-only
    /// information: callers show it to the hub's analysts.
    fn source_owners(&self) -> Result<Vec<SourceOwner>, StoreError>;
}
