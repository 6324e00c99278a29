//! The fuzz targets of cordon, as ordinary functions.
//!
//! Each function takes the fuzzer's bytes, runs one part of cordon on them
//! and panics when a property is violated (a panic inside cordon counts the
//! same). The cargo-fuzz binaries in `fuzz/fuzz_targets/` only call these,
//! and this crate's test replays every file of `fuzz/corpus/<target>/`
//! through its target, so a crash found once stays fixed. [`TARGETS`] lists
//! them by the name of their fuzz binary and corpus directory.
//!
//! Properties checked beyond "no panic":
//! * parsers ([`detect_and_parse`] and one target per structured format):
//!   every record's observable is canonical (normalizing its text gives it
//!   back), every rejection has a reason, lines of line-based formats are
//!   at least 1;
//! * [`normalize`]: idempotence, and a URL's host is a canonical address or
//!   domain;
//! * [`stix_pattern`]: a pattern in a one-indicator bundle gives events for
//!   that indicator only;
//! * [`netset`]: set algebra, membership and CIDR output against a naive
//!   model (a list of ranges);
//! * [`scan_line`]: the scanner's matching lines against a naive model of
//!   grepcidr 2.0's rules (cordon-scan's `line` module docs).
#![deny(missing_docs)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use cordon_formats::{detect_bytes, parse_reader, Event, Format, Options};
use cordon_model::Observable;
use cordon_netset::{IpMapBuilder, IpRange, IpSet};
use cordon_scan::Scanner;

/// A fuzz target: it panics when a property is violated.
pub type Target = fn(&[u8]);

/// Every target, by the name of its fuzz binary and corpus directory.
pub const TARGETS: &[(&str, Target)] = &[
    ("detect_and_parse", detect_and_parse),
    ("stix", stix),
    ("misp", misp),
    ("intelmq", intelmq),
    ("threatfox", threatfox),
    ("phishtank", phishtank),
    ("spamhaus_json", spamhaus_json),
    ("csv", csv),
    ("normalize", normalize),
    ("stix_pattern", stix_pattern),
    ("netset", netset),
    ("scan_line", scan_line),
];

/// Detects the format of arbitrary bytes, then parses them as that format
/// and as every other format a stream can be.
pub fn detect_and_parse(data: &[u8]) {
    let name = Path::new("fuzz-input");
    let detected = detect_bytes(name, data).ok();
    for format in Format::ALL {
        if format == Format::MispFeed {
            continue;
        }
        if detected.is_none() || detected == Some(format) || data.len() < 4096 {
            check_format(format, data, &Options::default());
        }
    }
}

/// Parses the bytes as a STIX bundle.
pub fn stix(data: &[u8]) {
    check_format(Format::Stix, data, &Options::default());
}

/// Parses the bytes as a MISP event.
pub fn misp(data: &[u8]) {
    check_format(Format::Misp, data, &Options::default());
}

/// Parses the bytes as IntelMQ JSON lines.
pub fn intelmq(data: &[u8]) {
    check_format(Format::Intelmq, data, &Options::default());
}

/// Parses the bytes as a ThreatFox JSON export and as a ThreatFox CSV
/// export.
pub fn threatfox(data: &[u8]) {
    check_format(Format::ThreatfoxJson, data, &Options::default());
    check_format(Format::ThreatfoxCsv, data, &Options::default());
}

/// Parses the bytes as PhishTank `online-valid.json`.
pub fn phishtank(data: &[u8]) {
    check_format(Format::PhishtankJson, data, &Options::default());
}

/// Parses the bytes as Spamhaus DROP JSON lines.
pub fn spamhaus_json(data: &[u8]) {
    check_format(Format::SpamhausDropJson, data, &Options::default());
}

/// The CSV fields a column map can name.
const CSV_FIELDS: [&str; 13] = [
    "ip",
    "url",
    "domain",
    "host",
    "indicator",
    "type",
    "category",
    "malware",
    "first_seen",
    "last_seen",
    "confidence",
    "tlp",
    "port",
];

/// Parses the bytes as generic CSV with a column map and delimiter taken
/// from the first bytes: byte 0 picks the delimiter (guessed, `,`, tab,
/// `;`, `|`) and how many of the next bytes are `(field, column)` pairs
/// (field index mod 13, column 1–8); the rest is the file.
pub fn csv(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let delimiter = [None, Some(b','), Some(b'\t'), Some(b';'), Some(b'|')][usize::from(first % 5)];
    let pairs = usize::from(first / 5 % 4);
    let Some(map) = rest.get(..2 * pairs) else {
        return;
    };
    let columns = map
        .chunks(2)
        .map(|pair| (CSV_FIELDS[usize::from(pair[0]) % CSV_FIELDS.len()].to_string(), usize::from(pair[1] % 8) + 1))
        .collect();
    let options = Options { columns, delimiter };
    check_format(Format::Csv, &rest[2 * pairs..], &options);
}

