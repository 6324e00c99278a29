//! Grouping indicators into targets.

mod common;

use cordon_model::{Category, Tlp};
use cordon_ops::workflow::Actor;
use cordon_store::ops::{OpsStore, TargetFilter, TargetKind, TargetState};
use cordon_store::SqliteStore;

/// The operation's targets, and their kinds and keys, sorted.
fn kinds_and_keys(
    store: &SqliteStore,
    op: &cordon_store::ops::Operation,
) -> (Vec<cordon_store::ops::Target>, Vec<(TargetKind, String)>) {
    let targets = store.targets(&TargetFilter { operation_id: Some(op.id), ..TargetFilter::default() }).unwrap();
    let mut keys: Vec<(TargetKind, String)> = targets.iter().map(|t| (t.spec.kind, t.spec.key.clone())).collect();
    keys.sort();
    (targets, keys)
}

#[test]
fn servers_networks_and_domains_with_flagged_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cordon.db");
    let store = SqliteStore::open(&db).unwrap();
    common::import(
        &store,
        "a",
        &[
            common::record("http://evil.example/x", &["80.94.95.112"], Category::Phishing, Tlp::Green, None),
            common::record("http://lonely.example/y", &[], Category::Phishing, Tlp::Green, None),
            common::record("45.148.10.0/24", &[], Category::Spam, Tlp::Clear, None),
            common::record("8.8.8.8", &[], Category::Scanner, Tlp::Clear, None),
        ],
    );
    // An old sighting outside the window is not in scope.
    let mut old = common::record("1.2.3.4", &[], Category::C2, Tlp::Clear, None);
    old.attributes.first_seen = Some(1000);
    old.attributes.last_seen = Some(2000);
    common::import(&store, "b", &[old]);
    let op = common::operation(&store);
    common::enrich(&db, "8.8.8.8", "US", 15169, "public-resolver\tGoogle Public DNS");
    common::enrich(&db, "80.94.95.112", "RO", 204428, "");

    let summary = common::build(&store, &op, &Actor::new("t", common::T0, ""));
    assert_eq!(summary.left_out.get("public-resolver"), Some(&1));
    let (targets, keys) = kinds_and_keys(&store, &op);
    assert_eq!(
        keys,
        [
            (TargetKind::Server, "80.94.95.112".to_string()),
            (TargetKind::Network, "45.148.10.0/24".to_string()),
            (TargetKind::Domain, "lonely.example".to_string()),
        ]
    );
    let server = targets.iter().find(|t| t.spec.kind == TargetKind::Server).unwrap();
    assert_eq!(store.members(server.id).unwrap(), ["80.94.95.112", "evil.example", "http://evil.example/x"]);
    let lonely = targets.iter().find(|t| t.spec.kind == TargetKind::Domain).unwrap();
    assert_eq!(store.members(lonely.id).unwrap(), ["http://lonely.example/y", "lonely.example"]);

    let again = common::build(&store, &op, &Actor::new("t", common::T0 + 5, ""));
    assert_eq!((again.targets, again.new), (3, 0));
    assert_eq!(store.history(server.id).unwrap().len(), 1);
    assert_eq!((server.spec.country.as_deref(), server.spec.asn), (Some("RO"), Some(204428)));

    // --include-flagged: the resolver becomes a target too, and nothing is left out.
    let routing = cordon_ops::workflow::Routing::default();
    let forced =
        cordon_ops::workflow::build_targets(&store, &op, &routing, &Actor::new("t", common::T0 + 9, ""), true).unwrap();
    assert_eq!((forced.targets, forced.new), (4, 1));
    assert!(forced.left_out.is_empty());

    // The server got allowlisted since: a rebuild rejects its target (with
    // the reason recorded), and the resolver built by --include-flagged goes
    // too; its domain, tied to no usable address now, becomes a domain target.
    common::enrich(&db, "80.94.95.112", "RO", 204428, "allowlisted\tour own server");
    let withdrawn = common::build(&store, &op, &Actor::new("t", common::T0 + 12, ""));
    assert_eq!((withdrawn.targets, withdrawn.new, withdrawn.withdrawn), (3, 1, 2));
    let history = store.history(server.id).unwrap();
    let last = history.last().unwrap();
    assert_eq!((last.to, last.reason.as_deref()), (TargetState::Rejected, Some("out-of-scope")));
    let again = common::build(&store, &op, &Actor::new("t", common::T0 + 15, ""));
    assert_eq!(again.withdrawn, 0, "a rejected target is not withdrawn twice");
}

