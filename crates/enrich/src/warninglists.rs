//! MISP warninglists: the published lists of well-known indicators that are
//! not malicious (public resolvers, CDN and cloud ranges, top sites, URL
//! shorteners, research scanners, sinkholes, ...), read in their own JSON
//! format (`name`, `version`, `description`, `type`, `list`,
//! `matching_attributes`; `scripts/fetch-warninglists.sh` fetches them) and
//! compiled into one matcher.
//!
//! # Matching, as MISP does it
//!
//! MISP's `Warninglist::checkValue` decides, per list type:
//!
//! * `cidr`: the value is an address inside a listed address or network. A
//!   cordon CIDR matches when it lies wholly inside one entry (an entry that
//!   covers its first and last address covers all of it); a CIDR that only
//!   overlaps a listed network does not match.
//! * `hostname`: entries are lower-cased and trimmed of dots; the value's
//!   host (the text before the first `/`, or after `//` in a URL) matches
//!   when it or any parent domain is an entry, so `example.com` matches
//!   `example.com` and `www.example.com`. The reported entry is the
//!   shortest matching suffix, as in MISP.
//! * `string`: the value equals an entry, byte for byte.
//! * `substring`: the value contains an entry, byte for byte.
//! * `regex`: the value matches an entry written as a PCRE literal
//!   (`/pattern/flags`, flags `i`, `m`, `s`, `x`, `u`); patterns the
//!   `regex` crate cannot compile (look-around, back-references) are
//!   reported as diagnostics and left out.
//!
//! # Which lists apply to which observable
//!
//! `matching_attributes` names MISP attribute types; a list without them
//! applies to every type. cordon maps them to its kinds:
//!
//! | MISP attribute types | cordon observables checked |
//! | --- | --- |
//! | `ip-src`, `ip-dst`, `ip-src\|port`, `ip-dst\|port` | addresses, CIDRs, a URL's address host |
//! | `domain`, `hostname`, `hostname\|port` | domains, a URL's domain host |
//! | `domain\|ip` | both of the above (MISP checks each half of the pair) |
//! | `url`, `link` | URLs (a `hostname` list with `url` checks the URL's host, as MISP does) |
//!
//! Lists for other types (hashes, e-mail addresses, phone numbers, ...)
//! are listed by [`Warninglists::lists`] but not compiled, since no cordon
//! observable can match them.
//!
//! # Cost
//!
//! All `cidr` lists share one [`IpMap`], so an address costs one lookup
//! whatever the number of lists; all `hostname` lists share one hash map
//! (one probe per label of the host) and all `string` lists another (one
//! probe); all `substring` entries are one Aho-Corasick automaton (one
//! pass over the value) and all `regex` entries one [`RegexSet`].

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::IpAddr;
use std::path::Path;

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use cordon_model::Observable;
use cordon_netset::{IpMap, IpMapBuilder, IpRange};
use ipnet::IpNet;
use regex::RegexSet;
use serde::Deserialize;

use crate::{Diagnostic, DiagnosticKind, Flag, FlagKind, Location};

/// Why [`Warninglists::load_dir`] could not load anything.
#[derive(Debug, thiserror::Error)]
pub enum WarninglistsError {
    /// The directory could not be read.
    #[error("cannot read warninglists directory {path}: {source}")]
    Io {
        /// The directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The directory holds no `<name>/list.json`.
    #[error("no warninglist (<name>/list.json) in {path}: run scripts/fetch-warninglists.sh")]
    Empty {
        /// The directory.
        path: String,
    },
}

/// The type of a warninglist: how its entries are compared with a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ListType {
    /// Addresses and networks.
    Cidr,
    /// Domains that match themselves and every name below them.
    Hostname,
    /// Exact strings.
    String,
    /// Strings the value contains.
    Substring,
    /// PCRE-style regular expressions.
    Regex,
}

impl ListType {
    /// The type as the format spells it: `cidr`, `hostname`, `string`,
    /// `substring`, `regex`.
    pub fn as_str(self) -> &'static str {
        match self {
            ListType::Cidr => "cidr",
            ListType::Hostname => "hostname",
            ListType::String => "string",
            ListType::Substring => "substring",
            ListType::Regex => "regex",
        }
    }
}

/// What kind of platform or service a list names, from keywords of its
/// name (see [`WarningClass::of_list`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WarningClass {
    /// Public DNS resolvers.
    Resolver,
    /// Content delivery networks.
    Cdn,
    /// Cloud providers' address ranges.
    Cloud,
    /// Lists of the most visited sites.
    TopSite,
    /// Platforms that host users' files, pastes or pages.
    FileHosting,
    /// URL shorteners.
    UrlShortener,
    /// Link-in-bio services.
    LinkInBio,
    /// Dynamic DNS providers' domains.
    DynamicDns,
    /// Research and commercial Internet scanners.
    Scanner,
    /// Sinkholes.
    Sinkhole,
    /// Tor relays and exits.
    Tor,
    /// Anything else.
    Other,
}

