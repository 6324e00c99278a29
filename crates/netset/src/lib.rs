//! Compact, immutable IPv4/IPv6 range sets and maps for cordon.
//!
//! * [`IpSet`] answers "is this address in the set?" and does set algebra
//!   (union, intersection, difference, symmetric difference) and prints the
//!   result as the minimal CIDR list or as `first-last` ranges.
//! * [`IpMap`] answers "which entries cover this address?": the most specific
//!   one ([`IpMap::get`]) or all of them ([`IpMap::get_all`]).
//!
//! Both are built from any mix of addresses, CIDRs and ranges ([`IpRange`]).
//!
//! ```
//! use cordon_netset::{IpRange, IpSet};
//! use ipnet::IpNet;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let blocked: IpSet = ["10.0.0.0/8", "192.0.2.7/32"]
//!     .iter()
//!     .map(|s| s.parse::<IpNet>())
//!     .collect::<Result<_, _>>()?;
//! assert!(blocked.contains("10.20.30.40".parse()?));
//! assert!(!blocked.contains("192.0.2.8".parse()?));
//!
//! let allowed = IpSet::from_ranges([IpRange::new("10.0.0.0".parse()?, "10.0.0.255".parse()?)?]);
//! let effective = blocked.difference(&allowed);
//! assert_eq!(effective.count_v4(), (1 << 24) - 256 + 1);
//! let cidrs: Vec<String> = effective.cidrs().iter().map(|n| n.to_string()).collect();
//! assert_eq!(cidrs[0], "10.0.1.0/24");
//! # Ok(())
//! # }
//! ```
//!
//! # Representation and why
//!
//! Each family is kept apart as integers (`u32` for IPv4, `u128` for IPv6)
//! in *canonical form*: sorted, disjoint, coalesced inclusive ranges. Equal
//! sets have equal representations, every set operation is one merge-like
//! linear pass, and an IPv4 range costs 8 bytes.
//!
//! Lookups use a first-level index on the top 16 bits of the address
//! (65,537 `u32`s, 256 KiB, built only for tables of 4096 ranges or more),
//! then a branch-free search within the bucket. For IPv4 sets a second,
//! lookup-only copy cuts the ranges at `/16` boundaries and keeps only the
//! low 16 bits of each end, a bucket's starts and ends side by side (4 bytes
//! a piece, one region read per lookup, no read of the range before the
//! bucket; see `v4lookup.rs`), and [`IpSet::contains_v4_many`] prefetches a
//! whole group's cache lines before searching. Memory is about 12 bytes per
//! entry at one million random entries ([`IpSet::memory_bytes`]): 8 for the
//! canonical ranges, 4 for the lookup copy, plus two 256 KiB indexes.
//!
//! An Eytzinger layout was the alternative: it also removes most misses but
//! needs a permuted copy of the ranges (or gives up the plain sorted order
//! that the set algebra and printing walk linearly) and its benefit grows
//! only beyond the L3 size; IPv4 prefixes of real lists are spread widely
//! enough over the top 16 bits that the bucket search stays short. See
//! `benches/lookup.rs` for the measurement.
//!
//! # Costs
//!
//! Building sorts the input: `O(n log n)`. Set operations are `O(n + m)`.
//! [`IpMap`] additionally cuts overlapping entries into disjoint pieces with
//! a sweep (`O(n log n)`), see its docs.

#![deny(missing_docs)]

mod bits;
mod error;
mod layout;
mod map;
mod parse;
mod range;
mod ranges;
mod set;
mod table;
mod v4lookup;

pub use error::Error;
pub use layout::LayoutError;
pub use map::{EntryId, IpMap, IpMapBuilder};
pub use parse::parse_v4_net;
pub use range::IpRange;
pub use set::IpSet;
