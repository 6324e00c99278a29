//! The dashboard in a real browser: Debian's Chromium through chromedriver
//! (both installed by scripts/install-peers.sh; the test fails without
//! them). Each role signs in, walks its pages, does its work (the analyst
//! moves targets, a partner uploads a feed, the agency records an outcome)
//! and sees no other organisation's data; every page is saved as a
//! screenshot under target/screenshots/.

mod common;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{world, ALPHA_AMBER, BRAVO_RED, GERMAN, PASSWORD};
use fantoccini::{Client, ClientBuilder, Locator};

/// chromedriver on a free port, stopped when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn driver() -> Driver {
    assert!(std::path::Path::new("/usr/bin/chromium").exists(), "chromium is missing: run scripts/install-peers.sh");
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver is missing: run scripts/install-peers.sh");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(20), "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Driver { child, port }
}

async fn browser(driver: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({"binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000"]}),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .unwrap()
}

fn shots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Opens `path`, saves a screenshot as `name`, returns the page's text.
async fn visit(client: &Client, base: &str, path: &str, name: &str) -> String {
    client.goto(&format!("{base}{path}")).await.unwrap();
    shoot(client, name).await
}

async fn shoot(client: &Client, name: &str) -> String {
    let png = client.screenshot().await.unwrap();
    std::fs::write(shots().join(format!("{name}.png")), png).unwrap();
    client.find(Locator::Css("body")).await.unwrap().text().await.unwrap()
}

