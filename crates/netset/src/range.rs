//! [`IpRange`]: an inclusive range of addresses of one family.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use crate::Error;

/// An inclusive range `first..=last` of addresses of one family.
///
/// Invariant: both ends have the same family and `first <= last`.
/// Displays as `first-last`, the form `iprange` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpRange {
    first: IpAddr,
    last: IpAddr,
}

impl IpRange {
    /// Builds a range, checking that the ends agree in family and order.
    pub fn new(first: IpAddr, last: IpAddr) -> Result<Self, Error> {
        match (first, last) {
            (IpAddr::V4(a), IpAddr::V4(b)) if a > b => Err(Error::Reversed { first, last }),
            (IpAddr::V6(a), IpAddr::V6(b)) if a > b => Err(Error::Reversed { first, last }),
            (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => Ok(IpRange { first, last }),
            _ => Err(Error::MixedFamilies { first, last }),
        }
    }

    /// The first address.
    pub fn first(&self) -> IpAddr {
        self.first
    }

    /// The last address (inclusive).
    pub fn last(&self) -> IpAddr {
        self.last
    }

    /// The range as one CIDR network, when it is exactly one (aligned, a
    /// power of two long): `None` otherwise.
    pub fn as_net(&self) -> Option<IpNet> {
        let (first, size, width) = match self.bounds() {
            Bounds::V4(a, b) => (IpAddr::V4(a.into()), u128::from(b - a), 32),
            Bounds::V6(a, b) => (IpAddr::V6(a.into()), b - a, 128),
        };
        // size = last - first = 2^host_bits - 1 for a network.
        let host_bits = 128 - size.leading_zeros();
        if size.checked_add(1).is_some_and(|n| !n.is_power_of_two()) {
            return None;
        }
        let net = IpNet::new(first, u8::try_from(width - host_bits).ok()?).ok()?;
        (net.network() == first).then_some(net)
    }

    pub(crate) fn v4(first: u32, last: u32) -> Self {
        IpRange { first: IpAddr::V4(Ipv4Addr::from(first)), last: IpAddr::V4(Ipv4Addr::from(last)) }
    }

    pub(crate) fn v6(first: u128, last: u128) -> Self {
        IpRange { first: IpAddr::V6(Ipv6Addr::from(first)), last: IpAddr::V6(Ipv6Addr::from(last)) }
    }
}

/// Either family's span as integers.
pub(crate) enum Bounds {
    V4(u32, u32),
    V6(u128, u128),
}

impl IpRange {
    pub(crate) fn bounds(&self) -> Bounds {
        match (self.first, self.last) {
            (IpAddr::V4(a), IpAddr::V4(b)) => Bounds::V4(a.into(), b.into()),
            (IpAddr::V6(a), IpAddr::V6(b)) => Bounds::V6(a.into(), b.into()),
            // Unreachable by the invariant; an empty-looking v6 range is
            // never produced because `new` rejects mixed families.
            (a, _) => match a {
                IpAddr::V4(a) => Bounds::V4(a.into(), a.into()),
                IpAddr::V6(a) => Bounds::V6(a.into(), a.into()),
            },
        }
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.first, self.last)
    }
}

impl From<IpNet> for IpRange {
    fn from(net: IpNet) -> Self {
        IpRange { first: net.network(), last: net.broadcast() }
    }
}

impl From<IpAddr> for IpRange {
    fn from(addr: IpAddr) -> Self {
        IpRange { first: addr, last: addr }
    }
}
