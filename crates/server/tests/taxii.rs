//! TAXII 2.1 over real TCP on 127.0.0.1: PyPI taxii2-client drives the
//! server (discovery, collections, paging with as_pages, filters, POST and
//! status, delete) and stix2-validator checks every object it gets; raw
//! HTTP checks the status codes, the error objects, cursor binding and
//! what each organisation may see.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use base64::Engine;
use cordon_app::access::{Role, TokenRequest};
use cordon_app::collections::NewCollection;
use cordon_app::intake::Input;
use cordon_app::{App, Config};
use cordon_ingest::IngestOptions;
use cordon_model::{Category, OrgKind, Tlp};
use cordon_store::orgs::NewOrganisation;

/// A user and its token.
#[derive(Clone)]
struct User {
    email: String,
    token: String,
}

impl User {
    fn basic(&self) -> String {
        let pair = format!("{}:{}", self.email, self.token);
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
    }
}

/// The server, its users and the store's directory.
struct Taxii {
    addr: SocketAddr,
    hub: User,
    alpha: User,
    soc: User,
    app: std::sync::Arc<App>,
    _runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

/// How many addresses bravo reports (one import: they share a date).
const BRAVO: usize = 300;

/// alpha (a partner) reports one address RED, bravo 300 GREEN scanners,
/// charlie one of bravo's CLEAR; collections `everything` (up to RED,
/// alpha writes), `alpha-only` (alpha reads) and `public` (CLEAR for all).
fn start() -> Taxii {
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(&Config::new(dir.path().join("cordon.db"))).unwrap();
    let hub = app.viewer(None).unwrap();
    let ingest = |source: &str, tlp: Tlp, text: &str| {
        let options = IngestOptions {
            source: source.into(),
            tlp: Some(tlp),
            category: Some(Category::Scanner),
            ..IngestOptions::default()
        };
        app.ingest(&hub, Input::Bytes { name: "feed.txt", bytes: text.as_bytes() }, &options, None, &mut |_| {})
            .unwrap();
    };
    ingest("alpha", Tlp::Red, "45.9.20.31\n");
    let many: String = (0..BRAVO).map(|i| format!("46.{}.{}.1\n", i / 200, i % 200)).collect();
    ingest("bravo", Tlp::Green, &many);
    ingest("charlie", Tlp::Clear, "46.0.0.1\n");
    app.add_org(&hub, &NewOrganisation { name: "soc".into(), kind: OrgKind::Defender, country: None, asns: vec![] })
        .unwrap();
    let collection = |name: &str, tlp_max, readers: &[&str], public_clear| NewCollection {
        name: name.into(),
        tlp_max: Some(tlp_max),
        readers: readers.iter().map(|r| r.to_string()).collect(),
        public_clear,
        writers: vec!["alpha".into()],
        ..NewCollection::default()
    };
    app.add_collection(&hub, &collection("everything", Tlp::Red, &[], false)).unwrap();
    app.add_collection(&hub, &collection("alpha-only", Tlp::Red, &["alpha"], false)).unwrap();
    app.add_collection(&hub, &collection("public", Tlp::Red, &[], true)).unwrap();
    let user = |email: &str, org: &str, role| {
        app.add_user(&hub, email, org, role, None).unwrap();
        let token =
            app.create_token(&hub, &TokenRequest { user: email.into(), ..TokenRequest::default() }).unwrap().secret;
        User { email: email.into(), token }
    };
    let hub_user = user("admin@hub.example", "hub", Role::Admin);
    let alpha = user("analyst@alpha.example", "alpha", Role::Submitter);
    let soc = user("soc@soc.example", "soc", Role::Reader);
    let served = App::open(&Config::new(dir.path().join("cordon.db"))).unwrap();
    // The listener is bound here, so the port is known before the server runs.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
        cordon_server::serve(listener, served, cordon_server::RateLimit::default(), std::future::pending()).await
    });
    Taxii { addr, hub: hub_user, alpha, soc, app: std::sync::Arc::new(app), _runtime: runtime, _dir: dir }
}

/// An answer: its status line and headers as sent, and its body.
struct Answer {
    head: String,
    body: String,
}

impl Answer {
    fn status(&self) -> u16 {
        self.head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
    }

    /// Every value of header `name`.
    fn headers<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        self.head
            .lines()
            .skip(1)
            .filter_map(|line| line.split_once(':'))
            .filter(move |(n, _)| n.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    }

    fn header<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        self.headers(name).next()
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// Asserts a TAXII error object of `status`.
    fn assert_error(&self, status: u16) -> serde_json::Value {
        assert_eq!(self.status(), status, "{}", self.body);
        assert_eq!(self.header("content-type"), Some("application/taxii+json;version=2.1"));
        let error = self.json();
        assert!(error["title"].as_str().is_some_and(|t| !t.is_empty()), "{error}");
        assert_eq!(error["http_status"], status.to_string());
        error
    }
}

