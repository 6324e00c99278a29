//! [`V4Lookup`]: the IPv4 membership index of [`crate::IpSet`], built for
//! lookup speed alone (the canonical ranges stay in a
//! [`crate::table::RangeTable`] for the set algebra and printing).
//!
//! # Layout and why
//!
//! The canonical ranges are cut at every `/16` boundary into *pieces*, so
//! each piece lies inside one first-level bucket (the top 16 bits). Inside a
//! bucket only the low 16 bits of a piece's ends differ, so a piece costs two
//! `u16`s instead of two `u32`s, and no lookup ever needs the range *before*
//! its bucket (the generic table has to read `ranges[index[b] - 1]`, another
//! cache line). Cutting adds at most one piece per bucket crossed: at most
//! 65,536 more pieces, whatever the input.
//!
//! A bucket's starts and ends sit next to each other in one array (its `n`
//! starts, then its `n` ends), so a lookup reads one contiguous region:
//! one `u32` pair from `offsets` (256 KiB, stays in L2), a fixed 32-wide
//! count of the bucket's starts `<= addr` with SSE2, and the one end after
//! them. With 1,000,000 random entries a bucket holds about 15 pieces: 60
//! bytes, one or two cache lines on the same page. Keeping starts and ends
//! in two arrays (the first version) cost a second cache and TLB miss per
//! lookup: 28–37 M batched lookups/s against 51–56 M/s with one region, and
//! 59–70 M/s once the window count packed its compares into one mask (see
//! `count_window`). Buckets longer than the window use a branch-free binary
//! search.
//!
//! Measured on the 2-core AMD EPYC VM of issue 3 (no huge pages, so a
//! random access to a multi-MiB array also costs a TLB miss: about 120 ns
//! dependent, 7 ns when independent accesses overlap), the lookup time is
//! set by memory-level parallelism, not by instructions: see
//! [`V4Lookup::contains_many`] for the batched form that prefetches.
//! (Asking for transparent huge pages with `madvise` was tried: the kernel
//! granted one 2 MiB page of the two needed, so it was not kept.)

use crate::ranges::Span;

/// Number of first-level buckets (top 16 bits of the address).
const BUCKETS: usize = 1 << 16;

/// Starts counted in one fixed-size window; `pieces` is padded by this
/// much so the window never runs off the end.
const WINDOW: usize = 32;

/// Lookups per group in [`V4Lookup::contains_many`]. 32 groups of
/// prefetches keep about 32–64 cache lines in flight, more than the core
/// can track, so the later ones queue instead of being dropped.
const BATCH: usize = 32;

/// IPv4 membership index (see the module docs). Invariant: `offsets` has
/// `BUCKETS + 1` non-decreasing entries, the last being the number of
/// pieces; bucket `b`'s pieces are `offsets[b]..offsets[b + 1]`, sorted and
/// disjoint. In `pieces`, bucket `b` occupies `2 * offsets[b]..2 *
/// offsets[b + 1]`: its `n` starts, then its `n` ends, with `start <= end`;
/// `WINDOW` padding entries follow the last bucket.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct V4Lookup {
    offsets: Vec<u32>,
    pieces: Vec<u16>,
}

impl V4Lookup {
    /// Builds the index from canonical (sorted, disjoint) IPv4 ranges.
    /// Returns `None` if there would be `u32::MAX / 2` pieces or more.
    pub(crate) fn new(ranges: &[Span<u32>]) -> Option<Self> {
        debug_assert!(ranges.windows(2).all(|w| w[0].1 < w[1].0));
        let mut offsets = Vec::with_capacity(BUCKETS + 1);
        let mut pieces: Vec<u16> = Vec::with_capacity(2 * ranges.len() + WINDOW);
        // The current bucket's ends, appended after its starts when the
        // next bucket begins.
        let mut ends: Vec<u16> = Vec::new();
        let mut bucket = 0usize; // next bucket whose offset is not yet pushed
        for &(first, last) in ranges {
            let (first_bucket, last_bucket) = ((first >> 16) as usize, (last >> 16) as usize);
            for b in first_bucket..=last_bucket {
                while bucket <= b {
                    pieces.append(&mut ends);
                    offsets.push(u32::try_from(pieces.len() / 2).ok()?);
                    bucket += 1;
                }
                pieces.push(if b == first_bucket { first as u16 } else { 0 });
                ends.push(if b == last_bucket { last as u16 } else { u16::MAX });
            }
        }
        pieces.append(&mut ends);
        let total = u32::try_from(pieces.len() / 2).ok().filter(|&n| n < u32::MAX / 2)?;
        offsets.resize(BUCKETS + 1, total);
        pieces.resize(pieces.len() + WINDOW, u16::MAX);
        pieces.shrink_to_fit();
        Some(V4Lookup { offsets, pieces })
    }

