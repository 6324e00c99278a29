//! Per-country action packages (INTERPOL's "Cyber Activity Reports").
//!
//! `DIR/<CC>/` holds `report.html`, `targets.csv`, `report.json`,
//! `bundle.stix.json` and `manifest.json` (SHA-256 of the others). A
//! sighting goes in only if [`may_pass_on`] allows it for the country's
//! agency, and everything in the package is built from those sightings; a target none of whose
//! sightings may be shared is withheld. Targets still `identified` (not
//! triaged) and rejected ones are never packaged; packaging moves
//! `triaged` targets to `referred`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use cordon_model::{format_timestamp, Tlp};
use cordon_store::ops::{Evidence, Operation, OpsStore, Target, TargetFilter, TargetState};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::csvcell::cell;
use crate::html::{bar_chart, escape, page, table, Bar};
use crate::report::{thousands, GEO_ATTRIBUTION};
use crate::stix::{bundle, Shared};
use crate::targets::family_spellings;
use crate::tlp::{may_pass_on, Recipient};
use crate::workflow::{transition, Actor};
use crate::OpsError;

/// The files of a package, in the order written (the manifest last).
pub const FILES: [&str; 5] = ["report.html", "targets.csv", "report.json", "bundle.stix.json", "manifest.json"];

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

