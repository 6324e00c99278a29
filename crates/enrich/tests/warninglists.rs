//! MISP warninglists: the hand-written fixtures (one list or more per type),
//! the compiled CIDR matcher against a naive per-list search, and the real
//! lists fetched by `scripts/fetch-warninglists.sh` (those tests fail, not
//! skip, without the data).

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::OnceLock;

use cordon_enrich::{DiagnosticKind, FlagKind, Subject, WarningClass, Warninglists, WarninglistsError};
use cordon_model::Observable;
use ipnet::IpNet;
use proptest::prelude::*;

use crate::fixture;

fn fixtures() -> &'static Warninglists {
    static LISTS: OnceLock<Warninglists> = OnceLock::new();
    LISTS.get_or_init(|| Warninglists::load_dir(&fixture("warninglists")).unwrap().0)
}

fn ip(text: &str) -> Observable {
    Observable::Ip(text.parse().unwrap())
}

fn net(text: &str) -> Observable {
    Observable::Net(text.parse().unwrap())
}

fn domain(text: &str) -> Observable {
    Observable::Domain(text.to_string())
}

fn url(text: &str) -> Observable {
    Observable::Url(text.to_string())
}

/// `(list, entry, subject)` of every hit.
fn hits(lists: &Warninglists, observable: &Observable) -> Vec<(String, String, Subject)> {
    lists.check(observable).into_iter().map(|hit| (hit.list, hit.entry, hit.subject)).collect()
}

fn names(lists: &Warninglists, observable: &Observable) -> Vec<String> {
    lists.check(observable).into_iter().map(|hit| hit.list).collect()
}

#[test]
fn fixtures_load_and_bad_files_and_entries_are_diagnostics() {
    let (lists, diagnostics) = Warninglists::load_dir(&fixture("warninglists")).unwrap();
    let got: Vec<(String, DiagnosticKind, bool)> = diagnostics
        .iter()
        .map(|d| {
            let file = Path::new(&d.file).parent().and_then(|p| p.file_name()).unwrap().to_string_lossy().into_owned();
            (file, d.kind, d.message.contains("not-an-ip") || d.message.contains("(?<=x)y"))
        })
        .collect();
    assert_eq!(
        got,
        [
            ("broken".to_string(), DiagnosticKind::Unreadable, false),
            ("hostregex".to_string(), DiagnosticKind::Malformed, true),
            ("resolvers".to_string(), DiagnosticKind::Malformed, true),
        ],
        "{diagnostics:#?}"
    );
    let infos: Vec<(&str, &str, usize, u64, bool)> =
        lists.lists().map(|l| (l.name, l.list_type.as_str(), l.entries, l.version, l.applies)).collect();
    assert_eq!(
        infos,
        [
            ("Fixture any attribute", "cidr", 2, 9, true),
            ("Fixture cloud ranges", "cidr", 2, 2, true),
            ("Fixture contact e-mails", "regex", 1, 8, false),
            ("Fixture regex hosts", "regex", 2, 7, true),
            ("Fixture public DNS resolvers", "cidr", 4, 20260101, true),
            ("Fixture malware analysis", "substring", 2, 5, true),
            ("Fixture URL shorteners", "hostname", 3, 3, true),
            ("Fixture top sites", "string", 2, 4, true),
            ("Fixture known URLs", "string", 1, 6, true),
        ]
    );
}

#[test]
fn a_missing_or_empty_directory_is_an_error() {
    let missing = Warninglists::load_dir(&fixture("no-such-directory"));
    assert!(matches!(missing, Err(WarninglistsError::Io { .. })), "{missing:?}");
    let empty = tempfile::tempdir().unwrap();
    let error = Warninglists::load_dir(empty.path()).unwrap_err();
    assert!(matches!(error, WarninglistsError::Empty { .. }));
    assert!(error.to_string().contains("scripts/fetch-warninglists.sh"), "{error}");
}

