use std::sync::OnceLock;

use cordon_enrich::{
    domain_flags, ip_flags, offline_flags, Allowlist, ContactBook, Flag, FlagConfig, Hosting, HostingTable,
    Warninglists,
};
use cordon_model::Kind;

use crate::{fixture, fixture_db};

/// The lists of `fixtures/platform-lists`: real list names and layout,
/// made-up entries.
fn platform_lists() -> &'static Warninglists {
    static LISTS: OnceLock<Warninglists> = OnceLock::new();
    LISTS.get_or_init(|| {
        let (lists, diagnostics) = Warninglists::load_dir(&fixture("platform-lists")).unwrap();
        assert!(diagnostics.is_empty(), "{diagnostics:#?}");
        lists
    })
}

fn keys(ip: &str) -> Vec<&'static str> {
    let db = fixture_db();
    let table = HostingTable::builtin();
    let allow = Allowlist::default();
    let ip = ip.parse().unwrap();
    let info = db.lookup(ip);
    let hosting = info.and_then(|i| i.asn).map_or(Hosting::Unknown, |a| table.classify(a));
    let config = FlagConfig { warninglists: Some(platform_lists()), ..FlagConfig::new(&allow) };
    ip_flags(ip, info.as_ref(), hosting, 0, &config).iter().map(|f| f.kind.key()).collect()
}

fn offline(kind: Kind, value: &str) -> Vec<Flag> {
    let allow = Allowlist::default();
    let config = FlagConfig { warninglists: Some(platform_lists()), ..FlagConfig::new(&allow) };
    offline_flags(kind, value, &config)
}

fn offline_keys(kind: Kind, value: &str) -> Vec<&'static str> {
    offline(kind, value).iter().map(|f| f.kind.key()).collect()
}

#[test]
fn warninglists_flag_resolvers_scanners_sinkholes_and_cdns() {
    assert_eq!(offline_keys(Kind::Ipv4, "8.8.8.8"), ["public-resolver"]);
    assert_eq!(offline_keys(Kind::Ipv6, "2001:4860:4860::8888"), ["public-resolver"]);
    // The two resolvers the real lists miss come from the fallback.
    assert_eq!(offline_keys(Kind::Ipv6, "2606:4700:4700::1001"), ["public-resolver"]);
    assert_eq!(offline_keys(Kind::Ipv4, "162.142.125.10"), ["research-scanner"]);
    assert_eq!(offline_keys(Kind::Ipv4, "198.20.69.74"), ["research-scanner"]);
    assert_eq!(offline_keys(Kind::Ipv4, "104.155.11.149"), ["sinkhole"]);
    assert_eq!(offline_keys(Kind::Ipv4, "104.17.2.3"), ["cdn"]);
    let reason = &offline(Kind::Ipv4, "162.142.125.10")[0].reason;
    assert_eq!(
        reason,
        "162.142.125.10 is in MISP warninglist 'Censys IP Ranges Used for Scanning' (entry 162.142.125.0/24)"
    );
    // Cloud ranges hold customers' servers: no flag.
    assert!(offline(Kind::Ipv4, "3.1.2.3").is_empty());
    assert_eq!(offline_keys(Kind::Url, "http://162.142.125.10/x"), ["research-scanner"]);
}

#[test]
fn platforms_flag_the_name_not_the_urls_on_it() {
    for host in
        ["drive.google.com", "raw.githubusercontent.com", "pastebin.com", "www.dropbox.com", "bit.ly", "linktr.ee"]
    {
        assert!(offline_keys(Kind::Domain, host).contains(&"shared-platform"), "{host}");
        let url = format!("https://{host}/file/d/1AbC/view");
        assert!(offline(Kind::Url, &url).is_empty(), "{url}: {:?}", offline(Kind::Url, &url));
    }
    assert_eq!(offline_keys(Kind::Domain, "mail.google.com"), ["top-site"]);
    assert!(offline(Kind::Url, "https://sites.google.com/view/phish").is_empty());
    // The allowlist still holds for a URL on a platform.
    let (allow, _) = Allowlist::from_csv("a.csv", "pastebin.com,ours\n");
    let config = FlagConfig { warninglists: Some(platform_lists()), ..FlagConfig::new(&allow) };
    let flags = offline_flags(Kind::Url, "https://pastebin.com/raw/x", &config);
    assert_eq!(flags.iter().map(|f| f.kind.key()).collect::<Vec<_>>(), ["allowlisted"]);
}

