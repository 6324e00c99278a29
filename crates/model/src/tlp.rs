//! Traffic Light Protocol 2.0 levels.

use std::fmt;
use std::str::FromStr;

/// A TLP 2.0 level, ordered from least to most restrictive.
///
/// TLP 1.0 `white` reads as [`Tlp::Clear`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tlp {
    /// No limit on disclosure.
    Clear,
    /// The community (peers, partners), never public channels.
    Green,
    /// The recipient's organization and its clients, need to know.
    Amber,
    /// The recipient's own organization only.
    AmberStrict,
    /// Named recipients only.
    Red,
}

impl Tlp {
    /// Every level, least restrictive first.
    pub const ALL: [Tlp; 5] = [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict, Tlp::Red];

    /// The level's TLP 2.0 name in lowercase: `clear`, `green`, `amber`,
    /// `amber+strict`, `red`.
    pub fn as_str(self) -> &'static str {
        match self {
            Tlp::Clear => "clear",
            Tlp::Green => "green",
            Tlp::Amber => "amber",
            Tlp::AmberStrict => "amber+strict",
            Tlp::Red => "red",
        }
    }
}

/// The STIX 2.1 marking-definition ids of TLP 2.0 (FIRST's), least
/// restrictive first, then those of TLP 1.0 built into STIX 2.1 (WHITE,
/// GREEN, AMBER, RED), with the level each means.
const STIX_MARKINGS: [(&str, Tlp); 9] = [
    ("marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", Tlp::Clear),
    ("marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", Tlp::Green),
    ("marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", Tlp::Amber),
    ("marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", Tlp::AmberStrict),
    ("marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", Tlp::Red),
    ("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", Tlp::Clear),
    ("marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", Tlp::Green),
    ("marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", Tlp::Amber),
    ("marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", Tlp::Red),
];

impl Tlp {
    /// The id of this level's TLP 2.0 marking definition in STIX 2.1 (what
    /// cordon writes).
    pub fn stix_marking_id(self) -> &'static str {
        let index = Tlp::ALL.iter().position(|t| *t == self).unwrap_or(Tlp::ALL.len() - 1);
        STIX_MARKINGS[index].0
    }

    /// The level of a fixed STIX TLP marking-definition id: TLP 2.0, or the
    /// TLP 1.0 definitions built into STIX 2.1 (what cordon reads).
    pub fn from_stix_marking_id(id: &str) -> Option<Tlp> {
        STIX_MARKINGS.iter().find(|(known, _)| *known == id).map(|(_, tlp)| *tlp)
    }
}

impl fmt::Display for Tlp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that names no TLP level.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown TLP level '{0}' (expected clear, green, amber, amber+strict or red)")]
pub struct UnknownTlp(pub String);

impl FromStr for Tlp {
    type Err = UnknownTlp;

    /// Accepts the names in any case, with or without a `tlp:` prefix, and
    /// TLP 1.0 `white`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        let name = lower.strip_prefix("tlp:").unwrap_or(&lower).trim();
        match name {
            "clear" | "white" => Ok(Tlp::Clear),
            "green" => Ok(Tlp::Green),
            "amber" => Ok(Tlp::Amber),
            "amber+strict" | "amber-strict" | "amber_strict" => Ok(Tlp::AmberStrict),
            "red" => Ok(Tlp::Red),
            _ => Err(UnknownTlp(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_prefixes_and_tlp1() {
        assert_eq!("TLP:AMBER+STRICT".parse(), Ok(Tlp::AmberStrict));
        assert_eq!("white".parse(), Ok(Tlp::Clear));
        assert_eq!(" Green ".parse(), Ok(Tlp::Green));
        assert!("blue".parse::<Tlp>().is_err());
        for tlp in Tlp::ALL {
            assert_eq!(tlp.as_str().parse(), Ok(tlp));
        }
    }

    #[test]
    fn stix_marking_ids_round_trip() {
        for tlp in Tlp::ALL {
            assert_eq!(Tlp::from_stix_marking_id(tlp.stix_marking_id()), Some(tlp));
        }
        assert_eq!(
            Tlp::from_stix_marking_id("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"),
            Some(Tlp::Clear)
        );
        assert_eq!(Tlp::from_stix_marking_id("marking-definition--00000000-0000-4000-8000-000000000000"), None);
    }

    #[test]
    fn ordered_by_restriction() {
        assert!(Tlp::Clear < Tlp::Green && Tlp::Amber < Tlp::AmberStrict && Tlp::AmberStrict < Tlp::Red);
    }
}
