//! The community the leak matrix reads as: three partners that submit
//! sightings of every TLP over HTTP (alpha lets its AMBER go to agencies,
//! bravo to providers, charlie nowhere), Romania's agency, the provider of
//! AS64500 (Romania's addresses), a defender, and an operation whose
//! packages were built and whose providers were notified.
//!
//! Everything an administrator does here goes through the administration
//! routes; only what has no route (operations, targets, packages, notify)
//! is done by the application on the same store, as `cordon` would.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use cordon_app::access::Role;
use cordon_app::operations::TargetSelection;
use cordon_app::{App, Config};
use cordon_model::Tlp;
use cordon_ops::notify::NotifyConfig;
use cordon_ops::workflow::Actor;
use cordon_store::ops::TargetState;
use serde_json::json;

use super::{request, send, serve, unlimited};

/// The partners, in order.
pub const PARTNERS: [&str; 3] = ["alpha", "bravo", "charlie"];

/// Who reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    Hub,
    Partner(&'static str),
    Agency,
    Provider,
    Defender,
}

/// One stored sighting.
#[derive(Clone, Debug)]
pub struct Seen {
    pub value: String,
    pub source: &'static str,
    pub tlp: Tlp,
    pub category: &'static str,
    /// Unique per exclusive sighting: its trace in any output.
    pub family: Option<String>,
    /// In Romania and AS64500: the agency's and the provider's business.
    pub romanian: bool,
}

/// TLP 2.0 as the FIRST statements put it, written out (not computed
/// with the code under test).
pub fn may_know(who: Who, s: &Seen) -> bool {
    let community = matches!(s.tlp, Tlp::Clear | Tlp::Green);
    match who {
        Who::Hub => true,
        Who::Partner(name) => community || name == s.source,
        Who::Defender => community,
        Who::Agency => community || (s.tlp == Tlp::Amber && s.source == "alpha" && s.romanian),
        Who::Provider => community || (s.tlp == Tlp::Amber && s.source == "bravo" && s.romanian),
    }
}

/// Every sighting the partners submit: one address per partner, TLP and
/// country, each with a family of its own, and one address that all three
/// report (CLEAR scanner, GREEN ransomware, RED phishing), and one that
/// all three report AMBER (charlie RED too): what leaves the hub about it
/// must be picked sighting by sighting.
pub fn sightings() -> Vec<Seen> {
    let mut all = Vec::new();
    for (p, source) in PARTNERS.into_iter().enumerate() {
        for (t, tlp) in Tlp::ALL.into_iter().enumerate() {
            for (net, romanian) in [(45, true), (46, false)] {
                let marking = tlp.as_str().replace('+', "-");
                all.push(Seen {
                    value: format!("{net}.{}.{t}.7", 10 + p),
                    source,
                    tlp,
                    category: "c2",
                    family: Some(format!("fam-{source}-{marking}-{net}")),
                    romanian,
                });
            }
        }
    }
    let everyone = [(0, Tlp::Clear, "scanner"), (1, Tlp::Green, "ransomware"), (2, Tlp::Red, "phishing")];
    for (p, tlp, category) in everyone {
        all.push(Seen { value: "45.200.0.1".into(), source: PARTNERS[p], tlp, category, family: None, romanian: true });
    }
    let mixed = [("alpha", Tlp::Amber), ("bravo", Tlp::Amber), ("charlie", Tlp::Amber), ("charlie", Tlp::Red)];
    for (source, tlp) in mixed {
        let family = Some(format!("mix-{source}-{}", tlp.as_str()));
        all.push(Seen { value: "45.201.0.1".into(), source, tlp, category: "c2", family, romanian: true });
    }
    all
}

/// A token of one role in one organisation.
#[derive(Clone, Debug)]
pub struct Caller {
    pub who: Who,
    pub role: Role,
    pub token: String,
}

/// The running hub.
pub struct World {
    pub addr: SocketAddr,
    pub admin: String,
    pub callers: Vec<Caller>,
    /// The same store, as `cordon` would open it beside the server.
    pub app: App,
    pub out: tempfile::TempDir,
    _dir: tempfile::TempDir,
}

impl World {
    /// The token of the first caller that is `who`.
    pub fn token(&self, who: Who) -> &str {
        self.callers.iter().find(|c| c.who == who).map(|c| c.token.as_str()).unwrap_or_default()
    }
}

fn write_geo(config: &Config) {
    let mut import = cordon_enrich::Import::new();
    import.add_csv("asn-country.csv", b"45.0.0.0,45.255.255.255,RO\n46.0.0.0,46.255.255.255,DE\n");
    import.add_csv("asn.csv", b"45.0.0.0,45.255.255.255,64500,Net RO\n46.0.0.0,46.255.255.255,64501,Net DE\n");
    cordon_enrich::write_snapshot(&config.geo, &import.finish().snapshot).unwrap();
}

/// Posts `body` as the admin and expects `status`; returns the answer's JSON.
fn admin_call(addr: SocketAddr, admin: &str, method: &str, path: &str, body: serde_json::Value) -> serde_json::Value {
    let answer = request(addr, method, path, Some(admin), Some(&body.to_string()));
    assert!((200..300).contains(&answer.status), "{method} {path}: {} {}", answer.status, answer.body);
    if answer.body.is_empty() {
        serde_json::Value::Null
    } else {
        answer.json()
    }
}

