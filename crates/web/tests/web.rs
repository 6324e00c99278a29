//! The dashboard over HTTP: sign-in required everywhere, CSRF, session
//! fixation, escaping of feed-supplied text, another organisation's data
//! absent, rate-limited sign-ins, and a targets page at 30,000 targets.

mod common;

use std::time::{Duration, Instant};

use common::{target_id, world, Agent, ALPHA_AMBER, BRAVO_RED, GERMAN, PASSWORD, SCRIPT_SOURCE, SCRIPT_URL};
use cordon_web::{Access, PAGES};

/// A path of the table with its parameters filled in.
fn sample(path: &str) -> String {
    path.replace("{name}", "op")
        .replace("{id}", "1")
        .replace("{country}", "RO")
        .replace("{file}", "targets.csv")
        .replace("{format}", "plain")
}

#[test]
fn every_page_but_the_sign_in_needs_a_session_and_says_so_safely() {
    let w = world();
    for page in PAGES {
        let mut agent = Agent::new(w.addr);
        let path = sample(page.path);
        let answer = if page.method == "POST" { agent.post(&path, &[("csrf", "x")]) } else { agent.get(&path) };
        match page.access {
            // The sign-in form posted without its cookie is refused.
            Access::Public => assert!(matches!(answer.status, 200 | 403), "{} {path}: {}", page.method, answer.status),
            Access::Roles(_) if page.method == "GET" => {
                assert_eq!((answer.status, answer.header("location")), (303, Some("/login")), "GET {path}")
            }
            Access::Roles(_) => assert_eq!(answer.status, 401, "POST {path}"),
        }
        let csp = answer.header("content-security-policy").unwrap_or_default();
        assert!(csp.starts_with("default-src 'self'"), "{path}: {csp}");
    }
    // A made-up session is no session.
    let mut forged = Agent::new(w.addr);
    forged.cookies.push(("cordon_session".into(), "ab".repeat(32)));
    assert_eq!(forged.get("/").status, 303);
}

#[test]
fn the_session_cookie_is_http_only_strict_and_renewed_at_every_sign_in() {
    let w = world();
    let mut agent = Agent::new(w.addr);
    // An attacker's chosen id, planted before the sign-in, is not kept.
    agent.cookies.push(("cordon_session".into(), "cd".repeat(32)));
    let signed = agent.sign_in("analyst@hub.example", PASSWORD);
    assert_eq!((signed.status, signed.header("location")), (303, Some("/")));
    let cookie = signed.cookies().into_iter().find(|c| c.starts_with("cordon_session=")).unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain HTTP: no Secure flag: {cookie}");
    let first = agent.cookie("cordon_session").unwrap().to_string();
    assert_ne!(first, "cd".repeat(32));
    assert_eq!(agent.get("/").status, 200);
    let mut planted = Agent::new(w.addr);
    planted.cookies.push(("cordon_session".into(), "cd".repeat(32)));
    assert_eq!(planted.get("/").status, 303, "the planted id signs no one in");
    // Signing in again makes a new id and ends the old session.
    agent.sign_in("analyst@hub.example", PASSWORD);
    let second = agent.cookie("cordon_session").unwrap().to_string();
    assert_ne!(first, second);
    let mut old = Agent::new(w.addr);
    old.cookies.push(("cordon_session".into(), first));
    assert_eq!(old.get("/").status, 303, "the previous session ended");
    // Logging out ends it in the store too.
    let page = agent.get("/lookup");
    let out = agent.post("/logout", &[("csrf", &page.csrf())]);
    assert_eq!(out.header("location"), Some("/login"));
    let mut after = Agent::new(w.addr);
    after.cookies.push(("cordon_session".into(), second));
    assert_eq!(after.get("/").status, 303);
}

