//! TAXII timestamps: RFC 3339 in UTC (`Z`), kept and written with
//! microsecond precision as TAXII 2.1 requires of servers.

use std::fmt;
use std::str::FromStr;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A point in time, in microseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Micros(pub i64);

/// Why a timestamp was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{text}' is not a TAXII timestamp (RFC 3339 in UTC, e.g. 2026-01-01T12:00:00.123456Z): {reason}")]
pub struct TimestampError {
    /// What was given.
    pub text: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl Micros {
    /// The same instant in whole seconds (rounded down).
    pub fn seconds(self) -> i64 {
        self.0.div_euclid(1_000_000)
    }

    /// The instant `seconds` after the epoch.
    pub fn from_seconds(seconds: i64) -> Micros {
        Micros(seconds.saturating_mul(1_000_000))
    }
}

impl fmt::Display for Micros {
    /// `YYYY-MM-DDThh:mm:ss.ffffffZ`; an instant outside the years
    /// 0000–9999 is written as the nearest end of that range.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nanos = i128::from(self.0) * 1_000;
        let clamped = OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(if self.0 < 0 {
            OffsetDateTime::new_utc(time::Date::MIN, time::Time::MIDNIGHT)
        } else {
            OffsetDateTime::new_utc(time::Date::MAX, time::Time::MIDNIGHT)
        });
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
            clamped.year(),
            u8::from(clamped.month()),
            clamped.day(),
            clamped.hour(),
            clamped.minute(),
            clamped.second(),
            clamped.microsecond()
        )
    }
}

impl FromStr for Micros {
    type Err = TimestampError;

    /// Any RFC 3339 timestamp in UTC (`Z`), with or without a fraction;
    /// digits past the microsecond are dropped (rounded down).
    fn from_str(text: &str) -> Result<Micros, TimestampError> {
        let refuse = |reason| TimestampError { text: text.to_string(), reason };
        if !(text.ends_with('Z') || text.ends_with('z')) {
            return Err(refuse("it must be in UTC, ending in Z"));
        }
        let parsed = OffsetDateTime::parse(text, &Rfc3339).map_err(|_| refuse("it does not parse"))?;
        let micros = parsed.unix_timestamp_nanos().div_euclid(1_000);
        i64::try_from(micros).map(Micros).map_err(|_| refuse("it is out of range"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn writes_microseconds_and_reads_any_precision() {
        assert_eq!(Micros(1_767_225_600_123_456).to_string(), "2026-01-01T00:00:00.123456Z");
        assert_eq!(Micros(0).to_string(), "1970-01-01T00:00:00.000000Z");
        assert_eq!("2026-01-01T00:00:00Z".parse::<Micros>().unwrap(), Micros(1_767_225_600_000_000));
        assert_eq!("2026-01-01T00:00:00.1Z".parse::<Micros>().unwrap(), Micros(1_767_225_600_100_000));
        assert_eq!("2026-01-01T00:00:00.123456789Z".parse::<Micros>().unwrap(), Micros(1_767_225_600_123_456));
    }

    #[test]
    fn refuses_what_is_not_a_utc_timestamp() {
        for bad in ["", "yesterday", "2026-01-01", "2026-01-01T00:00:00+01:00", "2026-13-01T00:00:00Z", "1e9"] {
            assert!(bad.parse::<Micros>().is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn what_it_writes_it_reads_back(micros in -62_135_596_800_000_000i64..253_402_300_799_999_999) {
            let text = Micros(micros).to_string();
            prop_assert_eq!(text.parse::<Micros>().unwrap(), Micros(micros));
            prop_assert_eq!(text.len(), 27);
        }
    }
}
