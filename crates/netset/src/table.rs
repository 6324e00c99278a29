//! The lookup structure: canonical ranges plus a first-level index on the
//! top 16 bits of the address.
//!
//! `index[b]` is the number of ranges whose first address is below the first
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

/// Canonical ranges with a bucket index. Invariant: `starts` and `ends`
/// have equal length and describe sorted, disjoint ranges; `index` is empty
/// or has `BUCKETS + 1` entries computed from `starts`.
///
/// Starts and ends are kept in separate arrays so that the in-bucket search
/// scans only starts (a bucket of 16 IPv4 starts is one 64-byte cache line)
/// and touches `ends` once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RangeTable<T> {
    starts: Vec<T>,
    ends: Vec<T>,
    index: Vec<u32>,
}

/// Buckets up to this many starts are counted in one fixed-size window
/// (vectorised); longer ones by binary search. `starts` is padded by this
/// much so the window never runs off the end.
const WINDOW: usize = 32;

/// Longer slices passed to `count_le` than this use binary search.
const LINEAR_MAX: usize = 32;

impl<T: Bits> RangeTable<T> {
    /// Builds the table; `ranges` must be sorted and disjoint (they need not
    /// be coalesced, which lets [`crate::IpMap`] keep neighbouring pieces
    /// with different owners apart).
    pub(crate) fn new(ranges: Vec<Span<T>>) -> Self {
        debug_assert!(ranges.windows(2).all(|w| w[0].1 < w[1].0));
        let mut starts: Vec<T> = Vec::with_capacity(ranges.len() + WINDOW);
        starts.extend(ranges.iter().map(|r| r.0));
        let ends: Vec<T> = ranges.iter().map(|r| r.1).collect();
        let len = starts.len();
        let index = if len >= INDEX_MIN_RANGES && len < u32::MAX as usize {
            // index[b] = number of starts below the first address of bucket b,
            // so bucket b's starts are starts[index[b]..index[b + 1]].
            let mut index = Vec::with_capacity(BUCKETS + 1);
            let mut k = 0usize;
            for bucket in 0..BUCKETS {
                let base = T::bucket_base(bucket);
                while starts.get(k).is_some_and(|&s| s < base) {
                    k += 1;
                }
                index.push(k as u32);
            }
            index.push(len as u32);
            index
        } else {
            Vec::new()
        };
        // Padding so that a fixed-size window read never leaves the array.
        starts.resize(len + WINDOW, T::MAX);
        RangeTable { starts, ends, index }
    }

    /// The ranges, sorted and disjoint.
    pub(crate) fn iter(&self) -> impl ExactSizeIterator<Item = Span<T>> + '_ {
        self.starts[..self.ends.len()].iter().copied().zip(self.ends.iter().copied())
    }

    /// The ranges as one vector, for the set algebra.
    pub(crate) fn spans(&self) -> Vec<Span<T>> {
        self.iter().collect()
    }

    /// Number of ranges.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Heap bytes used by this table.
    pub(crate) fn memory_bytes(&self) -> usize {
        (self.starts.capacity() + self.ends.capacity()) * std::mem::size_of::<T>()
            + self.index.capacity() * std::mem::size_of::<u32>()
    }

    /// Position of the range holding `addr`, if any.
    #[inline]
    pub(crate) fn find(&self, addr: T) -> Option<usize> {
        let (lo, hi) = self.bucket(addr);
        self.find_in(addr, lo, hi)
    }

    /// Bounds `lo..hi` of the starts of `addr`'s bucket.
    #[inline(always)]
    fn bucket(&self, addr: T) -> (usize, usize) {
        if self.index.is_empty() {
            return (0, self.ends.len());
        }
        let bucket = addr.top16();
        match (self.index.get(bucket), self.index.get(bucket + 1)) {
            (Some(&lo), Some(&hi)) => (lo as usize, hi as usize),
            _ => (0, self.ends.len()),
        }
    }

    #[inline(always)]
    fn find_in(&self, addr: T, lo: usize, hi: usize) -> Option<usize> {
        // Starts before `lo` are all below `addr`'s bucket, hence <= addr.
        let count = if hi - lo <= WINDOW {
            match self.starts.get(lo..lo + WINDOW) {
                Some(window) => lo + count_window(window, hi - lo, addr),
                None => lo + count_le(self.starts.get(lo..hi)?, addr),
            }
        } else {
            lo + count_le(self.starts.get(lo..hi)?, addr)
        };
        let pos = count.checked_sub(1)?;
        let end = *self.ends.get(pos)?;
        (end >= addr).then_some(pos)
    }

    /// Looks up many addresses, writing `out[i] = find(addrs[i]).is_some()`.
    ///
    /// Processes addresses in groups of [`BATCH`]: first it reads every
    /// group member's bucket bounds and first start, independent loads that
    /// the CPU overlaps, then it runs the searches on warm cache lines. On
    /// large tables this hides most of the memory latency that one-at-a-time
    /// lookups pay in sequence.
    pub(crate) fn contains_many(&self, addrs: &[T], out: &mut [bool]) {
        let mut bounds = [(0usize, 0usize); BATCH];
        for (group, results) in addrs.chunks(BATCH).zip(out.chunks_mut(BATCH)) {
            let mut touch = 0usize;
            for (slot, &addr) in bounds.iter_mut().zip(group) {
                *slot = self.bucket(addr);
                // Touch the bucket's first start and the range before it.
                let start = self.starts.get(slot.0).copied();
                let end = self.ends.get(slot.0.saturating_sub(1)).copied();
                touch = touch.wrapping_add(usize::from(start == end));
            }
            std::hint::black_box(touch);
            for ((&addr, &(lo, hi)), result) in group.iter().zip(&bounds).zip(results.iter_mut()) {
                *result = self.find_in(addr, lo, hi).is_some();
            }
        }
    }
}

/// Addresses per group in [`RangeTable::contains_many`].
const BATCH: usize = 16;

/// Counts the starts `<= addr` among the first `len` of a fixed-size
/// window: a fixed trip count (no mispredicted loop exit) that the compiler
/// turns into a few vector compares.
#[inline(always)]
fn count_window<T: Bits>(window: &[T], len: usize, addr: T) -> usize {
    window.iter().take(WINDOW).enumerate().map(|(k, &s)| usize::from((s <= addr) & (k < len))).sum()
}

/// Number of starts in `slice` (sorted) that are `<= addr`.
///
/// Short slices are counted linearly without branches (the compiler
/// vectorises it); long ones use a branch-free binary search whose loop runs
/// `log2(len)` times whatever the data, so independent lookups overlap their
/// cache misses.
#[inline]
fn count_le<T: Bits>(slice: &[T], addr: T) -> usize {
    if slice.len() <= LINEAR_MAX {
        return slice.iter().map(|&s| usize::from(s <= addr)).sum();
    }
    let mut size = slice.len();
    let mut base = 0usize;
    while size > 1 {
        let half = size / 2;
        let mid = base + half;
        // In bounds: mid < base + size <= slice.len().
        base = if slice[mid] <= addr { mid } else { base };
        size -= half;
    }
    base + usize::from(slice[base] <= addr)
}
