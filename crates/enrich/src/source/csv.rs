//! CSV range files: `start,end,asn,organization`, `start,end,country` or
//! `start,end,asn`.
//!
//! `start` and `end` are inclusive and are either addresses (`1.0.0.0`,
//! `2001:200::`) or integers (the `-num` files: `16777216`). An integer pair
//! is IPv6 when the file name contains `ipv6` or a value exceeds `u32::MAX`,
//! IPv4 otherwise. The third column is an ASN when it is a number (an `AS`
//! prefix is allowed) and a country code otherwise. A first line whose first
//! field is a word (`ip_range_start`, `start`) is a header and skipped.

use std::net::IpAddr;

use super::{diagnostic, AsnValue, Layers, Origin, ParsedRange};
use crate::{Country, Diagnostic, DiagnosticKind, Location};

/// Reads one CSV file's bytes into `layers`; returns the number of rows used.
pub(crate) fn read(
    name: &str,
    file_index: u32,
    bytes: &[u8],
    layers: &mut Layers,
    diagnostics: &mut Vec<Diagnostic>,
) -> u64 {
    let v6_hint = name.to_ascii_lowercase().contains("ipv6");
    let mut reader = ::csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
    let mut record = ::csv::ByteRecord::new();
    let mut previous_start: [Option<u128>; 2] = [None, None];
    let mut used = 0;
    loop {
        let line = reader.position().line();
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(error) => {
                let line = error.position().map_or(line, |p| p.line());
                let message = format!("cannot read CSV: {error}");
                diagnostics.push(diagnostic(name, Location::Line(line), DiagnosticKind::Malformed, message));
                // The csv reader cannot go on after an I/O error; it can after
                // a UTF-8 or field-count error, which ByteRecord never raises.
                break;
            }
        }
        let line = record.position().map_or(line, |p| p.line());
        let origin = Origin { file: file_index, line };
        let report = |kind, message: String| diagnostic(name, Location::Line(line), kind, message);
        if line == 1 && is_header(&record) {
            continue;
        }
        let row = match parse_row(&record, v6_hint) {
            Ok(row) => row,
            Err(message) => {
                diagnostics.push(report(DiagnosticKind::Malformed, message));
                continue;
            }
        };
        let family = usize::from(row.range.v6);
        if previous_start[family].is_some_and(|prev| row.range.start < prev) {
            let message = "range starts before the previous row's; kept (input need not be sorted, but usually is)";
            diagnostics.push(report(DiagnosticKind::Unsorted, message.to_string()));
        }
        previous_start[family] = Some(row.range.start);
        let country = match row.country {
            Some(Ok(country)) => Some(country),
            Some(Err(error)) => {
                let what = if row.asn.is_some() { "country dropped, ASN kept" } else { "row skipped" };
                diagnostics.push(report(DiagnosticKind::UnknownCountry, format!("{error}; {what}")));
                None
            }
            None => None,
        };
        let asn = row.asn.map(|(asn, org)| AsnValue { asn, org: layers.intern(org) });
        if asn.is_some() || country.is_some() {
            layers.push(row.range, asn, country, origin);
            used += 1;
        }
    }
    used
}

struct Row<'a> {
    range: ParsedRange,
    asn: Option<(u32, &'a str)>,
    country: Option<Result<Country, crate::UnknownCountry>>,
}

fn is_header(record: &::csv::ByteRecord) -> bool {
    record.get(0).is_some_and(|first| first.iter().any(|b| b.to_ascii_lowercase() > b'f' && b.is_ascii_alphabetic()))
}

fn field<'a>(record: &'a ::csv::ByteRecord, index: usize, what: &str) -> Result<&'a str, String> {
    let bytes = record.get(index).ok_or_else(|| format!("missing {what} (column {})", index + 1))?;
    std::str::from_utf8(bytes).map(str::trim).map_err(|_| format!("{what} (column {}) is not UTF-8", index + 1))
}

