//! Export writers of cordon: the indicators of the store, written in the
//! formats that defenders load into their tools.
//!
//! The caller converts what it read into [`Entry`]s (plain data: value,
//! kind, categories, sources, TLP, confidence, first and last seen), picks a
//! [`Format`] and calls [`write()`] with any [`std::io::Write`]; a MISP feed is
//! a directory and goes through [`write_misp_feed`]. Both return a
//! [`Summary`]: how many entries of each kind went out and how many the
//! format cannot carry (a domain in an nftables script, an IPv6 network in
//! an `iptables` file).
//!
//! | format | what it writes | entries it carries |
//! | --- | --- | --- |
//! | `plain` | one value per line | all |
//! | `cidr` | minimal CIDR list, IPv4 then IPv6 | addresses and networks |
//! | `csv`, `jsonl` | one row / object per entry | all |
//! | `nft` | an `nft -f` script: table `inet cordon`, interval sets, drop rules | addresses and networks |
//! | `ipset` | an `ipset restore` file, `hash:net` sets `cordon-v4`, `cordon-v6` | addresses and networks |
//! | `iptables`, `ip6tables` | `iptables-restore --noflush` / `ip6tables-restore --noflush` files | IPv4 / IPv6 addresses and networks |
//! | `suricata` | IP-only rules, inbound and outbound per category | addresses and networks |
//! | `rpz` | a DNS response-policy zone | domains, URL hosts that are domains |
//! | `hosts` | `0.0.0.0 name` lines | domains, URL hosts that are domains |
//! | `stix` | a STIX 2.1 bundle of indicators | all |
//! | `misp` | a MISP feed directory, one event per category | all |
//! | `mmdb` | a MaxMind DB (v2) of the networks | addresses and networks |
//!
//! ```
//! use cordon_export::{write, Entry, Format, Options};
//! use cordon_model::{Category, Kind, Tlp};
//!
//! let entry = |value: &str, kind| Entry {
//!     value: value.to_string(),
//!     kind,
//!     categories: vec![Category::Scanner],
//!     sources: vec!["ipsum".to_string()],
//!     tlp: Tlp::Clear,
//!     confidence: 50,
//!     first_seen: 1_710_115_200,
//!     last_seen: 1_710_181_334,
//!     on_platform: false,
//! };
//! let entries = [entry("45.148.10.240", Kind::Ipv4), entry("45.148.10.241", Kind::Ipv4), entry("evil.com", Kind::Domain)];
//! let mut out = Vec::new();
//! let summary = write(Format::Cidr, &entries, &Options::new(1_710_181_334), &mut out)?;
//! assert_eq!(String::from_utf8_lossy(&out), "45.148.10.240/31\n");
//! assert_eq!((summary.total(), summary.skipped), (2, 1));
//! # Ok::<(), cordon_export::Error>(())
//! ```
//!
//! # Streaming and memory
//!
//! Writers stream to the output: no format builds its whole text in memory.
//! The formats that keep the entries' order (`plain`, `csv`, `jsonl`,
//! `stix`) also take them one at a time through a [`Stream`], so a caller
//! reading the store with a cursor holds one entry at a time. [`write()`]
//! takes a slice because the formats that
//! group (one firewall set per address family, one Suricata rule or MISP
//! event per category, CIDR aggregation, the MaxMind search tree) need to
//! see them all, and the store reads by callback anyway; an entry costs a
//! few hundred bytes, so the 120,000 addresses of IPsum take some 30 MB.
//!
//! # Determinism
//!
//! Output depends only on the entries and [`Options`]: identifiers are
//! UUIDv5 over the values (STIX indicators, MISP attributes) or the
//! category (MISP events), and every timestamp comes from the entries or
//! [`Options::generated`]. Exports are therefore stable and golden-tested.
#![deny(missing_docs)]

