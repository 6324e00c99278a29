//! The lookup answers byte for byte: single and bulk lookups of hits
//! (nested networks, several sources, several TLPs, IPv6), misses and the
//! forms that normalize, against golden files, so a faster path cannot
//! change what a client reads.

mod common;

use std::net::SocketAddr;

use cordon_app::access::{Role, TokenRequest};
use cordon_app::intake::Input;
use cordon_app::{App, Config};
use cordon_ingest::IngestOptions;
use cordon_model::{Category, OrgKind, Tlp};
use cordon_store::orgs::NewOrganisation;

use common::request;

/// The values asked: hits at each nesting depth, a miss, IPv6 (a host, a
/// network, uppercase and non-canonical spellings), brackets, spaces and a
/// JSON escape.
const VALUES: &str = r#"["45.1.2.3", "45.1.2.4", "45.9.9.9", "8.8.8.8", "46.4.5.77",
    "2a01:4f8::1", "2A01:4F8:0:0::7", "[2a01:4f8::1]", " 45.1.2.3 ", "45.1.2.\u0033",
    "2a01:4f9::1", "0.0.0.0", "255.255.255.255"]"#;

/// A hub's store with overlapping indicators from three sources, served;
/// the tokens of the hub's admin and of a defender.
fn serve() -> (SocketAddr, [String; 2], tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(&Config::new(dir.path().join("cordon.db"))).unwrap();
    let hub = app.viewer(None).unwrap();
    let ingest = |source: &str, tlp: Tlp, category: Option<Category>, text: &str| {
        let options = IngestOptions { source: source.into(), tlp: Some(tlp), category, ..IngestOptions::default() };
        app.ingest(&hub, Input::Bytes { name: "feed.txt", bytes: text.as_bytes() }, &options, None, &mut |_| {})
            .unwrap();
    };
    ingest("alpha", Tlp::Amber, Some(Category::C2), "45.0.0.0/8\n45.1.2.3\n2a01:4f8::/64\n46.4.5.77\n");
    ingest("bravo", Tlp::Green, Some(Category::Botnet), "45.1.0.0/16\n45.1.2.3\n2a01:4f8::1\n");
    ingest("charlie", Tlp::Clear, None, "45.1.2.3\n2a01:4f8::7\n46.4.5.0/24\n");
    app.add_org(&hub, &NewOrganisation { name: "soc".into(), kind: OrgKind::Defender, country: None, asns: vec![] })
        .unwrap();
    let token = |email: &str, org: &str, role| {
        app.add_user(&hub, email, org, role, None).unwrap();
        app.create_token(&hub, &TokenRequest { user: email.into(), ..TokenRequest::default() }).unwrap().secret
    };
    let tokens = [token("admin@hub.example", "hub", Role::Admin), token("soc@soc.example", "soc", Role::Reader)];
    (common::serve(app, common::unlimited()), tokens, dir)
}

#[test]
fn lookup_answers_are_unchanged_byte_for_byte() {
    let (addr, tokens, _dir) = serve();
    let values: Vec<String> = serde_json::from_str(VALUES).unwrap();
    for (who, token) in ["hub", "defender"].iter().zip(&tokens) {
        let body = format!("{{\"values\": {VALUES}}}");
        let bulk = request(addr, "POST", "/api/v1/lookup", Some(token), Some(&body));
        assert_eq!(bulk.status, 200, "{}", bulk.body);
        insta::assert_snapshot!(format!("bulk-{who}"), bulk.body);
        let singles: Vec<String> = values
            .iter()
            .filter(|v| !v.contains([' ', '\\']))
            .map(|v| request(addr, "GET", &format!("/api/v1/lookup/{v}"), Some(token), None).body)
            .collect();
        insta::assert_snapshot!(format!("single-{who}"), singles.join("\n"));
    }
}