/// One HTTP/1.1 request with `headers` (name, value) on its own connection.
fn http(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(addr).unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("content-length")) {
        request.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    // A server may answer before reading a body it refuses.
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    Answer { head: head.to_string(), body: body.to_string() }
}

/// A GET as `user` with the TAXII Accept.
fn get(t: &Taxii, user: &User, path: &str) -> Answer {
    let auth = user.basic();
    http(t.addr, "GET", path, &[("Authorization", &auth), ("Accept", "application/taxii+json;version=2.1")], b"")
}

const EVERYTHING: &str = "/taxii2/cordon/collections/everything";

/// Every object of `collection` as `user` sees it, following `next`.
fn all_objects(t: &Taxii, user: &User, collection: &str, limit: usize) -> Vec<serde_json::Value> {
    let mut objects = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let cursor = next.as_deref().map_or_else(String::new, |n| format!("&next={n}"));
        let page = get(t, user, &format!("/taxii2/cordon/collections/{collection}/objects/?limit={limit}{cursor}"));
        assert_eq!(page.status(), 200, "{}", page.body);
        let envelope = page.json();
        objects.extend(envelope["objects"].as_array().cloned().unwrap_or_default());
        if envelope["more"] != true {
            return objects;
        }
        next = envelope["next"].as_str().map(String::from);
    }
}

fn tlp_of(object: &serde_json::Value) -> String {
    object["object_marking_refs"][0].as_str().unwrap_or("").to_string()
}

#[test]
fn taxii2_client_pages_filters_posts_and_deletes_and_every_object_validates() {
    let t = start();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/taxii/client.py");
    let url = format!("http://{}/taxii2/", t.addr);
    let out = std::process::Command::new("python3")
        .args([script, &url, &t.soc.email, &t.soc.token, &t.alpha.email, &t.alpha.token])
        .output()
        .expect("python3 runs (scripts/install-peers.sh installs taxii2-client and stix2-validator)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the taxii2-client driver failed:\n{stderr}");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // soc (a defender) knows two of the three collections; it sees bravo's
    // 300 GREEN (one also CLEAR) but not alpha's RED address, and the two
    // objects they refer to (cordon's identity, TLP:GREEN's definition).
    assert_eq!(summary["collections"], serde_json::json!(["everything", "public"]));
    assert_eq!(summary["root_versions"], serde_json::json!(["application/taxii+json;version=2.1"]));
    assert_eq!(summary["objects"], BRAVO + 2);
    assert_eq!(summary["distinct"], BRAVO + 2);
    assert_eq!(summary["pages"], (BRAVO + 2).div_ceil(7));
    assert_eq!(summary["manifest"], BRAVO + 2);
    assert_eq!(summary["manifest_ascending"], true);
    assert_eq!(summary["type_indicator"], BRAVO);
    assert_eq!(summary["type_malware"], 0);
    assert_eq!(summary["type_either"], BRAVO);
    assert_eq!(summary["by_id"], true);
    assert_eq!(summary["version_all"], BRAVO + 2);
    assert_eq!(summary["spec_20"], 0);
    assert_eq!(summary["after_last"], 0);
    assert_eq!(summary["versions"], 1);
    // TLP:CLEAR's marking definition only.
    assert_eq!(summary["public_markings"], serde_json::json!([Tlp::Clear.stix_marking_id()]));
    // Two objects posted: complete, counts adding up; again: the same,
    // and nothing added the second time.
    assert_eq!(summary["post"], serde_json::json!(["complete", 2, 2, 0, 0]));
    assert_eq!(summary["repost"], serde_json::json!(["complete", 2, 2, 0]));
    assert_eq!(summary["status_again"], 2);
    // alpha posted TLP:GREEN, so soc sees both.
    assert_eq!(summary["after_posts"], BRAVO + 4);
    assert_eq!(summary["deleted"], true);
}

