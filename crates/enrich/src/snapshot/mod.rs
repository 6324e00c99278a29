//! The compiled geo snapshot: one file with every range, loaded into memory
//! and searched in place.
//!
//! [`GeoDb::load`] reads the file, verifies its SHA-256 checksum and every
//! structural invariant (see `format.rs`), and builds a 256 KiB bucket index
//! over the top 16 bits of the address. A lookup then reads the bucket, does
//! a binary search over the few segment starts in it (usually one to a
//! dozen), and reads one shared record: three or four cache lines, which is
//! what makes tens of millions of lookups a second possible. The cost is the
//! bucket array per family, built at load in one pass.

pub(crate) mod format;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use crate::Country;

/// Why a snapshot cannot be loaded or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// The file cannot be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The snapshot file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file does not start with the snapshot magic.
    #[error("not a cordon geo snapshot (bad magic); build one with `cordon geo import`")]
    BadMagic,
    /// The file was written by another version of the format.
    #[error("snapshot format version {found} is not supported (this cordon reads version {supported}); re-run `cordon geo import`")]
    UnsupportedVersion {
        /// The version in the file.
        found: u32,
        /// The version this code reads.
        supported: u32,
    },
    /// The file is shorter or longer than its header says.
    #[error("snapshot is truncated or padded: expected {expected} bytes, found {actual}")]
    Truncated {
        /// The length the header announces.
        expected: u64,
        /// The actual length.
        actual: u64,
    },
    /// The body does not match its checksum.
    #[error("snapshot is corrupt: SHA-256 of the body is {actual}, the header says {expected}")]
    Checksum {
        /// The checksum in the header.
        expected: String,
        /// The checksum of the body read.
        actual: String,
    },
    /// The checksum matches but the content breaks an invariant (a bug in
    /// the writer, or a deliberately crafted file).
    #[error("snapshot is corrupt: {0}")]
    Corrupt(String),
}

/// Writes snapshot bytes to `path` atomically: to a temporary file next to
/// it, then renamed over it, so a reader never sees half a snapshot.
pub fn write_snapshot(path: &Path, bytes: &[u8]) -> Result<(), SnapshotError> {
    let io = |source| SnapshotError::Io { path: path.to_path_buf(), source };
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    std::fs::write(&temporary, bytes).map_err(io)?;
    std::fs::rename(&temporary, path).map_err(io)
}

/// The data of one segment, expanded at load from the file's shared records
/// so that a lookup touches one entry only: 12 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Data {
    /// The ASN, or [`NO_ASN`]. (AS 4294967295 is reserved by RFC 7300, so it
    /// cannot occur as data.)
    asn: u32,
    /// The organisation's byte range in the org text (`org_len` 0: none).
    org_start: u32,
    org_len: u16,
    /// The country's two bytes, or `[0, 0]`.
    country: [u8; 2],
}

/// How many top bits of an address select its bucket. 18 bits: a 1 MiB
/// table per family, and for uniformly random IPv4 addresses over the full
/// ip-location-db data the expected number of segments searched drops from
/// 8.2 (16 bits) to 2.8, mostly one cache line.
pub(crate) const BUCKET_BITS: u32 = 18;

/// "No ASN" in [`Data`].
pub(crate) const NO_ASN: u32 = u32::MAX;
/// A segment without data.
pub(crate) const EMPTY: Data = Data { asn: NO_ASN, org_start: 0, org_len: 0, country: [0, 0] };

/// A segment: its first address and its data. Segment `i` ends where
/// segment `i + 1` starts.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry<K> {
    start: K,
    data: Data,
}

/// The sorted segments of one family and the bucket index over the top 16
/// bits of their starts.
pub(crate) struct Index<K> {
    entries: Vec<Entry<K>>,
    /// `buckets[b]` is the index of the first entry whose start's top 16
    /// bits are `>= b`; 65 537 values, the last one `entries.len()`.
    buckets: Vec<u32>,
}

/// What the snapshot knows about the range an address is in. Borrowed from
/// the [`GeoDb`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GeoInfo<'a> {
    /// The first address of the range the data holds for.
    pub first: IpAddr,
    /// The last address of that range (inclusive).
    pub last: IpAddr,
    /// The autonomous system announcing the range, when known.
    pub asn: Option<u32>,
    /// The autonomous system's organisation, when known.
    pub org: Option<&'a str>,
    /// The country the range is registered or located in, when known.
    pub country: Option<Country>,
}

/// Counts describing a loaded snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotStats {
    /// IPv4 segments (ranges with data and the gaps between them).
    pub v4_segments: usize,
    /// IPv6 segments.
    pub v6_segments: usize,
    /// Distinct (ASN, organisation, country) records.
    pub records: usize,
    /// Distinct organisation names.
    pub orgs: usize,
    /// The file's size in bytes.
    pub file_len: u64,
}

/// A loaded, validated geo snapshot.
pub struct GeoDb {
    records: usize,
    orgs: usize,
    org_text: String,
    v4: Index<u32>,
    v6: Index<u128>,
    file_len: u64,
}