/// Builds the world and starts its server.
pub fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::new(dir.path().join("cordon.db"));
    write_geo(&config);
    let bootstrap = App::open(&config).unwrap();
    let hub = bootstrap.viewer(None).unwrap();
    bootstrap.add_user(&hub, "root@hub.example", "hub", Role::Admin, None).unwrap();
    let admin = bootstrap
        .create_token(&hub, &cordon_app::access::TokenRequest { user: "root@hub.example".into(), ..Default::default() })
        .unwrap()
        .secret;
    let addr = serve(bootstrap, unlimited());

    let orgs = [
        json!({"name": "alpha", "kind": "partner"}),
        json!({"name": "bravo", "kind": "partner"}),
        json!({"name": "charlie", "kind": "partner"}),
        json!({"name": "ncu-ro", "kind": "agency", "country": "ro"}),
        json!({"name": "prov-ro", "kind": "provider", "asns": [64500]}),
        json!({"name": "soc", "kind": "defender"}),
    ];
    for org in orgs {
        admin_call(addr, &admin, "POST", "/api/v1/admin/organisations", org);
    }
    let members = [
        (Who::Hub, "analyst@hub.example", "hub", Role::Analyst),
        (Who::Partner("alpha"), "a@alpha.example", "alpha", Role::Submitter),
        (Who::Partner("alpha"), "reader@alpha.example", "alpha", Role::Reader),
        (Who::Partner("bravo"), "b@bravo.example", "bravo", Role::Submitter),
        (Who::Partner("charlie"), "c@charlie.example", "charlie", Role::Submitter),
        (Who::Agency, "officer@ncu.example", "ncu-ro", Role::Agency),
        (Who::Provider, "abuse@prov-ro.example", "prov-ro", Role::Reader),
        (Who::Defender, "soc@soc.example", "soc", Role::Reader),
    ];
    let mut callers = vec![Caller { who: Who::Hub, role: Role::Admin, token: admin.clone() }];
    for (who, email, org, role) in members {
        admin_call(
            addr,
            &admin,
            "POST",
            "/api/v1/admin/users",
            json!({"email": email, "org": org, "role": role.as_str()}),
        );
        let created = admin_call(addr, &admin, "POST", "/api/v1/admin/tokens", json!({"user": email}));
        let token = created["token"].as_str().unwrap().to_string();
        callers.push(Caller { who, role, token });
    }

    // Each partner submits its own sightings: alpha gzipped and saying so,
    // bravo gzipped without saying so, charlie plain.
    let mut feeds: BTreeMap<&str, String> = BTreeMap::new();
    for s in sightings() {
        let family = s.family.clone().unwrap_or_default();
        let row = format!("{},{},{family},{}\n", s.value, s.category, s.tlp);
        feeds.entry(s.source).or_insert_with(|| "ip,category,malware,tlp\n".to_string()).push_str(&row);
    }
    for (source, feed) in &feeds {
        let token = callers.iter().find(|c| c.who == Who::Partner(source) && c.role == Role::Submitter).unwrap();
        let auth = format!("Authorization: Bearer {}\r\n", token.token);
        let answer = match *source {
            "alpha" => send(
                addr,
                "POST",
                "/api/v1/submissions",
                &(auth + "Content-Encoding: gzip\r\n"),
                &super::gzip(feed.as_bytes()),
            ),
            "bravo" => send(addr, "POST", "/api/v1/submissions", &auth, &super::gzip(feed.as_bytes())),
            _ => send(addr, "POST", "/api/v1/submissions", &auth, feed.as_bytes()),
        };
        assert_eq!(answer.status, 200, "{source}: {}", answer.body);
        assert_eq!(answer.json()["rejected"], 0, "{source}: {}", answer.body);
    }
    let consents = [("alpha", json!(["agencies"])), ("bravo", json!(["providers"])), ("charlie", json!([]))];
    for (source, amber_to) in consents {
        let path = format!("/api/v1/admin/sources/{source}/consent");
        admin_call(addr, &admin, "PUT", &path, json!({"amber_to": amber_to}));
    }
    let contacts = "asn,64500,Net RO abuse,abuse@prov-ro.example\ncountry,RO,NCU RO,ncu@ro.example\n\
                    asn,64501,Net DE abuse,abuse@prov-de.example\ncountry,DE,NCU DE,ncu@de.example\n";
    let answer = request(addr, "PUT", "/api/v1/admin/contacts", Some(&admin), Some(contacts));
    assert_eq!((answer.status, answer.json()["contacts"].as_u64()), (200, Some(4)), "{}", answer.body);

    // The coordination the hub does with `cordon`, on the same store.
    let app = App::open(&config).unwrap();
    let out = tempfile::tempdir().unwrap();
    let op = app.create_operation(&hub, "op", 0, 4_000_000_000, "").unwrap();
    let actor = Actor::new("analyst", 1_800_000_000, "");
    app.build_targets(&hub, &op, &actor, false).unwrap();
    let all = app.targets(&hub, &TargetSelection::default()).unwrap();
    app.transition(&hub, &all, TargetState::Triaged, None, &actor).unwrap();
    let built = app.build_packages(&hub, &op, None, &out.path().join("packages"), &actor).unwrap();
    assert_eq!(built.packages.len(), 2, "{built:?}");
    let left = app.targets(&hub, &TargetSelection { state: Some(TargetState::Triaged), ..Default::default() }).unwrap();
    app.transition(&hub, &left, TargetState::Referred, None, &actor).unwrap();
    let notify = NotifyConfig {
        outbox: out.path().join("outbox"),
        from_name: "hub".into(),
        from_address: "hub@hub.example".into(),
        interval: 1,
        smtp: None,
    };
    assert_eq!(app.notify(&hub, &op, &notify, &actor).unwrap().messages.len(), 2);
    World { addr, admin, callers, app, out, _dir: dir }
}
