//! The persisted form of [`IpSet`] and [`IpMap`]: their compiled layout as
//! bytes, read back without sorting, sweeping or interning anything.
//!
//! A layout is a header, a body and a checksum:
//!
//! ```text
//! magic "cdnnset\0" | version u32 | kind u32 (1 set, 2 map) | body | checksum u64
//! ```
//!
//! all integers little-endian. A set's body is its canonical ranges, IPv4
//! then IPv6 (`count u64`, then `first, last` per range). A map's body is
//! its entries' ranges (`count u64`, then per entry a family byte, `first`
//! and `last`), its IPv4 and IPv6 pieces (`count u64`, then `first, last,
//! cover list u32`), and its cover lists (`count u64` of offsets, the
//! offsets, `count u64` of ids, the ids). Values are not stored: a map reads
//! back as an `IpMap<()>` whose entry ids are the ones it was built with.
//!
//! Reading checks everything a lookup relies on before it builds anything:
//! the magic, version and kind, the checksum of all bytes before it, that
//! every count fits the bytes that are there, that ranges and pieces are
//! sorted and disjoint, that cover lists and entry ids point inside their
//! arrays. A truncated, damaged or foreign file is a [`LayoutError`], never
//! a panic or an out-of-bounds read; the bucket indexes are derived data and
//! are rebuilt on reading (linear, not stored).

use std::io::Write;

use crate::bits::Bits;
use crate::map::{IpMap, Pieces};
use crate::range::{Bounds, IpRange};
use crate::ranges::Span;
use crate::set::IpSet;
use crate::table::RangeTable;

/// The first bytes of every layout.
const MAGIC: [u8; 8] = *b"cdnnset\0";
/// The layout version this build writes and reads.
const VERSION: u32 = 1;
/// Magic, version and kind.
const HEADER_BYTES: usize = 16;
/// The trailing checksum.
const CHECKSUM_BYTES: usize = 8;

/// What a layout holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LayoutKind {
    Set = 1,
    Map = 2,
}

/// Why bytes could not be read back as a set or map.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LayoutError {
    /// The bytes do not start with the layout's magic: not a netset layout.
    #[error("not a netset layout (no magic header)")]
    Foreign,
    /// Written by a build with another layout version.
    #[error("netset layout version {found}, this build reads version {VERSION}")]
    Version {
        /// The version the bytes carry.
        found: u32,
    },
    /// A set where a map was expected, or the other way round.
    #[error("netset layout of the wrong kind ({found}, expected {expected})")]
    Kind {
        /// The kind the bytes carry.
        found: u32,
        /// The kind asked for.
        expected: u32,
    },
    /// Fewer bytes than the header, a count or the checksum needs.
    #[error("netset layout truncated")]
    Truncated,
    /// The checksum does not match the bytes.
    #[error("netset layout damaged (checksum mismatch)")]
    Checksum,
    /// The checksum matches but the content breaks an invariant.
    #[error("netset layout inconsistent: {0}")]
    Inconsistent(&'static str),
}

impl IpSet {
    /// Writes the set's layout (see the module docs of `layout.rs`): its
    /// canonical ranges, 8 bytes per IPv4 range and 32 per IPv6 range, plus
    /// 32 bytes of header and checksum.
    pub fn write_layout(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let mut body = header(LayoutKind::Set);
        put_spans(&mut body, self.v4.iter());
        put_spans(&mut body, self.v6.iter());
        finish(body, out)
    }

    /// Reads a set written by [`IpSet::write_layout`]; equal to the set
    /// that was written.
    pub fn from_layout(bytes: &[u8]) -> Result<IpSet, LayoutError> {
        let mut body = open(bytes, LayoutKind::Set)?;
        let v4 = canonical(body.spans::<u32>()?)?;
        let v6 = canonical(body.spans::<u128>()?)?;
        body.end()?;
        Ok(IpSet::from_spans(v4, v6))
    }
}

impl<V> IpMap<V> {
    /// Writes the map's compiled layout (see the module docs of
    /// `layout.rs`): entry ranges, pieces and cover lists, not the values.
    pub fn write_layout(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let mut body = header(LayoutKind::Map);
        put_u64(&mut body, self.entries.len());
        for (range, _) in &self.entries {
            match range.bounds() {
                Bounds::V4(first, last) => {
                    body.push(4);
                    put_bits(&mut body, first);
                    put_bits(&mut body, last);
                }
                Bounds::V6(first, last) => {
                    body.push(6);
                    put_bits(&mut body, first);
                    put_bits(&mut body, last);
                }
            }
        }
        put_pieces(&mut body, &self.v4);
        put_pieces(&mut body, &self.v6);
        put_u64(&mut body, self.cover_offsets.len());
        self.cover_offsets.iter().for_each(|&o| put_bits(&mut body, o));
        put_u64(&mut body, self.cover_ids.len());
        self.cover_ids.iter().for_each(|&id| put_bits(&mut body, id));
        finish(body, out)
    }
}

