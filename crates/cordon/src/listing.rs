//! What `lookup` and `scan` match against: list files compiled into an
//! [`IpMap`] ([`Listing`]), or the store's IP-based indicators as the viewer
//! sees them ([`StoreIndex`] for lookups, [`store_set`] for the scanner).
//!
//! For the store, what is compiled is cached in snapshot files beside the
//! database (for PostgreSQL, in the user's private cache directory), each
//! readable by its owner only and holding the netset layout (`IpMap::write_layout`,
//! `IpSet::write_layout`) behind a stamp line with the store's identity,
//! its generation and the view (who reads, up to which TLP):
//! `<db>.lookup-<view>` holds the network (CIDR) indicators as an `IpMap`
//! of entry ids, `<db>.scan-<view>` the set of every listed address and
//! network. Loading reads the layout straight back (no parsing, sorting or
//! sweeping), so a warm lookup costs the network index plus point reads.
//! A snapshot of another store, another generation or another view is never
//! used; one that is damaged or of another layout version is reported and
//! rebuilt; both are re-read from the store and rewritten (through a
//! temporary file of their own, renamed into place).
//!
//! Explanations (categories, sources, confidence) are not in the
//! snapshots: a lookup reads them from the store for the matched entries
//! only (the address itself, then each network holding it), through the
//! store's visibility-checked point read, so a snapshot never decides what
//! a viewer may see about an indicator.

use std::io::{BufWriter, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use cordon_app::{App, AppError};
use cordon_model::{Kind, Tlp, Viewer};
use cordon_netset::{IpMap, IpMapBuilder, IpSet, LayoutError};
use cordon_store::{IndicatorFilter, IndicatorSummary};
use ipnet::IpNet;

/// One listed network and why it is listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The indicator (an address or CIDR) or list entry.
    pub(crate) indicator: String,
    /// Its categories.
    pub(crate) categories: Vec<String>,
    /// Its sources (for `--list`, the list file).
    pub(crate) sources: Vec<String>,
    /// Its combined confidence (`None` for lists).
    pub(crate) confidence: Option<u8>,
}

/// Networks of list files, compiled for lookups.
pub(crate) struct Listing {
    /// The listed networks; entry `i` explains `nets[i]`.
    nets: Vec<IpNet>,
    /// `(first network index, file)`, in order; built into entries only
    /// for the networks a lookup hits.
    files: Vec<(usize, String)>,
    /// The networks as a set, for the scanner's fast path.
    pub(crate) set: IpSet,
    /// Address → entry index; the most specific entry wins. Built on first
    /// use: counting and printing lines need only the set.
    map: std::sync::OnceLock<IpMap<u32>>,
}

impl Listing {
    fn build(nets: Vec<IpNet>, files: Vec<(usize, String)>) -> Listing {
        let set = nets.iter().copied().collect();
        Listing { nets, files, set, map: std::sync::OnceLock::new() }
    }

    fn map(&self) -> &IpMap<u32> {
        self.map.get_or_init(|| {
            let mut builder = IpMapBuilder::new();
            for (i, net) in self.nets.iter().enumerate() {
                builder.insert(*net, i as u32);
            }
            builder.build()
        })
    }

    fn entry(&self, index: usize) -> Option<Entry> {
        let net = self.nets.get(index)?;
        let file = self.files.iter().rev().find(|(first, _)| *first <= index).map(|(_, f)| f.clone())?;
        let indicator = if net.prefix_len() == net.max_prefix_len() { net.addr().to_string() } else { net.to_string() };
        Some(Entry { indicator, categories: Vec::new(), sources: vec![file], confidence: None })
    }

    /// Every entry covering `ip`, most specific first.
    pub(crate) fn covering(&self, ip: IpAddr) -> Vec<Entry> {
        let mut hits: Vec<(u8, Entry)> = self
            .map()
            .get_all(ip)
            .filter_map(|i| Some((self.nets.get(*i as usize)?.prefix_len(), self.entry(*i as usize)?)))
            .collect();
        hits.sort_by_key(|(len, _)| std::cmp::Reverse(*len));
        hits.into_iter().map(|(_, e)| e).collect()
    }
}

/// The networks of the given list files (any format `ingest` reads).
pub(crate) fn from_lists(paths: &[String]) -> anyhow::Result<Listing> {
    let mut files = Vec::new();
    let mut nets = Vec::new();
    for path in paths {
        files.push((nets.len(), path.clone()));
        nets.extend(crate::lists::read_networks(path)?);
    }
    Ok(Listing::build(nets, files))
}