/// Keywords of a lower-cased list name and the class they mean, in the
/// order they are tried (the first match wins: "Tenable Cloud Sensors" are
/// scanners, not a cloud; "Top ... websites" lists are top sites).
const CLASS_KEYWORDS: &[(&str, WarningClass)] = &[
    ("sinkhole", WarningClass::Sinkhole),
    ("tor exit", WarningClass::Tor),
    ("tor node", WarningClass::Tor),
    ("scanning", WarningClass::Scanner),
    ("scanner", WarningClass::Scanner),
    ("tenable cloud sensors", WarningClass::Scanner),
    ("dns resolver", WarningClass::Resolver),
    ("url shortener", WarningClass::UrlShortener),
    ("link in bio", WarningClass::LinkInBio),
    ("link-in-bio", WarningClass::LinkInBio),
    ("dynamic dns", WarningClass::DynamicDns),
    ("file hosting", WarningClass::FileHosting),
    ("living off trusted sites", WarningClass::FileHosting),
    ("ipfs gateway", WarningClass::FileHosting),
    ("cdn", WarningClass::Cdn),
    ("akamai", WarningClass::Cdn),
    ("cloudflare", WarningClass::Cdn),
    ("fastly", WarningClass::Cdn),
    ("amazon aws", WarningClass::Cloud),
    ("azure", WarningClass::Cloud),
    ("gcp", WarningClass::Cloud),
    ("google cloud", WarningClass::Cloud),
    ("ovh", WarningClass::Cloud),
    ("top ", WarningClass::TopSite),
    ("top500", WarningClass::TopSite),
    ("crux", WarningClass::TopSite),
];

impl WarningClass {
    /// The class a list's name suggests: the first of a small table of
    /// keywords (case-insensitive) found in the name, else
    /// [`WarningClass::Other`]. For example "List of known IPv4 public DNS
    /// resolvers" is a resolver list, "Shodan IP Ranges Used for Scanning" a
    /// scanner list, "List of LOTS (Living Off Trusted Sites) Project
    /// Domains" (Google Drive, Dropbox, pastebin, raw.githubusercontent.com)
    /// a file-hosting list.
    pub fn of_list(name: &str) -> WarningClass {
        let name = name.to_ascii_lowercase();
        CLASS_KEYWORDS.iter().find(|(keyword, _)| name.contains(keyword)).map_or(WarningClass::Other, |(_, c)| *c)
    }

    /// The flag a value in a list of this class raises (see [`Hit::flag`]
    /// for the table and the dynamic DNS exception).
    pub fn flag_kind(self) -> Option<FlagKind> {
        match self {
            WarningClass::Resolver => Some(FlagKind::PublicResolver),
            WarningClass::Cdn => Some(FlagKind::Cdn),
            WarningClass::Sinkhole => Some(FlagKind::Sinkhole),
            WarningClass::Scanner => Some(FlagKind::ResearchScanner),
            WarningClass::TopSite => Some(FlagKind::TopSite),
            WarningClass::FileHosting | WarningClass::UrlShortener | WarningClass::LinkInBio => {
                Some(FlagKind::SharedPlatform)
            }
            WarningClass::Tor | WarningClass::DynamicDns => Some(FlagKind::Warninglist),
            WarningClass::Cloud | WarningClass::Other => None,
        }
    }

    /// A short key: `resolver`, `cdn`, `cloud`, `top-site`, `file-hosting`,
    /// `url-shortener`, `link-in-bio`, `dynamic-dns`, `scanner`, `sinkhole`,
    /// `tor`, `other`.
    pub fn key(self) -> &'static str {
        match self {
            WarningClass::Resolver => "resolver",
            WarningClass::Cdn => "cdn",
            WarningClass::Cloud => "cloud",
            WarningClass::TopSite => "top-site",
            WarningClass::FileHosting => "file-hosting",
            WarningClass::UrlShortener => "url-shortener",
            WarningClass::LinkInBio => "link-in-bio",
            WarningClass::DynamicDns => "dynamic-dns",
            WarningClass::Scanner => "scanner",
            WarningClass::Sinkhole => "sinkhole",
            WarningClass::Tor => "tor",
            WarningClass::Other => "other",
        }
    }
}

/// What part of the observable matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Subject {
    /// The observable itself.
    Value,
    /// The host of a URL.
    UrlHost,
}

