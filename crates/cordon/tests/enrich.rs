//! End-to-end tests of enrichment and routing through the real binary, on
//! the committed slice of the real ip-location-db data
//! (crates/enrich/tests/fixtures; CC BY 4.0, RouteViews, DB-IP, NRO) and
//! the warninglists fixture in MISP's layout (`platform-lists`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

struct Env {
    _dir: tempfile::TempDir,
    db: PathBuf,
    geo: PathBuf,
    dir: PathBuf,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let env = Env { db: path.join("c.db"), geo: path.join("geo.snap"), dir: path, _dir: dir };
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../enrich/tests/fixtures");
        let files: Vec<String> = ["asn-ipv4.csv", "asn-country-ipv4.csv", "asn-ipv6.csv", "asn-country-ipv6.csv"]
            .iter()
            .map(|f| fixtures.join(f).display().to_string())
            .collect();
        let mut args = vec!["geo", "import"];
        args.extend(files.iter().map(String::as_str));
        let out = env.run(&args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        env
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_cordon"))
            .arg("--db")
            .arg(&self.db)
            .arg("--geo")
            .arg(&self.geo)
            .arg("--warninglists")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../enrich/tests/fixtures/platform-lists"))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("the cordon binary runs")
    }

    fn file(&self, name: &str, text: &str) -> String {
        let path = self.dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }

    fn json_lines(&self, args: &[&str]) -> Vec<Value> {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }
}

fn flags(v: &Value) -> Vec<String> {
    v["flags"].as_array().unwrap().iter().map(|f| f["flag"].as_str().unwrap().to_string()).collect()
}

#[test]
fn route_pins_known_facts() {
    let env = Env::new();
    let one = &env.json_lines(&["route", "1.1.1.1", "--json"])[0];
    assert_eq!(one["asn"], 13335);
    assert_eq!(one["as_org"], "Cloudflare, Inc.");
    assert_eq!(one["network"], "1.1.1.0/24");
    assert_eq!(one["hosting"], "cdn");
    assert_eq!(flags(one), ["public-resolver", "cdn"]);
    let ovh = &env.json_lines(&["route", "51.38.12.34", "--json"])[0];
    assert_eq!(
        (ovh["asn"].as_u64(), ovh["country"].as_str(), ovh["hosting"].as_str()),
        (Some(16276), Some("FR"), Some("hosting"))
    );
    assert!(flags(ovh).is_empty());
    let private = &env.json_lines(&["route", "10.1.2.3", "--json"])[0];
    assert_eq!(flags(private), ["bogon:private"]);
}

