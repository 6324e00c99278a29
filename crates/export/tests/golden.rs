//! Golden files of every textual format over the fixture. Each snapshot
//! starts with the export's summary (what went out, what was skipped).

use cordon_export::{write_misp_feed, Format, Summary};

use crate::fixture::{entries, export, options};

fn summary_line(summary: &Summary) -> String {
    let kinds: Vec<String> = summary.exported.iter().map(|(kind, n)| format!("{kind} {n}")).collect();
    format!("exported: {}; skipped: {}", kinds.join(", "), summary.skipped)
}

fn check(format: Format) {
    let (text, summary) = export(format);
    insta::assert_snapshot!(format.as_str(), format!("{}\n---\n{text}", summary_line(&summary)));
}

#[test]
fn plain() {
    check(Format::Plain);
}

#[test]
fn cidr() {
    check(Format::Cidr);
}

#[test]
fn csv() {
    check(Format::Csv);
}

#[test]
fn jsonl() {
    check(Format::Jsonl);
}

#[test]
fn nft() {
    check(Format::Nft);
}

#[test]
fn ipset() {
    check(Format::Ipset);
}

#[test]
fn iptables() {
    check(Format::Iptables);
}

#[test]
fn ip6tables() {
    check(Format::Ip6tables);
}

#[test]
fn suricata() {
    check(Format::Suricata);
}

#[test]
fn rpz() {
    check(Format::Rpz);
}

#[test]
fn hosts() {
    check(Format::Hosts);
}

#[test]
fn stix() {
    check(Format::Stix);
}

#[test]
fn misp_feed() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let summary = write_misp_feed(&entries(), &options(), dir.path()).expect("the feed is written");
    let mut files: Vec<_> = std::fs::read_dir(dir.path())
        .expect("the feed directory is readable")
        .map(|f| f.expect("a directory entry").path())
        .collect();
    files.sort();
    let mut text = summary_line(&summary);
    for file in files {
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let body = std::fs::read_to_string(&file).expect("feed files are text");
        text.push_str(&format!("\n=== {name}\n{body}"));
    }
    insta::assert_snapshot!("misp", text);
}

#[test]
fn misp_is_a_directory_format() {
    let mut out = Vec::new();
    let err = cordon_export::write(Format::Misp, &entries(), &options(), &mut out);
    assert!(matches!(err, Err(cordon_export::Error::NeedsDirectory(Format::Misp))), "{err:?}");
}
