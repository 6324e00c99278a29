//! Generic CSV/TSV: header names in any case, guessed delimiters, column
//! mappings, and the layout errors.

use cordon_formats::{Format, FormatError, Options};
use cordon_model::{parse_timestamp, Category, Tlp};

use crate::util::{parse_bytes, parse_fixture, try_parse_fixture};

#[test]
fn header_in_any_case_and_spacing() {
    let parsed = parse_fixture(Format::Csv, "partners.csv");
    assert_eq!(parsed.observables(), ["199.45.154.70", "20.102.91.36", "66.132.172.237"]);
    let conti = parsed.record("199.45.154.70");
    assert_eq!(conti.line, 3);
    assert_eq!(conti.attributes.category, Some(Category::Ransomware));
    assert_eq!(conti.attributes.label.as_deref(), Some("c2"));
    assert_eq!(conti.attributes.confidence, Some(80));
    assert_eq!(conti.attributes.tlp, Some(Tlp::Amber));
    assert_eq!(conti.attributes.first_seen, parse_timestamp("2024-04-20"));
    let scanner = parsed.record("20.102.91.36");
    assert_eq!((scanner.attributes.category, scanner.attributes.confidence), (Some(Category::Scanner), Some(60)));
    assert_eq!(parsed.rejected, [(5, "ip: '999.45.154.70' is not an IP address".to_string())]);
    let warned: Vec<u64> = parsed.warnings.iter().map(|(line, _)| *line).collect();
    assert_eq!(warned, [6, 6, 6], "bad date, confidence and TLP: {:?}", parsed.warnings);
}

#[test]
fn tsv_with_type_column_skips_hashes() {
    let parsed = parse_fixture(Format::Csv, "partners.tsv");
    assert_eq!(parsed.observables(), ["checkout-pay.example", "http://checkout-pay.example/pay"]);
    assert_eq!(parsed.skipped, [(3, "not-network:md5".to_string())]);
    assert!(parsed.records.iter().all(|r| r.attributes.category == Some(Category::Infostealer)));
}

#[test]
fn headerless_file_needs_a_mapping() {
    let err = try_parse_fixture(Format::Csv, "partners_headerless.csv", &Options::default()).map(|_| ());
    assert!(matches!(&err, Err(FormatError::Layout { format: Format::Csv, .. })), "{err:?}");
    assert!(err.unwrap_err().to_string().contains("--column ip=1"));
    let options = Options { columns: vec![("ip".into(), 2), ("category".into(), 3)], delimiter: None };
    let parsed = try_parse_fixture(Format::Csv, "partners_headerless.csv", &options).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(parsed.observables(), ["199.45.154.70", "20.102.91.36"]);
    assert_eq!(parsed.records[1].attributes.category, Some(Category::Scanner));
}

#[test]
fn header_without_indicator_column_is_a_layout_error() {
    let err = try_parse_fixture(Format::Csv, "partners_nocolumn.csv", &Options::default()).map(|_| ());
    let message = err.unwrap_err().to_string();
    assert!(message.contains("names no indicator column"), "{message}");
}

#[test]
fn mapping_overrides_and_validates() {
    let input = b"a|b\n199.45.154.70|x\n";
    let options = Options { columns: vec![("ip".into(), 1)], delimiter: Some(b'|') };
    let parsed = parse_bytes(Format::Csv, input, &options).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(parsed.observables(), ["199.45.154.70"]);
    let bad = Options { columns: vec![("colour".into(), 1)], delimiter: None };
    assert!(
        parse_bytes(Format::Csv, input, &bad).is_err_and(|e| e.to_string().contains("unknown column field 'colour'"))
    );
    let zero = Options { columns: vec![("ip".into(), 0)], delimiter: None };
    assert!(parse_bytes(Format::Csv, input, &zero).is_err());
}

#[test]
fn url_row_links_its_ip_column() {
    let input = b"url,ip\nhttp://dl.files-cdn.example/x,195.78.100.186\n";
    let parsed = parse_bytes(Format::Csv, input, &Options::default()).unwrap_or_else(|e| panic!("{e}"));
    let record = parsed.record("http://dl.files-cdn.example/x");
    assert_eq!(record.links.iter().map(ToString::to_string).collect::<Vec<_>>(), ["195.78.100.186"]);
}