#[test]
fn each_reader_sees_what_the_visibility_rule_allows_marked_with_the_most_restrictive_tlp() {
    let t = start();
    let by_name = |objects: Vec<serde_json::Value>| -> std::collections::BTreeMap<String, String> {
        let indicators = objects.iter().filter(|o| o["type"] == "indicator");
        indicators.map(|o| (o["name"].as_str().unwrap_or("").to_string(), tlp_of(o))).collect()
    };
    // The marking definitions served are those of the TLPs the reader sees.
    let definitions = |user: &User| -> Vec<String> {
        let objects = all_objects(&t, user, "everything", 1000);
        let definitions = objects.iter().filter(|o| o["type"] == "marking-definition");
        definitions.map(|o| o["id"].as_str().unwrap_or("").to_string()).collect()
    };
    assert_eq!(definitions(&t.soc), [Tlp::Green.stix_marking_id()]);
    let mut hub_definitions = definitions(&t.hub);
    hub_definitions.sort();
    let mut expected = [Tlp::Green.stix_marking_id(), Tlp::Red.stix_marking_id()];
    expected.sort();
    assert_eq!(hub_definitions, expected);
    let hub = by_name(all_objects(&t, &t.hub, "everything", 1000));
    assert_eq!(hub.len(), BRAVO + 1);
    assert_eq!(hub["45.9.20.31"], Tlp::Red.stix_marking_id());
    // 46.0.0.1 is GREEN (bravo) and CLEAR (charlie): GREEN to a member.
    let soc = by_name(all_objects(&t, &t.soc, "everything", 1000));
    assert!(!soc.contains_key("45.9.20.31"), "RED leaked to another organisation");
    assert_eq!(soc["46.0.0.1"], Tlp::Green.stix_marking_id());
    // The public collection shows CLEAR only, built from CLEAR sightings.
    let public: Vec<_> =
        all_objects(&t, &t.hub, "public", 1000).into_iter().filter(|o| o["type"] == "indicator").collect();
    assert_eq!(public.len(), 1);
    assert_eq!(public[0]["description"], "Reported by charlie.");
    assert_eq!(tlp_of(&public[0]), Tlp::Clear.stix_marking_id());
    // alpha sees its own RED in the collection only it (and the hub) reads.
    let alpha = by_name(all_objects(&t, &t.alpha, "alpha-only", 1000));
    assert_eq!(alpha["45.9.20.31"], Tlp::Red.stix_marking_id());
}

#[test]
fn a_collection_the_caller_may_not_read_is_a_404_like_one_that_does_not_exist() {
    let t = start();
    let hidden = get(&t, &t.soc, "/taxii2/cordon/collections/alpha-only/objects/");
    let missing = get(&t, &t.soc, "/taxii2/cordon/collections/no-such/objects/");
    hidden.assert_error(404);
    assert_eq!(hidden.body, missing.body);
    let listed = get(&t, &t.soc, "/taxii2/cordon/collections/").json();
    assert!(!listed.to_string().contains("alpha-only"));
    assert_eq!(get(&t, &t.alpha, "/taxii2/cordon/collections/alpha-only/").status(), 200);
}

#[test]
fn cursors_are_bound_to_the_caller_and_the_query_and_never_lose_shared_timestamps() {
    let t = start();
    let first = get(&t, &t.soc, &format!("{EVERYTHING}/objects/?limit=5&match[type]=indicator")).json();
    let next = first["next"].as_str().unwrap().to_string();
    let path = |filters: &str| format!("{EVERYTHING}/objects/?limit=5&{filters}next={next}");
    assert_eq!(get(&t, &t.soc, &path("match[type]=indicator&")).status(), 200);
    // Another user, other filters, another endpoint, a forged cursor: 400.
    get(&t, &t.hub, &path("match[type]=indicator&")).assert_error(400);
    get(&t, &t.soc, &path("")).assert_error(400);
    get(&t, &t.soc, &format!("{EVERYTHING}/manifest/?match[type]=indicator&next={next}")).assert_error(400);
    get(&t, &t.soc, &path("match[type]=indicator&").replace(&next[..6], "AAAAAA")).assert_error(400);
    // Every object of the import shares one date: pages of 7 cover all once.
    let objects = all_objects(&t, &t.soc, "everything", 7);
    let ids: std::collections::BTreeSet<&str> = objects.iter().filter_map(|o| o["id"].as_str()).collect();
    assert_eq!((objects.len(), ids.len()), (BRAVO + 2, BRAVO + 2));
}

#[test]
fn an_indicator_that_changes_gets_a_new_version_after_the_last_date_seen() {
    let t = start();
    let manifest = get(&t, &t.soc, &format!("{EVERYTHING}/manifest/?limit=1000"));
    let last = manifest.header("x-taxii-date-added-last").unwrap().to_string();
    assert_eq!(manifest.header("x-taxii-date-added-first").map(str::len), Some(27), "microseconds");
    assert_eq!(get(&t, &t.soc, &format!("{EVERYTHING}/manifest/?added_after={last}")).json()["more"], false);
    let hub = t.app.viewer(None).unwrap();
    let options = IngestOptions { source: "delta".into(), tlp: Some(Tlp::Green), ..IngestOptions::default() };
    t.app.ingest(&hub, Input::Bytes { name: "f.txt", bytes: b"46.0.0.1\n" }, &options, None, &mut |_| {}).unwrap();
    let newer = get(&t, &t.soc, &format!("{EVERYTHING}/objects/?added_after={last}"));
    let objects = newer.json()["objects"].as_array().cloned().unwrap();
    assert_eq!(objects.len(), 1);
    assert_eq!(objects[0]["name"], "46.0.0.1");
    assert!(objects[0]["modified"].as_str().unwrap() > last.as_str());
    assert_eq!(objects[0]["description"], "Reported by bravo, charlie, delta.");
    let id = objects[0]["id"].as_str().unwrap();
    let versions = get(&t, &t.soc, &format!("{EVERYTHING}/objects/{id}/versions/")).json();
    assert_eq!(versions["versions"], serde_json::json!([objects[0]["modified"]]));
}

