//! Property tests of `IpSet` and `IpMap` against a naive model: a `BTreeSet`
//! of addresses over a small universe (a /20 of IPv4 and a /116 of IPv6),
//! plus lookups on tables big enough to use the first-level index.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use cordon_netset::{IpMapBuilder, IpRange, IpSet};
use ipnet::IpNet;
use proptest::prelude::*;

const V4_BASE: u32 = 0x0a01_0000; // 10.1.0.0/20
const V6_BASE: u128 = 0x2001_0db8_0000_0000_0000_0000_0000_0000; // 2001:db8::/116
const UNIVERSE: u32 = 4096;

/// One entry as offsets into the universe: `(first, last)`.
fn entry() -> impl Strategy<Value = (u32, u32)> {
    prop_oneof![
        // Single address.
        (0..UNIVERSE).prop_map(|a| (a, a)),
        // CIDR /20../32 inside the universe.
        (0..UNIVERSE, 0u32..=12).prop_map(|(a, host)| {
            let mask = (1u32 << host) - 1;
            let base = a & !mask;
            (base, base | mask)
        }),
        // Arbitrary range.
        (0..UNIVERSE, 0..UNIVERSE).prop_map(|(a, b)| (a.min(b), a.max(b))),
    ]
}

fn entries() -> impl Strategy<Value = Vec<(u32, u32)>> {
    prop::collection::vec(entry(), 0..24)
}

fn v4(offset: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(V4_BASE + offset))
}

fn v6(offset: u32) -> IpAddr {
    IpAddr::V6(Ipv6Addr::from(V6_BASE + u128::from(offset)))
}

fn to_ranges(entries: &[(u32, u32)], family: fn(u32) -> IpAddr) -> Vec<IpRange> {
    entries.iter().map(|&(a, b)| IpRange::new(family(a), family(b)).expect("valid test range")).collect()
}

fn model(entries: &[(u32, u32)]) -> BTreeSet<u32> {
    entries.iter().flat_map(|&(a, b)| a..=b).collect()
}

/// The set's members inside the universe, as offsets (probing every address
/// plus one on each side of the universe).
fn members(set: &IpSet, family: fn(u32) -> IpAddr) -> BTreeSet<u32> {
    (0..UNIVERSE).filter(|&o| set.contains(family(o))).collect()
}

/// Maximal runs of consecutive offsets.
fn runs(model: &BTreeSet<u32>) -> Vec<(u32, u32)> {
    let mut out: Vec<(u32, u32)> = Vec::new();
    for &x in model {
        match out.last_mut() {
            Some(last) if last.1 + 1 == x => last.1 = x,
            _ => out.push((x, x)),
        }
    }
    out
}

fn offset_of(addr: IpAddr) -> u32 {
    match addr {
        IpAddr::V4(a) => u32::from(a) - V4_BASE,
        IpAddr::V6(a) => (u128::from(a) - V6_BASE) as u32,
    }
}

/// Checks every observable of `set` against `expected`.
fn check_set(set: &IpSet, expected: &BTreeSet<u32>, family: fn(u32) -> IpAddr) {
    assert_eq!(&members(set, family), expected);
    // Nothing leaks outside the universe.
    let outside_low = match family(0) {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from(V4_BASE - 1)),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(V6_BASE - 1)),
    };
    assert!(!set.contains(outside_low));
    assert!(!set.contains(family(UNIVERSE)));
    // Counts.
    let count = set.count_v4() as u128 + set.count_v6();
    assert_eq!(count, expected.len() as u128);
    // Canonical ranges are the maximal runs.
    let ranges: Vec<(u32, u32)> = set.ranges().map(|r| (offset_of(r.first()), offset_of(r.last()))).collect();
    assert_eq!(ranges, runs(expected));
    // CIDRs: ascending, exact cover, and minimal (no two siblings that
    // would merge into their parent).
    let cidrs = set.cidrs();
    let mut covered = BTreeSet::new();
    for net in &cidrs {
        let (a, b) = (offset_of(net.network()), offset_of(net.broadcast()));
        assert!(covered.last().is_none_or(|&l| l < a), "not ascending: {cidrs:?}");
        covered.extend(a..=b);
    }
    assert_eq!(&covered, expected);
    for pair in cidrs.windows(2) {
        let (x, y) = (pair[0], pair[1]);
        if x.prefix_len() == y.prefix_len() && x.prefix_len() > 0 {
            let parent_x = x.supernet();
            assert!(parent_x.is_none() || parent_x != y.supernet(), "{x} and {y} should have been merged");
        }
    }
}

