//! The templates' shapes and the answers built from them: a rendered page,
//! an error page, the stylesheet. Every text is escaped by askama.

use askama::Template;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use cordon_app::access::Role;

use crate::Signed;

/// The page header's navigation for the signed-in user.
pub(crate) struct Nav {
    pub user: String,
    pub org: String,
    pub role: &'static str,
    pub csrf: String,
    pub links: Vec<(&'static str, &'static str)>,
}

impl Nav {
    /// The links of `signed`'s role.
    pub(crate) fn of(signed: &Signed) -> Nav {
        let role = signed.principal.role;
        let links: &[(&'static str, &'static str)] = match role {
            Role::Admin => &[
                ("/", "Overview"),
                ("/indicators", "Indicators"),
                ("/lookup", "Lookup"),
                ("/imports", "Imports"),
                ("/submit", "Submit"),
                ("/admin/allowlist", "Allowlist"),
                ("/admin/contacts", "Contacts"),
                ("/admin/organisations", "Organisations"),
                ("/admin/users", "Users"),
                ("/admin/tokens", "Tokens"),
                ("/admin/collections", "Collections"),
                ("/admin/feeds", "Feeds"),
                ("/admin/audit", "Audit log"),
            ],
            Role::Analyst => &[
                ("/", "Overview"),
                ("/indicators", "Indicators"),
                ("/lookup", "Lookup"),
                ("/imports", "Imports"),
                ("/submit", "Submit"),
                ("/admin/allowlist", "Allowlist"),
                ("/admin/contacts", "Contacts"),
                ("/admin/collections", "Collections"),
                ("/admin/feeds", "Feeds"),
            ],
            Role::Submitter => {
                &[("/", "Start"), ("/submit", "Submit"), ("/imports", "My submissions"), ("/lookup", "Lookup")]
            }
            Role::Agency => &[("/", "Start"), ("/lookup", "Lookup"), ("/blocklists", "Blocklists")],
            Role::Reader => &[("/", "Start"), ("/lookup", "Lookup"), ("/blocklists", "Blocklists")],
        };
        Nav {
            user: signed.principal.user.clone(),
            org: signed.principal.org.clone(),
            role: role.as_str(),
            csrf: signed.csrf.clone(),
            links: links.to_vec(),
        }
    }
}

/// `200` with a rendered template, or the error page when it cannot be.
pub(crate) fn page(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Html("<!DOCTYPE html><title>Error</title><p>The page could not be shown.</p>"),
        )
            .into_response(),
    }
}

#[derive(Template)]
#[template(path = "login.html")]
pub(crate) struct LoginPage<'a> {
    /// The sign-in page has no navigation.
    pub nav: Option<Nav>,
    pub csrf: &'a str,
    pub message: Option<&'a str>,
    pub email: &'a str,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    nav: Option<Nav>,
    status: String,
    message: &'a str,
}

/// An error page (the navigation shown when someone is signed in).
pub(crate) fn error(status: StatusCode, signed: Option<&Signed>, message: &str) -> Response {
    let status_text = format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or(""));
    page(status, &ErrorPage { nav: signed.map(Nav::of), status: status_text, message })
}

/// One cell of a table: text, a link, or a right-aligned number.
pub(crate) struct Cell {
    pub text: String,
    pub href: Option<String>,
    pub number: bool,
}

impl Cell {
    pub(crate) fn text(text: impl Into<String>) -> Cell {
        Cell { text: text.into(), href: None, number: false }
    }

    pub(crate) fn link(text: impl Into<String>, href: String) -> Cell {
        Cell { text: text.into(), href: Some(href), number: false }
    }

    /// A count, with thousands separators.
    pub(crate) fn number(n: u64) -> Cell {
        Cell { text: cordon_ops::report::thousands(n), href: None, number: true }
    }
}

/// A field of a form of a table page.
pub(crate) struct Field {
    pub name: &'static str,
    pub label: &'static str,
    /// An input type, or `textarea`.
    pub kind: &'static str,
    pub value: String,
    pub required: bool,
    /// A select's options (empty: an input).
    pub options: Vec<String>,
}

impl Field {
    pub(crate) fn input(name: &'static str, label: &'static str, kind: &'static str) -> Field {
        Field { name, label, kind, value: String::new(), required: true, options: Vec::new() }
    }

    pub(crate) fn select(name: &'static str, label: &'static str, options: Vec<String>) -> Field {
        Field { name, label, kind: "select", value: String::new(), required: false, options }
    }
}

/// A form of a table page.
pub(crate) struct FormSpec {
    pub id: &'static str,
    pub method: &'static str,
    pub action: String,
    pub fields: Vec<Field>,
    pub submit: &'static str,
}

