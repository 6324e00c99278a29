//! [`IpSet`]: an immutable set of IPv4 and IPv6 addresses.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use crate::bits::{for_each_cidr, Bits};
use crate::range::{Bounds, IpRange};
use crate::ranges::{self, Span};
use crate::table::{RangeTable, INDEX_MIN_RANGES};
use crate::v4lookup::V4Lookup;

/// An immutable set of IPv4 and IPv6 addresses, stored as canonical (sorted,
/// disjoint, coalesced) ranges per family with a first-level lookup index.
///
/// Build it from any mix of addresses, CIDRs and ranges with
/// [`IpSet::from_ranges`] or `collect()`. Set operations return new sets and
/// run in time linear in the number of ranges.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IpSet {
    pub(crate) v4: RangeTable<u32>,
    pub(crate) v6: RangeTable<u128>,
    /// IPv4 membership index, built from `v4` when it has at least
    /// `INDEX_MIN_RANGES` ranges (smaller tables are searched directly).
    /// Derived data: equal sets have equal indexes.
    v4_lookup: Option<V4Lookup>,
}

impl IpSet {
    /// The empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds a set from ranges (use `IpRange::from` for CIDRs and
    /// addresses). Overlapping and adjacent entries are merged.
    pub fn from_ranges<I: IntoIterator<Item = IpRange>>(entries: I) -> Self {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for entry in entries {
            match entry.bounds() {
                Bounds::V4(a, b) => v4.push((a, b)),
                Bounds::V6(a, b) => v6.push((a, b)),
            }
        }
        Self::from_spans(ranges::normalize_v4(v4), ranges::normalize(v6))
    }

    pub(crate) fn from_spans(v4: Vec<Span<u32>>, v6: Vec<Span<u128>>) -> Self {
        let v4_lookup = if v4.len() >= INDEX_MIN_RANGES { V4Lookup::new(&v4) } else { None };
        IpSet { v4: RangeTable::new(v4), v6: RangeTable::new(v6), v4_lookup }
    }

    /// Whether `addr` is in the set.
    #[inline]
    pub fn contains(&self, addr: IpAddr) -> bool {
        match addr {
            IpAddr::V4(a) => self.contains_v4(a),
            IpAddr::V6(a) => self.contains_v6(a),
        }
    }

    /// Whether the IPv4 address is in the set.
    #[inline]
    pub fn contains_v4(&self, addr: Ipv4Addr) -> bool {
        self.contains_v4_bits(u32::from(addr))
    }

    /// Whether the IPv4 address given as a host-order integer is in the set.
    #[inline]
    pub fn contains_v4_bits(&self, addr: u32) -> bool {
        match &self.v4_lookup {
            Some(lookup) => lookup.contains(addr),
            None => self.v4.find(addr).is_some(),
        }
    }

    /// Looks up many IPv4 addresses (host-order integers) at once:
    /// `out[i]` is set to whether `addrs[i]` is in the set. Faster than
    /// one-by-one lookups on large sets because the memory accesses of
    /// neighbouring addresses overlap. Only `min(addrs.len(), out.len())`
    /// addresses are looked up.
    pub fn contains_v4_many(&self, addrs: &[u32], out: &mut [bool]) {
        match &self.v4_lookup {
            Some(lookup) => lookup.contains_many(addrs, out),
            None => self.v4.contains_many(addrs, out),
        }
    }

    /// Whether the IPv6 address is in the set.
    #[inline]
    pub fn contains_v6(&self, addr: Ipv6Addr) -> bool {
        self.contains_v6_bits(u128::from(addr))
    }

    /// Whether the IPv6 address given as a host-order integer is in the set.
    #[inline]
    pub fn contains_v6_bits(&self, addr: u128) -> bool {
        self.v6.find(addr).is_some()
    }

    /// Whether the set holds no address at all.
    pub fn is_empty(&self) -> bool {
        self.v4.len() == 0 && self.v6.len() == 0
    }

    /// Whether the set holds at least one IPv4 address.
    pub fn has_v4(&self) -> bool {
        self.v4.len() > 0
    }

    /// Whether the set holds at least one IPv6 address.
    pub fn has_v6(&self) -> bool {
        self.v6.len() > 0
    }

