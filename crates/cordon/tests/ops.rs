//! End-to-end tests of the operations commands through the real binary:
//! operation → targets → lifecycle → packages → notify → outcomes → report,
//! and the demo at a small scale.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env { dir: tempfile::tempdir().unwrap() }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_cordon"))
            .args(args)
            .env("CORDON_DB", self.path("cordon.db"))
            .env("CORDON_GEO", self.path("geo.snap"))
            .current_dir(self.dir.path())
            .output()
            .unwrap()
    }

    /// Runs and expects success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "cordon {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn operation_lifecycle_packages_notify_report() {
    let env = Env::new();
    let asn = env.write("asn.csv", "80.94.95.0,80.94.95.255,204428,SS-Net\n45.148.10.0,45.148.10.255,48090,DMZHOST\n");
    let country = env.write("country.csv", "80.94.95.0,80.94.95.255,RO\n45.148.10.0,45.148.10.255,NL\n");
    env.ok(&["geo", "import", asn.to_str().unwrap(), country.to_str().unwrap()]);
    env.write(
        "contacts.csv",
        "kind,key,name,email\nasn,204428,\"SS-Net\r\nBcc: victim@example.com\",abuse@ss-net.example.net\n\
         country,RO,DIICOT,cyber@diicot.example.ro\n",
    );
    env.ok(&["contacts", "import", "contacts.csv"]);
    env.write(
        "partner.csv",
        "ip,category,malware,tlp,first_seen,last_seen\n\
         80.94.95.112,c2,LockBit,green,2024-05-02,2024-05-03\n\
         80.94.95.113,phishing,,amber,2024-05-02,2024-05-03\n\
         45.148.10.7,c2,,red,2024-05-02,2024-05-03\n",
    );
    env.ok(&["operation", "create", "synergia", "--start", "2024-04-01", "--end", "2024-08-31"]);
    env.ok(&["ingest", "partner.csv", "--source", "harbor", "--operation", "synergia"]);
    env.ok(&["enrich"]);

    let built = env.ok(&["targets", "build", "--operation", "synergia"]);
    assert!(built.starts_with("3 targets (3 server), 3 new"), "{built}");
    let again = env.ok(&["targets", "build", "--operation", "synergia"]);
    assert!(again.starts_with("3 targets (3 server), 0 new"), "{again}");
    let listed = json_lines(&env.ok(&["targets", "list", "--operation", "synergia", "--country", "RO", "--json"]));
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["provider"]["email"], "abuse@ss-net.example.net");
    let ro_id = listed[0]["id"].to_string();

    let refused = env.run(&["target", "transition", "--to", "verified", "--id", "1", "--actor", "alice"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("allowed from identified: triaged, rejected"));
    let no_reason = env.run(&["target", "transition", "--to", "rejected", "--id", "3", "--actor", "alice"]);
    assert_eq!(no_reason.status.code(), Some(1));
    env.ok(&["target", "transition", "--to", "triaged", "--state", "identified", "--actor", "alice", "--note", "ok"]);

    // AMBER from a partner without consent stays home; with consent it goes.
    let packages = env.path("packages");
    env.ok(&["package", "build", "--operation", "synergia", "--out", packages.to_str().unwrap()]);
    let ro: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(packages.join("RO/report.json")).unwrap()).unwrap();
    assert_eq!(ro["targets"].as_array().unwrap().len(), 1);
    assert!(!packages.join("NL").exists(), "RED only: no NL package");
    env.ok(&["source", "consent", "harbor", "--amber-to", "agencies,providers"]);
    env.ok(&["package", "build", "--operation", "synergia", "--country", "ro", "--out", packages.to_str().unwrap()]);
    let ro: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(packages.join("RO/report.json")).unwrap()).unwrap();
    assert_eq!(ro["targets"].as_array().unwrap().len(), 2);

    let outbox = env.path("outbox");
    let notified = env.ok(&["notify", "--operation", "synergia", "--outbox", outbox.to_str().unwrap()]);
    assert!(notified.starts_with("1 messages written"), "{notified}");
    let message = std::fs::read_dir(&outbox).unwrap().next().unwrap().unwrap().path();
    let text = std::fs::read_to_string(message).unwrap();
    let (headers, _) = text.split_once("\r\n\r\n").unwrap();
    assert!(!headers.lines().any(|l| l.starts_with("Bcc:")), "header injection from contact data");
    assert!(headers.contains("To: \"SS-Net Bcc: victim@example.com\" <abuse@ss-net.example.net>"), "{headers}");

    env.ok(&["target", "transition", "--to", "taken-down", "--id", &ro_id, "--actor", "ro-police"]);
    let shown: serde_json::Value = serde_json::from_str(&env.ok(&["target", "show", &ro_id, "--json"])).unwrap();
    let steps: Vec<&str> = shown["history"].as_array().unwrap().iter().map(|h| h["to"].as_str().unwrap()).collect();
    assert_eq!(steps, ["identified", "triaged", "referred", "notified", "taken-down"]);
    assert_eq!(shown["history"][1]["note"], "ok");

    env.ok(&["outcome", "add", "--operation", "synergia", "--country", "RO", "--kind", "arrest", "--count", "3"]);
    assert!(!env
        .run(&["outcome", "add", "--operation", "synergia", "--country", "RO", "--kind", "x", "--count", "1"])
        .status
        .success());
    let report: serde_json::Value =
        serde_json::from_str(&env.ok(&["report", "--operation", "synergia", "--json"])).unwrap();
    assert_eq!(report["headline"]["suspicious_ips"], 3);
    assert_eq!(report["headline"]["taken_down"], 1);
    assert_eq!(report["headline"]["arrests"], 3);
    let html = env.path("report.html");
    let text = env.ok(&["report", "--operation", "synergia", "--html", html.to_str().unwrap()]);
    assert!(text.contains("3 suspicious IP addresses identified, 1 (33%) taken down"), "{text}");
    let page = std::fs::read_to_string(html).unwrap();
    assert!(page.contains("<svg") && page.contains("RouteViews"));
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn demo_at_small_scale() {
    let env = Env::new();
    let out = env.path("demo");
    let stdout = env.ok(&["demo", "--out", out.to_str().unwrap(), "--scale", "0.01"]);
    assert!(stdout.contains("suspicious IP addresses identified"), "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&read(&out.join("report.json"))).unwrap();
    let headline = &report["headline"];
    assert_eq!(headline["suspicious_ips"], 300);
    let percent = headline["taken_down_percent"].as_f64().unwrap();
    assert!((70.0..=80.0).contains(&percent), "{percent}");
    // Without the (fetched, git-ignored) geo data the demo runs unenriched:
    // no countries, so no packages and no outcomes.
    let enriched = report["by_country"].as_array().unwrap().iter().any(|r| r["key"] != "unknown");
    if enriched {
        assert_eq!((headline["arrests"].as_u64(), headline["servers_seized"].as_u64()), (Some(41), Some(59)));
        assert!(std::fs::read_dir(out.join("packages")).unwrap().count() > 5);
        assert!(std::fs::read_dir(out.join("outbox")).unwrap().count() > 10);
    }
    assert!(read(&out.join("report.html")).contains("<svg"));
    for feed in ["kestrel-cert.csv", "harbor-labs.csv", "ostrich-intelmq.jsonl", "lantern-isac.stix.json"] {
        assert!(out.join("feeds").join(feed).exists(), "{feed}");
    }
    // Deterministic: the same figures again.
    env.ok(&["demo", "--out", out.to_str().unwrap(), "--scale", "0.01"]);
    let again: serde_json::Value = serde_json::from_str(&read(&out.join("report.json"))).unwrap();
    assert_eq!(again["headline"], report["headline"]);
    assert_eq!(again["funnel"], report["funnel"]);
}