mod dns;
mod entry;
mod error;
mod firewall;
mod format;
mod ids;
mod json_stream;
mod misp;
mod mmdb;
mod networks;
mod stix;
mod stream;
mod suricata;
mod text;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use cordon_model::{Kind, Timestamp};

pub use entry::Entry;
pub use error::Error;
pub use firewall::IPSET_MAXELEM;
pub use format::{Format, UnknownFormat};
pub use stix::{
    identity_object, indicator_id, indicator_object, malware_id, malware_object, marking_definition_object,
    observable_id, observable_object, relationship_id, relationship_object,
};
pub use stream::Stream;

/// What every export shares besides the entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// When the export is made: the RPZ serial, the MISP event date and
    /// timestamp, the MaxMind build epoch, header comments.
    pub generated: Timestamp,
    /// Who produces it: the STIX identity's and the MISP organisation's
    /// name (default `cordon`).
    pub producer: String,
}

impl Options {
    /// Options for an export made at `generated` by `cordon`.
    pub fn new(generated: Timestamp) -> Options {
        Options { generated, producer: "cordon".to_string() }
    }
}

/// What an export wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Entries written, by kind.
    pub exported: BTreeMap<Kind, u64>,
    /// Entries the format cannot carry, left out.
    pub skipped: u64,
}

impl Summary {
    /// Entries written, all kinds together.
    pub fn total(&self) -> u64 {
        self.exported.values().sum()
    }
}

/// Writes `entries` to `out` in `format` and tells what went out.
///
/// Entries the format cannot carry are left out and counted in
/// [`Summary::skipped`]. The entries' order is kept by the line formats
/// (`plain`, `csv`, `jsonl`, `stix`); the others sort.
///
/// # Errors
///
/// [`Error::NeedsDirectory`] for [`Format::Misp`] (use
/// [`write_misp_feed`]), an I/O error from `out`, or a format limit
/// ([`Error::TooLarge`]).
pub fn write(format: Format, entries: &[Entry], options: &Options, out: &mut dyn Write) -> Result<Summary, Error> {
    let (selected, summary) = select(format, entries);
    match format {
        Format::Plain | Format::Csv | Format::Jsonl | Format::Stix => {
            let mut stream = Stream::open(format, options, out)?;
            for entry in selected {
                stream.push(entry)?;
            }
            stream.finish()?;
            return Ok(summary);
        }
        Format::Cidr => networks::cidr(&selected, out)?,
        Format::Nft => firewall::nft(&selected, options, out)?,
        Format::Ipset => firewall::ipset(&selected, options, out)?,
        Format::Iptables | Format::Ip6tables => firewall::iptables(&selected, format, options, out)?,
        Format::Suricata => suricata::rules(&selected, options, out)?,
        Format::Rpz => dns::rpz(&selected, options, out)?,
        Format::Hosts => dns::hosts(&selected, options, out)?,
        Format::Mmdb => mmdb::database(&selected, options, out)?,
        Format::Misp => return Err(Error::NeedsDirectory(format)),
    }
    out.flush()?;
    Ok(summary)
}

/// Writes a MISP feed into `dir` (created if missing): `manifest.json`,
/// one `<uuid>.json` event per category and `hashes.csv`.
///
/// # Errors
///
/// An I/O error, naming the file.
pub fn write_misp_feed(entries: &[Entry], options: &Options, dir: &Path) -> Result<Summary, Error> {
    let (selected, summary) = select(Format::Misp, entries);
    misp::feed(&selected, options, dir)?;
    Ok(summary)
}

/// The entries `format` carries, and the summary of that choice.
fn select(format: Format, entries: &[Entry]) -> (Vec<&Entry>, Summary) {
    let mut summary = Summary::default();
    let mut selected = Vec::with_capacity(entries.len());
    for entry in entries {
        if format.carries(entry) {
            *summary.exported.entry(entry.kind).or_insert(0) += 1;
            selected.push(entry);
        } else {
            summary.skipped += 1;
        }
    }
    (selected, summary)
}
