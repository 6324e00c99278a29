//! Issue 10, hostile input: regression tests for inputs that once crashed a
//! parser, made it report false indicators or threw a whole document away
//! for one bad record.

use cordon_formats::{Event, Format};

use crate::util::events_of_text;

/// A bundle with the given objects (JSON text each).
fn bundle(objects: &[String]) -> String {
    format!(r#"{{"type": "bundle", "id": "bundle--1", "objects": [{}]}}"#, objects.join(",\n"))
}

fn indicator(id: u32, pattern: &str) -> String {
    let pattern = serde_json::Value::String(pattern.to_string());
    format!(r#"{{"type": "indicator", "id": "indicator--{id}", "pattern_type": "stix", "pattern": {pattern}}}"#)
}

fn kinds(events: &[Event]) -> Vec<(u64, String)> {
    events
        .iter()
        .map(|e| match e {
            Event::Record(r) => (r.line, format!("record {}", r.observable)),
            Event::Rejected { line, reason } => (*line, format!("rejected {reason}")),
            Event::Skipped { line, reason } => (*line, format!("skipped {reason}")),
            Event::Warning { line, message } => (*line, format!("warning {message}")),
        })
        .collect()
}

/// Defect 2: 200,000 chained qualifiers once built a tree 200,000 boxes deep
/// whose drop overflowed the stack (SIGABRT).
#[test]
fn issue10_chained_qualifiers_are_one_rejection() {
    let pattern = format!("[ipv4-addr:value = '1.2.3.4']{}", " REPEATS 2 TIMES".repeat(200_000));
    let text = bundle(&[indicator(1, "[ipv4-addr:value = '45.9.20.7']"), indicator(2, &pattern)]);
    assert!(text.len() > 3_000_000);
    let events = events_of_text(Format::Stix, &text).unwrap_or_else(|e| panic!("{e}"));
    let got = kinds(&events);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0], (1, "record 45.9.20.7".to_string()));
    assert_eq!(got[1].0, 2);
    assert!(got[1].1.starts_with("rejected invalid STIX pattern (too many qualifiers"), "{}", got[1].1);
}