/// A page that is a title, some text, forms and a table.
#[derive(Template)]
#[template(path = "table.html")]
pub(crate) struct TablePage {
    pub nav: Option<Nav>,
    pub csrf: String,
    pub title: String,
    pub intro: Vec<String>,
    pub message: Option<String>,
    pub forms: Vec<FormSpec>,
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
    pub empty: &'static str,
    pub pager: Vec<(String, String)>,
}

impl TablePage {
    /// An empty page titled `title` for `signed`.
    pub(crate) fn new(signed: &Signed, title: impl Into<String>) -> TablePage {
        TablePage {
            nav: Some(Nav::of(signed)),
            csrf: signed.csrf.clone(),
            title: title.into(),
            intro: Vec::new(),
            message: None,
            forms: Vec::new(),
            headers: Vec::new(),
            rows: Vec::new(),
            empty: "Nothing here yet.",
            pager: Vec::new(),
        }
    }
}

/// `GET /static/style.css`.
pub(crate) async fn stylesheet() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")], STYLE)
        .into_response()
}

/// The one stylesheet. Text is #1a1a1a on white (contrast 17:1), links
/// #0b4f8a (8.6:1), muted text #555 (7.5:1), white on the buttons' #0b4f8a
/// (8.6:1): all above WCAG's 4.5:1.
const STYLE: &str = include_str!("../static/style.css");

#[cfg(test)]
mod tests {
    use super::STYLE;

    /// `#rgb` or `#rrggbb` as red, green, blue in 0–1.
    fn rgb(hex: &str) -> [f64; 3] {
        let hex = hex.trim_start_matches('#');
        let full: String = if hex.len() == 3 { hex.chars().flat_map(|c| [c, c]).collect() } else { hex.into() };
        let channel = |i: usize| f64::from(u8::from_str_radix(&full[i..i + 2], 16).unwrap()) / 255.0;
        [channel(0), channel(2), channel(4)]
    }

    /// WCAG 2's contrast ratio of two colours.
    fn contrast(a: &str, b: &str) -> f64 {
        let luminance = |c: [f64; 3]| {
            let linear = c.map(|v| if v <= 0.04045 { v / 12.92 } else { ((v + 0.055) / 1.055).powf(2.4) });
            0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
        };
        let (x, y) = (luminance(rgb(a)), luminance(rgb(b)));
        (x.max(y) + 0.05) / (x.min(y) + 0.05)
    }

    /// The stylesheet's rules as (selector, declarations).
    fn rules() -> Vec<(String, Vec<(String, String)>)> {
        let without_comments = STYLE.split("/*").map(|part| part.split_once("*/").map_or(part, |(_, rest)| rest));
        let text: String = without_comments.collect();
        let mut out = Vec::new();
        for rule in text.split('}') {
            let Some((selector, body)) = rule.split_once('{') else { continue };
            // `@media (…){main{…}` keeps its innermost selector.
            let selector = selector.rsplit('{').next().unwrap_or(selector).trim().to_string();
            let declarations = body
                .split(';')
                .filter_map(|d| d.split_once(':'))
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .collect();
            out.push((selector, declarations));
        }
        out
    }

    /// Every rule that sets a text colour or a background: its text on its
    /// background has at least WCAG AA's 4.5:1, what a rule leaves unset
    /// taken from where it applies (the header's navy for what is in the
    /// header, the page's text and white elsewhere).
    #[test]
    fn every_text_colour_of_the_stylesheet_has_a_contrast_of_at_least_4_5() {
        let rules = rules();
        let find = |selector: &str, property: &str| {
            rules
                .iter()
                .find(|(s, _)| s == selector)
                .and_then(|(_, d)| d.iter().find(|(k, _)| k == property))
                .map(|(_, v)| v.split_whitespace().next().unwrap_or_default().to_string())
                .unwrap_or_else(|| panic!("no {property} in {selector}"))
        };
        let (text, page) = (find("body", "color"), find("body", "background"));
        let header = find("header", "background");
        let mut checked = 0;
        for (selector, declarations) in &rules {
            let get = |name: &str| {
                declarations
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.split_whitespace().next().unwrap().to_string())
            };
            let colour = get("color");
            let background = get("background").or_else(|| get("background-color"));
            if colour.is_none() && background.is_none() {
                continue;
            }
            let in_header = selector.starts_with("header") || selector == ".who";
            let colour = colour.unwrap_or_else(|| if in_header { "#fff".into() } else { text.clone() });
            let background = background.unwrap_or_else(|| if in_header { header.clone() } else { page.clone() });
            let ratio = contrast(&colour, &background);
            assert!(ratio >= 4.5, "{selector}: {colour} on {background} is {ratio:.2}:1");
            checked += 1;
        }
        assert!(checked >= 8, "the stylesheet's colours were found: {checked}");
        // The formula itself: black on white is 21:1, a colour on itself 1:1.
        assert!((contrast("#000", "#fff") - 21.0).abs() < 1e-9 && (contrast("#555", "#555") - 1.0).abs() < 1e-9);
    }
}
