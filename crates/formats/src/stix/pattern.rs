//! The STIX 2.1 patterning language, as far as cordon needs it.
//!
//! [`parse`] reads a whole pattern into a small tree, so that a pattern that
//! is not valid STIX (a typo, an unterminated string) is told apart from one
//! that is valid but more than cordon can act on. [`extract`] then decides
//! whether the tree is a plain disjunction of equality tests on network
//! observables (`ipv4-addr`, `ipv6-addr`, `domain-name`, `url` `:value`) and
//! returns their values (a conjunction of such tests on different objects,
//! `[domain-name:value = 'x' AND ipv4-addr:value = 'y']`, gives values
//! observed together); anything else is "complex" (other ANDs, FOLLOWEDBY,
//! qualifiers, `MATCHES`, `LIKE`, negations, other properties of a network
//! object) or "not network" (no network object at all: file hashes, e-mail
//! addresses, …).
//!
//! The parser ([`parser`]) is a hand-written recursive descent over the
//! grammar of STIX 2.1 section 9.

mod parser;

use std::fmt;

pub(super) use parser::parse;

/// The network object types whose `value` cordon reads, and the other object
/// types that make a pattern "about the network" (so that a pattern on them
/// is complex, not "not network").
const NETWORK_TYPES: &[&str] = &["ipv4-addr", "ipv6-addr", "domain-name", "url", "network-traffic"];

/// Why a pattern is not valid STIX patterning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct PatternError {
    /// 0-based byte offset where reading stopped.
    pub offset: usize,
    /// What was expected or found.
    pub message: String,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at character {}", self.message, self.offset + 1)
    }
}

/// An observation expression: what one or more observations must show.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Observation {
    /// `[ comparison ]`
    Bracket(Comparison),
    /// `a OR b`
    Or(Vec<Observation>),
    /// `a AND b`
    And(Vec<Observation>),
    /// `a FOLLOWEDBY b`
    FollowedBy(Vec<Observation>),
    /// An expression with `WITHIN`, `REPEATS` or `START … STOP`.
    Qualified(Box<Observation>),
}

/// A comparison expression inside brackets.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Comparison {
    /// `path [NOT] op value`
    Test(Test),
    /// `EXISTS path`
    Exists(ObjectPath),
    /// `a OR b`
    Or(Vec<Comparison>),
    /// `a AND b`
    And(Vec<Comparison>),
}

/// One property test.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Test {
    /// The property compared.
    pub path: ObjectPath,
    /// Whether `NOT` precedes the operator.
    pub negated: bool,
    /// The operator.
    pub op: Op,
    /// The constant compared with.
    pub value: Literal,
}

