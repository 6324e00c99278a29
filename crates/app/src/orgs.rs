//! Organisations, the sources they own and the sources' consents.

use cordon_model::{Consent, OrgKind, Viewer};
use cordon_store::orgs::{NewOrganisation, OrgStore, Organisation, SourceOwner};

use crate::{require_hub, App, AppError};

/// A country code as stored: two ASCII letters, uppercase.
pub fn country_code(raw: &str) -> Result<String, AppError> {
    let code = raw.trim().to_ascii_uppercase();
    if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(AppError::Invalid(format!("'{raw}' is not a two-letter country code")));
    }
    Ok(code)
}

impl App {
    /// Adds an organisation (the hub's administrators only). An agency
    /// needs its country; only a provider has AS numbers.
    pub fn add_org(&self, viewer: &Viewer, org: &NewOrganisation) -> Result<Organisation, AppError> {
        require_hub(viewer, "adding organisations")?;
        let name = org.name.trim();
        if name.is_empty() || name.chars().any(char::is_control) {
            return Err(AppError::Invalid("an organisation needs a name without control characters".into()));
        }
        if org.kind == OrgKind::Agency && org.country.is_none() {
            return Err(AppError::Invalid("an agency acts for a country: give --country CC".into()));
        }
        if org.kind != OrgKind::Provider && !org.asns.is_empty() {
            return Err(AppError::Invalid("only a provider has networks (--asn)".into()));
        }
        let country = org.country.as_deref().map(country_code).transpose()?;
        let org = NewOrganisation { name: name.to_string(), country, ..org.clone() };
        Ok(self.store.add_org(&org)?)
    }

    /// The organisations: all of them for the hub, its own for any other.
    pub fn orgs(&self, viewer: &Viewer) -> Result<Vec<Organisation>, AppError> {
        let mut orgs = self.store.orgs()?;
        if !viewer.is_hub() {
            orgs.retain(|o| Some(o.id) == viewer.org_id());
        }
        Ok(orgs)
    }

    /// Moves a source to an organisation.
    pub fn set_source_org(&self, viewer: &Viewer, source: &str, org: &str) -> Result<(), AppError> {
        require_hub(viewer, "moving sources between organisations")?;
        if self.store.org(org)?.is_none() {
            return Err(AppError::NotFound(format!("there is no organisation '{org}'")));
        }
        if !self.store.set_source_org(source, org)? {
            return Err(AppError::NotFound(format!("there is no source '{source}'")));
        }
        Ok(())
    }

    /// Records where a source's AMBER sightings may go.
    pub fn set_consent(&self, viewer: &Viewer, source: &str, consent: Consent) -> Result<(), AppError> {
        require_hub(viewer, "recording a partner's consent")?;
        if !self.store.set_consent(source, consent)? {
            return Err(AppError::NotFound(format!("there is no source '{source}'")));
        }
        Ok(())
    }

    /// Every source with its owner and consents (the hub only).
    pub fn source_owners(&self, viewer: &Viewer) -> Result<Vec<SourceOwner>, AppError> {
        require_hub(viewer, "listing who owns which source")?;
        Ok(self.store.source_owners()?)
    }
}
