//! Per-country action packages (INTERPOL's "Cyber Activity Reports").
//!
//! `DIR/<CC>/` holds `report.html`, `targets.csv`, `report.json`,
//! `bundle.stix.json` and `manifest.json` (SHA-256 of the others). A
//! sighting goes in only if [`may_pass_on`] allows it for the country's
//! agency, and everything in the package is built from those sightings; a target none of whose
//! sightings may be shared is withheld. Targets still `identified` (not
//! triaged) and rejected ones are never packaged; packaging moves
//! `triaged` targets to `referred`.
//!
//! A package is written as the store is read, [`Layout::page`] targets at
//! a time: a first pass over the operation's targets gathers what each
//! file's head needs (counts for the charts, the TLP markings and malware
//! families of the bundle), then each country's targets are read again and
//! every file written row by row, object by object, hashed as it is
//! written. Memory follows a page and the counts, never the package.
//!
//! A package of more than [`Layout::large`] targets stays one an agency
//! can open: its HTML shows the figures and the first
//! [`Layout::html_targets`] targets with a link to the full CSV, and its
//! CSV, JSON report and bundle are written gzip-compressed
//! ([`LARGE_FILES`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use cordon_model::{format_timestamp, Tlp};
use cordon_store::ops::{Evidence, Operation, OpsStore, Target, TargetFilter, TargetState, Transition};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::csvcell::cell;
use crate::html::{bar_chart, escape, page_start, table_row, table_start, Bar, PAGE_END, TABLE_END};
use crate::report::{thousands, GEO_ATTRIBUTION};
use crate::sink::{pretty_at, Around, ArrayWriter, Output, Written};
use crate::stix::{
    bundle_object, identity, malware_object, marking_definition, note_target, report_object, target_objects,
    BundleContext, Families, Shared,
};
use crate::targets::family_spellings;
use crate::tlp::{may_pass_on, Recipient};
use crate::workflow::Actor;
use crate::OpsError;

/// The files of a package, in the order written (the manifest last).
pub const FILES: [&str; 5] = ["report.html", "targets.csv", "report.json", "bundle.stix.json", "manifest.json"];

/// The files of a large package (more than [`Layout::large`] targets): as
/// [`FILES`], the big ones gzip-compressed.
pub const LARGE_FILES: [&str; 5] =
    ["report.html", "targets.csv.gz", "report.json.gz", "bundle.stix.json.gz", "manifest.json"];

/// A package of more than this many targets is large: an agency's analyst
/// opens a report.html of a few thousand targets in a browser, not one of
/// millions (a 1M-indicator hub's US package was a 155 MB page).
pub const LARGE_PACKAGE: usize = 2_000;

/// The targets a large package's report.html lists (the rest are in its CSV).
pub const HTML_TARGETS: usize = 500;

/// Targets read from the store at a time.
pub const PAGE: usize = 4_096;

/// The files of a package of `targets` targets.
pub fn files(targets: u64) -> &'static [&'static str; 5] {
    if targets > LARGE_PACKAGE as u64 {
        &LARGE_FILES
    } else {
        &FILES
    }
}

/// How packages are cut: [`Layout::default`] is [`LARGE_PACKAGE`],
/// [`HTML_TARGETS`] and [`PAGE`]; tests make them small.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// A package of more targets than this is large.
    pub large: usize,
    /// The targets a large package's HTML lists.
    pub html_targets: usize,
    /// Targets read from the store at a time (at least one).
    pub page: usize,
}

impl Default for Layout {
    fn default() -> Layout {
        Layout { large: LARGE_PACKAGE, html_targets: HTML_TARGETS, page: PAGE }
    }
}

/// One country's written package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountryPackage {
    /// The country code.
    pub country: String,
    /// Where it was written.
    pub dir: PathBuf,
    /// Targets in it.
    pub targets: usize,
    /// Sightings left out because their TLP forbids sharing.
    pub withheld_sightings: usize,
}

/// What `package build` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PackageSummary {
    /// The packages written.
    pub packages: Vec<CountryPackage>,
    /// Targets moved from triaged to referred.
    pub referred: usize,
    /// Targets withheld because none of their sightings may be shared.
    pub withheld_targets: usize,
    /// Eligible targets without a country (not packaged).
    pub no_country: usize,
    /// Targets still identified (triage them first).
    pub untriaged: usize,
}

