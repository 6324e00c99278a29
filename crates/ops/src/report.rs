//! The operation report: headline figures as the press release gives them,
//! the funnel, breakdowns and the time to takedown; as JSON or as one
//! self-contained HTML page with inline SVG charts.

use std::collections::BTreeMap;
use std::fmt::Write;

use cordon_model::{format_timestamp, Timestamp};
use cordon_store::ops::{DayEvents, Operation, OpsStore, ReportCounts, StateCount, TargetKind, TargetState};
use serde::Serialize;

use crate::html::{bar_chart, escape, funnel, page, table, timeline, Bar};
use crate::lifecycle::is_down;
use crate::OpsError;

/// Credit for the ASN and country data, shown wherever they are.
pub const GEO_ATTRIBUTION: &str = "IP-to-ASN and country data: RouteViews, DB-IP (ASN Lite) and the NRO delegation \
     statistics, via ip-location-db, licensed CC BY 4.0.";

/// The kinds of outcome an operation records (counts only).
pub const OUTCOME_KINDS: [&str; 7] = [
    "arrest",
    "house-search",
    "server-seized",
    "device-seized",
    "data-seized-gb",
    "suspect-identified",
    "under-investigation",
];

/// The figures a press release leads with.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Headline {
    /// Suspicious server addresses identified (server targets).
    pub suspicious_ips: u64,
    /// Of which taken down (or verified down).
    pub taken_down: u64,
    /// `taken_down` as a percentage of `suspicious_ips`, one decimal.
    pub taken_down_percent: f64,
    /// Servers seized (outcomes).
    pub servers_seized: u64,
    /// Arrests (outcomes).
    pub arrests: u64,
    /// Countries with targets or outcomes.
    pub countries: u64,
}

/// Targets and takedowns for one key of a breakdown.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Row {
    /// The country, category, provider or week.
    pub key: String,
    /// Targets.
    pub targets: u64,
    /// Of which taken down.
    pub taken_down: u64,
}

/// How many of a partner's reports were confirmed.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PartnerRow {
    /// The partner (source).
    pub partner: String,
    /// Targets it reported.
    pub reported: u64,
    /// Of which taken down or verified.
    pub confirmed: u64,
    /// Of which rejected as false positives.
    pub false_positives: u64,
    /// `confirmed / reported`, 0–1.
    pub confirmed_ratio: f64,
}

/// The whole report.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Report {
    /// The operation.
    pub operation: String,
    /// Its description.
    pub description: String,
    /// Window start (RFC 3339).
    pub start: String,
    /// Window end (RFC 3339).
    pub end: String,
    /// The headline figures.
    pub headline: Headline,
    /// The headline as one sentence.
    pub headline_text: String,
    /// Targets that ever reached each stage, lifecycle order.
    pub funnel: Vec<(String, u64)>,
    /// Targets per current state.
    pub states: BTreeMap<String, u64>,
    /// Targets per kind.
    pub kinds: BTreeMap<String, u64>,
    /// By country, most targets first.
    pub by_country: Vec<Row>,
    /// By category.
    pub by_category: Vec<Row>,
    /// By partner.
    pub by_partner: Vec<PartnerRow>,
    /// By provider (AS organisation), most targets first.
    pub by_provider: Vec<Row>,
    /// By ISO week: `targets` identified and `taken_down` that week, every
    /// week from the operation's start (or the first event) to the last
    /// event, empty weeks included.
    pub by_week: Vec<Row>,
    /// Targets that re-emerged after a takedown (a partner reported them
    /// again): they count at every stage of the funnel they reached, before
    /// and after.
    pub reemerged: u64,
    /// Outcome totals by kind.
    pub outcomes: BTreeMap<String, u64>,
    /// Outcome totals by country and kind.
    pub outcomes_by_country: BTreeMap<String, BTreeMap<String, u64>>,
    /// Median hours from identified to taken down.
    pub median_hours_to_takedown: Option<f64>,
    /// Credit for the geo data.
    pub attribution: String,
}

/// Reads the report's aggregates from the store and computes it: the
/// database counts, so the cost is that of the breakdowns, not of the
/// operation's targets and history.
pub fn load(store: &dyn OpsStore, operation: &Operation) -> Result<Report, OpsError> {
    Ok(compute(operation, &store.report_counts(operation.id)?))
}