fn check_family(a: &[(u32, u32)], b: &[(u32, u32)], family: fn(u32) -> IpAddr) {
    let (ma, mb) = (model(a), model(b));
    let sa = IpSet::from_ranges(to_ranges(a, family));
    let sb = IpSet::from_ranges(to_ranges(b, family));
    check_set(&sa, &ma, family);
    check_set(&sb, &mb, family);
    check_set(&sa.union(&sb), &ma.union(&mb).copied().collect(), family);
    check_set(&sa.intersection(&sb), &ma.intersection(&mb).copied().collect(), family);
    check_set(&sa.difference(&sb), &ma.difference(&mb).copied().collect(), family);
    check_set(&sb.difference(&sa), &mb.difference(&ma).copied().collect(), family);
    check_set(&sa.symmetric_difference(&sb), &ma.symmetric_difference(&mb).copied().collect(), family);
    // Round trip through the CIDR list gives the same set.
    let again: IpSet = sa.cidrs().into_iter().collect();
    assert_eq!(again, sa);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn set_ops_match_model_v4(a in entries(), b in entries()) {
        check_family(&a, &b, v4);
    }

    #[test]
    fn set_ops_match_model_v6(a in entries(), b in entries()) {
        check_family(&a, &b, v6);
    }

    #[test]
    fn mixed_families_stay_apart(a in entries(), b in entries()) {
        let mut ranges = to_ranges(&a, v4);
        ranges.extend(to_ranges(&b, v6));
        let set = IpSet::from_ranges(ranges);
        prop_assert_eq!(members(&set, v4), model(&a));
        prop_assert_eq!(members(&set, v6), model(&b));
        // v4 CIDRs come before v6 ones.
        let cidrs = set.cidrs();
        let first_v6 = cidrs.iter().position(|n| matches!(n, IpNet::V6(_))).unwrap_or(cidrs.len());
        prop_assert!(cidrs[first_v6..].iter().all(|n| matches!(n, IpNet::V6(_))));
    }

    #[test]
    fn map_matches_model(a in entries(), b in entries()) {
        let mut builder = IpMapBuilder::new();
        let mut all: Vec<(IpRange, u32)> = Vec::new();
        for (range, family) in to_ranges(&a, v4).into_iter().map(|r| (r, v4 as fn(u32) -> IpAddr))
            .chain(to_ranges(&b, v6).into_iter().map(|r| (r, v6 as fn(u32) -> IpAddr)))
        {
            let _ = family;
            let id = builder.insert(range, all.len() as u32 * 10).expect("id");
            prop_assert_eq!(id as usize, all.len());
            all.push((range, id));
        }
        let map = builder.build();
        for family in [v4 as fn(u32) -> IpAddr, v6] {
            for o in 0..UNIVERSE {
                let addr = family(o);
                // Naive: covering entries sorted by (size, id).
                let mut expected: Vec<(u32, u32)> = all
                    .iter()
                    .filter(|(r, _)| {
                        std::mem::discriminant(&r.first()) == std::mem::discriminant(&addr)
                            && r.first() <= addr && addr <= r.last()
                    })
                    .map(|(r, id)| (offset_of(r.last()) - offset_of(r.first()), *id))
                    .collect();
                expected.sort();
                let expected_ids: Vec<u32> = expected.iter().map(|&(_, id)| id).collect();
                prop_assert_eq!(map.covering(addr), &expected_ids[..]);
                prop_assert_eq!(map.get(addr).copied(), expected_ids.first().map(|id| id * 10));
                let values: Vec<u32> = map.get_all(addr).copied().collect();
                prop_assert_eq!(values, expected_ids.iter().map(|id| id * 10).collect::<Vec<_>>());
            }
        }
    }

}

proptest! {
    // Each case probes ~16k addresses with a linear naive scan: few cases.
    #![proptest_config(ProptestConfig::with_cases(6))]

    /// Tables with thousands of ranges use the first-level index; compare
    /// lookups over the whole IPv4 space with a naive scan.
    #[test]
    fn indexed_lookups_match_naive(
        starts in prop::collection::vec((any::<u32>(), 0u32..5000), 4096..6000),
        probes in prop::collection::vec(any::<u32>(), 0..2000),
    ) {
        let ranges: Vec<(u32, u32)> = starts
            .iter()
            .map(|&(a, len)| (a, a.saturating_add(len)))
            .collect();
        let set = IpSet::from_ranges(ranges.iter().map(|&(a, b)| {
            IpRange::new(IpAddr::V4(a.into()), IpAddr::V4(b.into())).expect("ordered")
        }));
        let naive = |x: u32| ranges.iter().any(|&(a, b)| a <= x && x <= b);
        for &x in probes.iter().chain(ranges.iter().flat_map(|(a, b)| [a, b]))
            .chain(ranges.iter().map(|(_, b)| b).filter_map(|b| b.checked_add(1)).collect::<Vec<_>>().iter())
        {
            prop_assert_eq!(set.contains_v4_bits(x), naive(x), "address {}", Ipv4Addr::from(x));
        }
    }
}

