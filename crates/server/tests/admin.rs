//! The administration routes over HTTP: only admins reach them; each does
//! what its `cordon` command does, and its effect is seen by the others.

mod common;

use std::time::Duration;

use cordon_app::access::Role;
use cordon_server::routes::{Access, ROUTES};
use serde_json::json;

use common::fixture::{world, Who, World};
use common::request;

fn call(world: &World, method: &str, path: &str, body: Option<serde_json::Value>) -> common::Answer {
    let body = body.map(|b| b.to_string());
    request(world.addr, method, path, Some(&world.admin), body.as_deref())
}

#[test]
fn only_admins_reach_the_administration_routes() {
    let world = world();
    let admin_routes: Vec<_> = ROUTES.iter().filter(|r| r.path.starts_with("/api/v1/admin/")).collect();
    assert!(admin_routes.len() >= 16);
    for route in admin_routes {
        assert!(matches!(route.access, Access::Roles { roles: [Role::Admin], .. }), "{}", route.path);
        let path = route.path.replace('{', "x").replace('}', "");
        for caller in world.callers.iter().filter(|c| c.role != Role::Admin) {
            let answer = request(world.addr, route.method, &path, Some(&caller.token), Some("{}"));
            assert_eq!(answer.status, 403, "{} {path} as {:?}", route.method, caller.role);
        }
    }
}

