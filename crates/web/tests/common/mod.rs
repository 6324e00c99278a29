//! What the dashboard's tests share: a small community on a fresh store
//! (the hub, partners alpha and bravo, Romania's agency, a defender, each
//! with a signed-in user by password), served on 127.0.0.1, and a browser
//! of HTTP/1.1 requests that keeps cookies.
#![allow(dead_code)] // each test binary uses its part

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use cordon_app::access::Role;
use cordon_app::intake::Input;
use cordon_app::operations::TargetSelection;
use cordon_app::{App, Config};
use cordon_ingest::IngestOptions;
use cordon_model::OrgKind;
use cordon_ops::workflow::Actor;
use cordon_store::ops::TargetState;
use cordon_store::orgs::NewOrganisation;

/// Every user's password.
pub const PASSWORD: &str = "correct horse battery staple";

/// The users: e-mail, organisation, role.
pub const USERS: [(&str, &str, Role); 6] = [
    ("admin@hub.example", "hub", Role::Admin),
    ("analyst@hub.example", "hub", Role::Analyst),
    ("a@alpha.example", "alpha", Role::Submitter),
    ("b@bravo.example", "bravo", Role::Submitter),
    ("officer@ncu.example", "ncu-ro", Role::Agency),
    ("soc@soc.example", "soc", Role::Reader),
];

/// What feeds put in the store that must render as text.
pub const SCRIPT_URL: &str = "http://45.1.0.9/<script>alert(1)</script>";

/// The hub's source with a hostile name.
pub const SCRIPT_SOURCE: &str = "<script>src</script>";

/// Alpha's AMBER address in Romania; bravo's RED one in Romania; a GREEN
/// one in Germany.
pub const ALPHA_AMBER: &str = "45.1.0.1";
pub const BRAVO_RED: &str = "45.2.0.7";
pub const GERMAN: &str = "46.1.0.1";

/// The running hub.
pub struct World {
    pub addr: SocketAddr,
    pub app: App,
    pub dir: tempfile::TempDir,
}

fn org(name: &str, kind: OrgKind, country: Option<&str>) -> NewOrganisation {
    NewOrganisation { name: name.into(), kind, country: country.map(Into::into), asns: Vec::new() }
}

/// Builds the world with `extra` more Romanian addresses from alpha (for
/// the scale test) and serves it with `limits`.
pub fn world_with(extra: usize, limits: cordon_server::Limits) -> World {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::new(dir.path().join("cordon.db"));
    let mut import = cordon_enrich::Import::new();
    import.add_csv("asn-country.csv", b"45.0.0.0,45.255.255.255,RO\n46.0.0.0,46.255.255.255,DE\n");
    import.add_csv("asn.csv", b"45.0.0.0,45.255.255.255,64500,Net RO\n46.0.0.0,46.255.255.255,64501,Net DE\n");
    cordon_enrich::write_snapshot(&config.geo, &import.finish().snapshot).unwrap();
    let app = App::open(&config).unwrap();
    let hub = app.viewer(None).unwrap();
    for new in [
        org("alpha", OrgKind::Partner, None),
        org("bravo", OrgKind::Partner, None),
        org("ncu-ro", OrgKind::Agency, Some("RO")),
        org("soc", OrgKind::Defender, None),
    ] {
        app.add_org(&hub, &new).unwrap();
    }
    for (email, org, role) in USERS {
        app.add_user(&hub, email, org, role, Some(PASSWORD)).unwrap();
    }
    let mut alpha =
        format!("ip,category,malware,tlp\n{ALPHA_AMBER},c2,fam-alpha-amber,amber\n{GERMAN},c2,fam-alpha-green,green\n");
    for n in 0..extra {
        alpha.push_str(&format!("45.{}.{}.{},c2,,green\n", 100 + n / 65_536, (n / 256) % 256, n % 256));
    }
    let feeds =
        [("alpha", alpha), ("bravo", format!("ip,category,malware,tlp\n{BRAVO_RED},phishing,fam-bravo-red,red\n"))];
    let options = IngestOptions::default();
    for (name, feed) in &feeds {
        let viewer = app.viewer(Some(name)).unwrap();
        let mut reader = feed.as_bytes();
        app.submit(&viewer, None, Input::Reader { name: "feed.csv", reader: &mut reader }, &options).unwrap();
    }
    let hostile = format!("url,category,tlp\n{SCRIPT_URL},phishing,green\n");
    let mut reader = hostile.as_bytes();
    app.submit(&hub, Some(SCRIPT_SOURCE), Input::Reader { name: "hostile.csv", reader: &mut reader }, &options)
        .unwrap();
    app.set_consent(&hub, "alpha", cordon_model::Consent { agencies: true, providers: false }).unwrap();
    let contacts = "country,RO,NCU RO,ncu@ro.example\ncountry,DE,NCU DE,ncu@de.example\n";
    app.import_contacts(&hub, "contacts.csv", contacts).unwrap();
    let op = app.create_operation(&hub, "op", 0, 4_000_000_000, "A test operation").unwrap();
    let actor = Actor::new("analyst@hub.example", 1_800_000_000, "");
    app.build_targets(&hub, &op, &actor, false).unwrap();
    // The scale test needs targets only; the others the whole workflow.
    if extra == 0 {
        let all = app.targets(&hub, &TargetSelection::default()).unwrap();
        app.transition(&hub, &all, TargetState::Triaged, None, &actor).unwrap();
        app.build_packages(&hub, &op, None, &dir.path().join("packages"), &actor).unwrap();
        let left =
            app.targets(&hub, &TargetSelection { state: Some(TargetState::Triaged), ..Default::default() }).unwrap();
        app.transition(&hub, &left, TargetState::Referred, None, &actor).unwrap();
    }
    let addr = serve(App::open(&config).unwrap(), limits);
    World { addr, app, dir }
}