fn packaged(state: TargetState) -> bool {
    matches!(
        state,
        TargetState::Triaged
            | TargetState::Referred
            | TargetState::Notified
            | TargetState::TakenDown
            | TargetState::Verified
    )
}

/// What one country's package heads need, gathered over its shared targets
/// before any file is written.
#[derive(Debug)]
struct Facts {
    /// Targets with at least one shared sighting.
    targets: usize,
    /// Sightings left out (of shared and withheld targets alike).
    withheld_sightings: usize,
    /// Targets per category of their shared sightings.
    categories: BTreeMap<&'static str, u64>,
    /// Targets per provider (AS organisation).
    providers: BTreeMap<String, u64>,
    /// Each family's spelling shown, by its lowercase key.
    spellings: BTreeMap<String, String>,
    /// Targets per family key.
    families: BTreeMap<String, u64>,
    /// The bundle's TLP markings.
    markings: BTreeSet<Tlp>,
    /// The bundle's malware families.
    malware: Families,
    /// The most restrictive TLP of the package's sightings.
    tlp: Tlp,
}

impl Default for Facts {
    fn default() -> Facts {
        Facts {
            targets: 0,
            withheld_sightings: 0,
            categories: BTreeMap::new(),
            providers: BTreeMap::new(),
            spellings: BTreeMap::new(),
            families: BTreeMap::new(),
            markings: BTreeSet::new(),
            malware: Families::new(),
            tlp: Tlp::Clear,
        }
    }
}

impl Facts {
    /// Counts one shared target in.
    fn add(&mut self, item: &Shared<'_>) {
        self.targets += 1;
        for category in item.evidence.iter().map(|e| e.category.as_str()).collect::<BTreeSet<_>>() {
            *self.categories.entry(category).or_insert(0) += 1;
        }
        let provider = item.target.spec.as_org.as_deref().unwrap_or("unknown");
        *self.providers.entry(provider.to_string()).or_insert(0) += 1;
        let names = family_spellings(item.evidence.iter().filter_map(|e| e.malware.as_deref()));
        for (key, name) in names {
            *self.families.entry(key.clone()).or_insert(0) += 1;
            let shown = self.spellings.entry(key).or_insert_with(|| name.clone());
            if name < *shown {
                *shown = name;
            }
        }
        self.tlp = self.tlp.max(max_tlp(&item.evidence));
        note_target(item, &mut self.markings, &mut self.malware);
    }
}

/// Calls `each` with every page of the targets `filter` selects, with the
/// evidence of its packaged ones.
fn each_page(
    store: &dyn OpsStore,
    filter: &TargetFilter,
    page: usize,
    mut each: impl FnMut(&[Target], &[Evidence]) -> Result<(), OpsError>,
) -> Result<(), OpsError> {
    let mut after = i64::MIN;
    loop {
        let targets = store.targets_after(filter, after, page.max(1))?;
        let Some(last) = targets.last() else { return Ok(()) };
        after = last.id;
        let ids: Vec<i64> = targets.iter().filter(|t| packaged(t.state)).map(|t| t.id).collect();
        each(&targets, &store.evidence(&ids)?)?;
    }
}

/// The packaged targets of a page with their evidence, split into what may
/// go to the agency and how many sightings may not.
fn shared_of<'a>(targets: &'a [Target], evidence: &'a [Evidence]) -> Vec<(Shared<'a>, usize)> {
    let mut by_target: BTreeMap<i64, Vec<&Evidence>> = BTreeMap::new();
    for e in evidence {
        by_target.entry(e.target_id).or_default().push(e);
    }
    targets
        .iter()
        .filter(|t| packaged(t.state))
        .map(|target| {
            let all = by_target.remove(&target.id).unwrap_or_default();
            let total = all.len();
            let evidence: Vec<&Evidence> = all.into_iter().filter(|e| may_pass_on(Recipient::Agency, e)).collect();
            let withheld = total - evidence.len();
            (Shared { target, evidence }, withheld)
        })
        .collect()
}

/// Builds the packages of `operation` (all countries, or just `country`)
/// under `out`.
pub fn build_packages(
    store: &dyn OpsStore,
    operation: &Operation,
    country: Option<&str>,
    out: &Path,
    actor: &Actor,
) -> Result<PackageSummary, OpsError> {
    build_packages_with(store, operation, country, out, actor, &Layout::default())
}

