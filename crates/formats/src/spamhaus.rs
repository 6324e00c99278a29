//! Spamhaus DROP, EDROP and DROPv6 (text and JSON lines) and ASN-DROP.
//!
//! Every listed netblock is hijacked or run by criminals: its category is
//! `spam`, and its SBL id is kept as the record's label. ASN-DROP entries
//! (JSON `{"asn":…}` or the legacy text `AS64496 ; US | EXAMPLE`, in either
//! reader) name autonomous systems, which are not observables: each is an
//! [`Event::Skipped`] `asn-listing`, the first with a warning saying why. The JSON metadata line is read and
//! ignored. DROP JSON and ASN-DROP share one reader, so a file mixing both
//! kinds of lines is still read right.

use std::io::BufRead;
use std::path::Path;

use cordon_model::{Attributes, Category};

use crate::emit::emit_value;
use crate::json::{self, for_each_json_line, text, Object};
use crate::lines::for_each_line;
use crate::plain::strip_comment;
use crate::{Event, FormatError};

/// The reason of the skip event of an ASN-DROP entry.
pub(crate) const ASN_LISTING: &str = "asn-listing";

/// What the first ASN-DROP entry of a file says once, in words.
const ASN_LISTING_WHY: &str = "ASN-DROP entries are skipped (asn-listing): an AS number is a network-level \
                               listing; cordon stores addresses, networks, domains and URLs";

/// Parses ASN-DROP in either form: JSON lines (`{"asn":…}`) or the legacy
/// text (`AS64496 ; US | EXAMPLE`).
pub(crate) fn parse_asndrop(
    name: &Path,
    reader: &mut dyn BufRead,
    sink: &mut dyn FnMut(Event),
) -> Result<(), FormatError> {
    if json::starts_with(name, reader, b'{')? {
        parse_json(name, reader, sink)
    } else {
        parse_text(name, reader, sink)
    }
}

/// True for the value of a legacy ASN-DROP row: `AS` and digits.
pub(crate) fn is_asn(value: &str) -> bool {
    let value = value.trim();
    match (value.get(..2), value.get(2..)) {
        (Some(prefix), Some(digits)) => {
            prefix.eq_ignore_ascii_case("as") && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
        }
        _ => false,
    }
}

/// Skips an ASN entry at `line`; the first of a file (`explained` still
/// false) also says why, in words.
fn skip_asn(line: u64, explained: &mut bool, sink: &mut dyn FnMut(Event)) {
    if !std::mem::replace(explained, true) {
        sink(Event::Warning { line, message: ASN_LISTING_WHY.to_string() });
    }
    sink(Event::Skipped { line, reason: ASN_LISTING.to_string() });
}

/// Parses the text form: `CIDR ; SBLnnnnnn` after a `;` comment header.
pub(crate) fn parse_text(
    name: &Path,
    reader: &mut dyn BufRead,
    sink: &mut dyn FnMut(Event),
) -> Result<(), FormatError> {
    let mut explained = false;
    for_each_line(name, reader, sink, &mut |line, text, sink| {
        if strip_comment(text).is_empty() {
            return Ok(());
        }
        let (cidr, sblid) = match text.split_once(';') {
            Some((cidr, rest)) => (cidr, rest.split_whitespace().next()),
            None => (text, None),
        };
        if is_asn(cidr) {
            skip_asn(line, &mut explained, sink);
        } else {
            emit_value(line, cidr, attributes(sblid), &[], sink);
        }
        Ok(())
    })
}

/// Parses the JSON-lines forms (DROP JSON and ASN-DROP).
pub(crate) fn parse_json(
    name: &Path,
    reader: &mut dyn BufRead,
    sink: &mut dyn FnMut(Event),
) -> Result<(), FormatError> {
    let mut explained = false;
    for_each_json_line(name, reader, sink, &mut |line, object: &Object, sink| {
        if let Some(cidr) = text(object, "cidr") {
            let sblid = text(object, "sblid");
            emit_value(line, &cidr, attributes(sblid.as_deref()), &[], sink);
        } else if object.contains_key("asn") {
            skip_asn(line, &mut explained, sink);
        } else if text(object, "type").as_deref() != Some("metadata") {
            let reason = "object has neither 'cidr' nor 'asn' (and is not the metadata line)".to_string();
            sink(Event::Rejected { line, reason });
        }
    })
}

fn attributes(sblid: Option<&str>) -> Attributes {
    Attributes { category: Some(Category::Spam), label: sblid.map(str::to_string), ..Attributes::default() }
}