/// The world with the default limits.
pub fn world() -> World {
    world_with(0, cordon_server::Limits::default())
}

/// Serves `app` on a free port of 127.0.0.1 in a runtime of its own.
fn serve(app: App, limits: cordon_server::Limits) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            cordon_server::serve(listener, app, limits, std::future::pending()).await.unwrap();
        });
    });
    addr
}

/// The id of the target whose key is `key`, as the hub sees it.
pub fn target_id(app: &App, key: &str) -> i64 {
    let hub = app.viewer(None).unwrap();
    let targets = app.targets(&hub, &TargetSelection::default()).unwrap();
    targets.iter().find(|t| t.spec.key == key).map(|t| t.id).unwrap_or_else(|| panic!("no target {key}"))
}

/// An answer.
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn cookies(&self) -> Vec<&str> {
        self.headers.iter().filter(|(n, _)| n == "set-cookie").map(|(_, v)| v.as_str()).collect()
    }

    /// The value of the hidden CSRF field of the page's first form.
    pub fn csrf(&self) -> String {
        let at = self.body.find("name=\"csrf\" value=\"").unwrap_or_else(|| panic!("no csrf field: {}", self.body));
        let rest = &self.body[at + 19..];
        rest[..rest.find('"').unwrap()].to_string()
    }
}

/// A browser without a browser: keeps the cookies it is given.
pub struct Agent {
    pub addr: SocketAddr,
    pub cookies: Vec<(String, String)>,
}

impl Agent {
    pub fn new(addr: SocketAddr) -> Agent {
        Agent { addr, cookies: Vec::new() }
    }

    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn get(&mut self, path: &str) -> Answer {
        self.send("GET", path, "", b"")
    }

    /// Posts a urlencoded form.
    pub fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let body: Vec<String> = form.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect();
        self.send("POST", path, "application/x-www-form-urlencoded", body.join("&").as_bytes())
    }

    /// Signs in as `email` with `password`, through the form.
    pub fn sign_in(&mut self, email: &str, password: &str) -> Answer {
        let form = self.get("/login");
        let csrf = form.csrf();
        self.post("/login", &[("csrf", &csrf), ("email", email), ("password", password)])
    }

    pub fn send(&mut self, method: &str, path: &str, content_type: &str, body: &[u8]) -> Answer {
        let mut stream = TcpStream::connect(self.addr).unwrap();
        let cookies: Vec<String> = self.cookies.iter().map(|(n, v)| format!("{n}={v}")).collect();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        if !cookies.is_empty() {
            head.push_str(&format!("Cookie: {}\r\n", cookies.join("; ")));
        }
        if !content_type.is_empty() {
            head.push_str(&format!("Content-Type: {content_type}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(body).unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap();
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").map_or(raw.len(), |i| i + 4);
        let text = String::from_utf8_lossy(&raw[..split]).into_owned();
        let mut lines = text.lines();
        let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).unwrap_or(0);
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let chunked = headers.iter().any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
        let mut body = raw[split..].to_vec();
        if chunked {
            body = dechunk(&body);
        }
        let answer = Answer { status, headers, body: String::from_utf8_lossy(&body).into_owned() };
        for cookie in answer.cookies() {
            let pair = cookie.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                self.cookies.retain(|(n, _)| n != name);
                if !value.is_empty() {
                    self.cookies.push((name.to_string(), value.to_string()));
                }
            }
        }
        answer
    }
}

fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = rest.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&rest[..end]).trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < end + 2 + size {
            break;
        }
        out.extend_from_slice(&rest[end + 2..end + 2 + size]);
        rest = &rest[(end + 4 + size).min(rest.len())..];
    }
    out
}

/// Percent-encodes a form value.
pub use cordon_web::encode;