/// Computes the report from the store's aggregates (pure).
pub fn compute(operation: &Operation, counts: &ReportCounts) -> Report {
    let mut states = BTreeMap::new();
    let mut kinds = BTreeMap::new();
    let (mut servers, mut servers_down) = (0, 0);
    for cell in &counts.kinds {
        *states.entry(cell.state.as_str().to_string()).or_insert(0) += cell.targets;
        *kinds.entry(cell.key.as_str().to_string()).or_insert(0) += cell.targets;
        if cell.key == TargetKind::Server {
            servers += cell.targets;
            servers_down += if is_down(cell.state) { cell.targets } else { 0 };
        }
    }
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_country_kind: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for (country, kind, count) in &counts.outcomes {
        *totals.entry(kind.clone()).or_insert(0) += count;
        *by_country_kind.entry(country.clone()).or_default().entry(kind.clone()).or_insert(0) += count;
    }
    let headline = Headline {
        suspicious_ips: servers,
        taken_down: servers_down,
        taken_down_percent: percent(servers_down, servers),
        servers_seized: totals.get("server-seized").copied().unwrap_or(0),
        arrests: totals.get("arrest").copied().unwrap_or(0),
        countries: counts.countries_involved,
    };
    let headline_text = format!(
        "Operation {}: {} suspicious IP addresses identified, {} ({}%) taken down, {} servers seized, {} arrests, \
         {} countries involved.",
        operation.name,
        thousands(headline.suspicious_ips),
        thousands(headline.taken_down),
        headline.taken_down_percent.round(),
        thousands(headline.servers_seized),
        thousands(headline.arrests),
        headline.countries
    );
    let reached = |state: TargetState| counts.reached.iter().filter(|(s, _)| *s == state).map(|(_, n)| n).sum::<u64>();
    let funnel_states = [
        TargetState::Identified,
        TargetState::Triaged,
        TargetState::Referred,
        TargetState::Notified,
        TargetState::TakenDown,
        TargetState::Verified,
    ];
    let funnel = funnel_states.iter().map(|s| (s.as_str().to_string(), reached(*s))).collect();
    let hours = |seconds: i64| seconds as f64 / 3600.0;
    let median_hours_to_takedown = match counts.middle_seconds_to_takedown.as_slice() {
        [middle] => Some(hours(*middle)),
        [low, high] => Some((hours(*low) + hours(*high)) / 2.0),
        _ => None,
    };
    Report {
        operation: operation.name.clone(),
        description: operation.description.clone(),
        start: format_timestamp(operation.start),
        end: format_timestamp(operation.end),
        headline,
        headline_text,
        funnel,
        states,
        kinds,
        by_country: breakdown(
            counts.countries.iter().map(|c| (c.key.clone().unwrap_or_else(|| "unknown".into()), c.state, c.targets)),
        ),
        by_category: breakdown(
            counts
                .categories
                .iter()
                .flat_map(|c| c.key.iter().map(move |category| (category.as_str().to_string(), c.state, c.targets))),
        ),
        by_partner: partner_rows(&counts.partners),
        by_provider: breakdown(
            counts.providers.iter().map(|c| (c.key.clone().unwrap_or_else(|| "unknown".into()), c.state, c.targets)),
        ),
        by_week: weeks(operation, &counts.days),
        reemerged: reached(TargetState::Reemerged),
        outcomes: totals,
        outcomes_by_country: by_country_kind,
        median_hours_to_takedown,
        attribution: GEO_ATTRIBUTION.to_string(),
    }
}

