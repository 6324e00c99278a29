//! Finding candidate addresses in one line exactly as grepcidr 2.0 does.
//!
//! grepcidr 2.0 (`scan_with_hints`) walks the line one byte at a time. At
//! position `p` it tries, in this order:
//!
//! 1. if the list has IPv4 patterns and `line[p]` is a digit with a `.` at
//!    `p+1`, `p+2` or `p+3` (the *IPv4 hint*): take the *field*, the longest
//!    run of `[0-9A-Za-z.]` starting at `p`; if it is at most 15 bytes and
//!    `inet_pton` accepts it, look it up; either way continue after the field;
//! 2. else if the list has IPv6 patterns and one of the *IPv6 hints* holds
//!    (`::` then a hex digit, or 1 to 4 hex digits then `:`): the same with
//!    fields of `[0-9A-Za-z:.]`, at most 45 bytes;
//! 3. else move to `p+1`.
//!
//! The line matches as soon as one parsed address is in the list. The left
//! edge of a field is never checked (`x1.2.3.4` matches `1.2.3.4`) while the
//! right edge is (`1.2.3.4x` and `1.2.3.4.5` do not match), and whether a
//! family has patterns changes how the line is cut into fields: with IPv6
//! patterns loaded, `ab:1.2.3.4` is one (invalid) IPv6 field and its IPv4
//! address is never seen.
//!
//! # Fast path, and why it finds the same candidates
//!
//! Every hint needs a *trigger* byte within `p..=p+4`: a `.` at `p+1..=p+3`
//! for IPv4, a `:` at `p..=p+4` for IPv6. So instead of testing every
//! position, [`for_each_candidate`] jumps with `memchr` to the next trigger
//! `t` and tests only positions `max(p, t-4)..=t`, in increasing order. The
//! first position where a hint holds is then the same one the byte loop
//! would reach: any earlier hint position would have its own trigger in the
//! window, which is before `t` (contradicting that `t` is the next trigger)
//! or in this window (where it is tested first). Positions before the window
//! have no trigger in reach and cannot hold a hint. Lines without `.` or `:`
//! cost one `memchr`.
//!
//! # Buffer-size quirk
//!
//! grepcidr bounds the walk by its line *buffer* (512 bytes, doubled as
//! long lines need) rather than by the line: positions `>= capacity - 5` are
//! never tested. This only matters for a line within 4 bytes of filling the
//! buffer, and only for IPv6 addresses of at most 4 characters (`::1`) in
//! its last bytes; [`crate::scanner`] tracks the capacity and passes the
//! resulting `limit`.

use crate::parse;

/// An address found in a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Candidate {
    /// An IPv4 address as a host-order integer.
    V4(u32),
    /// An IPv6 address as a host-order integer.
    V6(u128),
}

/// Which families the pattern list has (grepcidr only looks for those).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Families {
    pub(crate) v4: bool,
    pub(crate) v6: bool,
}

/// Byte classes, one table lookup instead of chains of comparisons.
const DIGIT: u8 = 1;
const HEX: u8 = 2;
const FIELD4: u8 = 4;
const FIELD6: u8 = 8;
const DOT: u8 = 16;
const COLON: u8 = 32;

const CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0usize;
    while b < 256 {
        let c = b as u8;
        let mut class = 0u8;
        if c.is_ascii_digit() {
            class |= DIGIT;
        }
        if c.is_ascii_hexdigit() {
            class |= HEX;
        }
        if c.is_ascii_alphanumeric() || c == b'.' {
            class |= FIELD4 | FIELD6;
        }
        if c == b':' {
            class |= FIELD6 | COLON;
        }
        if c == b'.' {
            class |= DOT;
        }
        table[b] = class;
        b += 1;
    }
    table
};

/// Class of the byte at `i`, or 0 past the end (grepcidr sees the newline
/// or the NUL there, which is in no class).
#[inline(always)]
fn class_at(line: &[u8], i: usize) -> u8 {
    match line.get(i) {
        Some(&b) => CLASS[b as usize],
        None => 0,
    }
}

#[inline(always)]
fn v4_hint(line: &[u8], p: usize) -> bool {
    class_at(line, p) & DIGIT != 0 && (class_at(line, p + 1) | class_at(line, p + 2) | class_at(line, p + 3)) & DOT != 0
}

