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
    let mut s = raw.trim();
    while let Some(rest) = s.strip_suffix(" UTC") {
        s = rest;
    }
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    // The layout of most CSV feeds, tried first and read without the `time`
    // parser, which costs ~20x more; anything it does not read whole goes
    // on to the general rules below.
    if let Some(t) = parse_spaced(s) {
        return Some(t);
    }
    let spaced = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
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

/// Reads exactly `YYYY-MM-DD hh:mm:ss` (UTC) when every field is in range,
/// as the `time` parser would read it; `None` for anything else.
fn parse_spaced(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    if b.len() != 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        b[range].iter().try_fold(0i64, |n, d| d.is_ascii_digit().then(|| n * 10 + i64::from(d - b'0')))
    };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if !(1..=month_days).contains(&day) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second)
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
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
        assert_eq!(parse_timestamp(" 2024-03-11 18:22:14 UTC UTC "), Some(t));
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

    #[test]
    fn the_fast_layout_reads_as_the_time_parser_does() {
        let spaced = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
        let by_time = |s: &str| PrimitiveDateTime::parse(s, spaced).ok().map(|t| t.assume_utc().unix_timestamp());
        let mut checked = 0;
        for year in [1, 1600, 1899, 1900, 1969, 1970, 2000, 2023, 2024, 2100, 9999] {
            for month in 0..=13 {
                for day in [0, 1, 15, 28, 29, 30, 31, 32] {
                    for (hour, minute, second) in [(0, 0, 0), (23, 59, 59), (24, 0, 0), (12, 60, 0), (1, 2, 60)] {
                        let s = format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}");
                        assert_eq!(parse_spaced(&s), by_time(&s), "{s}");
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 4000);
        for odd in ["2024-03-11 18:22:1x", "2024/03/11 18:22:14", "+024-03-11 18:22:14", "2024-03-11T18:22:14"] {
            assert_eq!(parse_spaced(odd), None, "{odd}");
        }
    }
}