/// Every ISO week from the operation's start (or the first event) to the
/// last event, at most ten years of them, with the targets identified and
/// those taken down (and still down) that week.
fn weeks(operation: &Operation, days: &[DayEvents]) -> Vec<Row> {
    let mut by_week: BTreeMap<String, Row> = BTreeMap::new();
    let first = days.iter().map(|d| d.first).min();
    if let (Some(first), Some(last)) = (first, days.iter().map(|d| d.last).max()) {
        let mut at = first.min(operation.start);
        while at <= last && by_week.len() < 520 {
            let week = iso_week(at);
            by_week.entry(week.clone()).or_insert_with(|| Row { key: week, ..Row::default() });
            at += 7 * 86_400;
        }
    }
    for day in days {
        let (identified, down) = match day.event {
            TargetState::Identified => (day.targets, 0),
            TargetState::TakenDown if is_down(day.state) => (0, day.targets),
            _ => continue,
        };
        let week = iso_week(day.first);
        let row = by_week.entry(week.clone()).or_insert_with(|| Row { key: week, ..Row::default() });
        row.targets += identified;
        row.taken_down += down;
    }
    by_week.into_values().collect()
}

/// Each partner's reports, confirmations and false positives.
fn partner_rows(cells: &[StateCount<(Vec<String>, bool)>]) -> Vec<PartnerRow> {
    let mut partners: BTreeMap<&str, PartnerRow> = BTreeMap::new();
    for cell in cells {
        let (names, false_positive) = &cell.key;
        for p in names {
            let row = partners.entry(p).or_insert_with(|| PartnerRow { partner: p.clone(), ..PartnerRow::default() });
            row.reported += cell.targets;
            row.confirmed += if is_down(cell.state) { cell.targets } else { 0 };
            row.false_positives += if *false_positive { cell.targets } else { 0 };
        }
    }
    partners
        .into_values()
        .map(|mut r| {
            r.confirmed_ratio = if r.reported == 0 { 0.0 } else { r.confirmed as f64 / r.reported as f64 };
            r
        })
        .collect()
}

/// Sums `(key, state, targets)` cells into rows, most targets first.
fn breakdown(cells: impl Iterator<Item = (String, TargetState, u64)>) -> Vec<Row> {
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    for (key, state, targets) in cells {
        let row = rows.entry(key.clone()).or_insert_with(|| Row { key, ..Row::default() });
        row.targets += targets;
        row.taken_down += if is_down(state) { targets } else { 0 };
    }
    let mut rows: Vec<Row> = rows.into_values().collect();
    rows.sort_by(|a, b| b.targets.cmp(&a.targets).then_with(|| a.key.cmp(&b.key)));
    rows
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    (part as f64 * 1000.0 / whole as f64).round() / 10.0
}

/// `30000` → `30,000`.
pub fn thousands(n: u64) -> String {
    let reversed: Vec<char> = n.to_string().chars().rev().collect();
    let groups: Vec<String> = reversed.chunks(3).map(|group| group.iter().rev().collect()).collect();
    groups.into_iter().rev().collect::<Vec<_>>().join(",")
}

/// The ISO week of a timestamp: `2024-W36`.
pub fn iso_week(ts: Timestamp) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ts).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let (year, week, _) = t.to_iso_week_date();
    format!("{year}-W{week:02}")
}

/// What the funnel means for re-emerged targets.
fn reemerged_note(count: u64) -> String {
    format!(
        "{} target(s) re-emerged after their takedown (a partner reported them again) and went back to triage: \
         the funnel counts each target once at every stage it ever reached, so they count as taken down too.",
        thousands(count)
    )
}

/// The report as plain text, for the terminal.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", report.headline_text);
    let funnel: Vec<String> = report.funnel.iter().map(|(s, n)| format!("{s} {}", thousands(*n))).collect();
    let _ = writeln!(out, "funnel: {}", funnel.join(" → "));
    if report.reemerged > 0 {
        let _ = writeln!(out, "{}", reemerged_note(report.reemerged));
    }
    if let Some(h) = report.median_hours_to_takedown {
        let _ = writeln!(out, "median time from identified to taken down: {h:.1} h");
    }
    let top: Vec<String> =
        report.by_country.iter().take(10).map(|r| format!("{} {}", r.key, thousands(r.targets))).collect();
    let _ = writeln!(out, "top countries: {}", top.join(", "));
    for p in &report.by_partner {
        let _ = writeln!(
            out,
            "partner {}: {} reported, {} confirmed ({:.0}%), {} false positives",
            p.partner,
            thousands(p.reported),
            thousands(p.confirmed),
            p.confirmed_ratio * 100.0,
            thousands(p.false_positives)
        );
    }
    let _ = writeln!(out, "{}", report.attribution);
    out
}

