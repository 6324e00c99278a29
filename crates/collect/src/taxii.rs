//! A TAXII 2.1 collection, pulled incrementally.
//!
//! `taxii2+https://host/api/collections/ID/` is read at
//! `https://host/api/collections/ID/objects/` with `added_after` set to the
//! `X-TAXII-Date-Added-Last` the previous run ended at (the cursor), then
//! page after page: with the server's `next` while it gives one, else with
//! `added_after` moved to the page's `X-TAXII-Date-Added-Last` while `more`
//! is true. The objects of every page go into one STIX bundle, one import;
//! a run that finds no object imports nothing. The cursor moves only with
//! the run's import, so a failed run is read again whole.

use cordon_formats::Format;
use serde_json::Value;

use crate::content::Content;
use crate::http::Client;
use crate::{CollectError, FeedState, Pull, Settings};

/// The media type of TAXII 2.1 answers.
const TAXII: &str = "application/taxii+json;version=2.1";

/// The most pages one run reads; the rest waits for the next run.
const MAX_PAGES: usize = 10_000;

/// The objects asked for per page.
const PAGE_LIMIT: &str = "1000";

/// The longest `X-TAXII-Date-Added-Last` kept as a cursor.
const MAX_TIMESTAMP: usize = 40;

/// One envelope's part that paging needs.
struct Page {
    objects: Vec<Value>,
    more: bool,
    next: Option<String>,
    last_added: Option<String>,
}

pub(crate) fn pull(
    client: &Client,
    feed_url: &str,
    state: &FeedState,
    settings: &Settings,
) -> Result<Pull, CollectError> {
    let url = objects_url(feed_url)?;
    let mut added_after = state.cursor.clone();
    let mut newest = state.cursor.clone();
    let mut next: Option<String> = None;
    let mut bytes = 0;
    let mut status = 200;
    let mut objects = Vec::new();
    for _ in 0..MAX_PAGES {
        // Asked for on every page: servers cap it at their own page size,
        // and medallion refuses a `next` that comes without it.
        let mut query = vec![("limit", PAGE_LIMIT)];
        if let Some(after) = &added_after {
            query.push(("added_after", after.as_str()));
        }
        if let Some(cursor) = &next {
            query.push(("next", cursor.as_str()));
        }
        let answer = client.get(&url, &[("Accept", TAXII)], &query, &mut bytes)?;
        status = answer.status;
        if bytes > settings.max_body {
            let limit = settings.max_body;
            return Err(CollectError::TooLarge(format!("{url}: the collection's new objects are over {limit} bytes")));
        }
        let page = page(&url, &answer.body, &answer.headers)?;
        objects.extend(page.objects);
        if page.last_added.is_some() {
            newest.clone_from(&page.last_added);
        }
        match (page.more, page.next, page.last_added) {
            // `next` belongs to the query it came with: the filters stay.
            (true, Some(cursor), _) => next = Some(cursor),
            (true, None, Some(last)) if added_after.as_ref() != Some(&last) => {
                added_after = Some(last);
                next = None;
            }
            _ => break,
        }
    }
    let new_state = FeedState { cursor: newest, ..FeedState::default() };
    if objects.is_empty() {
        return Ok(Pull { url, status, bytes, content: None, state: new_state });
    }
    let bundle = serde_json::json!({
        "type": "bundle",
        "id": format!("bundle--{}", uuid::Uuid::new_v4()),
        "objects": objects,
    });
    let body = serde_json::to_vec(&bundle).map_err(|e| CollectError::Protocol(format!("{url}: {e}")))?;
    let content = Content::generated(&url, body, Format::Stix);
    Ok(Pull { url, status, bytes, content: Some(content), state: new_state })
}

/// The objects endpoint of a `taxii2+http(s)://…/collections/ID/` URL.
fn objects_url(feed_url: &str) -> Result<String, CollectError> {
    let plain = feed_url.strip_prefix("taxii2+").unwrap_or(feed_url);
    let mut url = url::Url::parse(plain).map_err(|e| CollectError::Invalid(format!("'{feed_url}': {e}")))?;
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    if !url.path().contains("/collections/") {
        return Err(CollectError::Invalid(format!("'{feed_url}' is not a TAXII collection URL (…/collections/ID/)")));
    }
    url.set_query(None);
    let objects = url.join("objects/").map_err(|e| CollectError::Invalid(format!("'{feed_url}': {e}")))?;
    Ok(objects.to_string())
}

/// Reads one envelope.
fn page(url: &str, body: &[u8], headers: &ureq::http::HeaderMap) -> Result<Page, CollectError> {
    let invalid = |why: &str| CollectError::Protocol(format!("{url}: not a TAXII 2.1 envelope: {why}"));
    let envelope: Value = serde_json::from_slice(body).map_err(|e| invalid(&e.to_string()))?;
    let Value::Object(mut envelope) = envelope else { return Err(invalid("not a JSON object")) };
    let objects = match envelope.remove("objects") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(objects)) => objects,
        Some(_) => return Err(invalid("`objects` is not a list")),
    };
    let more = envelope.get("more").and_then(Value::as_bool).unwrap_or(false);
    let next = match envelope.get("next") {
        None | Some(Value::Null) => None,
        Some(Value::String(next)) if !next.is_empty() => Some(next.clone()),
        Some(_) => return Err(invalid("`next` is not a string")),
    };
    let last_added = crate::http::validator(headers, "x-taxii-date-added-last")
        .filter(|t| t.len() <= MAX_TIMESTAMP && t.bytes().all(|b| b.is_ascii_digit() || b"-:.TZ+".contains(&b)));
    Ok(Page { objects, more, next, last_added })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collection_urls_map_to_their_objects_endpoint() {
        let cases = [
            ("taxii2+https://t.example/api1/collections/abc/", "https://t.example/api1/collections/abc/objects/"),
            ("taxii2+http://127.0.0.1:5000/r/collections/abc", "http://127.0.0.1:5000/r/collections/abc/objects/"),
        ];
        for (feed, objects) in cases {
            assert_eq!(objects_url(feed).unwrap(), objects);
        }
        assert!(objects_url("taxii2+https://t.example/api1/").is_err());
    }
}
