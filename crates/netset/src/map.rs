//! [`IpMap`]: which entries cover an address.
//!
//! Entries may overlap. At build time a sweep over all entry boundaries cuts
//! the address space into disjoint *pieces*; every address of a piece is
//! covered by the same entries. Each piece stores one `u32`: the index of its
//! *cover list*, the ids of the covering entries, most specific first. Cover
//! lists are deduplicated, so a piece costs 12 bytes (IPv4) plus its share of
//! the lists, and a lookup is the same indexed search as [`crate::IpSet`].

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use crate::bits::Bits;
use crate::range::{Bounds, IpRange};
use crate::ranges::Span;
use crate::table::RangeTable;

/// Identifies an entry of an [`IpMap`]: its position in insertion order.
pub type EntryId = u32;

/// An immutable map from address ranges to values, answering "which entries
/// cover this address?".
///
/// *Most specific* means the entry with the fewest addresses; among entries
/// of equal size the one inserted first wins.
#[derive(Clone, Debug)]
pub struct IpMap<V> {
    pub(crate) entries: Vec<(IpRange, V)>,
    pub(crate) v4: Pieces<u32>,
    pub(crate) v6: Pieces<u128>,
    /// `cover_ids[cover_offsets[c]..cover_offsets[c + 1]]` is cover list `c`.
    pub(crate) cover_offsets: Vec<u32>,
    pub(crate) cover_ids: Vec<EntryId>,
}

/// Disjoint pieces of one family and the cover list of each.
#[derive(Clone, Debug, Default)]
pub(crate) struct Pieces<T> {
    pub(crate) table: RangeTable<T>,
    pub(crate) cover: Vec<u32>,
}

/// Collects entries for an [`IpMap`].
#[derive(Clone, Debug)]
pub struct IpMapBuilder<V> {
    entries: Vec<(IpRange, V)>,
}

impl<V> Default for IpMapBuilder<V> {
    fn default() -> Self {
        IpMapBuilder { entries: Vec::new() }
    }
}

impl<V> IpMapBuilder<V> {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an entry (an address, CIDR or range) and returns its id.
    ///
    /// Ids are assigned in insertion order, starting at 0. Returns `None`
    /// once `u32::MAX` entries have been added.
    pub fn insert(&mut self, range: impl Into<IpRange>, value: V) -> Option<EntryId> {
        let id = EntryId::try_from(self.entries.len()).ok()?;
        if id == EntryId::MAX {
            return None;
        }
        self.entries.push((range.into(), value));
        Some(id)
    }

    /// Builds the map: `O(n log n)` in the number of entries, plus the total
    /// length of the distinct cover lists.
    pub fn build(self) -> IpMap<V> {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for (id, (range, _)) in self.entries.iter().enumerate() {
            let id = id as EntryId;
            match range.bounds() {
                Bounds::V4(a, b) => v4.push((a, b, id)),
                Bounds::V6(a, b) => v6.push((a, b, id)),
            }
        }
        let mut covers = CoverInterner::default();
        let v4 = sweep(v4, &mut covers);
        let v6 = sweep(v6, &mut covers);
        IpMap { entries: self.entries, v4, v6, cover_offsets: covers.offsets, cover_ids: covers.ids }
    }
}

impl<V> IpMap<V> {
    /// The value of the most specific entry covering `addr`.
    #[inline]
    pub fn get(&self, addr: IpAddr) -> Option<&V> {
        let id = *self.covering(addr).first()?;
        self.entries.get(id as usize).map(|(_, value)| value)
    }

    /// Ids of all entries covering `addr`, most specific first.
    #[inline]
    pub fn covering(&self, addr: IpAddr) -> &[EntryId] {
        let cover = match addr {
            IpAddr::V4(a) => self.v4.cover_of(u32::from(a)),
            IpAddr::V6(a) => self.v6.cover_of(u128::from(a)),
        };
        cover.map_or(&[], |c| self.cover_list(c))
    }

    /// Values of all entries covering `addr`, most specific first.
    pub fn get_all(&self, addr: IpAddr) -> impl Iterator<Item = &V> + '_ {
        self.covering(addr).iter().filter_map(|&id| self.entries.get(id as usize).map(|(_, value)| value))
    }

    /// The range and value of entry `id`.
    pub fn entry(&self, id: EntryId) -> Option<(&IpRange, &V)> {
        self.entries.get(id as usize).map(|(range, value)| (range, value))
    }

    /// Whether any entry is IPv4.
    pub fn has_v4(&self) -> bool {
        self.v4.table.len() > 0
    }

    /// Whether any entry is IPv6.
    pub fn has_v6(&self) -> bool {
        self.v6.table.len() > 0
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Number of disjoint pieces the entries were cut into.
    pub fn piece_count(&self) -> usize {
        self.v4.table.len() + self.v6.table.len()
    }

    /// Heap bytes of the lookup structure (pieces, cover lists and the
    /// entries vector itself, not counting heap data owned by values).
    pub fn memory_bytes(&self) -> usize {
        self.v4.memory_bytes()
            + self.v6.memory_bytes()
            + (self.cover_offsets.capacity() + self.cover_ids.capacity()) * 4
            + self.entries.capacity() * std::mem::size_of::<(IpRange, V)>()
    }

    fn cover_list(&self, cover: u32) -> &[EntryId] {
        let c = cover as usize;
        match (self.cover_offsets.get(c), self.cover_offsets.get(c + 1)) {
            (Some(&lo), Some(&hi)) => self.cover_ids.get(lo as usize..hi as usize).unwrap_or(&[]),
            _ => &[],
        }
    }
}

