//! Aggregation of address and network entries to minimal CIDR lists, by
//! cordon-netset, and the `cidr` format.

use std::io::Write;

use cordon_netset::IpSet;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use crate::{Entry, Error};

/// The minimal CIDR lists covering a set of entries, per family, ascending.
#[derive(Clone, Debug, Default)]
pub(crate) struct Networks {
    /// IPv4 networks.
    pub(crate) v4: Vec<Ipv4Net>,
    /// IPv6 networks.
    pub(crate) v6: Vec<Ipv6Net>,
}

impl Networks {
    /// Both families, IPv4 first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = IpNet> + '_ {
        self.v4.iter().copied().map(IpNet::V4).chain(self.v6.iter().copied().map(IpNet::V6))
    }
}

/// Aggregates the networks of `entries` (entries without one are ignored):
/// overlapping and adjacent networks merge, and each merged range is cut
/// into the fewest CIDR blocks.
pub(crate) fn aggregate<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Networks {
    let set: IpSet = entries.into_iter().filter_map(Entry::network).collect();
    let mut networks = Networks::default();
    set.for_each_cidr(|net| match net {
        IpNet::V4(net) => networks.v4.push(net),
        IpNet::V6(net) => networks.v6.push(net),
    });
    networks
}

/// The minimal CIDR list, one per line, IPv4 then IPv6. A single address
/// is written with its full prefix length (`/32`, `/128`).
pub(crate) fn cidr(entries: &[&Entry], out: &mut dyn Write) -> Result<(), Error> {
    for net in aggregate(entries.iter().copied()).iter() {
        writeln!(out, "{net}")?;
    }
    Ok(())
}

/// Displays a network as its address when it holds one address
/// (`45.148.10.240`), as a CIDR otherwise: the form firewall and IDS lists
/// write.
pub(crate) struct Compact(pub(crate) IpNet);

impl std::fmt::Display for Compact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.prefix_len() == self.0.max_prefix_len() {
            write!(f, "{}", self.0.addr())
        } else {
            write!(f, "{}", self.0)
        }
    }
}
