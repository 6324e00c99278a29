//! The snapshot file format: encoding and validating decoding.
//!
//! All integers are little-endian.
//!
//! ```text
//! header (56 bytes)
//!   magic        8 bytes  "CORDGEO\0"
//!   version      u32      FORMAT_VERSION
//!   reserved     u32      0
//!   body_len     u64      bytes after the header
//!   sha256      32 bytes  SHA-256 of the body
//! body
//!   n_records u32, n_orgs u32, n_v4 u32, n_v6 u32, orgs_len u64
//!   records      n_records × (asn u32, org u32, country [u8; 2], flags u8, 0u8)
//!                flags: bit 0 = has ASN, bit 1 = has country; org u32::MAX = none
//!   org offsets  (n_orgs + 1) × u32, increasing, into the org text
//!   org text     orgs_len bytes of UTF-8
//!   v4 starts    n_v4 × u32, strictly increasing, the first is 0
//!   v4 records   n_v4 × u32, an index into records or u32::MAX (no data)
//!   v6 starts    n_v6 × u128, strictly increasing, the first is 0
//!   v6 records   n_v6 × u32
//! ```
//!
//! Each family is a partition of its whole address space: segment `i` covers
//! `starts[i]` up to `starts[i + 1] - 1` (the last one up to the top address),
//! so a lookup is one search for the last start at or below the address.
//! Records are shared by segments (many ranges of one AS), which keeps the
//! file small. The checksum is verified before anything else is read, and
//! then every invariant above is checked, so a file that passes is safe to
//! index without further checks.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::{Data, Entry, GeoDb, Index, SnapshotError, BUCKET_BITS, EMPTY, NO_ASN};
use crate::resolve::Segment;
use crate::source::{AsnValue, NO_ORG};
use crate::Country;

/// The first 8 bytes of every snapshot.
pub(crate) const MAGIC: &[u8; 8] = b"CORDGEO\0";
/// The format version this code writes and reads.
pub(crate) const FORMAT_VERSION: u32 = 1;
/// The header's size in bytes.
pub(crate) const HEADER_LEN: usize = 56;
/// "No record" in a segment's record column.
const NO_RECORD: u32 = u32::MAX;

/// Encodes the snapshot of a resolved partition.
pub(crate) fn encode(orgs: &[String], v4: &[Segment], v6: &[Segment]) -> Vec<u8> {
    let mut records: Vec<(Option<AsnValue>, Option<Country>)> = Vec::new();
    let mut record_ids: HashMap<(Option<AsnValue>, Option<Country>), u32> = HashMap::new();
    let mut record_of = |segment: &Segment| -> u32 {
        if segment.asn.is_none() && segment.country.is_none() {
            return NO_RECORD;
        }
        let key = (segment.asn, segment.country);
        *record_ids.entry(key).or_insert_with(|| {
            records.push(key);
            u32::try_from(records.len() - 1).unwrap_or(NO_RECORD)
        })
    };
    let v4_records: Vec<u32> = v4.iter().map(&mut record_of).collect();
    let v6_records: Vec<u32> = v6.iter().map(&mut record_of).collect();

    let org_text_len: usize = orgs.iter().map(String::len).sum();
    let mut body =
        Vec::with_capacity(24 + records.len() * 12 + orgs.len() * 4 + org_text_len + v4.len() * 8 + v6.len() * 20);
    let len32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    body.extend_from_slice(&len32(records.len()).to_le_bytes());
    body.extend_from_slice(&len32(orgs.len()).to_le_bytes());
    body.extend_from_slice(&len32(v4.len()).to_le_bytes());
    body.extend_from_slice(&len32(v6.len()).to_le_bytes());
    body.extend_from_slice(&(org_text_len as u64).to_le_bytes());
    for (asn, country) in &records {
        let flags = u8::from(asn.is_some()) | (u8::from(country.is_some()) << 1);
        body.extend_from_slice(&asn.map_or(0, |a| a.asn).to_le_bytes());
        body.extend_from_slice(&asn.map_or(NO_ORG, |a| a.org).to_le_bytes());
        body.extend_from_slice(&country.map_or([0, 0], |c| c.bytes()));
        body.extend_from_slice(&[flags, 0]);
    }
    let mut offset = 0u32;
    body.extend_from_slice(&offset.to_le_bytes());
    for org in orgs {
        offset = offset.saturating_add(len32(org.len()));
        body.extend_from_slice(&offset.to_le_bytes());
    }
    for org in orgs {
        body.extend_from_slice(org.as_bytes());
    }
    for segment in v4 {
        body.extend_from_slice(&u32::try_from(segment.start).unwrap_or(u32::MAX).to_le_bytes());
    }
    for record in &v4_records {
        body.extend_from_slice(&record.to_le_bytes());
    }
    for segment in v6 {
        body.extend_from_slice(&segment.start.to_le_bytes());
    }
    for record in &v6_records {
        body.extend_from_slice(&record.to_le_bytes());
    }

    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&Sha256::digest(&body));
    out.extend_from_slice(&body);
    out
}

