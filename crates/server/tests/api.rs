//! The REST API over real TCP on 127.0.0.1: authentication failures, the
//! route table's policies, visibility per organisation, keyset pagination,
//! lookups and problem documents.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use cordon_app::access::{Role, TokenRequest};
use cordon_app::intake::Input;
use cordon_app::{App, Config};
use cordon_ingest::IngestOptions;
use cordon_model::{OrgKind, Tlp};
use cordon_store::orgs::NewOrganisation;

use common::{request, request_with};

/// A hub with three organisations' sightings, a token per role, and the
/// server listening on 127.0.0.1.
struct Hub {
    addr: SocketAddr,
    hub: String,
    partner: String,
    defender: String,
    agency: String,
    _dir: tempfile::TempDir,
}

fn start() -> Hub {
    start_limited(cordon_server::RateLimit::default())
}

fn start_limited(limit: cordon_server::RateLimit) -> Hub {
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(&Config::new(dir.path().join("cordon.db"))).unwrap();
    let hub = app.viewer(None).unwrap();
    let ingest = |source: &str, tlp: Tlp, text: &str| {
        let options = IngestOptions { source: source.into(), tlp: Some(tlp), ..IngestOptions::default() };
        app.ingest(&hub, Input::Bytes { name: "feed.txt", bytes: text.as_bytes() }, &options, None, &mut |_| {})
            .unwrap();
    };
    ingest("alpha", Tlp::Red, "45.9.20.31\n45.9.21.0/24\n");
    let many: String = (0..250).map(|i| format!("46.{}.{}.1\n", i / 200, i % 200)).collect();
    ingest("bravo", Tlp::Green, &many);
    ingest("charlie", Tlp::Green, "45.9.22.5\n");
    // Countries: 45/8 is RO, 46/8 DE.
    let mut geo = cordon_enrich::Import::new();
    geo.add_csv("country.csv", b"45.0.0.0,45.255.255.255,RO\n46.0.0.0,46.255.255.255,DE\n");
    cordon_enrich::write_snapshot(&app.config().geo, &geo.finish().snapshot).unwrap();
    app.enrich(&hub, &mut |_, _| {}).unwrap();
    let operation = app.create_operation(&hub, "op", 0, 4_000_000_000, "").unwrap();
    app.build_targets(&hub, &operation, &cordon_ops::workflow::Actor::new("t", 1, ""), false).unwrap();
    let org = |name: &str, kind, country: Option<&str>| NewOrganisation {
        name: name.into(),
        kind,
        country: country.map(str::to_string),
        asns: vec![],
    };
    app.add_org(&hub, &org("soc", OrgKind::Defender, None)).unwrap();
    app.add_org(&hub, &org("ncu-ro", OrgKind::Agency, Some("RO"))).unwrap();
    let user = |email: &str, org: &str, role| {
        app.add_user(&hub, email, org, role, None).unwrap();
        app.create_token(&hub, &TokenRequest { user: email.into(), ..TokenRequest::default() }).unwrap().secret
    };
    let hub_token = user("admin@hub.example", "hub", Role::Admin);
    let partner = user("analyst@alpha.example", "alpha", Role::Submitter);
    let defender = user("soc@soc.example", "soc", Role::Reader);
    let agency = user("officer@ncu.example", "ncu-ro", Role::Agency);
    // Credentials that must not authenticate.
    app.add_user(&hub, "gone@soc.example", "soc", Role::Reader, None).unwrap();
    let addr = common::serve(app, limit);
    Hub { addr, hub: hub_token, partner, defender, agency, _dir: dir }
}

/// Health needs no credentials; the metrics, which count every
/// organisation's imports and indicators, only an admin's token.
#[test]
fn health_is_public_and_metrics_are_for_admins() {
    let hub = start();
    let health = request(hub.addr, "GET", "/healthz", None, None);
    assert_eq!((health.status, health.body.as_str()), (200, "ok\n"));
    request(hub.addr, "GET", "/api/v1/indicators", Some(&hub.hub), None);
    let anonymous = request(hub.addr, "GET", "/metrics", None, None);
    assert_eq!(anonymous.status, 401, "{}", anonymous.body);
    assert!(!anonymous.body.contains("cordon_"), "{}", anonymous.body);
    for token in [&hub.partner, &hub.defender, &hub.agency] {
        let refused = request(hub.addr, "GET", "/metrics", Some(token), None);
        assert_eq!(refused.status, 403, "{}", refused.body);
        assert!(!refused.body.contains("cordon_"), "{}", refused.body);
    }
    let metrics = request(hub.addr, "GET", "/metrics", Some(&hub.hub), None);
    assert_eq!(metrics.status, 200);
    assert!(
        metrics.body.contains("cordon_http_requests_total{route=\"/healthz\",status=\"200\"} 1"),
        "{}",
        metrics.body
    );
    assert!(metrics.body.contains("route=\"/api/v1/indicators\",status=\"200\""), "{}", metrics.body);
}