/// One list that matched an observable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    /// The list's name.
    pub list: String,
    /// The list's description.
    pub description: String,
    /// The entry that matched, as listed (a hostname entry lower-cased and
    /// trimmed of dots).
    pub entry: String,
    /// The text that matched: the observable, or its URL's host.
    pub matched: String,
    /// Whether the observable or its URL's host matched.
    pub subject: Subject,
    class: WarningClass,
}

impl Hit {
    /// What kind of platform or service the list names.
    pub fn class(&self) -> WarningClass {
        self.class
    }

    /// The flag the hit raises, by its list's class, with a reason that
    /// names the list; `None` for classes that call for no action.
    ///
    /// | class | flag |
    /// | --- | --- |
    /// | resolver | `public-resolver` |
    /// | CDN | `cdn` |
    /// | sinkhole | `sinkhole` |
    /// | scanner | `research-scanner` |
    /// | top site | `top-site` (the URLs on it stay listed) |
    /// | file hosting, URL shortener, link in bio | `shared-platform` (the URLs on it stay listed) |
    /// | Tor | `warninglist` |
    /// | dynamic DNS | `warninglist` for the provider's own domain; none for a name below it (a customer's name, a target of its own) |
    /// | cloud, other | none |
    ///
    /// Cloud ranges hold customers' servers, which are what a takedown
    /// asks the provider to act on; the lists of class "other" mix
    /// unrelated things (bank and university domains, VPN and mail
    /// ranges, and `substring` lists such as disposable e-mail domains,
    /// which would flag `hotmail.com` for containing `mail.com`).
    pub fn flag(&self) -> Option<Flag> {
        if self.class == WarningClass::DynamicDns && self.entry != self.matched {
            return None;
        }
        let kind = self.class.flag_kind()?;
        let what = match self.subject {
            Subject::Value => self.matched.clone(),
            Subject::UrlHost => format!("the URL's host {}", self.matched),
        };
        let entry = if self.entry == self.matched { String::new() } else { format!(" (entry {})", self.entry) };
        let reason = format!("{what} is in MISP warninglist '{}'{entry}", self.list);
        Some(Flag { kind, reason })
    }
}

/// A list's metadata, as [`Warninglists::lists`] reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListInfo<'a> {
    /// The list's name.
    pub name: &'a str,
    /// The list's description.
    pub description: &'a str,
    /// The list's type.
    pub list_type: ListType,
    /// The number of entries in the file.
    pub entries: usize,
    /// The list's version (MISP uses dates such as `20240101`).
    pub version: u64,
    /// The class its name suggests.
    pub class: WarningClass,
    /// Whether any cordon observable can match it (its
    /// `matching_attributes` name addresses, domains or URLs).
    pub applies: bool,
}

/// All loaded warninglists, compiled into one matcher.
#[derive(Debug)]
pub struct Warninglists {
    lists: Vec<List>,
    cidr: IpMap<CidrEntry>,
    hostnames: EntryMap,
    strings: EntryMap,
    substrings: Option<PatternSet<AhoCorasick>>,
    regexes: Option<PatternSet<RegexSet>>,
    /// Whether a list of a type other than `cidr` applies to addresses, so
    /// that an address's text must be checked too.
    text_for_ip: bool,
}

/// Which cordon observables a list applies to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Applies {
    ip: bool,
    domain: bool,
    url: bool,
}

impl Applies {
    fn any(self) -> bool {
        self.ip || self.domain || self.url
    }

    fn from_attributes(attributes: Option<&[String]>) -> Applies {
        let Some(attributes) = attributes else {
            return Applies { ip: true, domain: true, url: true };
        };
        let mut applies = Applies::default();
        for attribute in attributes {
            match attribute.as_str() {
                "ip-src" | "ip-dst" | "ip-src|port" | "ip-dst|port" => applies.ip = true,
                "domain" | "hostname" | "hostname|port" => applies.domain = true,
                "domain|ip" => {
                    applies.ip = true;
                    applies.domain = true;
                }
                "url" | "link" => applies.url = true,
                _ => {}
            }
        }
        applies
    }
}

/// Which kind of text a check is about, to filter lists by [`Applies`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Ip,
    Domain,
    Url,
}

impl Role {
    fn allows(self, applies: Applies) -> bool {
        match self {
            Role::Ip => applies.ip,
            Role::Domain => applies.domain,
            Role::Url => applies.url,
        }
    }
}

#[derive(Debug)]
struct List {
    name: String,
    description: String,
    list_type: ListType,
    entries: usize,
    version: u64,
    class: WarningClass,
    applies: Applies,
}