impl IpMap<()> {
    /// Reads a map written by [`IpMap::write_layout`]: it answers
    /// [`IpMap::covering`] and [`IpMap::entry`] exactly as the written map,
    /// with `()` for values.
    pub fn from_layout(bytes: &[u8]) -> Result<IpMap<()>, LayoutError> {
        let mut body = open(bytes, LayoutKind::Map)?;
        let count = body.count(1)?;
        let mut entries = Vec::with_capacity(count);
        for _ in 0..count {
            let range = match body.take(1)? {
                [4] => IpRange::v4(body.bits()?, body.bits()?),
                [6] => IpRange::v6(body.bits()?, body.bits()?),
                _ => return Err(LayoutError::Inconsistent("entry of no family")),
            };
            if range.first() > range.last() {
                return Err(LayoutError::Inconsistent("entry ends before it starts"));
            }
            entries.push((range, ()));
        }
        let v4 = body.pieces::<u32>()?;
        let v6 = body.pieces::<u128>()?;
        let offsets_count = body.count(4)?;
        let cover_offsets = (0..offsets_count).map(|_| body.bits::<u32>()).collect::<Result<Vec<_>, _>>()?;
        let ids_count = body.count(4)?;
        let cover_ids = (0..ids_count).map(|_| body.bits::<u32>()).collect::<Result<Vec<_>, _>>()?;
        body.end()?;
        let lists_ok = cover_offsets.first() == Some(&0)
            && cover_offsets.windows(2).all(|w| w[0] <= w[1])
            && cover_offsets.last().is_some_and(|&last| last as usize == cover_ids.len());
        if !lists_ok {
            return Err(LayoutError::Inconsistent("cover list offsets"));
        }
        if cover_ids.iter().any(|&id| id as usize >= entries.len()) {
            return Err(LayoutError::Inconsistent("cover list names a missing entry"));
        }
        let lists = cover_offsets.len() - 1;
        if v4.cover.iter().chain(&v6.cover).any(|&c| c as usize >= lists) {
            return Err(LayoutError::Inconsistent("piece names a missing cover list"));
        }
        Ok(IpMap { entries, v4, v6, cover_offsets, cover_ids })
    }
}

/// A new body: the header of `kind`.
fn header(kind: LayoutKind) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&MAGIC);
    body.extend_from_slice(&VERSION.to_le_bytes());
    body.extend_from_slice(&(kind as u32).to_le_bytes());
    body
}

/// Appends the checksum and writes the whole layout.
fn finish(mut body: Vec<u8>, out: &mut dyn Write) -> std::io::Result<()> {
    let sum = checksum(&body);
    body.extend_from_slice(&sum.to_le_bytes());
    out.write_all(&body)
}

fn put_u64(body: &mut Vec<u8>, n: usize) {
    body.extend_from_slice(&(n as u64).to_le_bytes());
}

/// Appends an address integer in its width (4 or 16 bytes).
fn put_bits<T: Bits>(body: &mut Vec<u8>, value: T) {
    let width = T::WIDTH as usize / 8;
    body.extend_from_slice(&value.to_u128().to_le_bytes()[..width]);
}

fn put_spans<T: Bits>(body: &mut Vec<u8>, spans: impl ExactSizeIterator<Item = Span<T>>) {
    put_u64(body, spans.len());
    for (first, last) in spans {
        put_bits(body, first);
        put_bits(body, last);
    }
}

fn put_pieces<T: Bits>(body: &mut Vec<u8>, pieces: &Pieces<T>) {
    put_u64(body, pieces.table.len());
    for ((first, last), &cover) in pieces.table.iter().zip(&pieces.cover) {
        put_bits(body, first);
        put_bits(body, last);
        put_bits(body, cover);
    }
}

