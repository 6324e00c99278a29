//! TAXII collections: views of the indicators that the hub defines, who may
//! read and write each, what a collection holds for a reader (built from
//! the sightings the reader may see, through the store's one visibility
//! rule) and objects posted to it (an import as the writer's
//! organisation, through the same pipeline as a submission).

use cordon_ingest::{FileReport, IngestOptions};
use cordon_model::{Category, Kind, Tlp, Viewer};
use cordon_store::collections::{
    Collection, CollectionObject, CollectionSpec, CollectionStore, Deletion, Member, Readers,
};
use cordon_store::ops::OpsStore;
use cordon_store::orgs::OrgStore;

use crate::intake::Input;
use crate::{require_hub, App, AppError};

/// What `cordon collection add` asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewCollection {
    /// The unique name (also the TAXII alias).
    pub name: String,
    /// The title (the name when `None`).
    pub title: Option<String>,
    /// What it holds.
    pub description: Option<String>,
    /// Only sightings of these categories.
    pub categories: Vec<Category>,
    /// Only indicators of these kinds.
    pub kinds: Vec<Kind>,
    /// Only indicators of at least this combined confidence.
    pub min_confidence: Option<u8>,
    /// Only sightings up to this TLP (GREEN when `None`: what may go to a
    /// community of defenders, as exports default to).
    pub tlp_max: Option<Tlp>,
    /// Only sightings of this operation's imports.
    pub operation: Option<String>,
    /// Only these organisations read it (empty: every organisation).
    pub readers: Vec<String>,
    /// Anyone reads it, TLP:CLEAR only.
    pub public_clear: bool,
    /// These organisations may post to it.
    pub writers: Vec<String>,
}

/// What a caller may do with a collection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CollectionAccess {
    /// Read its objects.
    pub read: bool,
    /// Post objects to it (and delete its own).
    pub write: bool,
}

/// What `viewer` may do with `collection`: the hub reads everything and
/// writes where it likes; others read as the collection's readers say and
/// write where they are writers.
pub fn access(collection: &Collection, viewer: &Viewer) -> CollectionAccess {
    if viewer.is_hub() {
        return CollectionAccess { read: true, write: true };
    }
    let org = viewer.org_id();
    let read = match &collection.spec.readers {
        Readers::PublicClear => true,
        Readers::Community => org.is_some(),
        Readers::Orgs(orgs) => orgs.iter().any(|m| Some(m.id) == org),
    };
    let write = collection.spec.writers.iter().any(|m| Some(m.id) == org);
    CollectionAccess { read, write }
}

/// The name every collection must have: letters, digits, `-`, `_`, `.`.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

impl App {
    /// Adds a collection (the hub's work). Readers and writers must be
    /// organisations of the store; `--readers` and `--public-clear`
    /// exclude each other.
    pub fn add_collection(&self, viewer: &Viewer, new: &NewCollection) -> Result<Collection, AppError> {
        require_hub(viewer, "defining collections")?;
        if !valid_name(&new.name) {
            return Err(AppError::Invalid(format!(
                "'{}' is not a collection name (letters, digits, '-', '_' and '.', at most 64)",
                new.name.escape_debug()
            )));
        }
        if new.public_clear && !new.readers.is_empty() {
            return Err(AppError::Invalid("--readers and --public-clear exclude each other".into()));
        }
        if new.min_confidence.is_some_and(|c| c > 100) {
            return Err(AppError::Invalid("--min-confidence is at most 100".into()));
        }
        let members = |names: &[String]| -> Result<Vec<Member>, AppError> {
            names
                .iter()
                .map(|name| match self.store.org(name)? {
                    Some(org) => Ok(Member { id: org.id, name: org.name }),
                    None => {
                        Err(AppError::NotFound(format!("there is no organisation '{name}' (see `cordon org list`)")))
                    }
                })
                .collect()
        };
        let readers = if new.public_clear {
            Readers::PublicClear
        } else if new.readers.is_empty() {
            Readers::Community
        } else {
            Readers::Orgs(members(&new.readers)?)
        };
        let spec = CollectionSpec {
            name: new.name.clone(),
            title: new.title.clone().unwrap_or_else(|| new.name.clone()),
            description: new.description.clone().unwrap_or_default(),
            categories: new.categories.clone(),
            kinds: new.kinds.clone(),
            min_confidence: new.min_confidence,
            tlp_max: new.tlp_max.unwrap_or(Tlp::Green),
            operation: new.operation.clone(),
            readers,
            writers: members(&new.writers)?,
        };
        Ok(self.store.add_collection(&spec)?)
    }

    /// Every collection (the hub's list).
    pub fn collections(&self, viewer: &Viewer) -> Result<Vec<Collection>, AppError> {
        require_hub(viewer, "listing every collection")?;
        Ok(self.store.collections()?)
    }

    /// Removes a collection (the hub's work).
    pub fn remove_collection(&self, viewer: &Viewer, name: &str) -> Result<(), AppError> {
        require_hub(viewer, "removing collections")?;
        if !self.store.remove_collection(name)? {
            return Err(AppError::NotFound(format!("there is no collection '{name}'")));
        }
        Ok(())
    }