#[test]
fn organisations_users_and_tokens() {
    let world = world();
    let orgs = call(&world, "GET", "/api/v1/admin/organisations", None).json();
    assert_eq!(orgs.as_array().unwrap().len(), 7, "the hub and six others");
    let no_country = call(&world, "POST", "/api/v1/admin/organisations", Some(json!({"name": "x", "kind": "agency"})));
    assert_eq!(no_country.status, 400);
    let taken = call(&world, "POST", "/api/v1/admin/organisations", Some(json!({"name": "soc", "kind": "defender"})));
    assert_eq!(taken.status, 409);

    let user = json!({"email": "New@Soc.example", "org": "soc", "role": "reader", "password": "s3cret-pass"});
    let added = call(&world, "POST", "/api/v1/admin/users", Some(user));
    assert_eq!((added.status, added.json()["email"].as_str()), (201, Some("new@soc.example")), "{}", added.body);
    let wrong_role = json!({"email": "y@soc.example", "org": "soc", "role": "admin"});
    assert_eq!(call(&world, "POST", "/api/v1/admin/users", Some(wrong_role)).status, 400);
    let users = call(&world, "GET", "/api/v1/admin/users", None);
    assert!(users.body.contains("new@soc.example") && !users.body.contains("argon2"), "never a hash");

    let created =
        call(&world, "POST", "/api/v1/admin/tokens", Some(json!({"user": "new@soc.example", "read_only": true})));
    assert_eq!(created.status, 201, "{}", created.body);
    let token = created.json()["token"].as_str().unwrap().to_string();
    let id = created.json()["id"].as_i64().unwrap();
    assert!(token.starts_with("cordon_"));
    let listed = call(&world, "GET", "/api/v1/admin/tokens", None);
    assert!(!listed.body.contains(&token) && listed.body.contains(&token[..15]), "the prefix, never the secret");
    assert_eq!(request(world.addr, "GET", "/api/v1/sources", Some(&token), None).status, 200);
    let feed = request(world.addr, "POST", "/api/v1/lookup", Some(&token), Some(r#"{"values":[]}"#));
    assert_eq!(feed.status, 200, "a read-only token reads");
    assert_eq!(call(&world, "DELETE", &format!("/api/v1/admin/tokens/{id}"), None).status, 204);
    assert_eq!(call(&world, "DELETE", &format!("/api/v1/admin/tokens/{id}"), None).status, 404, "revoked already");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(request(world.addr, "GET", "/api/v1/sources", Some(&token), None).status, 401);

    let defender = world.token(Who::Defender).to_string();
    assert_eq!(call(&world, "POST", "/api/v1/admin/users/soc@soc.example/disable", None).status, 204);
    assert_eq!(call(&world, "POST", "/api/v1/admin/users/nobody@soc.example/disable", None).status, 404);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(request(world.addr, "GET", "/api/v1/sources", Some(&defender), None).status, 401);
    let bad_net = json!({"user": "new@soc.example", "allow_ips": ["not a net"]});
    assert_eq!(call(&world, "POST", "/api/v1/admin/tokens", Some(bad_net)).status, 400);
}

#[test]
fn a_consent_changes_what_the_agency_sees() {
    let world = world();
    let agency = world.token(Who::Agency).to_string();
    let sees_charlie = || {
        let answer = request(world.addr, "GET", "/api/v1/indicators/45.12.2.7", Some(&agency), None);
        answer.status == 200
    };
    assert!(!sees_charlie(), "charlie's AMBER goes nowhere");
    let path = "/api/v1/admin/sources/charlie/consent";
    assert_eq!(call(&world, "GET", path, None).json()["amber_to"], json!([]));
    let set = call(&world, "PUT", path, Some(json!({"amber_to": ["agencies"]})));
    assert_eq!((set.status, &set.json()["amber_to"]), (200, &json!(["agencies"])), "{}", set.body);
    assert!(sees_charlie(), "now it does, in its own country");
    let sources = call(&world, "GET", "/api/v1/admin/sources", None).json();
    assert_eq!(sources.as_array().unwrap().len(), 3);
    assert_eq!(call(&world, "PUT", path, Some(json!({"amber_to": ["everyone"]}))).status, 400);
    assert_eq!(call(&world, "GET", "/api/v1/admin/sources/nobody/consent", None).status, 404);
}

#[test]
fn the_allowlist_and_the_contacts() {
    let world = world();
    let added =
        call(&world, "POST", "/api/v1/admin/allowlist", Some(json!({"value": "51.38.0.0/16", "reason": "ours"})));
    assert_eq!((added.status, added.json()["value"].as_str()), (201, Some("51.38.0.0/16")));
    let url = call(&world, "POST", "/api/v1/admin/allowlist", Some(json!({"value": "http://a.example/x"})));
    assert_eq!(url.status, 400, "a URL is allowlisted by its host");
    let list = call(&world, "GET", "/api/v1/admin/allowlist", None).json();
    assert_eq!(list[0]["reason"], "ours");
    assert_eq!(call(&world, "DELETE", "/api/v1/admin/allowlist/51.38.0.0%2F16", None).status, 204);
    assert_eq!(call(&world, "DELETE", "/api/v1/admin/allowlist/51.38.0.0%2F16", None).status, 404);

    let contacts = call(&world, "GET", "/api/v1/admin/contacts", None).json();
    assert_eq!(contacts.as_array().unwrap().len(), 4);
    let table = "asn,64500,Net RO abuse,abuse@prov-ro.example\nasn,notanumber,X,x@x.example\n";
    let replaced = request(world.addr, "PUT", "/api/v1/admin/contacts", Some(&world.admin), Some(table)).json();
    assert_eq!(replaced["contacts"], 1);
    let errors = replaced["errors"].as_array().unwrap();
    assert!(errors.len() == 1 && errors[0].as_str().unwrap().starts_with("contacts.csv:2"), "{errors:?}");
}

#[test]
fn the_status_names_the_geo_snapshot_and_the_warninglists() {
    let world = world();
    let status = call(&world, "GET", "/api/v1/admin/status", None).json();
    let geo = &status["geo"];
    assert_eq!((geo["present"].as_bool(), geo["valid"].as_bool()), (Some(true), Some(true)), "{status}");
    assert!(geo["bytes"].as_u64().unwrap() > 0 && geo["v4_segments"].as_u64().unwrap() > 0);
    assert!(geo["modified"].is_string());
    assert_eq!(status["warninglists"]["present"], false);
    assert!(status["warninglists"]["problems"][0].as_str().unwrap().contains("fetch-warninglists.sh"));

    let dir = world.app.config().warninglists.clone();
    std::fs::create_dir_all(dir.join("public-dns")).unwrap();
    std::fs::create_dir_all(dir.join("broken")).unwrap();
    let list = json!({"name": "Public DNS resolvers", "version": 20240101, "description": "resolvers",
                      "type": "cidr", "list": ["8.8.8.8/32", "1.1.1.1/32"], "matching_attributes": ["ip-dst"]});
    std::fs::write(dir.join("public-dns/list.json"), list.to_string()).unwrap();
    std::fs::write(dir.join("broken/list.json"), "{").unwrap();
    std::fs::write(dir.join("VERSION"), "pymispwarninglists 1.7.0\n").unwrap();
    let status = call(&world, "GET", "/api/v1/admin/status", None).json();
    let lists = &status["warninglists"];
    assert_eq!((lists["present"].as_bool(), lists["version"].as_str()), (Some(true), Some("pymispwarninglists 1.7.0")));
    assert_eq!(lists["lists"][0]["name"], "Public DNS resolvers");
    assert_eq!(lists["lists"][0]["entries"], 2);
    assert_eq!(lists["problems"].as_array().unwrap().len(), 1, "the broken file, the others load: {lists}");
}