#[test]
fn cidr_lists_match_addresses_and_contained_networks() {
    let lists = fixtures();
    let resolvers = "Fixture public DNS resolvers".to_string();
    let cloud = "Fixture cloud ranges".to_string();
    assert_eq!(hits(lists, &ip("8.8.8.8")), [(resolvers.clone(), "8.8.8.8".to_string(), Subject::Value)]);
    assert_eq!(names(lists, &ip("::ffff:8.8.8.8")), [resolvers.as_str()]);
    assert_eq!(names(lists, &ip("2001:4860:4860::8888")), [resolvers.as_str()]);
    assert_eq!(names(lists, &ip("9.9.9.9")), [cloud.clone(), resolvers.clone()]);
    assert_eq!(names(lists, &net("9.9.9.0/25")), [cloud.clone(), resolvers.clone()]);
    // Overlapping a listed network is not enough: it must lie inside one.
    assert_eq!(names(lists, &net("9.9.0.0/16")), [cloud.as_str()]);
    assert!(names(lists, &net("8.0.0.0/8")).is_empty());
    // `10.1.2.3/16` is read as 10.1.0.0/16.
    assert_eq!(hits(lists, &ip("10.1.200.1")), [(cloud.clone(), "10.1.2.3/16".to_string(), Subject::Value)]);
    assert!(names(lists, &ip("10.2.0.1")).is_empty());
    assert!(names(lists, &ip("8.8.4.4")).is_empty());
    // A URL's address host is checked against address lists.
    assert_eq!(hits(lists, &url("http://8.8.8.8/dns-query")), [(resolvers, "8.8.8.8".to_string(), Subject::UrlHost)]);
    // A list without matching_attributes applies to every kind.
    assert_eq!(names(lists, &ip("192.0.2.1")), ["Fixture any attribute"]);
}

#[test]
fn hostname_lists_match_the_host_and_its_subdomains() {
    let lists = fixtures();
    let short = "Fixture URL shorteners".to_string();
    assert_eq!(hits(lists, &domain("bit.ly")), [(short.clone(), "bit.ly".to_string(), Subject::Value)]);
    assert_eq!(hits(lists, &domain("a.b.bit.ly")), [(short.clone(), "bit.ly".to_string(), Subject::Value)]);
    // Entries are lower-cased and trimmed of dots.
    assert_eq!(names(lists, &domain("t.co")), [short.as_str()]);
    assert_eq!(names(lists, &domain("t.co.")), [short.as_str()]);
    assert!(names(lists, &domain("notbit.ly")).is_empty());
    assert!(names(lists, &domain("bit.ly.evil.example")).is_empty());
    assert!(names(lists, &domain("ly")).is_empty());
    // A hostname list for URLs (or domains) checks a URL's host.
    assert_eq!(hits(lists, &url("https://bit.ly/3xYz")), [(short, "bit.ly".to_string(), Subject::UrlHost)]);
}

#[test]
fn string_lists_match_exactly() {
    let lists = fixtures();
    let top = "Fixture top sites".to_string();
    assert_eq!(names(lists, &domain("google.com")), [top.as_str()]);
    assert_eq!(names(lists, &domain("www.google.com")), [top.as_str()]);
    assert!(names(lists, &domain("mail.google.com")).is_empty());
    assert_eq!(hits(lists, &url("https://google.com/search")), [(top, "google.com".to_string(), Subject::UrlHost)]);
    // A list for URLs only compares the whole URL.
    let urls = "Fixture known URLs".to_string();
    assert_eq!(
        hits(lists, &url("https://example.org/safe")),
        [(urls, "https://example.org/safe".into(), Subject::Value)]
    );
    assert!(names(lists, &url("https://example.org/safe2")).is_empty());
    assert!(names(lists, &domain("example.org")).is_empty());
}

#[test]
fn substring_lists_match_anywhere_in_the_value() {
    let lists = fixtures();
    let sandboxes = "Fixture malware analysis".to_string();
    assert_eq!(hits(lists, &domain("app.any.run")), [(sandboxes.clone(), "any.run".to_string(), Subject::Value)]);
    assert!(names(lists, &domain("anyrun.example")).is_empty());
    assert_eq!(
        hits(lists, &url("https://reports.example/hybrid-analysis/1")),
        [(sandboxes.clone(), "hybrid-analysis".to_string(), Subject::Value)]
    );
    // Both the URL and its host contain an entry: one hit per list.
    assert_eq!(hits(lists, &url("https://app.any.run/tasks")), [(sandboxes, "any.run".to_string(), Subject::Value)]);
}

#[test]
fn regex_lists_match_with_their_flags_and_other_types_never_match() {
    let lists = fixtures();
    let regex = "Fixture regex hosts".to_string();
    assert_eq!(
        hits(lists, &domain("cdn12.example.net")),
        [(regex, "/^cdn[0-9]+\\.example\\.net$/i".to_string(), Subject::Value)]
    );
    assert!(names(lists, &domain("cdn.example.net")).is_empty());
    assert!(names(lists, &domain("xcdn1.example.net")).is_empty());
    // The e-mail list is listed but compiled for no observable.
    assert!(names(lists, &domain("abuse@example.net")).is_empty());
}

