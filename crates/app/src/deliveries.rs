//! What the hub hands to the outside, as each recipient may fetch it: an
//! agency its country's packages, a provider the notifications about its
//! own networks; and moving many targets at once, all or none.
//!
//! Another organisation's package or notification does not exist for the
//! caller ([`AppError::NotFound`]), and a provider's notifications are built
//! only from the sightings that may go to a provider
//! ([`cordon_ops::tlp::may_pass_on`]): CLEAR, GREEN, and AMBER whose source
//! consented to providers.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use cordon_model::{format_timestamp, most_restrictive, OrgKind, Viewer};
use cordon_ops::lifecycle::RejectReason;
use cordon_ops::package::{files, sha256};
use cordon_ops::tlp::{may_pass_on, Recipient};
use cordon_ops::workflow::{transition, Actor};
use cordon_store::deliveries::{DeliveryStore, PackageRecord};
use cordon_store::ops::{Evidence, OpsStore, Target, TargetFilter, TargetState};
use cordon_store::orgs::OrgStore;
use cordon_store::StoreError;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::operations::agency_view;
use crate::{App, AppError};

/// The most targets one bulk transition moves.
pub const MAX_BULK_TARGETS: usize = 10_000;

/// One country's newest package of an operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PackageView {
    /// The country.
    pub country: String,
    /// When it was written.
    pub created: String,
    /// Targets in it.
    pub targets: u64,
    /// The SHA-256 of its manifest, as recorded when it was written.
    pub manifest_sha256: String,
    /// Its files, each downloadable by name.
    pub files: Vec<&'static str>,
}

impl From<&PackageRecord> for PackageView {
    fn from(p: &PackageRecord) -> PackageView {
        PackageView {
            country: p.country.clone(),
            created: format_timestamp(p.created),
            targets: p.targets,
            manifest_sha256: p.manifest_sha256.clone(),
            files: files(p.targets).to_vec(),
        }
    }
}

/// One sighting as a provider's notification describes it: no source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NoticeEvidence {
    /// The indicator.
    pub value: String,
    /// Its kind.
    pub kind: &'static str,
    /// What it is.
    pub category: &'static str,
    /// The malware family.
    pub malware: Option<String>,
    /// Its TLP.
    pub tlp: &'static str,
    /// The port.
    pub port: Option<u16>,
    /// First seen.
    pub first_seen: String,
    /// Last seen.
    pub last_seen: String,
}

/// One target a provider was notified about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NotificationView {
    /// The operation's name.
    pub operation: String,
    /// The message's Message-ID.
    pub message_id: String,
    /// When it was written.
    pub time: String,
    /// The target's id.
    pub target: i64,
    /// Its address, network or domain.
    pub key: String,
    /// Its state now.
    pub state: &'static str,
    /// Its announcing ASN.
    pub asn: Option<u32>,
    /// The most restrictive TLP among the evidence.
    pub tlp: &'static str,
    /// What the provider may know of it.
    pub evidence: Vec<NoticeEvidence>,
}

/// What happened to one target of a bulk transition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MoveResult {
    /// The target's id.
    pub id: i64,
    /// `moved`, `movable` (it would have moved, but another did not),
    /// `refused` (the lifecycle forbids it) or `not-found`.
    pub outcome: &'static str,
    /// Its state before.
    pub from: Option<&'static str>,
    /// Why it was refused.
    pub detail: Option<String>,
}

/// The answer of a bulk transition: every target moved, or none.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BulkMove {
    /// Whether the moves were written (all of them).
    pub applied: bool,
    /// One result per target asked, in the order asked.
    pub results: Vec<MoveResult>,
}

fn evidence_view(e: &Evidence) -> NoticeEvidence {
    NoticeEvidence {
        value: e.value.clone(),
        kind: e.kind.as_str(),
        category: e.category.as_str(),
        malware: e.malware.clone(),
        tlp: e.tlp.as_str(),
        port: e.port,
        first_seen: format_timestamp(e.first_seen),
        last_seen: format_timestamp(e.last_seen),
    }
}

