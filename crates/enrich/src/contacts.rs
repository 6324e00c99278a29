//! Abuse contacts, read offline from an imported table, and routing an
//! address to its provider's contact and its country's national agency.
//!
//! The table is a CSV `kind,key,name,email[,pgp_fingerprint][,language]`:
//! `prefix,192.0.2.0/24,…` and `asn,64500,…` rows name providers' abuse
//! desks, `country,DE,…` rows national agencies (CERTs), `domain,
//! drive.google.com,…` rows the abuse desks of shared platforms (file
//! hosting, pastes, shorteners), which remove a URL's content themselves.
//! The provider contact for an address is the row of the most specific
//! prefix containing it, else the row of its ASN; the agency is the row of
//! its country; a platform's contact is the row of the URL's host or its
//! nearest listed parent domain.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;

use crate::source::{diagnostic, table_reader};
use crate::{Country, Diagnostic, DiagnosticKind, GeoInfo, Hosting, Location};

/// What a contact row is keyed by.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ContactKey {
    /// A network (host bits cleared).
    Prefix(IpNet),
    /// An autonomous system.
    Asn(u32),
    /// A country: the national agency.
    Country(Country),
    /// A shared platform's domain (lower case): its abuse desk, for URLs
    /// on it and on its subdomains.
    Domain(String),
}

impl fmt::Display for ContactKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContactKey::Prefix(net) => write!(f, "prefix {net}"),
            ContactKey::Asn(asn) => write!(f, "AS{asn}"),
            ContactKey::Country(country) => write!(f, "country {country}"),
            ContactKey::Domain(domain) => write!(f, "domain {domain}"),
        }
    }
}

/// One contact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contact {
    /// The row's key; tells why this contact was chosen.
    pub key: ContactKey,
    /// The organisation or desk.
    pub name: String,
    /// Where reports go.
    pub email: String,
    /// The OpenPGP fingerprint to encrypt to: 40 upper-case hex digits.
    pub pgp_fingerprint: Option<String>,
    /// The language reports should be written in (e.g. `de`).
    pub language: Option<String>,
}

/// Contacts by prefix, ASN, country and platform domain.
#[derive(Clone, Debug, Default)]
pub struct ContactBook {
    prefixes: HashMap<IpNet, Contact>,
    /// Prefix lengths present, longest first per family (v4, v6).
    prefix_lengths: [BTreeSet<u8>; 2],
    asns: HashMap<u32, Contact>,
    countries: HashMap<Country, Contact>,
    domains: HashMap<String, Contact>,
}

/// Where an address is and whom to tell about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// The range the geo data holds for (first, last address).
    pub network: Option<(IpAddr, IpAddr)>,
    /// The announcing autonomous system.
    pub asn: Option<u32>,
    /// Its organisation.
    pub as_org: Option<String>,
    /// The country.
    pub country: Option<Country>,
    /// The operator type.
    pub hosting: Hosting,
    /// The provider's abuse contact: most specific prefix, else ASN.
    pub provider_contact: Option<Contact>,
    /// The national agency of the country.
    pub agency: Option<Contact>,
}

impl ContactBook {
    /// Reads the contact table (a header line `kind,...` is skipped; `#`
    /// starts a comment line). Bad rows are skipped and returned as
    /// diagnostics against `file`; a repeated key is reported and the later
    /// row wins.
    pub fn from_csv(file: &str, text: &str) -> (ContactBook, Vec<Diagnostic>) {
        let mut book = ContactBook::default();
        let mut diagnostics = Vec::new();
        let mut reader = table_reader(text);
        for row in reader.records() {
            let (line, parsed) = match row {
                Ok(row) => {
                    let line = row.position().map_or(0, |p| p.line());
                    if line == 1 && row.get(0).is_some_and(|k| k.trim().eq_ignore_ascii_case("kind")) {
                        continue;
                    }
                    let fields: Vec<&str> = row.iter().collect();
                    (line, Contact::from_fields(&fields))
                }
                Err(error) => (error.position().map_or(0, |p| p.line()), Err(error.to_string())),
            };
            let report = |message| diagnostic(file, Location::Line(line), DiagnosticKind::Malformed, message);
            match parsed {
                Ok(contact) => {
                    if book.insert(contact) {
                        diagnostics.push(report("repeats the key of an earlier row; this row wins".to_string()));
                    }
                }
                Err(message) => diagnostics.push(report(message)),
            }
        }
        (book, diagnostics)
    }

