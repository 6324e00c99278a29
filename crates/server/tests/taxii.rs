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
/// charlie one of bravo's CLEAR, echo 47.0.0.1 GREEN as emotet (confidence
/// 50), then foxtrot 47.0.0.1 AMBER as emotet (confidence 90) and
/// 47.0.0.2 AMBER as qakbot; collections `everything` (up to RED, alpha
/// writes), `alpha-only` (alpha reads) and `public` (CLEAR for all).
fn start() -> Taxii {
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(&Config::new(dir.path().join("cordon.db"))).unwrap();
    let hub = app.viewer(None).unwrap();
    let ingest_file = |source: &str, tlp: Tlp, name: &str, text: &str| {
        let options = IngestOptions {
            source: source.into(),
            tlp: Some(tlp),
            category: Some(Category::Scanner),
            ..IngestOptions::default()
        };
        app.ingest(&hub, Input::Bytes { name, bytes: text.as_bytes() }, &options, None, &mut |_| {}).unwrap();
    };
    let ingest = |source: &str, tlp: Tlp, text: &str| ingest_file(source, tlp, "feed.txt", text);
    ingest("alpha", Tlp::Red, "45.9.20.31\n");
    let many: String = (0..BRAVO).map(|i| format!("46.{}.{}.1\n", i / 200, i % 200)).collect();
    ingest("bravo", Tlp::Green, &many);
    ingest("charlie", Tlp::Clear, "46.0.0.1\n");
    ingest_file("echo", Tlp::Green, "feed.csv", "ip,malware,confidence\n47.0.0.1,emotet,50\n");
    let foxtrot = "ip,malware,confidence\n47.0.0.1,emotet,90\n47.0.0.2,qakbot,90\n";
    ingest_file("foxtrot", Tlp::Amber, "feed.csv", foxtrot);
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
    // 300 GREEN (one also CLEAR) and echo's 47.0.0.1 GREEN, each as an
    // indicator, an ipv4-addr and the based-on relationship between them,
    // echo's emotet (the malware and 47.0.0.1's indicates relationship), but
    // not alpha's RED address nor foxtrot's AMBER sightings, and the two
    // objects they refer to (cordon's identity, TLP:GREEN's definition).
    let indicators = BRAVO + 1;
    let objects = 3 * indicators + 2 + 2;
    assert_eq!(summary["collections"], serde_json::json!(["everything", "public"]));
    assert_eq!(summary["root_versions"], serde_json::json!(["application/taxii+json;version=2.1"]));
    assert_eq!(summary["objects"], objects);
    assert_eq!(summary["distinct"], objects);
    assert_eq!(summary["pages"], objects.div_ceil(7));
    assert_eq!(summary["manifest"], objects);
    assert_eq!(summary["manifest_ascending"], true);
    assert_eq!(summary["type_indicator"], indicators);
    assert_eq!(summary["type_malware"], 1);
    assert_eq!(summary["type_either"], indicators + 1);
    assert_eq!(summary["type_sco"], indicators);
    assert_eq!(summary["by_id"], true);
    // 46.0.0.1 has a version per import (bravo's, then charlie's).
    assert_eq!(summary["version_all"], objects + 1);
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
    // alpha posted TLP:GREEN, so soc sees both (and their observables and
    // relationships).
    assert_eq!(summary["after_posts"], objects + 6);
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
    let mut expected = [Tlp::Green.stix_marking_id(), Tlp::Amber.stix_marking_id(), Tlp::Red.stix_marking_id()];
    expected.sort();
    assert_eq!(hub_definitions, expected);
    let hub = by_name(all_objects(&t, &t.hub, "everything", 1000));
    assert_eq!(hub.len(), BRAVO + 3);
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
    let expected = 3 * (BRAVO + 1) + 4;
    assert_eq!((objects.len(), ids.len()), (expected, expected));
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
    // The indicator's new version, and its observable, which has no
    // versions and is added again with the indicator's latest.
    let types: Vec<&str> = objects.iter().filter_map(|o| o["type"].as_str()).collect();
    assert_eq!(types.len(), 2, "{objects:?}");
    assert!(types.contains(&"ipv4-addr"), "{types:?}");
    let indicator = objects.iter().find(|o| o["type"] == "indicator").unwrap();
    assert_eq!(indicator["name"], "46.0.0.1");
    assert!(indicator["modified"].as_str().unwrap() > last.as_str());
    assert_eq!(indicator["description"], "Reported by bravo, charlie, delta.");
    let id = indicator["id"].as_str().unwrap();
    let versions = get(&t, &t.soc, &format!("{EVERYTHING}/objects/{id}/versions/")).json();
    let versions = versions["versions"].as_array().cloned().unwrap();
    assert_eq!(versions.len(), 3, "bravo's, charlie's and delta's imports: {versions:?}");
    assert_eq!(versions[2], indicator["modified"]);
}

/// The objects of `objects` of STIX type `kind`.
fn of_type(objects: &[serde_json::Value], kind: &str) -> Vec<serde_json::Value> {
    objects.iter().filter(|o| o["type"] == kind).cloned().collect()
}