/// [`build_packages`] cut by `layout`.
pub fn build_packages_with(
    store: &dyn OpsStore,
    operation: &Operation,
    country: Option<&str>,
    out: &Path,
    actor: &Actor,
    layout: &Layout,
) -> Result<PackageSummary, OpsError> {
    let filter = TargetFilter {
        operation_id: Some(operation.id),
        country: country.map(str::to_ascii_uppercase),
        ..TargetFilter::default()
    };
    let mut summary = PackageSummary::default();
    let mut by_country: BTreeMap<String, Facts> = BTreeMap::new();
    each_page(store, &filter, layout.page, |targets, evidence| {
        summary.untriaged += targets.iter().filter(|t| t.state == TargetState::Identified).count();
        for (item, withheld) in shared_of(targets, evidence) {
            let Some(cc) = item.target.spec.country.as_deref() else {
                summary.no_country += 1;
                continue;
            };
            let facts = by_country.entry(cc.to_ascii_uppercase()).or_default();
            facts.withheld_sightings += withheld;
            if item.evidence.is_empty() {
                summary.withheld_targets += 1;
                continue;
            }
            facts.add(&item);
        }
        Ok(())
    })?;
    let mut to_refer = Vec::new();
    for (cc, facts) in &by_country {
        if facts.targets == 0 {
            continue;
        }
        let dir = out.join(cc);
        let filter = TargetFilter { country: Some(cc.clone()), ..filter.clone() };
        let written = write_package(store, &filter, &dir, operation, cc, facts, layout, actor.time)?;
        store.record_package(
            operation.id,
            cc,
            &dir.display().to_string(),
            &written.manifest_sha256,
            &written.targets,
            actor.time,
        )?;
        to_refer.extend(written.triaged);
        summary.packages.push(CountryPackage {
            country: cc.clone(),
            dir,
            targets: facts.targets,
            withheld_sightings: facts.withheld_sightings,
        });
    }
    summary.referred = refer(store, &to_refer, actor)?;
    Ok(summary)
}

/// Moves the packaged triaged targets `ids` to referred, in one
/// transaction, [`PAGE`] at a time; returns how many moved.
fn refer(store: &dyn OpsStore, ids: &[i64], actor: &Actor) -> Result<usize, OpsError> {
    let mut moved = 0;
    store.atomically(&mut |store| {
        moved = 0;
        let step = Transition {
            target_id: 0,
            time: actor.time,
            from: None,
            to: TargetState::Referred,
            reason: None,
            actor: actor.name.clone(),
            note: actor.note.clone(),
            import_mark: store.newest_import()?,
        };
        for page in ids.chunks(PAGE) {
            moved += store.move_targets(page, TargetState::Triaged, &step)?.len();
        }
        Ok(())
    })?;
    Ok(moved)
}

/// What writing one package left to record.
struct WrittenPackage {
    /// The manifest's SHA-256.
    manifest_sha256: String,
    /// The targets in the package.
    targets: Vec<i64>,
    /// Those of them still triaged (to be referred).
    triaged: Vec<i64>,
}

/// The four files of a package being written, each as its targets are read.
struct Files {
    html: Output,
    csv: csv::Writer<Output>,
    json: Output,
    json_targets: ArrayWriter,
    json_tail: String,
    bundle: Output,
    objects: ArrayWriter,
    bundle_tail: String,
    refs: BufWriter<File>,
}

