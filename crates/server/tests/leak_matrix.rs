//! The leak matrix over HTTP (issue 13): every GET route of the route
//! table (and the bulk lookup, a read), as every role of every
//! organisation, on a store with sightings of every TLP from three partners
//! with different consents. No answer carries a value or family of a
//! sighting its caller may not know; lists, counts and aggregates are built
//! from what it may know; another organisation's objects are 404.
//!
//! The test walks `ROUTES`: a route it has no requests for fails it.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use cordon_server::routes::{Access, ROUTES};
use serde_json::Value;

use common::fixture::{may_know, sightings, world, Caller, Who, World};
use common::{request, Answer};

/// The routes that change something, each tested in its own file; a new
/// write route must be added here (and to its tests) or this test fails.
const WRITES: &[&str] = &[
    "POST /api/v1/submissions",
    "POST /api/v1/operations/{name}/outcomes",
    "POST /api/v1/operations/{name}/transitions",
    "POST /api/v1/targets/{id}/transitions",
    "POST /api/v1/admin/organisations",
    "POST /api/v1/admin/users",
    "POST /api/v1/admin/users/{email}/disable",
    "POST /api/v1/admin/tokens",
    "DELETE /api/v1/admin/tokens/{id}",
    "PUT /api/v1/admin/sources/{name}/consent",
    "POST /api/v1/admin/allowlist",
    "DELETE /api/v1/admin/allowlist/{value}",
    "PUT /api/v1/admin/contacts",
];

/// The concrete requests that cover one route template.
fn requests_for(world: &World, method: &str, path: &str) -> Vec<(String, Option<String>)> {
    let values: Vec<String> = sightings().into_iter().map(|s| s.value).collect::<BTreeSet<_>>().into_iter().collect();
    let hub = world.app.viewer(None).unwrap();
    let targets = world.app.targets(&hub, &Default::default()).unwrap();
    let get = |p: String| (p, None);
    match (method, path) {
        ("GET", "/healthz" | "/metrics" | "/api/v1/openapi.json" | "/api/v1/sources" | "/api/v1/imports") => {
            vec![get(path.to_string())]
        }
        ("GET", "/api/v1/submissions" | "/api/v1/audit" | "/api/v1/operations") => vec![get(path.to_string())],
        ("GET", "/api/v1/indicators") => vec![get("/api/v1/indicators?limit=1000".into())],
        ("GET", "/api/v1/indicators/{value}" | "/api/v1/lookup/{value}") => {
            values.iter().map(|v| get(path.replace("{value}", v))).collect()
        }
        ("POST", "/api/v1/lookup") => {
            let body = serde_json::json!({"values": values}).to_string();
            vec![(path.to_string(), Some(body))]
        }
        ("GET", "/api/v1/blocklists/{format}") => cordon_export::Format::ALL
            .iter()
            .filter(|f| !f.is_directory())
            .map(|f| get(format!("/api/v1/blocklists/{}?tlp_max=red&include_flagged=true", f.as_str())))
            .collect(),
        ("GET", "/api/v1/operations/{name}/targets" | "/api/v1/operations/{name}/report") => {
            vec![get(path.replace("{name}", "op"))]
        }
        ("GET", "/api/v1/operations/{name}/packages") => vec![get(path.replace("{name}", "op"))],
        ("GET", "/api/v1/operations/{name}/packages/{country}/{file}") => ["RO", "DE"]
            .iter()
            .flat_map(|cc| {
                cordon_ops::package::FILES.iter().map(move |f| get(format!("/api/v1/operations/op/packages/{cc}/{f}")))
            })
            .collect(),
        ("GET", "/api/v1/targets/{id}") => targets.iter().map(|t| get(format!("/api/v1/targets/{}", t.id))).collect(),
        ("GET", "/api/v1/notifications") => {
            vec![get(path.to_string()), get(format!("{path}?asn=64500")), get(format!("{path}?asn=64501"))]
        }
        ("GET", "/api/v1/admin/sources/{name}/consent") => {
            common::fixture::PARTNERS.iter().map(|p| get(path.replace("{name}", p))).collect()
        }
        ("GET", p) if p.starts_with("/api/v1/admin/") && !p.contains('{') => vec![get(path.to_string())],
        _ => panic!("{method} {path} has no leak-matrix coverage: add its requests here"),
    }
}

/// What the caller may not know, as strings no answer may carry: families
/// of hidden sightings, and values none of whose sightings it may know.
fn secrets(who: Who) -> Vec<String> {
    let all = sightings();
    let known: BTreeSet<&str> = all.iter().filter(|s| may_know(who, s)).map(|s| s.value.as_str()).collect();
    let mut out: Vec<String> = all.iter().filter(|s| !may_know(who, s)).filter_map(|s| s.family.clone()).collect();
    out.extend(all.iter().map(|s| s.value.clone()).filter(|v| !known.contains(v.as_str())));
    out.sort();
    out.dedup();
    out
}

