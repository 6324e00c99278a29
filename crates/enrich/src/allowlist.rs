//! The allowlist: networks and domains that must never be acted on, each
//! with the reason it was listed.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;

use crate::source::{diagnostic, table_reader};
use crate::{Diagnostic, DiagnosticKind, Location};

/// Networks and domains never to act on. A domain entry also covers every
/// name below it (`example.org` covers `www.example.org`).
#[derive(Clone, Debug, Default)]
pub struct Allowlist {
    nets: Vec<(IpNet, String)>,
    domains: HashMap<String, String>,
}

/// What an allowlist entry matched, and why it is listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AllowMatch<'a> {
    /// The entry as listed: a network (`192.0.2.0/24`) or a domain.
    pub entry: &'a str,
    /// Why it is listed.
    pub reason: &'a str,
}

impl Allowlist {
    /// Reads a CSV `entry,reason` where an entry is an address, a network or
    /// a domain (a header line `entry,...` is skipped; `#` starts a comment
    /// line). Bad rows are skipped and returned as diagnostics against `file`.
    pub fn from_csv(file: &str, text: &str) -> (Allowlist, Vec<Diagnostic>) {
        let mut list = Allowlist::default();
        let mut diagnostics = Vec::new();
        let mut reader = table_reader(text);
        for row in reader.records() {
            let row = match row {
                Ok(row) => row,
                Err(error) => {
                    let line = error.position().map_or(0, |p| p.line());
                    diagnostics.push(diagnostic(
                        file,
                        Location::Line(line),
                        DiagnosticKind::Malformed,
                        error.to_string(),
                    ));
                    continue;
                }
            };
            let line = row.position().map_or(0, |p| p.line());
            let entry = row.get(0).map(str::trim).unwrap_or("");
            let reason = row.get(1).map(str::trim).filter(|r| !r.is_empty()).unwrap_or("listed in the allowlist");
            if entry.is_empty() || (line == 1 && entry.eq_ignore_ascii_case("entry")) {
                continue;
            }
            if let Err(message) = list.insert(entry, reason) {
                diagnostics.push(diagnostic(file, Location::Line(line), DiagnosticKind::Malformed, message));
            }
        }
        (list, diagnostics)
    }

    /// Adds an entry (an address, a network or a domain) with the reason it
    /// is listed; says why when the entry is none of these.
    pub fn insert(&mut self, entry: &str, reason: &str) -> Result<(), String> {
        let entry = entry.trim();
        if let Ok(net) = entry.parse::<IpNet>() {
            self.nets.push((net.trunc(), reason.to_string()));
        } else if let Ok(ip) = entry.parse::<IpAddr>() {
            self.nets.push((IpNet::from(ip), reason.to_string()));
        } else if let Some(domain) = normalize_domain(entry) {
            self.domains.insert(domain, reason.to_string());
        } else {
            return Err(format!("'{entry}' is neither an address, a network nor a domain name"));
        }
        Ok(())
    }

    /// The most specific listed network containing `ip`.
    pub fn match_ip(&self, ip: IpAddr) -> Option<(IpNet, &str)> {
        self.nets
            .iter()
            .filter(|(net, _)| net.contains(&ip))
            .max_by_key(|(net, _)| net.prefix_len())
            .map(|(net, reason)| (*net, reason.as_str()))
    }

    /// A listed network that shares an address with `net` (inside it, or
    /// containing it), the most specific first.
    pub fn overlapping(&self, net: IpNet) -> Option<(IpNet, &str)> {
        self.nets
            .iter()
            .filter(|(listed, _)| listed.contains(&net.network()) || net.contains(&listed.network()))
            .max_by_key(|(listed, _)| listed.prefix_len())
            .map(|(listed, reason)| (*listed, reason.as_str()))
    }

    /// The entry listing `domain` itself or its nearest listed parent.
    pub fn match_domain(&self, domain: &str) -> Option<AllowMatch<'_>> {
        let domain = normalize_domain(domain)?;
        let mut name = domain.as_str();
        loop {
            if let Some((entry, reason)) = self.domains.get_key_value(name) {
                return Some(AllowMatch { entry, reason });
            }
            name = name.split_once('.')?.1;
        }
    }
}

/// Lower case without a trailing dot; `None` when it cannot be a host name.
fn normalize_domain(raw: &str) -> Option<String> {
    let domain = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    let valid = !domain.is_empty()
        && domain.split('.').all(|label| {
            !label.is_empty() && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    valid.then_some(domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_networks_and_parent_domains() {
        let text = "entry,reason\n192.0.2.0/24,our office\n192.0.2.7,the VPN\nexample.org,our own site\nbad entry!,x\n";
        let (list, diagnostics) = Allowlist::from_csv("allow.csv", text);
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(diagnostics[0].location, Location::Line(5));
        assert_eq!(list.match_ip("192.0.2.7".parse().unwrap()).map(|m| m.1), Some("the VPN"));
        assert_eq!(list.match_ip("192.0.2.8".parse().unwrap()).map(|m| m.1), Some("our office"));
        assert_eq!(list.match_ip("198.51.100.1".parse().unwrap()), None);
        let hit = list.match_domain("WWW.Example.org.").map(|m| (m.entry, m.reason));
        assert_eq!(hit, Some(("example.org", "our own site")));
        assert_eq!(list.match_domain("notexample.org"), None);
    }
}