impl<T: Bits> Pieces<T> {
    #[inline]
    fn cover_of(&self, addr: T) -> Option<u32> {
        let pos = self.table.find(addr)?;
        self.cover.get(pos).copied()
    }

    fn memory_bytes(&self) -> usize {
        self.table.memory_bytes() + self.cover.capacity() * 4
    }
}

/// Deduplicates cover lists into one flat array.
struct CoverInterner {
    lookup: HashMap<Vec<EntryId>, u32>,
    offsets: Vec<u32>,
    ids: Vec<EntryId>,
}

impl Default for CoverInterner {
    fn default() -> Self {
        CoverInterner { lookup: HashMap::new(), offsets: vec![0], ids: Vec::new() }
    }
}

impl CoverInterner {
    fn intern(&mut self, list: Vec<EntryId>) -> u32 {
        if let Some(&c) = self.lookup.get(&list) {
            return c;
        }
        let c = (self.offsets.len() - 1) as u32;
        self.ids.extend_from_slice(&list);
        self.offsets.push(self.ids.len() as u32);
        self.lookup.insert(list, c);
        c
    }
}

/// Cuts overlapping `(first, last, id)` entries into disjoint pieces.
///
/// Boundaries are every `first` and every `last + 1`; between two
/// consecutive boundaries the set of covering entries is constant. The
/// active entries are kept ordered by (size, id), so the cover list comes
/// out most specific first. Neighbouring pieces with the same cover list are
/// merged.
fn sweep<T: Bits>(entries: Vec<(T, T, EntryId)>, covers: &mut CoverInterner) -> Pieces<T> {
    let mut by_start = entries;
    by_start.sort_unstable_by_key(|e| (e.0, e.2));
    let mut by_end: Vec<(T, T, EntryId)> = by_start.clone();
    by_end.sort_unstable_by_key(|e| (e.1, e.2));

    let size = |e: &(T, T, EntryId)| e.1.to_u128() - e.0.to_u128();
    let mut active: BTreeSet<(u128, EntryId)> = BTreeSet::new();
    let mut spans: Vec<Span<T>> = Vec::new();
    let mut cover: Vec<u32> = Vec::new();
    let (mut i, mut j) = (0usize, 0usize);

    // Next removal point: last + 1 of the next entry to end; entries ending
    // at the top address never leave.
    let next_removal = |j: usize| by_end.get(j).and_then(|e| e.1.succ());
    loop {
        let next_start = by_start.get(i).map(|e| e.0);
        let pos = match (next_start, next_removal(j)) {
            (Some(s), Some(r)) => s.min(r),
            (Some(s), None) => s,
            (None, Some(r)) => r,
            (None, None) => break,
        };
        while let Some(e) = by_end.get(j) {
            if e.1.succ() != Some(pos) {
                break;
            }
            active.remove(&(size(e), e.2));
            j += 1;
        }
        while let Some(e) = by_start.get(i) {
            if e.0 != pos {
                break;
            }
            active.insert((size(e), e.2));
            i += 1;
        }
        if active.is_empty() {
            continue;
        }
        let piece_end = match (by_start.get(i).map(|e| e.0), next_removal(j)) {
            (Some(s), Some(r)) => s.min(r).pred(),
            (Some(s), None) => s.pred(),
            (None, Some(r)) => r.pred(),
            (None, None) => Some(T::MAX),
        };
        let Some(piece_end) = piece_end else {
            continue;
        };
        let list: Vec<EntryId> = active.iter().map(|&(_, id)| id).collect();
        let c = covers.intern(list);
        let extends = spans.last().is_some_and(|last| last.1.succ() == Some(pos)) && cover.last() == Some(&c);
        if extends {
            if let Some(last) = spans.last_mut() {
                last.1 = piece_end;
            }
        } else {
            spans.push((pos, piece_end));
            cover.push(c);
        }
    }
    spans.shrink_to_fit();
    cover.shrink_to_fit();
    Pieces { table: RangeTable::new(spans), cover }
}
