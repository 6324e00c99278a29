//! The leak matrix (issue 9): sightings of every TLP from three partners
//! with different consents, read by every kind of viewer through every
//! output. For each viewer and output, nothing of a sighting the viewer may
//! not see appears: no value, source name, category, family or count.
//!
//! The expected visibility is written out here, table by table, rather than
//! computed with `cordon_model::may_see`: the test checks the rule as TLP
//! 2.0 states it, not the code against itself.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use cordon_app::exports::ExportSelection;
use cordon_app::intake::Input;
use cordon_app::operations::TargetSelection;
use cordon_app::{App, AppError, Config};
use cordon_ingest::IngestOptions;
use cordon_model::{Consent, OrgKind, Tlp, Viewer};
use cordon_ops::notify::NotifyConfig;
use cordon_ops::workflow::Actor;
use cordon_store::ops::TargetState;
use cordon_store::orgs::NewOrganisation;
use cordon_store::IndicatorFilter;

const SOURCES: [&str; 3] = ["alpha", "bravo", "charlie"];

/// One sighting the fixture stores.
#[derive(Clone, Debug)]
struct Seen {
    value: String,
    source: &'static str,
    tlp: Tlp,
    category: &'static str,
    malware: Option<String>,
    /// In the agency's country and the provider's network.
    in_need: bool,
}

/// Who reads, as the test knows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Hub,
    Partner(&'static str),
    Agency,
    Provider,
    Defender,
    Public,
}

/// TLP 2.0, written out: alpha lets its AMBER go to agencies, bravo to
/// providers, charlie nowhere.
fn expected(who: Who, s: &Seen) -> bool {
    match who {
        Who::Hub => true,
        Who::Partner(name) if name == s.source => true,
        Who::Public => s.tlp == Tlp::Clear,
        Who::Partner(_) | Who::Defender => matches!(s.tlp, Tlp::Clear | Tlp::Green),
        Who::Agency => {
            matches!(s.tlp, Tlp::Clear | Tlp::Green) || (s.tlp == Tlp::Amber && s.source == "alpha" && s.in_need)
        }
        Who::Provider => {
            matches!(s.tlp, Tlp::Clear | Tlp::Green) || (s.tlp == Tlp::Amber && s.source == "bravo" && s.in_need)
        }
    }
}

fn tlp_name(tlp: Tlp) -> String {
    tlp.as_str().replace('+', "-")
}

/// The exclusive sightings: one address per source and TLP, in the
/// agency's country (45/8) and outside it (46/8), each with its own family.
fn exclusive() -> Vec<Seen> {
    let mut out = Vec::new();
    for (si, source) in SOURCES.iter().enumerate() {
        for (ti, tlp) in Tlp::ALL.iter().enumerate() {
            for (first, in_need) in [(45, true), (46, false)] {
                out.push(Seen {
                    value: format!("{first}.{}.{}.10", si + 1, ti + 1),
                    source,
                    tlp: *tlp,
                    category: "c2",
                    malware: Some(format!("fam-{source}-{}-{first}", tlp_name(*tlp))),
                    in_need,
                });
            }
        }
    }
    out
}

/// One address all three report: CLEAR scanner, GREEN ransomware, RED phishing.
fn shared() -> Vec<Seen> {
    [("alpha", Tlp::Clear, "scanner"), ("bravo", Tlp::Green, "ransomware"), ("charlie", Tlp::Red, "phishing")]
        .into_iter()
        .map(|(source, tlp, category)| Seen {
            value: "45.200.0.1".into(),
            source,
            tlp,
            category,
            malware: None,
            in_need: true,
        })
        .collect()
}

/// A domain that alpha reports GREEN and charlie links, RED, to 46.9.9.9:
/// its country (DE) is known only through the RED link.
fn linked() -> Vec<Seen> {
    let seen = |value: &str, source, tlp, category| Seen {
        value: value.into(),
        source,
        tlp,
        category,
        malware: None,
        in_need: false,
    };
    vec![
        seen("leak.badsite.xyz", "alpha", Tlp::Green, "phishing"),
        seen("leak.badsite.xyz", "charlie", Tlp::Red, "c2"),
        seen("46.9.9.9", "charlie", Tlp::Red, "c2"),
    ]
}

