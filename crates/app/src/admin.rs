//! Administration as front ends serve it: the shapes of users, tokens,
//! allowlist entries, contacts and sources' consents (what `cordon user
//! list --json` and its siblings print, and what the server answers), one
//! source's consent, and the status of the data files the hub enriches
//! with (the geo snapshot, the MISP warninglists). Every call is the hub's.

use std::path::Path;

use cordon_enrich::{Contact, GeoDb, Warninglists};
use cordon_model::{format_timestamp, Viewer};
use cordon_store::auth::{Token, User};
use cordon_store::enrichment::AllowEntry;
use cordon_store::orgs::SourceOwner;
use serde::Serialize;

use crate::access::CreatedToken;
use crate::protect::contact_row;
use crate::{require_hub, App, AppError};

/// A user (`cordon user list --json`): never its password hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UserView {
    /// Its address.
    pub email: String,
    /// Its organisation.
    pub org: String,
    /// Its role.
    pub role: String,
    /// Whether it was disabled.
    pub disabled: bool,
    /// Whether it has a password.
    pub password: bool,
    /// When it was added.
    pub created: String,
}

impl From<&User> for UserView {
    fn from(u: &User) -> UserView {
        UserView {
            email: u.email.clone(),
            org: u.org.clone(),
            role: u.role.clone(),
            disabled: u.disabled,
            password: u.password_hash.is_some(),
            created: format_timestamp(u.created),
        }
    }
}

/// A token (`cordon token list --json`): its prefix, never the secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TokenView {
    /// Its id.
    pub id: i64,
    /// The user it authenticates.
    pub user: String,
    /// Its first characters.
    pub prefix: String,
    /// When it was created.
    pub created: String,
    /// When it expires.
    pub expires: Option<String>,
    /// When it was revoked.
    pub revoked: Option<String>,
    /// Whether it may only read.
    pub read_only: bool,
    /// The networks it may be used from.
    pub allow_ips: Vec<String>,
    /// The secret: only in the answer that created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl From<&Token> for TokenView {
    fn from(t: &Token) -> TokenView {
        TokenView {
            id: t.id,
            user: t.user.clone(),
            prefix: t.prefix.clone(),
            created: format_timestamp(t.created),
            expires: t.expires.map(format_timestamp),
            revoked: t.revoked.map(format_timestamp),
            read_only: t.read_only,
            allow_ips: t.allow_ips.clone(),
            token: None,
        }
    }
}

impl From<&CreatedToken> for TokenView {
    fn from(created: &CreatedToken) -> TokenView {
        TokenView { token: Some(created.secret.clone()), ..TokenView::from(&created.token) }
    }
}

/// An allowlist entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AllowView {
    /// The canonical address, network or domain.
    pub value: String,
    /// Why.
    pub reason: String,
    /// When it was added.
    pub added: String,
}

impl From<&AllowEntry> for AllowView {
    fn from(e: &AllowEntry) -> AllowView {
        AllowView { value: e.value.clone(), reason: e.reason.clone(), added: format_timestamp(e.added) }
    }
}

/// A routing contact (`cordon contacts list --json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ContactEntryView {
    /// `prefix`, `asn` or `country`.
    pub kind: String,
    /// The network, AS number or country code.
    pub key: String,
    /// Who.
    pub name: String,
    /// Where to write.
    pub email: String,
    /// Their PGP key's fingerprint.
    pub pgp_fingerprint: Option<String>,
    /// Their language.
    pub language: Option<String>,
}

impl From<&Contact> for ContactEntryView {
    fn from(c: &Contact) -> ContactEntryView {
        let row = contact_row(c);
        ContactEntryView {
            kind: row.kind,
            key: row.key,
            name: row.name,
            email: row.email,
            pgp_fingerprint: row.pgp_fingerprint,
            language: row.language,
        }
    }
}

/// A source, its organisation and where its AMBER sightings may go.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConsentView {
    /// The source.
    pub source: String,
    /// The organisation it belongs to.
    pub org: String,
    /// The recipient classes its AMBER sightings may go to (`agencies`,
    /// `providers`); empty: none.
    pub amber_to: Vec<&'static str>,
}

impl From<&SourceOwner> for ConsentView {
    fn from(s: &SourceOwner) -> ConsentView {
        let classes = [("agencies", s.consent.agencies), ("providers", s.consent.providers)];
        ConsentView {
            source: s.source.clone(),
            org: s.org.clone(),
            amber_to: classes.into_iter().filter(|(_, yes)| *yes).map(|(name, _)| name).collect(),
        }
    }
}