/// Defect 6: a quoted description over two lines once rejected its row and
/// made its second line a row of its own, a false C2 indicator.
#[test]
fn issue10_quoted_fields_span_lines() {
    let text = "ip,category,description\n45.9.20.7,c2,\"seen talking to\n8.8.4.4,c2,x\"\n45.9.20.8,c2,plain\n";
    let events = events_of_text(Format::Csv, text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(kinds(&events), [(2, "record 45.9.20.7".to_string()), (4, "record 45.9.20.8".to_string())]);
    // The abuse.ch layouts read quotes the same way, blank and `#` lines
    // inside a field included.
    let feodo = "# \"first_seen_utc\",\"dst_ip\",\"malware\"\n\"2024-01-01\",\"45.9.20.7\",\"Qak\n\n# 8.8.4.4\n\
                 8.8.4.4\"\n\"2024-01-02\",\"45.9.20.8\",\"Emotet\"\n";
    let events = events_of_text(Format::FeodoCsv, feodo).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(kinds(&events), [(2, "record 45.9.20.7".to_string()), (6, "record 45.9.20.8".to_string())]);
    let record = events.iter().find_map(|e| match e {
        Event::Record(r) if r.line == 2 => r.attributes.malware.clone(),
        _ => None,
    });
    assert_eq!(record.as_deref(), Some("Qak\n\n# 8.8.4.4\n8.8.4.4"));
}

#[test]
fn issue10_unclosed_quotes_cost_one_row_and_bounded_memory() {
    // Closed by the end of the input: the row is rejected at its first line.
    let text = "ip,description\n45.9.20.7,ok\n45.9.20.8,\"never closed\n8.8.4.4,x\n";
    let events = events_of_text(Format::Csv, text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        kinds(&events),
        [(2, "record 45.9.20.7".to_string()), (3, "rejected a quoted field is not closed".to_string())]
    );
    // A row never grows past 64 KiB: rows after it are read again.
    let mut text = String::from("ip,description\n45.9.20.7,\"open\n");
    for _ in 0..2000 {
        text.push_str(&"x".repeat(60));
        text.push('\n');
    }
    text.push_str("45.9.20.9,after\n");
    let events = events_of_text(Format::Csv, &text).unwrap_or_else(|e| panic!("{e}"));
    let got = kinds(&events);
    assert_eq!(
        got.first().map(|(line, kind)| (*line, kind.starts_with("rejected row longer than 64 KiB"))),
        Some((2, true))
    );
    assert_eq!(got.last(), Some(&(2003, "record 45.9.20.9".to_string())), "{:?}", &got[got.len().saturating_sub(3)..]);
}

/// Defect 9: one number out of range once made the whole document a layout
/// error; now it costs its own object only.
#[test]
fn issue10_out_of_range_number_rejects_one_object() {
    let text = bundle(&[
        indicator(1, "[ipv4-addr:value = '45.9.20.7']"),
        r#"{"type": "indicator", "id": "indicator--2", "pattern": "[ipv4-addr:value = '45.9.20.8']", "confidence": 1e400}"#
            .to_string(),
        indicator(3, "[ipv4-addr:value = '45.9.20.9']"),
    ]);
    let events = events_of_text(Format::Stix, &text).unwrap_or_else(|e| panic!("{e}"));
    let got = kinds(&events);
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!((got[0].clone(), got[2].clone()), ((1, "record 45.9.20.7".into()), (3, "record 45.9.20.9".into())));
    assert!(got[1].0 == 2 && got[1].1.contains("number out of range"), "{:?}", got[1]);

    let threatfox = r#"{
        "1": [{"ioc_value": "45.9.20.7:443", "ioc_type": "ip:port", "threat_type": "botnet_cc", "confidence_level": 50}],
        "2": [{"ioc_value": "45.9.20.8:443", "ioc_type": "ip:port", "threat_type": "botnet_cc", "confidence_level": 1e400}],
        "3": [{"ioc_value": "45.9.20.9:443", "ioc_type": "ip:port", "threat_type": "botnet_cc"}, 7]
    }"#;
    let events = events_of_text(Format::ThreatfoxJson, threatfox).unwrap_or_else(|e| panic!("{e}"));
    let got = kinds(&events);
    assert_eq!(got.len(), 4, "{got:?}");
    assert_eq!(got[0], (1, "record 45.9.20.7".to_string()));
    assert!(got[1].0 == 2 && got[1].1.contains("number out of range"), "{:?}", got[1]);
    assert_eq!(got[2], (3, "record 45.9.20.9".to_string()));
    assert_eq!(got[3], (4, "rejected array element is not an object".to_string()));

    // The abuse.ch and PhishTank arrays are read an element at a time too.
    let feodo = r#"[{"ip_address": "45.9.20.7", "port": 443}, {"ip_address": "45.9.20.8", "port": 1e400}, 3]"#;
    let phishtank = r#"[{"url": "http://45.9.20.7/a"}, {"url": "http://45.9.20.8/b", "phish_id": 1e400}, 3]"#;
    for (format, text, first) in
        [(Format::FeodoJson, feodo, "45.9.20.7"), (Format::PhishtankJson, phishtank, "http://45.9.20.7/a")]
    {
        let events = events_of_text(format, text).unwrap_or_else(|e| panic!("{e}"));
        let got = kinds(&events);
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[0], (1, format!("record {first}")));
        assert!(got[1].0 == 2 && got[1].1.contains("number out of range"), "{:?}", got[1]);
        assert_eq!(got[2], (3, "rejected array element is not an object".to_string()));
    }
}

