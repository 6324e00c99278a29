//! The in-memory lookup index: for each view (who reads, up to which TLP),
//! the address and CIDR indicators it may see, compiled into an `IpMap` and
//! rebuilt when the store's generation moves on: read at most every
//! [`FRESH`], and on PostgreSQL also told at once by a notification
//! ([`Indexes::notified`], from the server's generation watch).

use std::collections::HashMap;
use std::io::Write;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cordon_app::{App, AppError};
use cordon_model::{Tlp, Viewer};
use cordon_netset::{IpMap, IpMapBuilder};
use cordon_store::IndicatorFilter;
use serde::Serialize;

use crate::lease::Lease;

/// Why an address is listed: one indicator as the view sees it (the
/// object `cordon lookup --json` lists under `matches`).
#[derive(Serialize)]
struct Listed<'a> {
    /// The indicator (an address or a CIDR).
    indicator: &'a str,
    /// Its categories.
    categories: Vec<&'static str>,
    /// Its sources.
    sources: &'a [String],
    /// Its combined confidence.
    confidence: u8,
    /// The most restrictive TLP among what the view sees of it.
    tlp: &'static str,
}

/// One view's index: each indicator's answer fragment, serialized once
/// when the index is built, so a lookup only copies bytes.
pub(crate) struct Index {
    map: IpMap<Box<str>>,
}

impl Index {
    /// Appends the answer about `ip` to `out`: `{"ip", "listed",
    /// "matches"}` with the covering indicators most specific first (the
    /// map's order: fewest addresses, then the first inserted).
    pub(crate) fn write_answer(&self, ip: IpAddr, out: &mut Vec<u8>) {
        let mut matches = self.map.get_all(ip).peekable();
        out.extend_from_slice(b"{\"ip\":\"");
        // An address's text never needs JSON escaping.
        let _ = write!(out, "{ip}");
        if matches.peek().is_none() {
            out.extend_from_slice(b"\",\"listed\":false,\"matches\":[]}");
            return;
        }
        out.extend_from_slice(b"\",\"listed\":true,\"matches\":[");
        for (n, fragment) in matches.enumerate() {
            if n > 0 {
                out.push(b',');
            }
            out.extend_from_slice(fragment.as_bytes());
        }
        out.extend_from_slice(b"]}");
    }

    /// How many indicators the index holds.
    fn len(&self) -> usize {
        self.map.len()
    }
}

/// A built index and the store generation it is of.
type Built = (i64, Arc<Index>);

/// How long a generation read is taken as current, from the read's start:
/// a change in the store reaches lookups within this time.
const FRESH: Duration = Duration::from_millis(250);

/// The indexes built so far, by view.
#[derive(Default)]
pub(crate) struct Indexes {
    built: Mutex<HashMap<(Viewer, Tlp), Built>>,
    /// The store's generation (never locked while the store is read): a
    /// [`Lease`], renewed in the background while lookups find it current.
    generation: Mutex<Option<Lease<i64>>>,
    /// Held while an index is built, so that callers who all find theirs
    /// out of date build it once, not once each.
    building: Mutex<()>,
}

impl Indexes {
    /// The index of `viewer` up to `max_tlp`, built or rebuilt if the store
    /// changed since (blocking: it reads the store).
    pub(crate) fn get(&self, app: &App, viewer: Viewer, max_tlp: Tlp) -> Result<Arc<Index>, AppError> {
        let generation = self.generation(app)?;
        if let Some(index) = self.current(viewer, max_tlp, generation) {
            return Ok(index);
        }
        let _building = self.building.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(index) = self.current(viewer, max_tlp, generation) {
            return Ok(index);
        }
        let mut builder = IpMapBuilder::new();
        let mut failed = None;
        let filter = IndicatorFilter { max_tlp, ..IndicatorFilter::new(viewer) };
        app.listed_networks(&filter, &mut |net, i| {
            let listed = Listed {
                indicator: &i.value,
                categories: i.categories.iter().map(|c| c.as_str()).collect(),
                sources: &i.sources,
                confidence: i.confidence,
                tlp: i.tlp.as_str(),
            };
            match serde_json::to_string(&listed) {
                Ok(fragment) => {
                    builder.insert(net, fragment.into_boxed_str());
                }
                Err(e) => failed = Some(e),
            }
        })?;
        if let Some(e) = failed {
            return Err(AppError::Storage(format!("serializing a lookup answer: {e}")));
        }
        let index = Arc::new(Index { map: builder.build() });
        // What was read may be newer than the generation checked: stamp it
        // with that one, so the next change rebuilds it.
        self.built.lock().unwrap_or_else(|p| p.into_inner()).insert((viewer, max_tlp), (generation, index.clone()));
        Ok(index)
    }

