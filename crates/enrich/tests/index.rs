//! The range index against a naive linear search over the same ranges.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use cordon_enrich::{DiagnosticKind, GeoDb, Import};
use proptest::prelude::*;

/// Disjoint v4 ranges (start, end, asn) from sorted cut points.
fn ranges_v4() -> impl Strategy<Value = Vec<(u32, u32, u32)>> {
    proptest::collection::vec((any::<u32>(), 1u32..5000), 0..60).prop_map(|mut cuts| {
        cuts.sort();
        cuts.dedup_by_key(|c| c.0);
        let mut out: Vec<(u32, u32, u32)> = Vec::new();
        // Distinct ASNs, so no two neighbours coalesce and the reported
        // range is exactly the input range.
        for (i, window) in cuts.windows(2).enumerate() {
            let (start, gap) = window[0];
            let end = window[1].0 - 1;
            if gap % 3 != 0 {
                out.push((start, end, i as u32 + 1));
            }
        }
        out
    })
}

fn db_of(v4: &[(u32, u32, u32)], v6: &[(u128, u128, u32)]) -> GeoDb {
    db_with_overlaps(v4, v6, false)
}

fn db_with_overlaps(v4: &[(u32, u32, u32)], v6: &[(u128, u128, u32)], overlaps: bool) -> GeoDb {
    let mut text = String::new();
    for (s, e, a) in v4 {
        text += &format!("{},{},{a},\n", Ipv4Addr::from(*s), Ipv4Addr::from(*e));
    }
    for (s, e, a) in v6 {
        text += &format!("{},{},{a},\n", Ipv6Addr::from(*s), Ipv6Addr::from(*e));
    }
    let mut import = Import::new();
    import.add_csv("gen.csv", text.as_bytes());
    let report = import.finish();
    let unexpected = report.diagnostics.iter().filter(|d| !overlaps || d.kind != DiagnosticKind::Overlap).count();
    assert_eq!(unexpected, 0, "{:?}", report.diagnostics);
    GeoDb::from_bytes(&report.snapshot).unwrap()
}

proptest! {
    #[test]
    fn v4_lookup_matches_linear_search(ranges in ranges_v4(), probes in proptest::collection::vec(any::<u32>(), 50)) {
        let db = db_of(&ranges, &[]);
        let mut points = probes;
        for (s, e, _) in &ranges {
            points.extend([*s, *e, s.saturating_sub(1), e.saturating_add(1)]);
        }
        for p in points {
            let want = ranges.iter().find(|(s, e, _)| *s <= p && p <= *e).map(|r| r.2);
            let got = db.lookup(IpAddr::V4(p.into()));
            prop_assert_eq!(got.and_then(|i| i.asn), want, "address {}", Ipv4Addr::from(p));
            if let (Some(info), Some((s, e, _))) = (got, ranges.iter().find(|(s, e, _)| *s <= p && p <= *e)) {
                prop_assert_eq!(info.first, IpAddr::V4((*s).into()));
                prop_assert_eq!(info.last, IpAddr::V4((*e).into()));
            }
        }
    }

    #[test]
    fn v6_lookup_matches_linear_search(cuts in proptest::collection::vec((any::<u128>(), 1u32..1000), 0..40), probes in proptest::collection::vec(any::<u128>(), 50)) {
        let mut cuts = cuts;
        cuts.sort();
        cuts.dedup_by_key(|c| c.0);
        let ranges: Vec<(u128, u128, u32)> = cuts.windows(2).filter(|w| w[0].1 % 2 == 0).map(|w| (w[0].0, w[1].0 - 1, w[0].1)).collect();
        let db = db_of(&[], &ranges);
        let mut points = probes;
        for (s, e, _) in &ranges {
            points.extend([*s, *e, s.saturating_sub(1), e.saturating_add(1)]);
        }
        for p in points {
            let addr = Ipv6Addr::from(p);
            if addr.to_ipv4_mapped().is_some() {
                continue;
            }
            let want = ranges.iter().find(|(s, e, _)| *s <= p && p <= *e).map(|r| r.2);
            prop_assert_eq!(db.lookup(IpAddr::V6(addr)).and_then(|i| i.asn), want, "address {}", addr);
        }
    }

    #[test]
    fn overlapping_input_narrower_wins(outer in (0u32..1_000_000, 10u32..100_000), inner in (0u32..1000, 1u32..1000)) {
        let (os, olen) = outer;
        let oe = os + olen;
        let is = os + inner.0 % olen;
        let ie = (is + inner.1).min(oe);
        let db = db_with_overlaps(&[(os, oe, 1), (is, ie, 2)], &[], true);
        for p in [os, is, ie, oe, is.saturating_sub(1).max(os), (ie + 1).min(oe)] {
            let want = if is <= p && p <= ie { 2 } else { 1 };
            prop_assert_eq!(db.lookup(IpAddr::V4(p.into())).and_then(|i| i.asn), Some(want));
        }
    }
}