/// Deeply nested JSON is rejected cleanly: in a STIX bundle as one object,
/// in an IntelMQ line as that line, in a MISP event as a layout error.
#[test]
fn issue10_deep_json_is_rejected_cleanly() {
    let deep = format!("{}{}", "[".repeat(200_000), "]".repeat(200_000));
    let deep_object = format!("{}{}", r#"{"a":"#.repeat(100_000), "}".repeat(100_000));
    for nested in [&deep, &deep_object] {
        let text = bundle(&[
            indicator(1, "[ipv4-addr:value = '45.9.20.7']"),
            format!(r#"{{"type": "note", "id": "note--1", "x_deep": {nested}}}"#),
        ]);
        let events = events_of_text(Format::Stix, &text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            kinds(&events),
            [
                (1, "record 45.9.20.7".to_string()),
                (2, "rejected object nests deeper than 100 levels; not read".to_string())
            ]
        );
    }
    // The whole bundle nested inside itself is still a layout error, not a crash.
    let wrapped = format!("{}{}", r#"{"objects":"#.repeat(100_000), "}".repeat(100_000));
    assert!(events_of_text(Format::Stix, &wrapped).is_err());

    let intelmq = format!("{{\"source.ip\": \"45.9.20.7\"}}\n{{\"x\": {}}}\n", &deep[199_000..201_000]);
    let events = events_of_text(Format::Intelmq, &intelmq).unwrap_or_else(|e| panic!("{e}"));
    let got = kinds(&events);
    assert_eq!(got[0], (1, "record 45.9.20.7".to_string()));
    assert!(got[1].0 == 2 && got[1].1.starts_with("rejected line is not valid JSON"), "{got:?}");

    // In a MISP event, as that attribute (or object).
    let misp = format!(
        r#"{{"Event": {{"Attribute": [{{"type": "ip-dst", "value": {deep}}}, {{"type": "ip-dst", "value": "45.9.20.7"}}],
            "Object": [{{"name": "x", "Attribute": {deep_object}}}], "info": "x"}}}}"#
    );
    let events = events_of_text(Format::Misp, &misp).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        kinds(&events),
        [
            (1, "rejected attribute nests deeper than 100 levels; not read".to_string()),
            (2, "record 45.9.20.7".to_string()),
            (3, "rejected object nests deeper than 100 levels; not read".to_string())
        ]
    );
}

/// A reader that generates `objects` STIX objects, each an indicator with
/// a description of `padding` bytes, without ever holding the document.
struct GeneratedBundle {
    objects: u64,
    padding: usize,
    next: u64,
    pending: Vec<u8>,
    at: usize,
    done: bool,
}

