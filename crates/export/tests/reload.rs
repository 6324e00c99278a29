//! Firewall exports reloaded by the real `ipset` and `nft` (installed by
//! scripts/install-peers.sh), each run in a network namespace of its own
//! (`unshare -n`, so the tests never touch the host's sets and tables):
//! a daily reload keeps working as the list grows past the old `maxelem`,
//! and an nft script replaces its table.

use std::io::Write;
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};

use cordon_export::{write, Entry, Format};

use crate::fixture::{options, scanner};

/// `count` addresses that never aggregate (every other one), as entries.
fn spaced(count: u32) -> Vec<Entry> {
    let base = u32::from(Ipv4Addr::new(45, 0, 0, 0));
    (0..count).map(|i| scanner(&Ipv4Addr::from(base + 2 * i).to_string(), "test")).collect()
}

fn export(format: Format, entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    write(format, entries, &options(), &mut out).expect("the export succeeds");
    out
}

/// Runs `script` with `sh` in a new network namespace, the files given as
/// `$1`, `$2`, ...; returns its standard output, failing with its errors.
fn in_netns(script: &str, files: &[&[u8]]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["-n".to_string(), "sh".into(), "-ec".into(), script.into(), "sh".into()];
    for (i, content) in files.iter().enumerate() {
        let path = dir.path().join(format!("{i}.txt"));
        std::fs::File::create(&path).unwrap().write_all(content).unwrap();
        args.push(path.display().to_string());
    }
    let out = Command::new("unshare")
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .expect("unshare (util-linux) runs; ipset and nft come from scripts/install-peers.sh");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{script}: {text}{}", String::from_utf8_lossy(&out.stderr));
    text
}

#[test]
fn ipset_reloads_as_the_list_grows_past_the_old_maxelem() {
    let day1 = export(Format::Ipset, &spaced(10));
    let day2 = export(Format::Ipset, &spaced(70_000));
    let day3 = export(Format::Ipset, &spaced(3));
    let script = "ipset restore < \"$1\"; ipset list cordon-v4 -t | grep '^Number of entries';
                  ipset restore < \"$2\"; ipset list cordon-v4 -t | grep '^Number of entries';
                  ipset restore < \"$3\"; ipset list cordon-v4 -t | grep '^Number of entries';
                  ipset list -n | sort | tr '\\n' ' '";
    let out = in_netns(script, &[&day1, &day2, &day3]);
    assert_eq!(
        out, "Number of entries: 10\nNumber of entries: 70000\nNumber of entries: 3\ncordon-v4 cordon-v6 ",
        "the temporary sets are gone, the live ones hold each day's list"
    );
}

#[test]
fn nft_replaces_its_table_on_every_load() {
    let day1 = export(Format::Nft, &spaced(5));
    let day2 = export(Format::Nft, &spaced(2));
    let out = in_netns(
        "nft -f \"$1\"; nft -f \"$2\"; nft list set inet cordon blocked_v4 | grep -c '45\\.0\\.0\\.' || true; nft list tables",
        &[&day1, &day2],
    );
    let day2_text = String::from_utf8(day2).unwrap();
    assert!(day2_text.contains("45.0.0.2"), "{day2_text}");
    assert_eq!(out, "1\ntable inet cordon\n", "one table, day 2's elements only");
}