fn all_seen() -> Vec<Seen> {
    let mut all = exclusive();
    all.extend(shared());
    all.extend(linked());
    all
}

struct Fixture {
    app: App,
    viewers: Vec<(Who, Viewer)>,
    _dir: tempfile::TempDir,
}

fn write_geo(path: &Path) {
    let mut import = cordon_enrich::Import::new();
    import.add_csv("asn-country.csv", b"45.0.0.0,45.255.255.255,RO\n46.0.0.0,46.255.255.255,DE\n");
    import
        .add_csv("asn.csv", b"45.0.0.0,45.255.255.255,64500,Provider RO\n46.0.0.0,46.255.255.255,64501,Provider DE\n");
    cordon_enrich::write_snapshot(path, &import.finish().snapshot).unwrap();
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::new(dir.path().join("cordon.db"));
    write_geo(&config.geo);
    let app = App::open(&config).unwrap();
    let hub = app.viewer(None).unwrap();
    let org = |name: &str, kind, country: Option<&str>, asns: Vec<u32>| NewOrganisation {
        name: name.into(),
        kind,
        country: country.map(str::to_string),
        asns,
    };
    let agency = app.add_org(&hub, &org("ncu-ro", OrgKind::Agency, Some("ro"), vec![])).unwrap().viewer();
    let provider = app.add_org(&hub, &org("prov-ro", OrgKind::Provider, None, vec![64500])).unwrap().viewer();
    let defender = app.add_org(&hub, &org("soc", OrgKind::Defender, None, vec![])).unwrap().viewer();

    let mut files: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for s in exclusive().iter().chain(&shared()) {
        let malware = s.malware.clone().unwrap_or_default();
        files.entry(s.source).or_default().push(format!("{},{},{malware},{}", s.value, s.category, s.tlp));
    }
    let options = |source: &str| IngestOptions { source: source.into(), ..IngestOptions::default() };
    let mut imports = Vec::new();
    for (source, rows) in &files {
        let text = format!("ip,category,malware,tlp\n{}\n", rows.join("\n"));
        let input = Input::Bytes { name: "feed.csv", bytes: text.as_bytes() };
        let report = app.ingest(&hub, input, &options(source), None, &mut |_| {}).unwrap();
        assert_eq!(report.counts.rejected, 0, "{report:?}");
        imports.extend(report.import_id);
    }
    let link = "domain,ip,category,tlp\nleak.badsite.xyz,46.9.9.9,c2,red\n";
    let report = app.ingest(
        &hub,
        Input::Bytes { name: "link.csv", bytes: link.as_bytes() },
        &options("charlie"),
        None,
        &mut |_| {},
    );
    imports.extend(report.unwrap().import_id);
    let alone = "domain,category,tlp\nleak.badsite.xyz,phishing,green\n";
    let report = app.ingest(
        &hub,
        Input::Bytes { name: "dom.csv", bytes: alone.as_bytes() },
        &options("alpha"),
        None,
        &mut |_| {},
    );
    imports.extend(report.unwrap().import_id);
    app.set_consent(&hub, "alpha", Consent { agencies: true, providers: false }).unwrap();
    app.set_consent(&hub, "bravo", Consent { agencies: false, providers: true }).unwrap();
    app.enrich(&hub, &mut |_, _| {}).unwrap();

    let mut viewers = vec![
        (Who::Hub, hub),
        (Who::Agency, agency),
        (Who::Provider, provider),
        (Who::Defender, defender),
        (Who::Public, Viewer::Public),
    ];
    for source in SOURCES {
        viewers.push((Who::Partner(source), app.viewer(Some(source)).unwrap()));
    }
    Fixture { app, viewers, _dir: dir }
}

fn visible(who: Who) -> Vec<Seen> {
    all_seen().into_iter().filter(|s| expected(who, s)).collect()
}

