//! MISP feed directories: `manifest.json` plus one `<uuid>.json` per event.
//!
//! The manifest maps each event uuid to a summary (`info`, `date`, `Orgc`,
//! `Tag`, `timestamp`, …). Every listed event is read, in manifest order,
//! from its file; the summary's tags, `info` and `date` stand in for those an
//! event file lacks. A missing manifest, or one that is not a JSON object, is
//! an error for the whole directory; a problem with one event is not:
//! * a key that is not a UUID is rejected and no file is opened for it (a
//!   manifest must not make cordon read `../elsewhere.json`);
//! * a listed file that is missing, unreadable or not a MISP event is
//!   rejected, naming the file;
//! * a file whose event uuid differs from its manifest key is read, with a
//!   warning.
//!
//! Files that the manifest does not list are ignored with a warning, except
//! `manifest.json`, `hashes.csv` (the optional `md5(value),uuid` index, which
//! adds nothing to the events) and hidden files.
//!
//! Events about the directory rather than an attribute (rejections of event
//! files, warnings about stray files) have `line` 0; attribute lines count on
//! through the events as described in [`super`].

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufReader, ErrorKind};
use std::path::Path;

use serde_json::Value;

use super::{event_list, read_event};
use crate::json::{self, Entries};
use crate::{Event, Format, FormatError};

/// Files of a feed directory that are not events and need no warning.
const KNOWN_FILES: &[&str] = &["manifest.json", "hashes.csv"];

/// Reads the feed directory `dir` (see the module docs).
pub(super) fn parse_dir(dir: &Path, sink: &mut dyn FnMut(Event)) -> Result<(), FormatError> {
    let manifest_path = dir.join("manifest.json");
    let file = File::open(&manifest_path).map_err(|source| FormatError::Io { path: manifest_path.clone(), source })?;
    let manifest: Entries = json::read_document(&manifest_path, Format::MispFeed, &mut BufReader::new(file))?;
    let mut listed = HashSet::new();
    let mut line = 0;
    for (uuid, summary) in &manifest.0 {
        if !is_uuid(uuid) {
            sink(Event::Rejected {
                line: 0,
                reason: format!("manifest.json lists '{uuid}', which is not an event UUID; not read"),
            });
            continue;
        }
        let file_name = format!("{uuid}.json");
        listed.insert(file_name.clone());
        let path = dir.join(&file_name);
        let document: Value = match File::open(&path) {
            Ok(file) => match json::read_document(&path, Format::Misp, &mut BufReader::new(file)) {
                Ok(document) => document,
                Err(error) => {
                    sink(Event::Rejected { line: 0, reason: format!("event {uuid}: {error}") });
                    continue;
                }
            },
            Err(error) if error.kind() == ErrorKind::NotFound => {
                sink(Event::Rejected {
                    line: 0,
                    reason: format!("event {uuid} is listed in manifest.json but {file_name} is missing"),
                });
                continue;
            }
            Err(error) => {
                sink(Event::Rejected { line: 0, reason: format!("event {uuid}: {file_name}: {error}") });
                continue;
            }
        };
        let events = match event_list(&document) {
            Ok(events) => events,
            Err(reason) => {
                sink(Event::Rejected { line: 0, reason: format!("event {uuid}: {file_name}: {reason}") });
                continue;
            }
        };
        for event in events {
            let found = json::text(event, "uuid");
            if let Some(found) = found.filter(|found| !found.eq_ignore_ascii_case(uuid)) {
                sink(Event::Warning {
                    line: 0,
                    message: format!("{file_name} holds event {found}, not the {uuid} the manifest lists"),
                });
            }
            read_event(event, summary.as_object(), &mut line, sink);
        }
    }
    warn_about_stray_files(dir, &listed, sink)
}

/// Warns about every file of `dir` that is neither listed nor known.
fn warn_about_stray_files(
    dir: &Path,
    listed: &HashSet<String>,
    sink: &mut dyn FnMut(Event),
) -> Result<(), FormatError> {
    let entries = std::fs::read_dir(dir).map_err(|source| FormatError::Io { path: dir.to_path_buf(), source })?;
    let mut stray: Vec<String> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| FormatError::Io { path: dir.to_path_buf(), source })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if is_file && !name.starts_with('.') && !KNOWN_FILES.contains(&name.as_str()) && !listed.contains(&name) {
            stray.push(name);
        }
    }
    stray.sort();
    for name in stray {
        sink(Event::Warning { line: 0, message: format!("{name} is not listed in manifest.json; ignored") });
    }
    Ok(())
}

/// `8-4-4-4-12` hexadecimal digits.
fn is_uuid(key: &str) -> bool {
    let groups: Vec<&str> = key.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids() {
        assert!(is_uuid("5f3c9a42-8e1b-4c6d-9a7e-2b4f6d8e0a13"));
        assert!(!is_uuid("../5f3c9a42-8e1b-4c6d-9a7e-2b4f6d8e0a13"));
        assert!(!is_uuid("5f3c9a42-8e1b-4c6d-9a7e"));
        assert!(!is_uuid("5f3c9a42-8e1b-4c6d-9a7e-2b4f6d8e0a1g"));
    }
}