/// The warninglists fixture in MISP's layout (real list names, made-up
/// entries), shared with cordon-enrich's tests.
fn platform_lists() -> std::sync::Arc<cordon_enrich::Warninglists> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../enrich/tests/fixtures/platform-lists");
    std::sync::Arc::new(cordon_enrich::Warninglists::load_dir(&dir).unwrap().0)
}

#[test]
fn urls_on_platforms_are_url_targets_and_scanners_are_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cordon.db");
    let store = SqliteStore::open(&db).unwrap();
    let drive = "https://drive.google.com/file/d/1AbC/view?usp=sharing";
    let raw_github = "https://raw.githubusercontent.com/x/y/main/payload.sh";
    common::import(
        &store,
        "a",
        &[
            // PhishTank states the address the page was served from: the
            // platform's server.
            common::record(drive, &["142.250.185.78"], Category::Phishing, Tlp::Green, None),
            common::record("https://bit.ly/3xYz", &[], Category::Phishing, Tlp::Green, None),
            common::record("162.142.125.10", &[], Category::Scanner, Tlp::Clear, None),
            common::record("http://evil.example/x", &["80.94.95.112"], Category::Phishing, Tlp::Green, None),
            common::record(raw_github, &[], Category::MalwareDistribution, Tlp::Green, None),
        ],
    );
    let op = common::operation(&store);
    common::enrich(&db, drive, "US", 15169, "");
    common::contact(&db, "asn", "15169", "Google abuse", "abuse@google.example");
    // raw.githubusercontent.com is served by a CDN: the platform's own desk
    // (a `domain` contact of a parent name) removes the file, not the CDN's.
    common::enrich(&db, raw_github, "US", 54113, "");
    common::contact(&db, "asn", "54113", "Fastly abuse", "abuse@fastly.example");
    common::contact(&db, "domain", "githubusercontent.com", "GitHub abuse", "abuse@github.example");
    let routing = cordon_ops::workflow::Routing {
        contacts: common::book(&store),
        warninglists: Some(platform_lists()),
        ..Default::default()
    };
    let summary =
        cordon_ops::workflow::build_targets(&store, &op, &routing, &Actor::new("t", common::T0, ""), false).unwrap();
    assert_eq!(summary.left_out.get("research-scanner"), Some(&1), "{:?}", summary.left_out);
    assert_eq!(summary.left_out.get("platform-server"), Some(&1), "{:?}", summary.left_out);
    assert_eq!(
        summary.left_out.get("shared-platform"),
        Some(&3),
        "drive.google.com, bit.ly, raw.githubusercontent.com: {:?}",
        summary.left_out
    );
    assert_eq!(summary.left_out.get("host-flagged"), None);
    let (targets, keys) = kinds_and_keys(&store, &op);
    assert_eq!(
        keys,
        [
            (TargetKind::Server, "80.94.95.112".to_string()),
            (TargetKind::Url, "https://bit.ly/3xYz".to_string()),
            (TargetKind::Url, drive.to_string()),
            (TargetKind::Url, raw_github.to_string()),
        ]
    );
    let on_github = targets.iter().find(|t| t.spec.key == raw_github).unwrap();
    assert_eq!(on_github.spec.provider.as_ref().map(|c| c.email.as_str()), Some("abuse@github.example"));
    let on_drive = targets.iter().find(|t| t.spec.key == drive).unwrap();
    assert_eq!(store.members(on_drive.id).unwrap(), [drive]);
    assert_eq!(on_drive.spec.provider.as_ref().map(|c| c.email.as_str()), Some("abuse@google.example"));
    let server = targets.iter().find(|t| t.spec.kind == TargetKind::Server).unwrap();
    assert_eq!(store.members(server.id).unwrap(), ["80.94.95.112", "evil.example", "http://evil.example/x"]);
}