#[test]
fn a_hit_is_a_warninglist_flag_naming_the_list() {
    let lists = fixtures();
    let hit = lists.check(&domain("x.bit.ly")).remove(0);
    let flag = hit.flag().unwrap();
    assert_eq!(flag.kind, FlagKind::SharedPlatform);
    assert_eq!(flag.kind.key(), "shared-platform");
    assert_eq!(flag.reason, "x.bit.ly is in MISP warninglist 'Fixture URL shorteners' (entry bit.ly)");
    let flag = lists.check(&url("https://t.co/x")).remove(0).flag().unwrap();
    assert_eq!(flag.reason, "the URL's host t.co is in MISP warninglist 'Fixture URL shorteners'");
    assert_eq!(hit.class(), WarningClass::UrlShortener);
    assert_eq!(lists.check(&ip("8.8.8.8"))[0].class(), WarningClass::Resolver);
}

/// A list of random IPv4 networks in a small space (so that they overlap),
/// as `(prefix, length)`.
fn nets() -> impl Strategy<Value = Vec<(u32, u8)>> {
    prop::collection::vec((0u32..1 << 12, 4u8..=32), 0..12)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn the_cidr_matcher_agrees_with_a_naive_search(
        lists in prop::collection::vec(nets(), 1..6),
        probes in prop::collection::vec(0u32..1 << 14, 1..64),
    ) {
        // Addresses live in 10.0.0.0/18 (the top bits fixed), networks are
        // cut from there so they overlap often.
        let base = u32::from(Ipv4Addr::new(10, 0, 0, 0));
        let built: Vec<Vec<IpNet>> = lists
            .iter()
            .map(|list| {
                list.iter()
                    .map(|&(bits, len)| IpNet::new(IpAddr::V4(Ipv4Addr::from(base | bits << 6)), len.max(18)).unwrap().trunc())
                    .collect()
            })
            .collect();
        let json: Vec<(String, Vec<u8>)> = built
            .iter()
            .enumerate()
            .map(|(i, nets)| {
                let entries: Vec<String> = nets.iter().map(|n| n.to_string()).collect();
                let doc = serde_json::json!({
                    "name": format!("list {i}"), "version": 1, "description": "", "type": "cidr",
                    "list": entries, "matching_attributes": ["ip-dst"],
                });
                (format!("{i}.json"), doc.to_string().into_bytes())
            })
            .collect();
        let (matcher, diagnostics) = Warninglists::from_json(json.iter().map(|(n, b)| (n.as_str(), b.as_slice())));
        prop_assert!(diagnostics.is_empty());
        for probe in probes {
            let addr = IpAddr::V4(Ipv4Addr::from(base | probe));
            let got: BTreeSet<String> = matcher.check(&Observable::Ip(addr)).into_iter().map(|h| h.list).collect();
            let want: BTreeSet<String> = built
                .iter()
                .enumerate()
                .filter(|(_, nets)| nets.iter().any(|n| n.contains(&addr)))
                .map(|(i, _)| format!("list {i}"))
                .collect();
            prop_assert_eq!(got, want, "{}", addr);
        }
    }
}

/// The real lists in data/warninglists; panics (fails the test) when
/// `scripts/fetch-warninglists.sh` has not been run.
fn real() -> &'static Warninglists {
    static LISTS: OnceLock<Warninglists> = OnceLock::new();
    LISTS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/warninglists");
        match Warninglists::load_dir(&dir) {
            Ok((lists, diagnostics)) => {
                assert!(diagnostics.len() < 10, "{diagnostics:#?}");
                lists
            }
            Err(error) => panic!("{error} (the warninglists tests need the real data)"),
        }
    })
}

fn classes(observable: &Observable) -> BTreeSet<WarningClass> {
    real().check(observable).iter().map(|hit| hit.class()).collect()
}

#[test]
fn real_lists_load_with_every_type() {
    let lists = real();
    assert!(lists.lists().count() >= 100, "{}", lists.lists().count());
    let types: BTreeSet<&str> = lists.lists().map(|l| l.list_type.as_str()).collect();
    assert_eq!(types, BTreeSet::from(["cidr", "hostname", "regex", "string", "substring"]));
    let tranco = lists.lists().find(|l| l.name.contains("Tranco") && l.entries >= 1_000_000);
    assert!(tranco.is_some_and(|l| l.class == WarningClass::TopSite && l.list_type.as_str() == "hostname"));
}

#[test]
fn real_public_resolvers_cdns_and_scanners() {
    let lists = real();
    assert!(names(lists, &ip("8.8.8.8")).contains(&"List of known IPv4 public DNS resolvers".to_string()));
    assert!(classes(&ip("8.8.8.8")).contains(&WarningClass::Resolver));
    assert!(classes(&ip("2001:4860:4860::8888")).contains(&WarningClass::Resolver));
    assert!(classes(&ip("104.16.1.1")).contains(&WarningClass::Cdn), "Cloudflare's 104.16.0.0/13");
    assert!(classes(&ip("162.142.125.10")).contains(&WarningClass::Scanner), "Censys");
    assert!(classes(&ip("10.1.2.3")).contains(&WarningClass::Other), "RFC 1918");
    assert!(classes(&ip("104.155.11.149")).contains(&WarningClass::Sinkhole));
}