#[derive(Clone, Debug)]
struct CidrEntry {
    list: u32,
    text: Box<str>,
}

/// Entries of many lists in one hash map: entry → the lists holding it.
/// A value below [`MANY`] is the one list; otherwise `value - MANY` indexes
/// `many`, the lists of an entry held by more than one.
#[derive(Debug, Default)]
struct EntryMap {
    map: HashMap<Box<str>, u32, BuildHasherDefault<EntryHasher>>,
    many: Vec<Vec<u32>>,
}

const MANY: u32 = 1 << 31;

/// The hash of [`EntryMap`]'s keys: eight bytes at a time, multiply and
/// rotate (the std SipHash cost about a third of a domain check). The keys
/// are the lists' entries, not attacker input, and lookups never insert, so
/// hash flooding cannot slow the map down.
#[derive(Default)]
struct EntryHasher(u64);

impl Hasher for EntryHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn finish(&self) -> u64 {
        // Mix the high bits down: hashbrown takes its control byte from the
        // top seven bits and the bucket from the low ones.
        self.0 ^ (self.0 >> 29)
    }
}

/// The host of a URL as `canonical_url_host` reads it.
enum UrlHost<'a> {
    Ip(IpAddr),
    Domain(&'a str),
}

/// The host of a URL in cordon's canonical form (`scheme://host[:port]...`,
/// host lower-case ASCII, an IPv4 host in dotted decimal), read without
/// parsing the URL: the same answer as [`Observable::url_host`] for such
/// URLs, which is what `normalize` builds, at a fraction of the cost.
/// `None` (parse it properly) for anything else: user info, IPv6 literals,
/// percent-escapes, non-ASCII or upper-case hosts, numeric hosts that are
/// not dotted-decimal IPv4.
fn canonical_url_host(url: &str) -> Option<UrlHost<'_>> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.get(..rest.find(['/', '?', '#']).unwrap_or(rest.len()))?;
    let host = authority.rsplit_once(':').map_or(authority, |(host, _)| host);
    let plain = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.' || b == b'_';
    if host.is_empty() || !host.bytes().all(plain) {
        return None;
    }
    let host = host.trim_end_matches('.');
    let last = host.rsplit('.').next().unwrap_or(host);
    if last.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
        // WHATWG reads a numeric last label as an IPv4 address.
        return host.parse().ok().map(|v4: std::net::Ipv4Addr| UrlHost::Ip(IpAddr::V4(v4)));
    }
    Some(UrlHost::Domain(host))
}

impl EntryMap {
    fn insert(&mut self, entry: &str, list: u32) {
        match self.map.get_mut(entry) {
            None => {
                self.map.insert(entry.into(), list);
            }
            Some(slot) if *slot >= MANY => {
                if let Some(lists) = self.many.get_mut((*slot - MANY) as usize) {
                    if lists.last() != Some(&list) {
                        lists.push(list);
                    }
                }
            }
            Some(slot) if *slot == list => {}
            Some(slot) => {
                let index = MANY | self.many.len() as u32;
                self.many.push(vec![*slot, list]);
                *slot = index;
            }
        }
    }

    fn get(&self, key: &str) -> &[u32] {
        match self.map.get(key) {
            None => &[],
            Some(slot) if *slot >= MANY => self.many.get((*slot - MANY) as usize).map_or(&[], |l| l.as_slice()),
            Some(slot) => std::slice::from_ref(slot),
        }
    }

    fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// A multi-pattern matcher and, per pattern, its list and text.
#[derive(Debug)]
struct PatternSet<M> {
    matcher: M,
    patterns: Vec<(u32, String)>,
}

/// A list file as the format defines it.
#[derive(Deserialize)]
struct ListFile {
    name: String,
    version: u64,
    description: String,
    #[serde(rename = "type")]
    list_type: Option<String>,
    list: Vec<String>,
    matching_attributes: Option<Vec<String>>,
}

/// What a list file says of itself, read without its entries.
#[derive(Deserialize)]
struct ListHeader {
    #[serde(rename = "type")]
    list_type: Option<String>,
    matching_attributes: Option<Vec<String>>,
}

/// Which observables a load of the lists serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every kind: all the lists.
    Everything,
    /// Addresses and networks only: the lists that can match one (not the
    /// hostname lists, nor those of domains, URLs or hashes), which skips
    /// the million-entry top-site lists.
    Addresses,
}

impl Scope {
    /// Whether a list of `header` can serve this scope.
    fn wants(self, header: &ListHeader) -> bool {
        match self {
            Scope::Everything => true,
            Scope::Addresses => {
                Applies::from_attributes(header.matching_attributes.as_deref()).ip
                    && header.list_type.as_deref() != Some("hostname")
            }
        }
    }
}

