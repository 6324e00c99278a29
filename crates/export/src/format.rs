//! [`Format`]: the export formats and which entries each can carry.

use std::fmt;
use std::str::FromStr;

use ipnet::IpNet;

use crate::Entry;

/// An export format. See the crate documentation for what each writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// One value per line.
    Plain,
    /// Addresses and networks aggregated to the minimal CIDR list.
    Cidr,
    /// A header and one row per entry.
    Csv,
    /// One JSON object per line.
    Jsonl,
    /// An `nft -f` script.
    Nft,
    /// An `ipset restore` file.
    Ipset,
    /// An `iptables-restore --noflush` file (IPv4).
    Iptables,
    /// An `ip6tables-restore --noflush` file (IPv6).
    Ip6tables,
    /// Suricata IP-only rules.
    Suricata,
    /// A DNS response-policy zone.
    Rpz,
    /// A hosts file.
    Hosts,
    /// A STIX 2.1 bundle.
    Stix,
    /// A MISP feed directory.
    Misp,
    /// A MaxMind DB file.
    Mmdb,
}

impl Format {
    /// Every format, in display order.
    pub const ALL: [Format; 14] = [
        Format::Plain,
        Format::Cidr,
        Format::Csv,
        Format::Jsonl,
        Format::Nft,
        Format::Ipset,
        Format::Iptables,
        Format::Ip6tables,
        Format::Suricata,
        Format::Rpz,
        Format::Hosts,
        Format::Stix,
        Format::Misp,
        Format::Mmdb,
    ];

    /// The format's name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Plain => "plain",
            Format::Cidr => "cidr",
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
            Format::Nft => "nft",
            Format::Ipset => "ipset",
            Format::Iptables => "iptables",
            Format::Ip6tables => "ip6tables",
            Format::Suricata => "suricata",
            Format::Rpz => "rpz",
            Format::Hosts => "hosts",
            Format::Stix => "stix",
            Format::Misp => "misp",
            Format::Mmdb => "mmdb",
        }
    }

    /// Whether the format writes a directory ([`crate::write_misp_feed`])
    /// rather than a stream.
    pub fn is_directory(self) -> bool {
        self == Format::Misp
    }

    /// Whether the format is binary (not for a terminal).
    pub fn is_binary(self) -> bool {
        self == Format::Mmdb
    }

    /// Whether the format is written entry by entry, in the entries' order
    /// ([`crate::Stream`]): `plain`, `csv`, `jsonl`, `stix`.
    pub fn streams(self) -> bool {
        matches!(self, Format::Plain | Format::Csv | Format::Jsonl | Format::Stix)
    }

    /// Whether the format can carry `entry`.
    pub fn carries(self, entry: &Entry) -> bool {
        match self {
            Format::Plain | Format::Csv | Format::Jsonl | Format::Misp => true,
            Format::Stix => crate::stix::observable_type(entry).is_some(),
            Format::Cidr | Format::Nft | Format::Ipset | Format::Suricata | Format::Mmdb => entry.network().is_some(),
            Format::Iptables => matches!(entry.network(), Some(IpNet::V4(_))),
            Format::Ip6tables => matches!(entry.network(), Some(IpNet::V6(_))),
            Format::Rpz | Format::Hosts => entry.dns_name().is_some(),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of the export formats.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown export format '{0}' (expected one of plain, cidr, csv, jsonl, nft, ipset, iptables, ip6tables, suricata, rpz, hosts, stix, misp, mmdb)")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownFormat(s.to_string()))
    }
}