    /// Adds a contact; returns whether it replaced one with the same key.
    pub fn insert(&mut self, contact: Contact) -> bool {
        match &contact.key {
            ContactKey::Prefix(net) => {
                let net = *net;
                self.prefix_lengths[usize::from(matches!(net, IpNet::V6(_)))].insert(net.prefix_len());
                self.prefixes.insert(net, contact).is_some()
            }
            ContactKey::Asn(asn) => self.asns.insert(*asn, contact).is_some(),
            ContactKey::Country(country) => self.countries.insert(*country, contact).is_some(),
            ContactKey::Domain(domain) => self.domains.insert(domain.clone(), contact).is_some(),
        }
    }

    /// The contact of the platform a URL on `host` belongs to: the row of
    /// `host` itself or of its nearest listed parent domain
    /// (`docs.google.com` finds a `google.com` row).
    pub fn platform_contact(&self, host: &str) -> Option<&Contact> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let mut name = host.as_str();
        loop {
            if let Some(contact) = self.domains.get(name) {
                return Some(contact);
            }
            name = name.split_once('.')?.1;
        }
    }

    /// The contact of the most specific listed prefix containing `ip`.
    pub fn prefix_contact(&self, ip: IpAddr) -> Option<&Contact> {
        let family = usize::from(ip.is_ipv6());
        self.prefix_lengths[family].iter().rev().find_map(|len| {
            let net = IpNet::new(ip, *len).ok()?.trunc();
            self.prefixes.get(&net)
        })
    }

    /// The contact listed for `asn`.
    pub fn asn_contact(&self, asn: u32) -> Option<&Contact> {
        self.asns.get(&asn)
    }

    /// Every contact: prefixes (by network), then ASNs, then countries,
    /// then platform domains.
    pub fn contacts(&self) -> impl Iterator<Item = &Contact> + '_ {
        fn sorted(mut values: Vec<&Contact>) -> Vec<&Contact> {
            values.sort_by(|a, b| a.key.cmp(&b.key));
            values
        }
        sorted(self.prefixes.values().collect())
            .into_iter()
            .chain(sorted(self.asns.values().collect()))
            .chain(sorted(self.countries.values().collect()))
            .chain(sorted(self.domains.values().collect()))
    }

    /// The national agency listed for `country`.
    pub fn agency(&self, country: Country) -> Option<&Contact> {
        self.countries.get(&country)
    }

    /// Routes `ip`: its network data from `geo`, its provider contact (most
    /// specific prefix, then the ASN) and its country's agency.
    pub fn route(&self, ip: IpAddr, geo: Option<&GeoInfo<'_>>, hosting: Hosting) -> Route {
        let asn = geo.and_then(|g| g.asn);
        let country = geo.and_then(|g| g.country);
        let provider_contact = self.prefix_contact(ip).or_else(|| asn.and_then(|a| self.asn_contact(a))).cloned();
        Route {
            network: geo.map(|g| (g.first, g.last)),
            asn,
            as_org: geo.and_then(|g| g.org).map(str::to_string),
            country,
            hosting,
            provider_contact,
            agency: country.and_then(|c| self.agency(c)).cloned(),
        }
    }
}

impl Contact {
    /// A contact from the table's fields in order: `kind, key, name, email`
    /// and optionally `pgp_fingerprint, language` (empty means absent);
    /// says why when a field is wrong.
    pub fn from_fields(fields: &[&str]) -> Result<Contact, String> {
        let get = |i: usize| fields.get(i).copied().map(str::trim).filter(|v| !v.is_empty());
        let kind = get(0).ok_or("missing kind (prefix, asn, country or domain)")?;
        let key_text = get(1).ok_or("missing key")?;
        let key = match kind.to_ascii_lowercase().as_str() {
            "prefix" => key_text
                .parse::<IpNet>()
                .map(|n| n.trunc())
                .or_else(|_| key_text.parse::<IpAddr>().map(IpNet::from))
                .map(ContactKey::Prefix)
                .map_err(|_| format!("prefix '{key_text}' is not a network"))?,
            "asn" => {
                let digits = key_text.trim_start_matches("AS").trim_start_matches("as");
                ContactKey::Asn(digits.parse().map_err(|_| format!("ASN '{key_text}' is not a number"))?)
            }
            "country" => ContactKey::Country(key_text.parse().map_err(|e: crate::UnknownCountry| e.to_string())?),
            "domain" => ContactKey::Domain(platform_domain(key_text)?),
            other => return Err(format!("kind '{other}' is not prefix, asn, country or domain")),
        };
        let name = get(2).ok_or("missing name")?.to_string();
        let email = get(3).ok_or("missing email")?;
        match email.split_once('@') {
            Some((local, domain))
                if !local.is_empty() && domain.contains('.') && !email.contains(char::is_whitespace) => {}
            _ => return Err(format!("email '{email}' is not an address")),
        }
        let pgp_fingerprint = match get(4) {
            None => None,
            Some(raw) => {
                let hex: String = raw.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
                if hex.len() != 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(format!("PGP fingerprint '{raw}' is not 40 hex digits"));
                }
                Some(hex)
            }
        };
        let language = match get(5) {
            None => None,
            Some(lang) if (2..=3).contains(&lang.len()) && lang.bytes().all(|b| b.is_ascii_alphabetic()) => {
                Some(lang.to_ascii_lowercase())
            }
            Some(lang) => return Err(format!("language '{lang}' is not a two- or three-letter code")),
        };
        Ok(Contact { key, name, email: email.to_string(), pgp_fingerprint, language })
    }
}