/// Normalizes the bytes (as UTF-8, lossily): normalizing the canonical text
/// of each observable gives exactly that observable, and a URL's host is
/// itself canonical.
pub fn normalize(data: &[u8]) {
    let raw = String::from_utf8_lossy(data);
    let Ok(normalized) = cordon_model::normalize(&raw) else {
        return;
    };
    for observable in &normalized.observables {
        assert_canonical(observable, &raw);
        if let Observable::Url(url) = observable {
            let host = observable.url_host().unwrap_or_else(|| panic!("{raw:?} gave URL {url:?} without a host"));
            assert_canonical(&host, url);
        }
    }
}

/// Reads the bytes as a STIX pattern, inside a bundle of one indicator:
/// whatever the pattern, the indicator yields events of its own line only.
pub fn stix_pattern(data: &[u8]) {
    let pattern = String::from_utf8_lossy(data);
    let bundle = serde_json::json!({
        "type": "bundle",
        "id": "bundle--1",
        "objects": [{"type": "indicator", "id": "indicator--1", "pattern_type": "stix", "pattern": pattern}]
    });
    let text = bundle.to_string();
    let events = parse_and_check(Format::Stix, text.as_bytes(), &Options::default());
    let events = events.unwrap_or_else(|e| panic!("a bundle of one indicator is not read: {e}"));
    assert!(!events.is_empty(), "the indicator of {pattern:?} gave no event");
    for event in &events {
        assert_eq!(line_of(event), 1, "{pattern:?}: {event:?}");
    }
}

/// Builds two IP sets and an IP map from ranges taken from the bytes and
/// checks membership, set algebra, counts and CIDR output against a naive
/// model: a list of ranges, tested at every range end and its neighbours.
pub fn netset(data: &[u8]) {
    let (a, rest) = ranges(data);
    let (b, _) = ranges(rest);
    let set_a = IpSet::from_ranges(a.iter().copied());
    let set_b = IpSet::from_ranges(b.iter().copied());
    let probes = probes(a.iter().chain(&b));
    let union = set_a.union(&set_b);
    let intersection = set_a.intersection(&set_b);
    let difference = set_a.difference(&set_b);
    let symmetric = set_a.symmetric_difference(&set_b);
    for &addr in &probes {
        let (in_a, in_b) = (model_contains(&a, addr), model_contains(&b, addr));
        assert_eq!(set_a.contains(addr), in_a, "{addr} in {a:?}");
        assert_eq!(set_b.contains(addr), in_b, "{addr} in {b:?}");
        assert_eq!(union.contains(addr), in_a || in_b, "{addr} in {a:?} ∪ {b:?}");
        assert_eq!(intersection.contains(addr), in_a && in_b, "{addr} in {a:?} ∩ {b:?}");
        assert_eq!(difference.contains(addr), in_a && !in_b, "{addr} in {a:?} − {b:?}");
        assert_eq!(symmetric.contains(addr), in_a != in_b, "{addr} in {a:?} △ {b:?}");
        // The CIDR output covers exactly the set.
        let in_cidrs = union.cidrs().iter().any(|net| net.contains(&addr));
        assert_eq!(in_cidrs, in_a || in_b, "{addr} in the CIDRs of {a:?} ∪ {b:?}");
    }
    assert_eq!(set_a.count_v4(), model_count_v4(&a), "count of {a:?}");
    let ranges_out: Vec<IpRange> = union.ranges().collect();
    for pair in ranges_out.windows(2) {
        assert!(pair[0].last() < pair[1].first(), "ranges of the union are not sorted and disjoint: {pair:?}");
    }
    // The map: every covering entry, most specific (fewest addresses, then
    // first inserted) first.
    let mut builder = IpMapBuilder::new();
    for (index, range) in a.iter().enumerate() {
        builder.insert(*range, index);
    }
    let map = builder.build();
    for &addr in &probes {
        let mut want: Vec<usize> = (0..a.len()).filter(|&i| model_contains(&a[i..=i], addr)).collect();
        want.sort_by_key(|&i| (size(&a[i]), i));
        let got: Vec<usize> = map.get_all(addr).copied().collect();
        assert_eq!(got, want, "entries covering {addr} of {a:?}");
        assert_eq!(map.get(addr).copied(), want.first().copied());
    }
}