/// `object-type:property.path`, the property path kept as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct ObjectPath {
    /// The object type, lowercased.
    pub object_type: String,
    /// The property path after the colon, as written (`value`,
    /// `hashes.'SHA-256'`, `resolves_to_refs[*].value`).
    pub property: String,
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Op {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`, `<=`, `>`, `>=`
    Order,
    /// `IN`
    In,
    /// `LIKE`
    Like,
    /// `MATCHES`
    Matches,
    /// `ISSUBSET`
    IsSubset,
    /// `ISSUPERSET`
    IsSuperset,
}

/// A constant in a comparison.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Literal {
    /// `'text'`, escapes resolved.
    Str(String),
    /// `(a, b, …)` after `IN`.
    List(Vec<Literal>),
    /// A number, boolean, `t'…'`, `h'…'` or `b'…'` constant.
    Other,
}

/// A network object type whose `value` cordon reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Target {
    /// `ipv4-addr:value`
    Ipv4,
    /// `ipv6-addr:value`
    Ipv6,
    /// `domain-name:value`
    Domain,
    /// `url:value`
    Url,
}

impl Target {
    fn of(object_type: &str) -> Option<Target> {
        match object_type {
            "ipv4-addr" => Some(Target::Ipv4),
            "ipv6-addr" => Some(Target::Ipv6),
            "domain-name" => Some(Target::Domain),
            "url" => Some(Target::Url),
            _ => None,
        }
    }

    /// The STIX object type.
    pub fn object_type(self) -> &'static str {
        match self {
            Target::Ipv4 => "ipv4-addr",
            Target::Ipv6 => "ipv6-addr",
            Target::Domain => "domain-name",
            Target::Url => "url",
        }
    }
}

/// What an indicator's pattern means for cordon.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Extracted {
    /// A disjunction of equality tests, or of conjunctions of equality
    /// tests on different network objects (`[domain-name:value = 'x' AND
    /// ipv4-addr:value = 'y']`, MISP's `domain|ip`): each value is an
    /// indicator of its own.
    Network {
        /// The values, in pattern order, with the object type they belong to.
        values: Vec<(Target, String)>,
        /// The ranges of `values` that one conjunction gave: values observed
        /// together, so a domain or URL among them is linked to the
        /// addresses.
        conjunctions: Vec<std::ops::Range<usize>>,
        /// Object types of OR-ed comparisons that are not about the network
        /// (a file hash beside an address): not read, worth a warning.
        ignored: Vec<String>,
    },
    /// A pattern on network objects that is more than a disjunction of
    /// equality tests.
    Complex,
    /// A pattern on no network object at all.
    NotNetwork,
    /// A valid pattern that compares a network value with something that
    /// cannot be one (a number), with the reason.
    Invalid(String),
}

/// Decides what `tree` means for cordon (see [`Extracted`]).
pub(super) fn extract(tree: &Observation) -> Extracted {
    if !observation_mentions_network(tree) {
        return Extracted::NotNetwork;
    }
    let mut found = Found::default();
    match collect_observation(tree, &mut found) {
        Ok(()) => Extracted::Network { values: found.values, conjunctions: found.conjunctions, ignored: found.ignored },
        Err(Stop::Complex) => Extracted::Complex,
        Err(Stop::Invalid(reason)) => Extracted::Invalid(reason),
    }
}

/// Why collection stopped.
enum Stop {
    Complex,
    Invalid(String),
}

/// What [`extract`] collects (see [`Extracted::Network`]).
#[derive(Default)]
struct Found {
    values: Vec<(Target, String)>,
    conjunctions: Vec<std::ops::Range<usize>>,
    ignored: Vec<String>,
}

fn collect_observation(tree: &Observation, found: &mut Found) -> Result<(), Stop> {
    if !observation_mentions_network(tree) {
        observation_types(tree, &mut found.ignored);
        return Ok(());
    }
    match tree {
        Observation::Bracket(comparison) => collect_comparison(comparison, found),
        Observation::Or(items) => items.iter().try_for_each(|item| collect_observation(item, found)),
        Observation::And(_) | Observation::FollowedBy(_) | Observation::Qualified(_) => Err(Stop::Complex),
    }
}

fn collect_comparison(comparison: &Comparison, found: &mut Found) -> Result<(), Stop> {
    if !comparison_mentions_network(comparison) {
        comparison_types(comparison, &mut found.ignored);
        return Ok(());
    }
    let test = match comparison {
        Comparison::Or(items) => {
            return items.iter().try_for_each(|item| collect_comparison(item, found));
        }
        Comparison::And(items) => return collect_conjunction(items, found),
        Comparison::Exists(_) => return Err(Stop::Complex),
        Comparison::Test(test) => test,
    };
    let values = &mut found.values;
    let target = match Target::of(&test.path.object_type) {
        Some(target) if test.path.property == "value" && !test.negated => target,
        _ => return Err(Stop::Complex),
    };
    let non_string =
        || Stop::Invalid(format!("{}:value is compared with a value that is not a string", target.object_type()));
    match (test.op, &test.value) {
        (Op::Eq, Literal::Str(value)) => values.push((target, value.clone())),
        (Op::IsSubset, Literal::Str(value)) if matches!(target, Target::Ipv4 | Target::Ipv6) => {
            values.push((target, value.clone()))
        }
        (Op::In, Literal::List(items)) => {
            for item in items {
                let Literal::Str(value) = item else {
                    return Err(non_string());
                };
                values.push((target, value.clone()));
            }
        }
        (Op::Eq | Op::In, _) => return Err(non_string()),
        _ => return Err(Stop::Complex),
    }
    Ok(())
}

/// A conjunction of equality tests, each on the `value` of a different
/// network object type (or a domain's `resolves_to_refs[*].value`, the
/// address MISP's `domain|ip` resolves to): the values of objects observed
/// together. Anything else in it (two values of one type, which no object
/// has at once, another operator, another property) makes it complex.
fn collect_conjunction(items: &[Comparison], found: &mut Found) -> Result<(), Stop> {
    let start = found.values.len();
    for item in items {
        let Comparison::Test(test) = item else { return Err(Stop::Complex) };
        let (Op::Eq, false, Literal::Str(value)) = (test.op, test.negated, &test.value) else {
            return Err(Stop::Complex);
        };
        let target = match (Target::of(&test.path.object_type), test.path.property.as_str()) {
            (Some(target), "value") => target,
            (Some(Target::Domain), "resolves_to_refs[*].value") if value.contains(':') => Target::Ipv6,
            (Some(Target::Domain), "resolves_to_refs[*].value") => Target::Ipv4,
            _ => return Err(Stop::Complex),
        };
        if found.values[start..].iter().any(|(seen, _)| *seen == target) {
            return Err(Stop::Complex);
        }
        found.values.push((target, value.clone()));
    }
    found.conjunctions.push(start..found.values.len());
    Ok(())
}

fn observation_mentions_network(tree: &Observation) -> bool {
    match tree {
        Observation::Bracket(comparison) => comparison_mentions_network(comparison),
        Observation::Or(items) | Observation::And(items) | Observation::FollowedBy(items) => {
            items.iter().any(observation_mentions_network)
        }
        Observation::Qualified(inner) => observation_mentions_network(inner),
    }
}

fn comparison_mentions_network(comparison: &Comparison) -> bool {
    match comparison {
        Comparison::Test(Test { path, .. }) | Comparison::Exists(path) => {
            NETWORK_TYPES.contains(&path.object_type.as_str())
        }
        Comparison::Or(items) | Comparison::And(items) => items.iter().any(comparison_mentions_network),
    }
}

fn observation_types(tree: &Observation, out: &mut Vec<String>) {
    match tree {
        Observation::Bracket(comparison) => comparison_types(comparison, out),
        Observation::Or(items) | Observation::And(items) | Observation::FollowedBy(items) => {
            items.iter().for_each(|item| observation_types(item, out))
        }
        Observation::Qualified(inner) => observation_types(inner, out),
    }
}

fn comparison_types(comparison: &Comparison, out: &mut Vec<String>) {
    match comparison {
        Comparison::Test(Test { path, .. }) | Comparison::Exists(path) => {
            if !out.contains(&path.object_type) {
                out.push(path.object_type.clone());
            }
        }
        Comparison::Or(items) | Comparison::And(items) => items.iter().for_each(|item| comparison_types(item, out)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever the text, reading it ends in a tree or an error.
        #[test]
        fn never_panics(text in "\\PC{0,80}", near in "[\\[\\]()' =:.a-z0-9*,\\\\-]{0,80}") {
            for pattern in [text, near] {
                if let Ok(tree) = parse(&pattern) {
                    let _ = extract(&tree);
                }
            }
        }
    }

    fn values(pattern: &str) -> Extracted {
        match parse(pattern) {
            Ok(tree) => extract(&tree),
            Err(e) => panic!("{pattern}: {e}"),
        }
    }

    fn network(list: &[(Target, &str)]) -> Extracted {
        Extracted::Network {
            values: list.iter().map(|(t, v)| (*t, v.to_string())).collect(),
            conjunctions: Vec::new(),
            ignored: Vec::new(),
        }
    }

    #[test]
    fn single_and_or_joined() {
        assert_eq!(values("[ipv4-addr:value = '80.94.92.55']"), network(&[(Target::Ipv4, "80.94.92.55")]));
        assert_eq!(
            values("[ipv4-addr:value = '80.94.92.55' OR domain-name:value = 'a.example.net']"),
            network(&[(Target::Ipv4, "80.94.92.55"), (Target::Domain, "a.example.net")])
        );
        assert_eq!(
            values("[url:value = 'http://x.example.net/a'] or ([ipv6-addr:value='2a0e::1'])"),
            network(&[(Target::Url, "http://x.example.net/a"), (Target::Ipv6, "2a0e::1")])
        );
        assert_eq!(
            values("[ipv4-addr:value IN ('1.1.1.1', '8.8.8.8')]"),
            network(&[(Target::Ipv4, "1.1.1.1"), (Target::Ipv4, "8.8.8.8")])
        );
        assert_eq!(values("[ipv4-addr:value ISSUBSET '80.94.92.0/24']"), network(&[(Target::Ipv4, "80.94.92.0/24")]));
    }

    #[test]
    fn conjunctions_of_different_network_objects_are_values_observed_together() {
        let both = Extracted::Network {
            values: vec![(Target::Domain, "a.example.net".into()), (Target::Ipv4, "80.94.92.55".into())],
            conjunctions: std::iter::once(0..2).collect(),
            ignored: Vec::new(),
        };
        assert_eq!(values("[domain-name:value = 'a.example.net' AND ipv4-addr:value = '80.94.92.55']"), both);
        let misp = "[domain-name:value = 'a.example.net' AND domain-name:resolves_to_refs[*].value = '80.94.92.55']";
        assert_eq!(values(misp), both);
        assert_eq!(
            values("[domain-name:value = 'a.example.net' AND ipv4-addr:value != '1.1.1.1']"),
            Extracted::Complex
        );
        assert_eq!(values("[domain-name:value = 'a.example.net' AND url:value LIKE 'x%']"), Extracted::Complex);
    }

    #[test]
    fn escapes_in_strings() {
        assert_eq!(
            values(r"[url:value = 'http://x.example.net/it\'s\\']"),
            network(&[(Target::Url, r"http://x.example.net/it's\")])
        );
    }

    #[test]
    fn complex_and_not_network() {
        assert_eq!(values("[ipv4-addr:value = '1.1.1.1' AND ipv4-addr:value = '8.8.8.8']"), Extracted::Complex);
        assert_eq!(
            values("[ipv4-addr:value = '1.1.1.1'] AND [domain-name:value = 'a.example.net']"),
            Extracted::Complex
        );
        assert_eq!(
            values("[ipv4-addr:value = '1.1.1.1'] FOLLOWEDBY [url:value = 'http://a.example.net/']"),
            Extracted::Complex
        );
        assert_eq!(values("[ipv4-addr:value = '1.1.1.1'] WITHIN 300 SECONDS"), Extracted::Complex);
        assert_eq!(values("[url:value MATCHES '^http://a']"), Extracted::Complex);
        assert_eq!(values("[domain-name:value NOT = 'a.example.net']"), Extracted::Complex);
        assert_eq!(values("[network-traffic:dst_ref.value = '1.1.1.1']"), Extracted::Complex);
        assert_eq!(values("[file:hashes.'SHA-256' = 'aa']"), Extracted::NotNetwork);
        assert_eq!(values("[file:name = 'a.exe' AND file:size > 10]"), Extracted::NotNetwork);
        assert_eq!(
            values("[ipv4-addr:value = '1.1.1.1' OR file:hashes.MD5 = 'aa']"),
            Extracted::Network {
                values: vec![(Target::Ipv4, "1.1.1.1".into())],
                conjunctions: Vec::new(),
                ignored: vec!["file".into()]
            }
        );
        assert_eq!(
            values("[ipv4-addr:value = 42]"),
            Extracted::Invalid("ipv4-addr:value is compared with a value that is not a string".into())
        );
    }

    #[test]
    fn qualifiers_and_other_literals_parse() {
        let pattern = "([file:size >= 10 AND file:created < t'2024-01-01T00:00:00Z'] REPEATS 2 TIMES) \
                       START t'2024-01-01T00:00:00Z' STOP t'2024-02-01T00:00:00Z'";
        assert_eq!(values(pattern), Extracted::NotNetwork);
        assert!(parse("[x-custom:flag = true AND artifact:payload_bin = b'AAAA' AND x:y[0].z = h'ff']").is_ok());
    }

    #[test]
    fn errors_name_the_place() {
        let cases = [
            ("[ipv4-addr:value = '1.1.1.1'", "expected ']' at character 29"),
            ("[ipv4-addr:value = '1.1.1.1]", "unterminated string at character 20"),
            ("ipv4-addr:value = '1.1.1.1'", "expected '[' or '(' at character 1"),
            ("[ipv4-addr value = '1']", "expected ':' after the object type at character 11"),
            ("[ipv4-addr:value ~ '1']", "expected a comparison operator (=, !=, IN, LIKE, MATCHES, …) at character 18"),
            ("[ipv4-addr:value = '1'] junk", "unexpected text after the pattern at character 25"),
            ("", "unexpected end of pattern, expected '[' at character 1"),
        ];
        for (pattern, want) in cases {
            assert_eq!(parse(pattern).map(|_| ()).map_err(|e| e.to_string()), Err(want.to_string()), "{pattern}");
        }
        let deep = format!("{}[ipv4-addr:value = '1.1.1.1']{}", "(".repeat(500), ")".repeat(500));
        assert_eq!(parse(&deep).map_err(|e| e.message), Err::<Observation, _>("pattern nested too deeply".into()));
        let qualified = format!("[ipv4-addr:value = '1.1.1.1']{}", " REPEATS 2 TIMES".repeat(200_000));
        assert_eq!(
            parse(&qualified).map_err(|e| e.message),
            Err::<Observation, _>("too many qualifiers (WITHIN, REPEATS, START … STOP)".into())
        );
        // Qualifiers count across the pattern, not per level of parentheses.
        let mixed = format!("{}[ipv4-addr:value = '1.1.1.1']{}", "(".repeat(40), ") WITHIN 1 SECONDS".repeat(40));
        assert!(parse(&mixed).is_ok());
        let mixed = format!("{}[ipv4-addr:value = '1.1.1.1']{}", "(".repeat(60), ") WITHIN 1 SECONDS".repeat(60));
        assert!(parse(&format!("{mixed} OR {mixed}")).is_err());
        let few = format!("[ipv4-addr:value = '1.1.1.1']{}", " REPEATS 2 TIMES".repeat(60));
        assert_eq!(values(&few), Extracted::Complex);
    }
}