#[test]
fn dynamic_dns_flags_the_provider_but_not_a_customer_name() {
    assert_eq!(offline_keys(Kind::Domain, "duckdns.org"), ["warninglist"]);
    assert!(offline(Kind::Domain, "evil-c2.duckdns.org").is_empty());
}

#[test]
fn substring_lists_of_other_classes_flag_nothing() {
    let allow = Allowlist::default();
    let config = FlagConfig { warninglists: Some(platform_lists()), ..FlagConfig::new(&allow) };
    // The disposable e-mail list holds the substring "mail.com" for
    // domains: hotmail.com is a top site, never "disposable".
    let hotmail = domain_flags("hotmail.com", &config);
    assert_eq!(hotmail.len(), 1, "{hotmail:?}");
    assert!(hotmail[0].reason.contains("Tranco"), "{hotmail:?}");
    assert!(domain_flags("evilmail.com", &config).is_empty());
    assert!(platform_lists().check(&cordon_model::Observable::Domain("evilmail.com".into())).len() == 1);
}

#[test]
fn pinned_facts() {
    assert_eq!(keys("1.1.1.1"), ["public-resolver", "cdn"]);
    assert_eq!(keys("104.16.0.1"), ["cdn"]);
    assert_eq!(keys("8.8.8.8"), ["public-resolver"]);
    assert_eq!(keys("10.1.2.3"), ["bogon:private"]);
    assert_eq!(keys("51.38.1.1"), Vec::<&str>::new());
    let db = fixture_db();
    let table = HostingTable::builtin();
    let ovh = db.lookup("51.38.1.1".parse().unwrap()).and_then(|i| i.asn).unwrap();
    assert_eq!(table.classify(ovh), Hosting::Hosting);
    let hetzner = db.lookup("2a01:4f8::1".parse().unwrap()).and_then(|i| i.asn).unwrap();
    assert_eq!(table.classify(hetzner), Hosting::Hosting);
}

#[test]
fn cdn_reason_names_the_network() {
    let db = fixture_db();
    let allow = Allowlist::default();
    let ip = "1.1.1.1".parse().unwrap();
    let info = db.lookup(ip);
    let config = FlagConfig { warninglists: Some(platform_lists()), ..FlagConfig::new(&allow) };
    let flags = ip_flags(ip, info.as_ref(), Hosting::Cdn, 0, &config);
    let cdn = flags.iter().find(|f| f.kind.key() == "cdn").unwrap();
    assert!(cdn.reason.contains("AS13335 (Cloudflare, Inc.)"), "{}", cdn.reason);
}

#[test]
fn route_uses_snapshot_and_contacts() {
    let db = fixture_db();
    let text = "asn,16276,OVH Abuse,abuse@ovh.net,,fr\ncountry,FR,CERT-FR,cert-fr.cossi@ssi.gouv.fr,,fr\n";
    let (book, diagnostics) = ContactBook::from_csv("contacts.csv", text);
    assert!(diagnostics.is_empty());
    let ip = "51.38.1.1".parse().unwrap();
    let info = db.lookup(ip);
    let route = book.route(ip, info.as_ref(), Hosting::Hosting);
    assert_eq!(route.as_org.as_deref(), Some("OVH SAS"));
    assert_eq!(route.provider_contact.map(|c| c.email), Some("abuse@ovh.net".into()));
    assert_eq!(route.agency.map(|c| c.name), Some("CERT-FR".into()));
}