/// Writes one package, reading its targets (`filter`) again page by page.
#[allow(clippy::too_many_arguments)]
fn write_package(
    store: &dyn OpsStore,
    filter: &TargetFilter,
    dir: &Path,
    operation: &Operation,
    country: &str,
    facts: &Facts,
    layout: &Layout,
    generated: i64,
) -> Result<WrittenPackage, OpsError> {
    std::fs::create_dir_all(dir).map_err(|e| OpsError::io(dir, e))?;
    let large = facts.targets > layout.large;
    let names = if large { &LARGE_FILES } else { &FILES };
    let paths: Vec<PathBuf> = names.iter().map(|name| dir.join(name)).collect();
    let refs_path = dir.join(".bundle-refs");
    let create = |i: usize, gzip: bool| Output::create(&paths[i], gzip).map_err(|e| OpsError::io(&paths[i], e));
    let stix = BundleContext::new(generated);
    let mut files = {
        let mut html = create(0, false)?;
        let head = html_head(operation, country, facts, names[1], layout, generated);
        html.write_all(head.as_bytes()).map_err(|e| OpsError::io(&paths[0], e))?;
        let mut csv = csv::Writer::from_writer(create(1, large)?);
        csv.write_record(CSV_HEADER).map_err(csv_error)?;
        let mut json = create(2, large)?;
        let report = json!({
            "operation": operation.name, "country": country, "generated": format_timestamp(generated),
            "targets": [], "attribution": GEO_ATTRIBUTION,
        });
        let around = split(&report, "targets")?;
        json.write_all(around.head.as_bytes()).map_err(|e| OpsError::io(&paths[2], e))?;
        let mut bundle = create(3, large)?;
        let bundle_around = split(&bundle_object(), "objects")?;
        let mut objects = bundle_around.array();
        let identity = pretty_at(&identity(&stix), objects.indent()).map_err(|e| OpsError::io(&paths[3], e))?;
        bundle
            .write_all(bundle_around.head.as_bytes())
            .and_then(|()| objects.item(&mut bundle, &identity))
            .map_err(|e| OpsError::io(&paths[3], e))?;
        let refs = File::create(&refs_path).map_err(|e| OpsError::io(&refs_path, e))?;
        Files {
            html,
            csv,
            json,
            json_targets: around.array(),
            json_tail: around.tail,
            bundle,
            objects,
            bundle_tail: bundle_around.tail,
            refs: BufWriter::new(refs),
        }
    };
    let mut written = WrittenPackage { manifest_sha256: String::new(), targets: Vec::new(), triaged: Vec::new() };
    let shown = if large { layout.html_targets } else { usize::MAX };
    each_page(store, filter, layout.page, |targets, evidence| {
        for (item, _) in shared_of(targets, evidence) {
            if item.evidence.is_empty() || item.target.spec.country.is_none() {
                continue;
            }
            if written.targets.len() < shown {
                for row in html_rows(&item) {
                    files.html.write_all(table_row(&row).as_bytes()).map_err(|e| OpsError::io(&paths[0], e))?;
                }
            }
            written.targets.push(item.target.id);
            if item.target.state == TargetState::Triaged {
                written.triaged.push(item.target.id);
            }
            files.csv.write_record(csv_row(&item).iter().map(|field| cell(field).into_owned())).map_err(csv_error)?;
            pretty_at(&json_target(&item), files.json_targets.indent())
                .and_then(|text| files.json_targets.item(&mut files.json, &text))
                .map_err(|e| OpsError::io(&paths[2], e))?;
            for object in target_objects(&stix, &item, &facts.malware) {
                write_object(&mut files.bundle, &mut files.objects, &mut files.refs, &object)
                    .map_err(|e| OpsError::io(&paths[3], e))?;
            }
        }
        Ok(())
    })?;
    let Files { mut html, csv, mut json, json_targets, json_tail, mut bundle, objects, bundle_tail, refs } = files;
    html.write_all(html_tail().as_bytes()).map_err(|e| OpsError::io(&paths[0], e))?;
    json_targets
        .close(&mut json, &json_tail)
        .and_then(|()| json.write_all(b"\n"))
        .map_err(|e| OpsError::io(&paths[2], e))?;
    let closing = BundleEnd { stix: &stix, operation, country, facts, refs_path: &refs_path, tail: &bundle_tail };
    closing.write(&mut bundle, objects, refs).map_err(|e| OpsError::io(&paths[3], e))?;
    let _ = std::fs::remove_file(&refs_path);
    let csv = csv.into_inner().map_err(|e| OpsError::Invalid(format!("cannot write CSV: {e}")))?;
    let mut entries = Vec::new();
    for (i, output) in [html, csv, json, bundle].into_iter().enumerate() {
        let Written { sha256, bytes } = output.finish().map_err(|e| OpsError::io(&paths[i], e))?;
        entries.push(json!({"name": names[i], "sha256": sha256, "bytes": bytes}));
    }
    let manifest = pretty(&json!({
        "operation": operation.name, "country": country, "generated": format_timestamp(generated), "files": entries,
    }));
    std::fs::write(&paths[4], &manifest).map_err(|e| OpsError::io(&paths[4], e))?;
    written.manifest_sha256 = sha256(manifest.as_bytes());
    Ok(written)
}

