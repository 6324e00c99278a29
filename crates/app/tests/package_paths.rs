//! A package built under a relative output directory stays downloadable
//! from a process whose working directory is elsewhere (the server is
//! started from anywhere). Alone in its test binary: it changes the
//! process's working directory.

use cordon_app::intake::Input;
use cordon_app::operations::TargetSelection;
use cordon_app::{App, Config};
use cordon_ingest::IngestOptions;
use cordon_model::Tlp;
use cordon_ops::workflow::Actor;
use cordon_store::ops::TargetState;

#[test]
fn packages_written_under_a_relative_path_are_found_from_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(&Config::new(dir.path().join("cordon.db"))).unwrap();
    let hub = app.viewer(None).unwrap();
    let options = IngestOptions { source: "alpha".into(), tlp: Some(Tlp::Green), ..IngestOptions::default() };
    let feed = Input::Bytes { name: "feed.txt", bytes: b"45.9.20.31\n45.9.20.32\n" };
    app.ingest(&hub, feed, &options, None, &mut |_| {}).unwrap();
    let mut geo = cordon_enrich::Import::new();
    geo.add_csv("country.csv", b"45.0.0.0,45.255.255.255,RO\n");
    cordon_enrich::write_snapshot(&app.config().geo, &geo.finish().snapshot).unwrap();
    app.enrich(&hub, &mut |_, _| {}).unwrap();
    let operation = app.create_operation(&hub, "op", 0, 4_000_000_000, "").unwrap();
    let actor = Actor::new("t", 1, "");
    app.build_targets(&hub, &operation, &actor, false).unwrap();
    let all = app.targets(&hub, &TargetSelection::default()).unwrap();
    app.transition(&hub, &all, TargetState::Triaged, None, &actor).unwrap();

    std::env::set_current_dir(dir.path()).unwrap();
    let built = app.build_packages(&hub, &operation, None, "packages".as_ref(), &actor).unwrap();
    assert_eq!(built.packages.len(), 1, "{built:?}");
    let elsewhere = tempfile::tempdir().unwrap();
    std::env::set_current_dir(elsewhere.path()).unwrap();
    let mut csv = Vec::new();
    std::io::Read::read_to_end(&mut app.package_file(&hub, "op", "RO", "targets.csv").unwrap(), &mut csv).unwrap();
    assert!(String::from_utf8_lossy(&csv).contains("45.9.20.31"));
}
