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
    fn ordered_by_restriction() {
        assert!(Tlp::Clear < Tlp::Green && Tlp::Amber < Tlp::AmberStrict && Tlp::AmberStrict < Tlp::Red);
    }
}
