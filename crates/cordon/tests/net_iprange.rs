//! `cordon net` against FireHOL's `iprange` on real (a slice of IPsum) and
//! generated IPv4 lists: merge, common, except, ranges and counts must be
//! identical line for line; diff must be the same set (see below). Fails, never skips, when `iprange` is
//! missing (install it with `scripts/install-peers.sh`).

use cordon_testkit::Rng;
use std::path::{Path, PathBuf};
use std::process::Command;

fn workdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cordon-net-iprange-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Addresses from the shared IPsum snapshot (real public data), or an
/// empty list when the snapshot is not there.
fn ipsum_slice(skip: usize, take: usize) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/ipsum.txt");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_whitespace().next())
        .skip(skip)
        .take(take)
        .map(str::to_string)
        .collect()
}

/// Random CIDRs and addresses clustered in a few /8s so that lists overlap.
fn generated(rng: &mut Rng, count: usize) -> Vec<String> {
    (0..count)
        .map(|_| {
            let r = rng.next_u64();
            let first = [10u32, 45, 77, 185, 192][(r % 5) as usize];
            let addr = (first << 24) | ((r >> 8) as u32 & 0x00ff_ffff);
            let len = match (r >> 40) % 6 {
                0 => 16 + ((r >> 48) % 8) as u32,
                1 | 2 => 24 + ((r >> 48) % 8) as u32,
                _ => 32,
            };
            let ip = std::net::Ipv4Addr::from(addr);
            if len == 32 {
                ip.to_string()
            } else {
                format!("{ip}/{len}")
            }
        })
        .collect()
}

fn write_list(dir: &Path, name: &str, lines: &[String]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n") + "\n").expect("write list");
    path.to_str().expect("utf-8 path").to_string()
}

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} must be installed (scripts/install-peers.sh): {e}"));
    // iprange --diff exits 1 when the sets differ.
    assert!(
        out.status.success() || (program == "iprange" && out.status.code() == Some(1)),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

fn cordon(args: &[&str]) -> String {
    run(env!("CARGO_BIN_EXE_cordon"), args)
}

fn assert_same(what: &str, ours: String, theirs: String) {
    assert!(!theirs.is_empty() || ours.is_empty(), "{what}: iprange printed nothing");
    if ours != theirs {
        let first_diff = ours
            .lines()
            .zip(theirs.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(ours.lines().count().min(theirs.lines().count()));
        panic!(
            "{what}: outputs differ at line {first_diff} (cordon {} lines, iprange {} lines)",
            ours.lines().count(),
            theirs.lines().count()
        );
    }
}

#[test]
fn net_matches_iprange() {
    let dir = workdir("ops");
    let mut rng = Rng::new(0x1b3c_5d7e_9f00_1234);
    let mut a_lines = ipsum_slice(0, 20_000);
    a_lines.extend(generated(&mut rng, 5_000));
    let mut b_lines = ipsum_slice(10_000, 20_000);
    b_lines.extend(generated(&mut rng, 5_000));
    let a = write_list(&dir, "a.txt", &a_lines);
    let b = write_list(&dir, "b.txt", &b_lines);

    assert_same("merge A", cordon(&["net", "merge", &a]), run("iprange", &[&a]));
    assert_same("merge A B", cordon(&["net", "merge", &a, &b]), run("iprange", &[&a, &b]));
    assert_same("merge --ranges", cordon(&["net", "merge", "--ranges", &a]), run("iprange", &["-j", &a]));
    assert_same("common", cordon(&["net", "common", &a, &b]), run("iprange", &["--common", &a, &b]));
    assert_same("except", cordon(&["net", "except", &a, &b]), run("iprange", &[&a, "--except", &b]));
    // `iprange --diff` does not coalesce a range of A\B with an adjacent one
    // of B\A; cordon prints the minimal list, so compare after re-merging.
    let theirs_diff = write_list(&dir, "diff.txt", &[run("iprange", &[&a, "--diff", &b])]);
    assert_same("diff", cordon(&["net", "diff", &a, &b]), run("iprange", &[&theirs_diff]));
    assert_same("count", cordon(&["net", "count", &a, &b]), run("iprange", &["-C", &a, &b]));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn edge_lists_match_iprange() {
    let dir = workdir("edges");
    let cases: [&[&str]; 4] = [
        &["0.0.0.0/0"],
        &["255.255.255.255", "255.255.255.254", "0.0.0.0", "0.0.0.1"],
        &["10.0.0.0/8", "10.1.2.3", "10.255.255.255/32", "11.0.0.0/8"],
        &["192.168.0.0/24", "192.168.1.0/24", "192.168.2.0/23", "192.168.4.1"],
    ];
    for (i, case) in cases.iter().enumerate() {
        let lines: Vec<String> = case.iter().map(|s| s.to_string()).collect();
        let file = write_list(&dir, &format!("case{i}.txt"), &lines);
        assert_same(&format!("merge case {i}"), cordon(&["net", "merge", &file]), run("iprange", &[&file]));
        let other = write_list(&dir, "other.txt", &["10.128.0.0/9".to_string(), "192.168.1.7".to_string()]);
        assert_same(
            &format!("except case {i}"),
            cordon(&["net", "except", &file, &other]),
            run("iprange", &[&file, "--except", &other]),
        );
        assert_same(
            &format!("common case {i}"),
            cordon(&["net", "common", &file, &other]),
            run("iprange", &["--common", &file, &other]),
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn count_json_and_ipv6() {
    let dir = workdir("json");
    let list = write_list(
        &dir,
        "mixed.txt",
        &["10.0.0.0/30".into(), "10.0.0.2".into(), "2001:db8::/126".into(), "::1".into()],
    );
    let json: serde_json::Value = serde_json::from_str(&cordon(&["net", "count", "--json", &list])).expect("json");
    assert_eq!(json["entries"], 4);
    assert_eq!(json["unique_v4"], 4);
    assert_eq!(json["unique_v6"], "5");
    assert_eq!(cordon(&["net", "merge", &list]), "10.0.0.0/30\n::1\n2001:db8::/126\n");
    let _ = std::fs::remove_dir_all(&dir);
}
