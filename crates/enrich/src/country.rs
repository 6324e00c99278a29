//! Two-letter country codes, checked against ISO 3166-1.

use std::fmt;
use std::str::FromStr;

/// ISO 3166-1 alpha-2 officially assigned codes (249), plus three codes the
/// registries and MaxMind use although ISO does not assign them: `XK`
/// (Kosovo, user-assigned), `EU` and `AP` (regional blocks in RIR and MaxMind
/// data). Sorted, so membership is a binary search.
const KNOWN: &[[u8; 2]] = &[
    *b"AD", *b"AE", *b"AF", *b"AG", *b"AI", *b"AL", *b"AM", *b"AO", *b"AP", *b"AQ", *b"AR", *b"AS", *b"AT", *b"AU",
    *b"AW", *b"AX", *b"AZ", *b"BA", *b"BB", *b"BD", *b"BE", *b"BF", *b"BG", *b"BH", *b"BI", *b"BJ", *b"BL", *b"BM",
    *b"BN", *b"BO", *b"BQ", *b"BR", *b"BS", *b"BT", *b"BV", *b"BW", *b"BY", *b"BZ", *b"CA", *b"CC", *b"CD", *b"CF",
    *b"CG", *b"CH", *b"CI", *b"CK", *b"CL", *b"CM", *b"CN", *b"CO", *b"CR", *b"CU", *b"CV", *b"CW", *b"CX", *b"CY",
    *b"CZ", *b"DE", *b"DJ", *b"DK", *b"DM", *b"DO", *b"DZ", *b"EC", *b"EE", *b"EG", *b"EH", *b"ER", *b"ES", *b"ET",
    *b"EU", *b"FI", *b"FJ", *b"FK", *b"FM", *b"FO", *b"FR", *b"GA", *b"GB", *b"GD", *b"GE", *b"GF", *b"GG", *b"GH",
    *b"GI", *b"GL", *b"GM", *b"GN", *b"GP", *b"GQ", *b"GR", *b"GS", *b"GT", *b"GU", *b"GW", *b"GY", *b"HK", *b"HM",
    *b"HN", *b"HR", *b"HT", *b"HU", *b"ID", *b"IE", *b"IL", *b"IM", *b"IN", *b"IO", *b"IQ", *b"IR", *b"IS", *b"IT",
    *b"JE", *b"JM", *b"JO", *b"JP", *b"KE", *b"KG", *b"KH", *b"KI", *b"KM", *b"KN", *b"KP", *b"KR", *b"KW", *b"KY",
    *b"KZ", *b"LA", *b"LB", *b"LC", *b"LI", *b"LK", *b"LR", *b"LS", *b"LT", *b"LU", *b"LV", *b"LY", *b"MA", *b"MC",
    *b"MD", *b"ME", *b"MF", *b"MG", *b"MH", *b"MK", *b"ML", *b"MM", *b"MN", *b"MO", *b"MP", *b"MQ", *b"MR", *b"MS",
    *b"MT", *b"MU", *b"MV", *b"MW", *b"MX", *b"MY", *b"MZ", *b"NA", *b"NC", *b"NE", *b"NF", *b"NG", *b"NI", *b"NL",
    *b"NO", *b"NP", *b"NR", *b"NU", *b"NZ", *b"OM", *b"PA", *b"PE", *b"PF", *b"PG", *b"PH", *b"PK", *b"PL", *b"PM",
    *b"PN", *b"PR", *b"PS", *b"PT", *b"PW", *b"PY", *b"QA", *b"RE", *b"RO", *b"RS", *b"RU", *b"RW", *b"SA", *b"SB",
    *b"SC", *b"SD", *b"SE", *b"SG", *b"SH", *b"SI", *b"SJ", *b"SK", *b"SL", *b"SM", *b"SN", *b"SO", *b"SR", *b"SS",
    *b"ST", *b"SV", *b"SX", *b"SY", *b"SZ", *b"TC", *b"TD", *b"TF", *b"TG", *b"TH", *b"TJ", *b"TK", *b"TL", *b"TM",
    *b"TN", *b"TO", *b"TR", *b"TT", *b"TV", *b"TW", *b"TZ", *b"UA", *b"UG", *b"UM", *b"US", *b"UY", *b"UZ", *b"VA",
    *b"VC", *b"VE", *b"VG", *b"VI", *b"VN", *b"VU", *b"WF", *b"WS", *b"XK", *b"YE", *b"YT", *b"ZA", *b"ZM", *b"ZW",
];

/// A known two-letter country code in upper case (`DE`, `US`, …).
///
/// Invariant: the code is one of ISO 3166-1 alpha-2's assigned codes or
/// `XK`, `EU`, `AP` (see the parser); anything else is rejected, so `ZZ` or
/// `--` never reach a snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Country([u8; 2]);

impl Country {
    /// The code as text, e.g. `"DE"`.
    pub fn as_str(&self) -> &str {
        // Both bytes are ASCII upper-case letters (checked on construction).
        std::str::from_utf8(&self.0).unwrap_or("??")
    }

    /// The code's two bytes, as stored in a snapshot.
    pub fn bytes(self) -> [u8; 2] {
        self.0
    }

    /// Wraps bytes already checked with [`Country::from_bytes`] (snapshot
    /// entries are checked at load, so lookups skip the table search).
    pub(crate) fn from_validated(bytes: [u8; 2]) -> Country {
        debug_assert!(KNOWN.binary_search(&bytes).is_ok());
        Country(bytes)
    }

    /// The country for two stored bytes, or `None` when they are not a known code.
    pub fn from_bytes(bytes: [u8; 2]) -> Option<Country> {
        KNOWN.binary_search(&bytes).ok().map(|_| Country(bytes))
    }
}

/// A country code that is not a known ISO 3166-1 alpha-2 code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown country code '{0}' (expected an ISO 3166-1 alpha-2 code such as DE)")]
pub struct UnknownCountry(pub String);

impl FromStr for Country {
    type Err = UnknownCountry;

    /// Parses a code case-insensitively, ignoring surrounding blanks.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        match trimmed.as_bytes() {
            [a, b] => Country::from_bytes([a.to_ascii_uppercase(), b.to_ascii_uppercase()])
                .ok_or_else(|| UnknownCountry(s.to_string())),
            _ => Err(UnknownCountry(s.to_string())),
        }
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_complete() {
        assert!(KNOWN.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(KNOWN.len(), 249 + 3);
    }

    #[test]
    fn parses_known_codes_only() {
        assert_eq!("de".parse::<Country>().map(|c| c.to_string()), Ok("DE".into()));
        assert!("ZZ".parse::<Country>().is_err());
        assert!("DEU".parse::<Country>().is_err());
        assert!("".parse::<Country>().is_err());
    }
}
