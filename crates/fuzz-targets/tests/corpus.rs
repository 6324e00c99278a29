//! Replays every committed corpus file through its fuzz target: a
//! regression run over `fuzz/corpus/<target>/` (seconds, no fuzzing), so an
//! input that once crashed a target keeps being tried. A target without a
//! corpus, or with an empty one, fails the test.

use std::path::Path;

use cordon_fuzz_targets::TARGETS;

#[test]
fn every_target_replays_its_corpus() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    for (name, target) in TARGETS {
        let dir = corpus.join(name);
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let mut files: Vec<_> =
            entries.filter_map(Result::ok).map(|entry| entry.path()).filter(|p| p.is_file()).collect();
        files.sort();
        assert!(!files.is_empty(), "{}: the corpus of {name} is empty", dir.display());
        for file in files {
            let data = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let outcome = std::panic::catch_unwind(|| target(&data));
            assert!(outcome.is_ok(), "{name} fails on {}", file.display());
        }
    }
}
