//! Compares `Scanner` with the real `grepcidr -f LIST LOG` (Debian's
//! grepcidr 2.0) on generated tricky logs, line for line. Fails, never
//! skips, when grepcidr is missing (install it with
//! `scripts/install-peers.sh`).

use std::io::Write;
use std::net::IpAddr;
use std::path::Path;
use std::process::Command;

use cordon_netset::{IpRange, IpSet};
use cordon_scan::{Input, Scanner};
use ipnet::IpNet;
use proptest::prelude::*;

/// Parses the test lists (one address, CIDR or `a-b` range per line).
fn load_set(list: &str) -> IpSet {
    IpSet::from_ranges(list.lines().filter(|l| !l.is_empty()).map(|l| {
        if let Some((a, b)) = l.split_once('-') {
            IpRange::new(a.parse().expect("ip"), b.parse().expect("ip")).expect("range")
        } else if let Ok(net) = l.parse::<IpNet>() {
            IpRange::from(net)
        } else {
            IpRange::from(l.parse::<IpAddr>().expect("ip"))
        }
    }))
}

fn grepcidr(dir: &Path, list: &str, log: &[u8]) -> Vec<u8> {
    let list_path = dir.join("list");
    let log_path = dir.join("log");
    std::fs::write(&list_path, list).expect("write list");
    std::fs::write(&log_path, log).expect("write log");
    let out = Command::new("grepcidr")
        .arg("-f")
        .arg(&list_path)
        .arg(&log_path)
        .output()
        .expect("grepcidr must be installed (scripts/install-peers.sh); this test never skips");
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "grepcidr failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Our output through every code path: 1 thread, 2 threads, streaming.
fn ours(list: &str, log: &[u8], dir: &Path) -> Vec<Vec<u8>> {
    let set = load_set(list);
    let scanner = Scanner::new(&set);
    let mut outputs = Vec::new();
    for threads in [1, 2] {
        let mut out = Vec::new();
        for span in scanner.matching_lines(log, threads) {
            out.extend_from_slice(&log[span.start..span.end]);
        }
        assert_eq!(scanner.count(log, threads), scanner.matching_lines(log, threads).len() as u64);
        outputs.push(out);
    }
    let mut streamed = Vec::new();
    scanner.scan_reader(log, false, |_, bytes| streamed.extend_from_slice(bytes)).expect("in-memory read");
    outputs.push(streamed);
    // Through Input::open (mmap) as the CLI does.
    let path = dir.join("log-mapped");
    std::fs::write(&path, log).expect("write");
    let input = Input::open(path.to_str().expect("utf-8 path")).expect("open");
    let mut mapped = Vec::new();
    if let Some(bytes) = input.as_bytes() {
        for span in scanner.matching_lines(bytes, 2) {
            mapped.extend_from_slice(&bytes[span.start..span.end]);
        }
    }
    outputs.push(mapped);
    outputs
}

fn compare(list: &str, log: &[u8]) {
    let dir = tempdir();
    let expected = grepcidr(&dir, list, log);
    for (i, got) in ours(list, log, &dir).into_iter().enumerate() {
        if got != expected {
            let show = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
            panic!(
                "path {i} differs from grepcidr\nlist:\n{list}\n--- grepcidr:\n{}\n--- ours:\n{}",
                show(&expected),
                show(&got)
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempdir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "cordon-scan-grepcidr-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("tempdir");
    dir
}

const LIST_V4: &str = "1.2.3.4\n111.2.3.4\n10.0.0.0/8\n192.168.1.10-192.168.1.20\n0.0.0.0/32\n";
const LIST_V6: &str = "2001:db8::/32\n::1\n::\n::ffff:1.2.3.4\nfe80::1\n";

fn tricky_lines() -> Vec<String> {
    let mut lines: Vec<String> = [
        "1.2.3.4",
        "x1.2.3.4",
        "abc1.2.3.4",
        "1111.2.3.4",
        "1.2.3.4.5",
        "1.2.3.4x",
        "[1.2.3.4]",
        "\"1.2.3.4\"",
        "1.2.3.4:443",
        "01.2.3.4",
        "1.2.3.04",
        "a.1.2.3.4",
        "ab:1.2.3.4",
        "999.1.1.1",
        "1.2.3.4.5.6",
        "v1.2.3.4",
        "version 1.2.3.4.5 build",
        "10.1.2.3/24",
        "10.999.1.1 10.1.1.1",
        "192.168.1.15,192.168.1.21",
        "192.168.1.9 192.168.1.21",
        "-1.2.3.4-",
        "1.2.3.4_x",
        "1.2.3.4-x",
        "0.0.0.0",
        "255.255.255.255",
        "1.2.3.",
        ".1.2.3.4",
        "1..2.3.4",
        "1.2.3.4 ",
        " 1.2.3.4",
        "1.2.3.4\r",
        "tab\t10.0.0.1\tend",
        "zz2001:db8::1",
        "abcd2001:db8::1",
        "x ::1",
        "::1",
        "a::1",
        "::1x",
        "::1]",
        "[::1]:80",
        "2001:db8::1%eth0",
        "::ffff:1.2.3.4",
        "fe80::1/64",
        "fe80::01",
        "fe80:0::1",
        "2001:DB8::ABCD",
        "2001:db8:0:0:0:0:0:1",
        "1:2:3:4:5:6:7:8",
        "2001:db8::1.2.3.4",
        "2001:db8:::1",
        "12:34:56 10.0.0.1",
        "12:34:56",
        "time=10:20:30 ip=1.2.3.4",
        "::",
        ":: x",
        "2001:db8::g",
        "2001:db8::1:",
        "a:b:c:d:e:f:0:1:2",
        "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
        "1.2.3.4::1",
        "::1.2.3.4",
        "1.2.3.4/32",
        "user@1.2.3.4",
        "http://1.2.3.4/x",
        "1.2.3.4.",
        "",
        "no addresses here",
        "3.14159",
        "1.2",
        "1.2.3",
        "ab:cd:ef 1.2.3.4",
        "2001:db8::1 1.2.3.4",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // Lines near grepcidr's buffer sizes (512, 1024, 2048) with short IPv6
    // and IPv4 addresses at the very end.
    for total in (500..=516).chain(1016..=1028).chain(2040..=2050) {
        for tail in ["::1", " ::", "1.2.3.4", " 2001:db8::1"] {
            if total > tail.len() {
                lines.push(format!("{}{tail}", "y".repeat(total - tail.len())));
            }
        }
    }
    lines
}

fn check_all_lists(log: &[u8]) {
    compare(LIST_V4, log);
    compare(LIST_V6, log);
    compare(&format!("{LIST_V4}{LIST_V6}"), log);
}

#[test]
fn tricky_lines_match_grepcidr() {
    let lines = tricky_lines();
    let mut log = lines.join("\n");
    log.push('\n');
    check_all_lists(log.as_bytes());
    // The same lines, now after a long line has grown grepcidr's buffer.
    let mut grown = format!("{}\n", "z".repeat(3000));
    grown.push_str(&log);
    check_all_lists(grown.as_bytes());
}

#[test]
fn unterminated_last_lines_match_grepcidr() {
    for total in [7usize, 100, 506, 507, 508, 509, 510, 511, 512, 513, 1022, 1023, 1024] {
        for tail in ["::1", "1.2.3.4", " 2001:db8::1"] {
            let line = format!("{}{tail}", "q".repeat(total.saturating_sub(tail.len())));
            check_all_lists(format!("first 1.2.3.4\n{line}").as_bytes());
            check_all_lists(line.as_bytes());
        }
    }
}

#[test]
fn large_buffer_split_across_threads_matches_grepcidr() {
    // Over 1 MiB so the two-thread path really splits; a 600-byte line in
    // the first half grows grepcidr's buffer for lines in the second half.
    let lines = tricky_lines();
    let mut log = String::new();
    let mut i = 0usize;
    while log.len() < (1 << 20) + 4096 {
        log.push_str(&lines[i % lines.len()]);
        log.push('\n');
        i += 7;
    }
    log.insert_str(0, &format!("{}\n", "w".repeat(600)));
    check_all_lists(log.as_bytes());
}

#[test]
fn hits_report_the_matching_addresses() {
    let set = load_set(&format!("{LIST_V4}{LIST_V6}"));
    let log = b"a 1.2.3.4 b 9.9.9.9 c 10.1.1.1\n[::1]:22\nnone 1.2.3.5\n";
    let hits = Scanner::new(&set).hits(log, 1);
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0].line.number, 1);
    let addrs: Vec<String> = hits[0].addrs.iter().map(|(a, _)| a.to_string()).collect();
    assert_eq!(addrs, ["1.2.3.4", "10.1.1.1"]);
    assert_eq!(hits[0].addrs[0].1, 2..9);
    assert_eq!(hits[1].line.number, 2);
    assert_eq!(hits[1].addrs[0].0.to_string(), "::1");
    assert_eq!((hits[1].line.start, hits[1].line.end), (31, 40));
}

#[test]
fn gzip_input_is_streamed() {
    let dir = tempdir();
    let path = dir.join("log.gz");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(b"x 1.2.3.4\ny 5.6.7.8\nz 1.2.3.4").expect("compress");
    std::fs::write(&path, encoder.finish().expect("finish")).expect("write");
    let set = load_set(LIST_V4);
    let Input::Stream(reader) = Input::open(path.to_str().expect("path")).expect("open") else {
        panic!("a .gz file must be streamed");
    };
    let mut lines = Vec::new();
    let count = Scanner::new(&set)
        .scan_reader(reader, false, |hit, bytes| lines.push((hit.line.number, bytes.to_vec())))
        .expect("scan")
        .matching_lines;
    assert_eq!(count, 2);
    assert_eq!(lines, [(1, b"x 1.2.3.4\n".to_vec()), (3, b"z 1.2.3.4".to_vec())]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Random lines over an alphabet rich in address bytes, including fragments
/// of listed addresses.
fn random_line() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => prop::sample::select(vec![
            "1", "2", "3", "4", "0", "9", "10", "111", "255", "256", ".", ".", ":", ":", "::", "a", "b",
            "f", "g", "x", " ", "[", "]", "/", "-", "\t", "1.2.3.4", "10.0.0.1", "::1", "2001:db8::",
            "fe80::1", "::ffff:", "192.168.1.15", "01", ",", "\"",
        ]),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_lines_match_grepcidr(lines in prop::collection::vec(random_line(), 1..40)) {
        let mut log = lines.join("\n");
        log.push('\n');
        check_all_lists(log.as_bytes());
    }
}
