//! Self-contained HTML pieces: escaping, a page shell and inline SVG
//! charts (no script, no external resource, so a report opens offline).

use std::fmt::Write;

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
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\n<style>{STYLE}</style>\
         </head><body>\n{body}\n</body></html>\n",
        escape(title)
    )
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:70em;color:#222}\
h1{font-size:1.6em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}\
table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #eee;text-align:left}\
td.n{text-align:right}.figures{display:flex;flex-wrap:wrap;gap:1em}\
.figure{border:1px solid #ccc;border-radius:6px;padding:.6em 1em;min-width:9em}\
.figure b{display:block;font-size:1.8em}.small{color:#666;font-size:.9em}";

/// A table with a header row; cells are escaped, numeric ones right-aligned.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::from("<table><tr>");
    for h in header {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr>");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let numeric = !cell.is_empty() && cell.chars().all(|c| c.is_ascii_digit() || ".,%".contains(c));
            let class = if numeric { " class=\"n\"" } else { "" };
            let _ = write!(out, "<td{class}>{}</td>", escape(cell));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
    out
}

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

const LABEL_WIDTH: usize = 220;
const BAR_WIDTH: usize = 420;
const ROW_HEIGHT: usize = 20;

/// A horizontal bar chart.
pub fn bar_chart(title: &str, bars: &[Bar]) -> String {
    let max = bars.iter().map(|b| b.value).fold(0.0, f64::max).max(f64::MIN_POSITIVE);
    let height = bars.len() * ROW_HEIGHT + 10;
    let width = LABEL_WIDTH + BAR_WIDTH + 120;
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
             <text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#000\">{}: {count}</text>",
            row - 6,
            1.0 - i as f64 * 0.08,
            width / 2,
            y + 17,
            escape(name)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A timeline: per period, two vertical bars (e.g. identified and taken down).
pub fn timeline(title: &str, series: [&str; 2], points: &[(String, u64, u64)]) -> String {
    let max = points.iter().map(|p| p.1.max(p.2)).max().unwrap_or(0).max(1) as f64;
    let step = 44;
    let plot = 180.0;
    let width = (points.len() * step + 60).max(300);
    let mut svg = svg_open(title, width, 250);
    let colours = ["#3b6ea8", "#c0504d"];
    for (i, (period, a, b)) in points.iter().enumerate() {
        let x = 40 + i * step;
        for (j, value) in [a, b].into_iter().enumerate() {
            let h = *value as f64 / max * plot;
            let _ = write!(
                svg,
                "<rect x=\"{}\" y=\"{:.1}\" width=\"16\" height=\"{h:.1}\" fill=\"{}\"><title>{}: {value}</title></rect>",
                x + j * 17,
                10.0 + plot - h,
                colours[j],
                escape(series[j])
            );
        }
        let _ = write!(svg, "<text x=\"{}\" y=\"{}\" font-size=\"10\">{}</text>", x, 208, escape(period));
    }
    for (j, name) in series.iter().enumerate() {
        let _ = write!(
            svg,
            "<rect x=\"{}\" y=\"230\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{}\" y=\"239\">{}</text>",
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
}
