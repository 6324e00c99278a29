//! Integration tests of cordon-enrich: the committed slice of the real data,
//! bad input, corrupt snapshots and the range index against a naive search.

mod flags;
mod import;
mod index;
mod snapshot;
mod warninglists;

use std::path::{Path, PathBuf};

use cordon_enrich::{GeoDb, Import};

/// The fixtures directory.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// The committed CSV slices.
pub const SLICES: &[&str] =
    &["asn-ipv4.csv", "asn-ipv6.csv", "asn-ipv6-num.csv", "asn-country-ipv4.csv", "asn-country-ipv6.csv"];

/// A snapshot of all committed slices.
pub fn fixture_db() -> GeoDb {
    let mut import = Import::new();
    for name in SLICES {
        import.add_path(&fixture(name));
    }
    let report = import.finish();
    assert!(report.diagnostics.is_empty(), "{:#?}", report.diagnostics);
    GeoDb::from_bytes(&report.snapshot).unwrap()
}
