//! Reads: indicators, one indicator, sources and imports, each as the
//! filter's viewer may see them.

use std::net::IpAddr;

use cordon_model::{normalize, Kind, Viewer};
use cordon_store::{ImportRecord, IndicatorDetail, IndicatorFilter, IndicatorSummary, SourceSummary, Store};

use crate::{App, AppError};

/// The canonical value of one indicator given in any form that normalizes
/// to it (defanged too).
pub fn canonical(raw: &str) -> Result<String, AppError> {
    let normalized = normalize(raw).map_err(|e| AppError::Invalid(e.to_string()))?;
    match normalized.observables.as_slice() {
        [one] => Ok(one.to_string()),
        _ => Err(AppError::Invalid(format!("'{raw}' is a range of several networks; name one indicator"))),
    }
}

/// What a lookup answers about one value ([`App::lookup`]).
#[derive(Clone, Debug, PartialEq)]
pub enum LookupAnswer {
    /// Listed: the indicators that list it as the viewer sees them, most
    /// specific first (an address: itself, then the networks holding it;
    /// a name or URL: itself).
    Listed(Vec<IndicatorSummary>),
    /// Nothing the viewer may see lists it.
    NotListed,
    /// Not an indicator (why).
    Invalid(String),
}

impl App {
    /// Looks values up as `cordon lookup` and the API's lookup do, defanged
    /// forms accepted: an address is listed when an address or network
    /// indicator covers it (the address itself by its index, then one
    /// stream of the network indicators, keeping only those that hold a
    /// queried address, so memory follows the matches, not the store); a
    /// name, URL or network when it is an indicator itself.
    pub fn lookup(&self, filter: &IndicatorFilter, values: &[String]) -> Result<Vec<LookupAnswer>, AppError> {
        let canonical: Vec<Result<String, AppError>> = values.iter().map(|v| canonical(v)).collect();
        let addresses: Vec<Option<IpAddr>> =
            canonical.iter().map(|c| c.as_ref().ok().and_then(|v| v.parse::<IpAddr>().ok())).collect();
        // The networks holding each queried address, with their lengths.
        let mut holding: Vec<Vec<(u8, IndicatorSummary)>> = vec![Vec::new(); values.len()];
        if addresses.iter().any(Option::is_some) {
            let networks = IndicatorFilter { kind: Some(Kind::Cidr), ..filter.clone() };
            self.store.indicators(&networks, &mut |i| {
                let Ok(net) = i.value.parse::<ipnet::IpNet>() else { return };
                for (at, ip) in addresses.iter().enumerate() {
                    if ip.is_some_and(|ip| net.contains(&ip)) {
                        holding[at].push((net.prefix_len(), i.clone()));
                    }
                }
            })?;
        }
        let mut answers = Vec::with_capacity(values.len());
        for ((value, address), mut networks) in canonical.into_iter().zip(addresses).zip(holding) {
            let value = match value {
                Ok(value) => value,
                Err(AppError::Invalid(why)) => {
                    answers.push(LookupAnswer::Invalid(why));
                    continue;
                }
                Err(other) => return Err(other),
            };
            let mut listed: Vec<IndicatorSummary> =
                self.store.indicator(&value, filter)?.map(|found| found.summary).into_iter().collect();
            if address.is_some() {
                // Most specific first.
                networks.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.value.cmp(&b.1.value)));
                listed.extend(networks.into_iter().map(|(_, i)| i));
            }
            answers.push(if listed.is_empty() { LookupAnswer::NotListed } else { LookupAnswer::Listed(listed) });
        }
        Ok(answers)
    }

    /// Streams the indicators matching `filter`, ordered by value; returns
    /// how many there were.
    pub fn indicators(
        &self,
        filter: &IndicatorFilter,
        each: &mut dyn FnMut(IndicatorSummary),
    ) -> Result<u64, AppError> {
        let mut count = 0;
        self.store.indicators(filter, &mut |i| {
            count += 1;
            each(i);
        })?;
        Ok(count)
    }

    /// One indicator, named in any form that normalizes to it, with its
    /// visible sightings and links; [`AppError::NotFound`] when the viewer
    /// sees none.
    pub fn indicator(&self, raw: &str, filter: &IndicatorFilter) -> Result<IndicatorDetail, AppError> {
        let value = canonical(raw)?;
        self.store.indicator(&value, filter)?.ok_or_else(|| AppError::NotFound(format!("{value} is not in the store")))
    }

    /// The sources `viewer` may see something of, with what it may see.
    pub fn sources(&self, viewer: &Viewer) -> Result<Vec<SourceSummary>, AppError> {
        Ok(self.store.sources(viewer)?)
    }

    /// The imports `viewer` made (all of them for the hub).
    pub fn imports(&self, viewer: &Viewer) -> Result<Vec<ImportRecord>, AppError> {
        Ok(self.store.imports(viewer)?)
    }

    /// The lookup index's content: the address and CIDR indicators the
    /// filter's viewer may see, each as its network, addresses first then
    /// networks, each kind by value. `filter.kind` is ignored.
    pub fn listed_networks(
        &self,
        filter: &IndicatorFilter,
        each: &mut dyn FnMut(ipnet::IpNet, IndicatorSummary),
    ) -> Result<(), AppError> {
        for kind in [Kind::Ipv4, Kind::Ipv6, Kind::Cidr] {
            let filter = IndicatorFilter { kind: Some(kind), ..filter.clone() };
            self.store.indicators(&filter, &mut |i| {
                let net =
                    i.value.parse::<ipnet::IpNet>().ok().or_else(|| i.value.parse::<IpAddr>().ok().map(Into::into));
                if let Some(net) = net {
                    each(net, i);
                }
            })?;
        }
        Ok(())
    }

    /// A number that changes whenever what readers see may have changed.
    pub fn generation(&self) -> Result<i64, AppError> {
        Ok(self.store.generation()?)
    }

    /// The store's identity, drawn when it was created: caches of a store
    /// that was deleted and made anew are not taken for its.
    pub fn identity(&self) -> Result<i64, AppError> {
        Ok(self.store.identity()?)
    }
}
