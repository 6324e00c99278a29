//! STIX ids in 17 bytes: the object type (one of the few cordon serves) and
//! the UUID, ordered exactly as their text is, so a view of millions of
//! objects sorts and pages by them without holding a `String` per object.

use std::fmt;

/// The STIX object types a cordon collection holds, in name order: the
/// order of a type's index is the order of its name, and no name is a
/// prefix of another, so (type, UUID) compares as the id's text does.
const TYPES: [&str; 9] = [
    "domain-name",
    "identity",
    "indicator",
    "ipv4-addr",
    "ipv6-addr",
    "malware",
    "marking-definition",
    "relationship",
    "url",
];

/// A STIX id (`TYPE--UUID`) of one of the types cordon serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StixId {
    kind: u8,
    uuid: [u8; 16],
}

impl StixId {
    /// The id `text` names, if it is `TYPE--UUID` with a type cordon serves
    /// and a UUID in lowercase hex (the form every id cordon makes has):
    /// exactly the ids whose text [`Display`](fmt::Display) gives back.
    pub fn parse(text: &str) -> Option<StixId> {
        let (name, uuid) = text.split_once("--")?;
        let kind = TYPES.iter().position(|t| *t == name)?;
        let bytes = uuid.as_bytes();
        if bytes.len() != 36 || [8, 13, 18, 23].iter().any(|&at| bytes[at] != b'-') {
            return None;
        }
        let hex: String = uuid.chars().filter(|c| *c != '-').collect();
        if !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return None;
        }
        let value = u128::from_str_radix(&hex, 16).ok()?;
        Some(StixId { kind: u8::try_from(kind).ok()?, uuid: value.to_be_bytes() })
    }

    /// Its object type.
    pub fn object_type(&self) -> &'static str {
        TYPES.get(usize::from(self.kind)).copied().unwrap_or("unknown")
    }
}

impl fmt::Display for StixId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = u128::from_be_bytes(self.uuid);
        write!(
            f,
            "{}--{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            self.object_type(),
            v >> 96,
            (v >> 80) & 0xffff,
            (v >> 64) & 0xffff,
            (v >> 48) & 0xffff,
            v & 0xffff_ffff_ffff
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ids_cordon_makes_parse_and_others_do_not() {
        let id = "indicator--0f8a9b1c-2d3e-5f40-8a1b-2c3d4e5f6a7b";
        assert_eq!(StixId::parse(id).map(|i| i.to_string()).as_deref(), Some(id));
        for bad in [
            "indicator--0F8A9B1C-2D3E-5F40-8A1B-2C3D4E5F6A7B",
            "vulnerability--0f8a9b1c-2d3e-5f40-8a1b-2c3d4e5f6a7b",
            "indicator--0f8a9b1c2d3e5f408a1b2c3d4e5f6a7b",
            "indicator--0f8a9b1c-2d3e-5f40-8a1b-2c3d4e5f6a7",
            "indicator--+f8a9b1c-2d3e-5f40-8a1b-2c3d4e5f6a7b",
            "indicator",
            "",
        ] {
            assert_eq!(StixId::parse(bad), None, "{bad}");
        }
        assert!(TYPES.windows(2).all(|w| w[0] < w[1]), "types in name order");
    }

    proptest! {
        /// Text → id → text is the identity, and ids order as their text.
        #[test]
        fn ids_round_trip_and_order_as_their_text(
            a in (0usize..TYPES.len(), any::<u128>()),
            b in (0usize..TYPES.len(), any::<u128>()),
        ) {
            let text = |(kind, v): (usize, u128)| {
                let id = StixId { kind: kind as u8, uuid: v.to_be_bytes() };
                id.to_string()
            };
            let (ta, tb) = (text(a), text(b));
            let (ia, ib) = (StixId::parse(&ta).unwrap(), StixId::parse(&tb).unwrap());
            prop_assert_eq!(ia.to_string(), ta.clone());
            prop_assert_eq!(ia.cmp(&ib), ta.cmp(&tb));
        }
    }
}