impl App {
    /// The countries whose packages `viewer` may fetch: every one for the
    /// hub (`None`), its own for an agency; anyone else is refused.
    fn package_countries(&self, viewer: &Viewer) -> Result<Option<String>, AppError> {
        if viewer.is_hub() {
            return Ok(None);
        }
        match self.agency_country(viewer)? {
            Some(country) => Ok(Some(country)),
            None => Err(AppError::Forbidden("packages are the hub's and the agencies' work".into())),
        }
    }

    /// The newest package of each country of the operation that `viewer`
    /// may fetch, by country.
    pub fn packages(&self, viewer: &Viewer, operation: &str) -> Result<Vec<PackageView>, AppError> {
        let only = self.package_countries(viewer)?;
        let operation = self.operation(operation)?;
        let mut newest: BTreeMap<String, PackageRecord> = BTreeMap::new();
        for record in self.store.packages(operation.id)? {
            if only.as_deref().is_none_or(|c| c == record.country) {
                newest.insert(record.country.clone(), record);
            }
        }
        Ok(newest.values().map(PackageView::from).collect())
    }

    /// One file of a country's newest package, checked against what was
    /// recorded when it was written: the manifest against its recorded
    /// SHA-256, the file against the manifest (read through once, a
    /// buffer at a time). Another country's package does not exist for an
    /// agency; a file changed on disk since is a conflict, never served.
    /// The answer is the open file, checked again as it is read
    /// ([`PackageFile`]).
    pub fn package_file(
        &self,
        viewer: &Viewer,
        operation: &str,
        country: &str,
        file: &str,
    ) -> Result<PackageFile, AppError> {
        let missing = || AppError::NotFound(format!("there is no package file {country}/{file}"));
        let only = self.package_countries(viewer)?;
        let country = country.to_ascii_uppercase();
        if only.as_deref().is_some_and(|c| c != country) {
            return Err(missing());
        }
        let operation = self.operation(operation)?;
        let record =
            self.store.packages(operation.id)?.into_iter().rev().find(|p| p.country == country).ok_or_else(missing)?;
        if !files(record.targets).contains(&file) {
            return Err(missing());
        }
        let dir = Path::new(&record.path);
        let gone = |name: &str, e: std::io::Error| AppError::NotFound(format!("{country}/{name} is gone: {e}"));
        let changed =
            || AppError::Conflict(format!("{country}/{file} changed since it was written: rebuild the package"));
        let manifest = std::fs::read(dir.join("manifest.json")).map_err(|e| gone("manifest.json", e))?;
        if sha256(&manifest) != record.manifest_sha256 {
            return Err(changed());
        }
        let wanted = if file == "manifest.json" {
            record.manifest_sha256.clone()
        } else {
            let listed: serde_json::Value = serde_json::from_slice(&manifest).map_err(|_| changed())?;
            listed["files"]
                .as_array()
                .and_then(|files| files.iter().find(|f| f["name"] == file))
                .and_then(|f| f["sha256"].as_str())
                .ok_or_else(changed)?
                .to_string()
        };
        let mut opened = std::fs::File::open(dir.join(file)).map_err(|e| gone(file, e))?;
        if sha256_of(&mut opened).map_err(|e| gone(file, e))? != wanted {
            return Err(changed());
        }
        opened.seek(SeekFrom::Start(0)).map_err(|e| gone(file, e))?;
        let len = opened.metadata().map_err(|e| gone(file, e))?.len();
        Ok(PackageFile { file: opened, len, sha256: wanted, hasher: Some(Sha256::new()), read: 0 })
    }

