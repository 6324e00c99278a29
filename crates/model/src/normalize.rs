//! From raw text to canonical observables.
//!
//! Whitespace and control characters around a value are dropped, tabs and
//! line breaks inside it are dropped (as a URL parser drops them), and a
//! value with any other control character inside is rejected, before
//! anything else: a control character would hide what the value is from the
//! rules below but not from a URL parser. Normalizing is idempotent: the canonical text of
//! every observable normalizes to that observable (property-tested in
//! `tests/normalize_idempotent.rs`).
//!
//! The rules, in the order they are tried on a refanged, trimmed value:
//! 1. a value with `://` is a URL (WHATWG parsing: scheme and host lowercased,
//!    IDN host to A-labels, default port and fragment dropped);
//! 2. `a-b` with two addresses of one family is a range, turned into the
//!    minimal list of CIDRs;
//! 3. `addr/len` is a CIDR: host bits are cleared (with a warning), and a /32
//!    or /128 is an address;
//! 4. an address, optionally `addr:port` or `[v6]:port`; IPv4-mapped IPv6
//!    becomes IPv4 and IPv6 is printed in RFC 5952 form;
//! 5. `host/path` without a scheme is an `http://` URL;
//! 6. anything else must be a valid domain name.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

use crate::Observable;

/// The canonical observables one raw value stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Normalized {
    /// One observable, or several for an IP range.
    pub observables: Vec<Observable>,
    /// A port given with an address (`198.51.100.7:443`).
    pub port: Option<u16>,
    /// Things that were corrected on the way (host bits cleared, …).
    pub warnings: Vec<String>,
}

/// Why a raw value is not an indicator, in words a person understands.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Rejection(pub String);

fn reject(msg: impl Into<String>) -> Rejection {
    Rejection(msg.into())
}

/// The defanging notations [`refang`] replaces inside a value.
const FANGS: [(&str, &str); 9] = [
    ("[://]", "://"),
    ("[:]", ":"),
    ("[.]", "."),
    ("(.)", "."),
    ("{.}", "."),
    ("[dot]", "."),
    ("(dot)", "."),
    ("[@]", "@"),
    (" dot ", "."),
];

/// Replaces the usual defanging notations (`hxxp`, `[.]`, `(.)`, `[dot]`,
/// `[:]`, `[://]`, `[@]`) with the plain characters. Borrows when there is
/// nothing to replace, which is the common case.
///
/// Refanging its own output changes nothing: a replacement that forms a new
/// notation with what precedes it (`[[.]]` → `[.]`) is replaced too, in the
/// same single pass (each character written is checked against the end of
/// the output), so `refang(refang(x)) == refang(x)` and a canonical value
/// never refangs into another one.
pub fn refang(raw: &str) -> Cow<'_, str> {
    // Every notation holds a bracket or a space, or starts the value with
    // `hxxp`/`fxp`: a value with none of these is returned as it is.
    let fanged_scheme = raw.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("hxx") || p.eq_ignore_ascii_case("fxp"));
    if !fanged_scheme && !raw.bytes().any(|b| matches!(b, b'[' | b'(' | b'{' | b' ')) {
        return Cow::Borrowed(raw);
    }
    let mut s = String::with_capacity(raw.len());
    for c in raw.chars() {
        s.push(c);
        // Every notation ends in `]`, `)`, `}` or a space.
        if !matches!(c, ']' | ')' | '}' | ' ') {
            continue;
        }
        while let Some((from, to)) = FANGS.iter().find(|(from, _)| s.ends_with(from)) {
            s.truncate(s.len() - from.len());
            s.push_str(to);
        }
    }
    for (fanged, plain) in [("hxxps://", "https://"), ("hxxp://", "http://"), ("fxp://", "ftp://")] {
        if s.get(..fanged.len()).is_some_and(|p| p.eq_ignore_ascii_case(fanged)) {
            s.replace_range(..fanged.len(), plain);
            break;
        }
    }
    Cow::Owned(s)
}

