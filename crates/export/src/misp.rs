//! A MISP feed directory: one event per category, `manifest.json` and
//! `hashes.csv`, as MISP's "feed" import reads them.
//!
//! Events and attributes have UUIDv5 ids ([`crate::ids`]) over the
//! producer and category, and over the category and value: a MISP instance
//! that pulls the feed again updates the same events. Each event is tagged
//! with the most restrictive TLP among its attributes and gets the matching
//! distribution (clear: all communities, green: this community, amber and
//! above: your organisation only); each attribute carries its own TLP tag
//! and inherits the event's distribution.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use cordon_model::{format_timestamp, Category, Kind, Tlp};
use md5::{Digest, Md5};
use serde_json::{json, Map, Value};

use crate::ids::uuid;
use crate::json_stream::JsonArray;
use crate::{Entry, Error, Options};

/// Writes the feed into `dir`.
pub(crate) fn feed(entries: &[&Entry], options: &Options, dir: &Path) -> Result<(), Error> {
    let at = |name: &str| dir.join(name);
    std::fs::create_dir_all(dir).map_err(|source| Error::File { path: dir.to_path_buf(), source })?;
    let hashes_path = at("hashes.csv");
    let mut hashes = create(&hashes_path)?;
    let mut manifest = Map::new();
    for category in Category::ALL {
        let members: Vec<&Entry> = entries.iter().copied().filter(|entry| entry.in_category(category)).collect();
        let Some(tlp) = members.iter().map(|entry| entry.tlp).max() else { continue };
        let event_uuid = uuid("misp-event", &format!("{}:{category}", options.producer)).to_string();
        let head = event_head(&event_uuid, category, tlp, options);
        let event_path = at(&format!("{event_uuid}.json"));
        let mut event = create(&event_path)?;
        write_event(&mut event, &head, category, &members)
            .and_then(|()| event.flush().map_err(Error::from))
            .map_err(|err| in_file(err, &event_path))?;
        for entry in &members {
            let digest = hex::encode(Md5::digest(entry.value.as_bytes()));
            writeln!(hashes, "{digest},{event_uuid}")
                .map_err(|source| Error::File { path: hashes_path.clone(), source })?;
        }
        manifest.insert(event_uuid, manifest_entry(head));
    }
    hashes.flush().map_err(|source| Error::File { path: hashes_path, source })?;
    let manifest_path = at("manifest.json");
    let mut out = create(&manifest_path)?;
    serde_json::to_writer_pretty(&mut out, &manifest)
        .map_err(Error::from)
        .and_then(|()| out.flush().map_err(Error::from))
        .map_err(|err| in_file(err, &manifest_path))
}

/// One event file: `{"Event": {…, "Attribute": […]}}`.
fn write_event(
    out: &mut dyn Write,
    head: &Map<String, Value>,
    category: Category,
    members: &[&Entry],
) -> Result<(), Error> {
    out.write_all(b"{\"Event\":")?;
    let mut attributes = JsonArray::open(out, head, "Attribute")?;
    for entry in members {
        attributes.push(&attribute(entry, category))?;
    }
    attributes.close()?;
    out.write_all(b"}\n")?;
    Ok(())
}

/// The members of an event other than its attributes.
fn event_head(event_uuid: &str, category: Category, tlp: Tlp, options: &Options) -> Map<String, Value> {
    let generated = format_timestamp(options.generated);
    let date = generated.get(..10).unwrap_or(&generated);
    let distribution = match tlp {
        Tlp::Clear => "3",
        Tlp::Green => "1",
        Tlp::Amber | Tlp::AmberStrict | Tlp::Red => "0",
    };
    let threat_level = match category {
        Category::Ransomware | Category::C2 | Category::Infostealer => "1",
        Category::Phishing | Category::MalwareDistribution | Category::Botnet | Category::Fraud => "2",
        Category::Spam | Category::Scanner | Category::Other => "3",
    };
    let head = json!({
        "uuid": event_uuid,
        "info": format!("{}: {category} indicators", options.producer),
        "date": date,
        "timestamp": options.generated.to_string(),
        "publish_timestamp": options.generated.to_string(),
        "published": true,
        "analysis": "2",
        "threat_level_id": threat_level,
        "distribution": distribution,
        "Orgc": {"name": options.producer, "uuid": uuid("misp-org", &options.producer).to_string()},
        "Tag": [tlp_tag(tlp)],
    });
    match head {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// What `manifest.json` says of an event: its head without `uuid` and
/// `publish_timestamp`.
fn manifest_entry(mut head: Map<String, Value>) -> Value {
    head.remove("uuid");
    head.remove("publish_timestamp");
    Value::Object(head)
}

/// The attribute of one entry in the event of `category`.
fn attribute(entry: &Entry, category: Category) -> Value {
    let kind = match entry.kind {
        Kind::Ipv4 | Kind::Ipv6 | Kind::Cidr => "ip-dst",
        Kind::Domain => "domain",
        Kind::Url => "url",
    };
    json!({
        "uuid": uuid("misp-attribute", &format!("{category}:{}", entry.value)).to_string(),
        "type": kind,
        "category": "Network activity",
        "value": entry.value,
        "to_ids": true,
        "distribution": "5",
        "timestamp": entry.last_seen.max(entry.first_seen).to_string(),
        "first_seen": format_timestamp(entry.first_seen),
        "last_seen": format_timestamp(entry.last_seen.max(entry.first_seen)),
        "comment": format!("{}; confidence {}; reported by {}", category, entry.confidence, entry.sources.join(", ")),
        "Tag": [tlp_tag(entry.tlp)],
    })
}

/// The MISP tag of a TLP level (`tlp:amber+strict`).
fn tlp_tag(tlp: Tlp) -> Value {
    json!({"name": format!("tlp:{}", tlp.as_str())})
}

/// Creates one file of the feed.
fn create(path: &Path) -> Result<BufWriter<File>, Error> {
    File::create(path).map(BufWriter::new).map_err(|source| Error::File { path: path.to_path_buf(), source })
}

/// Names the file an I/O error happened in.
fn in_file(err: Error, path: &Path) -> Error {
    match err {
        Error::Io(source) => Error::File { path: path.to_path_buf(), source },
        other => other,
    }
}
