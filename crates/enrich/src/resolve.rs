//! Turning the pieces read from all inputs into one partition of the address
//! space.
//!
//! **Overlaps.** Within one field (ASN, or country) of one family, when two
//! ranges overlap with different data, the *narrower* range wins for the
//! addresses they share, like a longest-prefix match: a /24 carved out of a
//! /16 is the more specific statement. Between ranges of equal width, the one
//! read later wins (a later input file, or a later line), so a correction file
//! can be given last. Overlaps with identical data (the same file given as
//! plain and `-num` CSV) are merged silently. ASN and country are resolved
//! separately, then merged, so neither field's source hides the other's.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::source::{diagnostic, AsnValue, Origin, Piece};
use crate::{Country, Diagnostic, DiagnosticKind, Location};

/// One segment of a partition: from `start` up to the next segment's start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Segment {
    pub start: u128,
    pub asn: Option<AsnValue>,
    pub country: Option<Country>,
}

/// Context for overlap reports.
pub(crate) struct Reporter<'a> {
    pub files: &'a [String],
    pub v6: bool,
    pub diagnostics: &'a mut Vec<Diagnostic>,
}

/// An address of the family being resolved, for messages.
pub(crate) fn addr(value: u128, v6: bool) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::from(value))
    } else {
        IpAddr::V4(Ipv4Addr::from(u32::try_from(value).unwrap_or(u32::MAX)))
    }
}

impl Reporter<'_> {
    fn overlap<T: Display>(&mut self, winner: &Piece<T>, loser: &Piece<T>) {
        let file = |origin: Origin| self.files.get(origin.file as usize).map_or("?", String::as_str);
        let place = |origin: Origin| match origin.line {
            0 => file(origin).to_string(),
            line => format!("{}:{line}", file(origin)),
        };
        let range = |p: &Piece<T>| format!("{}-{}", addr(p.start, self.v6), addr(p.end, self.v6));
        let message = format!(
            "{} ({}) overlaps {} ({}) from {}; the {} range wins for the shared addresses",
            range(winner),
            winner.value,
            range(loser),
            loser.value,
            place(loser.origin),
            if winner.end - winner.start < loser.end - loser.start { "narrower" } else { "later" },
        );
        let location = match winner.origin.line {
            0 => Location::Network(range(winner)),
            line => Location::Line(line),
        };
        self.diagnostics.push(diagnostic(file(winner.origin), location, DiagnosticKind::Overlap, message));
    }
}

/// Sorts `pieces` and makes them disjoint, reporting overlaps with different
/// data (see the module docs for who wins).
pub(crate) fn resolve<T: Copy + Eq + Display>(mut pieces: Vec<Piece<T>>, reporter: &mut Reporter<'_>) -> Vec<Piece<T>> {
    pieces.sort_by_key(|p| (p.start, p.end, p.origin));
    let mut max_end: Option<u128> = None;
    let disjoint = pieces.iter().all(|p| {
        let ok = !matches!(max_end, Some(end) if p.start <= end);
        max_end = Some(max_end.map_or(p.end, |end| end.max(p.end)));
        ok
    });
    if disjoint {
        return pieces;
    }
    // Slow path: paint wide ranges first, so narrower (and, at equal width,
    // later) ranges overwrite them.
    pieces.sort_by(|a, b| (b.end - b.start).cmp(&(a.end - a.start)).then(a.origin.cmp(&b.origin)));
    let mut painted: BTreeMap<u128, Piece<T>> = BTreeMap::new();
    for piece in pieces {
        let overlapping: Vec<Piece<T>> =
            painted.range(..=piece.end).rev().take_while(|(_, q)| q.end >= piece.start).map(|(_, q)| *q).collect();
        for old in overlapping {
            if old.value != piece.value {
                reporter.overlap(&piece, &old);
            }
            painted.remove(&old.start);
            if old.start < piece.start {
                painted.insert(old.start, Piece { end: piece.start - 1, ..old });
            }
            if old.end > piece.end {
                painted.insert(piece.end + 1, Piece { start: piece.end + 1, ..old });
            }
        }
        painted.insert(piece.start, piece);
    }
    painted.into_values().collect()
}

/// Merges the disjoint ASN and country pieces of one family into a partition
/// of `0..=max` that starts at 0, joining neighbours with equal data.
pub(crate) fn merge(asn: &[Piece<AsnValue>], country: &[Piece<Country>], max: u128) -> Vec<Segment> {
    let mut bounds: Vec<u128> = Vec::with_capacity(2 * (asn.len() + country.len()) + 1);
    bounds.push(0);
    let ends = |start: u128, end: u128| [Some(start), end.checked_add(1).filter(|next| *next <= max)];
    bounds.extend(asn.iter().flat_map(|p| ends(p.start, p.end)).flatten());
    bounds.extend(country.iter().flat_map(|p| ends(p.start, p.end)).flatten());
    bounds.sort_unstable();
    bounds.dedup();
    let (mut a, mut c) = (0, 0);
    let mut segments: Vec<Segment> = Vec::new();
    for start in bounds {
        while asn.get(a).is_some_and(|p| p.end < start) {
            a += 1;
        }
        while country.get(c).is_some_and(|p| p.end < start) {
            c += 1;
        }
        let segment = Segment {
            start,
            asn: asn.get(a).filter(|p| p.start <= start).map(|p| p.value),
            country: country.get(c).filter(|p| p.start <= start).map(|p| p.value),
        };
        match segments.last() {
            Some(last) if last.asn == segment.asn && last.country == segment.country => {}
            _ => segments.push(segment),
        }
    }
    segments
}

impl Display for AsnValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AS{}", self.asn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(start: u128, end: u128, asn: u32, line: u64) -> Piece<AsnValue> {
        Piece { start, end, value: AsnValue { asn, org: 0 }, origin: Origin { file: 0, line } }
    }

    #[test]
    fn narrower_wins_and_is_reported() {
        let mut diagnostics = Vec::new();
        let files = ["a.csv".to_string()];
        let mut reporter = Reporter { files: &files, v6: false, diagnostics: &mut diagnostics };
        let out = resolve(vec![piece(0, 99, 1, 1), piece(10, 19, 2, 2), piece(0, 99, 1, 3)], &mut reporter);
        let got: Vec<_> = out.iter().map(|p| (p.start, p.end, p.value.asn)).collect();
        assert_eq!(got, [(0, 9, 1), (10, 19, 2), (20, 99, 1)]);
        assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
        assert_eq!(diagnostics[0].location, Location::Line(2));
    }

    #[test]
    fn merge_partitions_and_coalesces() {
        let asn = [piece(10, 19, 1, 1), piece(20, 29, 1, 2)];
        let out = merge(&asn, &[], 100);
        let got: Vec<_> = out.iter().map(|s| (s.start, s.asn.map(|a| a.asn))).collect();
        assert_eq!(got, [(0, None), (10, Some(1)), (30, None)]);
    }
}