    /// The view's index if it was built from `generation`.
    fn current(&self, viewer: Viewer, max_tlp: Tlp, generation: i64) -> Option<Arc<Index>> {
        let built = self.built.lock().unwrap_or_else(|p| p.into_inner());
        built.get(&(viewer, max_tlp)).filter(|(of, _)| *of == generation).map(|(_, index)| index.clone())
    }

    /// For the metrics: how many views have an index, their entries in
    /// all, and the newest store generation an index was built from.
    pub(crate) fn stats(&self) -> (usize, usize, Option<i64>) {
        let built = self.built.lock().unwrap_or_else(|p| p.into_inner());
        let entries = built.values().map(|(_, index)| index.len()).sum();
        (built.len(), entries, built.values().map(|(generation, _)| *generation).max())
    }

    /// The index of the view when it is known to be current, without
    /// touching the store (the async fast path). Once the generation's
    /// lease is half spent, one caller at a time has it read again on the
    /// blocking pool (from `app`'s store) and goes on meanwhile.
    pub(crate) fn fresh(self: &Arc<Self>, app: &Arc<App>, viewer: Viewer, max_tlp: Tlp) -> Option<Arc<Index>> {
        let (generation, renew) = self.generation.lock().unwrap_or_else(|p| p.into_inner()).as_mut()?.take(FRESH)?;
        if renew {
            let (indexes, app) = (self.clone(), app.clone());
            // A failed read lets the lease age: past FRESH, lookups read
            // the store themselves and answer its error.
            tokio::task::spawn_blocking(move || indexes.read_generation(&app));
        }
        self.current(viewer, max_tlp, generation)
    }

    /// The store's generation, read at most every [`FRESH`].
    fn generation(&self, app: &App) -> Result<i64, AppError> {
        let held = self.generation.lock().unwrap_or_else(|p| p.into_inner()).as_ref().and_then(|l| l.peek(FRESH));
        match held {
            Some(generation) => Ok(generation),
            None => self.read_generation(app),
        }
    }

    /// Another replica's commit moved the store's generation to
    /// `generation` (a notification): kept as just read, so lookups
    /// rebuild at once instead of when the lease of the last read runs
    /// out.
    pub(crate) fn notified(&self, generation: i64) {
        let now = Instant::now();
        let mut cached = self.generation.lock().unwrap_or_else(|p| p.into_inner());
        match cached.as_mut() {
            Some(lease) => lease.settle(Some(generation), now),
            None => *cached = Some(Lease::new(generation, now)),
        }
    }

    /// Reads the store's generation and keeps it (unless a read begun
    /// later was kept meanwhile).
    fn read_generation(&self, app: &App) -> Result<i64, AppError> {
        let read = Instant::now();
        let result = app.generation();
        let mut cached = self.generation.lock().unwrap_or_else(|p| p.into_inner());
        match (cached.as_mut(), &result) {
            (Some(lease), _) => lease.settle(result.as_ref().ok().copied(), read),
            (None, Ok(generation)) => *cached = Some(Lease::new(*generation, read)),
            (None, Err(_)) => {}
        }
        result
    }
}

/// Tells `lookups` of every move of the store's generation that the store
/// notifies (PostgreSQL: another replica's commit, or this one's), until
/// `stop` turns true; returns at once on a store that notifies no one
/// (SQLite), where polling is the only way. A watch that fails is logged
/// and begun again a second later; polling covers the gap.
pub(crate) fn follow_notifications(app: &App, lookups: &Indexes, stop: &tokio::sync::watch::Receiver<bool>) {
    while !*stop.borrow() {
        let watched = app.watch_generation(&mut |generation| {
            if let Some(generation) = generation {
                lookups.notified(generation);
            }
            !*stop.borrow()
        });
        match watched {
            Ok(false) => return,
            // Stopped: the loop ends.
            Ok(true) => {}
            Err(error) => {
                tracing::warn!(%error, "cannot follow the store's generation; polling it meanwhile");
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A notified generation is taken as read: lookups check it, not the
    /// store's (still 0 here), until it ages past [`FRESH`].
    #[test]
    fn a_notified_generation_is_taken_as_just_read() {
        let dir = tempfile::tempdir().unwrap();
        let app = App::open(&cordon_app::Config::new(dir.path().join("cordon.db"))).unwrap();
        let indexes = Indexes::default();
        assert_eq!(indexes.generation(&app).unwrap(), 0);
        indexes.notified(7);
        assert_eq!(indexes.generation(&app).unwrap(), 7);
        std::thread::sleep(FRESH);
        assert_eq!(indexes.generation(&app).unwrap(), 0, "then the store is read again");
    }
}