/// A platform domain key in canonical form (lower case, no trailing dot),
/// or why it is not one.
fn platform_domain(text: &str) -> Result<String, String> {
    match cordon_model::normalize(text).map(|n| n.observables) {
        Ok(observables) => match observables.as_slice() {
            [cordon_model::Observable::Domain(domain)] => Ok(domain.clone()),
            _ => Err(format!("domain '{text}' is not a domain name")),
        },
        Err(_) => Err(format!("domain '{text}' is not a domain name")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "kind,key,name,email,pgp_fingerprint,language
asn,13335,Cloudflare Abuse,abuse@cloudflare.com
prefix,1.1.1.0/24,APNIC Labs,abuse@apnic.net,,en
prefix,1.1.0.0/16,Wide,wide@example.net
country,AU,AusCERT,auscert@auscert.org.au,0123 4567 89ab cdef 0123 4567 89ab cdef 0123 4567,en
country,ZZ,Nowhere,x@y.z
asn,x,Bad,a@b.c
prefix,1.1.1.0/24,Again,again@example.net
asn,64500,No mail,not-an-address
domain,Google.com.,Google Abuse,abuse@google.example
domain,not a domain,Bad,a@b.c
";

    #[test]
    fn most_specific_prefix_then_asn_and_agency() {
        let (book, diagnostics) = ContactBook::from_csv("contacts.csv", TABLE);
        let lines: Vec<_> = diagnostics.iter().map(|d| d.location.clone()).collect();
        assert_eq!(
            lines,
            [Location::Line(6), Location::Line(7), Location::Line(8), Location::Line(9), Location::Line(11)]
        );
        let geo = GeoInfo {
            first: "1.1.1.0".parse().unwrap(),
            last: "1.1.1.255".parse().unwrap(),
            asn: Some(13335),
            org: Some("Cloudflare, Inc."),
            country: "AU".parse().ok(),
        };
        let route = book.route("1.1.1.1".parse().unwrap(), Some(&geo), Hosting::Cdn);
        assert_eq!(route.provider_contact.map(|c| c.name), Some("Again".into()));
        let agency = route.agency.unwrap();
        assert_eq!(agency.pgp_fingerprint.as_deref(), Some("0123456789ABCDEF0123456789ABCDEF01234567"));
        let route = book.route("1.1.9.9".parse().unwrap(), Some(&geo), Hosting::Cdn);
        assert_eq!(route.provider_contact.map(|c| c.name), Some("Wide".into()));
        let route = book.route("104.16.0.1".parse().unwrap(), Some(&geo), Hosting::Cdn);
        assert_eq!(route.provider_contact.map(|c| c.key), Some(ContactKey::Asn(13335)));
        let route = book.route("104.16.0.1".parse().unwrap(), None, Hosting::Unknown);
        assert_eq!((route.provider_contact, route.agency), (None, None));
    }

    #[test]
    fn a_platform_is_found_by_its_host_or_nearest_parent() {
        let (book, _) = ContactBook::from_csv("contacts.csv", TABLE);
        let email = |host: &str| book.platform_contact(host).map(|c| c.email.as_str());
        assert_eq!(email("drive.google.com"), Some("abuse@google.example"));
        assert_eq!(email("GOOGLE.COM."), Some("abuse@google.example"));
        assert_eq!(email("evilgoogle.com"), None);
        assert_eq!(email("com"), None);
        assert!(book.contacts().any(|c| c.key == ContactKey::Domain("google.com".into())));
    }
}