#[test]
fn ingest_enriches_and_filters_work() {
    let env = Env::new();
    let csv = env.file("phish.csv", "url,ip,category\nhttp://paypa1-verify.com/login,88.198.5.6,phishing\n");
    let list = env.file("list.txt", "1.1.1.1\n51.38.12.34\n");
    let out = env.run(&["ingest", &csv, &list, "--source", "a", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["enrichment"]["indicators"], 5);
    assert_eq!(report["enrichment"]["flagged"]["public-resolver"], 1);

    let all = env.json_lines(&["indicators", "--json"]);
    let by_value = |v: &str| all.iter().find(|i| i["value"] == v).unwrap().clone();
    assert_eq!(by_value("88.198.5.6")["country"], "DE");
    assert_eq!(by_value("88.198.5.6")["as_org"], "Hetzner Online GmbH");
    assert_eq!(by_value("paypa1-verify.com")["asn"], 24940, "a domain is enriched through the IP its URL was seen on");
    assert_eq!(by_value("1.1.1.1")["hosting"], "cdn");

    let flagged: Vec<Value> = env.json_lines(&["indicators", "--json", "--flagged"]);
    assert_eq!(flagged.iter().map(|i| i["value"].as_str().unwrap()).collect::<Vec<_>>(), ["1.1.1.1"]);
    let german = env.json_lines(&["indicators", "--json", "--country", "de"]);
    assert_eq!(german.len(), 3, "the IP, the URL and the domain");
    assert_eq!(env.json_lines(&["indicators", "--json", "--asn", "16276"]).len(), 1);
    assert_eq!(env.json_lines(&["indicators", "--json", "--unflagged"]).len(), 4);

    let routed = env.json_lines(&["route", "hxxp://paypa1-verify[.]com/login", "--json"]);
    assert_eq!(routed.len(), 1);
    assert_eq!(routed[0]["ip"], "88.198.5.6");
}

/// After an ingest only what it changed is enriched again: its new
/// sightings' indicators and their link neighbours.
#[test]
fn later_ingests_enrich_only_what_they_changed() {
    let env = Env::new();
    let enriched = |args: &[&str]| {
        let out = env.run(args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()["enrichment"]["indicators"].as_u64()
    };
    let list = env.file("list.txt", "51.38.12.34\n88.198.5.6\n");
    assert_eq!(enriched(&["ingest", &list, "--source", "a", "--json"]), Some(2));
    assert_eq!(enriched(&["ingest", &list, "--source", "a", "--json"]), Some(0), "a re-ingest changes nothing");
    let csv = env.file("phish.csv", "url,ip,category\nhttp://paypa1-verify.com/login,51.38.12.34,phishing\n");
    assert_eq!(enriched(&["ingest", &csv, "--source", "b", "--json"]), Some(3), "the URL, its domain and its IP");
    let all = env.json_lines(&["indicators", "--json"]);
    let domain = all.iter().find(|i| i["value"] == "paypa1-verify.com").unwrap();
    assert_eq!(domain["asn"], 16276, "the new domain is enriched through the IP it was linked to");
    assert_eq!(all.iter().filter(|i| i["hosting"].is_string()).count(), 4, "every indicator stays enriched");
}

#[test]
fn allowlist_flags_and_unflags() {
    let env = Env::new();
    let list = env.file("list.txt", "51.38.12.34\nhttp://cdn.partner-bank.com/app.js\n");
    assert!(env.run(&["ingest", &list, "--source", "a"]).status.success());
    let add = env.run(&["allow", "add", "51.38.0.0/16", "--reason", "our own servers"]);
    assert!(add.status.success(), "{}", String::from_utf8_lossy(&add.stderr));
    assert!(env.run(&["allow", "add", "partner-bank.com", "--reason", "customer"]).status.success());
    let flagged = env.json_lines(&["indicators", "--json", "--flagged"]);
    let values: Vec<&str> = flagged.iter().map(|i| i["value"].as_str().unwrap()).collect();
    assert_eq!(values, ["51.38.12.34", "cdn.partner-bank.com", "http://cdn.partner-bank.com/app.js"]);
    assert!(flagged[0]["flags"][0]["reason"].as_str().unwrap().contains("our own servers"));
    let listed = env.json_lines(&["allow", "list", "--json"]);
    assert_eq!(listed.len(), 2);
    assert!(env.run(&["allow", "remove", "51.38.0.0/16"]).status.success());
    assert_eq!(env.json_lines(&["indicators", "--json", "--flagged"]).len(), 2);
    assert_eq!(env.run(&["allow", "remove", "51.38.0.0/16"]).status.code(), Some(1));
    assert_eq!(env.run(&["allow", "add", "http://x.com/a", "--reason", "r"]).status.code(), Some(2));
}

#[test]
fn contacts_route_by_precedence() {
    let env = Env::new();
    let contacts = env.file(
        "contacts.csv",
        "kind,key,name,email\n\
         asn,24940,Hetzner Abuse,abuse@hetzner.example\n\
         prefix,88.198.5.0/24,Reseller X,abuse@reseller.example\n\
         country,DE,BSI CERT-Bund,certbund@bsi.example\n\
         country,ZZ,Nowhere,x@y.example\n\
         asn,notanumber,Bad,bad@example.com\n\
         domain,githubusercontent.com,GitHub Abuse,abuse@github.example\n",
    );
    let out = env.run(&["contacts", "import", &contacts, "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["contacts"], 4);
    let errors: Vec<&str> = report["errors"].as_array().unwrap().iter().map(|e| e.as_str().unwrap()).collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors.iter().any(|e| e.contains(":5:")) && errors.iter().any(|e| e.contains(":6:")), "{errors:?}");
    let specific = &env.json_lines(&["route", "88.198.5.6", "--json"])[0];
    assert_eq!(specific["provider_contact"]["email"], "abuse@reseller.example");
    assert_eq!(specific["agency"]["name"], "BSI CERT-Bund");
    let by_asn = &env.json_lines(&["route", "88.198.77.1", "--json"])[0];
    assert_eq!(by_asn["provider_contact"]["email"], "abuse@hetzner.example");
    let none = &env.json_lines(&["route", "51.38.1.1", "--json"])[0];
    assert!(none["provider_contact"].is_null() && none["agency"].is_null());

    // A URL on a shared platform goes to the platform's own desk, not to
    // the network the feed saw it served from.
    let url = "https://raw.githubusercontent.com/x/y/main/payload.sh";
    let event = env.file(
        "events.json",
        &format!("{{\"source.url\": \"{url}\", \"source.ip\": \"88.198.77.1\", \"classification.type\": \"malware-distribution\"}}\n"),
    );
    assert!(env.run(&["ingest", &event, "--source", "a", "--format", "intelmq"]).status.success());
    let on_platform = &env.json_lines(&["route", url, "--json"])[0];
    assert_eq!(on_platform["ip"], "88.198.77.1");
    assert_eq!(on_platform["provider_contact"]["email"], "abuse@github.example");
    let server = &env.json_lines(&["route", "88.198.77.1", "--json"])[0];
    assert_eq!(server["provider_contact"]["email"], "abuse@hetzner.example");
}

#[test]
fn exports_leave_flagged_out_and_count_them() {
    let env = Env::new();
    let list = env.file("list.txt", "1.1.1.1\n51.38.12.34\n");
    assert!(env.run(&["ingest", &list, "--source", "a", "--tlp", "clear"]).status.success());
    let out = env.run(&["export", "--format", "plain", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "51.38.12.34\n");
    let summary: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(summary["flagged_out"], 1);
    assert_eq!(summary["flagged_by_reason"]["public-resolver"], 1);
    assert_eq!(summary["flagged_by_reason"]["cdn"], 1);
    let all = env.run(&["export", "--format", "plain", "--include-flagged"]);
    assert_eq!(String::from_utf8_lossy(&all.stdout), "1.1.1.1\n51.38.12.34\n");
    let human = String::from_utf8_lossy(&env.run(&["export", "--format", "plain"]).stderr).into_owned();
    assert!(human.contains("1 flagged indicators left out (cdn 1, public-resolver 1)"), "{human}");
}

#[test]
fn lookup_says_when_an_address_is_flagged() {
    let env = Env::new();
    let list = env.file("list.txt", "162.142.125.10\n80.94.95.112\n");
    assert!(env.run(&["ingest", &list, "--source", "s", "--tlp", "clear"]).status.success());
    let answers = env.json_lines(&["lookup", "162.142.125.10", "80.94.95.112", "8.8.8.8", "--json"]);
    assert_eq!(
        (answers[0]["listed"].as_bool(), flags(&answers[0])),
        (Some(true), vec!["research-scanner".to_string()])
    );
    assert!(flags(&answers[1]).is_empty());
    assert_eq!(
        (answers[2]["listed"].as_bool(), flags(&answers[2])),
        (Some(false), vec!["public-resolver".to_string()])
    );
    // The allowlist is the hub's: another organisation never sees its reasons.
    assert!(env.run(&["allow", "add", "80.94.95.112", "--reason", "our honeypot"]).status.success());
    assert_eq!(flags(&env.json_lines(&["lookup", "80.94.95.112", "--json"])[0]), ["allowlisted"]);
    assert!(env.run(&["org", "add", "soc-a", "--kind", "defender"]).status.success());
    let as_soc = env.json_lines(&["--as", "soc-a", "lookup", "80.94.95.112", "8.8.8.8", "--json"]);
    assert!(flags(&as_soc[0]).is_empty(), "{:?}", as_soc[0]);
    assert_eq!(flags(&as_soc[1]), ["public-resolver"]);
    let human = env.run(&["lookup", "162.142.125.10"]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("\tflagged research-scanner: 162.142.125.10 is in MISP warninglist 'Censys"), "{text}");
}

/// Enrichment after an ingest reads only the neighbourhood of what the
/// import changed, yet writes exactly the rows a whole-store enrichment
/// writes: the same store, enriched import by import, then re-enriched
/// whole, has the same enrichment table (links up to three hops out, at
/// several TLPs, and link counts that later imports change).
#[test]
fn enrichment_after_imports_equals_enrichment_of_the_whole_store() {
    let env = Env::new();
    let ingests: [(&str, &str, &str); 4] = [
        ("list.txt", "51.38.12.34\n88.198.5.6\n1.1.1.1\n", "green"),
        ("a.csv", "url,ip,category\nhttp://paypa1-verify.com/login,51.38.12.34,phishing\n", "amber"),
        ("b.csv", "url,ip,category\nhttp://paypa1-verify.com/reset,88.198.5.6,phishing\n", "red"),
        (
            "c.csv",
            "url,ip,category\nhttp://other-shop.com/pay,51.38.12.34,phishing\nhttp://1.1.1.1/x,,phishing\n",
            "green",
        ),
    ];
    for (i, (name, text, tlp)) in ingests.iter().enumerate() {
        let file = env.file(name, text);
        let source = format!("s{i}");
        let out = env.run(&["ingest", &file, "--source", &source, "--tlp", tlp]);
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let table = || {
        let conn = rusqlite::Connection::open(&env.db).unwrap();
        let mut stmt = conn
            .prepare(
                "SELECT i.value, e.network, e.asn, e.as_org, e.country, e.hosting, e.flags, e.via_tlp
                 FROM enrichment e JOIN indicators i ON i.id = e.indicator_id ORDER BY i.value",
            )
            .unwrap();
        let rows = stmt
            .query_map([], |r| {
                Ok((0..8).map(|c| r.get::<_, rusqlite::types::Value>(c).map(|v| format!("{v:?}"))).collect::<Vec<_>>())
            })
            .unwrap();
        rows.map(|r| r.unwrap().into_iter().collect::<Result<Vec<_>, _>>().unwrap()).collect::<Vec<_>>()
    };
    let by_imports = table();
    assert!(by_imports.len() >= 9, "every indicator enriched: {by_imports:?}");
    assert!(by_imports.iter().any(|row| row[7] != "Null"), "some enrichment came through a link: {by_imports:?}");
    let out = env.run(&["enrich"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(table(), by_imports);
}