/// value → (sources, categories, most restrictive TLP) of what `who` may know.
fn summaries(who: Who) -> BTreeMap<String, (BTreeSet<String>, BTreeSet<String>, String)> {
    let mut out: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>, cordon_model::Tlp)> = BTreeMap::new();
    for s in sightings().iter().filter(|s| may_know(who, s)) {
        let entry = out.entry(s.value.clone()).or_insert_with(|| (BTreeSet::new(), BTreeSet::new(), s.tlp));
        entry.0.insert(s.source.to_string());
        entry.1.insert(s.category.to_string());
        entry.2 = entry.2.max(s.tlp);
    }
    out.into_iter()
        .map(|(v, (sources, categories, tlp))| (v, (sources, categories, tlp.as_str().to_string())))
        .collect()
}

fn strings(value: &Value) -> BTreeSet<String> {
    value.as_array().into_iter().flatten().filter_map(|v| v.as_str().map(str::to_string)).collect()
}

/// The checks of one answer beyond the absence of secrets.
fn check_shape(caller: &Caller, path: &str, answer: &Answer) {
    let who = caller.who;
    let known = |value: &str| sightings().iter().any(|s| s.value == value && may_know(who, s));
    let route = path.split('?').next().unwrap_or(path);
    if route == "/api/v1/indicators" {
        let mut got = BTreeMap::new();
        for item in answer.json()["items"].as_array().unwrap() {
            let shape = (strings(&item["sources"]), strings(&item["categories"]), item["tlp"].as_str().unwrap().into());
            got.insert(item["value"].as_str().unwrap().to_string(), shape);
        }
        assert_eq!(got, summaries(who), "indicators as {who:?}");
    } else if let Some(value) = route.strip_prefix("/api/v1/indicators/") {
        assert_eq!(answer.status == 200, known(value), "{route} as {who:?}: {}", answer.status);
        if answer.status == 200 {
            let mut rows: Vec<(String, String)> = answer.json()["sightings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| (s["source"].as_str().unwrap().into(), s["tlp"].as_str().unwrap().into()))
                .collect();
            rows.sort();
            let mut wanted: Vec<(String, String)> = sightings()
                .iter()
                .filter(|s| s.value == value && may_know(who, s))
                .map(|s| (s.source.to_string(), s.tlp.as_str().to_string()))
                .collect();
            wanted.sort();
            assert_eq!(rows, wanted, "{route} as {who:?}");
        }
    } else if let Some(value) = route.strip_prefix("/api/v1/lookup/") {
        assert_eq!(answer.json()["listed"].as_bool(), Some(known(value)), "{route} as {who:?}");
    } else if route == "/api/v1/lookup" {
        for one in answer.json()["answers"].as_array().unwrap() {
            let ip = one["ip"].as_str().unwrap();
            assert_eq!(one["listed"].as_bool(), Some(known(ip)), "bulk lookup of {ip} as {who:?}");
        }
    } else if route == "/api/v1/sources" {
        for source in answer.json().as_array().unwrap() {
            let name = source["name"].as_str().unwrap();
            let count = sightings().iter().filter(|s| s.source == name && may_know(who, s)).count() as u64;
            assert_eq!(source["sightings"].as_u64(), Some(count), "sightings of {name} as {who:?}");
        }
    } else if (route == "/api/v1/imports" || route == "/api/v1/submissions") && answer.status == 200 {
        let imports = answer.json();
        let sources = imports.as_array().unwrap().iter().map(|i| i["source"].as_str().unwrap().to_string());
        let sources: BTreeSet<String> = sources.collect();
        let expected: BTreeSet<String> = match who {
            Who::Hub => common::fixture::PARTNERS.iter().map(|p| p.to_string()).collect(),
            Who::Partner(name) => [name.to_string()].into(),
            _ => BTreeSet::new(),
        };
        assert_eq!(sources, expected, "{route} as {who:?}");
    }
}

/// Whether the caller's role may call the route at all.
fn allowed(caller: &Caller, access: &Access) -> bool {
    match access {
        Access::Public => true,
        Access::Roles { roles, .. } => roles.contains(&caller.role),
    }
}

#[test]
fn no_route_shows_any_role_what_its_organisation_may_not_see() {
    let world = world();
    let mut covered = 0;
    for route in ROUTES {
        let key = format!("{} {}", route.method, route.path);
        if route.method != "GET" && route.path != "/api/v1/lookup" {
            assert!(WRITES.contains(&key.as_str()), "{key} is neither read by the matrix nor a known write");
            continue;
        }
        for (path, body) in requests_for(&world, route.method, route.path) {
            for caller in &world.callers {
                let token = (route.access != Access::Public).then_some(caller.token.as_str());
                let answer = request(world.addr, route.method, &path, token, body.as_deref());
                covered += 1;
                assert!(answer.status < 500, "{path} as {:?}: {} {}", caller.who, answer.status, answer.body);
                if !allowed(caller, &route.access) {
                    assert_eq!(answer.status, 403, "{path} as {:?} {}", caller.who, caller.role);
                }
                // A problem may echo what was asked; nothing else may name a secret.
                let asked = format!("{path} {}", body.as_deref().unwrap_or(""));
                for secret in secrets(caller.who).into_iter().filter(|s| !asked.contains(s.as_str())) {
                    assert!(
                        !answer.body.contains(&secret),
                        "{} {path} as {:?} ({}) shows {secret}",
                        route.method,
                        caller.who,
                        caller.role
                    );
                }
                check_shape(caller, &path, &answer);
            }
        }
    }
    assert!(covered > 500, "{covered} requests");
}

/// The objects the matrix must find where they are allowed, so that its
/// absences mean something: each recipient gets its own, and another's
/// answers 404 (never 403).
#[test]
fn each_recipient_gets_its_own_and_anothers_objects_are_not_found() {
    let world = world();
    let get = |who: Who, path: &str| request(world.addr, "GET", path, Some(world.token(who)), None);
    // The agency's package carries alpha's AMBER (consented to agencies),
    // never bravo's or charlie's; Germany's package does not exist for it.
    let csv = get(Who::Agency, "/api/v1/operations/op/packages/RO/targets.csv");
    assert_eq!(csv.status, 200, "{}", csv.body);
    assert!(csv.header("content-disposition").is_some_and(|d| d.starts_with("attachment")));
    assert!(csv.body.contains("fam-alpha-amber-45") && !csv.body.contains("fam-bravo-amber-45"), "{}", csv.body);
    let listed = get(Who::Agency, "/api/v1/operations/op/packages").json();
    assert_eq!(listed.as_array().map(|l| l.len()), Some(1));
    assert_eq!(listed[0]["country"], "RO");
    for file in cordon_ops::package::FILES {
        let other = get(Who::Agency, &format!("/api/v1/operations/op/packages/DE/{file}"));
        assert_eq!(other.status, 404, "{file}");
        assert_eq!(get(Who::Hub, &format!("/api/v1/operations/op/packages/DE/{file}")).status, 200);
    }
    assert_eq!(get(Who::Agency, "/api/v1/operations/op/packages/RO/secrets.txt").status, 404);
    assert_eq!(get(Who::Defender, "/api/v1/operations/op/packages").status, 403, "a reader's role has no packages");

    // The provider's notifications: its network's, with bravo's AMBER
    // (consented to providers), never alpha's or charlie's, never sources.
    let notices = get(Who::Provider, "/api/v1/notifications");
    assert_eq!(notices.status, 200, "{}", notices.body);
    let list = notices.json();
    assert!(!list.as_array().unwrap().is_empty());
    assert!(list.as_array().unwrap().iter().all(|n| n["asn"] == 64500));
    assert!(notices.body.contains("fam-bravo-amber-45") && !notices.body.contains("fam-alpha-amber-45"));
    assert!(!notices.body.contains("\"source\""));
    assert!(get(Who::Provider, "/api/v1/notifications?asn=64501").json().as_array().unwrap().is_empty());
    assert_eq!(get(Who::Hub, "/api/v1/notifications").status, 400, "the hub names the network");
    let hub_view = get(Who::Hub, "/api/v1/notifications?asn=64500").json();
    assert_eq!(hub_view, list, "the hub sees what the provider was told");
    assert_eq!(get(Who::Defender, "/api/v1/notifications").status, 403);

    // Another country's target, another partner's RED indicator: 404.
    let hub = world.app.viewer(None).unwrap();
    let german = world
        .app
        .targets(&hub, &Default::default())
        .unwrap()
        .into_iter()
        .find(|t| t.spec.country.as_deref() == Some("DE"))
        .unwrap();
    assert_eq!(get(Who::Agency, &format!("/api/v1/targets/{}", german.id)).status, 404);
    assert_eq!(get(Who::Partner("bravo"), "/api/v1/indicators/45.10.4.7").status, 404, "alpha's RED");
    assert_eq!(get(Who::Partner("alpha"), "/api/v1/indicators/45.10.4.7").status, 200, "its own RED");
}
