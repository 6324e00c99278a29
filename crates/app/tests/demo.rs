//! The demo on the real data that scripts/fetch-geodata.sh and
//! scripts/fetch-warninglists.sh fetch (these tests fail, not skip,
//! without it): every sighting lies in the operation's window, no message
//! or package shows evidence newer than its own date, and every XARF v4
//! report validates against PyPI's `xarf` schemas.

use std::path::{Path, PathBuf};

use cordon_app::demo::{run, DemoOptions};
use cordon_app::{App, Config};
use cordon_model::parse_timestamp;

fn repo(path: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path);
    assert!(
        dir.is_dir(),
        "{} is missing: run scripts/fetch-geodata.sh and scripts/fetch-warninglists.sh",
        dir.display()
    );
    dir
}

#[test]
fn demo_dates_and_reports_hold() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let options = DemoOptions {
        out: out.clone(),
        scale: 0.01,
        geo_snapshot: None,
        geo_data: repo("data/geo"),
        warninglists: repo("data/warninglists"),
    };
    let result = run(&options, &mut |_| {}).unwrap();
    assert!(result.enriched);

    let start = parse_timestamp("2024-04-01").unwrap();
    let end = start + 153 * 86_400;
    let app = App::open(&Config::new(out.join("cordon.db"))).unwrap();
    let hub = app.viewer(None).unwrap();
    let mut seen = 0;
    app.indicators(&app.filter(hub), &mut |summary| {
        seen += 1;
        assert!(summary.first_seen >= start && summary.last_seen < end, "{} outside the window", summary.value);
    })
    .unwrap();
    assert!(seen > 100, "{seen}");

    let mut documents = Vec::new();
    let outbox: Vec<PathBuf> = std::fs::read_dir(out.join("outbox")).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(outbox.len() > 5, "{}", outbox.len());
    for path in &outbox {
        let raw = std::fs::read(path).unwrap();
        let mail = mailparse::parse_mail(&raw).unwrap();
        let date = mail.headers.iter().find(|h| h.get_key() == "Date").map(|h| h.get_value()).unwrap();
        let sent = mailparse::dateparse(&date).unwrap();
        for part in &mail.subparts {
            let name = part.get_content_disposition().params.get("filename").cloned().unwrap_or_default();
            let body = part.get_body().unwrap();
            if name.starts_with("xarf-") {
                documents.push(body);
            } else if name == "evidence.csv" {
                for row in body.lines().skip(1) {
                    let last_seen = row.rsplit(',').next().and_then(parse_timestamp).unwrap();
                    assert!(last_seen <= sent, "{}: evidence of {last_seen} in a message of {sent}", path.display());
                }
            }
        }
    }
    let packages = out.join("packages");
    for country in std::fs::read_dir(&packages).unwrap() {
        let dir = country.unwrap().path();
        let csv = std::fs::read_to_string(dir.join("targets.csv")).unwrap_or_default();
        assert!(!csv.contains("2026-"), "{csv}");
        // Malware families are one bar whatever their spelling (the demo's
        // IntelMQ feed writes them in lower case).
        let page = std::fs::read_to_string(dir.join("report.html")).unwrap();
        let section = page.split("Top malware families").nth(1).and_then(|s| s.split("Evidence per target").next());
        let families: Vec<String> = section
            .unwrap_or_default()
            .split("<title>")
            .skip(2)
            .filter_map(|t| t.split('<').next())
            .map(str::to_lowercase)
            .collect();
        let distinct: std::collections::BTreeSet<&String> = families.iter().collect();
        assert_eq!(distinct.len(), families.len(), "{}: {families:?}", dir.display());
    }
    let files: Vec<PathBuf> = documents
        .iter()
        .enumerate()
        .map(|(i, document)| {
            let path = dir.path().join(format!("xarf-{i}.json"));
            std::fs::write(&path, document).unwrap();
            path
        })
        .collect();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ops/tests/validate_xarf.py");
    let check = std::process::Command::new("python3").arg(script).args(&files).output().expect("python3 runs");
    let text = String::from_utf8_lossy(&check.stdout).into_owned() + &String::from_utf8_lossy(&check.stderr);
    assert!(check.status.success(), "{} reports: {text}", files.len());
}
