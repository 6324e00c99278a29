//! MaxMind DB files (`.mmdb`), read with the `maxminddb` crate.
//!
//! Understood layouts, field by field (others are ignored):
//! * GeoLite2-ASN / DB-IP ASN Lite: `autonomous_system_number`,
//!   `autonomous_system_organization`;
//! * GeoLite2-Country / DB-IP Country Lite: `country.iso_code`, falling back
//!   to `registered_country.iso_code`;
//! * ip-location-db: `country_code`.
//!
//! Every network of the search tree is visited with `Reader::within`. The
//! `maxminddb` crate indexes the file without bounds checks in places, so a
//! corrupt file could panic inside it: the walk is checked up front (the tree
//! must fit in the file) and runs under `catch_unwind` as a last resort, which
//! turns such a panic into a diagnostic for that file.

use std::net::IpAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};

use serde::Deserialize;

use super::{diagnostic, AsnValue, Layers, Origin, ParsedRange};
use crate::{Country, Diagnostic, DiagnosticKind, Location};

/// Decode failures reported per file before the rest are only counted.
const MAX_REPORTED_ERRORS: usize = 100;

#[derive(Deserialize)]
struct MmdbRecord<'a> {
    autonomous_system_number: Option<u32>,
    #[serde(borrow)]
    autonomous_system_organization: Option<&'a str>,
    #[serde(borrow)]
    country: Option<MmdbCountry<'a>>,
    #[serde(borrow)]
    registered_country: Option<MmdbCountry<'a>>,
    #[serde(borrow)]
    country_code: Option<&'a str>,
}

#[derive(Deserialize)]
struct MmdbCountry<'a> {
    #[serde(borrow)]
    iso_code: Option<&'a str>,
}

/// Reads one MaxMind DB file's bytes into `layers`; returns the number of
/// networks used.
pub(crate) fn read(
    name: &str,
    file_index: u32,
    bytes: Vec<u8>,
    layers: &mut Layers,
    diagnostics: &mut Vec<Diagnostic>,
) -> u64 {
    let walk = catch_unwind(AssertUnwindSafe(|| walk(name, file_index, bytes, layers, diagnostics)));
    match walk {
        Ok(Ok(used)) => used,
        Ok(Err(message)) => {
            diagnostics.push(diagnostic(name, Location::File, DiagnosticKind::Unreadable, message));
            0
        }
        Err(_) => {
            let message =
                "the MaxMind DB file is corrupt (its reader failed); networks read before were kept".to_string();
            diagnostics.push(diagnostic(name, Location::File, DiagnosticKind::Unreadable, message));
            0
        }
    }
}

fn walk(
    name: &str,
    file_index: u32,
    bytes: Vec<u8>,
    layers: &mut Layers,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<u64, String> {
    let len = bytes.len();
    let reader = maxminddb::Reader::from_source(bytes)
        .map_err(|e| format!("not a readable MaxMind DB file (truncated or corrupt?): {e}"))?;
    let meta = &reader.metadata;
    let tree_bytes = u64::from(meta.node_count) * u64::from(meta.record_size) / 4 + 16;
    if !matches!(meta.record_size, 24 | 28 | 32) || tree_bytes > len as u64 {
        return Err(format!(
            "corrupt MaxMind DB file: a search tree of {} nodes of {} bits does not fit in {len} bytes",
            meta.node_count, meta.record_size
        ));
    }
    let everything = if meta.ip_version == 6 { "::/0" } else { "0.0.0.0/0" };
    let root = everything.parse().map_err(|e| format!("internal: {e}"))?;
    let networks =
        reader.within::<MmdbRecord>(root).map_err(|e| format!("cannot walk the MaxMind DB search tree: {e}"))?;
    let (mut used, mut errors) = (0, 0usize);
    for (index, item) in networks.enumerate() {
        let item = match item {
            Ok(item) => item,
            Err(error) => {
                errors += 1;
                if errors <= MAX_REPORTED_ERRORS {
                    let message = format!("network #{index} cannot be decoded: {error}");
                    diagnostics.push(diagnostic(name, Location::File, DiagnosticKind::Malformed, message));
                }
                continue;
            }
        };
        let network = item.ip_net.to_string();
        let range = match (item.ip_net.network(), item.ip_net.broadcast()) {
            (IpAddr::V4(s), IpAddr::V4(e)) => {
                ParsedRange { start: u32::from(s).into(), end: u32::from(e).into(), v6: false }
            }
            (IpAddr::V6(s), IpAddr::V6(e)) => ParsedRange { start: s.into(), end: e.into(), v6: true },
            _ => continue,
        };
        let record = item.info;
        // AS 4294967295 is reserved (RFC 7300); the snapshot uses it for "none".
        let asn = record
            .autonomous_system_number
            .filter(|asn| *asn != u32::MAX)
            .map(|asn| AsnValue { asn, org: layers.intern(record.autonomous_system_organization.unwrap_or("")) });
        let code = record
            .country
            .and_then(|c| c.iso_code)
            .or(record.registered_country.and_then(|c| c.iso_code))
            .or(record.country_code);
        let country = match code.map(str::parse::<Country>) {
            Some(Ok(country)) => Some(country),
            Some(Err(error)) => {
                let message = format!("{error}; country dropped");
                diagnostics.push(diagnostic(name, Location::Network(network), DiagnosticKind::UnknownCountry, message));
                None
            }
            None => None,
        };
        if asn.is_some() || country.is_some() {
            layers.push(range, asn, country, Origin { file: file_index, line: 0 });
            used += 1;
        }
    }
    if errors > MAX_REPORTED_ERRORS {
        let message = format!("{} more networks cannot be decoded", errors - MAX_REPORTED_ERRORS);
        diagnostics.push(diagnostic(name, Location::File, DiagnosticKind::Malformed, message));
    }
    Ok(used)
}