    /// Heap bytes used.
    pub(crate) fn memory_bytes(&self) -> usize {
        self.offsets.capacity() * 4 + self.pieces.capacity() * 2
    }

    /// Where `addr`'s bucket starts in `pieces`, and its number of pieces.
    #[inline(always)]
    fn bucket(&self, addr: u32) -> (usize, usize) {
        let b = (addr >> 16) as usize;
        match (self.offsets.get(b), self.offsets.get(b + 1)) {
            (Some(&lo), Some(&hi)) => (2 * lo as usize, (hi - lo) as usize),
            _ => (0, 0),
        }
    }

    /// Whether `addr` is in the set.
    #[inline]
    pub(crate) fn contains(&self, addr: u32) -> bool {
        let (at, len) = self.bucket(addr);
        contains_in(&self.pieces, addr as u16, at, len)
    }

    /// Looks up many addresses: `out[i] = contains(addrs[i])` for
    /// `i < min(addrs.len(), out.len())`.
    ///
    /// Works in groups of [`BATCH`]: first every member's bucket bounds are
    /// read (L2 hits) and the cache lines its search will read are
    /// prefetched, then the searches run. A single lookup waits for about
    /// two dependent misses; here the misses of a whole group overlap.
    pub(crate) fn contains_many(&self, addrs: &[u32], out: &mut [bool]) {
        let mut bounds = [(0usize, 0usize); BATCH];
        let pieces: &[u16] = &self.pieces;
        for (group, results) in addrs.chunks(BATCH).zip(out.chunks_mut(BATCH)) {
            for (slot, &addr) in bounds.iter_mut().zip(group) {
                *slot = self.bucket(addr);
                let (at, len) = *slot;
                prefetch(pieces, at);
                prefetch(pieces, (at + 2 * len.min(WINDOW)).saturating_sub(1));
            }
            for ((&addr, &(at, len)), result) in group.iter().zip(&bounds).zip(results.iter_mut()) {
                *result = contains_in(pieces, addr as u16, at, len);
            }
        }
    }
}

/// Whether the low half `low` of an address is in the bucket at `at` of
/// `pieces` with `len` pieces.
#[inline(always)]
fn contains_in(pieces: &[u16], low: u16, at: usize, len: usize) -> bool {
    debug_assert!(at + 2 * len + WINDOW <= pieces.len());
    // Pieces before `at` belong to lower buckets: the count is local.
    let count = match pieces.get(at..at + WINDOW) {
        Some(window) if len <= WINDOW => count_window(window, len, low),
        _ => count_le(pieces.get(at..at + len).unwrap_or(&[]), low),
    };
    // The only piece that can hold `low` is the last one starting at or
    // below it; pieces are disjoint.
    match count.checked_sub(1) {
        Some(last) => pieces.get(at + len + last).is_some_and(|&end| end >= low),
        None => false,
    }
}