    /// `self ∪ other`.
    pub fn union(&self, other: &IpSet) -> IpSet {
        Self::from_spans(
            ranges::union(&self.v4.spans(), &other.v4.spans()),
            ranges::union(&self.v6.spans(), &other.v6.spans()),
        )
    }

    /// `self ∩ other`.
    pub fn intersection(&self, other: &IpSet) -> IpSet {
        Self::from_spans(
            ranges::intersection(&self.v4.spans(), &other.v4.spans()),
            ranges::intersection(&self.v6.spans(), &other.v6.spans()),
        )
    }

    /// `self \ other`: the addresses of `self` that are not in `other`.
    pub fn difference(&self, other: &IpSet) -> IpSet {
        Self::from_spans(
            ranges::difference(&self.v4.spans(), &other.v4.spans()),
            ranges::difference(&self.v6.spans(), &other.v6.spans()),
        )
    }

    /// Addresses in exactly one of `self` and `other`.
    pub fn symmetric_difference(&self, other: &IpSet) -> IpSet {
        Self::from_spans(
            ranges::symmetric_difference(&self.v4.spans(), &other.v4.spans()),
            ranges::symmetric_difference(&self.v6.spans(), &other.v6.spans()),
        )
    }

    /// Number of distinct IPv4 addresses (at most `2^32`).
    pub fn count_v4(&self) -> u64 {
        // At most 2^32, which fits.
        ranges::count(self.v4.iter()) as u64
    }

    /// Number of distinct IPv6 addresses, saturating at `u128::MAX`: only
    /// the full space `::/0` (`2^128` addresses) saturates.
    pub fn count_v6(&self) -> u128 {
        ranges::count(self.v6.iter())
    }

    /// Number of canonical ranges (IPv4 plus IPv6).
    pub fn range_count(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    /// The canonical ranges: IPv4 first, then IPv6, each ascending.
    pub fn ranges(&self) -> impl Iterator<Item = IpRange> + '_ {
        let v4 = self.v4.iter().map(|(a, b)| IpRange::v4(a, b));
        let v6 = self.v6.iter().map(|(a, b)| IpRange::v6(a, b));
        v4.chain(v6)
    }

    /// Calls `emit` with the minimal list of CIDR blocks covering the set,
    /// IPv4 first, then IPv6, each ascending.
    pub fn for_each_cidr(&self, mut emit: impl FnMut(IpNet)) {
        for (first, last) in self.v4.iter() {
            for_each_cidr(first.to_u128(), last.to_u128(), u32::WIDTH, |base, len| {
                if let Ok(net) = Ipv4Net::new(Ipv4Addr::from(u32::from_u128(base)), len) {
                    emit(IpNet::V4(net));
                }
            });
        }
        for (first, last) in self.v6.iter() {
            for_each_cidr(first, last, u128::WIDTH, |base, len| {
                if let Ok(net) = Ipv6Net::new(Ipv6Addr::from(base), len) {
                    emit(IpNet::V6(net));
                }
            });
        }
    }

    /// The minimal list of CIDR blocks covering the set (see
    /// [`IpSet::for_each_cidr`]).
    pub fn cidrs(&self) -> Vec<IpNet> {
        let mut out = Vec::new();
        self.for_each_cidr(|net| out.push(net));
        out
    }

    /// Heap bytes held by the set (ranges plus lookup index).
    pub fn memory_bytes(&self) -> usize {
        self.v4.memory_bytes() + self.v6.memory_bytes() + self.v4_lookup.as_ref().map_or(0, V4Lookup::memory_bytes)
    }
}

impl FromIterator<IpRange> for IpSet {
    fn from_iter<I: IntoIterator<Item = IpRange>>(iter: I) -> Self {
        Self::from_ranges(iter)
    }
}

impl FromIterator<IpNet> for IpSet {
    fn from_iter<I: IntoIterator<Item = IpNet>>(iter: I) -> Self {
        Self::from_ranges(iter.into_iter().map(IpRange::from))
    }
}

impl FromIterator<IpAddr> for IpSet {
    fn from_iter<I: IntoIterator<Item = IpAddr>>(iter: I) -> Self {
        Self::from_ranges(iter.into_iter().map(IpRange::from))
    }
}