#[test]
fn forms_without_the_session_token_are_refused() {
    let w = world();
    let id = target_id(&w.app, ALPHA_AMBER).to_string();
    let mut agent = Agent::new(w.addr);
    agent.sign_in("analyst@hub.example", PASSWORD);
    let path = format!("/targets/{id}");
    let page = agent.get(&path);
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = page.csrf();
    for form in [vec![("to", "notified")], vec![("to", "notified"), ("csrf", "0".repeat(64).as_str())]] {
        let refused = agent.post(&path, &form);
        assert_eq!(refused.status, 403, "{form:?}: {}", refused.body);
    }
    assert!(!page.body.contains("moved by the form"));
    let moved = agent.post(&path, &[("csrf", &csrf), ("to", "notified"), ("note", "moved by the form")]);
    assert_eq!(moved.header("location"), Some(format!("/targets/{id}?message=Moved.").as_str()), "{}", moved.body);
    assert!(agent.get(&path).body.contains("moved by the form"), "the move with the token was written");
    // The sign-in form has its own token, bound to a cookie.
    let mut stranger = Agent::new(w.addr);
    let refused = stranger.post("/login", &[("email", "analyst@hub.example"), ("password", PASSWORD), ("csrf", &csrf)]);
    assert_eq!(refused.status, 403);
    assert!(stranger.cookie("cordon_session").is_none());
}

#[test]
fn feed_supplied_text_renders_as_text() {
    let w = world();
    let id = target_id(&w.app, ALPHA_AMBER).to_string();
    let mut agent = Agent::new(w.addr);
    agent.sign_in("analyst@hub.example", PASSWORD);
    let page = agent.get(&format!("/targets/{id}"));
    let csrf = page.csrf();
    let moved = agent
        .post(&format!("/targets/{id}"), &[("csrf", &csrf), ("to", "notified"), ("note", "<script>note</script>")]);
    assert_eq!(moved.header("location"), Some(format!("/targets/{id}?message=Moved.").as_str()));
    let pages = [
        agent.get(&format!("/targets/{id}")).body,
        agent.get(&format!("/lookup?q={}", common::encode(SCRIPT_URL))).body,
        agent.get("/indicators?kind=url").body,
        agent.get("/imports").body,
        agent.get("/lookup?q=%3Cscript%3Eq%3C%2Fscript%3E").body,
    ];
    let all = pages.join("\n");
    // askama writes `<` and `>` as numeric references.
    assert!(all.contains("&#60;script&#62;note&#60;/script&#62;"), "the note");
    assert!(all.contains("&#60;script&#62;alert(1)&#60;/script&#62;"), "the URL");
    assert!(all.contains("&#60;script&#62;src&#60;/script&#62;"), "the source name {SCRIPT_SOURCE}");
    assert!(!all.contains("<script"), "no markup from the store or the query");
}

#[test]
fn another_organisations_data_is_absent_and_its_objects_are_404() {
    let w = world();
    let german = target_id(&w.app, GERMAN).to_string();
    let romanian = target_id(&w.app, ALPHA_AMBER).to_string();
    let mut officer = Agent::new(w.addr);
    officer.sign_in("officer@ncu.example", PASSWORD);
    let table = officer.get("/operations/op/targets");
    assert_eq!(table.status, 200, "{}", table.body);
    assert!(table.body.contains(ALPHA_AMBER), "alpha lets its AMBER go to agencies");
    assert!(!table.body.contains(GERMAN) && !table.body.contains(BRAVO_RED), "another country's and RED are absent");
    assert_eq!(officer.get(&format!("/targets/{romanian}")).status, 200);
    let other = officer.get(&format!("/targets/{german}"));
    let missing = officer.get("/targets/999999");
    assert_eq!((other.status, missing.status), (404, 404));
    assert_eq!(other.body, missing.body, "no existence leak");
    assert_eq!(officer.get("/operations/op").status, 404, "the report is the hub's");
    assert_eq!(officer.get("/operations/op/packages/DE/targets.csv").status, 404);

    let mut alpha = Agent::new(w.addr);
    alpha.sign_in("a@alpha.example", PASSWORD);
    let seen = alpha.get(&format!("/lookup?q={BRAVO_RED}"));
    assert!(seen.body.contains("not listed") && !seen.body.contains("fam-bravo"), "{}", seen.body);
    let own = alpha.get(&format!("/lookup?q={ALPHA_AMBER}"));
    assert!(own.body.contains("listed as 45.1.0.1"), "{}", own.body);
    assert!(!alpha.get("/imports").body.contains("bravo"), "only its own submissions");
    assert_eq!(alpha.get("/operations/op/targets").status, 404);
    assert_eq!(alpha.get("/admin/users").status, 404);

    let mut soc = Agent::new(w.addr);
    soc.sign_in("soc@soc.example", PASSWORD);
    let list = soc.get("/blocklists/plain");
    assert_eq!(list.status, 200);
    assert!(
        list.body.contains(GERMAN) && !list.body.contains(ALPHA_AMBER) && !list.body.contains(BRAVO_RED),
        "{}",
        list.body
    );
}