/// value → (sources, categories, most restrictive TLP) over visible sightings.
fn expected_summaries(who: Who) -> BTreeMap<String, (BTreeSet<String>, BTreeSet<String>, Tlp)> {
    let mut out: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>, Tlp)> = BTreeMap::new();
    for s in visible(who) {
        let entry = out.entry(s.value.clone()).or_insert_with(|| (BTreeSet::new(), BTreeSet::new(), Tlp::Clear));
        entry.0.insert(s.source.to_string());
        entry.1.insert(s.category.to_string());
        entry.2 = entry.2.max(s.tlp);
    }
    out
}

#[test]
fn no_output_shows_what_its_viewer_may_not_see() {
    let f = fixture();
    for (who, viewer) in &f.viewers {
        let want = expected_summaries(*who);
        let filter = IndicatorFilter::new(*viewer);

        // `indicators`: the values, and every aggregate built from visible
        // sightings only, marked with the most restrictive of their TLPs.
        let mut got = BTreeMap::new();
        f.app
            .indicators(&filter, &mut |i| {
                let categories = i.categories.iter().map(|c| c.as_str().to_string()).collect();
                got.insert(i.value.clone(), (i.sources.iter().cloned().collect(), categories, i.tlp));
            })
            .unwrap();
        assert_eq!(got, want, "indicators as {who:?}");

        // `show`: one indicator's sightings and links.
        for seen in all_seen() {
            match f.app.indicator(&seen.value, &filter) {
                Ok(detail) => {
                    let mut rows: Vec<(String, Tlp)> =
                        detail.sightings.iter().map(|s| (s.source.clone(), s.tlp)).collect();
                    rows.sort();
                    rows.dedup();
                    let mut wanted: Vec<(String, Tlp)> = visible(*who)
                        .iter()
                        .filter(|s| s.value == seen.value)
                        .map(|s| (s.source.to_string(), s.tlp))
                        .collect();
                    wanted.sort();
                    wanted.dedup();
                    assert_eq!(rows, wanted, "show {} as {who:?}", seen.value);
                    let families: Vec<&String> = detail.sightings.iter().filter_map(|s| s.malware.as_ref()).collect();
                    for family in families {
                        assert!(
                            visible(*who).iter().any(|s| s.malware.as_ref() == Some(family)),
                            "{family} as {who:?}"
                        );
                    }
                    if seen.value == "leak.badsite.xyz" {
                        let may_link = expected(*who, &linked()[1]);
                        assert_eq!(!detail.linked.is_empty(), may_link, "the RED link as {who:?}");
                    }
                }
                Err(AppError::NotFound(_)) => {
                    assert!(!want.contains_key(&seen.value), "{} hidden from {who:?}", seen.value)
                }
                Err(e) => panic!("{e}"),
            }
        }

        // `sources`: names and counts of what the viewer may see.
        let sources = f.app.sources(viewer).unwrap();
        for s in &sources {
            let mine = visible(*who).iter().filter(|v| v.source == s.name).count() as u64;
            // Derived sightings (the link's address) count as sightings.
            assert_eq!(s.sightings, mine, "sightings of {} as {who:?}", s.name);
            let own = match who {
                Who::Hub => true,
                Who::Partner(name) => *name == s.name,
                _ => false,
            };
            assert_eq!(s.imports.is_some(), own, "import counts of {} as {who:?}", s.name);
        }
        let names: BTreeSet<String> = sources.iter().map(|s| s.name.clone()).collect();
        let wanted: BTreeSet<String> = visible(*who).iter().map(|s| s.source.to_string()).collect();
        assert_eq!(names, wanted, "sources as {who:?}");

        // `imports`: the hub's are all, a partner's its own, others none.
        let imports = f.app.imports(viewer).unwrap();
        match who {
            Who::Hub => assert_eq!(imports.len(), 5),
            Who::Partner(name) => assert!(!imports.is_empty() && imports.iter().all(|i| i.source == *name)),
            _ => assert!(imports.is_empty(), "imports as {who:?}"),
        }

        // Enrichment derived through the RED link stays with those who may
        // see the link, and filters cannot find it either.
        let by_country = IndicatorFilter { country: Some("DE".into()), ..IndicatorFilter::new(*viewer) };
        let mut in_de = Vec::new();
        f.app.indicators(&by_country, &mut |i| in_de.push(i.value)).unwrap();
        // (Enrichment remembers the link's TLP, not who linked: beyond the
        // hub it is shown only for CLEAR and GREEN links, so even the
        // partner that made the RED link does not see it. Conservative.)
        let may_know = *who == Who::Hub;
        assert_eq!(in_de.contains(&"leak.badsite.xyz".to_string()), may_know, "leak.badsite.xyz in DE as {who:?}");
        if want.contains_key("leak.badsite.xyz") {
            let detail = f.app.indicator("leak.badsite.xyz", &filter).unwrap();
            let country = detail.summary.enrichment.as_ref().and_then(|e| e.country.clone());
            assert_eq!(country.is_some(), may_know, "leak.badsite.xyz's country as {who:?}");
        }

        exports(&f.app, *who, *viewer, &want);
        hub_only(&f.app, *who, viewer);
    }
}