/// A store whose links cross every planning rule: an address sharing a
/// domain with another, a URL tied to two names, a domain tied to a
/// domain, a platform URL on an address, a flagged address with a domain,
/// a URL whose host is flagged, networks and an IPv6 server.
fn tangled_store(dir: &std::path::Path) -> (SqliteStore, cordon_store::ops::Operation) {
    let db = dir.join("cordon.db");
    let store = SqliteStore::open(&db).unwrap();
    let phish = |raw: &str, links: &[&str]| common::record(raw, links, Category::Phishing, Tlp::Green, None);
    common::import(
        &store,
        "a",
        &[
            phish("http://shared.example/a", &["80.94.95.112", "80.94.95.113"]),
            phish("http://two.example/b", &["second.example"]),
            phish("second.example", &["third.example"]),
            phish("http://lonely.example/c", &[]),
            phish("https://drive.google.com/file/d/1AbC/view", &["142.250.185.78"]),
            phish("http://flagged.example/d", &["8.8.8.8"]),
            phish("http://cdn-hosted.example/e", &[]),
            common::record("45.148.10.0/24", &[], Category::Spam, Tlp::Clear, None),
            common::record("2001:db8:1::/48", &[], Category::Spam, Tlp::Clear, None),
            common::record("2a01:4f8::1", &["ipv6.example"], Category::C2, Tlp::Green, Some("Sliver")),
            common::record("185.220.101.1", &[], Category::C2, Tlp::Amber, Some("Mirai")),
        ],
    );
    common::import(&store, "b", &[phish("http://shared.example/a", &["80.94.95.113"])]);
    common::enrich(&db, "8.8.8.8", "US", 15169, "public-resolver\tGoogle Public DNS");
    common::enrich(&db, "cdn-hosted.example", "US", 13335, "cdn\tCloudflare");
    let op = common::operation(&store);
    (store, op)
}

/// Everything a build wrote: each target with its members and history.
fn built(store: &SqliteStore, op: &cordon_store::ops::Operation) -> Vec<(String, Vec<String>, Vec<TargetState>)> {
    let targets = store.targets(&TargetFilter { operation_id: Some(op.id), ..TargetFilter::default() }).unwrap();
    targets
        .iter()
        .map(|t| {
            let history = store.history(t.id).unwrap().iter().map(|h| h.to).collect();
            (format!("{:?}", t), store.members(t.id).unwrap(), history)
        })
        .collect()
}

#[test]
fn planning_one_indicator_at_a_time_builds_what_one_batch_builds() {
    let routing = cordon_ops::workflow::Routing { warninglists: Some(platform_lists()), ..Default::default() };
    let mut results = Vec::new();
    for batch in [1, 2, cordon_ops::workflow::BUILD_BATCH] {
        let dir = tempfile::tempdir().unwrap();
        let (store, op) = tangled_store(dir.path());
        let build = |time, flagged| {
            let actor = Actor::new("t", time, "");
            cordon_ops::workflow::build_targets_in_batches(&store, &op, &routing, &actor, flagged, batch).unwrap()
        };
        let first = build(common::T0, false);
        let forced = build(common::T0 + 5, true);
        // Allowlisted since: the rebuild withdraws its target page by page.
        common::enrich(&dir.path().join("cordon.db"), "80.94.95.112", "RO", 204428, "allowlisted\tours");
        let rebuilt = build(common::T0 + 9, false);
        results.push((format!("{first:?}\n{forced:?}\n{rebuilt:?}"), built(&store, &op)));
    }
    let (summaries, targets) = &results[2];
    assert!(summaries.contains("\"platform-server\": 1"), "{summaries}");
    assert!(summaries.contains("\"public-resolver\": 1"), "{summaries}");
    assert!(targets.iter().any(|(_, members, _)| members.len() == 3), "a server with its domain and URL: {targets:?}");
    assert!(targets.iter().any(|(_, _, history)| history.last() == Some(&TargetState::Rejected)), "{targets:?}");
    assert_eq!(results[0], results[2], "batch 1 against one batch");
    assert_eq!(results[1], results[2], "batch 2 against one batch");
}
