//! The two address widths (`u32` for IPv4, `u128` for IPv6) behind one trait,
//! so the range algebra and the lookup table are written once.

use std::fmt::Debug;
use std::hash::Hash;

/// An unsigned integer that holds one address of a family.
///
/// Arithmetic that could overflow (sizes, CIDR blocks) is done in `u128`,
/// which holds every value of both widths.
pub(crate) trait Bits: Copy + Ord + Eq + Debug + Hash + Send + Sync + 'static {
    /// Width of an address in bits (32 or 128).
    const WIDTH: u32;
    /// The highest address.
    const MAX: Self;
    /// Widens to `u128`.
    fn to_u128(self) -> u128;
    /// Narrows from `u128`; callers only pass values that fit.
    fn from_u128(value: u128) -> Self;
    /// The top 16 bits, used as the first-level bucket of the lookup table.
    fn top16(self) -> usize;
    /// The first address of bucket `bucket` (`bucket < 65536`).
    fn bucket_base(bucket: usize) -> Self;

    /// The next address, or `None` after the highest one.
    #[inline]
    fn succ(self) -> Option<Self> {
        if self == Self::MAX {
            None
        } else {
            Some(Self::from_u128(self.to_u128() + 1))
        }
    }

    /// The previous address, or `None` before zero.
    #[inline]
    fn pred(self) -> Option<Self> {
        let wide = self.to_u128();
        if wide == 0 {
            None
        } else {
            Some(Self::from_u128(wide - 1))
        }
    }
}

impl Bits for u32 {
    const WIDTH: u32 = 32;
    const MAX: Self = u32::MAX;
    #[inline]
    fn to_u128(self) -> u128 {
        u128::from(self)
    }
    #[inline]
    fn from_u128(value: u128) -> Self {
        value as u32
    }
    #[inline]
    fn top16(self) -> usize {
        (self >> 16) as usize
    }
    #[inline]
    fn bucket_base(bucket: usize) -> Self {
        (bucket as u32) << 16
    }
}

impl Bits for u128 {
    const WIDTH: u32 = 128;
    const MAX: Self = u128::MAX;
    #[inline]
    fn to_u128(self) -> u128 {
        self
    }
    #[inline]
    fn from_u128(value: u128) -> Self {
        value
    }
    #[inline]
    fn top16(self) -> usize {
        (self >> 112) as usize
    }
    #[inline]
    fn bucket_base(bucket: usize) -> Self {
        (bucket as u128) << 112
    }
}

/// Host mask of a block of `2^host_bits` addresses (`host_bits <= 128`).
#[inline]
pub(crate) fn host_mask(host_bits: u32) -> u128 {
    if host_bits >= 128 {
        u128::MAX
    } else {
        (1u128 << host_bits) - 1
    }
}

/// Splits the inclusive range `[first, last]` of a `width`-bit family into
/// the minimal list of aligned CIDR blocks, calling `emit(base, prefix_len)`
/// for each in ascending order.
///
/// Greedy is minimal: at each step the largest aligned block that starts at
/// `first` and fits is taken; any cover must contain a block starting at
/// `first`, and a smaller one only leaves more to cover.
pub(crate) fn for_each_cidr(first: u128, last: u128, width: u32, mut emit: impl FnMut(u128, u8)) {
    debug_assert!(first <= last);
    let mut base = first;
    loop {
        let mut host_bits = if base == 0 { width } else { base.trailing_zeros().min(width) };
        while host_bits > 0 && host_mask(host_bits) > last - base {
            host_bits -= 1;
        }
        emit(base, (width - host_bits) as u8);
        let block_last = base + host_mask(host_bits);
        if block_last >= last {
            break;
        }
        base = block_last + 1;
    }
}