#[test]
fn malformed_parameters_are_400_with_an_error_object_never_500() {
    let t = start();
    for query in [
        "added_after=yesterday",
        "added_after=2026-01-01T00:00:00%2B01:00",
        "limit=0",
        "limit=many",
        "match[colour]=red",
        "match[version]=newest",
        "match[type]=NOT%20A%20TYPE",
        "next=%00%01",
        "limit=1&limit=2",
    ] {
        let answer = get(&t, &t.soc, &format!("{EVERYTHING}/objects/?{query}"));
        answer.assert_error(400);
        get(&t, &t.soc, &format!("{EVERYTHING}/manifest/?{query}")).assert_error(400);
    }
    get(&t, &t.soc, &format!("{EVERYTHING}/objects/indicator--x/versions/?match[type]=indicator")).assert_error(400);
}

#[test]
fn media_types_sizes_and_invalid_stix_have_their_statuses() {
    let t = start();
    let auth = t.alpha.basic();
    let objects = format!("{EVERYTHING}/objects/");
    let accept = ("Accept", "application/taxii+json;version=2.1");
    let taxii = ("Content-Type", "application/taxii+json;version=2.1");
    let json = ("Accept", "application/json");
    http(t.addr, "GET", &objects, &[("Authorization", &auth), json], b"").assert_error(406);
    let plain = ("Content-Type", "application/json");
    http(t.addr, "POST", &objects, &[("Authorization", &auth), accept, plain], b"{}").assert_error(415);
    let huge = ("Content-Length", "17000000");
    http(t.addr, "POST", &objects, &[("Authorization", &auth), accept, taxii, huge], b"").assert_error(413);
    http(t.addr, "POST", &objects, &[("Authorization", &auth), accept, taxii], b"{\"more\":false}").assert_error(422);
    let bad_id = br#"{"objects":[{"type":"indicator","id":"malware--1","spec_version":"2.1"}]}"#;
    http(t.addr, "POST", &objects, &[("Authorization", &auth), accept, taxii], bad_id).assert_error(422);
    http(t.addr, "POST", &objects, &[("Authorization", &auth), accept, taxii], b"not json").assert_error(400);
    // A reader may not write: 403, as an error object.
    let soc = t.soc.basic();
    http(t.addr, "POST", &objects, &[("Authorization", &soc), accept, taxii], b"{\"objects\":[]}").assert_error(403);
    // Every answer says it is TAXII 2.1, with or without a trailing slash.
    for path in ["/taxii2", "/taxii2/cordon", "/taxii2/cordon/collections", EVERYTHING] {
        let answer = get(&t, &t.soc, path);
        assert_eq!(answer.status(), 200, "{path}: {}", answer.body);
        assert_eq!(answer.header("content-type"), Some("application/taxii+json;version=2.1"));
    }
    let root = get(&t, &t.soc, "/taxii2/cordon/").json();
    assert_eq!(root["max_content_length"], 16 << 20);
}

#[test]
fn every_taxii_route_needs_credentials_and_says_so_as_an_error_object() {
    let t = start();
    for route in cordon_server::taxii::TAXII_ROUTES {
        let path =
            route.path.replace("{id}", "everything").replace("{object_id}", "indicator--x").replace("{status_id}", "s");
        for path in [path.clone(), path.trim_end_matches('/').to_string()] {
            let answer =
                http(t.addr, route.method, &path, &[("Content-Type", "application/taxii+json;version=2.1")], b"");
            answer.assert_error(401);
            let challenges: Vec<&str> = answer.headers("www-authenticate").collect();
            assert!(challenges.iter().any(|c| c.starts_with("Basic")), "{} {path}: {challenges:?}", route.method);
        }
    }
    // Basic with another user's e-mail does not authenticate.
    let wrong = User { email: t.hub.email.clone(), token: t.soc.token.clone() };
    get(&t, &wrong, "/taxii2/").assert_error(401);
    // Bearer works as well as Basic.
    let bearer = format!("Bearer {}", t.soc.token);
    assert_eq!(http(t.addr, "GET", "/taxii2/", &[("Authorization", &bearer)], b"").status(), 200);
}