fn parse_row(record: &::csv::ByteRecord, v6_hint: bool) -> Result<Row<'_>, String> {
    if record.len() < 3 {
        return Err(format!("expected at least 3 columns (start,end,asn|country), found {}", record.len()));
    }
    let start = field(record, 0, "start address")?;
    let end = field(record, 1, "end address")?;
    let range = parse_range(start, end, v6_hint)?;
    let third = field(record, 2, "ASN or country")?;
    let org = if record.len() >= 4 { Some(field(record, 3, "organization")?) } else { None };
    let asn_text = third.strip_prefix("AS").or_else(|| third.strip_prefix("as")).unwrap_or(third);
    if let Ok(asn) = asn_text.parse::<u32>() {
        if asn == u32::MAX {
            return Err("AS 4294967295 is reserved (RFC 7300) and cannot be data".into());
        }
        return Ok(Row { range, asn: Some((asn, org.unwrap_or(""))), country: None });
    }
    if org.is_some() {
        return Err(format!("ASN '{third}' is not a number"));
    }
    Ok(Row { range, asn: None, country: Some(third.parse()) })
}

fn parse_range(start: &str, end: &str, v6_hint: bool) -> Result<ParsedRange, String> {
    let range = match (start.parse::<IpAddr>(), end.parse::<IpAddr>()) {
        (Ok(IpAddr::V4(s)), Ok(IpAddr::V4(e))) => {
            ParsedRange { start: u32::from(s).into(), end: u32::from(e).into(), v6: false }
        }
        (Ok(IpAddr::V6(s)), Ok(IpAddr::V6(e))) => ParsedRange { start: s.into(), end: e.into(), v6: true },
        (Ok(_), Ok(_)) => return Err(format!("start {start} and end {end} are of different address families")),
        _ => {
            let s = start.parse::<u128>().map_err(|_| format!("start '{start}' is neither an address nor a number"))?;
            let e = end.parse::<u128>().map_err(|_| format!("end '{end}' is neither an address nor a number"))?;
            let v6 = v6_hint || s > u128::from(u32::MAX) || e > u128::from(u32::MAX);
            ParsedRange { start: s, end: e, v6 }
        }
    };
    if range.start > range.end {
        return Err(format!("start {start} is after end {end}"));
    }
    Ok(range)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, text: &str) -> (Layers, Vec<Diagnostic>) {
        let mut layers = Layers::default();
        let mut diagnostics = Vec::new();
        read(name, 0, text.as_bytes(), &mut layers, &mut diagnostics);
        (layers, diagnostics)
    }

    #[test]
    fn reads_plain_and_numeric_rows() {
        let text = "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n16778240,16779263,38803,Gtelecom\n";
        let (layers, diagnostics) = run("asn-ipv4.csv", text);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert_eq!(layers.asn_v4.len(), 2);
        assert_eq!(layers.orgs, ["Cloudflare, Inc.", "Gtelecom"]);
        assert_eq!(layers.asn_v4[1].start, 16778240);
    }

    #[test]
    fn numeric_ipv6_by_file_name() {
        let (layers, _) = run("asn-country-ipv6-num.csv", "1,2,JP\n");
        assert_eq!(layers.country_v6.len(), 1);
    }

    #[test]
    fn bad_rows_are_reported_with_lines() {
        let text = "ip_range_start,ip_range_end,country_code\n1.0.0.0,1.0.0.255,AU\nx,y,DE\n1.0.2.0,1.0.1.0,DE\n1.0.3.0,1.0.3.255,ZZ\n0.0.0.0,0.0.0.1,US\n1.2.3.4,::1,US\n1.0.0.0\n";
        let (layers, diagnostics) = run("c.csv", text);
        let got: Vec<String> = diagnostics.iter().map(|d| format!("{}:{}", d.location_line(), d.kind.key())).collect();
        assert_eq!(
            got,
            ["3:malformed", "4:malformed", "5:unknown-country", "6:unsorted", "7:malformed", "8:malformed"]
        );
        assert_eq!(layers.country_v4.len(), 2);
    }

    impl Diagnostic {
        fn location_line(&self) -> u64 {
            match self.location {
                Location::Line(line) => line,
                _ => 0,
            }
        }
    }
}
