//! An operation's targets walked as the store reads them
//! (`App::each_target_view`): across many store pages, every target once,
//! in id order, what `target_page` shows page by page.

use cordon_app::intake::Input;
use cordon_app::operations::{TargetSelection, VIEW_PAGE};
use cordon_app::{App, Config};
use cordon_ingest::IngestOptions;
use cordon_model::Tlp;
use cordon_ops::workflow::Actor;
use cordon_store::ops::TargetPage;

#[test]
fn every_target_comes_once_in_id_order_across_store_pages() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(&Config::new(dir.path().join("cordon.db"))).unwrap();
    let hub = app.viewer(None).unwrap();
    let wanted = 2 * VIEW_PAGE + 7;
    let feed: String = (0..wanted).map(|i| format!("45.9.{}.{}\n", i / 250, 1 + i % 250)).collect();
    let options = IngestOptions { source: "alpha".into(), tlp: Some(Tlp::Green), ..IngestOptions::default() };
    app.ingest(&hub, Input::Bytes { name: "feed.txt", bytes: feed.as_bytes() }, &options, None, &mut |_| {}).unwrap();
    let operation = app.create_operation(&hub, "op", 0, 4_000_000_000, "").unwrap();
    app.build_targets(&hub, &operation, &Actor::new("t", 1, ""), false).unwrap();

    let selection = TargetSelection { operation: Some("op".into()), ..TargetSelection::default() };
    let mut walked = Vec::new();
    app.each_target_view(&hub, &selection, &mut |view| {
        walked.push(view.id);
        Ok(())
    })
    .unwrap();
    assert_eq!(walked.len(), wanted, "every target");
    assert!(walked.windows(2).all(|w| w[0] < w[1]), "once each, in id order");
    let page = TargetPage { limit: wanted + 1, ..TargetPage::default() };
    let paged: Vec<i64> = app.target_page(&hub, &selection, &page).unwrap().targets.iter().map(|t| t.id).collect();
    assert_eq!(walked, paged);

    // The caller's error ends the walk with it.
    let mut seen = 0;
    let stopped = app.each_target_view(&hub, &selection, &mut |_| {
        seen += 1;
        if seen == 3 {
            return Err(cordon_app::AppError::Storage("the client left".into()));
        }
        Ok(())
    });
    assert!(stopped.is_err() && seen == 3, "{stopped:?} after {seen}");
}