/// Every export format carries only visible indicators, with visible
/// sources and categories, marked with the most restrictive TLP.
fn exports(app: &App, who: Who, viewer: Viewer, want: &BTreeMap<String, (BTreeSet<String>, BTreeSet<String>, Tlp)>) {
    let selection = ExportSelection {
        filter: IndicatorFilter::new(viewer),
        min_confidence: None,
        since: None,
        include_flagged: true,
    };
    let (entries, _) = app.export_entries(&selection).unwrap();
    for e in &entries {
        let (sources, categories, tlp) =
            want.get(&e.value).unwrap_or_else(|| panic!("{} exported to {who:?}", e.value));
        assert_eq!(&e.sources.iter().cloned().collect::<BTreeSet<_>>(), sources);
        let got: BTreeSet<String> = e.categories.iter().map(|c| c.as_str().to_string()).collect();
        assert_eq!(&got, categories);
        assert_eq!(e.tlp, *tlp, "{} exported to {who:?}", e.value);
    }
    let hidden: Vec<Seen> = all_seen().into_iter().filter(|s| !want.contains_key(&s.value)).collect();
    let dir = tempfile::tempdir().unwrap();
    let options = cordon_export::Options::new(1_725_148_800);
    for format in cordon_export::Format::ALL {
        let text = if format.is_directory() {
            let out = dir.path().join(format.as_str());
            cordon_export::write_misp_feed(&entries, &options, &out).unwrap();
            std::fs::read_dir(&out)
                .unwrap()
                .map(|f| std::fs::read_to_string(f.unwrap().path()).unwrap_or_default())
                .collect::<String>()
        } else {
            let mut bytes = Vec::new();
            cordon_export::write(format, &entries, &options, &mut bytes).unwrap();
            String::from_utf8_lossy(&bytes).into_owned()
        };
        for s in &hidden {
            assert!(!text.contains(&s.value), "{} in the {format} export to {who:?}", s.value);
        }
    }
}

/// The coordination outputs are the hub's: everyone else is refused.
fn hub_only(app: &App, who: Who, viewer: &Viewer) {
    if who == Who::Hub {
        return;
    }
    assert!(matches!(app.targets(viewer, &TargetSelection::default()), Err(AppError::Forbidden(_))));
    // Agencies see which operations there are (their targets are checked
    // in the packages test below); nobody else does.
    assert_eq!(matches!(app.operations(viewer), Err(AppError::Forbidden(_))), who != Who::Agency);
    assert!(matches!(app.allowlist(viewer), Err(AppError::Forbidden(_))));
}

