//! The TAXII 2.1 resources (section 4 to 5 of the standard), as a server
//! writes them and a client reads them. Optional members are left out when
//! empty, as the standard's examples do.

use serde::{Deserialize, Serialize};

use crate::Micros;

/// `GET /taxii2/`: what the server offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discovery {
    /// A name for the server (required).
    pub title: String,
    /// What it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whom to ask about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// The API root a client should use (one of `api_roots`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Every API root's URL.
    #[serde(default)]
    pub api_roots: Vec<String>,
}

/// `GET {root}/`: one API root.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiRoot {
    /// Its name (required).
    pub title: String,
    /// What it holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The TAXII versions it speaks (must hold [`crate::TAXII_MEDIA_TYPE`]).
    pub versions: Vec<String>,
    /// The largest request body it takes, in bytes.
    pub max_content_length: u64,
}

/// One collection, as `collections/` and `collections/{id}/` show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collection {
    /// Its identifier (a UUID).
    pub id: String,
    /// Its name.
    pub title: String,
    /// What it holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A short name a client may use in its place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// Whether the caller may read its objects.
    pub can_read: bool,
    /// Whether the caller may add objects to it.
    pub can_write: bool,
    /// The media types of its objects.
    #[serde(default)]
    pub media_types: Vec<String>,
}

/// `GET {root}/collections/`: `{}` when there are none.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collections {
    /// The collections the caller may know of.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub collections: Vec<Collection>,
}

/// `GET …/objects/` and `…/objects/{id}/`: a page of STIX objects.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// Whether more objects match than this page holds.
    #[serde(default)]
    pub more: bool,
    /// Where the next page starts (opaque).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// The objects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<serde_json::Value>,
}

/// One object version as `manifest/` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestRecord {
    /// The object's id.
    pub id: String,
    /// When this version was added to the collection.
    pub date_added: String,
    /// The version (the object's `modified`).
    pub version: String,
    /// Its media type.
    pub media_type: String,
}

/// `GET …/manifest/`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Whether more records match than this page holds.
    #[serde(default)]
    pub more: bool,
    /// Where the next page starts (opaque).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// The records.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<ManifestRecord>,
}

/// `GET …/objects/{id}/versions/`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Versions {
    /// Whether more versions match than this page holds.
    #[serde(default)]
    pub more: bool,
    /// Where the next page starts (opaque).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// The versions, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
}

/// Whether the work a status reports is done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusKind {
    /// Every object has been dealt with.
    Complete,
    /// Some objects are still waiting.
    Pending,
}

/// One object of a status's lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusDetail {
    /// The object's id.
    pub id: String,
    /// Its version (`modified`, or `created` for objects without one).
    pub version: String,
    /// Why it failed, or what happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `GET {root}/status/{id}/`, and the answer to a POST of objects. The
/// counts add up: `total_count = success_count + failure_count +
/// pending_count` ([`Status::new`] makes them so).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// Its identifier.
    pub id: String,
    /// Whether it is done.
    pub status: StatusKind,
    /// When the request was made.
    pub request_timestamp: String,
    /// Objects in the request.
    pub total_count: u64,
    /// Objects added.
    pub success_count: u64,
    /// Which.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub successes: Vec<StatusDetail>,
    /// Objects refused.
    pub failure_count: u64,
    /// Which, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<StatusDetail>,
    /// Objects not yet dealt with.
    pub pending_count: u64,
    /// Which.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pendings: Vec<StatusDetail>,
}

impl Status {
    /// A status whose counts are the lengths of its lists: complete when
    /// nothing is pending.
    pub fn new(
        id: String,
        requested: Micros,
        successes: Vec<StatusDetail>,
        failures: Vec<StatusDetail>,
        pendings: Vec<StatusDetail>,
    ) -> Status {
        let count = |list: &Vec<StatusDetail>| list.len() as u64;
        Status {
            id,
            status: if pendings.is_empty() { StatusKind::Complete } else { StatusKind::Pending },
            request_timestamp: requested.to_string(),
            total_count: count(&successes) + count(&failures) + count(&pendings),
            success_count: count(&successes),
            failure_count: count(&failures),
            pending_count: count(&pendings),
            successes,
            failures,
            pendings,
        }
    }
}

/// A TAXII error message (section 3.6.1): `title` is required; cordon
/// always says the HTTP status too, as a string equal to the real one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorObject {
    /// What went wrong, in a few words.
    pub title: String,
    /// What went wrong, for a person to act on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The HTTP status, e.g. `"404"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<String>,
}

impl ErrorObject {
    /// The error of `status` (its reason phrase as the title) saying
    /// `description`.
    pub fn new(status: u16, title: &str, description: impl Into<String>) -> ErrorObject {
        ErrorObject {
            title: title.to_string(),
            description: Some(description.into()),
            http_status: Some(status.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_counts_add_up() {
        let detail = |id: &str| StatusDetail { id: id.into(), version: "v".into(), message: None };
        let status = Status::new("s".into(), Micros(0), vec![detail("a"), detail("b")], vec![detail("c")], vec![]);
        assert_eq!((status.total_count, status.success_count, status.failure_count), (3, 2, 1));
        assert_eq!(status.status, StatusKind::Complete);
        let pending = Status::new("s".into(), Micros(0), vec![], vec![], vec![detail("a")]);
        assert_eq!(pending.status, StatusKind::Pending);
    }

    #[test]
    fn empty_lists_are_left_out() {
        assert_eq!(serde_json::to_string(&Collections::default()).unwrap(), "{}");
        assert_eq!(serde_json::to_string(&Envelope::default()).unwrap(), r#"{"more":false}"#);
        let error = serde_json::to_value(ErrorObject::new(404, "Not Found", "no such collection")).unwrap();
        assert_eq!(error["http_status"], "404");
        assert_eq!(error["title"], "Not Found");
    }
}
