//! `cordon demo`: an operation at Synergia II scale, built deterministically
//! from the committed IPsum slice (`data/demo/ipsum-30k.txt`, compiled in).
//!
//! Steps: four partner feeds in four formats → ingest → enrichment with the
//! real ASN/country data → simulated abuse contacts (`.invalid` addresses)
//! → targets → triage → packages → notifications → simulated takedowns
//! (about 76 % of servers), verifications and a re-emergence → outcomes →
//! the report, printed and written as HTML. The store is `DIR/cordon.db`,
//! created afresh; nothing is ever probed or sent over the network.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use cordon_ingest::{ingest_file, IngestOptions};
use cordon_model::{parse_timestamp, Category};
use cordon_ops::demo::{feeds, ipsum_addresses, stable_hash, DemoFeed};
use cordon_ops::lifecycle::{path, RejectReason};
use cordon_ops::notify::NotifyConfig;
use cordon_ops::package::build_packages;
use cordon_ops::workflow::{targets_in, transition, Actor};
use cordon_store::enrichment::{ContactRow, EnrichmentStore};
use cordon_store::ops::{Operation, OpsStore, Outcome, Target, TargetFilter, TargetKind, TargetState};
use cordon_store::SqliteStore;

use super::{build_with_contacts, describe_build};
use crate::cli::Cli;

/// The committed slice: 30,000 real IPsum addresses.
const SLICE: &str = include_str!("../../../../data/demo/ipsum-30k.txt");

/// The share of server targets the simulation takes down.
const TAKEDOWN_SHARE: f64 = 0.76;

const DAY: i64 = 86_400;

#[derive(Args, Debug)]
pub(crate) struct DemoArgs {
    /// Where to write the store, feeds, packages, outbox and report.
    #[arg(long, default_value = "demo-out")]
    out: PathBuf,
    /// The share of the 30,000 addresses to use (0 < SCALE ≤ 1).
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
}

/// Prints each step with its duration.
struct Steps {
    started: Instant,
    step: Instant,
}

impl Steps {
    fn done(&mut self, what: &str) {
        println!("[{:6.1}s] {what}", self.step.elapsed().as_secs_f64());
        self.step = Instant::now();
    }
}

