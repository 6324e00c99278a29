//! Property tests: the plain-list parser never panics, and what it emits is
//! canonical.

use cordon_formats::{Event, Format, Options};
use cordon_model::normalize;
use proptest::prelude::*;

use crate::util::parse_bytes;

/// Lines that look like what analysts paste, mixed with noise.
fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|b| format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3])),
        (any::<[u8; 4]>(), 0u8..40).prop_map(|(b, len)| format!("{}.{}.{}.{}/{len}", b[0], b[1], b[2], b[3])),
        (any::<[u8; 4]>(), any::<u8>())
            .prop_map(|(b, e)| format!("{}.{}.{}.{}-{}.{}.{}.{e}", b[0], b[1], b[2], b[3], b[0], b[1], b[2])),
        any::<[u16; 8]>().prop_map(|s| std::net::Ipv6Addr::from(s).to_string()),
        "[a-z0-9-]{1,12}(\\[\\.\\]|\\.)[a-z]{2,6}",
        "hxxps?://[a-z0-9.-]{1,20}(\\[\\.\\]|\\.)[a-z]{2,4}(/[a-zA-Z0-9#;?=&%]{0,12})?",
        "[#;].*",
        ".*",
    ]
}

proptest! {
    #[test]
    fn plain_lists_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let result = parse_bytes(Format::Plain, &bytes, &Options::default());
        prop_assert!(result.is_ok());
    }

    #[test]
    fn plain_records_renormalize_to_themselves(lines in proptest::collection::vec(line(), 0..40), crlf in any::<bool>()) {
        let input = lines.join(if crlf { "\r\n" } else { "\n" });
        let mut reader = input.as_bytes();
        let mut events = Vec::new();
        cordon_formats::parse_reader(Format::Plain, std::path::Path::new("-"), &mut reader, &Options::default(), &mut |e| events.push(e))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        for event in events {
            match event {
                Event::Record(record) => {
                    let text = record.observable.to_string();
                    let again = normalize(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
                    prop_assert_eq!(again.observables, vec![record.observable]);
                    prop_assert!(record.line >= 1 && record.line <= lines.len().max(1) as u64);
                }
                Event::Rejected { line, reason } => prop_assert!(line >= 1 && !reason.is_empty()),
                _ => {}
            }
        }
    }
}