/// Reads fixed-size values off the front of a byte slice.
struct Cursor<'a> {
    bytes: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], SnapshotError> {
        if n > self.bytes.len() {
            return Err(SnapshotError::Corrupt(format!("the body ends inside the {what}")));
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], SnapshotError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    fn u32(&mut self, what: &str) -> Result<u32, SnapshotError> {
        self.array(what).map(u32::from_le_bytes)
    }

    fn count(&mut self, what: &str) -> Result<usize, SnapshotError> {
        Ok(self.u32(what)? as usize)
    }

    /// `n` values of `N` bytes each, converted by `convert`; the size is
    /// checked before anything is allocated.
    fn values<const N: usize, T>(
        &mut self,
        n: usize,
        what: &str,
        convert: fn([u8; N]) -> T,
    ) -> Result<Vec<T>, SnapshotError> {
        let size = n.checked_mul(N).ok_or_else(|| SnapshotError::Corrupt(format!("the {what} count is too large")))?;
        let bytes = self.take(size, what)?;
        Ok(bytes
            .chunks_exact(N)
            .map(|chunk| {
                let mut value = [0; N];
                value.copy_from_slice(chunk);
                convert(value)
            })
            .collect())
    }
}

/// Checks the header and checksum of `bytes` and decodes the body.
pub(crate) fn decode(bytes: &[u8]) -> Result<GeoDb, SnapshotError> {
    if bytes.len() < HEADER_LEN {
        return Err(SnapshotError::Truncated { expected: HEADER_LEN as u64, actual: bytes.len() as u64 });
    }
    let (header, body) = bytes.split_at(HEADER_LEN);
    if &header[..8] != MAGIC {
        return Err(SnapshotError::BadMagic);
    }
    let mut cursor = Cursor { bytes: &header[8..] };
    let version = cursor.u32("header")?;
    if version != FORMAT_VERSION {
        return Err(SnapshotError::UnsupportedVersion { found: version, supported: FORMAT_VERSION });
    }
    if cursor.u32("header")? != 0 {
        return Err(corrupt("the header's reserved field is not 0"));
    }
    let body_len = u64::from_le_bytes(cursor.array("header")?);
    let checksum: [u8; 32] = cursor.array("header")?;
    if body_len != body.len() as u64 {
        return Err(SnapshotError::Truncated { expected: HEADER_LEN as u64 + body_len, actual: bytes.len() as u64 });
    }
    let actual: [u8; 32] = Sha256::digest(body).into();
    if actual != checksum {
        return Err(SnapshotError::Checksum { expected: hex::encode(checksum), actual: hex::encode(actual) });
    }
    decode_body(body)
}

fn corrupt(message: impl Into<String>) -> SnapshotError {
    SnapshotError::Corrupt(message.into())
}