async fn sign_in(client: &Client, base: &str, email: &str) {
    client.goto(&format!("{base}/login")).await.unwrap();
    client.find(Locator::Id("email")).await.unwrap().send_keys(email).await.unwrap();
    client.find(Locator::Id("password")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    client.find(Locator::Css("form.stack button")).await.unwrap().click().await.unwrap();
    // Signed in once a page with the sign-out form has loaded (on a loaded
    // machine the next navigation could otherwise cut the sign-in off).
    client.wait().for_element(Locator::Css("form.logout")).await.unwrap();
}

async fn sign_out(client: &Client) {
    client.find(Locator::Css("form.logout button")).await.unwrap().click().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_does_its_work_in_a_browser() {
    let w = tokio::task::spawn_blocking(world).await.unwrap();
    let base = format!("http://{}", w.addr);
    let driver = driver();
    let client = browser(&driver).await;

    // The analyst: the overview, the targets, a bulk move with a note.
    let login = visit(&client, &base, "/login", "login").await;
    assert!(login.contains("E-mail address") && login.contains("Password"));
    sign_in(&client, &base, "analyst@hub.example").await;
    let overview = shoot(&client, "overview").await;
    assert!(overview.contains("Operation op") && overview.contains("World map"), "{overview}");
    let targets = visit(&client, &base, "/operations/op/targets", "targets").await;
    assert!(targets.contains(ALPHA_AMBER) && targets.contains(GERMAN));
    for checkbox in client.find_all(Locator::Css("input[name=id]")).await.unwrap().into_iter().take(2) {
        checkbox.click().await.unwrap();
    }
    client.find(Locator::Id("m-to")).await.unwrap().select_by_value("notified").await.unwrap();
    client.find(Locator::Id("m-note")).await.unwrap().send_keys("moved in the browser").await.unwrap();
    client.find(Locator::Css("fieldset button")).await.unwrap().click().await.unwrap();
    let moved = shoot(&client, "targets-moved").await;
    assert!(moved.contains("Moved 2 targets."), "{moved}");
    let id = common::target_id(&w.app, ALPHA_AMBER);
    let target = visit(&client, &base, &format!("/targets/{id}"), "target").await;
    assert!(target.contains("alpha") && target.to_ascii_lowercase().contains("amber"), "{target}");
    for (path, name) in [
        ("/indicators", "indicators"),
        ("/imports", "imports"),
        ("/admin/allowlist", "allowlist"),
        ("/admin/contacts", "contacts"),
    ] {
        let text = visit(&client, &base, path, name).await;
        assert!(!text.contains("There is no such page"), "{path}");
    }
    sign_out(&client).await;

    // The admin's pages.
    sign_in(&client, &base, "admin@hub.example").await;
    for (path, name) in [
        ("/admin/organisations", "organisations"),
        ("/admin/users", "users"),
        ("/admin/tokens", "tokens"),
        ("/admin/collections", "collections"),
        ("/admin/audit", "audit"),
    ] {
        let text = visit(&client, &base, path, name).await;
        assert!(!text.contains("There is no such page"), "{path}");
    }
    sign_out(&client).await;

    // A partner: upload a feed, see it and its rejected line.
    sign_in(&client, &base, "a@alpha.example").await;
    let start = shoot(&client, "partner-start").await;
    assert!(start.contains("What became of your reports"), "{start}");
    visit(&client, &base, "/submit", "submit").await;
    let feed = std::env::temp_dir().join(format!("cordon-web-feed-{}.txt", std::process::id()));
    std::fs::write(&feed, "45.1.0.44\nnot an address\n").unwrap();
    client.find(Locator::Id("format")).await.unwrap().select_by_value("plain").await.unwrap();
    client.find(Locator::Id("file")).await.unwrap().send_keys(&feed.display().to_string()).await.unwrap();
    client.find(Locator::Css("form.stack button")).await.unwrap().click().await.unwrap();
    let submitted = shoot(&client, "submitted").await;
    let _ = std::fs::remove_file(&feed);
    assert!(submitted.contains("1 accepted") && submitted.contains("Rejected lines"), "{submitted}");
    let mine = visit(&client, &base, "/imports", "partner-imports").await;
    assert!(!mine.contains("bravo"), "{mine}");
    let other = visit(&client, &base, &format!("/lookup?q={BRAVO_RED}"), "partner-lookup").await;
    assert!(other.contains("not listed") && !other.contains("fam-bravo"), "{other}");
    sign_out(&client).await;

    // The agency: its country's targets, a takedown, its package, an outcome.
    sign_in(&client, &base, "officer@ncu.example").await;
    let theirs = visit(&client, &base, "/operations/op/targets", "agency-targets").await;
    assert!(theirs.contains(ALPHA_AMBER) && !theirs.contains(GERMAN) && !theirs.contains(BRAVO_RED), "{theirs}");
    let packages = visit(&client, &base, "/operations/op/packages", "agency-packages").await;
    assert!(packages.contains("RO") && !packages.contains("DE"), "{packages}");
    client.find(Locator::Id("outcome-kind")).await.unwrap().select_by_value("arrest").await.unwrap();
    client.find(Locator::Id("outcome-count")).await.unwrap().send_keys("3").await.unwrap();
    client.find(Locator::Css("form.inline button")).await.unwrap().click().await.unwrap();
    let recorded = shoot(&client, "agency-outcome").await;
    assert!(recorded.contains("Outcome recorded."), "{recorded}");
    sign_out(&client).await;

    // A defender: lookups and blocklists.
    sign_in(&client, &base, "soc@soc.example").await;
    visit(&client, &base, "/lookup", "reader-lookup").await;
    client
        .find(Locator::Id("many-values"))
        .await
        .unwrap()
        .send_keys(&format!("{GERMAN}\n{ALPHA_AMBER}"))
        .await
        .unwrap();
    client.find(Locator::Css("form[method=post].inline button")).await.unwrap().click().await.unwrap();
    let answers = shoot(&client, "reader-lookup-list").await;
    assert!(answers.contains("1 of 2 listed"), "{answers}");
    let lists = visit(&client, &base, "/blocklists", "reader-blocklists").await;
    assert!(lists.contains("cordon.plain"));
    assert!(visit(&client, &base, "/operations/op/targets", "reader-no-targets")
        .await
        .contains("There is no such page"));
    client.close().await.unwrap();
    let hub = w.app.viewer(None).unwrap();
    let outcomes = w.app.outcomes(&hub, &w.app.operation("op").unwrap()).unwrap();
    assert_eq!(
        outcomes.iter().map(|o| (o.country.as_str(), o.kind.as_str(), o.count)).collect::<Vec<_>>(),
        [("RO", "arrest", 3)]
    );
}

/// The Tab key as WebDriver sends it.
const TAB: &str = "\u{e004}";

/// What has the keyboard focus: its tag, id, class and whether its focus
/// is drawn (an outline that is not `none`).
async fn focused(client: &Client) -> (String, String, String, bool) {
    let script = "const e = document.activeElement; const s = getComputedStyle(e);
        return [e.tagName.toLowerCase(), e.id, e.className, s.outlineStyle !== 'none' && s.outlineWidth !== '0px'];";
    let got = client.execute(script, vec![]).await.unwrap();
    let text = |n: usize| got[n].as_str().unwrap_or_default().to_string();
    (text(0), text(1), text(2), got[3].as_bool().unwrap_or(false))
}

/// Whether the keyboard focus is inside the element `tag`.
async fn focus_within(client: &Client, tag: &str) -> bool {
    let script = "return document.activeElement.closest(arguments[0]) !== null;";
    client.execute(script, vec![serde_json::json!(tag)]).await.unwrap().as_bool().unwrap_or(false)
}

async fn tab(client: &Client) -> (String, String, String, bool) {
    client.active_element().await.unwrap().send_keys(TAB).await.unwrap();
    focused(client).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_fit_a_phone_and_work_from_the_keyboard() {
    let w = tokio::task::spawn_blocking(world).await.unwrap();
    let base = format!("http://{}", w.addr);
    let driver = driver();
    let client = browser(&driver).await;
    let id = common::target_id(&w.app, ALPHA_AMBER);

    // The keyboard: the first Tab reaches the skip link, drawn focused;
    // following it lands in the content; from the top, Tab goes through
    // the main navigation to the page's first form field.
    sign_in(&client, &base, "analyst@hub.example").await;
    client.goto(&format!("{base}/lookup")).await.unwrap();
    let skip = tab(&client).await;
    assert_eq!((skip.0.as_str(), skip.2.as_str(), skip.3), ("a", "skip", true), "{skip:?}");
    let first_link = tab(&client).await;
    let in_nav = focus_within(&client, "nav").await;
    assert!(in_nav && first_link.3, "the second Tab is on the main navigation, drawn focused: {first_link:?}");
    let mut reached = None;
    for _ in 0..40 {
        let now = tab(&client).await;
        if now.1 == "one-q" {
            reached = Some(now);
            break;
        }
    }
    let field = reached.expect("Tab reaches the lookup's first field");
    assert!(field.3, "the field's focus is drawn: {field:?}");
    client.goto(&format!("{base}/lookup")).await.unwrap();
    tab(&client).await;
    client.active_element().await.unwrap().send_keys("\u{e007}").await.unwrap();
    let after_skip = tab(&client).await;
    let in_main = focus_within(&client, "main").await;
    assert!(in_main, "after the skip link, Tab goes on inside the content: {after_skip:?}");

    // A phone's width: no page scrolls sideways.
    client.set_window_size(390, 844).await.unwrap();
    let pages = [
        "/".to_string(),
        "/operations/op/targets".to_string(),
        format!("/targets/{id}"),
        "/indicators".to_string(),
        format!("/lookup?q={ALPHA_AMBER}"),
        "/imports".to_string(),
        "/submit".to_string(),
        "/admin/allowlist".to_string(),
        "/admin/contacts".to_string(),
        "/admin/collections".to_string(),
        "/admin/feeds".to_string(),
        "/operations/op/packages".to_string(),
        "/blocklists".to_string(),
    ];
    let mut wide = Vec::new();
    for path in &pages {
        client.goto(&format!("{base}{path}")).await.unwrap();
        let name = format!("phone{}", path.replace(['/', '?', '=', '.'], "-"));
        shoot(&client, &name).await;
        let sizes =
            client.execute("return [document.documentElement.scrollWidth, window.innerWidth];", vec![]).await.unwrap();
        let (scroll, inner) = (sizes[0].as_i64().unwrap_or(0), sizes[1].as_i64().unwrap_or(0));
        if scroll > inner {
            wide.push(format!("{path}: {scroll} > {inner}"));
        }
    }
    sign_out(&client).await;
    client.goto(&format!("{base}/login")).await.unwrap();
    let sizes =
        client.execute("return [document.documentElement.scrollWidth, window.innerWidth];", vec![]).await.unwrap();
    if sizes[0].as_i64() > sizes[1].as_i64() {
        wide.push(format!("/login: {sizes}"));
    }
    client.close().await.unwrap();
    assert!(wide.is_empty(), "pages wider than a phone: {wide:?}");
}
