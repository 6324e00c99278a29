//! Self-contained HTML pieces: escaping, a page shell and inline SVG
//! charts (no script, no external resource, so a report opens offline).

use std::fmt::Write;

use crate::report::thousands;

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A complete page around `body` (already HTML).
pub fn page(title: &str, body: &str) -> String {
    format!("{}{body}{PAGE_END}", page_start(title))
}

/// The start of a page, up to and including its `<body>` line: a page
/// written piece by piece is this, its body, then [`PAGE_END`].
pub fn page_start(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\n<style>{STYLE}</style>\
         </head><body>\n",
        escape(title)
    )
}

/// The end of a page begun with [`page_start`].
pub const PAGE_END: &str = "\n</body></html>\n";

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:70em;color:#222}\
h1{font-size:1.6em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}\
table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #eee;text-align:left}\
td.n{text-align:right}.figures{display:flex;flex-wrap:wrap;gap:1em}\
.figure{border:1px solid #ccc;border-radius:6px;padding:.6em 1em;min-width:9em}\
.figure b{display:block;font-size:1.8em}.small{color:#666;font-size:.9em}";

/// A table with a header row; cells are escaped, numeric ones right-aligned.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = table_start(header);
    for row in rows {
        out.push_str(&table_row(row));
    }
    out.push_str(TABLE_END);
    out
}

/// The start of a table and its header row: a table written row by row is
/// this, each [`table_row`], then [`TABLE_END`].
pub fn table_start(header: &[&str]) -> String {
    let mut out = String::from("<table><tr>");
    for h in header {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr>");
    out
}

/// One row of a table; cells are escaped, numeric ones right-aligned.
pub fn table_row(row: &[String]) -> String {
    let mut out = String::from("<tr>");
    for cell in row {
        let numeric = !cell.is_empty() && cell.chars().all(|c| c.is_ascii_digit() || ".,%".contains(c));
        let class = if numeric { " class=\"n\"" } else { "" };
        let _ = write!(out, "<td{class}>{}</td>", escape(cell));
    }
    out.push_str("</tr>");
    out
}

/// The end of a table begun with [`table_start`].
pub const TABLE_END: &str = "</table>";

/// One bar of a chart: label, value, and the text shown after the bar.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    /// The label left of the bar.
    pub label: String,
    /// The bar's length, relative to the largest.
    pub value: f64,
    /// Shown after the bar.
    pub text: String,
}

/// Room left of the bars for a label of [`MAX_LABEL_CHARS`] characters (at
/// most 7.5 px each at 12 px), so that labels are never clipped.
const LABEL_WIDTH: usize = 270;
const _: () = assert!(MAX_LABEL_CHARS * 15 <= (LABEL_WIDTH - 6) * 2, "labels must fit left of the bars");
const BAR_WIDTH: usize = 420;
const ROW_HEIGHT: usize = 20;

/// A horizontal bar chart.
pub fn bar_chart(title: &str, bars: &[Bar]) -> String {
    let max = bars.iter().map(|b| b.value).fold(0.0, f64::max).max(f64::MIN_POSITIVE);
    let height = bars.len() * ROW_HEIGHT + 10;
    // Room for the longest text after a full-length bar (at most 8 px a
    // character at this size), so that no text is clipped.
    let longest = bars.iter().map(|b| b.text.chars().count()).max().unwrap_or(0);
    let width = LABEL_WIDTH + BAR_WIDTH + 12 + longest * 8;
    let mut svg = svg_open(title, width, height);
    for (i, bar) in bars.iter().enumerate() {
        let y = i * ROW_HEIGHT + 5;
        let len = (bar.value / max * BAR_WIDTH as f64).max(1.0);
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\"><title>{}</title>{}</text><rect x=\"{LABEL_WIDTH}\" y=\"{y}\" width=\"{len:.1}\" \
             height=\"{}\" fill=\"#3b6ea8\"/><text x=\"{:.1}\" y=\"{}\">{}</text>",
            LABEL_WIDTH - 6,
            y + 14,
            escape(&bar.label),
            escape(&short_label(&bar.label)),
            ROW_HEIGHT - 4,
            LABEL_WIDTH as f64 + len + 6.0,
            y + 14,
            escape(&bar.text)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Labels longer than this many characters are cut (the full label stays in
/// a tooltip), so that they fit left of the bars.
const MAX_LABEL_CHARS: usize = 34;

/// `label`, cut to [`MAX_LABEL_CHARS`] with an ellipsis when longer.
fn short_label(label: &str) -> String {
    if label.chars().count() <= MAX_LABEL_CHARS {
        return label.to_string();
    }
    let cut: String = label.chars().take(MAX_LABEL_CHARS - 1).collect();
    format!("{}…", cut.trim_end())
}

/// A funnel: one centred bar per stage, width proportional to its count.
pub fn funnel(title: &str, stages: &[(String, u64)]) -> String {
    let max = stages.iter().map(|s| s.1).max().unwrap_or(0).max(1) as f64;
    let width = 700;
    let row = 30;
    let mut svg = svg_open(title, width, stages.len() * row + 10);
    for (i, (name, count)) in stages.iter().enumerate() {
        let len = (*count as f64 / max * 500.0).max(2.0);
        let x = (width as f64 - len) / 2.0;
        let y = i * row + 5;
        let _ = write!(
            svg,
            "<rect x=\"{x:.1}\" y=\"{y}\" width=\"{len:.1}\" height=\"{}\" fill=\"#c0504d\" opacity=\"{:.2}\"/>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#000\">{}: {}</text>",
            row - 6,
            1.0 - i as f64 * 0.08,
            width / 2,
            y + 17,
            escape(name),
            thousands(*count)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A timeline: per ISO week (`2024-W36`), two vertical bars (e.g.
/// identified and taken down). Each bar pair is labelled with its week
/// number, the year under the first week and wherever it changes, so that
/// labels never overlap whatever the number of weeks; the caller passes
/// every week, empty ones too, so none is skipped.
pub fn timeline(title: &str, series: [&str; 2], points: &[(String, u64, u64)]) -> String {
    let max = points.iter().map(|p| p.1.max(p.2)).max().unwrap_or(0).max(1) as f64;
    let step = 40;
    let plot = 180.0;
    let width = (points.len() * step + 60).max(300);
    let mut svg = svg_open(title, width, 262);
    let colours = ["#3b6ea8", "#c0504d"];
    let mut year = "";
    for (i, (period, a, b)) in points.iter().enumerate() {
        let x = 40 + i * step;
        for (j, value) in [a, b].into_iter().enumerate() {
            let h = *value as f64 / max * plot;
            let _ = write!(
                svg,
                "<rect x=\"{}\" y=\"{:.1}\" width=\"16\" height=\"{h:.1}\" fill=\"{}\"><title>{} {}: {}</title></rect>",
                x + j * 17,
                10.0 + plot - h,
                colours[j],
                escape(period),
                escape(series[j]),
                thousands(*value)
            );
        }
        let (this_year, week) = period.split_once("-W").unwrap_or(("", period.as_str()));
        let _ = write!(svg, "<text x=\"{}\" y=\"206\" font-size=\"10\">W{}</text>", x + 4, escape(week));
        if this_year != year {
            let _ = write!(svg, "<text x=\"{}\" y=\"219\" font-size=\"10\">{}</text>", x + 4, escape(this_year));
            year = this_year;
        }
    }
    for (j, name) in series.iter().enumerate() {
        let _ = write!(
            svg,
            "<rect x=\"{}\" y=\"242\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{}\" y=\"251\">{}</text>",
            40 + j * 160,
            colours[j],
            54 + j * 160,
            escape(name)
        );
    }
    svg.push_str("</svg>");
    svg
}

fn svg_open(title: &str, width: usize, height: usize) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" role=\"img\" \
         font-family=\"sans-serif\" font-size=\"12\"><title>{}</title>",
        escape(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_feed_text() {
        assert_eq!(escape("<script>\"&'"), "&lt;script&gt;&quot;&amp;&#39;");
        let long = "INFORMATION TECHNOLOGY (HK) LIMITED OF SOMEWHERE".to_string();
        assert_eq!(short_label(&long).chars().count(), MAX_LABEL_CHARS);
        assert!(short_label(&long).ends_with('…'));
        let chart = bar_chart("t", &[Bar { label: "<x>".into(), value: 1.0, text: "1".into() }]);
        assert!(chart.contains("&lt;x&gt;") && !chart.contains("<x>"));
    }

    /// The numbers of the `x` attributes of `<text` elements of `svg`.
    fn text_xs(svg: &str) -> Vec<usize> {
        svg.split("<text x=\"").skip(1).filter_map(|rest| rest.split('"').next()?.parse().ok()).collect()
    }

    #[test]
    fn bar_texts_fit_inside_the_chart() {
        let text = "123,456 (120,000 down)".to_string();
        let chart = bar_chart("t", &[Bar { label: "a".into(), value: 10.0, text: text.clone() }]);
        let width: usize = chart.split("width=\"").nth(1).and_then(|w| w.split('"').next()?.parse().ok()).unwrap();
        let after_bar = LABEL_WIDTH + BAR_WIDTH + 6;
        assert!(after_bar + text.chars().count() * 7 <= width, "{width}");
    }

    #[test]
    fn timeline_labels_never_overlap_and_name_each_year_once() {
        let weeks: Vec<(String, u64, u64)> =
            (0..60).map(|i| (format!("{}-W{:02}", 2024 + i / 52, i % 52 + 1), i, i / 2)).collect();
        let svg = timeline("t", ["a", "b"], &weeks);
        let week_labels: Vec<&str> = svg.split(">W").skip(1).filter_map(|rest| rest.split('<').next()).collect();
        assert_eq!(week_labels.len(), 60, "a label per week");
        assert_eq!(svg.matches(">2024<").count() + svg.matches(">2025<").count(), 2);
        let xs = text_xs(&svg);
        let mut week_xs: Vec<usize> = xs.iter().copied().filter(|x| (x - 44) % 40 == 0).collect();
        week_xs.dedup();
        // "W52" at 10 px is under 24 px wide; labels are 40 px apart.
        assert!(week_xs.windows(2).all(|w| w[1] - w[0] >= 40), "{week_xs:?}");
        assert!(svg.contains("<title>2025-W08 a: 59</title>"));
    }
}
