//! The world map of the overview: one circle per country at its
//! approximate centre (latitude and longitude, equirectangular), its area
//! proportional to the country's targets, shaded by the share taken down.
//! Inline SVG, no outline data: countries without a known centre are still
//! in the report's country table.

use std::fmt::Write;

use cordon_ops::html::escape;
use cordon_ops::report::{thousands, Row};

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 360.0;

/// The map of `rows` (a report's countries).
pub(crate) fn world(rows: &[Row]) -> String {
    let max = rows.iter().map(|r| r.targets).max().unwrap_or(0).max(1) as f64;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
         role=\"img\" font-family=\"sans-serif\" font-size=\"10\"><title>Targets by country: circle area is the number of \
         targets, darker circles more of them taken down</title><rect width=\"{WIDTH}\" height=\"{HEIGHT}\" fill=\"#eef3f8\"/>"
    );
    for lon in (-150..=150).step_by(30) {
        let x = x_of(f64::from(lon));
        let _ = write!(svg, "<line x1=\"{x:.1}\" y1=\"0\" x2=\"{x:.1}\" y2=\"{HEIGHT}\" stroke=\"#d5dee8\"/>");
    }
    for lat in (-60..=60).step_by(30) {
        let y = y_of(f64::from(lat));
        let _ = write!(svg, "<line x1=\"0\" y1=\"{y:.1}\" x2=\"{WIDTH}\" y2=\"{y:.1}\" stroke=\"#d5dee8\"/>");
    }
    let mut placed: Vec<(&Row, f64, f64)> =
        rows.iter().filter_map(|r| centre(&r.key).map(|(lat, lon)| (r, x_of(lon), y_of(lat)))).collect();
    // Big circles first, so small ones stay visible on top.
    placed.sort_by_key(|p| std::cmp::Reverse(p.0.targets));
    for (i, (row, x, y)) in placed.iter().enumerate() {
        let radius = 2.0 + 22.0 * (row.targets as f64 / max).sqrt();
        let share = row.taken_down as f64 / row.targets.max(1) as f64;
        let fill = if share >= 0.66 {
            "#0b4f8a"
        } else if share >= 0.33 {
            "#3b6ea8"
        } else {
            "#8aaed6"
        };
        let _ = write!(
            svg,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{radius:.1}\" fill=\"{fill}\" fill-opacity=\"0.8\" stroke=\"#fff\">\
             <title>{}: {} targets, {} taken down</title></circle>",
            escape(&row.key),
            thousands(row.targets),
            thousands(row.taken_down)
        );
        if i < 12 {
            let _ = write!(
                svg,
                "<text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#1a1a1a\">{}</text>",
                y + radius + 10.0,
                escape(&row.key)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

fn x_of(lon: f64) -> f64 {
    (lon + 180.0) / 360.0 * WIDTH
}

fn y_of(lat: f64) -> f64 {
    (90.0 - lat) / 180.0 * HEIGHT
}

/// A country's approximate centre (latitude, longitude) by ISO 3166 code.
fn centre(code: &str) -> Option<(f64, f64)> {
    CENTRES.iter().find(|(c, _, _)| c.eq_ignore_ascii_case(code)).map(|(_, lat, lon)| (*lat, *lon))
}

/// Approximate centres, rounded to whole degrees.
const CENTRES: &[(&str, f64, f64)] = &[
    ("AE", 24.0, 54.0),
    ("AF", 33.0, 65.0),
    ("AL", 41.0, 20.0),
    ("AM", 40.0, 45.0),
    ("AO", -12.0, 18.0),
    ("AR", -34.0, -64.0),
    ("AT", 47.0, 14.0),
    ("AU", -25.0, 134.0),
    ("AZ", 40.0, 48.0),
    ("BA", 44.0, 18.0),
    ("BD", 24.0, 90.0),
    ("BE", 51.0, 4.0),
    ("BG", 43.0, 25.0),
    ("BH", 26.0, 51.0),
    ("BO", -17.0, -65.0),
    ("BR", -10.0, -52.0),
    ("BY", 53.0, 28.0),
    ("CA", 60.0, -96.0),
    ("CH", 47.0, 8.0),
    ("CI", 8.0, -5.0),
    ("CL", -30.0, -71.0),
    ("CM", 6.0, 12.0),
    ("CN", 35.0, 103.0),
    ("CO", 4.0, -73.0),
    ("CR", 10.0, -84.0),
    ("CY", 35.0, 33.0),
    ("CZ", 50.0, 15.0),
    ("DE", 51.0, 10.0),
    ("DK", 56.0, 10.0),
    ("DO", 19.0, -70.0),
    ("DZ", 28.0, 3.0),
    ("EC", -2.0, -78.0),
    ("EE", 59.0, 26.0),
    ("EG", 27.0, 30.0),
    ("ES", 40.0, -4.0),
    ("ET", 9.0, 39.0),
    ("FI", 64.0, 26.0),
    ("FR", 46.0, 2.0),
    ("GB", 54.0, -2.0),
    ("GE", 42.0, 44.0),
    ("GH", 8.0, -1.0),
    ("GR", 39.0, 22.0),
    ("GT", 15.0, -90.0),
    ("HK", 22.0, 114.0),
    ("HN", 15.0, -87.0),
    ("HR", 45.0, 16.0),
    ("HU", 47.0, 19.0),
    ("ID", -2.0, 118.0),
    ("IE", 53.0, -8.0),
    ("IL", 31.0, 35.0),
    ("IN", 21.0, 78.0),
    ("IQ", 33.0, 44.0),
    ("IR", 32.0, 53.0),
    ("IS", 65.0, -18.0),
    ("IT", 42.0, 12.0),
    ("JM", 18.0, -77.0),
    ("JO", 31.0, 36.0),
    ("JP", 36.0, 138.0),
    ("KE", 0.0, 38.0),
    ("KG", 41.0, 75.0),
    ("KH", 12.0, 105.0),
    ("KR", 36.0, 128.0),
    ("KW", 29.0, 48.0),
    ("KZ", 48.0, 68.0),
    ("LA", 18.0, 105.0),
    ("LB", 34.0, 36.0),
    ("LK", 8.0, 81.0),
    ("LT", 55.0, 24.0),
    ("LU", 50.0, 6.0),
    ("LV", 57.0, 25.0),
    ("LY", 27.0, 17.0),
    ("MA", 32.0, -6.0),
    ("MD", 47.0, 29.0),
    ("ME", 43.0, 19.0),
    ("MK", 42.0, 22.0),
    ("MM", 21.0, 96.0),
    ("MN", 47.0, 104.0),
    ("MO", 22.0, 114.0),
    ("MT", 36.0, 14.0),
    ("MU", -20.0, 58.0),
    ("MX", 23.0, -102.0),
    ("MY", 3.0, 102.0),
    ("MZ", -18.0, 35.0),
    ("NA", -22.0, 17.0),
    ("NG", 10.0, 8.0),
    ("NI", 13.0, -85.0),
    ("NL", 52.0, 5.0),
    ("NO", 62.0, 10.0),
    ("NP", 28.0, 84.0),
    ("NZ", -41.0, 174.0),
    ("OM", 21.0, 57.0),
    ("PA", 9.0, -80.0),
    ("PE", -10.0, -76.0),
    ("PH", 13.0, 122.0),
    ("PK", 30.0, 70.0),
    ("PL", 52.0, 20.0),
    ("PR", 18.0, -66.0),
    ("PS", 32.0, 35.0),
    ("PT", 40.0, -8.0),
    ("PY", -23.0, -58.0),
    ("QA", 25.0, 51.0),
    ("RO", 46.0, 25.0),
    ("RS", 44.0, 21.0),
    ("RU", 60.0, 90.0),
    ("SA", 24.0, 45.0),
    ("SC", -5.0, 55.0),
    ("SE", 62.0, 15.0),
    ("SG", 1.0, 104.0),
    ("SI", 46.0, 15.0),
    ("SK", 49.0, 19.0),
    ("SN", 14.0, -14.0),
    ("SV", 14.0, -89.0),
    ("SY", 35.0, 38.0),
    ("TH", 15.0, 101.0),
    ("TJ", 39.0, 71.0),
    ("TN", 34.0, 9.0),
    ("TR", 39.0, 35.0),
    ("TW", 24.0, 121.0),
    ("TZ", -6.0, 35.0),
    ("UA", 49.0, 32.0),
    ("UG", 1.0, 32.0),
    ("US", 39.0, -98.0),
    ("UY", -33.0, -56.0),
    ("UZ", 41.0, 64.0),
    ("VE", 7.0, -66.0),
    ("VN", 16.0, 106.0),
    ("YE", 15.0, 48.0),
    ("ZA", -29.0, 24.0),
    ("ZM", -14.0, 28.0),
    ("ZW", -19.0, 30.0),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_are_placed_and_sized_by_their_targets() {
        let rows = [
            Row { key: "US".into(), targets: 100, taken_down: 80 },
            Row { key: "RO".into(), targets: 1, taken_down: 0 },
            Row { key: "<b>".into(), targets: 5, taken_down: 0 },
        ];
        let svg = world(&rows);
        assert_eq!(svg.matches("<circle").count(), 2, "a key without a centre is left out: {svg}");
        assert!(svg.contains("US: 100 targets, 80 taken down"));
        // The US sits west of Romania, and its circle is larger.
        let us = svg.find("<circle cx=\"").map(|i| &svg[i + 12..i + 17]).unwrap();
        assert!(us.starts_with("164"), "{us}");
        assert!(!svg.contains("<b>"));
    }
}