#[test]
fn every_route_of_the_table_needs_its_credentials() {
    let hub = start();
    for route in cordon_server::routes::ROUTES {
        let path = match route.path {
            // The token the POST below creates (the fixture made four).
            "/api/v1/admin/tokens/{id}" => "/api/v1/admin/tokens/5".to_string(),
            "/api/v1/notifications" => "/api/v1/notifications?asn=64500".to_string(),
            _ => route
                .path
                .replace("/sources/{name}", "/sources/alpha")
                .replace("{value}", "45.9.20.31")
                .replace("{format}", "plain")
                .replace("{name}", "op")
                .replace("{id}", "1")
                .replace("{email}", "gone@soc.example")
                .replace("{country}", "RO")
                .replace("{file}", "manifest.json"),
        };
        let body = match (route.method, route.path) {
            ("POST", "/api/v1/lookup") => Some(r#"{"values":[]}"#),
            ("POST", "/api/v1/operations/{name}/outcomes") => Some(r#"{"country":"RO","kind":"arrest","count":1}"#),
            ("POST", "/api/v1/targets/{id}/transitions") => Some(r#"{"to":"triaged","note":"checked"}"#),
            ("POST", "/api/v1/operations/{name}/transitions") => Some(r#"{"targets":[1],"to":"referred"}"#),
            ("POST", "/api/v1/admin/organisations") => Some(r#"{"name":"new-org","kind":"defender"}"#),
            ("POST", "/api/v1/admin/users") => Some(r#"{"email":"new@soc.example","org":"soc","role":"reader"}"#),
            ("POST", "/api/v1/admin/tokens") => Some(r#"{"user":"new@soc.example","expires_in":3600}"#),
            ("POST", "/api/v1/admin/allowlist") => Some(r#"{"value":"45.9.20.31","reason":"ours"}"#),
            ("PUT", "/api/v1/admin/sources/{name}/consent") => Some(r#"{"amber_to":["agencies"]}"#),
            ("PUT", "/api/v1/admin/contacts") => Some("asn,64500,Net RO,abuse@ro.example\n"),
            ("POST", _) => Some("45.9.40.1\n"),
            _ => None,
        };
        // This hub built no package (downloads: tests/leak_matrix.rs).
        let success = if route.path.ends_with("/{file}") { 404..405 } else { 200..300 };
        let anonymous = request(hub.addr, route.method, &path, None, body);
        match route.access {
            cordon_server::routes::Access::Public => assert_eq!(anonymous.status, 200, "{path}"),
            cordon_server::routes::Access::Roles { .. } => {
                assert_eq!(anonymous.status, 401, "{} {path}", route.method);
                assert_eq!(anonymous.header("www-authenticate"), Some("Bearer realm=\"cordon\""));
                assert_eq!(anonymous.header("content-type"), Some("application/problem+json"));
                let authorized = request(hub.addr, route.method, &path, Some(&hub.hub), body);
                assert!(success.contains(&authorized.status), "{} {path}: {}", route.method, authorized.body);
            }
        }
    }
    let missing = request(hub.addr, "GET", "/api/v1/nothing", Some(&hub.hub), None);
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["status"], 404);
}

#[test]
fn unknown_revoked_expired_and_foreign_tokens_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(&Config::new(dir.path().join("cordon.db"))).unwrap();
    let hub = app.viewer(None).unwrap();
    app.add_user(&hub, "a@hub.example", "hub", Role::Analyst, None).unwrap();
    let token = |request: TokenRequest| app.create_token(&hub, &request).unwrap();
    let base = || TokenRequest { user: "a@hub.example".into(), ..TokenRequest::default() };
    let good = token(base());
    let revoked = token(base());
    app.revoke_token(&hub, revoked.token.id).unwrap();
    let expired = token(TokenRequest { expires_in: Some(-1), ..base() });
    let elsewhere = token(TokenRequest { allow_ips: vec!["10.0.0.0/8".parse().unwrap()], ..base() });
    let here = token(TokenRequest { allow_ips: vec!["127.0.0.0/8".parse().unwrap()], ..base() });
    let client = "127.0.0.1".parse().unwrap();
    assert!(app.authenticate(&good.secret, client).is_ok());
    assert!(app.authenticate(&here.secret, client).is_ok());
    for refused in [&revoked.secret, &expired.secret, &elsewhere.secret] {
        assert!(matches!(app.authenticate(refused, client), Err(cordon_app::AppError::Unauthorized(_))));
    }
    let unknown = format!("{}{}", cordon_app::access::TOKEN_PREFIX, "00".repeat(32));
    assert!(matches!(app.authenticate(&unknown, client), Err(cordon_app::AppError::Unauthorized(_))));
    assert!(good.secret.starts_with("cordon_") && good.secret.len() == 7 + 64);
    app.disable_user(&hub, "a@hub.example").unwrap();
    assert!(matches!(app.authenticate(&good.secret, client), Err(cordon_app::AppError::Unauthorized(_))));
    // A role must fit the organisation's kind.
    assert!(matches!(
        app.add_user(&hub, "x@hub.example", "hub", Role::Submitter, None),
        Err(cordon_app::AppError::Invalid(_))
    ));
}

#[test]
fn each_organisation_sees_what_the_visibility_rule_allows() {
    let hub = start();
    let red = "/api/v1/indicators/45%5B.%5D9%5B.%5D20%5B.%5D31"; // defanged 45[.]9[.]20[.]31
    assert_eq!(request(hub.addr, "GET", red, Some(&hub.hub), None).status, 200);
    assert_eq!(request(hub.addr, "GET", red, Some(&hub.partner), None).status, 200, "its own RED");
    let hidden = request(hub.addr, "GET", red, Some(&hub.defender), None);
    assert_eq!(hidden.status, 404, "another organisation's RED does not exist for a defender");
    assert!(!hidden.body.contains("alpha"));
    let lookup = |token: &str| request(hub.addr, "GET", "/api/v1/lookup/45.9.21.7", Some(token), None).json();
    assert_eq!(lookup(&hub.hub)["listed"], true);
    assert_eq!(lookup(&hub.hub)["matches"][0]["indicator"], "45.9.21.0/24");
    assert_eq!(lookup(&hub.defender)["listed"], false);
    let sources = request(hub.addr, "GET", "/api/v1/sources", Some(&hub.defender), None).json();
    let names: Vec<&str> = sources.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["bravo", "charlie"]);
    let imports = request(hub.addr, "GET", "/api/v1/imports", Some(&hub.defender), None).json();
    assert!(imports.as_array().unwrap().is_empty());
}

#[test]
fn pages_follow_their_cursor_and_cover_everything_once() {
    let hub = start();
    let mut seen = Vec::new();
    let mut path = "/api/v1/indicators?limit=100".to_string();
    let mut pages = 0;
    loop {
        let page = request(hub.addr, "GET", &path, Some(&hub.defender), None).json();
        pages += 1;
        seen.extend(page["items"].as_array().unwrap().iter().map(|i| i["value"].as_str().unwrap().to_string()));
        match page["next"].as_str() {
            Some(cursor) => path = format!("/api/v1/indicators?limit=100&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!((seen.len(), sorted.len()), (251, 251), "every GREEN indicator once; never alpha's RED");
    assert!(!seen.iter().any(|v| v.starts_with("45.9.20") || v.starts_with("45.9.21")));
    assert_eq!(seen, sorted, "in value order");
    let bad = request(hub.addr, "GET", "/api/v1/indicators?cursor=zz", Some(&hub.defender), None);
    assert_eq!((bad.status, bad.header("content-type")), (400, Some("application/problem+json")));
    let unknown = request(hub.addr, "GET", "/api/v1/indicators?colour=red", Some(&hub.defender), None);
    assert_eq!(unknown.status, 400);
}

#[test]
fn bulk_lookups_answer_each_value_and_refuse_too_many() {
    let hub = start();
    let body = r#"{"values": ["45.9.20.31", "46.0.7.1", "8.8.8.8"]}"#;
    let answers = request(hub.addr, "POST", "/api/v1/lookup", Some(&hub.hub), Some(body)).json();
    let listed: Vec<bool> =
        answers["answers"].as_array().unwrap().iter().map(|a| a["listed"].as_bool().unwrap()).collect();
    assert_eq!(listed, [true, true, false]);
    let values: Vec<String> = (0..10_001).map(|i| format!("\"46.0.{}.{}\"", i / 250, i % 250)).collect();
    let too_many = format!("{{\"values\": [{}]}}", values.join(","));
    assert_eq!(request(hub.addr, "POST", "/api/v1/lookup", Some(&hub.hub), Some(&too_many)).status, 413);
    let bad = request(hub.addr, "POST", "/api/v1/lookup", Some(&hub.hub), Some(r#"{"values": ["not an ip"]}"#));
    assert_eq!(bad.status, 400);
    assert!(!bad.body.contains("sqlite") && !bad.body.contains("panicked"));
}

#[test]
fn partners_submit_as_themselves_and_resubmitting_adds_nothing() {
    let hub = start();
    let feed = "45.9.30.1\n45.9.30.2\n";
    let first = request(hub.addr, "POST", "/api/v1/submissions?tlp=amber&category=c2", Some(&hub.partner), Some(feed));
    assert_eq!(first.status, 200, "{}", first.body);
    let report = first.json();
    assert_eq!((report["read"].as_u64(), report["new"].as_u64()), (Some(2), Some(2)), "{report}");
    let again = request(hub.addr, "POST", "/api/v1/submissions?tlp=amber&category=c2", Some(&hub.partner), Some(feed));
    assert_eq!(again.json()["new"].as_u64(), Some(0));
    // Recorded under the caller's organisation, AMBER: the defender sees none of it.
    let shown = request(hub.addr, "GET", "/api/v1/indicators/45.9.30.1", Some(&hub.partner), None).json();
    assert_eq!(shown["sources"], serde_json::json!(["alpha"]));
    assert_eq!(request(hub.addr, "GET", "/api/v1/indicators/45.9.30.1", Some(&hub.defender), None).status, 404);
    let mine = request(hub.addr, "GET", "/api/v1/submissions", Some(&hub.partner), None).json();
    assert!(mine.as_array().unwrap().iter().all(|i| i["source"] == "alpha"));
    // Readers do not submit; partners do not name sources; bad input is a 400.
    assert_eq!(request(hub.addr, "POST", "/api/v1/submissions", Some(&hub.defender), Some(feed)).status, 403);
    let named = request(hub.addr, "POST", "/api/v1/submissions?source=bravo", Some(&hub.partner), Some(feed));
    assert_eq!(named.status, 403);
    let bad = request(hub.addr, "POST", "/api/v1/submissions?tlp=purple", Some(&hub.partner), Some(feed));
    assert_eq!(bad.status, 400);
    let garbage = request(hub.addr, "POST", "/api/v1/submissions", Some(&hub.partner), Some("\u{0}\u{1}\u{2}"));
    assert_eq!(garbage.status, 400, "{}", garbage.body);
}

#[test]
fn blocklists_carry_what_the_caller_may_see_and_answer_304_when_unchanged() {
    let hub = start();
    let plain = request(hub.addr, "GET", "/api/v1/blocklists/plain", Some(&hub.defender), None);
    assert_eq!(plain.status, 200, "{}", plain.body);
    assert!(plain.body.contains("46.0.7.1") && !plain.body.contains("45.9.20.31"), "GREEN only, never alpha's RED");
    let etag = plain.header("etag").unwrap().to_string();
    let again = request_with(
        hub.addr,
        "GET",
        "/api/v1/blocklists/plain",
        Some(&hub.defender),
        None,
        &format!("If-None-Match: {etag}\r\n"),
    );
    assert_eq!((again.status, again.body.as_str()), (304, ""));
    // The hub's view is another list with another tag.
    let hub_list = request(hub.addr, "GET", "/api/v1/blocklists/plain?tlp_max=red", Some(&hub.hub), None);
    assert!(hub_list.body.contains("45.9.20.31"));
    assert_ne!(hub_list.header("etag").unwrap(), etag);
    // A change to the store changes the tag.
    request(hub.addr, "POST", "/api/v1/submissions?tlp=green", Some(&hub.partner), Some("45.9.50.1\n"));
    let changed = request(hub.addr, "GET", "/api/v1/blocklists/plain", Some(&hub.defender), None);
    assert_ne!(changed.header("etag").unwrap(), etag);
    assert!(changed.body.contains("45.9.50.1"));
    assert_eq!(request(hub.addr, "GET", "/api/v1/blocklists/misp", Some(&hub.defender), None).status, 400);
    assert_eq!(request(hub.addr, "GET", "/api/v1/blocklists/nonsense", Some(&hub.defender), None).status, 400);
}

#[test]
fn the_openapi_document_names_every_route_and_validates() {
    let hub = start();
    let answer = request(hub.addr, "GET", "/api/v1/openapi.json", None, None);
    assert_eq!(answer.status, 200);
    let doc = answer.json();
    for route in cordon_server::routes::ROUTES {
        let operation = &doc["paths"][route.path][route.method.to_ascii_lowercase()];
        assert!(operation.is_object(), "{} {} is missing", route.method, route.path);
        let secured = operation["security"].as_array().is_some_and(|s| !s.is_empty());
        assert_eq!(secured, route.access != cordon_server::routes::Access::Public, "{}", route.path);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openapi.json");
    std::fs::write(&path, &answer.body).unwrap();
    let output = std::process::Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .arg(&path)
        .output()
        .expect("python3 runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "openapi-spec-validator (scripts/install-peers.sh installs it): {text}");
}

#[test]
fn https_with_a_certificate_answers_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(&Config::new(dir.path().join("cordon.db"))).unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let config = cordon_server::tls::config(&cert_path, &key_path).unwrap();
    assert!(cordon_server::tls::config(&key_path, &key_path).is_err(), "a key is no certificate");
    let limit = cordon_server::RateLimit::default();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        runtime.block_on(async move {
            let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(tcp.local_addr().unwrap()).unwrap();
            let listener = cordon_server::tls::TlsListener::new(tcp, config).unwrap();
            cordon_server::serve(listener, app, limit, std::future::pending()).await.unwrap();
        });
    });
    let addr = rx.recv().unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let client =
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let connection = rustls::ClientConnection::new(std::sync::Arc::new(client), name).unwrap();
    let mut tls = rustls::StreamOwned::new(connection, TcpStream::connect(addr).unwrap());
    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = Vec::new();
    let _ = tls.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200") && answer.ends_with("ok\n"), "{answer}");
    // Plain HTTP to the TLS port gets no answer.
    let plain = request(addr, "GET", "/healthz", None, None);
    assert_ne!(plain.status, 200);
}

#[test]
fn a_user_over_its_rate_waits() {
    let hub = start_limited(cordon_server::RateLimit { per_second: 0.5, burst: 3.0 });
    let statuses: Vec<u16> =
        (0..5).map(|_| request(hub.addr, "GET", "/api/v1/sources", Some(&hub.defender), None).status).collect();
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
    let limited = request(hub.addr, "GET", "/api/v1/sources", Some(&hub.defender), None);
    assert!(limited.header("retry-after").is_some_and(|s| s.parse::<u64>().is_ok_and(|n| n >= 1)));
    // Another user's bucket is its own.
    assert_eq!(request(hub.addr, "GET", "/api/v1/sources", Some(&hub.partner), None).status, 200);
}

#[test]
fn clients_submitting_while_others_read_lose_nothing() {
    let hub = start();
    let addr = hub.addr;
    let mut threads = Vec::new();
    for t in 0..4 {
        let token = hub.partner.clone();
        threads.push(std::thread::spawn(move || {
            for round in 0..5 {
                let feed = format!("47.{t}.{round}.1\n47.{t}.{round}.2\n");
                let answer = request(addr, "POST", "/api/v1/submissions?tlp=green", Some(&token), Some(&feed));
                assert_eq!(answer.status, 200, "{}", answer.body);
            }
        }));
        let token = hub.defender.clone();
        threads.push(std::thread::spawn(move || {
            for _ in 0..10 {
                let answer = request(addr, "GET", "/api/v1/indicators?limit=50", Some(&token), None);
                assert_eq!(answer.status, 200, "{}", answer.body);
                let answer = request(addr, "GET", "/api/v1/lookup/46.0.7.1", Some(&token), None);
                assert_eq!(answer.status, 200, "{}", answer.body);
            }
        }));
    }
    for thread in threads {
        thread.join().unwrap();
    }
    let mut found = 0;
    for t in 0..4 {
        for round in 0..5 {
            for last in 1..=2 {
                let path = format!("/api/v1/indicators/47.{t}.{round}.{last}");
                found += usize::from(request(addr, "GET", &path, Some(&hub.defender), None).status == 200);
            }
        }
    }
    assert_eq!(found, 40, "every submitted indicator is there");
}

#[test]
fn an_agency_sees_and_moves_its_countrys_targets_only() {
    let hub = start();
    let mine = request(hub.addr, "GET", "/api/v1/operations/op/targets", Some(&hub.agency), None).json();
    let keys: Vec<&str> = mine.as_array().unwrap().iter().map(|t| t["key"].as_str().unwrap()).collect();
    // RO's targets are alpha's RED address and network (nothing of them
    // may go to an agency) and charlie's GREEN address.
    assert_eq!(keys, ["45.9.22.5"]);
    assert_eq!(mine[0]["partners"], serde_json::json!(["charlie"]));
    let all = request(hub.addr, "GET", "/api/v1/operations/op/targets", Some(&hub.hub), None).json();
    let id_of = |key: &str| all.as_array().unwrap().iter().find(|t| t["key"] == key).unwrap()["id"].as_i64().unwrap();
    let (ro, red, de) = (id_of("45.9.22.5"), id_of("45.9.20.31"), id_of("46.0.7.1"));
    let target = |id: i64| format!("/api/v1/targets/{id}");
    assert_eq!(request(hub.addr, "GET", &target(ro), Some(&hub.agency), None).status, 200);
    assert_eq!(request(hub.addr, "GET", &target(red), Some(&hub.agency), None).status, 404, "nothing shareable");
    assert_eq!(request(hub.addr, "GET", &target(de), Some(&hub.agency), None).status, 404, "another country");
    let moves = |id: i64, body: &str| {
        request(hub.addr, "POST", &format!("/api/v1/targets/{id}/transitions"), Some(&hub.agency), Some(body))
    };
    assert_eq!(moves(de, r#"{"to":"rejected","reason":"false-positive"}"#).status, 404);
    assert_eq!(moves(ro, r#"{"to":"triaged"}"#).status, 403, "an agency does not triage");
    assert_eq!(moves(ro, r#"{"to":"taken-down"}"#).status, 409, "the lifecycle forbids it from identified");
    let rejected = moves(ro, r#"{"to":"rejected","reason":"false-positive","note":"not ours"}"#);
    assert_eq!(rejected.status, 200, "{}", rejected.body);
    assert_eq!(rejected.json()["state"], "rejected");
    let outcome = |cc: &str| {
        let body = format!(r#"{{"country":"{cc}","kind":"arrest","count":2}}"#);
        request(hub.addr, "POST", "/api/v1/operations/op/outcomes", Some(&hub.agency), Some(&body)).status
    };
    assert_eq!((outcome("RO"), outcome("DE")), (201, 403));
    assert_eq!(request(hub.addr, "GET", "/api/v1/operations/op/report", Some(&hub.agency), None).status, 403);
    assert_eq!(request(hub.addr, "GET", "/api/v1/operations/op/targets", Some(&hub.defender), None).status, 403);
}

/// `limit` pages an operation's targets by id, each page read from the
/// store, a `Link` header naming the next; the pages together are the
/// whole list, as each viewer may see it.
#[test]
fn operation_targets_come_a_page_at_a_time_with_limit() {
    let hub = start();
    for token in [&hub.hub, &hub.agency] {
        let all = request(hub.addr, "GET", "/api/v1/operations/op/targets", Some(token), None).json();
        let mut paged = Vec::new();
        let mut path = "/api/v1/operations/op/targets?limit=1".to_string();
        loop {
            let page = request(hub.addr, "GET", &path, Some(token), None);
            assert_eq!(page.status, 200, "{}", page.body);
            let items = page.json().as_array().unwrap().clone();
            assert!(items.len() <= 1);
            paged.extend(items);
            let Some(link) = page.header("link") else { break };
            let target = link.trim_start_matches('<').split('>').next().unwrap();
            assert!(link.ends_with("rel=\"next\""), "{link}");
            path = target.to_string();
        }
        assert_eq!(serde_json::Value::Array(paged), all);
    }
    let unknown = request(hub.addr, "GET", "/api/v1/operations/nope/targets", Some(&hub.hub), None);
    assert_eq!(unknown.status, 404, "an unknown operation is a problem, not an empty stream: {}", unknown.body);
    assert_eq!(unknown.json()["status"], 404);
    let wrong = request(hub.addr, "GET", "/api/v1/operations/op/targets?limit=0", Some(&hub.hub), None);
    assert_eq!(wrong.status, 400);
}