/// Builds the packages of `operation` (all countries, or just `country`)
/// under `out`.
pub fn build_packages(
    store: &dyn OpsStore,
    operation: &Operation,
    country: Option<&str>,
    out: &Path,
    actor: &Actor,
) -> Result<PackageSummary, OpsError> {
    let filter = TargetFilter {
        operation_id: Some(operation.id),
        country: country.map(str::to_ascii_uppercase),
        ..TargetFilter::default()
    };
    let targets = store.targets(&filter)?;
    let mut summary = PackageSummary {
        untriaged: targets.iter().filter(|t| t.state == TargetState::Identified).count(),
        ..PackageSummary::default()
    };
    let eligible: Vec<&Target> = targets.iter().filter(|t| packaged(t.state)).collect();
    let ids: Vec<i64> = eligible.iter().map(|t| t.id).collect();
    let evidence = store.evidence(&ids)?;
    let mut by_target: BTreeMap<i64, Vec<&Evidence>> = BTreeMap::new();
    for e in &evidence {
        by_target.entry(e.target_id).or_default().push(e);
    }
    let mut by_country: BTreeMap<String, (Vec<Shared<'_>>, usize)> = BTreeMap::new();
    for target in eligible {
        let Some(cc) = target.spec.country.as_deref() else {
            summary.no_country += 1;
            continue;
        };
        let all = by_target.remove(&target.id).unwrap_or_default();
        let total = all.len();
        let shared: Vec<&Evidence> = all.into_iter().filter(|e| may_pass_on(Recipient::Agency, e)).collect();
        let entry = by_country.entry(cc.to_ascii_uppercase()).or_default();
        entry.1 += total - shared.len();
        if shared.is_empty() {
            summary.withheld_targets += 1;
            continue;
        }
        entry.0.push(Shared { target, evidence: shared });
    }
    let mut to_refer = Vec::new();
    for (cc, (shared, withheld)) in &by_country {
        if shared.is_empty() {
            continue;
        }
        let dir = out.join(cc);
        let manifest_sha = write_package(&dir, operation, cc, shared, actor.time)?;
        let target_ids: Vec<i64> = shared.iter().map(|s| s.target.id).collect();
        store.record_package(operation.id, cc, &dir.display().to_string(), &manifest_sha, &target_ids, actor.time)?;
        to_refer.extend(shared.iter().filter(|s| s.target.state == TargetState::Triaged).map(|s| s.target.clone()));
        summary.packages.push(CountryPackage {
            country: cc.clone(),
            dir,
            targets: shared.len(),
            withheld_sightings: *withheld,
        });
    }
    let moved = transition(store, &to_refer, TargetState::Referred, None, actor)?;
    summary.referred = moved.applied.len();
    Ok(summary)
}

/// Writes one package; returns the manifest's SHA-256.
fn write_package(
    dir: &Path,
    operation: &Operation,
    country: &str,
    shared: &[Shared<'_>],
    generated: i64,
) -> Result<String, OpsError> {
    std::fs::create_dir_all(dir).map_err(|e| OpsError::io(dir, e))?;
    let stix = bundle(&operation.name, country, shared, generated);
    let contents = [
        html_report(operation, country, shared, generated),
        csv_targets(shared)?,
        json_report(operation, country, shared, generated),
        pretty(&stix),
    ];
    let mut files = Vec::new();
    for (name, text) in FILES.iter().zip(&contents) {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| OpsError::io(&path, e))?;
        files.push(json!({"name": name, "sha256": sha256(text.as_bytes()), "bytes": text.len()}));
    }
    let manifest = pretty(&json!({
        "operation": operation.name, "country": country, "generated": format_timestamp(generated), "files": files,
    }));
    let path = dir.join(FILES[4]);
    std::fs::write(&path, &manifest).map_err(|e| OpsError::io(&path, e))?;
    Ok(sha256(manifest.as_bytes()))
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

fn csv_targets(shared: &[Shared<'_>]) -> Result<String, OpsError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = [
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
    let csv_error = |e: csv::Error| OpsError::Invalid(format!("cannot write CSV: {e}"));
    writer.write_record(header).map_err(csv_error)?;
    for s in shared {
        let t = &s.target.spec;
        let record = [
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
        ];
        writer.write_record(record.iter().map(|field| cell(field).into_owned())).map_err(csv_error)?;
    }
    let bytes = writer.into_inner().map_err(|e| OpsError::Invalid(format!("cannot write CSV: {e}")))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn json_report(operation: &Operation, country: &str, shared: &[Shared<'_>], generated: i64) -> String {
    let targets: Vec<serde_json::Value> = shared
        .iter()
        .map(|s| {
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
        })
        .collect();
    pretty(&json!({
        "operation": operation.name, "country": country, "generated": format_timestamp(generated),
        "targets": targets, "attribution": GEO_ATTRIBUTION,
    }))
}

fn counted<'a>(items: impl Iterator<Item = &'a str>) -> Vec<Bar> {
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for item in items {
        *counts.entry(item).or_insert(0) += 1;
    }
    let mut bars: Vec<Bar> =
        counts.into_iter().map(|(k, n)| Bar { label: k.to_string(), value: n as f64, text: thousands(n) }).collect();
    bars.sort_by(|a, b| b.value.total_cmp(&a.value).then_with(|| a.label.cmp(&b.label)));
    bars.truncate(15);
    bars
}

fn html_report(operation: &Operation, country: &str, shared: &[Shared<'_>], generated: i64) -> String {
    let mut body = format!(
        "<h1>Cyber activity report: {}</h1><p>Operation {}, generated {}. {} targets. Handle every row according \
         to its TLP marking.</p>",
        escape(country),
        escape(&operation.name),
        format_timestamp(generated),
        thousands(shared.len() as u64)
    );
    body.push_str("<h2>Targets by category</h2>");
    let categories = shared.iter().flat_map(|s| distinct(s.evidence.iter().map(|e| e.category.as_str())));
    body.push_str(&bar_chart("Targets by category", &counted(categories)));
    body.push_str("<h2>Targets by provider</h2>");
    let providers = shared.iter().map(|s| s.target.spec.as_org.as_deref().unwrap_or("unknown"));
    body.push_str(&bar_chart("Targets by provider", &counted(providers)));
    body.push_str("<h2>Top malware families</h2>");
    // One bar per family whatever its spelling: each target counts once.
    fn named<'a>(s: &'a Shared<'_>) -> impl Iterator<Item = &'a str> {
        s.evidence.iter().filter_map(|e| e.malware.as_deref())
    }
    let shown = family_spellings(shared.iter().flat_map(named));
    let families = shared.iter().flat_map(|s| {
        let per_target = family_spellings(named(s));
        per_target.into_keys().filter_map(|key| shown.get(&key).map(String::as_str)).collect::<Vec<_>>()
    });
    body.push_str(&bar_chart("Malware families", &counted(families)));
    body.push_str("<h2>Evidence per target</h2>");
    let mut rows = Vec::new();
    for s in shared {
        for e in &s.evidence {
            rows.push(vec![
                format!("#{} {}", s.target.id, s.target.spec.key),
                e.value.clone(),
                e.category.as_str().to_string(),
                e.malware.clone().unwrap_or_default(),
                format!("TLP:{}", e.tlp.as_str().to_ascii_uppercase()),
                e.source.clone(),
                format_timestamp(e.last_seen),
            ]);
        }
    }
    body.push_str(&table(&["target", "indicator", "category", "malware", "tlp", "partner", "last seen"], &rows));
    let _ = write!(body, "<p class=\"small\">{}</p>", escape(GEO_ATTRIBUTION));
    page(&format!("Operation {} – {country}", operation.name), &body)
}
