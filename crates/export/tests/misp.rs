//! PyMISP loads every event of the feed.

use std::process::Command;

use cordon_export::write_misp_feed;

use crate::fixture::{entries, options};

#[test]
fn pymisp_loads_every_event() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    write_misp_feed(&entries(), &options(), dir.path()).expect("the feed is written");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("manifest.json")).expect("manifest.json"))
            .expect("the manifest is JSON");
    let events = manifest.as_object().expect("the manifest is an object");
    assert_eq!(events.len(), 5, "one event per category in use");
    let hashes = std::fs::read_to_string(dir.path().join("hashes.csv")).expect("hashes.csv");
    let mut attributes = 0;
    for uuid in events.keys() {
        let path = dir.path().join(format!("{uuid}.json"));
        let script = "import sys, pymisp\ne = pymisp.MISPEvent()\ne.load_file(sys.argv[1])\n\
                      assert e.uuid == sys.argv[2], e.uuid\n\
                      print(len(e.attributes), ' '.join(sorted({t.name for t in e.tags})))";
        let out = Command::new("python3")
            .args(["-c", script])
            .arg(&path)
            .arg(uuid)
            .output()
            .unwrap_or_else(|e| panic!("python3 must be installed for this test ({e})"));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "PyMISP cannot load {}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let count: usize = stdout.split_whitespace().next().and_then(|n| n.parse().ok()).expect("a count");
        assert!(stdout.contains("tlp:"), "{stdout}");
        assert_eq!(count, hashes.lines().filter(|l| l.ends_with(uuid.as_str())).count());
        attributes += count;
    }
    assert_eq!(attributes, hashes.lines().count());
}
