//! What `lookup` and `scan` match against: IP-based indicators compiled into
//! an [`IpMap`], each entry with the categories, sources and confidence that
//! explain it.
//!
//! For the store, the listing is cached in a snapshot file beside the
//! database (`<db>.lookup-<view>-<tlp>`), stamped with the store's identity,
//! its generation and the view (who reads, up to which TLP): loading reads
//! one line per indicator and never touches the sightings; a snapshot of
//! another store, another generation or another view is never used, but
//! re-read from the store and rewritten (through a temporary file of its
//! own, renamed into place).

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use cordon_model::{Tlp, Viewer};
use cordon_netset::{IpMap, IpMapBuilder, IpSet};
use cordon_store::IndicatorFilter;
use ipnet::IpNet;

use crate::cli::Cli;

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

/// Listed networks, compiled for lookups.
pub(crate) struct Listing {
    /// The listed networks; entry `i` explains `nets[i]`.
    nets: Vec<IpNet>,
    /// Why each network is listed.
    why: Why,
    /// The networks as a set, for the scanner's fast path.
    pub(crate) set: IpSet,
    /// Address → entry index; the most specific entry wins. Built on first
    /// use: counting and printing lines need only the set.
    map: std::sync::OnceLock<IpMap<u32>>,
}

/// Where the explanations of a listing come from.
enum Why {
    /// The store: one entry per network.
    Store(Vec<Entry>),
    /// List files: `(first network index, file)`, in order; built into
    /// entries only for the networks a lookup hits.
    Lists(Vec<(usize, String)>),
}

impl Listing {
    fn build(nets: Vec<IpNet>, why: Why) -> Listing {
        let set = nets.iter().copied().collect();
        Listing { nets, why, set, map: std::sync::OnceLock::new() }
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
        match &self.why {
            Why::Store(entries) => entries.get(index).cloned(),
            Why::Lists(files) => {
                let net = self.nets.get(index)?;
                let file = files.iter().rev().find(|(first, _)| *first <= index).map(|(_, f)| f.clone())?;
                let indicator =
                    if net.prefix_len() == net.max_prefix_len() { net.addr().to_string() } else { net.to_string() };
                Some(Entry { indicator, categories: Vec::new(), sources: vec![file], confidence: None })
            }
        }
    }

    /// Every entry covering `ip`, most specific first.
    pub(crate) fn covering(&self, ip: std::net::IpAddr) -> Vec<Entry> {
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
    Ok(Listing::build(nets, Why::Lists(files)))
}

/// The view a snapshot is of: who reads, up to which TLP.
fn view_key(viewer: &Viewer, tlp: Tlp) -> String {
    let who = match viewer {
        Viewer::Public => "public".to_string(),
        Viewer::Org { id, kind } => format!("{kind}{id}"),
    };
    format!("{who}-{}", tlp.as_str().replace('+', "-"))
}

/// Where the snapshot of `view` lives: beside an SQLite store. A
/// PostgreSQL store has no directory of its own, and a snapshot holds what
/// the viewer may see, so it is not written anywhere shared: lookups on
/// PostgreSQL read the store each time.
fn snapshot_path(db: &Path, view: &str) -> Option<PathBuf> {
    if cordon_store::is_postgres_url(db) {
        return None;
    }
    let mut name = db.as_os_str().to_owned();
    name.push(format!(".lookup-{view}"));
    Some(PathBuf::from(name))
}

/// What a snapshot's first line says: the format, the store's identity, its
/// generation and the view.
fn header(identity: i64, generation: i64, view: &str) -> String {
    format!("cordon-lookup-snapshot v2 store={identity} generation={generation} view={view}")
}

/// Field separator inside a snapshot column (ASCII unit separator).
const SEP: char = '\u{1f}';

/// The store's IP-based indicators the `--as` viewer may see up to
/// `max_tlp`, from the snapshot when it is current, else from the store
/// (rewriting the snapshot).
pub(crate) fn from_store(cli: &Cli, max_tlp: Tlp) -> anyhow::Result<Listing> {
    let (app, viewer) = cli.open()?;
    let view = view_key(&viewer, max_tlp);
    let stamp = header(app.identity()?, app.generation()?, &view);
    let path = snapshot_path(&cli.db, &view);
    if let Some(path) = &path {
        if let Some(listing) = read_snapshot(path, &stamp)? {
            return Ok(listing);
        }
    }
    let mut entries = Vec::new();
    let mut nets = Vec::new();
    let filter = IndicatorFilter { max_tlp, ..IndicatorFilter::new(viewer) };
    app.listed_networks(&filter, &mut |net, i| {
        nets.push(net);
        entries.push(Entry {
            indicator: i.value,
            categories: i.categories.iter().map(|c| c.as_str().to_string()).collect(),
            sources: i.sources,
            confidence: Some(i.confidence),
        });
    })?;
    // A failed cache write only costs the next run a rebuild.
    if let Some(path) = &path {
        if let Err(e) = write_snapshot(path, &stamp, &entries) {
            eprintln!("cordon: could not cache the lookup snapshot at {}: {e}", path.display());
        }
    }
    Ok(Listing::build(nets, Why::Store(entries)))
}

/// Writes the snapshot through a temporary file unique to this process and
/// call, renamed over `path` once complete: concurrent writers never mix
/// their lines, and readers see a whole snapshot or none.
fn write_snapshot(path: &Path, stamp: &str, entries: &[Entry]) -> std::io::Result<()> {
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp-{}-{call}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let written = (|| {
        let mut out = BufWriter::new(std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp)?);
        writeln!(out, "{stamp}")?;
        let clean = |s: &str| s.replace(['\t', '\n', '\r', SEP], " ");
        for e in entries {
            let join = |v: &[String]| v.iter().map(|s| clean(s)).collect::<Vec<_>>().join(&SEP.to_string());
            let confidence = e.confidence.map_or_else(String::new, |c| c.to_string());
            writeln!(out, "{}\t{}\t{}\t{}", e.indicator, confidence, join(&e.categories), join(&e.sources))?;
        }
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        // Best effort: the error that matters is the one returned.
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// The snapshot at `path` if it exists and carries `stamp` (this store,
/// this generation, this view).
fn read_snapshot(path: &Path, stamp: &str) -> anyhow::Result<Option<Listing>> {
    let Ok(file) = std::fs::File::open(path) else {
        return Ok(None);
    };
    let mut lines = BufReader::new(file).lines();
    let first = lines.next().transpose()?.unwrap_or_default();
    if first != stamp {
        return Ok(None);
    }
    let mut entries = Vec::new();
    let mut nets = Vec::new();
    for (n, line) in lines.enumerate() {
        let line = line?;
        let mut cols = line.split('\t');
        let (Some(value), Some(confidence), Some(categories), Some(sources)) =
            (cols.next(), cols.next(), cols.next(), cols.next())
        else {
            anyhow::bail!("{}:{}: damaged lookup snapshot; delete it to rebuild", path.display(), n + 2);
        };
        let net = value
            .parse::<IpNet>()
            .or_else(|_| value.parse::<std::net::IpAddr>().map(IpNet::from))
            .with_context(|| format!("{}:{}: damaged lookup snapshot; delete it to rebuild", path.display(), n + 2))?;
        let split = |s: &str| if s.is_empty() { Vec::new() } else { s.split(SEP).map(str::to_string).collect() };
        nets.push(net);
        entries.push(Entry {
            indicator: value.to_string(),
            categories: split(categories),
            sources: split(sources),
            confidence: confidence.parse().ok(),
        });
    }
    Ok(Some(Listing::build(nets, Why::Store(entries))))
}
