//! The lookup structure: canonical ranges plus a first-level index on the
//! top 16 bits of the address.
//!
//! `index[b]` is the number of ranges whose first address is `<=` the first
//! address of bucket `b`, so the range that may hold an address in bucket `b`
//! is `ranges[index[b] - 1]` or one of `ranges[index[b]..index[b + 1]]`. A
//! lookup reads one `u32` pair from the index (256 KiB, stays in L2) and then
//! runs a branch-free binary search over that bucket only, typically a few
//! dozen bytes: one or two cache misses per lookup instead of the ~20
//! dependent misses of a binary search over millions of ranges.
//!
//! Small tables (fewer than [`INDEX_MIN_RANGES`] ranges) skip the index and
//! search the whole slice, so that tiny sets do not pay 256 KiB.

use crate::bits::Bits;
use crate::ranges::Span;

/// Below this many ranges no first-level index is built.
pub(crate) const INDEX_MIN_RANGES: usize = 4096;

/// Number of first-level buckets (top 16 bits).
const BUCKETS: usize = 1 << 16;

/// Canonical ranges with a bucket index. Invariant: `ranges` is in canonical
/// form (see [`crate::ranges`]) and `index` is empty or has `BUCKETS + 1`
/// entries computed from `ranges`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RangeTable<T> {
    ranges: Vec<Span<T>>,
    index: Vec<u32>,
}

impl<T: Bits> RangeTable<T> {
    /// Builds the table; `ranges` must be sorted and disjoint (they need not
    /// be coalesced, which lets [`crate::IpMap`] keep neighbouring pieces
    /// with different owners apart).
    pub(crate) fn new(ranges: Vec<Span<T>>) -> Self {
        debug_assert!(ranges.windows(2).all(|w| w[0].1 < w[1].0));
        let index = if ranges.len() >= INDEX_MIN_RANGES && ranges.len() < u32::MAX as usize {
            let mut index = Vec::with_capacity(BUCKETS + 1);
            let mut k = 0usize;
            for bucket in 0..BUCKETS {
                let base = T::bucket_base(bucket);
                while ranges.get(k).is_some_and(|r| r.0 <= base) {
                    k += 1;
                }
                index.push(k as u32);
            }
            index.push(ranges.len() as u32);
            index
        } else {
            Vec::new()
        };
        RangeTable { ranges, index }
    }

    /// The ranges, sorted and disjoint.
    pub(crate) fn ranges(&self) -> &[Span<T>] {
        &self.ranges
    }

    /// Heap bytes used by this table.
    pub(crate) fn memory_bytes(&self) -> usize {
        self.ranges.capacity() * std::mem::size_of::<Span<T>>()
            + self.index.capacity() * std::mem::size_of::<u32>()
    }

    /// Position of the range holding `addr`, if any.
    #[inline]
    pub(crate) fn find(&self, addr: T) -> Option<usize> {
        let (lo, hi) = if self.index.is_empty() {
            (0, self.ranges.len())
        } else {
            let bucket = addr.top16();
            match (self.index.get(bucket), self.index.get(bucket + 1)) {
                (Some(&lo), Some(&hi)) => (lo as usize, hi as usize),
                _ => (0, self.ranges.len()),
            }
        };
        let slice = self.ranges.get(lo..hi)?;
        let count = lo + count_le(slice, addr);
        let pos = count.checked_sub(1)?;
        let range = self.ranges.get(pos)?;
        (range.1 >= addr).then_some(pos)
    }
}

/// Number of ranges in `slice` (sorted by start) whose start is `<= addr`.
///
/// Branch-free: the loop runs `log2(len)` times whatever the data, and the
/// comparison becomes a conditional move, so independent lookups overlap
/// their cache misses.
#[inline]
fn count_le<T: Bits>(slice: &[Span<T>], addr: T) -> usize {
    let mut size = slice.len();
    if size == 0 {
        return 0;
    }
    let mut base = 0usize;
    while size > 1 {
        let half = size / 2;
        let mid = base + half;
        // SAFETY-free indexing: mid < base + size <= slice.len().
        base = if slice[mid].0 <= addr { mid } else { base };
        size -= half;
    }
    base + usize::from(slice[base].0 <= addr)
}