impl Warninglists {
    /// Loads every `<name>/list.json` below `dir` (the layout of MISP's
    /// repository and of `data/warninglists`), in name order. A file that
    /// cannot be read or parsed, and an entry that does not fit its list's
    /// type, is a [`Diagnostic`] naming the file; the other lists load.
    pub fn load_dir(dir: &Path) -> Result<(Warninglists, Vec<Diagnostic>), WarninglistsError> {
        Warninglists::load_dir_for(dir, Scope::Everything)
    }

    /// [`Warninglists::load_dir`] of the lists that serve `scope` only.
    pub fn load_dir_for(dir: &Path, scope: Scope) -> Result<(Warninglists, Vec<Diagnostic>), WarninglistsError> {
        let io = |source| WarninglistsError::Io { path: dir.display().to_string(), source };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let path = entry.map_err(io)?.path().join("list.json");
            if path.is_file() {
                files.push(path);
            }
        }
        if files.is_empty() {
            return Err(WarninglistsError::Empty { path: dir.display().to_string() });
        }
        files.sort();
        let mut diagnostics = Vec::new();
        let mut contents = Vec::new();
        for path in files {
            let name = path.display().to_string();
            match std::fs::read(&path) {
                Ok(bytes) => contents.push((name, bytes)),
                Err(error) => diagnostics.push(unreadable(&name, format!("cannot read: {error}"))),
            }
        }
        let (lists, more) =
            Warninglists::compile(contents.iter().map(|(name, bytes)| (name.as_str(), bytes.as_slice())), scope);
        diagnostics.extend(more);
        Ok((lists, diagnostics))
    }

    /// Compiles lists from `(file name, JSON text)` pairs; problems are
    /// diagnostics against the file name, as in [`Warninglists::load_dir`].
    pub fn from_json<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> (Warninglists, Vec<Diagnostic>) {
        Warninglists::compile(files, Scope::Everything)
    }

    fn compile<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
        scope: Scope,
    ) -> (Warninglists, Vec<Diagnostic>) {
        let mut diagnostics = Vec::new();
        let mut lists = Vec::new();
        let mut cidr = IpMapBuilder::new();
        let mut hostnames = EntryMap::default();
        let mut strings = EntryMap::default();
        let mut substrings = Vec::new();
        let mut regexes = Vec::new();
        for (file, bytes) in files {
            // A file the scope does not want is not compiled; one whose
            // header does not parse is, to be reported below.
            if scope != Scope::Everything {
                if let Ok(header) = serde_json::from_slice::<ListHeader>(bytes) {
                    if !scope.wants(&header) {
                        continue;
                    }
                }
            }
            let parsed: ListFile = match serde_json::from_slice(bytes) {
                Ok(parsed) => parsed,
                Err(error) => {
                    diagnostics.push(unreadable(file, format!("not a warninglist: {error}")));
                    continue;
                }
            };
            let list_type = match parsed.list_type.as_deref() {
                Some("cidr") => ListType::Cidr,
                Some("hostname") => ListType::Hostname,
                // MISP reads a list without a type as a string list.
                Some("string") | None => ListType::String,
                Some("substring") => ListType::Substring,
                Some("regex") => ListType::Regex,
                Some(other) => {
                    diagnostics.push(unreadable(file, format!("unknown list type '{other}'")));
                    continue;
                }
            };
            let Ok(id) = u32::try_from(lists.len()) else {
                diagnostics.push(unreadable(file, "too many lists".to_string()));
                continue;
            };
            let applies = Applies::from_attributes(parsed.matching_attributes.as_deref());
            lists.push(List {
                class: WarningClass::of_list(&parsed.name),
                name: parsed.name,
                description: parsed.description,
                list_type,
                entries: parsed.list.len(),
                version: parsed.version,
                applies,
            });
            if !applies.any() {
                continue;
            }
            let mut bad = Vec::new();
            for entry in parsed.list {
                match list_type {
                    ListType::Cidr => match parse_cidr(&entry) {
                        Some(range) => {
                            if cidr.insert(range, CidrEntry { list: id, text: entry.as_str().into() }).is_none() {
                                bad.push(format!("'{entry}': too many entries"));
                            }
                        }
                        None => bad.push(format!("'{entry}' is not an address or a network")),
                    },
                    ListType::Hostname => {
                        let host = entry.trim_matches('.').to_ascii_lowercase();
                        if !host.is_empty() {
                            hostnames.insert(&host, id);
                        }
                    }
                    ListType::String => strings.insert(&entry, id),
                    ListType::Substring => {
                        if !entry.is_empty() {
                            substrings.push((id, entry));
                        }
                    }
                    ListType::Regex => match php_regex(&entry) {
                        Ok(pattern) => regexes.push((id, entry, pattern)),
                        Err(why) => bad.push(format!("'{entry}': {why}")),
                    },
                }
            }
            diagnostics.extend(bad.into_iter().map(|message| Diagnostic {
                file: file.to_string(),
                location: Location::File,
                kind: DiagnosticKind::Malformed,
                message,
            }));
        }
        let substrings = if substrings.is_empty() {
            None
        } else {
            // A DFA: several MB for the few thousand real entries, and the
            // fastest search (each value is scanned once whatever the count)
            // for loads that check every indicator; a lookup's few
            // addresses are better served by an automaton quick to build.
            let kind = match scope {
                Scope::Everything => AhoCorasickKind::DFA,
                Scope::Addresses => AhoCorasickKind::ContiguousNFA,
            };
            let builder = AhoCorasick::builder().kind(Some(kind)).build(substrings.iter().map(|(_, s)| s.as_str()));
            match builder {
                Ok(matcher) => Some(PatternSet { matcher, patterns: substrings }),
                Err(error) => {
                    diagnostics.push(unreadable("substring lists", format!("cannot compile: {error}")));
                    None
                }
            }
        };
        let regexes = if regexes.is_empty() {
            None
        } else {
            match RegexSet::new(regexes.iter().map(|(_, _, p)| p.as_str())) {
                Ok(matcher) => {
                    Some(PatternSet { matcher, patterns: regexes.into_iter().map(|(id, e, _)| (id, e)).collect() })
                }
                Err(error) => {
                    diagnostics.push(unreadable("regex lists", format!("cannot compile: {error}")));
                    None
                }
            }
        };
        let text_for_ip = lists.iter().any(|list| list.applies.ip && list.list_type != ListType::Cidr);
        let lists = Warninglists { lists, cidr: cidr.build(), hostnames, strings, substrings, regexes, text_for_ip };
        (lists, diagnostics)
    }

    /// Every loaded list (also those no cordon observable can match), in
    /// load order.
    pub fn lists(&self) -> impl Iterator<Item = ListInfo<'_>> + '_ {
        self.lists.iter().map(|list| ListInfo {
            name: &list.name,
            description: &list.description,
            list_type: list.list_type,
            entries: list.entries,
            version: list.version,
            class: list.class,
            applies: list.applies.any(),
        })
    }

    /// The lists `observable` is in, at most one hit per list, in load order
    /// (see the module docs for the rules). A URL is checked itself against
    /// lists for URLs and through its host against lists for addresses or
    /// domains.
    pub fn check(&self, observable: &Observable) -> Vec<Hit> {
        let mut found: Vec<(u32, String, Subject, String)> = Vec::new();
        match observable {
            Observable::Ip(ip) => self.check_ip(*ip, Subject::Value, &mut found),
            Observable::Net(net) => self.check_net(*net, &mut found),
            Observable::Domain(domain) => self.check_text(domain, domain, Role::Domain, Subject::Value, &mut found),
            Observable::Url(url) => {
                self.check_text(url, "", Role::Url, Subject::Value, &mut found);
                match canonical_url_host(url) {
                    Some(UrlHost::Ip(ip)) => self.check_ip(ip, Subject::UrlHost, &mut found),
                    Some(UrlHost::Domain(d)) => self.check_text(d, d, Role::Domain, Subject::UrlHost, &mut found),
                    None => match observable.url_host() {
                        Some(Observable::Ip(ip)) => self.check_ip(ip, Subject::UrlHost, &mut found),
                        Some(Observable::Domain(d)) => {
                            self.check_text(&d, &d, Role::Domain, Subject::UrlHost, &mut found)
                        }
                        _ => {}
                    },
                }
            }
        }
        found.sort_by_key(|(list, ..)| *list);
        found.dedup_by_key(|(list, ..)| *list);
        found
            .into_iter()
            .filter_map(|(id, entry, subject, matched)| {
                let list = self.lists.get(id as usize)?;
                Some(Hit {
                    list: list.name.clone(),
                    description: list.description.clone(),
                    entry,
                    matched,
                    subject,
                    class: list.class,
                })
            })
            .collect()
    }

    fn list_allows(&self, id: u32, role: Role) -> bool {
        self.lists.get(id as usize).is_some_and(|list| role.allows(list.applies))
    }

    fn check_ip(&self, ip: IpAddr, subject: Subject, found: &mut Vec<(u32, String, Subject, String)>) {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            IpAddr::V4(_) => ip,
        };
        for entry in self.cidr.get_all(ip) {
            if self.list_allows(entry.list, Role::Ip) {
                found.push((entry.list, entry.text.to_string(), subject, ip.to_string()));
            }
        }
        if self.text_for_ip {
            let text = ip.to_string();
            self.check_text(&text, &text, Role::Ip, subject, found);
        }
    }

    fn check_net(&self, net: IpNet, found: &mut Vec<(u32, String, Subject, String)>) {
        let last = self.cidr.covering(net.broadcast());
        for &id in self.cidr.covering(net.network()) {
            if !last.contains(&id) {
                continue;
            }
            if let Some((_, entry)) = self.cidr.entry(id) {
                if self.list_allows(entry.list, Role::Ip) {
                    found.push((entry.list, entry.text.to_string(), Subject::Value, net.to_string()));
                }
            }
        }
        if self.text_for_ip {
            let text = net.to_string();
            self.check_text(&text, &text, Role::Ip, Subject::Value, found);
        }
    }

    /// The string, substring, regex and hostname checks of `text` for
    /// lists that allow `role`; `host` is what hostname lists see (the text
    /// itself, or a URL's host).
    fn check_text(
        &self,
        text: &str,
        host: &str,
        role: Role,
        subject: Subject,
        found: &mut Vec<(u32, String, Subject, String)>,
    ) {
        if !self.hostnames.is_empty() && !host.is_empty() {
            let host = host.trim_end_matches('.');
            // Every suffix that starts at a label, shortest first (MISP
            // reports the shortest matching parent; `check` keeps the first
            // hit of each list).
            let mut end = host.len();
            loop {
                let start = host.get(..end).and_then(|h| h.rfind('.')).map_or(0, |dot| dot + 1);
                let suffix = host.get(start..).unwrap_or("");
                for &id in self.hostnames.get(suffix) {
                    // A hostname list for URLs checks the URL's host.
                    let allowed = self.lists.get(id as usize).is_some_and(|list| {
                        role.allows(list.applies) || (subject == Subject::UrlHost && list.applies.url)
                    });
                    if allowed {
                        found.push((id, suffix.to_string(), subject, host.to_string()));
                    }
                }
                if start == 0 {
                    break;
                }
                end = start - 1;
            }
        }
        for &id in self.strings.get(text) {
            if self.list_allows(id, role) {
                found.push((id, text.to_string(), subject, text.to_string()));
            }
        }
        if let Some(set) = &self.substrings {
            for hit in set.matcher.find_overlapping_iter(text) {
                if let Some((id, entry)) = set.patterns.get(hit.pattern().as_usize()) {
                    if self.list_allows(*id, role) {
                        found.push((*id, entry.clone(), subject, text.to_string()));
                    }
                }
            }
        }
        if let Some(set) = &self.regexes {
            for index in set.matcher.matches(text).iter() {
                if let Some((id, entry)) = set.patterns.get(index) {
                    if self.list_allows(*id, role) {
                        found.push((*id, entry.clone(), subject, text.to_string()));
                    }
                }
            }
        }
    }
}