#[test]
fn failed_sign_ins_are_audited_and_rate_limited() {
    let limits = cordon_server::Limits {
        logins: cordon_web::LoginLimit { failures: 3, window: Duration::from_secs(600) },
        ..cordon_server::Limits::default()
    };
    let w = common::world_with(0, limits);
    let mut agent = Agent::new(w.addr);
    for _ in 0..3 {
        assert_eq!(agent.sign_in("analyst@hub.example", "wrong").status, 401);
    }
    let limited = agent.sign_in("analyst@hub.example", PASSWORD);
    assert_eq!(limited.status, 429, "even the right password waits");
    assert!(limited.header("retry-after").is_some());
    assert!(agent.cookie("cordon_session").is_none());
    assert_eq!(agent.sign_in("nobody@hub.example", "x").status, 429, "the address is limited for every user");
    let hub = w.app.viewer(None).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let rows = w.app.audit(&hub, None, None).unwrap();
    let failed = rows.iter().filter(|r| r.entry.action == "POST /login" && r.entry.result == "401").count();
    let limited = rows.iter().filter(|r| r.entry.action == "POST /login" && r.entry.result == "429").count();
    assert_eq!((failed, limited), (3, 2), "{rows:?}");
    assert!(rows.iter().all(|r| !r.entry.object.contains("wrong")), "passwords are never audited");
}

#[test]
fn a_targets_page_at_30000_targets_pages_filters_and_sorts() {
    let w = common::world_with(30_000, cordon_server::Limits::default());
    let mut agent = Agent::new(w.addr);
    agent.sign_in("analyst@hub.example", PASSWORD);
    // A position deep in the key order: the 29,950th target.
    let hub = w.app.viewer(None).unwrap();
    let mut all = w.app.targets(&hub, &cordon_app::operations::TargetSelection::default()).unwrap();
    all.sort_by(|a, b| (&a.spec.key, a.id).cmp(&(&b.spec.key, b.id)));
    let deep = &all[29_949];
    let deep = format!("/operations/op/targets?sort=key&after={}%3A{}", deep.id, common::encode(&deep.spec.key));
    let mut times = Vec::new();
    // Each page's time is the fastest of three reads: other builds and
    // tests share the machine, and a page's own cost is what is measured.
    let mut timed = |agent: &mut Agent, path: &str| {
        let mut fastest = Duration::MAX;
        let mut answer = None;
        for _ in 0..3 {
            let started = Instant::now();
            let read = agent.get(path);
            fastest = fastest.min(started.elapsed());
            assert_eq!(read.status, 200, "{path}: {}", read.body);
            answer = Some(read);
        }
        times.push(fastest);
        answer.unwrap()
    };
    let first = timed(&mut agent, "/operations/op/targets?sort=last-seen");
    assert!(first.body.contains("30,00"), "thousands separators: {}", &first.body[..first.body.len().min(3000)]);
    assert_eq!(first.body.matches("name=\"id\"").count(), 100);
    let next = link(&first.body, "Next page");
    assert!(link_or_none(&first.body, "Previous page").is_none());
    let second = timed(&mut agent, &next);
    assert_eq!(second.body.matches("name=\"id\"").count(), 100);
    let back = timed(&mut agent, &link(&second.body, "Previous page"));
    assert_eq!(rows(&back.body), rows(&first.body), "previous of the second page is the first");
    let end = timed(&mut agent, &deep);
    assert_eq!(end.body.matches("name=\"id\"").count(), all.len() - 29_950, "the rest of the targets");
    assert!(link_or_none(&end.body, "Next page").is_none());
    let before_end = timed(&mut agent, &link(&end.body, "Previous page"));
    assert_eq!(before_end.body.matches("name=\"id\"").count(), 100);
    let filtered = timed(&mut agent, "/operations/op/targets?q=45.100.1.&sort=state");
    assert_eq!(filtered.body.matches("name=\"id\"").count(), 100);
    let matching = all.iter().filter(|t| t.spec.key.contains("45.100.1.")).count();
    assert!(filtered.body.contains(&format!("{matching} targets match")), "{matching}");
    for _ in 0..3 {
        timed(&mut agent, "/operations/op/targets?sort=country");
    }
    times.sort();
    let median = times[times.len() / 2];
    eprintln!("targets pages at 30,000 targets: median {median:?} of {times:?}");
    // The median of nine pages (first, next, previous, the end, before the
    // end, filtered, three by country), each the fastest of three reads.
    // The goal is 200 ms a page; a debug build measures ~16 ms
    // here when the machine is quiet, but ~300 ms while two other helpers
    // build on its two cores, so the bound is 500 ms. Reading all 30,000
    // targets for each page (the code this replaced) took ~0.8 s a page on
    // a quiet machine and fails it. A keyset page reads 101 rows and a
    // count.
    assert!(median < Duration::from_millis(500), "median {median:?} of {times:?}");
}