/// Hints the CPU to fetch the cache line of `slice[index]` (no-op when out
/// of bounds or on other architectures).
#[inline(always)]
fn prefetch(slice: &[u16], index: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(item) = slice.get(index) {
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: `_mm_prefetch` only hints the cache and never faults or
        // reads into the program; the pointer comes from a live reference.
        // SSE is part of the x86_64 baseline.
        unsafe { _mm_prefetch::<_MM_HINT_T0>((item as *const u16).cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (slice, index);
}

/// Counts the starts `<= low` among the first `len` of a fixed-size window
/// with SSE2: 4 compares, 2 packs and 2 mask extractions give one bit per
/// start that is above `low`; the first `len` bits' zeros are the count.
///
/// A plain Rust loop over the window was not vectorised (about 200
/// instructions per lookup under callgrind, `u16` or `usize` lanes alike);
/// a first SSE2 form that also compared lane indexes with `len` was about
/// 40; this one is about half that.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn count_window(window: &[u16], len: usize, low: u16) -> usize {
    use core::arch::x86_64::{
        __m128i, _mm_cmpgt_epi16, _mm_loadu_si128, _mm_movemask_epi8, _mm_packs_epi16, _mm_set1_epi16, _mm_xor_si128,
    };
    debug_assert!(len <= WINDOW);
    let Ok(window) = <&[u16; WINDOW]>::try_from(window) else {
        return count_le(window.get(..len).unwrap_or(window), low);
    };
    // SAFETY: SSE2 is part of the x86_64 baseline. Each load reads 8
    // `u16`s (16 bytes) at offsets 0, 8, 16 and 24 of a `[u16; 32]`, and
    // `_mm_loadu_si128` has no alignment requirement.
    let above = unsafe {
        // SSE2 compares only signed 16-bit lanes: flipping the top bit of
        // both sides maps unsigned order onto signed order.
        let flip = _mm_set1_epi16(i16::MIN);
        let key = _mm_set1_epi16((low ^ 0x8000) as i16);
        let ptr = window.as_ptr().cast::<__m128i>();
        let gt = |k: usize| _mm_cmpgt_epi16(_mm_xor_si128(_mm_loadu_si128(ptr.add(k)), flip), key);
        // Packing keeps each lane's 0 or -1 and halves its width: one
        // mask bit per start.
        let first = _mm_movemask_epi8(_mm_packs_epi16(gt(0), gt(1))) as u32;
        let second = _mm_movemask_epi8(_mm_packs_epi16(gt(2), gt(3))) as u32;
        first | (second << 16)
    };
    let in_bucket = ((1u64 << len) - 1) as u32;
    (!above & in_bucket).count_ones() as usize
}

/// Counts the starts `<= low` among the first `len` of the window
/// (portable form).
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn count_window(window: &[u16], len: usize, low: u16) -> usize {
    window.iter().take(len).map(|&s| usize::from(s <= low)).sum()
}

/// Number of starts in the sorted `slice` that are `<= low`, by a
/// branch-free binary search (`log2(len)` steps whatever the data).
#[inline]
fn count_le(slice: &[u16], low: u16) -> usize {
    if slice.is_empty() {
        return 0;
    }
    let mut size = slice.len();
    let mut base = 0usize;
    while size > 1 {
        let half = size / 2;
        let mid = base + half;
        base = if slice.get(mid).is_some_and(|&s| s <= low) { mid } else { base };
        size -= half;
    }
    base + usize::from(slice.get(base).is_some_and(|&s| s <= low))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(ranges: &[Span<u32>], addr: u32) -> bool {
        ranges.iter().any(|&(a, b)| a <= addr && addr <= b)
    }

    #[test]
    fn pieces_are_cut_at_buckets_and_found() {
        let mut ranges: Vec<Span<u32>> = vec![(5, 5), (0xffff, 0x1_0001), (0x2_fff0, 0x5_0010)];
        // A crowded bucket, longer than the window: binary-search path.
        ranges.extend((0..100u32).map(|k| (0x7_0000 + 4 * k, 0x7_0000 + 4 * k + 1)));
        ranges.push((0xffff_fff0, u32::MAX));
        let lookup = V4Lookup::new(&ranges).expect("small");
        let mut probes: Vec<u32> =
            ranges.iter().flat_map(|&(a, b)| [a, b, a.wrapping_sub(1), b.wrapping_add(1)]).collect();
        probes.extend([0, 1, 0x3_0000, 0x4_ffff, 0x7_0190, 0x7_018f, u32::MAX - 16]);
        let mut many = vec![false; probes.len()];
        lookup.contains_many(&probes, &mut many);
        for (&addr, &batched) in probes.iter().zip(&many) {
            assert_eq!(lookup.contains(addr), naive(&ranges, addr), "{addr:#x}");
            assert_eq!(batched, naive(&ranges, addr), "{addr:#x}");
        }
        let full = V4Lookup::new(&[(0, u32::MAX)]).expect("full");
        assert!(full.contains(0) && full.contains(u32::MAX) && full.contains(0x1234_5678));
        let empty = V4Lookup::new(&[]).expect("empty");
        assert!(!empty.contains(0) && !empty.contains(u32::MAX));
    }
}