/// Checks the header and checksum of `bytes` and returns a reader over the
/// body.
fn open(bytes: &[u8], expected: LayoutKind) -> Result<Body<'_>, LayoutError> {
    if bytes.get(..MAGIC.len()) != Some(&MAGIC[..]) {
        return Err(LayoutError::Foreign);
    }
    let word = |at: usize| -> Result<u32, LayoutError> {
        let mut raw = [0u8; 4];
        raw.copy_from_slice(bytes.get(at..at + 4).ok_or(LayoutError::Truncated)?);
        Ok(u32::from_le_bytes(raw))
    };
    let found = word(8)?;
    if found != VERSION {
        return Err(LayoutError::Version { found });
    }
    let kind = word(12)?;
    if kind != expected as u32 {
        return Err(LayoutError::Kind { found: kind, expected: expected as u32 });
    }
    let split =
        bytes.len().checked_sub(CHECKSUM_BYTES).filter(|&at| at >= HEADER_BYTES).ok_or(LayoutError::Truncated)?;
    let (covered, stored) = bytes.split_at(split);
    let mut raw = [0u8; 8];
    raw.copy_from_slice(stored);
    if u64::from_le_bytes(raw) != checksum(covered) {
        return Err(LayoutError::Checksum);
    }
    Ok(Body { rest: &covered[HEADER_BYTES..] })
}

/// A cursor over a layout's body; every read is checked against what is
/// left.
struct Body<'a> {
    rest: &'a [u8],
}

impl<'a> Body<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], LayoutError> {
        if n > self.rest.len() {
            return Err(LayoutError::Truncated);
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    /// A count of items of at least `item_bytes` each, checked against the
    /// bytes left so a damaged count never reserves memory it cannot fill.
    fn count(&mut self, item_bytes: usize) -> Result<usize, LayoutError> {
        let mut raw = [0u8; 8];
        raw.copy_from_slice(self.take(8)?);
        let count = usize::try_from(u64::from_le_bytes(raw)).map_err(|_| LayoutError::Truncated)?;
        match count.checked_mul(item_bytes) {
            Some(bytes) if bytes <= self.rest.len() => Ok(count),
            _ => Err(LayoutError::Truncated),
        }
    }

    fn bits<T: Bits>(&mut self) -> Result<T, LayoutError> {
        let width = T::WIDTH as usize / 8;
        let mut raw = [0u8; 16];
        raw[..width].copy_from_slice(self.take(width)?);
        Ok(T::from_u128(u128::from_le_bytes(raw)))
    }

    fn spans<T: Bits>(&mut self) -> Result<Vec<Span<T>>, LayoutError> {
        let count = self.count(2 * T::WIDTH as usize / 8)?;
        (0..count).map(|_| Ok((self.bits()?, self.bits()?))).collect()
    }

    /// Pieces: sorted, disjoint ranges, each with its cover list.
    fn pieces<T: Bits>(&mut self) -> Result<Pieces<T>, LayoutError> {
        let count = self.count(2 * T::WIDTH as usize / 8 + 4)?;
        let mut spans = Vec::with_capacity(count);
        let mut cover = Vec::with_capacity(count);
        for _ in 0..count {
            spans.push((self.bits::<T>()?, self.bits::<T>()?));
            cover.push(self.bits::<u32>()?);
        }
        let sorted = spans.iter().all(|s| s.0 <= s.1) && spans.windows(2).all(|w| w[0].1 < w[1].0);
        if !sorted {
            return Err(LayoutError::Inconsistent("pieces out of order"));
        }
        Ok(Pieces { table: RangeTable::new(spans), cover })
    }

    fn end(&self) -> Result<(), LayoutError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(LayoutError::Inconsistent("bytes after the last section"))
        }
    }
}

/// Checks canonical form: every range ordered, neighbours separated by at
/// least one address (what [`IpSet`]'s algebra assumes).
fn canonical<T: Bits>(spans: Vec<Span<T>>) -> Result<Vec<Span<T>>, LayoutError> {
    let ordered =
        spans.iter().all(|s| s.0 <= s.1) && spans.windows(2).all(|w| w[0].1.succ().is_some_and(|next| next < w[1].0));
    if ordered {
        Ok(spans)
    } else {
        Err(LayoutError::Inconsistent("set ranges not canonical"))
    }
}

