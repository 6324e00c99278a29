//! Streaming behaviour shared by the line-based formats: overlong lines,
//! stdin detection.

use std::io::{BufReader, Cursor, Read};
use std::path::Path;

use cordon_formats::{detect_bytes, parse_reader, Event, Format, Options, DETECT_LIMIT};

use crate::util::parse_bytes;

/// An input whose line 2 is longer than 64 KiB, between two good lines.
fn with_overlong_line(first: &str, last: &str) -> Vec<u8> {
    let mut input = format!("{first}\n").into_bytes();
    input.extend(vec![b'9'; 70 * 1024]);
    input.extend(format!("\n{last}\n").into_bytes());
    input
}

#[test]
fn overlong_lines_are_rejected_in_every_line_format() {
    let cases = [
        (Format::Plain, "80.94.95.112", "77.90.185.20"),
        (Format::Openphish, "http://45.156.128.232/a", "http://45.156.128.232/b"),
        (Format::Ipsum, "80.94.95.112\t3", "77.90.185.20\t2"),
        (Format::SpamhausDrop, "2.57.122.0/24 ; SBL1", "80.94.95.0/24 ; SBL2"),
        (
            Format::SpamhausDropJson,
            r#"{"cidr":"2.57.122.0/24","sblid":"SBL1"}"#,
            r#"{"cidr":"80.94.95.0/24","sblid":"SBL2"}"#,
        ),
        (Format::Intelmq, r#"{"source.ip":"80.94.95.112"}"#, r#"{"source.ip":"77.90.185.20"}"#),
        (Format::Csv, "ip", "77.90.185.20"),
        (Format::FeodoCsv, r#"# "first_seen_utc","dst_ip""#, r#""2024-01-01","77.90.185.20""#),
    ];
    for (format, first, last) in cases {
        let parsed = parse_bytes(format, &with_overlong_line(first, last), &Options::default())
            .unwrap_or_else(|e| panic!("{format}: {e}"));
        assert_eq!(parsed.rejected, [(2, "line longer than 64 KiB".to_string())], "{format}");
        let lines: Vec<u64> = parsed.records.iter().map(|r| r.line).collect();
        assert_eq!(lines.last(), Some(&3), "{format}: the line after is read");
    }
}

#[test]
fn stdin_is_detected_from_its_head_and_parsed_whole() {
    let mut input: Vec<u8> = b"# IPsum Threat Intelligence Feed\n# IP\tnumber of (black)lists\n".to_vec();
    for i in 0..10_000u32 {
        input.extend(format!("45.{}.{}.{}\t{}\n", i / 65536 % 256, i / 256 % 256, i % 256, i % 12 + 1).into_bytes());
    }
    let mut stdin = input.as_slice();
    let mut head = Vec::new();
    (&mut stdin).take(DETECT_LIMIT as u64).read_to_end(&mut head).unwrap_or_else(|e| panic!("{e}"));
    let name = Path::new("<stdin>");
    assert_eq!(detect_bytes(name, &head).ok(), Some(Format::Ipsum));
    let mut reader = BufReader::new(Cursor::new(head).chain(stdin));
    let mut records = 0;
    parse_reader(Format::Ipsum, name, &mut reader, &Options::default(), &mut |event| {
        records += usize::from(matches!(event, Event::Record(_)));
    })
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(records, 10_000);
}
