//! The query parameters of the object endpoints (section 3.4 of the
//! standard): `added_after`, `limit`, `next` and the `match[…]` filters.
//!
//! Different `match` fields are ANDed, the comma-separated values of one
//! are ORed; `match[version]` defaults to `last` and `match[spec_version]`
//! to the newest version the server holds. Anything malformed, unknown,
//! repeated where it may not be, or not allowed on the endpoint is a
//! [`QueryError`]: a server answers it with 400, never with 500.

use crate::{Micros, SPEC_VERSION};

/// Which endpoint a query is for: each takes its own filters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `…/objects/` (GET).
    Objects,
    /// `…/manifest/`.
    Manifest,
    /// `…/objects/{id}/` (GET).
    Object,
    /// `…/objects/{id}/` (DELETE): only the version filters.
    DeleteObject,
    /// `…/objects/{id}/versions/`.
    Versions,
}

impl Endpoint {
    /// Whether `parameter` may be given on this endpoint.
    fn allows(self, parameter: &str) -> bool {
        match self {
            Endpoint::Objects | Endpoint::Manifest => true,
            Endpoint::Object => !matches!(parameter, "match[id]" | "match[type]"),
            Endpoint::DeleteObject => matches!(parameter, "match[version]" | "match[spec_version]"),
            Endpoint::Versions => matches!(parameter, "added_after" | "limit" | "next" | "match[spec_version]"),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Endpoint::Objects => "objects",
            Endpoint::Manifest => "manifest",
            Endpoint::Object => "object",
            Endpoint::DeleteObject => "object deletion",
            Endpoint::Versions => "versions",
        }
    }
}

/// Which versions of an object `match[version]` selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum VersionMatch {
    /// The newest (the default).
    Last,
    /// The oldest.
    First,
    /// Every version.
    All,
    /// The version of exactly this `modified`.
    At(Micros),
}

/// The parsed query of one request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    /// Only what was added strictly after this.
    pub added_after: Option<Micros>,
    /// At most this many (a server may answer fewer); always > 0.
    pub limit: Option<u64>,
    /// The opaque cursor of a previous page.
    pub next: Option<String>,
    /// `match[id]`: only these ids (empty: any).
    pub ids: Vec<String>,
    /// `match[type]`: only these STIX types (empty: any).
    pub types: Vec<String>,
    /// `match[version]`: empty means the default, `last`.
    pub versions: Vec<VersionMatch>,
    /// `match[spec_version]`: empty means the default, the newest.
    pub spec_versions: Vec<String>,
}

/// Why a query was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// A parameter's value is malformed.
    #[error("{parameter}: {reason}")]
    Malformed {
        /// The parameter.
        parameter: String,
        /// What is wrong.
        reason: String,
    },
    /// A parameter this server does not know.
    #[error("unknown parameter '{0}' (expected added_after, limit, next, match[id], match[type], match[version] or match[spec_version])")]
    Unknown(String),
    /// A parameter the endpoint does not take.
    #[error("the {endpoint} endpoint does not take '{parameter}'")]
    NotAllowed {
        /// The parameter.
        parameter: String,
        /// The endpoint.
        endpoint: &'static str,
    },
    /// A single-valued parameter given twice.
    #[error("'{0}' is given more than once")]
    Repeated(String),
}

fn malformed(parameter: &str, reason: impl Into<String>) -> QueryError {
    QueryError::Malformed { parameter: parameter.to_string(), reason: reason.into() }
}

/// The values of a comma-separated list; an empty one is malformed.
fn list<'a>(parameter: &str, value: &'a str) -> Result<Vec<&'a str>, QueryError> {
    let items: Vec<&str> = value.split(',').map(str::trim).collect();
    if items.iter().any(|item| item.is_empty()) {
        return Err(malformed(parameter, "an empty value in the list"));
    }
    Ok(items)
}