    /// The notifications about the networks of `asn` (the hub: any ASN;
    /// a provider: its own, every one of them when `None`), oldest first,
    /// each described only by what may go to a provider. Anyone else is
    /// refused.
    pub fn notifications(&self, viewer: &Viewer, asn: Option<u32>) -> Result<Vec<NotificationView>, AppError> {
        let asns = if viewer.is_hub() {
            vec![asn.ok_or_else(|| AppError::Invalid("the hub names the provider's network: give asn".into()))?]
        } else if viewer.kind() == Some(OrgKind::Provider) {
            let org = self.store.orgs()?.into_iter().find(|o| Some(o.id) == viewer.org_id());
            let mut own = org.map(|o| o.asns).unwrap_or_default();
            own.retain(|a| asn.is_none_or(|wanted| wanted == *a));
            own
        } else {
            return Err(AppError::Forbidden("notifications are for the providers they are about".into()));
        };
        let operations: HashMap<i64, String> = self.store.operations()?.into_iter().map(|o| (o.id, o.name)).collect();
        let mut out = Vec::new();
        for asn in asns {
            let targets: HashMap<i64, Target> = self
                .store
                .targets(&TargetFilter { asn: Some(asn), ..TargetFilter::default() })?
                .into_iter()
                .map(|t| (t.id, t))
                .collect();
            let ids: Vec<i64> = targets.keys().copied().collect();
            let mut shared: HashMap<i64, Vec<Evidence>> = HashMap::new();
            for e in self.store.evidence(&ids)?.into_iter().filter(|e| may_pass_on(Recipient::Provider, e)) {
                shared.entry(e.target_id).or_default().push(e);
            }
            for notice in self.store.notifications(asn)? {
                let (Some(target), Some(evidence)) = (targets.get(&notice.target_id), shared.get(&notice.target_id))
                else {
                    continue;
                };
                let tlp = most_restrictive(evidence.iter().map(|e| e.tlp)).unwrap_or(cordon_model::Tlp::Clear);
                out.push(NotificationView {
                    operation: operations.get(&notice.operation_id).cloned().unwrap_or_default(),
                    message_id: notice.message_id,
                    time: format_timestamp(notice.time),
                    target: target.id,
                    key: target.spec.key.clone(),
                    state: target.state.as_str(),
                    asn: target.spec.asn,
                    tlp: tlp.as_str(),
                    evidence: evidence.iter().map(evidence_view).collect(),
                });
            }
        }
        Ok(out)
    }

    /// Moves the operation's targets `ids` to `to` with one note, in one
    /// transaction: all of them, or none when any is unknown to `viewer`
    /// or refused by the lifecycle (the answer then says which and why).
    /// An agency moves its country's targets (those it may see something
    /// of) to taken-down or rejected only; at most [`MAX_BULK_TARGETS`].
    pub fn transition_many(
        &self,
        viewer: &Viewer,
        operation: &str,
        ids: &[i64],
        to: TargetState,
        reason: Option<RejectReason>,
        actor: &Actor,
    ) -> Result<BulkMove, AppError> {
        if ids.len() > MAX_BULK_TARGETS {
            return Err(AppError::Invalid(format!("at most {MAX_BULK_TARGETS} targets at once")));
        }
        let country = if viewer.is_hub() {
            None
        } else {
            let Some(country) = self.agency_country(viewer)? else {
                return Err(AppError::Forbidden("moving targets is the hub's and the agencies' work".into()));
            };
            if !matches!(to, TargetState::TakenDown | TargetState::Rejected) {
                return Err(AppError::Forbidden("an agency records takedowns and rejections only".into()));
            }
            Some(country)
        };
        let operation = self.operation(operation)?;
        let mut results = Vec::new();
        let mut applied = false;
        let outcome = self.store.atomically(&mut |store| {
            results.clear();
            let filter =
                TargetFilter { operation_id: Some(operation.id), country: country.clone(), ..Default::default() };
            let mut known: HashMap<i64, Target> = store.targets(&filter)?.into_iter().map(|t| (t.id, t)).collect();
            if country.is_some() {
                let evidence = store.evidence(&known.keys().copied().collect::<Vec<_>>())?;
                known.retain(|_, t| agency_view(t, &evidence).is_some());
            }
            let mut asked: Vec<i64> = Vec::new();
            for id in ids {
                if !asked.contains(id) {
                    asked.push(*id);
                }
            }
            let found: Vec<Target> = asked.iter().filter_map(|id| known.get(id).cloned()).collect();
            let before = store.states(&found.iter().map(|t| t.id).collect::<Vec<_>>())?;
            let summary = transition(store, &found, to, reason, actor).map_err(|e| match e {
                cordon_ops::OpsError::Store(e) => e,
                other => StoreError::Aborted(other.to_string()),
            })?;
            let refused: HashMap<i64, String> = summary.refused.iter().map(|(id, e)| (*id, e.to_string())).collect();
            applied = refused.is_empty() && found.len() == asked.len();
            for id in &asked {
                let from = before.get(id).map(|s| s.as_str());
                let (outcome, detail) = match (known.contains_key(id), refused.get(id)) {
                    (false, _) => ("not-found", Some(format!("there is no target #{id} in this operation"))),
                    (true, Some(why)) => ("refused", Some(why.clone())),
                    (true, None) => (if applied { "moved" } else { "movable" }, None),
                };
                results.push(MoveResult { id: *id, outcome, from: from.filter(|_| known.contains_key(id)), detail });
            }
            if applied {
                Ok(())
            } else {
                Err(StoreError::Aborted("a target was refused or unknown: nothing moved".into()))
            }
        });
        match outcome {
            Ok(()) => {}
            Err(StoreError::Aborted(_)) if !applied && !results.is_empty() => {}
            Err(e) => return Err(e.into()),
        }
        Ok(BulkMove { applied, results })
    }
}