/// The report as one self-contained HTML page.
pub fn html(report: &Report) -> String {
    page(&format!("Operation {} report", report.operation), &html_body(report))
}

/// The report's content (headings, figures, inline SVG charts, tables) as
/// HTML to put in a page: every text from the store is escaped.
pub fn html_body(report: &Report) -> String {
    let h = &report.headline;
    let mut body = format!(
        "<h1>Operation {}</h1><p class=\"small\">{} – {}. {}</p><p><b>{}</b></p><div class=\"figures\">",
        escape(&report.operation),
        escape(&report.start),
        escape(&report.end),
        escape(&report.description),
        escape(&report.headline_text)
    );
    let figures = [
        ("suspicious IPs identified", thousands(h.suspicious_ips)),
        ("taken down", format!("{} ({}%)", thousands(h.taken_down), h.taken_down_percent)),
        ("servers seized", thousands(h.servers_seized)),
        ("arrests", thousands(h.arrests)),
        ("countries", h.countries.to_string()),
    ];
    for (name, value) in figures {
        let _ = write!(body, "<div class=\"figure\"><b>{}</b>{}</div>", escape(&value), escape(name));
    }
    body.push_str("</div><h2>Funnel</h2>");
    body.push_str(&funnel("Targets by lifecycle stage reached", &report.funnel));
    if report.reemerged > 0 {
        let _ = write!(body, "<p>{}</p>", escape(&reemerged_note(report.reemerged)));
    }
    if let Some(hours) = report.median_hours_to_takedown {
        let _ = write!(body, "<p>Median time from identified to taken down: {hours:.1} hours.</p>");
    }
    body.push_str("<h2>Timeline (cumulative)</h2>");
    let (mut identified, mut down) = (0, 0);
    let points: Vec<(String, u64, u64)> = report
        .by_week
        .iter()
        .map(|r| {
            identified += r.targets;
            down += r.taken_down;
            (r.key.clone(), identified, down)
        })
        .collect();
    body.push_str(&timeline("Targets by week, cumulative", ["identified", "taken down"], &points));
    let sections =
        [("Countries", &report.by_country), ("Categories", &report.by_category), ("Providers", &report.by_provider)];
    for (title, rows) in sections {
        let _ = write!(body, "<h2>{title}</h2>");
        body.push_str(&bar_chart(title, &row_bars(rows)));
    }
    body.push_str("<h2>Partners: reports confirmed</h2>");
    let bars: Vec<Bar> = report
        .by_partner
        .iter()
        .map(|p| Bar {
            label: p.partner.clone(),
            value: p.confirmed_ratio,
            text: format!("{:.0}% of {}", p.confirmed_ratio * 100.0, thousands(p.reported)),
        })
        .collect();
    body.push_str(&bar_chart("Partners", &bars));
    body.push_str("<h2>Outcomes</h2>");
    let rows: Vec<Vec<String>> = report
        .outcomes_by_country
        .iter()
        .flat_map(|(country, kinds)| kinds.iter().map(move |(k, n)| vec![country.clone(), k.clone(), thousands(*n)]))
        .collect();
    body.push_str(&table(&["country", "outcome", "count"], &rows));
    let _ = write!(body, "<p class=\"small\">{}</p>", escape(&report.attribution));
    body
}

/// The top rows of a breakdown as bars (the rest summed as `other`).
fn row_bars(rows: &[Row]) -> Vec<Bar> {
    const SHOWN: usize = 15;
    let mut bars: Vec<Bar> = rows
        .iter()
        .take(SHOWN)
        .map(|r| Bar {
            label: r.key.clone(),
            value: r.targets as f64,
            text: format!("{} ({} down)", thousands(r.targets), thousands(r.taken_down)),
        })
        .collect();
    let rest: u64 = rows.iter().skip(SHOWN).map(|r| r.targets).sum();
    if rest > 0 {
        bars.push(Bar { label: format!("{} others", rows.len() - SHOWN), value: rest as f64, text: thousands(rest) });
    }
    bars
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_like_a_press_release() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(30_000), "30,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(percent(22_771, 29_962), 76.0);
        assert_eq!(iso_week(1_725_148_800), "2024-W35");
    }
}