/// What leaves the hub in packages (to agencies) and notifications (to
/// providers) follows the recipient class's consent.
#[test]
fn packages_and_notifications_carry_only_what_may_leave() {
    let f = fixture();
    let hub = f.viewers[0].1;
    let contacts = "asn,64500,Provider RO abuse,abuse@prov-ro.invalid\ncountry,RO,NCU RO,ncu@ro.invalid\n\
                    asn,64501,Provider DE abuse,abuse@prov-de.invalid\ncountry,DE,NCU DE,ncu@de.invalid\n";
    f.app.import_contacts(&hub, "contacts.csv", contacts).unwrap();
    let op = f.app.create_operation(&hub, "op", 0, 4_000_000_000, "").unwrap();
    let actor = Actor::new("t", 1_800_000_000, "");
    f.app.build_targets(&hub, &op, &actor, false).unwrap();
    let all = f.app.targets(&hub, &TargetSelection::default()).unwrap();
    assert!(!all.is_empty());
    f.app.transition(&hub, &all, TargetState::Triaged, None, &actor).unwrap();
    let out = tempfile::tempdir().unwrap();
    let built = f.app.build_packages(&hub, &op, None, &out.path().join("packages"), &actor).unwrap();
    assert_eq!(built.packages.len(), 2, "{built:?}");
    // Targets no package could carry (nothing the agency may see) are
    // referred by hand, so that every target reaches the providers' step.
    let left =
        f.app.targets(&hub, &TargetSelection { state: Some(TargetState::Triaged), ..Default::default() }).unwrap();
    f.app.transition(&hub, &left, TargetState::Referred, None, &actor).unwrap();
    let config = NotifyConfig {
        outbox: out.path().join("outbox"),
        from_name: "hub".into(),
        from_address: "hub@hub.invalid".into(),
        interval: 1,
        smtp: None,
    };
    let notified = f.app.notify(&hub, &op, &config, &actor).unwrap();
    assert_eq!(notified.messages.len(), 2, "{notified:?}");

    let agency_may =
        |s: &Seen| matches!(s.tlp, Tlp::Clear | Tlp::Green) || (s.tlp == Tlp::Amber && s.source == "alpha");
    let provider_may =
        |s: &Seen| matches!(s.tlp, Tlp::Clear | Tlp::Green) || (s.tlp == Tlp::Amber && s.source == "bravo");
    let packages = text_under(out.path(), "packages");
    let outbox = decoded(&text_under(&out.path().join("outbox"), ""));
    assert!(!packages.is_empty() && !outbox.is_empty());
    for s in exclusive() {
        let family = s.malware.clone().unwrap_or_default();
        assert_eq!(packages.contains(&family), agency_may(&s), "{family} in the packages");
        assert_eq!(outbox.contains(&family), provider_may(&s), "{family} in the notifications");
    }
    for text in [&packages, &outbox] {
        assert!(!text.contains("e828b379"), "no TLP:RED marking leaves the hub");
    }
}

/// The targets table's pages show each viewer what `target_views` shows
/// it, page by page in every order, forward and back: an agency its
/// country's targets built from what may go to it; others nothing.
#[test]
fn target_pages_show_what_target_views_show() {
    use cordon_store::ops::{TargetOrder, TargetPage};
    let f = fixture();
    let hub = f.viewers[0].1;
    let op = f.app.create_operation(&hub, "op", 0, 4_000_000_000, "").unwrap();
    f.app.build_targets(&hub, &op, &Actor::new("t", 1_800_000_000, ""), false).unwrap();
    let selection = TargetSelection { operation: Some("op".into()), ..TargetSelection::default() };
    for (who, viewer) in &f.viewers {
        let Ok(mut views) = f.app.target_views(viewer, &selection) else {
            let first = f.app.target_page(viewer, &selection, &TargetPage { limit: 2, ..TargetPage::default() });
            assert!(matches!(first, Err(cordon_app::AppError::Forbidden(_))), "{who:?}");
            continue;
        };
        assert!(!views.is_empty(), "{who:?}");
        views.sort_by_key(|v| v.id);
        for order in TargetOrder::ALL {
            let mut walked = Vec::new();
            let mut page = TargetPage { order, limit: 2, ..TargetPage::default() };
            let end = loop {
                let read = f.app.target_page(viewer, &selection, &page).unwrap();
                assert!(read.targets.len() <= 2);
                assert_eq!(read.total.is_some(), viewer.is_hub(), "{who:?}");
                walked.extend(read.targets);
                if !read.more_after {
                    break read.last;
                }
                page.after = read.last;
            };
            // Back from the last target: every one before it.
            let mut back: Vec<_> = Vec::new();
            let mut page = TargetPage { order, limit: 2, backward: true, after: end };
            loop {
                let read = f.app.target_page(viewer, &selection, &page).unwrap();
                let mut earlier = read.targets;
                earlier.append(&mut back);
                back = earlier;
                if !read.more_before {
                    break;
                }
                page.after = read.first;
            }
            assert_eq!(back, walked[..walked.len() - 1], "{who:?} {order:?}");
            walked.sort_by_key(|v| v.id);
            assert_eq!(walked, views, "{who:?} {order:?}");
        }
    }
}

