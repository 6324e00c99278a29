//! Address parsers that accept exactly what glibc's `inet_pton` accepts,
//! since grepcidr 2.0 hands each candidate field to `inet_pton`.
//!
//! IPv4 (`inet_pton4`): exactly four dot-separated decimal octets, each
//! `0..=255`, no leading zeros (`01` is rejected, `0` is fine), nothing else.
//! IPv6 (`inet_pton6`): up to eight groups of at most four hex digits, at
//! most one `::`, optionally ending in an embedded dotted quad; a lone
//! leading or trailing `:` is rejected.

/// Parses a dotted quad the way glibc's `inet_pton(AF_INET, ..)` does.
#[inline]
pub(crate) fn ipv4(field: &[u8]) -> Option<u32> {
    let mut octets = 0u32;
    let mut saw_digit = false;
    let mut current: u32 = 0;
    let mut value: u32 = 0;
    for &ch in field {
        if ch.is_ascii_digit() {
            if saw_digit && current == 0 {
                return None; // leading zero
            }
            current = current * 10 + u32::from(ch - b'0');
            if current > 255 {
                return None;
            }
            if !saw_digit {
                octets += 1;
                if octets > 4 {
                    return None;
                }
                saw_digit = true;
            }
        } else if ch == b'.' && saw_digit {
            if octets == 4 {
                return None;
            }
            value = (value << 8) | current;
            current = 0;
            saw_digit = false;
        } else {
            return None;
        }
    }
    if octets < 4 {
        return None;
    }
    Some((value << 8) | current)
}

/// Parses an IPv6 address the way glibc's `inet_pton(AF_INET6, ..)` does
/// (glibc 2.26 and later).
pub(crate) fn ipv6(field: &[u8]) -> Option<u128> {
    let mut bytes = [0u8; 16];
    let mut tp = 0usize;
    let mut colon_at: Option<usize> = None;
    let mut src = field;
    if src.is_empty() {
        return None;
    }
    if src[0] == b':' {
        if src.get(1) != Some(&b':') {
            return None;
        }
        src = &src[1..];
    }
    let mut token_start = 0usize;
    let mut xdigits = 0u32;
    let mut val: u32 = 0;
    let mut i = 0usize;
    while i < src.len() {
        let ch = src[i];
        i += 1;
        if let Some(digit) = (ch as char).to_digit(16) {
            if xdigits == 4 {
                return None;
            }
            val = (val << 4) | digit;
            xdigits += 1;
            continue;
        }
        if ch == b':' {
            token_start = i;
            if xdigits == 0 {
                if colon_at.is_some() {
                    return None;
                }
                colon_at = Some(tp);
                continue;
            } else if i == src.len() {
                return None;
            }
            if tp + 2 > 16 {
                return None;
            }
            bytes[tp] = (val >> 8) as u8;
            bytes[tp + 1] = val as u8;
            tp += 2;
            xdigits = 0;
            val = 0;
            continue;
        }
        if ch == b'.' && tp + 4 <= 16 {
            let quad = ipv4(&src[token_start..])?;
            bytes[tp..tp + 4].copy_from_slice(&quad.to_be_bytes());
            tp += 4;
            xdigits = 0;
            break;
        }
        return None;
    }
    if xdigits > 0 {
        if tp + 2 > 16 {
            return None;
        }
        bytes[tp] = (val >> 8) as u8;
        bytes[tp + 1] = val as u8;
        tp += 2;
    }
    if let Some(at) = colon_at {
        if tp == 16 {
            return None;
        }
        let n = tp - at;
        bytes.copy_within(at..tp, 16 - n);
        bytes[at..16 - n].fill(0);
        tp = 16;
    }
    if tp != 16 {
        return None;
    }
    Some(u128::from_be_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn ipv4_like_inet_pton() {
        for ok in ["1.2.3.4", "0.0.0.0", "255.255.255.255", "10.0.0.1"] {
            let expected: Ipv4Addr = ok.parse().expect("valid");
            assert_eq!(ipv4(ok.as_bytes()), Some(u32::from(expected)), "{ok}");
        }
        for bad in [
            "1.2.3",
            "1.2.3.4.",
            "1.2.3.4.5",
            "01.2.3.4",
            "1.2.3.04",
            "256.1.1.1",
            "1..2.3",
            ".1.2.3",
            "1.2.3.4a",
            "",
            "1.2.3.4 ",
        ] {
            assert_eq!(ipv4(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn ipv6_like_inet_pton() {
        for ok in [
            "::",
            "::1",
            "1::",
            "2001:db8::1",
            "1:2:3:4:5:6:7:8",
            "::ffff:1.2.3.4",
            "1:2:3:4:5:6:1.2.3.4",
            "1:2:3:4:5:6:7::",
            "::2:3:4:5:6:7:8",
            "ABCD::ef",
        ] {
            let expected: Ipv6Addr = ok.parse().expect("valid");
            assert_eq!(ipv6(ok.as_bytes()), Some(u128::from(expected)), "{ok}");
        }
        for bad in [
            ":",
            ":1::",
            "1::2:",
            "1:::2",
            "1::2::3",
            "12345::",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7:8::",
            "::1.2.3",
            "::01.2.3.4",
            "1.2.3.4",
            "::g",
            "1:2:3:4:5:6:7:1.2.3.4",
        ] {
            assert_eq!(ipv6(bad.as_bytes()), None, "{bad}");
        }
    }
}
