//! What left the hub, read back as recorded: packages per operation with
//! their target counts, notifications by the targets' announcing ASN.

use super::ops::{import, operation, spec};
use super::{fresh, Backend};

pub fn packages_and_notifications_are_read_as_recorded<B: Backend>() {
    let store = fresh::<B>();
    import(&*store, "a", "80.94.95.112", 1500);
    import(&*store, "a", "45.148.10.7", 1500);
    let op = operation(&*store);
    let mut other_net = spec("45.148.10.7", vec![2]);
    other_net.asn = Some(64501);
    let ids = store.upsert_targets(op.id, &[spec("80.94.95.112", vec![1]), other_net], 10).unwrap();
    let (first, second) = (ids[0].0, ids[1].0);
    assert!(store.packages(op.id).unwrap().is_empty());
    store.record_package(op.id, "NL", "/p/NL", "aa", &[first, second], 20).unwrap();
    store.record_package(op.id, "NL", "/p/NL", "bb", &[first], 30).unwrap();
    let packages = store.packages(op.id).unwrap();
    let seen: Vec<(&str, &str, i64, u64)> =
        packages.iter().map(|p| (p.country.as_str(), p.manifest_sha256.as_str(), p.created, p.targets)).collect();
    assert_eq!(seen, [("NL", "aa", 20, 2), ("NL", "bb", 30, 1)], "oldest first, each with its targets");
    assert!(store.packages(op.id + 1).unwrap().is_empty(), "another operation's are its own");

    store.record_notification(op.id, "abuse@a.example", "m1@hub", &[first, second], 40).unwrap();
    store.record_notification(op.id, "abuse@a.example", "m2@hub", &[first], 50).unwrap();
    let in_64500 = store.notifications(64500).unwrap();
    let seen: Vec<(i64, &str, i64)> = in_64500.iter().map(|n| (n.target_id, n.message_id.as_str(), n.time)).collect();
    assert_eq!(seen, [(first, "m1@hub", 40), (first, "m2@hub", 50)], "only the ASN's targets, oldest first");
    assert_eq!(store.notifications(64501).unwrap().len(), 1);
    assert!(store.notifications(64999).unwrap().is_empty());
}