/// A package file checked against its manifest and open at its start
/// ([`App::package_file`]). Reading it hashes what is read: a file changed
/// on disk since it was checked (or grown, or shrunk) is an error when its
/// end is reached, so a streamed answer is cut off, never complete-looking.
#[derive(Debug)]
pub struct PackageFile {
    file: File,
    len: u64,
    sha256: String,
    /// `None` once the end was read and checked.
    hasher: Option<Sha256>,
    read: u64,
}

impl PackageFile {
    /// Its size in bytes when it was checked.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Read for PackageFile {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let changed =
            || std::io::Error::new(std::io::ErrorKind::InvalidData, "the package file changed while it was sent");
        let n = self.file.read(buf)?;
        // Once its end was checked there is nothing more to read.
        let Some(hasher) = self.hasher.as_mut() else {
            return if n == 0 { Ok(0) } else { Err(changed()) };
        };
        if n > 0 {
            hasher.update(&buf[..n]);
            self.read += n as u64;
            return Ok(n);
        }
        let digest = self.hasher.take().map(|h| hex::encode(h.finalize())).unwrap_or_default();
        if self.read != self.len || digest != self.sha256 {
            return Err(changed());
        }
        Ok(0)
    }
}

/// The lowercase hex SHA-256 of what `reader` holds, read a buffer at a
/// time.
fn sha256_of(reader: &mut dyn Read) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    std::io::copy(reader, &mut hasher)?;
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use super::{sha256_of, PackageFile};
    use sha2::{Digest, Sha256};

    /// A package file opened after it was checked, as the application
    /// hands it out.
    fn opened(path: &std::path::Path, bytes: &[u8]) -> PackageFile {
        let sha256 = sha256_of(&mut &bytes[..]).unwrap();
        let file = std::fs::File::open(path).unwrap();
        PackageFile { file, len: bytes.len() as u64, sha256, hasher: Some(Sha256::new()), read: 0 }
    }

    #[test]
    fn an_unchanged_file_reads_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("targets.csv");
        let bytes = b"ip,country\n45.9.20.31,RO\n".repeat(1000);
        std::fs::write(&path, &bytes).unwrap();
        let mut file = opened(&path, &bytes);
        let mut read = Vec::new();
        file.read_to_end(&mut read).unwrap();
        assert_eq!(read, bytes);
        assert_eq!(file.read(&mut [0; 16]).unwrap(), 0, "nothing after the end");
    }

    /// Changed, grown or shrunk on disk after the check: the read ends in
    /// an error, never in a complete-looking body.
    #[test]
    fn a_file_changed_while_read_ends_in_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("targets.csv");
        let bytes = b"ip,country\n45.9.20.31,RO\n".repeat(1000);
        type Change<'a> = &'a dyn Fn(&std::path::Path);
        let changes: [(&str, Change); 3] = [
            ("changed", &|p| {
                let mut changed = bytes.clone();
                changed[5] = b'X';
                std::fs::write(p, changed).unwrap();
            }),
            ("grown", &|p| {
                std::fs::OpenOptions::new().append(true).open(p).unwrap().write_all(b"1.2.3.4,US\n").unwrap();
            }),
            ("shrunk", &|p| std::fs::write(p, &bytes[..100]).unwrap()),
        ];
        for (what, change) in changes {
            std::fs::write(&path, &bytes).unwrap();
            let mut file = opened(&path, &bytes);
            change(&path);
            let error = file.read_to_end(&mut Vec::new()).unwrap_err();
            assert_eq!(error.kind(), std::io::ErrorKind::InvalidData, "{what}");
        }
    }
}