/// Scans a log taken from the bytes for the addresses of a set taken from
/// them, and checks the matching lines against a naive model of grepcidr
/// 2.0: at each position, an IPv4 hint (a digit with a `.` one to three
/// bytes on) takes the longest run of `[0-9A-Za-z.]`, at most 15 bytes, as
/// an address; else an IPv6 hint (`::` and a hex digit, or one to four hex
/// digits and a `:`) takes a run of `[0-9A-Za-z:.]`, at most 45 bytes;
/// either way the walk goes on after the run. Only families the set has are
/// looked for. Lines are kept under 500 bytes, below grepcidr's buffer-size
/// quirk.
pub fn scan_line(data: &[u8]) {
    let (entries, log) = ranges(data);
    let set = IpSet::from_ranges(entries.iter().copied());
    if log.split(|&b| b == b'\n').any(|line| line.len() >= 500) || log.contains(&0) {
        return;
    }
    let scanner = Scanner::new(&set);
    let got: Vec<u64> = scanner.matching_lines(log, 1).iter().map(|line| line.number).collect();
    let (v4, v6) = (set.has_v4(), set.has_v6());
    let mut want = Vec::new();
    let mut lines: Vec<&[u8]> = log.split(|&b| b == b'\n').collect();
    if log.ends_with(b"\n") || log.is_empty() {
        lines.pop();
    }
    for (index, line) in lines.iter().enumerate() {
        if model_line_matches(line, v4, v6, &|addr| set_contains_model(&entries, addr)) {
            want.push(index as u64 + 1);
        }
    }
    assert_eq!(got, want, "matching lines of {:?} for {entries:?}", String::from_utf8_lossy(log));
}

/// [`parse_and_check`], where a layout error is as good an outcome as any.
fn check_format(format: Format, data: &[u8], options: &Options) {
    let _layout_errors_are_fine = parse_and_check(format, data, options);
}

/// Parses `data` as `format` and checks the events (see the crate docs).
fn parse_and_check(format: Format, data: &[u8], options: &Options) -> Result<Vec<Event>, String> {
    let mut events = Vec::new();
    let mut reader = data;
    let result = parse_reader(format, Path::new("fuzz-input"), &mut reader, options, &mut |event| events.push(event));
    let line_based = !matches!(
        format,
        Format::Stix
            | Format::Misp
            | Format::ThreatfoxJson
            | Format::PhishtankJson
            | Format::FeodoJson
            | Format::UrlhausJson
    );
    for event in &events {
        match event {
            Event::Record(record) => assert_canonical(&record.observable, format.name()),
            Event::Rejected { reason, .. } => assert!(!reason.is_empty(), "{format}: a rejection without a reason"),
            Event::Skipped { .. } | Event::Warning { .. } => {}
        }
        if line_based {
            assert!(line_of(event) >= 1, "{format}: {event:?} has no line");
        }
    }
    result.map(|()| events).map_err(|e| e.to_string())
}

/// Panics unless normalizing `observable`'s text gives exactly it.
fn assert_canonical(observable: &Observable, from: &str) {
    let text = observable.to_string();
    match cordon_model::normalize(&text) {
        Ok(again) => {
            assert_eq!(again.observables, std::slice::from_ref(observable), "{text:?} (from {from:?}) is not canonical")
        }
        Err(rejection) => panic!("{text:?} (from {from:?}) is rejected when normalized again: {rejection}"),
    }
}

fn line_of(event: &Event) -> u64 {
    match event {
        Event::Record(record) => record.line,
        Event::Rejected { line, .. } | Event::Skipped { line, .. } | Event::Warning { line, .. } => *line,
    }
}

/// Up to 8 ranges from the front of `data`: a count byte, then per range a
/// kind byte (odd: IPv6 with a 16-byte start; even: IPv4 with a 4-byte
/// start) and a prefix-length byte. Returns the ranges and the bytes after.
fn ranges(data: &[u8]) -> (Vec<IpRange>, &[u8]) {
    let Some((&count, mut rest)) = data.split_first() else {
        return (Vec::new(), data);
    };
    let mut out = Vec::new();
    for _ in 0..count % 9 {
        let Some((&kind, tail)) = rest.split_first() else { break };
        let width = if kind % 2 == 1 { 16 } else { 4 };
        let Some(bytes) = tail.get(..width + 1) else { break };
        rest = &tail[width + 1..];
        let prefix = u32::from(bytes[width]);
        let range = if width == 16 {
            let mut start = [0u8; 16];
            start.copy_from_slice(&bytes[..16]);
            let start = u128::from_be_bytes(start);
            let host = 128 - (prefix % 129);
            let mask = if host == 128 { u128::MAX } else { (1u128 << host) - 1 };
            IpRange::new(IpAddr::V6(Ipv6Addr::from(start & !mask)), IpAddr::V6(Ipv6Addr::from(start | mask)))
        } else {
            let start = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
            let host = 32 - (prefix % 33);
            let mask = if host == 32 { u32::MAX } else { (1u32 << host) - 1 };
            IpRange::new(IpAddr::V4(Ipv4Addr::from(start & !mask)), IpAddr::V4(Ipv4Addr::from(start | mask)))
        };
        out.extend(range.ok());
    }
    (out, rest)
}