pub(crate) fn run(cli: &Cli, args: &DemoArgs) -> anyhow::Result<ExitCode> {
    if !(args.scale > 0.0 && args.scale <= 1.0) {
        eprintln!("cordon: --scale must be in (0, 1]");
        return Ok(ExitCode::from(crate::EXIT_INPUT));
    }
    let mut steps = Steps { started: Instant::now(), step: Instant::now() };
    let out = &args.out;
    fresh_output(out)?;
    let mut store = SqliteStore::open(&out.join("cordon.db")).context("cannot create the demo store")?;
    let start = parse_timestamp("2024-04-01").unwrap_or(0);
    let mut operation = Operation {
        id: 0,
        name: "synergia-ii-demo".into(),
        start,
        end: start + 153 * DAY - 1,
        description: "Demo at Synergia II scale: real IPsum addresses, simulated partners and lifecycle".into(),
        created: start,
    };
    operation.id = store.create_operation(&operation)?;

    let all = ipsum_addresses(SLICE);
    let count = ((all.len() as f64 * args.scale).ceil() as usize).clamp(1, all.len());
    let addresses = &all[..count];
    let demo_feeds = feeds(addresses, start);
    let feed_dir = out.join("feeds");
    std::fs::create_dir_all(&feed_dir)?;
    for feed in &demo_feeds {
        ingest(&mut store, &operation, &feed_dir, feed)?;
        if feed.share_amber {
            store.set_share_amber(feed.source, true)?;
        }
    }
    let records: usize = demo_feeds.iter().map(|f| f.records).sum();
    steps.done(&format!("{count} addresses → 4 partner feeds, {records} records ingested"));

    match geo_snapshot(cli, out) {
        Some(snapshot) => {
            let summary = crate::enrichment::enrich_store(&mut store, &snapshot, &crate::enrichment::Scope::All)?;
            steps.done(&format!(
                "enriched {} indicators ({} without network data) from {}",
                summary.indicators,
                summary.unknown_network,
                snapshot.display()
            ));
        }
        None => {
            eprintln!(
                "cordon: no geo data (run scripts/fetch-geodata.sh): continuing without enrichment, so targets have \
                 no country, contacts, packages or notifications"
            );
        }
    }
    let contacts = simulated_contacts(&store, &operation)?;
    store.replace_contacts(&contacts)?;
    let at = |day: i64, note: &str| Actor::new("demo", start + day * DAY, note);
    let summary = build_with_contacts(&mut store, &operation, &at(14, ""), false)?;
    steps.done(&format!("{} ({} simulated abuse/agency contacts)", describe_build(&summary), contacts.len()));

    triage(&mut store, &operation, &at(21, "triaged"))?;
    let packages = build_packages(&mut store, &operation, None, &out.join("packages"), &at(28, "package"))?;
    steps.done(&format!(
        "triage; {} country packages, {} targets referred, {} withheld by TLP",
        packages.packages.len(),
        packages.referred,
        packages.withheld_targets
    ));
    let config = NotifyConfig {
        outbox: out.join("outbox"),
        from_name: "cordon demo hub".into(),
        from_address: "abuse-reports@cordon.invalid".into(),
        interval: 7 * DAY,
        smtp: None,
    };
    let notified = cordon_ops::notify::notify(&mut store, &operation, &config, &at(35, "provider notified"))?;
    steps.done(&format!("{} provider notifications, {} targets notified", notified.messages.len(), notified.notified));

    let servers = summary.by_kind.get(&TargetKind::Server).copied().unwrap_or(0);
    let comeback = (servers / 1000).clamp(1, 25);
    let (down, verified) = simulate_takedowns(&mut store, &operation, start, comeback)?;
    let reemerged = simulate_reemergence(&mut store, &operation, &feed_dir, comeback, &at(150, ""))?;
    record_outcomes(&mut store, &operation, start)?;
    steps.done(&format!("simulated {down} takedowns, {verified} verifications, {reemerged} re-emerged; outcomes"));

    let report = cordon_ops::report::load(&store, &operation)?;
    std::fs::write(out.join("report.html"), cordon_ops::report::html(&report))?;
    std::fs::write(out.join("report.json"), serde_json::to_string_pretty(&report)?)?;
    steps.done("report");
    println!();
    print!("{}", cordon_ops::report::text(&report));
    println!(
        "\nwrote {0}/report.html, {0}/packages/, {0}/outbox/ and the store {0}/cordon.db in {1:.1}s",
        out.display(),
        steps.started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

/// Removes what an earlier demo left in `out` (only the demo's own files).
fn fresh_output(out: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    for name in ["cordon.db", "cordon.db-wal", "cordon.db-shm", "report.html", "report.json"] {
        let file = out.join(name);
        if file.exists() {
            std::fs::remove_file(&file).with_context(|| format!("cannot remove {}", file.display()))?;
        }
    }
    for dir in ["packages", "outbox", "feeds"] {
        let dir = out.join(dir);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).with_context(|| format!("cannot remove {}", dir.display()))?;
        }
    }
    Ok(())
}

fn ingest(store: &mut SqliteStore, operation: &Operation, dir: &Path, feed: &DemoFeed) -> anyhow::Result<()> {
    let path = dir.join(feed.file);
    std::fs::write(&path, &feed.text)?;
    let options = IngestOptions {
        source: feed.source.to_string(),
        format: Some(feed.format.parse()?),
        tlp: Some(feed.default_tlp),
        category: Some(Category::Botnet),
        ..IngestOptions::default()
    };
    let report = ingest_file(store, &path, &options, &mut |_| {})?;
    if let Some(import) = report.import_id {
        store.attach_import(&operation.name, import)?;
    }
    Ok(())
}

