use cordon_enrich::{write_snapshot, GeoDb, Import, SnapshotError};

use crate::{fixture, SLICES};

fn snapshot_bytes() -> Vec<u8> {
    let mut import = Import::new();
    for name in SLICES {
        import.add_path(&fixture(name));
    }
    import.finish().snapshot
}

#[test]
fn round_trips_through_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("geo.snap");
    write_snapshot(&path, &snapshot_bytes()).unwrap();
    let db = GeoDb::load(&path).unwrap();
    assert!(db.stats().v4_segments > 20);
    assert!(matches!(GeoDb::load(&dir.path().join("missing.snap")), Err(SnapshotError::Io { .. })));
}

#[test]
fn every_truncation_is_an_error() {
    let bytes = snapshot_bytes();
    for len in (0..bytes.len()).step_by(7) {
        assert!(GeoDb::from_bytes(&bytes[..len]).is_err(), "truncated to {len} bytes was accepted");
    }
    let mut padded = bytes.clone();
    padded.push(0);
    assert!(matches!(GeoDb::from_bytes(&padded), Err(SnapshotError::Truncated { .. })));
}

#[test]
fn every_flipped_byte_is_an_error() {
    let bytes = snapshot_bytes();
    for i in 0..bytes.len() {
        let mut corrupt = bytes.clone();
        corrupt[i] ^= 0x41;
        assert!(GeoDb::from_bytes(&corrupt).is_err(), "flipping byte {i} was accepted");
    }
    let mut body = bytes.clone();
    let last = body.len() - 1;
    body[last] ^= 1;
    let error = GeoDb::from_bytes(&body).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("SHA-256"), "{error}");
    assert!(matches!(
        GeoDb::from_bytes(b"PK\x03\x04 not a snapshot at all, long enough to have a header......"),
        Err(SnapshotError::BadMagic)
    ));
}