#[inline(always)]
fn v6_hint(line: &[u8], p: usize) -> bool {
    let c0 = class_at(line, p);
    let c1 = class_at(line, p + 1);
    if c0 & COLON != 0 {
        return c1 & COLON != 0 && class_at(line, p + 2) & HEX != 0;
    }
    if c0 & HEX == 0 {
        return false;
    }
    // 1 to 4 hex digits, then a colon.
    if c1 & COLON != 0 {
        return true;
    }
    if c1 & HEX == 0 {
        return false;
    }
    let c2 = class_at(line, p + 2);
    if c2 & COLON != 0 {
        return true;
    }
    if c2 & HEX == 0 {
        return false;
    }
    let c3 = class_at(line, p + 3);
    if c3 & COLON != 0 {
        return true;
    }
    c3 & HEX != 0 && class_at(line, p + 4) & COLON != 0
}

/// Length of the run of bytes of class `field` starting at `p`.
#[inline(always)]
fn field_len(line: &[u8], p: usize, field: u8) -> usize {
    line[p..].iter().position(|&b| CLASS[b as usize] & field == 0).unwrap_or(line.len() - p)
}

/// Calls `found(candidate, start..end)` for each address grepcidr would
/// parse in `line` (without its newline), in order, testing only positions
/// below `limit`.
#[inline]
pub(crate) fn for_each_candidate(
    line: &[u8],
    limit: usize,
    families: Families,
    mut found: impl FnMut(Candidate, usize, usize),
) {
    let limit = limit.min(line.len());
    let triggers = if families.v4 { DOT } else { 0 } | if families.v6 { COLON } else { 0 };
    if triggers == 0 {
        return;
    }
    let mut triggers = TriggerMask::new(line, families);
    let mut p = 0usize;
    while p < limit {
        // Jump to the next trigger; no hint can hold before `trigger - 4`.
        let Some(trigger) = triggers.next_at_or_after(p) else {
            return;
        };
        p = p.max(trigger.saturating_sub(4));
        let window_end = trigger.min(limit.saturating_sub(1));
        let mut advanced = false;
        while p <= window_end {
            if families.v4 && v4_hint(line, p) {
                let len = field_len(line, p, FIELD4);
                // A dotted quad is 7 to 15 bytes: shorter fields (version
                // numbers such as `5.0`) cannot parse, so skip the parser.
                if (7..=15).contains(&len) {
                    if let Some(addr) = parse::ipv4(&line[p..p + len]) {
                        found(Candidate::V4(addr), p, p + len);
                    }
                }
                p += len.max(1);
                advanced = true;
                break;
            }
            if families.v6 && v6_hint(line, p) {
                let len = field_len(line, p, FIELD6);
                if len <= 45 {
                    if let Some(addr) = parse::ipv6(&line[p..p + len]) {
                        found(Candidate::V6(addr), p, p + len);
                    }
                }
                p += len.max(1);
                advanced = true;
                break;
            }
            p += 1;
        }
        if !advanced {
            // No hint in the window: resume after the trigger.
            p = p.max(trigger + 1);
        }
    }
}

/// Bit `i` of the result is set when `block[i] == byte`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn eq_mask(block: &[u8; 64], byte: u8) -> u64 {
    use core::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
    // SAFETY: SSE2 is part of the x86_64 baseline, so these intrinsics are
    // available on every x86_64 CPU. Each `lane` is 16 readable bytes
    // (`chunks_exact(16)`), and `_mm_loadu_si128` has no alignment
    // requirement.
    unsafe {
        let needle = _mm_set1_epi8(byte as i8);
        let mut mask = 0u64;
        for (k, lane) in block.chunks_exact(16).enumerate() {
            let bytes = _mm_loadu_si128(lane.as_ptr().cast::<__m128i>());
            let hits = _mm_movemask_epi8(_mm_cmpeq_epi8(bytes, needle)) as u32 as u64;
            mask |= (hits & 0xffff) << (16 * k);
        }
        mask
    }
}

/// Bit `i` of the result is set when `block[i] == byte` (portable form).
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn eq_mask(block: &[u8; 64], byte: u8) -> u64 {
    block.iter().enumerate().fold(0u64, |mask, (i, &b)| mask | (u64::from(b == byte) << i))
}