    /// The collections `viewer` may read or write, by name, with what it
    /// may do; the others do not exist for it.
    pub fn collections_for(&self, viewer: &Viewer) -> Result<Vec<(Collection, CollectionAccess)>, AppError> {
        let mut out = Vec::new();
        for collection in self.store.collections()? {
            let access = access(&collection, viewer);
            if access.read || access.write {
                out.push((collection, access));
            }
        }
        Ok(out)
    }

    /// The collection of TAXII id (or name) `id` that `viewer` may read or
    /// write; [`AppError::NotFound`] otherwise, saying nothing of whether it
    /// exists.
    pub fn collection_for(&self, viewer: &Viewer, id: &str) -> Result<(Collection, CollectionAccess), AppError> {
        self.collections_for(viewer)?
            .into_iter()
            .find(|(c, _)| c.uuid == id || c.spec.name == id)
            .ok_or_else(|| AppError::NotFound("there is no such collection".into()))
    }

    /// Streams what `collection` holds for `viewer` (only the indicators of
    /// `only` when given): objects built from the sightings it selects that
    /// the viewer may see. A public collection is read as the public reads
    /// it, TLP:CLEAR only, whoever asks. [`AppError::NotFound`] when the
    /// viewer may not read it.
    pub fn collection_objects(
        &self,
        viewer: &Viewer,
        collection: &Collection,
        only: Option<&[i64]>,
        each: &mut dyn FnMut(CollectionObject),
    ) -> Result<(), AppError> {
        if !access(collection, viewer).read {
            return Err(AppError::NotFound("there is no such collection".into()));
        }
        if collection.spec.readers == Readers::PublicClear {
            let mut public = collection.clone();
            public.spec.tlp_max = public.spec.tlp_max.min(Tlp::Clear);
            return Ok(self.store.collection_objects(&public, &Viewer::Public, only, each)?);
        }
        Ok(self.store.collection_objects(collection, viewer, only, each)?)
    }

    /// Imports STIX objects posted to `collection` (a TAXII envelope or a
    /// bundle, `bytes`) as a submission of `viewer`'s organisation, attached
    /// to the collection's operation if it has one; a collection of one
    /// category gives that category to objects that state none. Posting the
    /// same objects again adds nothing.
    pub fn post_to_collection(
        &self,
        viewer: &Viewer,
        collection: &Collection,
        bytes: &[u8],
    ) -> Result<FileReport, AppError> {
        if !access(collection, viewer).write {
            return Err(AppError::Forbidden("the caller may not add objects to this collection".into()));
        }
        let options = IngestOptions {
            format: Some(cordon_formats::Format::Stix),
            category: match collection.spec.categories.as_slice() {
                [one] => Some(*one),
                _ => None,
            },
            ..IngestOptions::default()
        };
        let name = format!("taxii:{}", collection.spec.name);
        let report = self.submit(viewer, None, Input::Bytes { name: &name, bytes }, &options)?;
        if let (Some(operation), Some(import)) = (&collection.spec.operation, report.import_id) {
            self.store.attach_import(operation, import)?;
        }
        Ok(report)
    }

    /// Deletes from `collection` the sightings of indicator `indicator_id`
    /// that it selects and that `viewer`'s organisation submitted (the hub:
    /// all of them), only those naming malware family `malware` when
    /// given, and only those that made one of `versions` (an object's
    /// versions: the dates its sightings entered or were last written, in
    /// microseconds) when given; returns how many.
    pub fn delete_from_collection(
        &self,
        viewer: &Viewer,
        collection: &Collection,
        indicator_id: i64,
        malware: Option<&str>,
        versions: Option<&[i64]>,
    ) -> Result<u64, AppError> {
        if !access(collection, viewer).write {
            return Err(AppError::Forbidden("the caller may not delete objects of this collection".into()));
        }
        let org = if viewer.is_hub() { None } else { viewer.org_id() };
        if org.is_none() && !viewer.is_hub() {
            return Err(AppError::Forbidden("the public cannot delete".into()));
        }
        let deletion = Deletion { indicator_id, malware, org_id: org, versions };
        Ok(self.store.delete_collection_sightings(collection, &deletion)?)
    }

    /// Keeps the status of a POST by `viewer` to `collection`.
    pub fn put_status(&self, viewer: &Viewer, collection: &Collection, id: &str, body: &str) -> Result<(), AppError> {
        let org = viewer.org_id().ok_or_else(|| AppError::Forbidden("the public cannot post".into()))?;
        Ok(self.store.put_status(id, collection, org, body)?)
    }