/// The geo snapshot: `--geo` or the default beside `--db` if present, else
/// one built into `out` from `data/geo/` (fetched by the project's script
/// when missing).
fn geo_snapshot(cli: &Cli, out: &Path) -> Option<PathBuf> {
    let configured = cli.geo_snapshot();
    if configured.exists() {
        return Some(configured);
    }
    let built = out.join("cordon-geo.snap");
    if built.exists() {
        return Some(built);
    }
    let roots = [PathBuf::from("."), Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")];
    let geo_dir = |root: &PathBuf| root.join("data/geo/asn-country/asn-country-ipv4.csv").exists();
    if !roots.iter().any(geo_dir) {
        let script = roots.iter().map(|r| r.join("scripts/fetch-geodata.sh")).find(|s| s.exists())?;
        eprintln!("cordon: fetching the geo data with {}", script.display());
        let ok = std::process::Command::new("bash").arg(&script).status().is_ok_and(|s| s.success());
        if !ok {
            return None;
        }
    }
    let root = roots.iter().find(|r| geo_dir(r))?;
    let mut import = cordon_enrich::Import::new();
    for file in
        ["asn/asn-ipv4.csv", "asn/asn-ipv6.csv", "asn-country/asn-country-ipv4.csv", "asn-country/asn-country-ipv6.csv"]
    {
        let path = root.join("data/geo").join(file);
        if path.exists() {
            import.add_path(&path);
        }
    }
    let report = import.finish();
    cordon_enrich::write_snapshot(&built, &report.snapshot).ok()?;
    Some(built)
}

/// One abuse desk per ASN and one agency per country seen in the
/// operation, at `.invalid` addresses (RFC 2606: never deliverable).
fn simulated_contacts(store: &SqliteStore, operation: &Operation) -> anyhow::Result<Vec<ContactRow>> {
    let scope = store.scope(operation.id)?;
    let mut asns = BTreeMap::new();
    let mut countries = BTreeSet::new();
    for indicator in &scope.indicators {
        if let Some(asn) = indicator.asn {
            asns.entry(asn).or_insert_with(|| indicator.as_org.clone().unwrap_or_else(|| format!("AS{asn}")));
        }
        countries.extend(indicator.country.clone());
    }
    let row = |kind: &str, key: String, name: String, email: String| ContactRow {
        kind: kind.into(),
        key,
        name,
        email,
        pgp_fingerprint: None,
        language: None,
    };
    let mut rows: Vec<ContactRow> = asns
        .into_iter()
        .map(|(asn, org)| {
            row("asn", asn.to_string(), format!("{org} abuse desk"), format!("abuse@as{asn}.demo.invalid"))
        })
        .collect();
    rows.extend(countries.into_iter().map(|cc| {
        let lower = cc.to_ascii_lowercase();
        row(
            "country",
            cc.clone(),
            format!("National cybercrime unit {cc} (demo)"),
            format!("ncu-{lower}@agency.demo.invalid"),
        )
    }));
    Ok(rows)
}

/// Triage: about 4 % rejected (false positive, duplicate, out of scope),
/// the rest triaged.
fn triage(store: &mut SqliteStore, operation: &Operation, actor: &Actor) -> anyhow::Result<()> {
    let identified = targets_in(store, operation.id, TargetState::Identified)?;
    let mut groups: BTreeMap<u64, Vec<Target>> = BTreeMap::new();
    for target in identified {
        groups.entry(stable_hash(&target.spec.key, 51) % 100).or_default().push(target);
    }
    let reasons = [
        (0, RejectReason::FalsePositive),
        (1, RejectReason::FalsePositive),
        (2, RejectReason::Duplicate),
        (3, RejectReason::OutOfScope),
    ];
    for (bucket, reason) in reasons {
        if let Some(targets) = groups.remove(&bucket) {
            let note = Actor { note: "simulated triage".into(), ..actor.clone() };
            transition(store, &targets, TargetState::Rejected, Some(reason), &note)?;
        }
    }
    let rest: Vec<Target> = groups.into_values().flatten().collect();
    transition(store, &rest, TargetState::Triaged, None, actor)?;
    Ok(())
}

/// Walks `targets` along the lifecycle to `to`, one legal step at a time.
fn advance(store: &mut SqliteStore, mut targets: Vec<Target>, to: TargetState, actor: &Actor) -> anyhow::Result<usize> {
    let mut moved = 0;
    loop {
        let mut by_next: BTreeMap<TargetState, Vec<Target>> = BTreeMap::new();
        for target in targets.drain(..) {
            if let Some(next) = path(target.state, to).and_then(|p| p.first().copied()) {
                by_next.entry(next).or_default().push(target);
            }
        }
        if by_next.is_empty() {
            return Ok(moved);
        }
        for (next, group) in by_next {
            let done = transition(store, &group, next, None, actor)?;
            moved += usize::from(next == to) * done.applied.len();
            targets.extend(group.into_iter().filter(|t| done.applied.contains(&t.id)).map(|mut t| {
                t.state = next;
                t
            }));
        }
    }
}

/// Takes down about 76 % of the server targets (plus `comeback`, which will
/// re-emerge), spread over weeks 6–20, and verifies 40 % of those a week
/// later (simulated: nothing is probed).
fn simulate_takedowns(
    store: &mut SqliteStore,
    operation: &Operation,
    start: i64,
    comeback: usize,
) -> anyhow::Result<(usize, usize)> {
    let all = store.targets(&TargetFilter { operation_id: Some(operation.id), ..TargetFilter::default() })?;
    let servers = all.iter().filter(|t| t.spec.kind == TargetKind::Server).count();
    let wanted = (servers as f64 * TAKEDOWN_SHARE).round() as usize + comeback;
    let mut candidates: Vec<Target> = all
        .into_iter()
        .filter(|t| t.spec.kind == TargetKind::Server && path(t.state, TargetState::TakenDown).is_some())
        .collect();
    candidates.sort_by_key(|t| stable_hash(&t.spec.key, 61));
    candidates.truncate(wanted);
    let mut weeks: BTreeMap<i64, Vec<Target>> = BTreeMap::new();
    for target in candidates {
        weeks.entry(6 + (stable_hash(&target.spec.key, 62) % 15) as i64).or_default().push(target);
    }
    let (mut down, mut verified) = (0, 0);
    for (week, targets) in weeks {
        let actor = Actor::new("demo", start + week * 7 * DAY + 3600, "simulated takedown");
        let chosen: Vec<Target> = targets.iter().filter(|t| stable_hash(&t.spec.key, 63) % 100 < 40).cloned().collect();
        down += advance(store, targets, TargetState::TakenDown, &actor)?;
        let ids: BTreeSet<i64> = chosen.iter().map(|t| t.id).collect();
        let now_down: Vec<Target> = targets_in(store, operation.id, TargetState::TakenDown)?
            .into_iter()
            .filter(|t| ids.contains(&t.id))
            .collect();
        let later = Actor::new("demo", actor.time + 7 * DAY, "simulated: down in two checks a week apart");
        verified += transition(store, &now_down, TargetState::Verified, None, &later)?.applied.len();
    }
    Ok((down, verified))
}

/// A partner reports `count` taken-down servers again: rebuilding the
/// targets moves them to `reemerged`, then back to `triaged`.
fn simulate_reemergence(
    store: &mut SqliteStore,
    operation: &Operation,
    feed_dir: &Path,
    count: usize,
    actor: &Actor,
) -> anyhow::Result<usize> {
    let mut down: Vec<Target> = targets_in(store, operation.id, TargetState::TakenDown)?;
    down.extend(targets_in(store, operation.id, TargetState::Verified)?);
    down.sort_by_key(|t| stable_hash(&t.spec.key, 71));
    let text: String = down.iter().take(count).map(|t| format!("{}\n", t.spec.key)).collect();
    if text.is_empty() {
        return Ok(0);
    }
    let feed = DemoFeed {
        source: "kestrel-cert",
        file: "kestrel-cert-update.txt",
        format: "plain",
        default_tlp: cordon_model::Tlp::Clear,
        share_amber: false,
        text,
        records: count,
    };
    ingest(store, operation, feed_dir, &feed)?;
    Ok(build_with_contacts(store, operation, actor, false)?.reemerged)
}

/// 41 arrests and 59 seized servers, shared among the countries with the
/// most takedowns (largest remainder), as the press release counted them.
fn record_outcomes(store: &mut SqliteStore, operation: &Operation, start: i64) -> anyhow::Result<()> {
    let report = cordon_ops::report::load(store, operation)?;
    let top: Vec<(String, u64)> = report
        .by_country
        .iter()
        .filter(|r| r.key != "unknown" && r.taken_down > 0)
        .take(12)
        .map(|r| (r.key.clone(), r.taken_down))
        .collect();
    for (kind, total) in [("arrest", 41u64), ("server-seized", 59)] {
        for (country, count) in share(total, &top) {
            let outcome = Outcome {
                operation_id: operation.id,
                country,
                kind: kind.into(),
                count,
                date: start + 140 * DAY,
                note: "simulated".into(),
            };
            store.add_outcome(&outcome)?;
        }
    }
    Ok(())
}

/// Splits `total` in proportion to the weights (largest remainder).
fn share(total: u64, weights: &[(String, u64)]) -> Vec<(String, u64)> {
    let sum: u64 = weights.iter().map(|w| w.1).sum();
    if sum == 0 {
        return Vec::new();
    }
    let mut parts: Vec<(String, u64, u64)> =
        weights.iter().map(|(k, w)| (k.clone(), total * w / sum, (total * w) % sum)).collect();
    let mut left = total - parts.iter().map(|p| p.1).sum::<u64>();
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by(|a, b| parts[*b].2.cmp(&parts[*a].2));
    for i in order {
        if left == 0 {
            break;
        }
        parts[i].1 += 1;
        left -= 1;
    }
    parts.into_iter().filter(|p| p.1 > 0).map(|p| (p.0, p.1)).collect()
}
