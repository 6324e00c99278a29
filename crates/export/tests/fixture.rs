//! The small fixed entry set the tests export, and helpers.

use std::path::Path;
use std::process::{Command, Output};

use cordon_export::{write, Entry, Format, Options, Summary};
use cordon_model::{Category, Kind, Tlp};

/// When the fixture's exports are made.
pub const GENERATED: i64 = 1_710_200_000;

/// The options of every fixture export.
pub fn options() -> Options {
    Options::new(GENERATED)
}

fn entry(value: &str, kind: Kind, categories: &[Category], sources: &[&str], tlp: Tlp, confidence: u8) -> Entry {
    Entry {
        value: value.to_string(),
        kind,
        categories: categories.to_vec(),
        sources: sources.iter().map(|s| s.to_string()).collect(),
        tlp,
        confidence,
        first_seen: 1_710_115_200,
        last_seen: 1_710_181_334,
        on_platform: false,
    }
}

/// Real public addresses from IPsum (two adjacent ones that aggregate to a
/// /31, one inside a listed /24), an IPv6 address, a domain and two URLs
/// (one on a name, with a quote to escape; one on an address).
pub fn entries() -> Vec<Entry> {
    use Category::*;
    vec![
        entry("77.90.185.20", Kind::Ipv4, &[Scanner], &["ipsum"], Tlp::Clear, 88),
        entry("1.24.16.16", Kind::Ipv4, &[Botnet], &["ipsum"], Tlp::Green, 50),
        entry("1.24.16.17", Kind::Ipv4, &[Botnet, Scanner], &["ipsum", "partner-a"], Tlp::Green, 75),
        entry("185.220.101.0/24", Kind::Cidr, &[Scanner], &["partner-a"], Tlp::Green, 60),
        entry("185.220.101.13", Kind::Ipv4, &[C2], &["partner-b"], Tlp::Amber, 90),
        entry("2a01:4f8:c17:42::1", Kind::Ipv6, &[C2], &["partner-b"], Tlp::Green, 70),
        entry("update-check.top", Kind::Domain, &[C2, MalwareDistribution], &["partner-b"], Tlp::Green, 80),
        entry(
            "http://secure-login.bank-verify.top/it's/login.php",
            Kind::Url,
            &[Phishing],
            &["openphish"],
            Tlp::Clear,
            60,
        ),
        entry("http://45.148.10.240/bins/x86", Kind::Url, &[MalwareDistribution], &["urlhaus"], Tlp::Clear, 70),
    ]
}

/// Exports the fixture in `format` and returns the text and the summary.
pub fn export(format: Format) -> (String, Summary) {
    let mut out = Vec::new();
    let summary = write(format, &entries(), &options(), &mut out).expect("the export succeeds");
    (String::from_utf8(out).expect("textual formats are UTF-8"), summary)
}

/// Runs an external checker; a missing tool fails the test, never skips it.
pub fn run(program: &str, args: &[&str], file: &Path) -> Output {
    Command::new(program)
        .args(args)
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("{program} must be installed for this test ({e})"))
}

/// A scanner address reported by `source`, as the whole-list tests use.
pub fn scanner(ip: &str, source: &str) -> Entry {
    Entry {
        value: ip.to_string(),
        kind: Kind::Ipv4,
        categories: vec![Category::Scanner],
        sources: vec![source.to_string()],
        tlp: Tlp::Clear,
        confidence: 50,
        first_seen: 0,
        last_seen: 0,
        on_platform: false,
    }
}