/// The store's listing as the viewer sees it, for lookups: the network
/// indicators as an `IpMap` of entry ids (from the snapshot when current),
/// explanations read from the store for the entries a lookup matches.
pub(crate) struct StoreIndex<'a> {
    app: &'a App,
    filter: IndicatorFilter,
    /// The visible network (CIDR) indicators; entry `i` is the `i`-th by
    /// value, and its range is the network (`IpRange::as_net`).
    networks: IpMap<()>,
}

impl<'a> StoreIndex<'a> {
    /// The index of what `viewer` may see up to `max_tlp` in the store at
    /// `db`, from its snapshot when current, else built from the store
    /// (rewriting the snapshot).
    pub(crate) fn open(app: &'a App, viewer: Viewer, db: &Path, max_tlp: Tlp) -> anyhow::Result<StoreIndex<'a>> {
        let filter = IndicatorFilter { max_tlp, ..IndicatorFilter::new(viewer) };
        let networks = cached(app, db, "lookup", &filter, IpMap::from_layout, IpMap::write_layout, || {
            let mut builder = IpMapBuilder::new();
            let cidrs = IndicatorFilter { kind: Some(Kind::Cidr), ..filter.clone() };
            app.indicators(&cidrs, &mut |i| {
                if let Ok(net) = i.value.parse::<IpNet>() {
                    builder.insert(net, ());
                }
            })?;
            Ok(builder.build())
        })?;
        Ok(StoreIndex { app, filter, networks })
    }

    /// Every indicator covering `ip` as the viewer sees it, most specific
    /// first: the address itself, then the networks holding it.
    pub(crate) fn covering(&self, ip: IpAddr) -> anyhow::Result<Vec<Entry>> {
        let mut entries: Vec<Entry> = self.explain(&ip.to_string())?.into_iter().collect();
        for &id in self.networks.covering(ip) {
            // Entries are CIDRs, whose canonical form is the network's
            // (host bits clear), so the range gives the value back.
            let Some(net) = self.networks.entry(id).and_then(|(range, ())| range.as_net()) else { continue };
            entries.extend(self.explain(&net.to_string())?);
        }
        Ok(entries)
    }

    /// One indicator as the viewer sees it (the store's point read, which
    /// applies the visibility rule), `None` when it sees none of it.
    fn explain(&self, value: &str) -> anyhow::Result<Option<Entry>> {
        match self.app.indicator(value, &self.filter) {
            Ok(found) => Ok(Some(entry_of(found.summary))),
            Err(AppError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

fn entry_of(i: IndicatorSummary) -> Entry {
    Entry {
        indicator: i.value,
        categories: i.categories.iter().map(|c| c.as_str().to_string()).collect(),
        sources: i.sources,
        confidence: Some(i.confidence),
    }
}

/// Every address and network of the store's IP-based indicators that
/// `viewer` may see up to `max_tlp`, as one set: all the scanner needs,
/// from the snapshot when current, else from the store (rewriting the
/// snapshot).
pub(crate) fn store_set(app: &App, viewer: Viewer, db: &Path, max_tlp: Tlp) -> anyhow::Result<IpSet> {
    let filter = IndicatorFilter { max_tlp, ..IndicatorFilter::new(viewer) };
    cached(app, db, "scan", &filter, IpSet::from_layout, IpSet::write_layout, || {
        let mut nets = Vec::new();
        app.listed_networks(&filter, &mut |net, _| nets.push(net))?;
        Ok(nets.into_iter().collect())
    })
}

/// The snapshot `<db>.<name>-<view>` if current (this store, this
/// generation, this view), else `build()`, written back as the snapshot.
fn cached<T>(
    app: &App,
    db: &Path,
    name: &str,
    filter: &IndicatorFilter,
    read: fn(&[u8]) -> Result<T, LayoutError>,
    write: fn(&T, &mut dyn Write) -> std::io::Result<()>,
    build: impl FnOnce() -> Result<T, AppError>,
) -> anyhow::Result<T> {
    let view = view_key(&filter.viewer, filter.max_tlp);
    let identity = app.identity()?;
    let stamp = header(name, identity, app.generation()?, &view);
    let path = snapshot_path(db, identity, name, &view);
    if let Some(path) = &path {
        match read_snapshot(path, &stamp, read) {
            Ok(Some(found)) => return Ok(found),
            Ok(None) => {}
            Err(e) => eprintln!("cordon: {}: {e}; rebuilding it", path.display()),
        }
    }
    let built = build()?;
    // A failed cache write only costs the next run a rebuild.
    if let Some(path) = &path {
        if let Err(e) = write_snapshot(path, &stamp, |out| write(&built, out)) {
            eprintln!("cordon: could not cache the {name} snapshot at {}: {e}", path.display());
        }
    }
    Ok(built)
}

/// The view a snapshot is of: who reads, up to which TLP.
fn view_key(viewer: &Viewer, tlp: Tlp) -> String {
    let who = match viewer {
        Viewer::Public => "public".to_string(),
        Viewer::Org { id, kind } => format!("{kind}{id}"),
    };
    format!("{who}-{}", tlp.as_str().replace('+', "-"))
}

/// Where the snapshot `name` of `view` lives: beside an SQLite store (who
/// may read the file may read the store); for a PostgreSQL store, which
/// has no directory of its own, in this user's private cache directory
/// ([`private_cache_dir`]), named by the store's identity. `None`: not
/// cached (lookups read the store each time).
fn snapshot_path(db: &Path, identity: i64, name: &str, view: &str) -> Option<PathBuf> {
    if cordon_store::is_postgres_url(db) {
        return Some(private_cache_dir()?.join(format!("postgres-{identity}.{name}-{view}")));
    }
    let mut file = db.as_os_str().to_owned();
    file.push(format!(".{name}-{view}"));
    Some(PathBuf::from(file))
}

/// This user's cache directory for the snapshots of PostgreSQL stores:
/// `CORDON_CACHE_DIR`, else `$XDG_CACHE_HOME/cordon`, else
/// `$HOME/.cache/cordon`, created readable by its owner only. A snapshot
/// holds what its view may see, so a directory that others may read or
/// enter, or that another user owns, is not used (said once per call, and
/// nothing is cached).
fn private_cache_dir() -> Option<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    let env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let dir = env("CORDON_CACHE_DIR")
        .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("cordon")))
        .or_else(|| env("HOME").map(|d| d.join(".cache").join("cordon")))?;
    if let Err(e) = std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir) {
        eprintln!("cordon: not caching lookup snapshots: cannot create {}: {e}", dir.display());
        return None;
    }
    // `/proc/self` belongs to this process's user: a directory of another
    // user's could hold snapshots planted to hide listed networks.
    let me = std::fs::metadata("/proc/self").map(|m| m.uid()).ok();
    let refused = match std::fs::metadata(&dir) {
        Ok(meta) if !meta.is_dir() => "is not a directory",
        Ok(meta) if Some(meta.uid()) != me => "belongs to another user",
        Ok(meta) if meta.permissions().mode() & 0o077 != 0 => "is open to other users (chmod 700 it)",
        Ok(_) => return Some(dir),
        Err(_) => "cannot be read",
    };
    eprintln!("cordon: not caching lookup snapshots: {} {refused}", dir.display());
    None
}

/// What a snapshot's first line says: what it holds, the format, the
/// store's identity, its generation and the view.
fn header(name: &str, identity: i64, generation: i64, view: &str) -> String {
    format!("cordon-{name}-snapshot v3 store={identity} generation={generation} view={view}")
}

/// Writes the snapshot (the stamp line, then `body`) through a temporary
/// file unique to this process and call, renamed over `path` once
/// complete: concurrent writers never mix their bytes, and readers see a
/// whole snapshot or none.
fn write_snapshot(
    path: &Path,
    stamp: &str,
    body: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp-{}-{call}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let written = (|| {
        use std::os::unix::fs::OpenOptionsExt;
        let file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
        let mut out = BufWriter::new(file);
        writeln!(out, "{stamp}")?;
        body(&mut out)?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        // Best effort: the error that matters is the one returned.
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// The snapshot at `path`: `None` if it is missing or does not carry
/// `stamp` (another store, generation, view or format), an error if it
/// carries it but its layout does not read back.
fn read_snapshot<T>(
    path: &Path,
    stamp: &str,
    read: fn(&[u8]) -> Result<T, LayoutError>,
) -> Result<Option<T>, LayoutError> {
    let Ok(bytes) = std::fs::read(path) else {
        return Ok(None);
    };
    let Some(body) = bytes.strip_prefix(stamp.as_bytes()).and_then(|rest| rest.strip_prefix(b"\n")) else {
        return Ok(None);
    };
    read(body).map(Some)
}
