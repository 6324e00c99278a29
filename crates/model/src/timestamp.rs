//! Timestamps as feeds write them.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

/// Seconds since the Unix epoch, UTC.
pub type Timestamp = i64;

/// Parses the timestamp layouts feeds use: RFC 3339 (`2024-03-11T18:22:14Z`,
/// with offset or fraction), `2024-03-11 18:22:14` (read as UTC, optionally
/// followed by ` UTC`), a bare date `2024-03-11`, and Unix epochs in seconds
/// or milliseconds. Returns `None` for anything else.
pub fn parse_timestamp(raw: &str) -> Option<Timestamp> {
    let s = raw.trim().trim_end_matches(" UTC").trim();
    if s.is_empty() {
        return None;
    }
    let spaced = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    // The layout of most CSV feeds, tried first.
    if s.len() == 19 && s.as_bytes()[10] == b' ' {
        if let Ok(t) = PrimitiveDateTime::parse(s, spaced) {
            return Some(t.assume_utc().unix_timestamp());
        }
    }
    if let Ok(epoch) = s.parse::<i64>() {
        return Some(if epoch > 100_000_000_000 { epoch / 1000 } else { epoch });
    }
    if let Ok(epoch) = s.parse::<f64>() {
        return epoch.is_finite().then_some(epoch as i64);
    }
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t.unix_timestamp());
    }
    if let Ok(t) = PrimitiveDateTime::parse(s, spaced) {
        return Some(t.assume_utc().unix_timestamp());
    }
    let t_sep = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    if let Ok(t) = PrimitiveDateTime::parse(s.get(..19).unwrap_or(s), t_sep) {
        return Some(t.assume_utc().unix_timestamp());
    }
    let date = format_description!("[year]-[month]-[day]");
    if let Ok(d) = Date::parse(s, date) {
        return Some(d.midnight().assume_utc().unix_timestamp());
    }
    None
}

/// Formats a timestamp as RFC 3339 in UTC with a `Z`, to the second.
pub fn format_timestamp(ts: Timestamp) -> String {
    let t = OffsetDateTime::from_unix_timestamp(ts).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    t.format(fmt).unwrap_or_else(|_| ts.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts() {
        let t = 1_710_181_334; // 2024-03-11 18:22:14 UTC
        assert_eq!(parse_timestamp("2024-03-11 18:22:14"), Some(t));
        assert_eq!(parse_timestamp("2024-03-11 18:22:14 UTC"), Some(t));
        assert_eq!(parse_timestamp("2024-03-11T18:22:14Z"), Some(t));
        assert_eq!(parse_timestamp("2024-03-11T19:22:14+01:00"), Some(t));
        assert_eq!(parse_timestamp("2024-03-11T18:22:14.123456Z"), Some(t));
        assert_eq!(parse_timestamp("2024-03-11T18:22:14"), Some(t));
        assert_eq!(parse_timestamp("1710181334"), Some(t));
        assert_eq!(parse_timestamp("1710181334000"), Some(t));
        assert_eq!(parse_timestamp("2024-03-11"), Some(1_710_115_200));
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(format_timestamp(t), "2024-03-11T18:22:14Z");
    }
}
