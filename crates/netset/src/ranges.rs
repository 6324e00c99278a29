//! Linear-time algebra on sorted, disjoint, non-adjacent inclusive ranges.
//!
//! Every function here takes and returns ranges in *canonical form*: sorted
//! by start, with `start <= end`, and any two neighbours separated by at
//! least one address that is in neither (so adjacent ranges are merged).
//! Canonical form makes equal sets equal vectors, and lets each operation be
//! one merge-like pass over both inputs.

use crate::bits::Bits;

/// An inclusive range `(first, last)` with `first <= last`.
pub(crate) type Span<T> = (T, T);

/// Sorts and coalesces arbitrary ranges into canonical form.
///
/// Ranges with `first > last` are ignored (callers validate before).
pub(crate) fn normalize<T: Bits>(mut spans: Vec<Span<T>>) -> Vec<Span<T>> {
    spans.retain(|&(first, last)| first <= last);
    spans.sort_unstable();
    let mut out: Vec<Span<T>> = Vec::with_capacity(spans.len());
    for (first, last) in spans {
        push_coalesce(&mut out, first, last);
    }
    out.shrink_to_fit();
    out
}

/// [`normalize`] for IPv4: the same result, sorting the ranges packed as
/// `u64` keys (`first << 32 | last`, the same order as the tuples). One
/// integer compare per step instead of a tuple compare made the sort of
/// 1,000,000 random ranges about 2x cheaper under callgrind.
pub(crate) fn normalize_v4(spans: Vec<Span<u32>>) -> Vec<Span<u32>> {
    let mut keys: Vec<u64> = spans
        .iter()
        .filter(|&&(first, last)| first <= last)
        .map(|&(first, last)| (u64::from(first) << 32) | u64::from(last))
        .collect();
    drop(spans);
    keys.sort_unstable();
    let mut out: Vec<Span<u32>> = Vec::with_capacity(keys.len());
    for key in keys {
        push_coalesce(&mut out, (key >> 32) as u32, key as u32);
    }
    out.shrink_to_fit();
    out
}

/// Appends `[first, last]` to `out`, whose last range must start at or before
/// `first`, merging with it when they overlap or touch.
#[inline]
fn push_coalesce<T: Bits>(out: &mut Vec<Span<T>>, first: T, last: T) {
    if let Some(prev) = out.last_mut() {
        // Touching: prev.1 + 1 >= first, written without overflow.
        let touches = match prev.1.succ() {
            Some(next) => next >= first,
            None => true,
        };
        if touches {
            if last > prev.1 {
                prev.1 = last;
            }
            return;
        }
    }
    out.push((first, last));
}

/// `a ∪ b`.
pub(crate) fn union<T: Bits>(a: &[Span<T>], b: &[Span<T>]) -> Vec<Span<T>> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let take_a = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) => x.0 <= y.0,
            (Some(_), None) => true,
            _ => false,
        };
        let span = if take_a {
            i += 1;
            a[i - 1]
        } else {
            j += 1;
            b[j - 1]
        };
        push_coalesce(&mut out, span.0, span.1);
    }
    out
}

/// `a ∩ b`.
pub(crate) fn intersection<T: Bits>(a: &[Span<T>], b: &[Span<T>]) -> Vec<Span<T>> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while let (Some(x), Some(y)) = (a.get(i), b.get(j)) {
        let first = x.0.max(y.0);
        let last = x.1.min(y.1);
        if first <= last {
            out.push((first, last));
        }
        if x.1 < y.1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// `a \ b`: addresses in `a` and not in `b`.
pub(crate) fn difference<T: Bits>(a: &[Span<T>], b: &[Span<T>]) -> Vec<Span<T>> {
    let mut out = Vec::new();
    let mut j = 0;
    for &(first, last) in a {
        // Invariant: b[..j] ends before `first`.
        while b.get(j).is_some_and(|y| y.1 < first) {
            j += 1;
        }
        // `start` is the first address of [first, last] not yet decided;
        // `None` once the rest of this range is covered by `b`.
        let mut start = Some(first);
        while let (Some(from), Some(y)) = (start, b.get(j)) {
            if y.0 > last {
                break;
            }
            if y.0 > from {
                if let Some(before) = y.0.pred() {
                    out.push((from, before));
                }
            }
            if y.1 < last {
                // b[j] is used up; it cannot reach the next a-range.
                start = y.1.succ();
                j += 1;
            } else {
                // b[j] covers the rest and may overlap the next a-range.
                start = None;
            }
        }
        if let Some(from) = start {
            out.push((from, last));
        }
    }
    out
}

/// `(a \ b) ∪ (b \ a)`.
pub(crate) fn symmetric_difference<T: Bits>(a: &[Span<T>], b: &[Span<T>]) -> Vec<Span<T>> {
    let both = intersection(a, b);
    difference(&union(a, b), &both)
}

/// Number of addresses covered, saturating at `u128::MAX` (reachable only
/// with the whole IPv6 space, which holds `2^128` addresses).
pub(crate) fn count<T: Bits>(spans: impl Iterator<Item = Span<T>>) -> u128 {
    spans.fold(0u128, |acc, (first, last)| {
        let size = (last.to_u128() - first.to_u128()).saturating_add(1);
        acc.saturating_add(size)
    })
}
