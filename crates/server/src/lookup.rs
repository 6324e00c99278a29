//! The in-memory lookup index: for each view (who reads, up to which TLP),
//! the address and CIDR indicators it may see, compiled into an `IpMap` and
//! rebuilt when the store's generation moves on.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use cordon_app::{App, AppError};
use cordon_model::{Tlp, Viewer};
use cordon_netset::{IpMap, IpMapBuilder};
use cordon_store::IndicatorFilter;
use serde::Serialize;

/// Why an address is listed: one indicator as the view sees it.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Listed {
    /// The indicator (an address or a CIDR).
    pub(crate) indicator: String,
    /// Its categories.
    pub(crate) categories: Vec<&'static str>,
    /// Its sources.
    pub(crate) sources: Vec<String>,
    /// Its combined confidence.
    pub(crate) confidence: u8,
    /// The most restrictive TLP among what the view sees of it.
    pub(crate) tlp: &'static str,
}

/// One view's index.
pub(crate) struct Index {
    map: IpMap<u32>,
    entries: Vec<Listed>,
}

impl Index {
    /// The indicators covering `ip`, most specific first.
    pub(crate) fn covering(&self, ip: IpAddr) -> Vec<&Listed> {
        let width = |first: IpAddr, last: IpAddr| match (first, last) {
            (IpAddr::V4(a), IpAddr::V4(b)) => u128::from(u32::from(b) - u32::from(a)),
            (IpAddr::V6(a), IpAddr::V6(b)) => u128::from(b) - u128::from(a),
            _ => u128::MAX,
        };
        let mut hits: Vec<(u128, &Listed)> = self
            .map
            .covering(ip)
            .iter()
            .filter_map(|id| {
                let (range, index) = self.map.entry(*id)?;
                Some((width(range.first(), range.last()), self.entries.get(*index as usize)?))
            })
            .collect();
        hits.sort_by_key(|(width, _)| *width);
        hits.into_iter().map(|(_, listed)| listed).collect()
    }
}

/// A built index and the store generation it is of.
type Built = (i64, Arc<Index>);

/// The indexes built so far, by view.
#[derive(Default)]
pub(crate) struct Indexes {
    built: Mutex<HashMap<(Viewer, Tlp), Built>>,
}

impl Indexes {
    /// The index of `viewer` up to `max_tlp`, built or rebuilt if the store
    /// changed since.
    pub(crate) fn get(&self, app: &App, viewer: Viewer, max_tlp: Tlp) -> Result<Arc<Index>, AppError> {
        let generation = app.generation()?;
        if let Some((built, index)) = self.built.lock().unwrap_or_else(|p| p.into_inner()).get(&(viewer, max_tlp)) {
            if *built == generation {
                return Ok(index.clone());
            }
        }
        let mut builder = IpMapBuilder::new();
        let mut entries = Vec::new();
        let filter = IndicatorFilter { max_tlp, ..IndicatorFilter::new(viewer) };
        app.listed_networks(&filter, &mut |net, i| {
            builder.insert(net, entries.len() as u32);
            entries.push(Listed {
                indicator: i.value,
                categories: i.categories.iter().map(|c| c.as_str()).collect(),
                sources: i.sources,
                confidence: i.confidence,
                tlp: i.tlp.as_str(),
            });
        })?;
        let index = Arc::new(Index { map: builder.build(), entries });
        self.built.lock().unwrap_or_else(|p| p.into_inner()).insert((viewer, max_tlp), (generation, index.clone()));
        Ok(index)
    }
}