#[test]
fn real_platforms_file_hosting_shorteners_link_in_bio_dynamic_dns() {
    let drive = real().check(&url("https://drive.google.com/file/d/1AbC/view?usp=sharing"));
    let hosting: Vec<_> = drive.iter().filter(|hit| hit.class() == WarningClass::FileHosting).collect();
    assert!(!hosting.is_empty(), "{drive:#?}");
    assert!(hosting.iter().all(|hit| hit.subject == Subject::UrlHost && hit.matched == "drive.google.com"));
    assert!(classes(&domain("bit.ly")).contains(&WarningClass::UrlShortener));
    assert!(classes(&url("https://bit.ly/3abcDEF")).contains(&WarningClass::UrlShortener));
    assert!(classes(&domain("linktr.ee")).contains(&WarningClass::LinkInBio));
    assert!(classes(&domain("evil-c2.duckdns.org")).contains(&WarningClass::DynamicDns));
    assert!(classes(&url("https://raw.githubusercontent.com/x/y/main/p.sh")).contains(&WarningClass::FileHosting));
}

#[test]
fn real_lists_leave_unknown_values_alone() {
    for value in [
        domain("qzxv-cordon-test-nonexistent.example"),
        url("http://qzxv-cordon-test-nonexistent.example/login.php"),
        ip("203.0.114.77"),
    ] {
        assert!(real().check(&value).is_empty(), "{value}: {:#?}", real().check(&value));
    }
}

#[test]
fn real_substring_lists_never_flag_hotmail() {
    let hits = real().check(&domain("hotmail.com"));
    // The disposable e-mail list's substring "tmail.com" matches: the
    // caution is real.
    assert!(hits.iter().any(|hit| hit.list == "List of disposable email domains"), "{hits:#?}");
    let flags: Vec<_> = hits.iter().filter_map(|hit| hit.flag()).collect();
    assert!(!flags.is_empty());
    assert!(flags.iter().all(|flag| flag.kind == FlagKind::TopSite), "{flags:#?}");
}

#[test]
fn real_platforms_and_scanners_raise_their_flags() {
    let kinds = |observable: &Observable| -> BTreeSet<FlagKind> {
        real().check(observable).iter().filter_map(|hit| hit.flag()).map(|flag| flag.kind).collect()
    };
    for host in ["drive.google.com", "raw.githubusercontent.com", "pastebin.com", "www.dropbox.com", "bit.ly"] {
        assert!(kinds(&domain(host)).contains(&FlagKind::SharedPlatform), "{host}");
    }
    assert!(kinds(&ip("162.142.125.10")).contains(&FlagKind::ResearchScanner), "Censys");
    assert!(kinds(&ip("8.8.8.8")).contains(&FlagKind::PublicResolver));
    assert!(kinds(&ip("3.5.140.2")).is_empty(), "AWS: a cloud customer's server");
    // The resolvers the built-in fallback exists for.
    for missing in ["2606:4700:4700::1001", "2620:119:53::53"] {
        assert!(!kinds(&ip(missing)).contains(&FlagKind::PublicResolver), "{missing} is in the lists now");
    }
}

/// The lists a lookup loads (`Scope::Addresses`: no hostname lists, no
/// lists of domains, URLs or hashes, a few percent of the entries) answer
/// every address and network as the whole set does.
#[test]
fn real_address_lists_answer_addresses_as_all_lists_do() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/warninglists");
    let (addresses, _) = Warninglists::load_dir_for(&dir, cordon_enrich::Scope::Addresses)
        .unwrap_or_else(|error| panic!("{error} (the warninglists tests need the real data)"));
    assert!(addresses.lists().count() < real().lists().count());
    assert!(addresses.lists().all(|l| l.list_type.as_str() != "hostname"));
    let hits = |lists: &Warninglists, o: &Observable| -> Vec<(String, String)> {
        lists.check(o).into_iter().map(|hit| (hit.list, hit.entry)).collect()
    };
    let mut values: Vec<Observable> = [
        "8.8.8.8",
        "1.1.1.1",
        "2001:4860:4860::8888",
        "104.16.1.1",
        "162.142.125.10",
        "10.1.2.3",
        "104.155.11.149",
        "45.9.20.31",
        "::ffff:8.8.4.4",
    ]
    .iter()
    .map(|v| ip(v))
    .collect();
    values.extend(
        ["8.8.8.0/24", "104.16.0.0/13", "45.9.20.0/24"]
            .iter()
            .map(|v| cordon_model::normalize(v).unwrap().observables.remove(0)),
    );
    for value in &values {
        assert_eq!(hits(&addresses, value), hits(real(), value), "{value}");
    }
}