/// Writes one object of the bundle and spools its id for the report's
/// `object_refs`.
fn write_object(
    bundle: &mut Output,
    objects: &mut ArrayWriter,
    refs: &mut BufWriter<File>,
    object: &serde_json::Value,
) -> std::io::Result<()> {
    objects.item(bundle, &pretty_at(object, objects.indent())?)?;
    let id = object["id"].as_str().unwrap_or_default();
    refs.write_all(id.as_bytes())?;
    refs.write_all(b"\n")
}

/// What the end of a bundle is written from.
struct BundleEnd<'a> {
    stix: &'a BundleContext,
    operation: &'a Operation,
    country: &'a str,
    facts: &'a Facts,
    /// The spool of the ids the report refers to.
    refs_path: &'a Path,
    /// The bundle after its `objects`.
    tail: &'a str,
}

impl BundleEnd<'_> {
    /// Writes the families' `malware` objects, the TLP markings, then the
    /// report referring to every object but those, its `object_refs` read
    /// back from the spool, and the end of the bundle.
    fn write(&self, bundle: &mut Output, mut objects: ArrayWriter, mut refs: BufWriter<File>) -> std::io::Result<()> {
        for (name, (malware, category)) in &self.facts.malware {
            write_object(bundle, &mut objects, &mut refs, &malware_object(self.stix, name, malware, *category))?;
        }
        refs.flush()?;
        drop(refs);
        let mut markings = self.facts.markings.clone();
        markings.insert(self.facts.tlp);
        for tlp in markings {
            objects.item(bundle, &pretty_at(&marking_definition(tlp), objects.indent())?)?;
        }
        let report = report_object(self.stix, &self.operation.name, self.country, self.facts.tlp);
        let report = pretty_at(&report, objects.indent())?;
        let around = Around::split(&report, "object_refs").ok_or_else(|| std::io::Error::other("no object_refs"))?;
        objects.item(bundle, &around.head)?;
        let spooled = BufReader::new(File::open(self.refs_path)?).lines();
        around.write_items(bundle, spooled.map(|id| Ok(format!("\"{}\"", id?))))?;
        objects.close(bundle, self.tail)?;
        bundle.write_all(b"\n")
    }
}

/// `value` (a document with an empty array `key`) split around that array.
fn split(value: &serde_json::Value, key: &str) -> Result<Around, OpsError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| OpsError::Invalid(format!("cannot print JSON: {e}")))?;
    Around::split(&text, key).ok_or_else(|| OpsError::Invalid(format!("no array {key} in {text}")))
}

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default() + "\n"
}

/// Lowercase hex SHA-256.
pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn max_tlp(evidence: &[&Evidence]) -> Tlp {
    evidence.iter().map(|e| e.tlp).max().unwrap_or(Tlp::Clear)
}

fn distinct<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    items.collect::<BTreeSet<_>>().into_iter().collect()
}

fn csv_error(e: csv::Error) -> OpsError {
    OpsError::Invalid(format!("cannot write CSV: {e}"))
}

const CSV_HEADER: [&str; 16] = [
    "target",
    "key",
    "kind",
    "state",
    "country",
    "asn",
    "as_org",
    "hosting",
    "provider_contact",
    "categories",
    "malware",
    "partners",
    "tlp",
    "first_seen",
    "last_seen",
    "indicators",
];

/// One target's row of targets.csv (cells not yet defused).
fn csv_row(s: &Shared<'_>) -> [String; 16] {
    let t = &s.target.spec;
    [
        s.target.id.to_string(),
        t.key.clone(),
        t.kind.as_str().to_string(),
        s.target.state.as_str().to_string(),
        t.country.clone().unwrap_or_default(),
        t.asn.map(|a| a.to_string()).unwrap_or_default(),
        t.as_org.clone().unwrap_or_default(),
        t.hosting.clone().unwrap_or_default(),
        t.provider.as_ref().map(|p| p.email.clone()).unwrap_or_default(),
        distinct(s.evidence.iter().map(|e| e.category.as_str())).join(";"),
        family_spellings(s.evidence.iter().filter_map(|e| e.malware.as_deref()))
            .into_values()
            .collect::<Vec<_>>()
            .join(";"),
        distinct(s.evidence.iter().map(|e| e.source.as_str())).join(";"),
        max_tlp(&s.evidence).as_str().to_string(),
        format_timestamp(s.evidence.iter().map(|e| e.first_seen).min().unwrap_or(t.first_seen)),
        format_timestamp(s.evidence.iter().map(|e| e.last_seen).max().unwrap_or(t.last_seen)),
        distinct(s.evidence.iter().map(|e| e.value.as_str())).join(" "),
    ]
}