/// Normalizes one raw value to canonical observables.
pub fn normalize(raw: &str) -> Result<Normalized, Rejection> {
    // Control characters first: around the value they are dropped like
    // spaces; inside it they would hide what the value is (a URL parser
    // drops a leading `\x01` that kept `hxxp://` from being refanged).
    let trimmed = raw.trim_matches(|c: char| c.is_whitespace() || c.is_control() || c == '\u{feff}');
    if trimmed.is_empty() {
        return Err(reject("empty value"));
    }
    // Fast path for the most common value of all, a plain IPv4 address: it
    // is canonical as parsed (rule 4 with nothing to refang or correct).
    if let Ok(v4) = trimmed.parse::<Ipv4Addr>() {
        return Ok(Normalized { observables: vec![Observable::Ip(IpAddr::V4(v4))], port: None, warnings: Vec::new() });
    }
    // Tabs and line breaks inside are dropped, as the WHATWG URL parser
    // drops them (a value may come from a quoted field over several lines);
    // any other control character rejects the value.
    let joined: Cow<'_, str> = if trimmed.contains(['\t', '\r', '\n']) {
        Cow::Owned(trimmed.replace(['\t', '\r', '\n'], ""))
    } else {
        Cow::Borrowed(trimmed)
    };
    if joined.contains(char::is_control) {
        return Err(reject(format!("{trimmed:?} contains a control character")));
    }
    let value = refang(&joined);
    let value = value.trim();
    let mut out = Normalized { observables: Vec::new(), port: None, warnings: Vec::new() };
    if value.contains("://") {
        out.observables.push(normalize_url(value)?);
        return Ok(out);
    }
    if let Some((a, b)) = value.split_once('-') {
        if let (Ok(a), Ok(b)) = (parse_ip(a.trim()), parse_ip(b.trim())) {
            out.observables = range_to_observables(a, b, value)?;
            return Ok(out);
        }
    }
    if let Some((addr, len)) = value.split_once('/') {
        if let Ok(ip) = parse_ip(addr) {
            let (obs, warning) = normalize_cidr(ip, len, value)?;
            out.observables.push(obs);
            out.warnings.extend(warning);
            return Ok(out);
        }
        if looks_like_ip(addr) {
            return Err(reject(format!("'{addr}' is not an IP address")));
        }
        out.observables.push(normalize_url(&format!("http://{value}"))?);
        return Ok(out);
    }
    if let Ok(ip) = parse_ip(value) {
        out.observables.push(Observable::Ip(ip));
        return Ok(out);
    }
    if let Some((ip, port)) = split_ip_port(value) {
        out.observables.push(Observable::Ip(ip));
        out.port = Some(port);
        return Ok(out);
    }
    if looks_like_ip(value) {
        return Err(reject(format!("'{value}' is not an IP address")));
    }
    if let Some((host, port)) = value.rsplit_once(':') {
        if looks_like_ip(host) {
            return Err(reject(format!("'{host}' is not an IP address")));
        }
        if let Ok(port) = port.parse::<u16>() {
            out.observables.push(Observable::Domain(normalize_domain(host)?));
            out.port = Some(port);
            return Ok(out);
        }
    }
    out.observables.push(Observable::Domain(normalize_domain(value)?));
    Ok(out)
}

/// Parses an address; IPv6 may be bracketed, IPv4-mapped IPv6 becomes IPv4.
fn parse_ip(s: &str) -> Result<IpAddr, ()> {
    let s = s.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(s);
    let ip: IpAddr = s.parse().map_err(|_| ())?;
    Ok(canonical_ip(ip))
}

fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// `198.51.100.7:443` or `[2001:db8::1]:443`.
fn split_ip_port(s: &str) -> Option<(IpAddr, u16)> {
    let (host, port) = s.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    let ip = if host.starts_with('[') { parse_ip(host).ok()? } else { IpAddr::V4(host.parse::<Ipv4Addr>().ok()?) };
    Some((ip, port))
}