impl std::io::Read for GeneratedBundle {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.pending.len() {
            if self.done {
                return Ok(0);
            }
            self.pending.clear();
            self.at = 0;
            if self.next == 0 {
                self.pending.extend_from_slice(br#"{"type": "bundle", "id": "bundle--1", "objects": ["#);
            }
            if self.next == self.objects {
                self.pending.extend_from_slice(b"]}");
                self.done = true;
            } else {
                let i = self.next;
                let comma = if i + 1 < self.objects { "," } else { "" };
                let head = format!(
                    r#"{{"type": "indicator", "id": "indicator--{i}", "pattern": "[ipv4-addr:value = '45.9.{}.{}']", "labels": ["botnet_cc"], "description": ""#,
                    i / 256 % 256,
                    i % 256
                );
                self.pending.extend_from_slice(head.as_bytes());
                self.pending.resize(self.pending.len() + self.padding, b'x');
                self.pending.extend_from_slice(format!("\"}}{comma}").as_bytes());
                self.next += 1;
            }
        }
        let n = out.len().min(self.pending.len() - self.at);
        out[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// A reader that generates a MISP event of `attributes` attributes, each
/// with a comment of `padding` bytes, its tags last (after the attributes
/// they apply to).
struct GeneratedEvent {
    attributes: u64,
    padding: usize,
    next: u64,
    pending: Vec<u8>,
    at: usize,
    done: bool,
}

impl std::io::Read for GeneratedEvent {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.pending.len() {
            if self.done {
                return Ok(0);
            }
            self.pending.clear();
            self.at = 0;
            if self.next == 0 {
                self.pending.extend_from_slice(br#"{"Event": {"info": "generated", "Attribute": ["#);
            }
            if self.next == self.attributes {
                self.pending.extend_from_slice(br#"], "Tag": [{"name": "tlp:green"}]}}"#);
                self.done = true;
            } else {
                let i = self.next;
                let comma = if i + 1 < self.attributes { "," } else { "" };
                let head =
                    format!(r#"{{"type": "ip-dst", "value": "45.9.{}.{}", "comment": ""#, i / 256 % 256, i % 256);
                self.pending.extend_from_slice(head.as_bytes());
                self.pending.resize(self.pending.len() + self.padding, b'x');
                self.pending.extend_from_slice(format!("\"}}{comma}").as_bytes());
                self.next += 1;
            }
        }
        let n = out.len().min(self.pending.len() - self.at);
        out[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// A reader of `len` zero bytes, without a line end.
struct Zeros(u64);

impl std::io::Read for Zeros {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = out.len().min(usize::try_from(self.0).unwrap_or(usize::MAX));
        out[..n].fill(0);
        self.0 -= n as u64;
        Ok(n)
    }
}

/// The peak resident memory of this process so far, in MiB.
fn peak_rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(u64::MAX);
    kib / 1024
}

/// Runs `work` in a fresh process (this test binary, running only the test
/// `name`), so that the peak memory it reports is the work's alone, and
/// returns what `work` printed and that peak in MiB.
fn in_child(name: &str, work: impl FnOnce() -> String) -> (String, u64) {
    const CHILD: &str = "CORDON_FORMATS_MEMORY_CHILD";
    if std::env::var_os(CHILD).is_some() {
        let said = work();
        println!("child said: {said} | peak {}", peak_rss_mib());
        return (said, 0);
    }
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("{e}"));
    let output = std::process::Command::new(exe)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    let line = stdout.lines().find_map(|l| l.split_once("child said: ")).map(|(_, said)| said);
    let line = line.unwrap_or_else(|| panic!("{stdout}"));
    let (said, peak) = line.rsplit_once(" | peak ").unwrap_or_else(|| panic!("{line}"));
    (said.to_string(), peak.parse().unwrap_or(u64::MAX))
}

/// Defect 9: a bundle is read streaming; memory does not follow its size.
/// 256 MB of bundle here (2,500 indicators of 100 KiB, mostly description)
/// once took the document plus its parsed tree, over 500 MiB.
#[test]
fn issue10_large_bundle_is_read_in_bounded_memory() {
    let (said, peak) = in_child("hostile::issue10_large_bundle_is_read_in_bounded_memory", || {
        let generated =
            GeneratedBundle { objects: 2_500, padding: 100 * 1024, next: 0, pending: Vec::new(), at: 0, done: false };
        let mut reader = std::io::BufReader::with_capacity(64 * 1024, generated);
        let mut records = 0;
        let result = cordon_formats::parse_reader(
            Format::Stix,
            std::path::Path::new("generated"),
            &mut reader,
            &cordon_formats::Options::default(),
            &mut |event| records += usize::from(matches!(event, Event::Record(_))),
        );
        format!("{result:?} {records}")
    });
    assert_eq!(said, "Ok(()) 2500");
    assert!(peak < 100, "peak RSS {peak} MiB");
}

/// Defect 4 (the line reader's part): 200 MB without a line end is one
/// rejected line, read in constant memory, whatever the reader.
#[test]
fn issue10_line_less_stream_is_bounded() {
    let (said, peak) = in_child("hostile::issue10_line_less_stream_is_bounded", || {
        let mut reader = std::io::BufReader::with_capacity(64 * 1024, Zeros(200 << 20));
        let mut events = Vec::new();
        let result = cordon_formats::parse_reader(
            Format::Plain,
            std::path::Path::new("zeros"),
            &mut reader,
            &cordon_formats::Options::default(),
            &mut |event| events.push(event),
        );
        format!("{result:?} {events:?}")
    });
    assert_eq!(said, r#"Ok(()) [Rejected { line: 1, reason: "line longer than 64 KiB" }]"#);
    assert!(peak < 50, "peak RSS {peak} MiB");
}

/// Defect 9: a MISP event is read streaming too, its context applied to
/// attributes read before it.
#[test]
fn issue10_large_misp_event_is_read_in_bounded_memory() {
    let (said, peak) = in_child("hostile::issue10_large_misp_event_is_read_in_bounded_memory", || {
        let generated =
            GeneratedEvent { attributes: 2_500, padding: 100 * 1024, next: 0, pending: Vec::new(), at: 0, done: false };
        let mut reader = std::io::BufReader::with_capacity(64 * 1024, generated);
        let mut records = 0;
        let mut green = 0;
        let result = cordon_formats::parse_reader(
            Format::Misp,
            std::path::Path::new("generated"),
            &mut reader,
            &cordon_formats::Options::default(),
            &mut |event| {
                if let Event::Record(record) = event {
                    records += 1;
                    green += usize::from(record.attributes.tlp == Some(cordon_model::Tlp::Green));
                }
            },
        );
        format!("{result:?} {records} {green}")
    });
    assert_eq!(said, "Ok(()) 2500 2500");
    assert!(peak < 100, "peak RSS {peak} MiB");
}