    /// The status `id` of a POST by `viewer`'s organisation;
    /// [`AppError::NotFound`] for anyone else's.
    pub fn status(&self, viewer: &Viewer, id: &str) -> Result<String, AppError> {
        let missing = || AppError::NotFound("there is no such status".into());
        let org = viewer.org_id().ok_or_else(missing)?;
        self.store.status(id, org)?.ok_or_else(missing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cordon_model::OrgKind;
    use cordon_store::orgs::NewOrganisation;

    fn app() -> (tempfile::TempDir, App, Viewer) {
        let dir = tempfile::tempdir().unwrap();
        let app = App::open(&crate::Config::new(dir.path().join("c.db"))).unwrap();
        let hub = app.viewer(None).unwrap();
        for (name, kind) in [("alpha", OrgKind::Partner), ("soc", OrgKind::Defender)] {
            app.add_org(&hub, &NewOrganisation { name: name.into(), kind, country: None, asns: vec![] }).unwrap();
        }
        (dir, app, hub)
    }

    #[test]
    fn readers_and_writers_decide_access() {
        let (_dir, app, hub) = app();
        let alpha = app.viewer(Some("alpha")).unwrap();
        let soc = app.viewer(Some("soc")).unwrap();
        let new = |name: &str, readers: &[&str], public_clear| NewCollection {
            name: name.into(),
            readers: readers.iter().map(|r| r.to_string()).collect(),
            public_clear,
            writers: vec!["alpha".into()],
            ..NewCollection::default()
        };
        let community = app.add_collection(&hub, &new("all", &[], false)).unwrap();
        let only_alpha = app.add_collection(&hub, &new("alpha", &["alpha"], false)).unwrap();
        let public = app.add_collection(&hub, &new("public", &[], true)).unwrap();
        let rw = |read, write| CollectionAccess { read, write };
        assert_eq!(access(&community, &soc), rw(true, false));
        assert_eq!(access(&community, &alpha), rw(true, true));
        assert_eq!(access(&only_alpha, &soc), rw(false, false));
        assert_eq!(access(&only_alpha, &hub), rw(true, true));
        assert_eq!(access(&public, &Viewer::Public), rw(true, false));
        assert_eq!(access(&community, &Viewer::Public), rw(false, false));
        let names: Vec<String> = app.collections_for(&soc).unwrap().into_iter().map(|(c, _)| c.spec.name).collect();
        assert_eq!(names, ["all", "public"]);
        assert!(matches!(app.collection_for(&soc, &only_alpha.uuid), Err(AppError::NotFound(_))));
        assert!(matches!(app.collection_objects(&soc, &only_alpha, None, &mut |_| {}), Err(AppError::NotFound(_))));
        assert!(matches!(app.post_to_collection(&soc, &community, b"{}"), Err(AppError::Forbidden(_))));
    }

    #[test]
    fn only_the_hub_defines_collections_and_names_must_exist() {
        let (_dir, app, hub) = app();
        let soc = app.viewer(Some("soc")).unwrap();
        let new = NewCollection { name: "x".into(), ..NewCollection::default() };
        assert!(matches!(app.add_collection(&soc, &new), Err(AppError::Forbidden(_))));
        let unknown = NewCollection { writers: vec!["nobody".into()], ..new.clone() };
        assert!(matches!(app.add_collection(&hub, &unknown), Err(AppError::NotFound(_))));
        let both = NewCollection { readers: vec!["soc".into()], public_clear: true, ..new.clone() };
        assert!(matches!(app.add_collection(&hub, &both), Err(AppError::Invalid(_))));
        let bad_name = NewCollection { name: "a b".into(), ..new.clone() };
        assert!(matches!(app.add_collection(&hub, &bad_name), Err(AppError::Invalid(_))));
        let op = NewCollection { operation: Some("none".into()), ..new.clone() };
        assert!(matches!(app.add_collection(&hub, &op), Err(AppError::Conflict(_))));
        let made = app.add_collection(&hub, &new).unwrap();
        assert_eq!(made.spec.tlp_max, Tlp::Green, "GREEN unless told otherwise");
        assert!(matches!(app.add_collection(&hub, &new), Err(AppError::Conflict(_))));
        app.remove_collection(&hub, "x").unwrap();
        assert!(matches!(app.remove_collection(&hub, "x"), Err(AppError::NotFound(_))));
    }

    #[test]
    fn import_dates_are_microseconds_strictly_increasing() {
        let (_dir, app, hub) = app();
        let collection = app
            .add_collection(
                &hub,
                &NewCollection { name: "all".into(), tlp_max: Some(Tlp::Red), ..NewCollection::default() },
            )
            .unwrap();
        let mut dates = Vec::new();
        for value in ["45.9.20.31", "45.9.20.32", "45.9.20.31"] {
            let options = IngestOptions { source: "alpha".into(), ..IngestOptions::default() };
            app.ingest(&hub, Input::Bytes { name: "f", bytes: value.as_bytes() }, &options, None, &mut |_| {}).unwrap();
            let mut latest = 0;
            app.collection_objects(&hub, &collection, None, &mut |o| latest = latest.max(o.modified_us)).unwrap();
            dates.push(latest);
        }
        assert!(dates.windows(2).all(|w| w[0] < w[1]), "{dates:?}");
        assert!(dates[0] > 1_700_000_000_000_000, "microseconds since the epoch: {dates:?}");
    }
}