/// True for values made of digits and dots only (or hex digits and colons
/// with at least two colons): a failed parse of these is a broken address,
/// never a domain.
fn looks_like_ip(s: &str) -> bool {
    let s = s.trim_start_matches('[').trim_end_matches(']');
    (!s.is_empty() && s.contains('.') && s.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
        || (s.matches(':').count() >= 2 && s.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.'))
}

fn normalize_cidr(ip: IpAddr, len: &str, raw: &str) -> Result<(Observable, Option<String>), Rejection> {
    let prefix: u8 = len.trim().parse().map_err(|_| reject(format!("'{raw}' has an invalid prefix length '{len}'")))?;
    let net = IpNet::new(ip, prefix).map_err(|_| reject(format!("'{raw}': prefix length {prefix} is too long")))?;
    let trunc = net.trunc();
    let warning = (trunc.network() != ip).then(|| format!("'{raw}' had host bits set; read as {trunc}"));
    if trunc.prefix_len() == trunc.max_prefix_len() {
        return Ok((Observable::Ip(trunc.network()), warning));
    }
    Ok((Observable::Net(trunc), warning))
}

fn range_to_observables(a: IpAddr, b: IpAddr, raw: &str) -> Result<Vec<Observable>, Rejection> {
    let nets: Vec<IpNet> = match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) if a <= b => ipnet::Ipv4Subnets::new(a, b, 0).map(IpNet::V4).collect(),
        (IpAddr::V6(a), IpAddr::V6(b)) if a <= b => ipnet::Ipv6Subnets::new(a, b, 0).map(IpNet::V6).collect(),
        (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => {
            return Err(reject(format!("range '{raw}' ends before it starts")))
        }
        _ => return Err(reject(format!("range '{raw}' mixes IPv4 and IPv6"))),
    };
    Ok(nets
        .into_iter()
        .map(|net| {
            if net.prefix_len() == net.max_prefix_len() {
                Observable::Ip(net.network())
            } else {
                Observable::Net(net)
            }
        })
        .collect())
}

/// Checks and canonicalizes a domain name: lowercase A-labels, no trailing
/// dot, labels of 1–63 letters, digits, hyphens (or underscores), at most 253
/// characters, at least two labels and a TLD that is not all digits.
fn normalize_domain(raw: &str) -> Result<String, Rejection> {
    let trimmed = raw.trim().trim_end_matches('.');
    if trimmed.is_empty() {
        return Err(reject("empty domain name"));
    }
    let ascii = idna::domain_to_ascii(trimmed)
        .map_err(|_| reject(format!("'{raw}' is not a valid domain name (IDN conversion failed)")))?;
    let ascii = ascii.trim_end_matches('.').to_string();
    if ascii.len() > 253 {
        return Err(reject(format!("'{raw}' is not a valid domain name (longer than 253 characters)")));
    }
    let labels: Vec<&str> = ascii.split('.').collect();
    if labels.len() < 2 {
        return Err(reject(format!("'{raw}' is not a fully qualified domain name")));
    }
    for label in &labels {
        if label.is_empty() || label.len() > 63 {
            return Err(reject(format!(
                "'{raw}' is not a valid domain name (a label is empty or longer than 63 characters)"
            )));
        }
        if !label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(reject(format!(
                "'{raw}' is not a valid domain name (characters outside letters, digits and hyphens)"
            )));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(reject(format!("'{raw}' is not a valid domain name (a label starts or ends with a hyphen)")));
        }
    }
    if labels.last().is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit())) {
        return Err(reject(format!("'{raw}' is not a valid domain name (numeric top-level label)")));
    }
    Ok(ascii)
}

/// The WHATWG special schemes: their hosts are parsed as domains and
/// addresses; other schemes' hosts are opaque strings.
const SPECIAL_SCHEMES: [&str; 6] = ["http", "https", "ws", "wss", "ftp", "file"];