/// The object of type `kind` whose `field` is `value`.
fn find<'a>(objects: &'a [serde_json::Value], kind: &str, field: &str, value: &str) -> &'a serde_json::Value {
    let found = objects.iter().find(|o| o["type"] == kind && o[field] == value);
    found.unwrap_or_else(|| panic!("no {kind} with {field} {value}"))
}

#[test]
fn observables_relationships_and_malware_are_marked_as_the_sightings_they_come_from() {
    let t = start();
    let soc = all_objects(&t, &t.soc, "everything", 1000);
    // soc sees emotet from echo's GREEN sighting only; qakbot, reported
    // only AMBER, does not exist for it, nor does anything of 47.0.0.2.
    let malware = of_type(&soc, "malware");
    assert_eq!(malware.len(), 1, "{malware:?}");
    assert_eq!((&malware[0]["name"], &malware[0]["is_family"]), (&"emotet".into(), &true.into()));
    let text = serde_json::to_string(&soc).unwrap();
    assert!(!text.contains("qakbot") && !text.contains("47.0.0.2"), "AMBER leaked to a defender");
    let fixed = ["marking-definition", "identity"];
    assert!(soc
        .iter()
        .all(|o| fixed.contains(&o["type"].as_str().unwrap()) || tlp_of(o) == Tlp::Green.stix_marking_id()));
    let indicator = find(&soc, "indicator", "name", "47.0.0.1");
    assert_eq!(indicator["description"], "Reported by echo.");
    let sco = find(&soc, "ipv4-addr", "value", "47.0.0.1");
    let relationships: Vec<_> =
        of_type(&soc, "relationship").into_iter().filter(|r| r["source_ref"] == indicator["id"]).collect();
    let targets: std::collections::BTreeMap<String, serde_json::Value> = relationships
        .iter()
        .map(|r| (r["relationship_type"].as_str().unwrap().to_string(), r["target_ref"].clone()))
        .collect();
    assert_eq!(targets.len(), 2, "{relationships:?}");
    assert_eq!(targets["based-on"], sco["id"]);
    assert_eq!(targets["indicates"], malware[0]["id"]);
    // The hub sees both families; emotet's latest version is AMBER (from
    // foxtrot's sighting), as is the relationship built from it; ids are
    // the same for every reader.
    let hub = all_objects(&t, &t.hub, "everything", 1000);
    let emotet = find(&hub, "malware", "name", "emotet");
    let qakbot = find(&hub, "malware", "name", "qakbot");
    assert_eq!(emotet["id"], malware[0]["id"]);
    assert_eq!([tlp_of(emotet), tlp_of(qakbot)], [Tlp::Amber.stix_marking_id(); 2]);
    assert_eq!(find(&hub, "ipv4-addr", "value", "47.0.0.1")["id"], sco["id"]);
    assert_eq!(tlp_of(find(&hub, "ipv4-addr", "value", "47.0.0.1")), Tlp::Amber.stix_marking_id());
    // Filters, one object and its versions, for every type.
    let listed = get(&t, &t.soc, &format!("{EVERYTHING}/objects/?match[type]=malware,relationship&limit=1000"));
    assert_eq!(listed.json()["objects"].as_array().unwrap().len(), 1 + (BRAVO + 1) + 1);
    let emotet_id = emotet["id"].as_str().unwrap();
    let one = get(&t, &t.soc, &format!("{EVERYTHING}/objects/{emotet_id}/")).json();
    assert_eq!(one["objects"], serde_json::json!([malware[0]]));
    let versions = |user: &User, id: &str| get(&t, user, &format!("{EVERYTHING}/objects/{id}/versions/")).json();
    assert_eq!(versions(&t.soc, emotet_id)["versions"].as_array().unwrap().len(), 1);
    assert_eq!(versions(&t.hub, emotet_id)["versions"].as_array().unwrap().len(), 2, "GREEN, then AMBER");
    let qakbot_id = qakbot["id"].as_str().unwrap();
    get(&t, &t.soc, &format!("{EVERYTHING}/objects/{qakbot_id}/")).assert_error(404);
    let manifest = get(&t, &t.soc, &format!("{EVERYTHING}/manifest/?match[id]={qakbot_id}")).json();
    assert_eq!(manifest["objects"].as_array().map_or(0, Vec::len), 0);
    // Deleting a malware family is refused; deleting the indicates
    // relationship deletes the sightings naming that family.
    let auth = t.hub.basic();
    let headers = [("Authorization", auth.as_str()), ("Accept", "application/taxii+json;version=2.1")];
    http(t.addr, "DELETE", &format!("{EVERYTHING}/objects/{qakbot_id}/"), &headers, b"").assert_error(403);
    let qakbot_ip = find(&hub, "indicator", "name", "47.0.0.2")["id"].as_str().unwrap().to_string();
    let indicates = hub.iter().find(|r| r["source_ref"] == qakbot_ip.as_str()).unwrap()["id"].as_str().unwrap();
    let deleted = http(t.addr, "DELETE", &format!("{EVERYTHING}/objects/{indicates}/"), &headers, b"");
    assert_eq!(deleted.status(), 200, "{}", deleted.body);
    let after = all_objects(&t, &t.hub, "everything", 1000);
    assert!(!serde_json::to_string(&after).unwrap().contains("qakbot"));
}