/// A message's text with every base64 body line decoded beside it.
fn decoded(message: &str) -> String {
    let mut out = message.to_string();
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let (mut bits, mut acc) = (0u32, 0u32);
    let mut bytes = Vec::new();
    for line in message.lines() {
        let body = !line.is_empty() && line.bytes().all(|c| value(c).is_some() || c == b'=');
        if !body {
            // A block ends: the next one starts on a fresh quantum.
            (bits, acc) = (0, 0);
            bytes.push(b'\n');
            continue;
        }
        for c in line.bytes() {
            let Some(v) = value(c) else {
                (bits, acc) = (0, 0);
                continue;
            };
            acc = (acc << 6) | u32::from(v);
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                bytes.push((acc >> bits) as u8);
            }
        }
    }
    out.push_str(&String::from_utf8_lossy(&bytes));
    out
}

/// Every text file below `dir` (its name containing `part`), concatenated.
fn text_under(dir: &Path, part: &str) -> String {
    let mut out = String::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).unwrap() {
                stack.push(entry.unwrap().path());
            }
        } else if path.display().to_string().contains(part) {
            out.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
        }
    }
    out
}

/// TAXII collections (issue 14): what a collection holds for each viewer
/// is exactly what `indicators` shows it, each object marked with the
/// most restrictive TLP of the sightings it is built from; a GREEN ceiling
/// builds objects from CLEAR and GREEN sightings only, and a public
/// collection holds what the public may see, whoever reads it.
#[test]
fn collections_hold_what_their_viewer_may_see() {
    use cordon_app::collections::NewCollection;
    type Summaries = BTreeMap<String, (BTreeSet<String>, BTreeSet<String>, Tlp)>;
    let f = fixture();
    let hub = f.app.viewer(None).unwrap();
    let add = |name: &str, tlp_max, public_clear| {
        let new = NewCollection { name: name.into(), tlp_max: Some(tlp_max), public_clear, ..NewCollection::default() };
        f.app.add_collection(&hub, &new).unwrap()
    };
    let (all, green, public) =
        (add("all", Tlp::Red, false), add("green", Tlp::Green, false), add("open", Tlp::Red, true));
    let held = |viewer: &Viewer, collection| -> Result<Summaries, AppError> {
        let mut got = BTreeMap::new();
        f.app.collection_objects(viewer, collection, None, &mut |o| {
            let s = o.summary;
            let categories = s.categories.iter().map(|c| c.as_str().to_string()).collect();
            got.insert(s.value, (s.sources.into_iter().collect(), categories, s.tlp));
        })?;
        Ok(got)
    };
    for (who, viewer) in &f.viewers {
        assert_eq!(held(viewer, &public).unwrap(), expected_summaries(Who::Public), "the public collection as {who:?}");
        if *who == Who::Public {
            assert!(matches!(held(viewer, &all), Err(AppError::NotFound(_))), "the community's collection");
            continue;
        }
        assert_eq!(held(viewer, &all).unwrap(), expected_summaries(*who), "collection as {who:?}");
        // Up to GREEN, every member holds what any member may see (a
        // defender sees exactly CLEAR and GREEN).
        assert_eq!(held(viewer, &green).unwrap(), expected_summaries(Who::Defender), "GREEN collection as {who:?}");
    }
}