#[test]
fn edges_of_the_address_space() {
    let all_v4: IpSet = ["0.0.0.0/0".parse::<IpNet>().expect("net")].into_iter().collect();
    assert_eq!(all_v4.count_v4(), 1 << 32);
    assert!(all_v4.contains("255.255.255.255".parse().expect("ip")));
    assert_eq!(all_v4.cidrs()[0].to_string(), "0.0.0.0/0");
    let all_v6: IpSet = ["::/0".parse::<IpNet>().expect("net")].into_iter().collect();
    assert_eq!(all_v6.count_v6(), u128::MAX);
    let top: IpSet =
        ["255.255.255.255/32".parse::<IpNet>().expect("net"), "::/0".parse().expect("net")].into_iter().collect();
    assert!(all_v4.difference(&top).contains("255.255.255.254".parse().expect("ip")));
    assert!(!all_v4.difference(&top).contains("255.255.255.255".parse().expect("ip")));
    assert_eq!(all_v4.difference(&top).cidrs().len(), 32);
    assert!(all_v6.difference(&top).is_empty());
    let mut builder = IpMapBuilder::new();
    builder.insert("::/0".parse::<IpNet>().expect("net"), "all");
    builder.insert("ffff::/16".parse::<IpNet>().expect("net"), "top");
    let map = builder.build();
    assert_eq!(map.get("ffff::1".parse().expect("ip")), Some(&"top"));
    assert_eq!(map.get("fffe::1".parse().expect("ip")), Some(&"all"));
    assert_eq!(map.covering("ffff:ffff::".parse().expect("ip")), &[1, 0]);
}

#[test]
fn reversed_and_mixed_ranges_are_errors() {
    let a: IpAddr = "10.0.0.2".parse().expect("ip");
    let b: IpAddr = "10.0.0.1".parse().expect("ip");
    let c: IpAddr = "::1".parse().expect("ip");
    assert!(IpRange::new(a, b).is_err());
    assert!(IpRange::new(a, c).is_err());
    assert_eq!(IpRange::new(b, a).map(|r| r.to_string()), Ok("10.0.0.1-10.0.0.2".to_string()));
}

/// A random network of either family: any prefix length, anywhere, so
/// networks nest and share boundaries.
fn random_net() -> impl Strategy<Value = IpNet> {
    prop_oneof![
        (any::<u32>(), 0u8..=32)
            .prop_map(|(a, len)| IpNet::new(IpAddr::V4(Ipv4Addr::from(a)), len).expect("length in range").trunc()),
        // A few fixed top bits keep nesting likely at long prefixes too.
        (any::<u32>(), 0u8..=32)
            .prop_map(|(a, len)| IpNet::new(v4(a % UNIVERSE), 20 + len % 13).expect("length in range").trunc()),
        (any::<u128>(), 0u8..=128)
            .prop_map(|(a, len)| IpNet::new(IpAddr::V6(Ipv6Addr::from(a)), len).expect("length in range").trunc()),
        (any::<u32>(), 0u8..=12)
            .prop_map(|(a, len)| IpNet::new(v6(a % UNIVERSE), 116 + len).expect("length in range").trunc()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A map read back from its layout answers every lookup as the built
    /// map does, and its entries are the networks that were inserted.
    #[test]
    fn loaded_map_answers_as_the_built_one(
        nets in prop::collection::vec(random_net(), 0..64),
        probes in prop::collection::vec(any::<(u32, u128, u32)>(), 0..64),
    ) {
        let mut builder = IpMapBuilder::new();
        for (i, net) in nets.iter().enumerate() {
            builder.insert(*net, i);
        }
        let map = builder.build();
        let mut bytes = Vec::new();
        map.write_layout(&mut bytes).expect("writing to a vector");
        let loaded = cordon_netset::IpMap::from_layout(&bytes).expect("reads back");
        prop_assert_eq!(loaded.len(), map.len());
        for (id, net) in nets.iter().enumerate() {
            let (range, ()) = loaded.entry(id as u32).expect("every entry is there");
            prop_assert_eq!(range.as_net(), Some(*net));
        }
        // Probes: each network's ends and neighbours, and random addresses.
        let mut addrs: Vec<IpAddr> = nets.iter().flat_map(|n| [n.network(), n.broadcast()]).collect();
        for (a, b, o) in probes {
            addrs.extend([IpAddr::V4(Ipv4Addr::from(a)), IpAddr::V6(Ipv6Addr::from(b)), v4(o % UNIVERSE), v6(o % UNIVERSE)]);
        }
        for addr in addrs {
            prop_assert_eq!(loaded.covering(addr), map.covering(addr), "{}", addr);
        }
    }

    /// A set read back from its layout is the set that was written.
    #[test]
    fn loaded_set_is_the_written_one(nets in prop::collection::vec(random_net(), 0..64)) {
        let set: IpSet = nets.into_iter().collect();
        let mut bytes = Vec::new();
        set.write_layout(&mut bytes).expect("writing to a vector");
        prop_assert_eq!(IpSet::from_layout(&bytes).expect("reads back"), set);
    }
}

/// A set big enough for the IPv4 lookup index reads back equal, index and
/// all.
#[test]
fn a_large_set_reads_back_with_its_index() {
    let set: IpSet =
        (0..20_000u32).map(|i| IpNet::from(IpAddr::V4(Ipv4Addr::from(i.wrapping_mul(2_654_435_761))))).collect();
    let mut bytes = Vec::new();
    set.write_layout(&mut bytes).expect("writing to a vector");
    let loaded = IpSet::from_layout(&bytes).expect("reads back");
    assert_eq!(loaded, set);
    assert!(loaded.contains("0.0.0.0".parse().expect("address")));
}
