//! The crate's error type.

use std::net::IpAddr;

/// Why an [`crate::IpRange`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The two ends are of different families (one IPv4, one IPv6).
    #[error("range {first}-{last} mixes IPv4 and IPv6")]
    MixedFamilies {
        /// First address given.
        first: IpAddr,
        /// Last address given.
        last: IpAddr,
    },
    /// The first address is greater than the last one.
    #[error("range {first}-{last} ends before it starts")]
    Reversed {
        /// First address given.
        first: IpAddr,
        /// Last address given.
        last: IpAddr,
    },
}
