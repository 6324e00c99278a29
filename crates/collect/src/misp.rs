//! A MISP feed directory over HTTP: `manifest.json`, then only the events
//! that are new or whose `timestamp` changed since the last run.
//!
//! The manifest is fetched conditionally (an unchanged one is a 304 and the
//! run ends there). Its keys are event UUIDs; a key that is not one is
//! never turned into a URL. Each changed event is fetched from
//! `<uuid>.json` beside the manifest; the events go into one document (a
//! JSON list of `{"Event": …}`), one import. The cursor is the manifest's
//! `{uuid: timestamp}` as of the run: it moves only with the import, so a
//! run that fails on one event reads it (and the others) again next time.

use std::collections::BTreeMap;

use cordon_formats::Format;
use serde_json::Value;

use crate::content::Content;
use crate::http::Client;
use crate::{conditional, validators, CollectError, FeedState, Pull, Settings};

pub(crate) fn pull(
    client: &Client,
    feed_url: &str,
    state: &FeedState,
    settings: &Settings,
) -> Result<Pull, CollectError> {
    let base = base_url(feed_url)?;
    let manifest_url = base.join("manifest.json").map_err(|e| CollectError::Invalid(format!("'{feed_url}': {e}")))?;
    let mut bytes = 0;
    let answer = client.get(manifest_url.as_str(), &conditional(state), &[], &mut bytes)?;
    if answer.status == 304 {
        return Ok(Pull { url: manifest_url.to_string(), status: 304, bytes, content: None, state: state.clone() });
    }
    let invalid = |why: String| CollectError::Protocol(format!("{manifest_url}: not a MISP feed manifest: {why}"));
    let manifest: Value = serde_json::from_slice(&answer.body).map_err(|e| invalid(e.to_string()))?;
    let Value::Object(manifest) = manifest else { return Err(invalid("not a JSON object".into())) };
    let seen: BTreeMap<String, String> =
        state.cursor.as_deref().and_then(|c| serde_json::from_str(c).ok()).unwrap_or_default();
    let mut now = BTreeMap::new();
    let mut changed = Vec::new();
    for (uuid, summary) in &manifest {
        let Some(uuid) = canonical_uuid(uuid) else { continue };
        let timestamp = match summary.get("timestamp") {
            Some(Value::String(t)) => t.clone(),
            Some(Value::Number(t)) => t.to_string(),
            _ => String::new(),
        };
        if seen.get(&uuid) != Some(&timestamp) || timestamp.is_empty() {
            changed.push(uuid.clone());
        }
        now.insert(uuid, timestamp);
    }
    let mut document = b"[".to_vec();
    let mut status = answer.status;
    let mut last_url = manifest_url.to_string();
    for (i, uuid) in changed.iter().enumerate() {
        let event_url = base.join(&format!("{uuid}.json")).map_err(|e| CollectError::Invalid(e.to_string()))?;
        let event = client.get(event_url.as_str(), &[], &[], &mut bytes)?;
        status = event.status;
        let parsed: Value = serde_json::from_slice(&event.body)
            .map_err(|e| CollectError::Protocol(format!("{event_url}: not a MISP event: {e}")))?;
        if !parsed.is_object() {
            return Err(CollectError::Protocol(format!("{event_url}: not a MISP event")));
        }
        if document.len() as u64 + event.body.len() as u64 > settings.max_body {
            let limit = settings.max_body;
            return Err(CollectError::TooLarge(format!("{base}: the new and changed events are over {limit} bytes")));
        }
        if i > 0 {
            document.push(b',');
        }
        document.extend_from_slice(&event.body);
        last_url = event_url.to_string();
    }
    document.push(b']');
    let cursor = serde_json::to_string(&now).map_err(|e| CollectError::Protocol(e.to_string()))?;
    let new_state = validators(&answer, Some(cursor));
    let content = (!changed.is_empty()).then(|| Content::generated(base.as_str(), document, Format::Misp));
    Ok(Pull { url: last_url, status, bytes, content, state: new_state })
}

/// The directory of a feed URL: itself with a trailing `/`, or the
/// directory of its `manifest.json`.
fn base_url(feed_url: &str) -> Result<url::Url, CollectError> {
    let mut url = url::Url::parse(feed_url).map_err(|e| CollectError::Invalid(format!("'{feed_url}': {e}")))?;
    let path = url.path();
    let dir = match path.strip_suffix("manifest.json") {
        Some(dir) => dir.to_string(),
        None if path.ends_with('/') => path.to_string(),
        None => format!("{path}/"),
    };
    url.set_path(&dir);
    url.set_query(None);
    Ok(url)
}

/// The lowercase hyphenated form of a manifest key that is exactly an
/// event UUID (`8-4-4-4-12` hexadecimal digits), else `None`.
fn canonical_uuid(key: &str) -> Option<String> {
    let parsed = uuid::Uuid::try_parse(key).ok()?;
    let canonical = parsed.hyphenated().to_string();
    canonical.eq_ignore_ascii_case(key).then_some(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_uuid_keys_become_event_urls() {
        let id = "5f2b3c4d-1111-4222-8333-944455566677";
        assert_eq!(canonical_uuid(id).as_deref(), Some(id));
        assert_eq!(canonical_uuid(&id.to_uppercase()).as_deref(), Some(id));
        for bad in ["../../etc/passwd", "5f2b3c4d11114222833394445556667", "{5f2b3c4d-1111-4222-8333-944455566677}", ""]
        {
            assert_eq!(canonical_uuid(bad), None, "{bad}");
        }
        assert_eq!(base_url("https://m.example/feed/manifest.json").unwrap().as_str(), "https://m.example/feed/");
        assert_eq!(base_url("https://m.example/feed").unwrap().as_str(), "https://m.example/feed/");
    }
}