/// One target of report.json.
fn json_target(s: &Shared<'_>) -> serde_json::Value {
    let t = &s.target.spec;
    let evidence: Vec<serde_json::Value> = s
        .evidence
        .iter()
        .map(|e| {
            json!({"value": e.value, "kind": e.kind.as_str(), "source": e.source,
                   "category": e.category.as_str(), "malware": e.malware, "tlp": e.tlp.as_str(),
                   "port": e.port, "first_seen": format_timestamp(e.first_seen),
                   "last_seen": format_timestamp(e.last_seen), "confidence": e.confidence})
        })
        .collect();
    json!({"id": s.target.id, "key": t.key, "kind": t.kind.as_str(), "state": s.target.state.as_str(),
           "asn": t.asn, "as_org": t.as_org, "hosting": t.hosting,
           "provider": t.provider.as_ref().map(|p| json!({"name": p.name, "email": p.email})),
           "tlp": max_tlp(&s.evidence).as_str(), "evidence": evidence})
}

/// The top 15 of `counts` as bars, largest first.
fn bars<'a>(counts: impl Iterator<Item = (&'a str, u64)>) -> Vec<Bar> {
    let mut bars: Vec<Bar> =
        counts.map(|(k, n)| Bar { label: k.to_string(), value: n as f64, text: thousands(n) }).collect();
    bars.sort_by(|a, b| b.value.total_cmp(&a.value).then_with(|| a.label.cmp(&b.label)));
    bars.truncate(15);
    bars
}

/// The columns of report.html's evidence table.
const HTML_COLUMNS: [&str; 7] = ["target", "indicator", "category", "malware", "tlp", "partner", "last seen"];

/// report.html up to its evidence table's first row: the figures and
/// charts, and for a large package which targets the table lists and where
/// the others are (`csv`, the targets file's name).
fn html_head(
    operation: &Operation,
    country: &str,
    facts: &Facts,
    csv: &str,
    layout: &Layout,
    generated: i64,
) -> String {
    let mut body = page_start(&format!("Operation {} – {country}", operation.name));
    let _ = write!(
        body,
        "<h1>Cyber activity report: {}</h1><p>Operation {}, generated {}. {} targets. Handle every row according \
         to its TLP marking.</p>",
        escape(country),
        escape(&operation.name),
        format_timestamp(generated),
        thousands(facts.targets as u64)
    );
    body.push_str("<h2>Targets by category</h2>");
    body.push_str(&bar_chart("Targets by category", &bars(facts.categories.iter().map(|(k, n)| (*k, *n)))));
    body.push_str("<h2>Targets by provider</h2>");
    body.push_str(&bar_chart("Targets by provider", &bars(facts.providers.iter().map(|(k, n)| (k.as_str(), *n)))));
    body.push_str("<h2>Top malware families</h2>");
    // One bar per family whatever its spelling: each target counts once.
    let families = facts.families.iter().filter_map(|(key, n)| Some((facts.spellings.get(key)?.as_str(), *n)));
    body.push_str(&bar_chart("Malware families", &bars(families)));
    body.push_str("<h2>Evidence per target</h2>");
    if facts.targets > layout.large {
        let _ = write!(
            body,
            "<p>The first {} of the {} targets; every target is in <a href=\"{csv}\">{csv}</a>.</p>",
            thousands(layout.html_targets as u64),
            thousands(facts.targets as u64)
        );
    }
    body.push_str(&table_start(&HTML_COLUMNS));
    body
}

/// One target's rows of report.html's evidence table.
fn html_rows(s: &Shared<'_>) -> Vec<Vec<String>> {
    s.evidence
        .iter()
        .map(|e| {
            vec![
                format!("#{} {}", s.target.id, s.target.spec.key),
                e.value.clone(),
                e.category.as_str().to_string(),
                e.malware.clone().unwrap_or_default(),
                format!("TLP:{}", e.tlp.as_str().to_ascii_uppercase()),
                e.source.clone(),
                format_timestamp(e.last_seen),
            ]
        })
        .collect()
}

/// report.html after its evidence table's last row.
fn html_tail() -> String {
    format!("{TABLE_END}<p class=\"small\">{}</p>{PAGE_END}", escape(GEO_ATTRIBUTION))
}