impl GeoDb {
    /// Reads and validates the snapshot at `path`.
    pub fn load(path: &Path) -> Result<GeoDb, SnapshotError> {
        let bytes = std::fs::read(path).map_err(|source| SnapshotError::Io { path: path.to_path_buf(), source })?;
        GeoDb::from_bytes(&bytes)
    }

    /// Validates and decodes snapshot bytes (as written by [`crate::Import::finish`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<GeoDb, SnapshotError> {
        format::decode(bytes)
    }

    /// Counts describing the snapshot.
    pub fn stats(&self) -> SnapshotStats {
        SnapshotStats {
            v4_segments: self.v4.entries.len(),
            v6_segments: self.v6.entries.len(),
            records: self.records,
            orgs: self.orgs,
            file_len: self.file_len,
        }
    }

    /// What the snapshot knows about `ip`, or `None` when it is in no range
    /// with data. An IPv4-mapped IPv6 address (`::ffff:1.2.3.4`) is looked up
    /// as IPv4.
    pub fn lookup(&self, ip: IpAddr) -> Option<GeoInfo<'_>> {
        match ip {
            IpAddr::V4(v4) => self.lookup_v4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => self.lookup_v4(v4),
                None => self.lookup_v6(v6),
            },
        }
    }

    /// [`GeoDb::lookup`] for an IPv4 address.
    #[inline]
    pub fn lookup_v4(&self, ip: Ipv4Addr) -> Option<GeoInfo<'_>> {
        let key = u32::from(ip);
        let (entry, next) = self.v4.find(key, (key >> (32 - BUCKET_BITS)) as usize)?;
        let last = next.map_or(u32::MAX, |next| next - 1);
        Some(self.info(entry.data, IpAddr::V4(entry.start.into()), IpAddr::V4(last.into())))
    }

    /// [`GeoDb::lookup`] for an IPv6 address (no IPv4-mapped handling).
    #[inline]
    pub fn lookup_v6(&self, ip: Ipv6Addr) -> Option<GeoInfo<'_>> {
        let key = u128::from(ip);
        let (entry, next) = self.v6.find(key, (key >> (128 - BUCKET_BITS)) as usize)?;
        let last = next.map_or(u128::MAX, |next| next - 1);
        Some(self.info(entry.data, IpAddr::V6(entry.start.into()), IpAddr::V6(last.into())))
    }

    #[inline]
    fn info(&self, data: Data, first: IpAddr, last: IpAddr) -> GeoInfo<'_> {
        let org = match data.org_len {
            0 => None,
            len => {
                let start = data.org_start as usize;
                self.org_text.get(start..start + usize::from(len))
            }
        };
        GeoInfo {
            first,
            last,
            asn: (data.asn != NO_ASN).then_some(data.asn),
            org,
            country: (data.country != [0, 0]).then(|| Country::from_validated(data.country)),
        }
    }
}

impl<K: Copy + Ord + Into<u128>> Index<K> {
    /// Checks that the starts are strictly increasing from 0 and builds the
    /// bucket index; `shift` brings an address's top 16 bits down (16 or 112).
    pub(crate) fn new(entries: Vec<Entry<K>>, shift: u32) -> Result<Index<K>, String> {
        if entries.first().is_some_and(|first| first.start.into() != 0) {
            return Err("the first segment does not start at address 0".into());
        }
        if entries.windows(2).any(|w| w[0].start >= w[1].start) {
            return Err("segment starts are not strictly increasing".into());
        }
        if u32::try_from(entries.len()).is_err() {
            return Err("too many segments".into());
        }
        let mut buckets = Vec::with_capacity((1 << BUCKET_BITS) + 1);
        let mut i = 0usize;
        for bucket in 0..=(1u128 << BUCKET_BITS) {
            while entries.get(i).is_some_and(|e| (e.start.into() >> shift) < bucket) {
                i += 1;
            }
            buckets.push(i as u32);
        }
        Ok(Index { entries, buckets })
    }

    /// The entry of the segment containing `key` (whose top 16 bits are
    /// `bucket`) and the next segment's start, or `None` when that segment
    /// has no data.
    ///
    /// Correct because the starts are strictly increasing from 0: the last
    /// start `<= key` is either in `key`'s bucket or is the last one before
    /// it, at `buckets[bucket] - 1`. Every index is checked (`get`), though
    /// the invariants checked at load mean none can be out of range.
    #[inline]
    fn find(&self, key: K, bucket: usize) -> Option<(Entry<K>, Option<K>)> {
        let first = *self.buckets.get(bucket)? as usize;
        let next = *self.buckets.get(bucket + 1)? as usize;
        let low = first.saturating_sub(1);
        let slice = self.entries.get(low..next)?;
        let i = slice.partition_point(|e| e.start <= key).checked_sub(1)?;
        let entry = *slice.get(i)?;
        if entry.data == EMPTY {
            return None;
        }
        let next_start = match slice.get(i + 1) {
            Some(next) => Some(next.start),
            None => self.entries.get(low + i + 1).map(|e| e.start),
        };
        Some((entry, next_start))
    }
}