/// Positions of the trigger bytes (`.` when IPv4 is searched, `:` when
/// IPv6 is) of a line, found 64 bytes at a time as a bit mask.
///
/// Triggers are dense in logs (dots in versions, colons in times), so
/// restarting `memchr2` at each one costs more than it saves, and a
/// byte-at-a-time table scan costs a load and a test per byte (about 8
/// instructions per byte under callgrind, and a plain fixed-size loop was
/// not vectorised). A 64-byte block is classified with SSE2 compares and
/// byte-mask extraction (12 compares for 64 bytes); the triggers of the
/// block are then read off with `trailing_zeros`.
struct TriggerMask<'a> {
    line: &'a [u8],
    dot: bool,
    colon: bool,
    /// Offset of the block `mask` describes (a multiple of 64).
    base: usize,
    /// Bit `i` set: `line[base + i]` is a trigger.
    mask: u64,
}

impl<'a> TriggerMask<'a> {
    fn new(line: &'a [u8], families: Families) -> Self {
        let mut triggers = TriggerMask { line, dot: families.v4, colon: families.v6, base: 0, mask: 0 };
        triggers.mask = triggers.block_mask(0);
        triggers
    }

    /// The trigger mask of the 64 bytes at `base` (bytes past the end are
    /// not triggers).
    #[inline]
    fn block_mask(&self, base: usize) -> u64 {
        let rest = self.line.get(base..).unwrap_or(&[]);
        let mut block = [0u8; 64];
        match rest.get(..64) {
            Some(full) => block.copy_from_slice(full),
            None => block[..rest.len()].copy_from_slice(rest),
        }
        // 0 is never a trigger (it pads the block); a family that is not
        // searched uses 0 too.
        let dot = if self.dot { b'.' } else { 0 };
        let colon = if self.colon { b':' } else { 0 };
        let (dot_mask, colon_mask) = (eq_mask(&block, dot), eq_mask(&block, colon));
        let zero_mask = eq_mask(&block, 0);
        (dot_mask | colon_mask) & !zero_mask
    }

    /// The first trigger at or after `p`, if any.
    #[inline]
    fn next_at_or_after(&mut self, p: usize) -> Option<usize> {
        if p >= self.base + 64 {
            self.base = p & !63;
            self.mask = self.block_mask(self.base);
        }
        // Bits below `p` are positions already passed. `p` may lie before
        // `base` (a window starts up to 4 bytes before its trigger), but
        // then no trigger lies in `p..base`: the blocks were skipped as empty.
        let mut mask = self.mask & (u64::MAX << p.saturating_sub(self.base));
        while mask == 0 {
            self.base += 64;
            if self.base >= self.line.len() {
                return None;
            }
            self.mask = self.block_mask(self.base);
            mask = self.mask;
        }
        Some(self.base + mask.trailing_zeros() as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidates(line: &str, v4: bool, v6: bool) -> Vec<String> {
        let mut out = Vec::new();
        for_each_candidate(line.as_bytes(), usize::MAX, Families { v4, v6 }, |c, s, e| {
            out.push(format!(
                "{}@{s}..{e}",
                match c {
                    Candidate::V4(a) => std::net::Ipv4Addr::from(a).to_string(),
                    Candidate::V6(a) => std::net::Ipv6Addr::from(a).to_string(),
                }
            ));
        });
        out
    }

    #[test]
    fn grepcidr_cases() {
        assert_eq!(candidates("x1.2.3.4", true, false), ["1.2.3.4@1..8"]);
        assert_eq!(candidates("1111.2.3.4", true, false), ["111.2.3.4@1..10"]);
        assert!(candidates("1.2.3.4.5", true, false).is_empty());
        assert!(candidates("1.2.3.4x", true, false).is_empty());
        assert_eq!(candidates("ab:1.2.3.4", true, false), ["1.2.3.4@3..10"]);
        assert!(candidates("ab:1.2.3.4", true, true).is_empty());
        assert_eq!(candidates("[1.2.3.4]:443", true, true), ["1.2.3.4@1..8"]);
        assert_eq!(candidates("abcd2001:db8::1", false, true), ["2001:db8::1@4..15"]);
        assert_eq!(candidates("x ::1", false, true), ["::1@2..5"]);
        assert!(candidates("a::1", false, true).contains(&"a::1@0..4".to_string()));
        assert_eq!(candidates("10:20:30 1.2.3.4", true, true), ["1.2.3.4@9..16"]);
    }
}