impl fmt::Display for ListType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn unreadable(file: &str, message: String) -> Diagnostic {
    Diagnostic { file: file.to_string(), location: Location::File, kind: DiagnosticKind::Unreadable, message }
}

/// An address or a network (host bits allowed, as MISP's lists have them).
fn parse_cidr(entry: &str) -> Option<IpRange> {
    let entry = entry.trim();
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(IpRange::from(ip));
    }
    entry.parse::<IpNet>().ok().map(|net| IpRange::from(net.trunc()))
}

/// A PCRE literal `/pattern/flags` (any non-alphanumeric delimiter) as a
/// `regex` crate pattern, checked to compile.
fn php_regex(entry: &str) -> Result<String, String> {
    let mut chars = entry.chars();
    let delimiter = chars.next().ok_or("empty pattern")?;
    if delimiter.is_alphanumeric() || delimiter == '\\' || delimiter.is_whitespace() {
        return Err("not a delimited PCRE pattern (/.../flags)".to_string());
    }
    let closing = match delimiter {
        '(' => ')',
        '[' => ']',
        '{' => '}',
        '<' => '>',
        other => other,
    };
    let body = chars.as_str();
    let end = body.rfind(closing).ok_or("no closing delimiter")?;
    let (pattern, flags) = (&body[..end], &body[end + closing.len_utf8()..]);
    let mut inline = String::new();
    for flag in flags.chars() {
        match flag {
            'i' | 'm' | 's' | 'x' => inline.push(flag),
            'u' => {}
            other => return Err(format!("unsupported flag '{other}'")),
        }
    }
    let pattern = if inline.is_empty() { pattern.to_string() } else { format!("(?{inline}){pattern}") };
    regex::Regex::new(&pattern).map_err(|error| format!("not supported by the regex engine: {error}"))?;
    Ok(pattern)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn php_regexes_convert_or_are_refused() {
        assert_eq!(php_regex("/^(security|abuse)\\@.*$/i").as_deref(), Ok("(?i)^(security|abuse)\\@.*$"));
        assert_eq!(php_regex("#a/b#").as_deref(), Ok("a/b"));
        assert!(php_regex("abc").is_err());
        assert!(php_regex("/abc").is_err());
        assert!(php_regex("/(?=x)/").is_err());
        assert!(php_regex("/x/e").is_err());
        assert!(php_regex("").is_err());
    }

    #[test]
    fn classes_follow_the_keyword_table() {
        let class = WarningClass::of_list;
        assert_eq!(class("List of known IPv4 public DNS resolvers"), WarningClass::Resolver);
        assert_eq!(class("Shodan IP-Ranges, pot. used for Scanning"), WarningClass::Scanner);
        assert_eq!(class("List of known Tenable Cloud Sensors IPv4"), WarningClass::Scanner);
        assert_eq!(class("List of known URL Shorteners domains"), WarningClass::UrlShortener);
        assert_eq!(class("List of known link in Bio domains"), WarningClass::LinkInBio);
        assert_eq!(class("List of known dynamic DNS domains"), WarningClass::DynamicDns);
        assert_eq!(class("List of known sinkholes"), WarningClass::Sinkhole);
        assert_eq!(class("List of known Stackpath CDN IP ranges"), WarningClass::Cdn);
        assert_eq!(class("List of known Amazon AWS IP address ranges"), WarningClass::Cloud);
        assert_eq!(class("Top 1,000,000 most-used sites from Tranco"), WarningClass::TopSite);
        assert_eq!(class("List of LOTS (Living Off Trusted Sites) Project Domains"), WarningClass::FileHosting);
        assert_eq!(class("List of RFC 1918 CIDR blocks"), WarningClass::Other);
        assert_eq!(WarningClass::Tor.key(), "tor");
    }

    #[test]
    fn the_canonical_url_host_agrees_with_the_url_parser() {
        for url in [
            "http://example.com/x",
            "https://www.example.com:8443/a?b#c",
            "http://203.0.113.7/x",
            "http://203.0.113.7:8080",
            "http://example.com./x",
            "ftp://files.example.org",
            "http://a_b.example.com/",
            "http://1.2.3/x",
            "http://0x7f.1/",
            "http://user@example.com/",
            "http://[2001:db8::1]/x",
            "http://EXAMPLE.com/",
            "http://xn--bcher-kva.example/",
            "http://99.example/",
        ] {
            let parsed = Observable::Url(url.to_string()).url_host();
            let fast = canonical_url_host(url).map(|host| match host {
                UrlHost::Ip(ip) => Observable::Ip(ip),
                UrlHost::Domain(d) => Observable::Domain(d.to_string()),
            });
            if let Some(fast) = fast {
                assert_eq!(Some(fast), parsed, "{url}");
            }
        }
        assert!(canonical_url_host("http://user@example.com/").is_none());
        assert!(canonical_url_host("http://1.2.3/x").is_none());
        assert!(canonical_url_host("http://EXAMPLE.com/").is_none());
        assert!(canonical_url_host("http://example.com/").is_some());
    }

    #[test]
    fn entry_maps_keep_every_list_once() {
        let mut map = EntryMap::default();
        for (entry, list) in [("a", 0), ("a", 0), ("a", 1), ("a", 2), ("a", 2), ("b", 2)] {
            map.insert(entry, list);
        }
        assert_eq!(map.get("a"), [0, 1, 2]);
        assert_eq!(map.get("b"), [2]);
        assert!(map.get("c").is_empty());
    }

    #[test]
    fn attributes_decide_what_a_list_applies_to() {
        let of =
            |attrs: &[&str]| Applies::from_attributes(Some(&attrs.iter().map(|a| a.to_string()).collect::<Vec<_>>()));
        assert_eq!(of(&["ip-dst"]), Applies { ip: true, domain: false, url: false });
        assert_eq!(of(&["domain|ip"]), Applies { ip: true, domain: true, url: false });
        assert_eq!(of(&["url"]), Applies { ip: false, domain: false, url: true });
        assert!(!of(&["md5", "email-src"]).any());
        assert_eq!(Applies::from_attributes(None), Applies { ip: true, domain: true, url: true });
    }
}
