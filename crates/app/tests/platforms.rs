//! Warninglists in the application (issue 11): a Google Drive URL is
//! blocked, its host never, in every export format; research scanners and
//! resolvers are left out unless asked for; the lists are checked and
//! listed for `cordon warninglists`.
//!
//! The lists are the fixture of cordon-enrich in MISP's layout (real list
//! names, made-up entries).

use std::path::{Path, PathBuf};

use cordon_app::exports::ExportSelection;
use cordon_app::intake::Input;
use cordon_app::{App, AppError, Config};
use cordon_export::Format;
use cordon_ingest::IngestOptions;
use cordon_model::Tlp;

const DRIVE: &str = "https://drive.google.com/file/d/1AbCdEf/view?usp=sharing";

fn lists_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../enrich/tests/fixtures/platform-lists")
}

/// A store with a PhishTank-style feed: a Drive URL served from Google's
/// address, a URL on a made-up phishing domain, a Censys scanner, Google's
/// resolver and a plain C2 address.
fn app(dir: &Path, warninglists: PathBuf) -> App {
    let config = Config { warninglists, ..Config::new(dir.join("cordon.db")) };
    let app = App::open(&config).unwrap();
    let hub = app.viewer(None).unwrap();
    let feed = format!(
        "url,ip,category\n{DRIVE},142.250.185.78,phishing\nhttp://login-verify.top/x,,phishing\n,162.142.125.10,scanner\n,8.8.8.8,other\n,80.94.95.112,c2\n"
    );
    let options = IngestOptions { source: "partner".into(), tlp: Some(Tlp::Clear), ..IngestOptions::default() };
    let report = app
        .ingest(&hub, Input::Bytes { name: "feed.csv", bytes: feed.as_bytes() }, &options, None, &mut |_| {})
        .unwrap();
    assert_eq!(report.counts.rejected, 0, "{report:?}");
    app
}

fn selection(app: &App, include_flagged: bool) -> ExportSelection {
    let hub = app.viewer(None).unwrap();
    ExportSelection { filter: app.filter(hub), min_confidence: None, since: None, include_flagged }
}

/// Every text export of `app`'s selection, by format.
fn exports(app: &App, include_flagged: bool) -> Vec<(Format, String)> {
    let (entries, _) = app.export_entries(&selection(app, include_flagged)).unwrap();
    let options = cordon_export::Options::new(1_710_200_000);
    let mut out = Vec::new();
    for format in Format::ALL {
        if format.is_binary() {
            continue;
        }
        let text = if format.is_directory() {
            let dir = tempfile::tempdir().unwrap();
            cordon_export::write_misp_feed(&entries, &options, dir.path()).unwrap();
            let mut all = String::new();
            for file in std::fs::read_dir(dir.path()).unwrap() {
                all += &std::fs::read_to_string(file.unwrap().path()).unwrap();
            }
            all
        } else {
            let mut bytes = Vec::new();
            cordon_export::write(format, &entries, &options, &mut bytes).unwrap();
            String::from_utf8(bytes).unwrap()
        };
        out.push((format, text));
    }
    out
}

#[test]
fn a_drive_url_is_blocked_and_its_host_never_in_any_format() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path(), lists_dir());
    let carries_urls = [Format::Plain, Format::Csv, Format::Jsonl, Format::Stix, Format::Misp];
    for (format, text) in exports(&app, false) {
        let host = text.matches("drive.google.com").count();
        let in_url = text.matches("https://drive.google.com/file/d/1AbCdEf").count();
        assert_eq!(host, in_url, "{format}: the host appears outside the URL:\n{text}");
        if carries_urls.contains(&format) {
            assert!(in_url >= 1, "{format} must carry the URL:\n{text}");
        }
        assert!(!text.contains("142.250.185.78"), "{format}: the platform's server is blocked:\n{text}");
        assert!(!text.contains("162.142.125.10"), "{format}: a research scanner is blocked by default");
        assert!(!text.contains("8.8.8.8"), "{format}: a public resolver is blocked");
    }
    // The phishing domain's URL still condemns its host in DNS formats.
    let rpz = exports(&app, false).into_iter().find(|(f, _)| *f == Format::Rpz).unwrap().1;
    assert!(rpz.contains("login-verify.top"), "{rpz}");
    assert!(rpz.lines().all(|line| !line.starts_with("drive.google.com")), "{rpz}");
}

#[test]
fn flagged_entries_are_counted_and_come_back_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path(), lists_dir());
    let (_, omitted) = app.export_entries(&selection(&app, false)).unwrap();
    assert_eq!(omitted.by_flag.get("research-scanner"), Some(&1), "{omitted:?}");
    assert_eq!(omitted.by_flag.get("public-resolver"), Some(&1), "{omitted:?}");
    assert_eq!(omitted.by_flag.get("shared-platform"), Some(&1), "drive.google.com: {omitted:?}");
    // --include-flagged: a defender may block scanners.
    let plain = exports(&app, true).into_iter().find(|(f, _)| *f == Format::Plain).unwrap().1;
    assert!(plain.lines().any(|line| line == "162.142.125.10"), "{plain}");
}

#[test]
fn without_lists_only_the_built_in_rules_flag() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path(), dir.path().join("no-warninglists"));
    let (entries, omitted) = app.export_entries(&selection(&app, false)).unwrap();
    assert!(entries.iter().any(|e| e.value == "162.142.125.10"));
    assert_eq!(omitted.flagged, 0, "{omitted:?}");
    let error = app.warninglist_lists().unwrap_err();
    assert!(matches!(error, AppError::NotFound(_)), "{error:?}");
    assert!(error.to_string().contains("scripts/fetch-warninglists.sh"), "{error}");
}

#[test]
fn lists_and_checks_for_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path(), lists_dir());
    let view = app.warninglist_lists().unwrap();
    let lots = view.lists.iter().find(|l| l.name.contains("LOTS")).unwrap();
    assert_eq!((lots.list_type, lots.class, lots.flag), ("hostname", "file-hosting", Some("shared-platform")));
    let aws = view.lists.iter().find(|l| l.name.contains("AWS")).unwrap();
    assert_eq!((aws.class, aws.flag), ("cloud", None));
    let checked = app.warninglist_check("hxxps://drive[.]google[.]com/file/d/x").unwrap();
    assert_eq!(checked.len(), 1);
    let flags: Vec<Option<&str>> = checked[0].hits.iter().map(|h| h.flag).collect();
    // The URL itself is not flagged for its host's platform, but the hits say
    // which lists the host is in.
    assert!(checked[0].hits.iter().any(|h| h.class == "file-hosting"), "{checked:?}");
    assert!(flags.contains(&Some("shared-platform")), "{checked:?}");
    let censys = app.warninglist_check("162.142.125.10").unwrap();
    assert_eq!(censys[0].hits[0].flag, Some("research-scanner"));
    assert!(app.warninglist_check("qzxv.example").unwrap()[0].hits.is_empty());
}