#[test]
fn versions_are_rebuilt_for_each_reader_from_the_sightings_it_may_see() {
    let t = start();
    let hub = all_objects(&t, &t.hub, "everything", 1000);
    let id = find(&hub, "indicator", "name", "47.0.0.1")["id"].as_str().unwrap().to_string();
    let versions = |user: &User| -> Vec<String> {
        let answer = get(&t, user, &format!("{EVERYTHING}/objects/{id}/versions/"));
        assert!(answer.header("x-taxii-date-added-first").is_some());
        let versions = answer.json()["versions"].as_array().cloned().unwrap();
        versions.iter().map(|v| v.as_str().unwrap().to_string()).collect()
    };
    let at = |user: &User, version: &str| -> Vec<serde_json::Value> {
        let answer = get(&t, user, &format!("{EVERYTHING}/objects/{id}/?match[version]={version}"));
        answer.json()["objects"].as_array().cloned().unwrap_or_default()
    };
    // The hub sees echo's import, then foxtrot's.
    let hub_versions = versions(&t.hub);
    assert_eq!(hub_versions.len(), 2, "{hub_versions:?}");
    let (first, last) = (at(&t.hub, "first"), at(&t.hub, "last"));
    assert_eq!((first.len(), last.len()), (1, 1));
    let (first, last) = (&first[0], &last[0]);
    assert_eq!(first["modified"], hub_versions[0].as_str());
    assert_eq!(last["modified"], hub_versions[1].as_str());
    assert_eq!(first["created"], last["created"]);
    assert_eq!(first["description"], "Reported by echo.");
    assert_eq!(last["description"], "Reported by echo, foxtrot.");
    assert!(last["confidence"].as_u64() > first["confidence"].as_u64(), "{first} {last}");
    assert_eq!([tlp_of(first), tlp_of(last)], [Tlp::Green.stix_marking_id(), Tlp::Amber.stix_marking_id()]);
    assert_eq!(at(&t.hub, "all"), [first.clone(), last.clone()]);
    assert_eq!(at(&t.hub, &hub_versions[0]), std::slice::from_ref(first));
    let latest = get(&t, &t.hub, &format!("{EVERYTHING}/objects/{id}/")).json();
    assert_eq!(latest["objects"], serde_json::json!([last]), "the latest by default");
    // soc may not see foxtrot's AMBER sighting: it sees echo's version only.
    assert_eq!(versions(&t.soc), hub_versions[..1]);
    assert_eq!(at(&t.soc, "all"), std::slice::from_ref(first));
    assert_eq!(at(&t.soc, "last"), std::slice::from_ref(first));
    assert!(at(&t.soc, &hub_versions[1]).is_empty());
    let manifest = get(&t, &t.soc, &format!("{EVERYTHING}/manifest/?match[id]={id}&match[version]=all")).json();
    assert_eq!(manifest["objects"].as_array().unwrap().len(), 1);
}

#[test]
fn deleting_versions_deletes_the_sightings_that_made_them() {
    let t = start();
    let hub = all_objects(&t, &t.hub, "everything", 1000);
    let id = find(&hub, "indicator", "name", "47.0.0.1")["id"].as_str().unwrap().to_string();
    let versions = |user: &User| -> Vec<serde_json::Value> {
        let answer = get(&t, user, &format!("{EVERYTHING}/objects/{id}/versions/"));
        answer.json()["versions"].as_array().cloned().unwrap_or_default()
    };
    let before = versions(&t.hub);
    assert_eq!(before.len(), 2, "echo's import, then foxtrot's: {before:?}");
    let auth = t.hub.basic();
    let headers = [("Authorization", auth.as_str()), ("Accept", "application/taxii+json;version=2.1")];
    let delete = |query: &str| http(t.addr, "DELETE", &format!("{EVERYTHING}/objects/{id}/?{query}"), &headers, b"");
    // A version the object does not have deletes nothing.
    delete("match[version]=2000-01-01T00:00:00.000000Z").assert_error(404);
    assert_eq!(versions(&t.hub), before);
    // Deleting the latest version deletes foxtrot's AMBER sighting only:
    // echo's version is left, for the hub and the defender alike.
    let deleted = delete("match[version]=last");
    assert_eq!(deleted.status(), 200, "{}", deleted.body);
    assert_eq!(versions(&t.hub), before[..1]);
    assert_eq!(versions(&t.soc), before[..1]);
    let left = get(&t, &t.hub, &format!("{EVERYTHING}/objects/{id}/")).json();
    assert_eq!(left["objects"][0]["description"], "Reported by echo.");
    // Without a filter every version goes.
    let deleted = delete("");
    assert_eq!(deleted.status(), 200, "{}", deleted.body);
    get(&t, &t.hub, &format!("{EVERYTHING}/objects/{id}/")).assert_error(404);
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