fn stix_type(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 250
        && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn spec_version(value: &str) -> bool {
    let mut parts = value.split('.');
    let numeric = |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    numeric(parts.next()) && numeric(parts.next()) && parts.next().is_none()
}

impl Query {
    /// Parses the raw query string (after `?`) of a request to `endpoint`.
    pub fn parse(raw: &str, endpoint: Endpoint) -> Result<Query, QueryError> {
        let mut query = Query::default();
        let mut seen = std::collections::BTreeSet::new();
        for (name, value) in url::form_urlencoded::parse(raw.as_bytes()) {
            let name = name.as_ref();
            let known = matches!(
                name,
                "added_after"
                    | "limit"
                    | "next"
                    | "match[id]"
                    | "match[type]"
                    | "match[version]"
                    | "match[spec_version]"
            );
            if !known {
                return Err(QueryError::Unknown(name.escape_debug().to_string()));
            }
            if !endpoint.allows(name) {
                return Err(QueryError::NotAllowed { parameter: name.to_string(), endpoint: endpoint.name() });
            }
            if !seen.insert(name.to_string()) && !name.starts_with("match[") {
                return Err(QueryError::Repeated(name.to_string()));
            }
            let value = value.as_ref();
            match name {
                "added_after" => {
                    query.added_after =
                        Some(value.parse().map_err(|e: crate::TimestampError| malformed(name, e.to_string()))?)
                }
                "limit" => {
                    let limit: u64 = value.parse().map_err(|_| malformed(name, "not a whole number"))?;
                    if limit == 0 {
                        return Err(malformed(name, "must be greater than 0"));
                    }
                    query.limit = Some(limit);
                }
                "next" => {
                    if value.is_empty() {
                        return Err(malformed(name, "empty"));
                    }
                    query.next = Some(value.to_string());
                }
                "match[id]" => query.ids.extend(list(name, value)?.into_iter().map(String::from)),
                "match[type]" => {
                    for item in list(name, value)? {
                        if !stix_type(item) {
                            return Err(malformed(name, format!("'{}' is not a STIX type", item.escape_debug())));
                        }
                        query.types.push(item.to_string());
                    }
                }
                "match[version]" => {
                    for item in list(name, value)? {
                        query.versions.push(match item {
                            "last" => VersionMatch::Last,
                            "first" => VersionMatch::First,
                            "all" => VersionMatch::All,
                            other => VersionMatch::At(other.parse().map_err(|_| {
                                malformed(
                                    name,
                                    format!("'{}' is neither last, first, all nor a timestamp", other.escape_debug()),
                                )
                            })?),
                        });
                    }
                }
                _ => {
                    for item in list(name, value)? {
                        if !spec_version(item) {
                            return Err(malformed(name, format!("'{}' is not a STIX version", item.escape_debug())));
                        }
                        query.spec_versions.push(item.to_string());
                    }
                }
            }
        }
        query.ids.sort();
        query.ids.dedup();
        query.types.sort();
        query.types.dedup();
        query.versions.sort();
        query.versions.dedup();
        query.spec_versions.sort();
        query.spec_versions.dedup();
        Ok(query)
    }

    /// Whether the `match[id]` and `match[type]` filters let `id` through.
    pub fn matches_id(&self, id: &str) -> bool {
        let object_type = id.split_once("--").map_or(id, |(t, _)| t);
        (self.ids.is_empty() || self.ids.iter().any(|i| i == id))
            && (self.types.is_empty() || self.types.iter().any(|t| t == object_type))
    }

    /// [`Query::matches_id`] for a compact id: the type is compared as it
    /// is, and the id's text is made only when `match[id]` is given.
    pub fn matches_stix_id(&self, id: &crate::StixId) -> bool {
        (self.types.is_empty() || self.types.iter().any(|t| t == id.object_type()))
            && (self.ids.is_empty() || self.ids.contains(&id.to_string()))
    }

    /// Whether `match[spec_version]` lets objects of `version` through
    /// (by default only the newest, [`SPEC_VERSION`], which is all a
    /// cordon collection holds).
    pub fn matches_spec_version(&self, version: &str) -> bool {
        if self.spec_versions.is_empty() {
            return version == SPEC_VERSION;
        }
        self.spec_versions.iter().any(|v| v == version)
    }

    /// The versions `match[version]` selects of an object whose versions
    /// are `versions`, oldest first.
    pub fn select_versions(&self, versions: &[Micros]) -> Vec<Micros> {
        let last = versions.len().saturating_sub(1);
        let selected = versions.iter().enumerate().filter(|(i, v)| self.matches_version(**v, *i == 0, *i == last));
        selected.map(|(_, v)| *v).collect()
    }

    /// Whether `match[version]` selects `version` of an object, which is
    /// its `first` and/or its `last` version.
    pub fn matches_version(&self, version: Micros, first: bool, last: bool) -> bool {
        let wanted: &[VersionMatch] = if self.versions.is_empty() { &[VersionMatch::Last] } else { &self.versions };
        wanted.iter().any(|m| match m {
            VersionMatch::Last => last,
            VersionMatch::First => first,
            VersionMatch::All => true,
            VersionMatch::At(at) => *at == version,
        })
    }

    /// The text a cursor is bound to: who asks (`caller`), where (`scope`:
    /// the collection and endpoint, the object for its endpoints) and every
    /// filter but `next` and `limit`, in a canonical form. A cursor sealed
    /// for one binding opens for no other.
    pub fn binding(&self, caller: &str, scope: &str) -> String {
        let versions: Vec<String> = self
            .versions
            .iter()
            .map(|v| match v {
                VersionMatch::Last => "last".to_string(),
                VersionMatch::First => "first".to_string(),
                VersionMatch::All => "all".to_string(),
                VersionMatch::At(at) => at.0.to_string(),
            })
            .collect();
        // Length-prefixed fields: no value can pass for two others.
        let fields = [
            caller.to_string(),
            scope.to_string(),
            self.added_after.map_or_else(String::new, |a| a.0.to_string()),
            self.ids.join(","),
            self.types.join(","),
            versions.join(","),
            self.spec_versions.join(","),
        ];
        fields.iter().map(|f| format!("{}:{f};", f.len())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_filter_with_comma_lists() {
        let q = Query::parse(
            "added_after=2026-01-01T00:00:00.5Z&limit=10&next=abc&match[id]=indicator--b,indicator--a\
             &match[type]=indicator&match[type]=malware&match[version]=all&match[spec_version]=2.1",
            Endpoint::Objects,
        )
        .unwrap();
        assert_eq!(q.added_after, Some(Micros(1_767_225_600_500_000)));
        assert_eq!(q.limit, Some(10));
        assert_eq!(q.next.as_deref(), Some("abc"));
        assert_eq!(q.ids, ["indicator--a", "indicator--b"]);
        assert_eq!(q.types, ["indicator", "malware"]);
        assert_eq!(q.versions, [VersionMatch::All]);
        assert!(q.matches_id("indicator--a") && !q.matches_id("indicator--c"));
        assert!(!Query::parse("match[type]=malware", Endpoint::Objects).unwrap().matches_id("indicator--a"));
    }

    #[test]
    fn encoded_brackets_are_the_same_parameter() {
        let q = Query::parse("match%5Btype%5D=indicator", Endpoint::Manifest).unwrap();
        assert_eq!(q.types, ["indicator"]);
    }

    #[test]
    fn malformed_unknown_repeated_or_misplaced_parameters_are_refused() {
        let cases = [
            ("added_after=yesterday", Endpoint::Objects),
            ("added_after=", Endpoint::Objects),
            ("limit=0", Endpoint::Objects),
            ("limit=-1", Endpoint::Objects),
            ("limit=ten", Endpoint::Objects),
            ("limit=1&limit=2", Endpoint::Objects),
            ("next=", Endpoint::Objects),
            ("match[type]=Indicator", Endpoint::Objects),
            ("match[type]=indicator,", Endpoint::Objects),
            ("match[version]=newest", Endpoint::Objects),
            ("match[spec_version]=two", Endpoint::Objects),
            ("match[colour]=red", Endpoint::Objects),
            ("sort=asc", Endpoint::Objects),
            ("match[id]=indicator--a", Endpoint::Object),
            ("match[type]=indicator", Endpoint::Versions),
            ("limit=5", Endpoint::DeleteObject),
        ];
        for (raw, endpoint) in cases {
            assert!(Query::parse(raw, endpoint).is_err(), "{raw} on {endpoint:?}");
        }
    }

    #[test]
    fn version_defaults_and_selection() {
        let versions = [Micros(1), Micros(2), Micros(3)];
        let q = |raw: &str| Query::parse(raw, Endpoint::Objects).unwrap();
        assert_eq!(q("").select_versions(&versions), [Micros(3)]);
        assert_eq!(q("match[version]=first").select_versions(&versions), [Micros(1)]);
        assert_eq!(q("match[version]=first,last").select_versions(&versions), [Micros(1), Micros(3)]);
        assert_eq!(q("match[version]=all").select_versions(&versions), versions);
        let at = q("match[version]=1970-01-01T00:00:00.000002Z");
        assert_eq!(at.select_versions(&versions), [Micros(2)]);
        assert!(q("").matches_spec_version("2.1") && !q("").matches_spec_version("2.0"));
        assert!(q("match[spec_version]=2.0").matches_spec_version("2.0"));
        assert!(!q("match[spec_version]=2.0").matches_spec_version("2.1"));
    }

    #[test]
    fn bindings_differ_with_any_filter_or_caller_but_not_with_limit_or_next() {
        let binding =
            |raw: &str, caller: &str| Query::parse(raw, Endpoint::Objects).unwrap().binding(caller, "c/objects");
        let base = binding("match[type]=indicator", "a@x");
        assert_eq!(base, binding("match[type]=indicator&limit=5&next=zz", "a@x"));
        for other in [
            binding("match[type]=indicator", "b@x"),
            binding("match[type]=malware", "a@x"),
            binding("match[type]=indicator&match[version]=all", "a@x"),
            binding("match[type]=indicator&added_after=2026-01-01T00:00:00Z", "a@x"),
            binding("", "a@x"),
        ] {
            assert_ne!(base, other);
        }
        let q = Query::default();
        assert_ne!(q.binding("a", "b:c"), q.binding("a:b", "c"));
    }
}
