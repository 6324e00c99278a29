//! The data-section encoding of the MaxMind DB format (spec v2.0, "Data
//! Section"): each field is a control byte holding its type and size, an
//! extended-type byte for types above 7, size-extension bytes, then the
//! payload.

/// Field types (spec numbering).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Type {
    /// UTF-8 string.
    Utf8 = 2,
    /// Unsigned 16-bit integer.
    Uint16 = 5,
    /// Unsigned 32-bit integer.
    Uint32 = 6,
    /// Map of UTF-8 keys to fields.
    Map = 7,
    /// Unsigned 64-bit integer.
    Uint64 = 9,
    /// Array of fields.
    Array = 11,
}

/// Writes a control byte for a field of `kind` whose size is `size` (bytes
/// for strings and integers, entries for maps and arrays).
pub(crate) fn control(buf: &mut Vec<u8>, kind: Type, size: usize) {
    let type_number = kind as u8;
    let (size_bits, extension): (u8, Vec<u8>) = match size {
        0..=28 => (size as u8, Vec::new()),
        29..=284 => (29, vec![(size - 29) as u8]),
        285..=65_820 => (30, ((size - 285) as u16).to_be_bytes().to_vec()),
        _ => (31, ((size - 65_821) as u32).to_be_bytes()[1..].to_vec()),
    };
    if type_number <= 7 {
        buf.push(type_number << 5 | size_bits);
    } else {
        buf.push(size_bits);
        buf.push(type_number - 7);
    }
    buf.extend_from_slice(&extension);
}

/// A UTF-8 string field.
pub(crate) fn utf8(buf: &mut Vec<u8>, value: &str) {
    control(buf, Type::Utf8, value.len());
    buf.extend_from_slice(value.as_bytes());
}

/// An unsigned integer field of `kind` (`Uint16`, `Uint32`, `Uint64`): big
/// endian without leading zero bytes, as the spec asks.
pub(crate) fn uint(buf: &mut Vec<u8>, kind: Type, value: u64) {
    let bytes = value.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    control(buf, kind, bytes.len() - skip);
    buf.extend_from_slice(&bytes[skip..]);
}

/// The header of a map of `entries` key/value pairs; the pairs follow.
pub(crate) fn map(buf: &mut Vec<u8>, entries: usize) {
    control(buf, Type::Map, entries);
}

/// The header of an array of `len` fields; the fields follow.
pub(crate) fn array(buf: &mut Vec<u8>, len: usize) {
    control(buf, Type::Array, len);
}

/// An array of UTF-8 strings.
pub(crate) fn strings<'a>(buf: &mut Vec<u8>, values: impl ExactSizeIterator<Item = &'a str>) {
    array(buf, values.len());
    for value in values {
        utf8(buf, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_bytes_follow_the_spec_examples() {
        let mut buf = Vec::new();
        control(&mut buf, Type::Utf8, 3);
        assert_eq!(buf, [0x43]);
        buf.clear();
        control(&mut buf, Type::Utf8, 29);
        assert_eq!(buf, [0x5d, 0x00]);
        buf.clear();
        control(&mut buf, Type::Utf8, 500);
        assert_eq!(buf, [0x5e, 0x00, 0xd7]);
        buf.clear();
        control(&mut buf, Type::Array, 2);
        assert_eq!(buf, [0x02, 0x04]);
        buf.clear();
        uint(&mut buf, Type::Uint16, 0);
        assert_eq!(buf, [0xa0]);
        buf.clear();
        uint(&mut buf, Type::Uint32, 0x0102);
        assert_eq!(buf, [0xc2, 0x01, 0x02]);
    }
}