fn normalize_url(raw: &str) -> Result<Observable, Rejection> {
    let mut url = url::Url::parse(raw).map_err(|e| reject(format!("'{raw}' is not a valid URL ({e})")))?;
    let host =
        url.host().map(|h| h.to_owned()).ok_or_else(|| reject(format!("'{raw}' is not a valid URL (no host)")))?;
    if let url::Host::Domain(domain) = &host {
        let canonical = normalize_domain(domain)?;
        if canonical != *domain {
            url.set_host(Some(&canonical)).map_err(|e| reject(format!("'{raw}' is not a valid URL ({e})")))?;
        }
    }
    if let url::Host::Ipv6(v6) = host {
        // Only a special scheme (http, ftp, …) has IPv4 hosts: elsewhere
        // `45.9.20.7` would be an opaque host, read back as a domain name,
        // so there the mapped address stays IPv6 (its host is still the
        // IPv4 address, see `Observable::url_host`).
        if let Some(v4) = v6.to_ipv4_mapped().filter(|_| SPECIAL_SCHEMES.contains(&url.scheme())) {
            url.set_host(Some(&v4.to_string())).map_err(|e| reject(format!("'{raw}' is not a valid URL ({e})")))?;
        }
    }
    url.set_fragment(None);
    Ok(Observable::Url(url.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(raw: &str) -> String {
        let n = normalize(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
        assert_eq!(n.observables.len(), 1, "{raw}");
        n.observables[0].to_string()
    }

    #[test]
    fn addresses() {
        assert_eq!(one(" 80.94.95.112 "), "80.94.95.112");
        assert_eq!(one("2A01:4F8:0:0::1"), "2a01:4f8::1");
        assert_eq!(one("::ffff:80.94.95.112"), "80.94.95.112");
        assert_eq!(one("[2a01:4f8::1]"), "2a01:4f8::1");
        assert_eq!(one("80[.]94[.]95[.]112"), "80.94.95.112");
        let n = normalize("80.94.95.112:8443").unwrap();
        assert_eq!((n.observables[0].to_string(), n.port), ("80.94.95.112".to_string(), Some(8443)));
    }

    #[test]
    fn broken_addresses_are_rejected_not_domains() {
        assert_eq!(normalize("999.1.2.3").unwrap_err().0, "'999.1.2.3' is not an IP address");
        assert!(normalize("1.2.3").is_err());
        assert!(normalize("1.2.3.4.5").is_err());
        assert_eq!(normalize("45.156.129.300:8080").unwrap_err().0, "'45.156.129.300' is not an IP address");
    }

    #[test]
    fn cidrs() {
        assert_eq!(one("80.94.95.0/24"), "80.94.95.0/24");
        let n = normalize("80.94.95.7/24").unwrap();
        assert_eq!(n.observables[0].to_string(), "80.94.95.0/24");
        assert_eq!(n.warnings.len(), 1);
        assert_eq!(one("80.94.95.7/32"), "80.94.95.7");
        assert_eq!(one("2a01:4f8::/128"), "2a01:4f8::");
        assert!(normalize("80.94.95.0/33").is_err());
        assert!(normalize("80.94.95.0/x").is_err());
    }

    #[test]
    fn ranges_become_minimal_cidrs() {
        let n = normalize("80.94.95.0-80.94.95.130").unwrap();
        let got: Vec<String> = n.observables.iter().map(|o| o.to_string()).collect();
        assert_eq!(got, ["80.94.95.0/25", "80.94.95.128/31", "80.94.95.130"]);
        assert!(normalize("80.94.95.9-80.94.95.1").is_err());
        assert!(normalize("80.94.95.9-2a01::1").is_err());
    }

    #[test]
    fn domains() {
        assert_eq!(one("Example.COM."), "example.com");
        assert_eq!(one("bücher.example"), "xn--bcher-kva.example");
        assert_eq!(one("evil[.]example[dot]net"), "evil.example.net");
        assert!(normalize("localhost").is_err());
        assert!(normalize("bad_-.example..com").is_err());
        assert!(normalize(&format!("{}.com", "a".repeat(64))).is_err());
        assert!(normalize("-bad.example").is_err());
    }

    #[test]
    fn urls() {
        assert_eq!(one("hxxp://EVIL.example:80/a?b=c#frag"), "http://evil.example/a?b=c");
        assert_eq!(one("HTTPS://bücher.example/x"), "https://xn--bcher-kva.example/x");
        assert_eq!(one("hxxps[://]evil[.]example/login"), "https://evil.example/login");
        assert_eq!(one("evil.example/path"), "http://evil.example/path");
        assert_eq!(one("http://[::ffff:1.2.3.4]:8080/"), "http://1.2.3.4:8080/");
        assert!(normalize("http://").is_err());
        assert!(normalize("mailto:x@example.com").is_err());
    }
}
