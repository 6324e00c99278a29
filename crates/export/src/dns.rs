//! DNS formats: `rpz` (a response-policy zone) and `hosts`.
//!
//! Both block names: every domain entry, and the host of every URL entry
//! whose host is a name. A domain also blocks the names below it in RPZ
//! (`*.name`); a URL's host blocks only itself, since a URL condemns its
//! server and not the siblings under the same parent. Hosts files cannot
//! express subdomains at all.

use std::collections::BTreeMap;
use std::io::Write;

use crate::text::comment_header;
use crate::{Entry, Error, Options};

/// A response-policy zone (BIND, Unbound, Knot, PowerDNS) answering
/// NXDOMAIN (`CNAME .`) for each name. Names are relative to the zone's
/// origin, which the resolver's configuration chooses; the SOA serial is
/// [`Options::generated`] in seconds, so a newer export has a higher
/// serial.
pub(crate) fn rpz(entries: &[&Entry], options: &Options, out: &mut dyn Write) -> Result<(), Error> {
    let names = blocked_names(entries);
    comment_header(out, ";", options, &format!("{} names, answered NXDOMAIN.", names.len()))?;
    let serial = u32::try_from(options.generated).unwrap_or(if options.generated < 0 { 0 } else { u32::MAX });
    writeln!(out, "$TTL 300")?;
    writeln!(out, "@ IN SOA localhost. hostmaster.localhost. ({serial} 3600 600 604800 300)")?;
    writeln!(out, "@ IN NS localhost.")?;
    for (name, subdomains) in &names {
        writeln!(out, "{name} CNAME .")?;
        if *subdomains {
            writeln!(out, "*.{name} CNAME .")?;
        }
    }
    Ok(())
}

/// A hosts file mapping each name to `0.0.0.0`.
pub(crate) fn hosts(entries: &[&Entry], options: &Options, out: &mut dyn Write) -> Result<(), Error> {
    let names = blocked_names(entries);
    comment_header(out, "#", options, &format!("{} names, mapped to 0.0.0.0.", names.len()))?;
    for name in names.keys() {
        writeln!(out, "0.0.0.0 {name}")?;
    }
    Ok(())
}

/// The distinct names to block, sorted, each with whether its subdomains
/// are blocked too (a name that is both a domain entry and a URL's host
/// blocks its subdomains).
fn blocked_names(entries: &[&Entry]) -> BTreeMap<String, bool> {
    let mut names = BTreeMap::new();
    for name in entries.iter().filter_map(|entry| entry.dns_name()) {
        let subdomains = names.entry(name.name).or_insert(false);
        *subdomains |= name.subdomains;
    }
    names
}