/// The target ids of a targets page, in order.
fn rows(body: &str) -> Vec<&str> {
    body.split("name=\"id\" value=\"").skip(1).filter_map(|rest| rest.split('"').next()).collect()
}

/// The link labelled `label` of a page, if any.
fn link_or_none(body: &str, label: &str) -> Option<String> {
    let end = body.find(&format!("\">{label}</a>"))?;
    let start = body[..end].rfind("href=\"")? + 6;
    Some(body[start..end].replace("&#38;", "&").replace("&amp;", "&"))
}

/// The link labelled `label` of a page.
fn link(body: &str, label: &str) -> String {
    link_or_none(body, label).unwrap_or_else(|| panic!("no {label} link"))
}

/// The lookup page answers what `cordon lookup` and the API answer: an
/// address inside a listed network is listed (as that network), defanged
/// input is read, and a pasted list gets an answer per value.
#[test]
fn the_lookup_page_finds_addresses_inside_listed_networks() {
    let w = world();
    let hub = w.app.viewer(None).unwrap();
    let feed = "ip,category,tlp\n47.9.0.0/24,c2,green\n";
    let mut reader = feed.as_bytes();
    let input = cordon_app::intake::Input::Reader { name: "nets.csv", reader: &mut reader };
    w.app.submit(&hub, Some("netfeed"), input, &cordon_ingest::IngestOptions::default()).unwrap();
    let mut soc = Agent::new(w.addr);
    soc.sign_in("soc@soc.example", PASSWORD);
    let one = soc.get("/lookup?q=47%5B.%5D9.0.77");
    assert_eq!(one.status, 200);
    assert!(one.body.contains("listed as 47.9.0.0/24") && one.body.contains("1 of 1 listed"), "{}", one.body);
    let csrf = one.csrf();
    let list = format!("47.9.0.1\n47.9.1.1\n{GERMAN}\nhxxp://47.9.0.5/x\nnot an address at all");
    let many = soc.post("/lookup", &[("csrf", &csrf), ("values", &list)]);
    assert_eq!(many.status, 200, "{}", many.body);
    assert!(many.body.contains("2 of 5 listed"), "{}", many.body);
    assert!(many.body.contains(&format!("listed as {GERMAN}")), "{}", many.body);
    assert_eq!(many.body.matches("listed as 47.9.0.0/24").count(), 1, "{}", many.body);
}

/// The hub's feeds page lists each feed with its schedule and state; it
/// is the hub's only.
#[test]
fn the_feeds_page_lists_the_hubs_feeds_for_the_hub_only() {
    let w = world();
    let hub = w.app.viewer(None).unwrap();
    let feed = cordon_app::feeds::NewFeed {
        name: "abuse-feodo".into(),
        url: "https://feodotracker.abuse.ch/downloads/ipblocklist.csv".into(),
        source: "feodo".into(),
        format: None,
        tlp: None,
        category: None,
        every: 3_600,
        headers: Vec::new(),
        basic_auth_env: None,
    };
    w.app.add_feed(&hub, &feed).unwrap();
    let mut analyst = Agent::new(w.addr);
    analyst.sign_in("analyst@hub.example", PASSWORD);
    let page = analyst.get("/admin/feeds");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("abuse-feodo"), "{}", page.body);
    assert!(page.body.contains("feodotracker.abuse.ch") && page.body.contains("3,600 s"), "{}", page.body);
    assert!(page.body.contains("never"), "no success yet: {}", page.body);
    assert!(page.body.contains("href=\"/admin/feeds\""), "in the analyst's navigation");
    let mut alpha = Agent::new(w.addr);
    alpha.sign_in("a@alpha.example", PASSWORD);
    assert_eq!(alpha.get("/admin/feeds").status, 404);
}
