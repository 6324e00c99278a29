use cordon_enrich::{ip_flags, Allowlist, ContactBook, FlagConfig, Hosting, HostingTable};

use crate::fixture_db;

fn keys(ip: &str) -> Vec<&'static str> {
    let db = fixture_db();
    let table = HostingTable::builtin();
    let allow = Allowlist::default();
    let ip = ip.parse().unwrap();
    let info = db.lookup(ip);
    let hosting = info.and_then(|i| i.asn).map_or(Hosting::Unknown, |a| table.classify(a));
    ip_flags(ip, info.as_ref(), hosting, 0, &FlagConfig::new(&allow)).iter().map(|f| f.kind.key()).collect()
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
    let flags = ip_flags(ip, info.as_ref(), Hosting::Cdn, 0, &FlagConfig::new(&allow));
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