/// The geo snapshot the hub enriches with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GeoStatus {
    /// Where it is looked for.
    pub path: String,
    /// Whether a file is there.
    pub present: bool,
    /// Whether it loads (checksum and format verified).
    pub valid: bool,
    /// When the file was last written.
    pub modified: Option<String>,
    /// Its size in bytes.
    pub bytes: u64,
    /// IPv4 and IPv6 segments, records and organisations, when it loads.
    pub v4_segments: usize,
    /// IPv6 segments.
    pub v6_segments: usize,
    /// Distinct (ASN, organisation, country) records.
    pub records: usize,
    /// Distinct organisation names.
    pub orgs: usize,
    /// Why it does not load, or how to get one.
    pub problem: Option<String>,
}

/// One warninglist that is present.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WarninglistView {
    /// Its name.
    pub name: String,
    /// Its type (`cidr`, `hostname`, `string`, `substring`, `regex`).
    pub list_type: &'static str,
    /// Entries in its file.
    pub entries: usize,
    /// Its version (a date, as MISP writes it).
    pub version: u64,
    /// Whether any cordon observable can match it.
    pub applies: bool,
}

/// The MISP warninglists present beside the store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WarninglistsStatus {
    /// Where they are looked for.
    pub path: String,
    /// Whether the directory holds any list.
    pub present: bool,
    /// The fetched package's version (`VERSION`), when recorded.
    pub version: Option<String>,
    /// The lists, by name.
    pub lists: Vec<WarninglistView>,
    /// Files that did not load, as `file: reason`.
    pub problems: Vec<String>,
}

/// The data files the hub enriches with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DataStatus {
    /// The geo snapshot.
    pub geo: GeoStatus,
    /// The warninglists.
    pub warninglists: WarninglistsStatus,
}

impl App {
    /// One source's owner and consent (the hub only).
    pub fn source_consent(&self, viewer: &Viewer, source: &str) -> Result<SourceOwner, AppError> {
        self.source_owners(viewer)?
            .into_iter()
            .find(|s| s.source == source)
            .ok_or_else(|| AppError::NotFound(format!("there is no source '{source}'")))
    }

    /// Which geo snapshot and warninglists are there, with their dates and
    /// sizes (the hub only). Loads both to check them: a broken file is
    /// reported, never an error of the call.
    pub fn data_status(&self, viewer: &Viewer) -> Result<DataStatus, AppError> {
        require_hub(viewer, "reading the data files' status")?;
        Ok(DataStatus {
            geo: geo_status(self.geo_path()),
            warninglists: warninglists_status(&self.config.warninglists),
        })
    }
}

fn geo_status(path: &Path) -> GeoStatus {
    let metadata = std::fs::metadata(path).ok().filter(|m| m.is_file());
    let modified = metadata
        .as_ref()
        .and_then(|m| m.modified().ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok().map(|d| format_timestamp(d.as_secs() as i64)));
    let mut status = GeoStatus {
        path: path.display().to_string(),
        present: metadata.is_some(),
        valid: false,
        modified,
        bytes: metadata.as_ref().map_or(0, |m| m.len()),
        v4_segments: 0,
        v6_segments: 0,
        records: 0,
        orgs: 0,
        problem: None,
    };
    if !status.present {
        status.problem = Some(format!("no geo snapshot: {}", crate::GEO_HELP));
        return status;
    }
    match GeoDb::load(path) {
        Ok(db) => {
            let stats = db.stats();
            status.valid = true;
            (status.v4_segments, status.v6_segments) = (stats.v4_segments, stats.v6_segments);
            (status.records, status.orgs) = (stats.records, stats.orgs);
        }
        Err(e) => status.problem = Some(e.to_string()),
    }
    status
}

fn warninglists_status(dir: &Path) -> WarninglistsStatus {
    let version = std::fs::read_to_string(dir.join("VERSION")).ok().map(|v| v.trim().to_string());
    let mut status = WarninglistsStatus {
        path: dir.display().to_string(),
        present: false,
        version,
        lists: Vec::new(),
        problems: Vec::new(),
    };
    match Warninglists::load_dir(dir) {
        Ok((lists, diagnostics)) => {
            status.present = true;
            status.lists = lists
                .lists()
                .map(|l| WarninglistView {
                    name: l.name.to_string(),
                    list_type: l.list_type.as_str(),
                    entries: l.entries,
                    version: l.version,
                    applies: l.applies,
                })
                .collect();
            status.problems = diagnostics.iter().map(ToString::to_string).collect();
        }
        Err(e) => status.problems.push(format!("{e} (fetch them with scripts/fetch-warninglists.sh)")),
    }
    status
}