fn decode_body(body: &[u8]) -> Result<GeoDb, SnapshotError> {
    let mut cursor = Cursor { bytes: body };
    let n_records = cursor.count("counts")?;
    let n_orgs = cursor.count("counts")?;
    let n_v4 = cursor.count("counts")?;
    let n_v6 = cursor.count("counts")?;
    let org_text_len =
        usize::try_from(u64::from_le_bytes(cursor.array("counts")?)).map_err(|_| corrupt("org text too long"))?;

    let raw_records = cursor.values::<12, [u8; 12]>(n_records, "records", |b| b)?;
    let org_offsets = cursor.values::<4, u32>(n_orgs.saturating_add(1), "org offsets", u32::from_le_bytes)?;
    let org_text = std::str::from_utf8(cursor.take(org_text_len, "org text")?)
        .map_err(|e| corrupt(format!("org text is not UTF-8: {e}")))?
        .to_string();
    if org_offsets.first() != Some(&0) || org_offsets.last().map(|o| *o as usize) != Some(org_text.len()) {
        return Err(corrupt("org offsets do not span the org text"));
    }
    if org_offsets.windows(2).any(|w| w[0] > w[1])
        || !org_offsets.iter().all(|o| org_text.is_char_boundary(*o as usize))
    {
        return Err(corrupt("org offsets are not increasing character boundaries"));
    }
    let records = raw_records
        .iter()
        .enumerate()
        .map(|(i, raw)| decode_record(raw, &org_offsets).ok_or_else(|| corrupt(format!("record {i} is invalid"))))
        .collect::<Result<Vec<Data>, _>>()?;
    let data_of = |record: u32| -> Result<Data, SnapshotError> {
        if record == NO_RECORD {
            return Ok(EMPTY);
        }
        let missing = || corrupt(format!("a segment refers to record {record}, but there are {n_records}"));
        records.get(record as usize).copied().ok_or_else(missing)
    };

    let v4_starts = cursor.values::<4, u32>(n_v4, "IPv4 starts", u32::from_le_bytes)?;
    let v4_records = cursor.values::<4, u32>(n_v4, "IPv4 records", u32::from_le_bytes)?;
    let v4_entries = v4_starts
        .into_iter()
        .zip(v4_records)
        .map(|(start, record)| Ok(Entry { start, data: data_of(record)? }))
        .collect::<Result<Vec<_>, SnapshotError>>()?;
    let v6_starts = cursor.values::<16, u128>(n_v6, "IPv6 starts", u128::from_le_bytes)?;
    let v6_records = cursor.values::<4, u32>(n_v6, "IPv6 records", u32::from_le_bytes)?;
    let v6_entries = v6_starts
        .into_iter()
        .zip(v6_records)
        .map(|(start, record)| Ok(Entry { start, data: data_of(record)? }))
        .collect::<Result<Vec<_>, SnapshotError>>()?;
    if !cursor.bytes.is_empty() {
        return Err(corrupt(format!("{} bytes after the IPv6 records", cursor.bytes.len())));
    }
    let v4 = Index::new(v4_entries, 32 - BUCKET_BITS).map_err(|e| corrupt(format!("IPv4 table: {e}")))?;
    let v6 = Index::new(v6_entries, 128 - BUCKET_BITS).map_err(|e| corrupt(format!("IPv6 table: {e}")))?;
    Ok(GeoDb { records: n_records, orgs: n_orgs, org_text, v4, v6, file_len: (HEADER_LEN + body.len()) as u64 })
}

/// A record with its organisation resolved to a byte range; `None` when a
/// field is out of range or the record would read as "no data".
fn decode_record(raw: &[u8; 12], org_offsets: &[u32]) -> Option<Data> {
    let asn = u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]);
    let org = u32::from_le_bytes([raw[4], raw[5], raw[6], raw[7]]);
    let flags = raw[10];
    if flags & !0b11 != 0 || flags == 0 || raw[11] != 0 || (flags & 1 != 0 && asn == NO_ASN) {
        return None;
    }
    let (org_start, org_len) = if org == NO_ORG {
        (0, 0)
    } else {
        let start = *org_offsets.get(org as usize)?;
        let end = *org_offsets.get(org as usize + 1)?;
        (start, u16::try_from(end.checked_sub(start)?).ok()?)
    };
    let country = if flags & 0b10 != 0 { Country::from_bytes([raw[8], raw[9]])?.bytes() } else { [0, 0] };
    Some(Data { asn: if flags & 1 != 0 { asn } else { NO_ASN }, org_start, org_len, country })
}