/// Every range end and its neighbours.
fn probes<'a>(ranges: impl Iterator<Item = &'a IpRange>) -> Vec<IpAddr> {
    let mut out = Vec::new();
    for range in ranges {
        for end in [range.first(), range.last()] {
            out.push(end);
            match end {
                IpAddr::V4(v4) => {
                    let bits = u32::from(v4);
                    out.push(IpAddr::V4(Ipv4Addr::from(bits.wrapping_sub(1))));
                    out.push(IpAddr::V4(Ipv4Addr::from(bits.wrapping_add(1))));
                }
                IpAddr::V6(v6) => {
                    let bits = u128::from(v6);
                    out.push(IpAddr::V6(Ipv6Addr::from(bits.wrapping_sub(1))));
                    out.push(IpAddr::V6(Ipv6Addr::from(bits.wrapping_add(1))));
                }
            }
        }
    }
    out.push(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    out.push(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
    out
}

fn model_contains(ranges: &[IpRange], addr: IpAddr) -> bool {
    ranges.iter().any(|range| match (range.first(), range.last(), addr) {
        (IpAddr::V4(first), IpAddr::V4(last), IpAddr::V4(a)) => first <= a && a <= last,
        (IpAddr::V6(first), IpAddr::V6(last), IpAddr::V6(a)) => first <= a && a <= last,
        _ => false,
    })
}

fn set_contains_model(ranges: &[IpRange], addr: IpAddr) -> bool {
    model_contains(ranges, addr)
}

/// The number of IPv4 addresses in the union of `ranges`, by sorting and
/// merging.
fn model_count_v4(ranges: &[IpRange]) -> u64 {
    let mut spans: Vec<(u64, u64)> = ranges
        .iter()
        .filter_map(|range| match (range.first(), range.last()) {
            (IpAddr::V4(first), IpAddr::V4(last)) => Some((u64::from(u32::from(first)), u64::from(u32::from(last)))),
            _ => None,
        })
        .collect();
    spans.sort_unstable();
    let mut count = 0;
    let mut covered_to: Option<u64> = None;
    for (first, last) in spans {
        let start = match covered_to {
            Some(end) if end >= last => continue,
            Some(end) if end >= first => end + 1,
            _ => first,
        };
        count += last - start + 1;
        covered_to = Some(last);
    }
    count
}

/// The number of addresses of a range (saturating for a whole IPv6 space).
fn size(range: &IpRange) -> u128 {
    match (range.first(), range.last()) {
        (IpAddr::V4(first), IpAddr::V4(last)) => u128::from(u32::from(last) - u32::from(first)) + 1,
        (IpAddr::V6(first), IpAddr::V6(last)) => (u128::from(last) - u128::from(first)).saturating_add(1),
        _ => 0,
    }
}

/// The naive grepcidr walk over one line (see [`scan_line`]).
fn model_line_matches(line: &[u8], v4: bool, v6: bool, contains: &dyn Fn(IpAddr) -> bool) -> bool {
    let at = |i: usize| line.get(i).copied().unwrap_or(b'\n');
    let hex = |b: u8| b.is_ascii_hexdigit();
    let run = |start: usize, colon: bool| {
        line[start..].iter().take_while(|&&b| b.is_ascii_alphanumeric() || b == b'.' || (colon && b == b':')).count()
    };
    let mut p = 0;
    while p < line.len() {
        let v4_hint = v4 && at(p).is_ascii_digit() && (1..=3).any(|k| at(p + k) == b'.');
        if v4_hint {
            let len = run(p, false);
            if len <= 15 {
                let text = String::from_utf8_lossy(&line[p..p + len]);
                if text.parse::<Ipv4Addr>().is_ok_and(|a| contains(IpAddr::V4(a))) {
                    return true;
                }
            }
            p += len.max(1);
            continue;
        }
        let v6_hint = v6
            && ((at(p) == b':' && at(p + 1) == b':' && hex(at(p + 2)))
                || (1..=4).any(|k| (0..k).all(|i| hex(at(p + i))) && at(p + k) == b':'));
        if v6_hint {
            let len = run(p, true);
            if len <= 45 {
                let text = String::from_utf8_lossy(&line[p..p + len]);
                if text.parse::<Ipv6Addr>().is_ok_and(|a| contains(IpAddr::V6(a))) {
                    return true;
                }
            }
            p += len.max(1);
            continue;
        }
        p += 1;
    }
    false
}
