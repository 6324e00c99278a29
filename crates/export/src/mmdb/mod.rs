//! A MaxMind DB (format 2.0) mapping each listed network to
//! `{categories: [..], confidence: N, sources: [..]}`.
//!
//! The database is IPv6 (`ip_version` 6) with IPv4 networks at `::/96`,
//! where libmaxminddb and the `maxminddb` crate look IPv4 addresses up, and
//! again at their IPv4-mapped addresses (`::ffff:0:0/96`), so that a lookup
//! of `::ffff:a.b.c.d` finds the IPv4 entry (the 6to4 alias MaxMind's own
//! writer adds is not written). Where listed networks nest (an address
//! listed inside a listed CIDR), the inner network's record is the merged
//! answer `cordon lookup` gives for it: the categories and sources of every
//! listed network that covers it, and the highest confidence. Identical
//! data records are stored once. Records are 24 bits wide when the pointers
//! fit, 32 otherwise.
//!
//! The whole tree and data section are built in memory before writing, as
//! the format requires: the data offsets and the node count appear in the
//! tree.

mod encode;
mod tree;

use std::collections::HashMap;
use std::io::Write;

use cordon_model::Category;
use ipnet::IpNet;

use self::encode::Type;
use self::tree::Tree;
use crate::{Entry, Error, Format, Options};

/// The database type written in the metadata.
const DATABASE_TYPE: &str = "cordon-blocklist";

/// The bytes that start the metadata section.
const METADATA_MARKER: &[u8] = b"\xAB\xCD\xEFMaxMind.com";

/// The database file.
pub(crate) fn database(entries: &[&Entry], options: &Options, out: &mut dyn Write) -> Result<(), Error> {
    /// Where IPv4-mapped IPv6 addresses start: `::ffff:0:0`.
    const MAPPED: u128 = 0xffff << 32;
    let mut networks: Vec<(u128, u8, &Entry)> = Vec::new();
    for entry in entries {
        match entry.network() {
            Some(IpNet::V4(net)) => {
                let key = u128::from(u32::from(net.network()));
                networks.push((key, net.prefix_len() + 96, *entry));
                networks.push((MAPPED | key, net.prefix_len() + 96, *entry));
            }
            Some(IpNet::V6(net)) => networks.push((u128::from(net.network()), net.prefix_len(), *entry)),
            None => {}
        }
    }
    // CIDRs nest or are disjoint: in (start, length) order, the networks
    // that cover one are those still open on a stack when it comes.
    networks.sort_by_key(|(key, len, _)| (*key, *len));
    let mut merged: Vec<(u128, u8, Vec<u8>)> = Vec::with_capacity(networks.len());
    let mut open: Vec<(u128, u8, &Entry)> = Vec::new();
    for (key, len, entry) in networks {
        while open.last().is_some_and(|(start, outer, _)| !covers(*start, *outer, key)) {
            open.pop();
        }
        open.push((key, len, entry));
        merged.push((key, len, record(open.iter().map(|(_, _, e)| *e))));
    }
    merged.sort_by_key(|(key, len, _)| (*len, *key));

    let mut data = Vec::new();
    let mut offsets: HashMap<Vec<u8>, u32> = HashMap::new();
    let mut tree = Tree::new();
    for (key, prefix_len, record) in merged {
        let offset = match offsets.get(&record) {
            Some(offset) => *offset,
            None => {
                let offset = u32::try_from(data.len())
                    .map_err(|_| Error::TooLarge { format: Format::Mmdb, reason: "data section over 4 GiB" })?;
                data.extend_from_slice(&record);
                offsets.insert(record, offset);
                offset
            }
        };
        tree.insert(key, prefix_len, offset)?;
    }

    let largest_pointer = (tree.node_count() + 16 + data.len()) as u64;
    let record_size: u16 = match largest_pointer {
        0..0x100_0000 => 24,
        0x100_0000..0x1_0000_0000 => 32,
        _ => return Err(Error::TooLarge { format: Format::Mmdb, reason: "pointers over 32 bits" }),
    };
    tree.write(out, record_size)?;
    out.write_all(&[0; 16])?;
    out.write_all(&data)?;
    out.write_all(METADATA_MARKER)?;
    out.write_all(&metadata(tree.node_count() as u64, record_size, options))?;
    Ok(())
}

/// Whether the network `start/len` (128-bit keys) covers `key`.
fn covers(start: u128, len: u8, key: u128) -> bool {
    let mask = if len == 0 { 0 } else { u128::MAX << (128 - u32::from(len.min(128))) };
    key & mask == start & mask
}

/// The data record of the entries that cover an address: their categories
/// and sources (sorted, distinct) and their highest confidence.
fn record<'a>(entries: impl Iterator<Item = &'a Entry>) -> Vec<u8> {
    let mut categories: Vec<Category> = Vec::new();
    let mut sources: Vec<&str> = Vec::new();
    let mut confidence = 0;
    for entry in entries {
        categories.extend(&entry.categories);
        sources.extend(entry.sources.iter().map(String::as_str));
        confidence = confidence.max(entry.confidence);
    }
    categories.sort();
    categories.dedup();
    sources.sort_unstable();
    sources.dedup();
    let mut buf = Vec::with_capacity(64);
    encode::map(&mut buf, 3);
    encode::utf8(&mut buf, "categories");
    encode::strings(&mut buf, categories.iter().map(|c| c.as_str()));
    encode::utf8(&mut buf, "confidence");
    encode::uint(&mut buf, Type::Uint16, u64::from(confidence));
    encode::utf8(&mut buf, "sources");
    encode::strings(&mut buf, sources.into_iter());
    buf
}

/// The metadata map.
fn metadata(node_count: u64, record_size: u16, options: &Options) -> Vec<u8> {
    let mut buf = Vec::with_capacity(256);
    encode::map(&mut buf, 9);
    encode::utf8(&mut buf, "binary_format_major_version");
    encode::uint(&mut buf, Type::Uint16, 2);
    encode::utf8(&mut buf, "binary_format_minor_version");
    encode::uint(&mut buf, Type::Uint16, 0);
    encode::utf8(&mut buf, "build_epoch");
    encode::uint(&mut buf, Type::Uint64, u64::try_from(options.generated).unwrap_or(0));
    encode::utf8(&mut buf, "database_type");
    encode::utf8(&mut buf, DATABASE_TYPE);
    encode::utf8(&mut buf, "description");
    encode::map(&mut buf, 1);
    encode::utf8(&mut buf, "en");
    encode::utf8(&mut buf, &format!("Networks listed by {}", options.producer));
    encode::utf8(&mut buf, "ip_version");
    encode::uint(&mut buf, Type::Uint16, 6);
    encode::utf8(&mut buf, "languages");
    encode::array(&mut buf, 0);
    encode::utf8(&mut buf, "node_count");
    encode::uint(&mut buf, Type::Uint32, node_count);
    encode::utf8(&mut buf, "record_size");
    encode::uint(&mut buf, Type::Uint16, u64::from(record_size));
    buf
}
