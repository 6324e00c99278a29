//! Peak memory of reading a large generated STIX bundle.
//!
//! `cargo run --release -p cordon-formats --example stix_rss -- OBJECTS [PADDING]`
//! streams a bundle of `OBJECTS` objects (indicators, each with a
//! description of `PADDING` bytes, default 200, and every tenth a note)
//! from a reader that generates it on the fly, parses it, and prints the
//! bundle's size, the records read and the process's peak RSS (VmHWM).

use std::io::{BufReader, Read};
use std::path::Path;

use cordon_formats::{parse_reader, Event, Format, Options};

/// Generates the bundle a piece at a time, never holding more than one
/// object.
struct Bundle {
    objects: u64,
    padding: String,
    next: u64,
    pending: Vec<u8>,
    at: usize,
    done: bool,
    total: u64,
}

impl Bundle {
    fn refill(&mut self) {
        self.pending.clear();
        self.at = 0;
        if self.next == 0 {
            self.pending.extend_from_slice(br#"{"type": "bundle", "id": "bundle--1", "objects": ["#);
        }
        if self.next == self.objects {
            self.pending.extend_from_slice(b"]}");
            self.done = true;
            return;
        }
        let i = self.next;
        let comma = if i + 1 < self.objects { "," } else { "" };
        let octets = [45, (i >> 16) as u8, (i >> 8) as u8, i as u8];
        let text = if i % 10 == 9 {
            format!(
                r#"{{"type": "note", "spec_version": "2.1", "id": "note--{i:012}", "created": "2024-05-01T10:00:00Z", "modified": "2024-05-01T10:00:00Z", "content": "{}", "object_refs": ["indicator--{:012}"]}}{comma}"#,
                self.padding,
                i - 1
            )
        } else {
            format!(
                r#"{{"type": "indicator", "spec_version": "2.1", "id": "indicator--{i:012}", "created": "2024-05-01T10:00:00Z", "modified": "2024-05-01T10:00:00Z", "valid_from": "2024-05-01T10:00:00Z", "pattern_type": "stix", "pattern": "[ipv4-addr:value = '{}.{}.{}.{}']", "indicator_types": ["malicious-activity"], "labels": ["botnet_cc"], "object_marking_refs": ["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"], "description": "{}"}}{comma}"#,
                octets[0], octets[1], octets[2], octets[3], self.padding
            )
        };
        self.pending.extend_from_slice(text.as_bytes());
        self.next += 1;
    }
}

impl Read for Bundle {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.pending.len() {
            if self.done {
                return Ok(0);
            }
            self.refill();
        }
        let n = out.len().min(self.pending.len() - self.at);
        out[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
        self.at += n;
        self.total += n as u64;
        Ok(n)
    }
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let objects: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let padding: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let mut bundle =
        Bundle { objects, padding: "x".repeat(padding), next: 0, pending: Vec::new(), at: 0, done: false, total: 0 };
    let mut records = 0u64;
    let mut other = 0u64;
    let started = std::time::Instant::now();
    let mut reader = BufReader::with_capacity(64 * 1024, &mut bundle);
    let result = parse_reader(Format::Stix, Path::new("generated"), &mut reader, &Options::default(), &mut |e| {
        if matches!(e, Event::Record(_)) {
            records += 1;
        } else {
            other += 1;
        }
    });
    drop(reader);
    if let Err(e) = result {
        eprintln!("{e}");
        std::process::exit(1);
    }
    println!(
        "bundle {:.1} MB, {objects} objects: {records} records, {other} other events, {:.2} s, peak RSS {:.1} MB",
        bundle.total as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        peak_rss_kib() as f64 / 1024.0
    );
}