/// A 64-bit checksum of `bytes`, eight bytes a step (a multiply and a
/// rotate each: about a millisecond for 10 MB). It detects truncation and
/// damage, not forgery: whoever can write the file can write the store.
fn checksum(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut hash = K ^ bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    let mut mix = |word: u64| hash = (hash ^ word).wrapping_mul(K).rotate_left(31);
    for chunk in &mut chunks {
        let mut raw = [0u8; 8];
        raw.copy_from_slice(chunk);
        mix(u64::from_le_bytes(raw));
    }
    let mut tail = [0u8; 8];
    tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    mix(u64::from_le_bytes(tail));
    hash
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IpMapBuilder;
    use ipnet::IpNet;
    use proptest::prelude::*;

    fn sample_map() -> IpMap<u32> {
        let mut builder = IpMapBuilder::new();
        for (i, net) in
            ["10.0.0.0/8", "10.1.0.0/16", "10.1.2.3/32", "2001:db8::/32", "2001:db8::/48"].iter().enumerate()
        {
            builder.insert(net.parse::<IpNet>().expect("test network"), i as u32);
        }
        builder.build()
    }

    fn bytes_of_map(map: &IpMap<u32>) -> Vec<u8> {
        let mut bytes = Vec::new();
        map.write_layout(&mut bytes).expect("writing to a vector");
        bytes
    }

    #[test]
    fn a_map_reads_back_with_its_entry_ids() {
        let map = sample_map();
        let loaded = IpMap::from_layout(&bytes_of_map(&map)).expect("reads back");
        for addr in ["10.1.2.3", "10.1.9.9", "10.200.0.1", "11.0.0.0", "2001:db8::1", "2001:db8:1::1"] {
            let addr = addr.parse().expect("test address");
            assert_eq!(loaded.covering(addr), map.covering(addr), "{addr}");
        }
        assert_eq!(loaded.entry(2).map(|(r, _)| *r), map.entry(2).map(|(r, _)| *r));
    }

    #[test]
    fn foreign_truncated_and_damaged_bytes_are_errors() {
        let bytes = bytes_of_map(&sample_map());
        assert_eq!(IpMap::from_layout(b"cordon-lookup-snapshot v2\n").err(), Some(LayoutError::Foreign));
        assert_eq!(IpSet::from_layout(&bytes).err(), Some(LayoutError::Kind { found: 2, expected: 1 }));
        let mut newer = bytes.clone();
        newer[8] = 9;
        assert_eq!(IpMap::from_layout(&newer).err(), Some(LayoutError::Version { found: 9 }));
        assert_eq!(IpMap::from_layout(&bytes[..bytes.len() - 1]).err(), Some(LayoutError::Checksum));
        assert_eq!(IpMap::from_layout(&bytes[..12]).err(), Some(LayoutError::Truncated));
        let mut flipped = bytes.clone();
        flipped[40] ^= 0x10;
        assert_eq!(IpMap::from_layout(&flipped).err(), Some(LayoutError::Checksum));
    }

    /// Damage behind a recomputed checksum: the structural checks catch
    /// what the checksum would have.
    #[test]
    fn inconsistent_content_with_a_valid_checksum_is_an_error() {
        let mut bytes = bytes_of_map(&sample_map());
        bytes.truncate(bytes.len() - CHECKSUM_BYTES);
        // The last cover id names entry 200.
        let at = bytes.len() - 4;
        bytes[at..].copy_from_slice(&200u32.to_le_bytes());
        let sum = checksum(&bytes);
        bytes.extend_from_slice(&sum.to_le_bytes());
        assert_eq!(
            IpMap::from_layout(&bytes).err(),
            Some(LayoutError::Inconsistent("cover list names a missing entry"))
        );
    }

    proptest! {
        /// Damage to any one byte is an error (each checksum step is a
        /// bijection of the state, so one changed word always changes the
        /// sum); no truncation panics.
        #[test]
        fn damaged_bytes_never_panic(at in any::<prop::sample::Index>(), xor in 1u8.., cut in any::<prop::sample::Index>()) {
            let bytes = bytes_of_map(&sample_map());
            let mut damaged = bytes.clone();
            let at = at.index(damaged.len());
            damaged[at] ^= xor;
            prop_assert!(IpMap::from_layout(&damaged).is_err());
            let _ = IpMap::from_layout(&bytes[..cut.index(bytes.len())]);
            let _ = IpSet::from_layout(&damaged);
        }

        /// Random bytes behind a valid header and checksum: the structural
        /// checks alone never panic.
        #[test]
        fn random_bodies_never_panic(body in prop::collection::vec(any::<u8>(), 0..200), kind in 1u32..3) {
            let mut bytes = header(if kind == 1 { LayoutKind::Set } else { LayoutKind::Map });
            bytes.extend_from_slice(&body);
            let sum = checksum(&bytes);
            bytes.extend_from_slice(&sum.to_le_bytes());
            let _ = IpMap::from_layout(&bytes);
            let _ = IpSet::from_layout(&bytes);
        }
    }
}
