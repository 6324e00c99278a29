//! Inputs that are not regular files (issue 10, defects 1, 4 and 10):
//! `scan`, `ingest` and `--list` give the same answers whether an input is
//! a regular file, a pipe (`<(cat f)`), a named FIFO or standard input, and
//! streamed inputs keep memory flat whatever their size.

mod common;

use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::stdout;

/// How an input reaches `cordon`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Via {
    /// The path of a regular file.
    File,
    /// `<(cat FILE)`: a pipe, named `/dev/fd/N`.
    Pipe,
    /// A named FIFO a writer fills.
    Fifo,
    /// Standard input (a pipe from `cat FILE`), named `-`.
    Stdin,
    /// Standard input (a pipe), named `/dev/stdin`.
    DevStdin,
}

const ALL_WAYS: [Via; 5] = [Via::File, Via::Pipe, Via::Fifo, Via::Stdin, Via::DevStdin];

/// A child must be done within this long, so a hang fails the test.
const DEADLINE: Duration = Duration::from_secs(60);

struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let path = std::env::temp_dir().join(format!("cordon-streams-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).expect("temp dir");
        Dir(path)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn cordon_exe() -> &'static str {
    env!("CARGO_BIN_EXE_cordon")
}

/// Single-quoted for bash.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Waits for `child`, killing it and failing the test after [`DEADLINE`].
fn finish(mut child: Child, what: &str) -> Output {
    let start = Instant::now();
    loop {
        match child.try_wait().expect("wait") {
            Some(_) => return child.wait_with_output().expect("output"),
            None if start.elapsed() > DEADLINE => {
                // The children run in their own process group (see
                // `peak_rss`): end the whole group, not just `time`.
                let _ = Command::new("kill").arg("-KILL").arg("--").arg(format!("-{}", child.id())).status();
                let _ = child.kill();
                let _ = child.wait();
                panic!("{what}: still running after {DEADLINE:?} (hangs)");
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// Runs `cordon --db DB ARGS...` where the argument `"{}"` stands for
/// `input` delivered `via`; returns its output.
fn run_via(dir: &Dir, db: &Path, args: &[&str], input: &Path, via: Via) -> Output {
    let what = format!("cordon {args:?} via {via:?}");
    let input_text = input.to_str().expect("utf-8 path");
    let fifo = dir.join(&format!("fifo-{}", std::process::id()));
    let name = match via {
        Via::File => input_text.to_string(),
        Via::Pipe => "<(cat ".to_string() + &quoted(input_text) + ")",
        Via::Fifo => {
            let _ = std::fs::remove_file(&fifo);
            let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
            assert!(made.success(), "mkfifo failed");
            fifo.to_str().expect("utf-8").to_string()
        }
        Via::Stdin => "-".to_string(),
        Via::DevStdin => "/dev/stdin".to_string(),
    };
    let mut command = if via == Via::Pipe {
        let mut line = format!("exec {} --db {}", quoted(cordon_exe()), quoted(db.to_str().expect("utf-8")));
        for arg in args {
            line.push(' ');
            line.push_str(&if *arg == "{}" { name.clone() } else { quoted(arg) });
        }
        let mut command = Command::new("bash");
        command.arg("-c").arg(line);
        command
    } else {
        let mut command = Command::new(cordon_exe());
        command.arg("--db").arg(db);
        command.args(args.iter().map(|a| if *a == "{}" { name.as_str() } else { a }));
        command
    };
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut feeder = None;
    if matches!(via, Via::Stdin | Via::DevStdin) {
        let mut cat = Command::new("cat").arg(input).stdout(Stdio::piped()).spawn().expect("cat runs");
        command.stdin(Stdio::from(cat.stdout.take().expect("cat's stdout")));
        feeder = Some(cat);
    } else {
        command.stdin(Stdio::null());
    }
    let child = command.spawn().expect("cordon runs");
    if via == Via::Fifo {
        let (fifo, input) = (fifo.clone(), input.to_path_buf());
        // Opening a FIFO for writing waits for its reader.
        std::thread::spawn(move || {
            if let Ok(mut writer) = File::options().write(true).open(&fifo) {
                let _ = writer.write_all(&std::fs::read(&input).unwrap_or_default());
            }
        });
    }
    let out = finish(child, &what);
    if let Some(mut cat) = feeder {
        let _ = cat.wait();
    }
    if via == Via::Fifo {
        let _ = std::fs::remove_file(&fifo);
    }
    out
}

/// 300 log lines, 200 of them with an address of the list.
fn write_data(dir: &Dir) -> (PathBuf, PathBuf, PathBuf) {
    let mut log = String::new();
    for i in 0..300 {
        log.push_str(&format!("2024-05-01T10:00:{:02}Z GET /x from 45.9.20.{}:443 ok\n", i % 60, i % 150));
    }
    let mut list = String::from("# test list\n");
    for i in 0..100 {
        list.push_str(&format!("45.9.20.{i}\n"));
    }
    // An IPsum list: detected from its content and read by the general
    // parser, not the plain fast path.
    let mut ipsum = String::from("# IPsum Threat Intelligence Feed\n");
    for i in 0..100 {
        ipsum.push_str(&format!("45.9.20.{i}\t3\n"));
    }
    let paths = (dir.join("access.log"), dir.join("list.txt"), dir.join("ipsum.txt"));
    std::fs::write(&paths.0, log).expect("write log");
    std::fs::write(&paths.1, list).expect("write list");
    std::fs::write(&paths.2, ipsum).expect("write ipsum");
    paths
}

/// Regression (issue 10, defect 1): a log read through a pipe, a FIFO or
/// stdin counted 0 matching lines, and printed none.
#[test]
fn scan_answers_alike_from_a_file_a_pipe_a_fifo_and_stdin() {
    let dir = Dir::new("scan");
    let (log, list, _) = write_data(&dir);
    let db = dir.join("unused.db");
    let list = list.to_str().expect("utf-8");
    let regular = run_via(&dir, &db, &["scan", "--list", list, "{}"], &log, Via::File);
    assert!(regular.status.success(), "{regular:?}");
    assert_eq!(stdout(&regular).lines().count(), 200);
    for via in ALL_WAYS {
        let count = run_via(&dir, &db, &["scan", "--count", "--list", list, "{}"], &log, via);
        assert_eq!((stdout(&count).trim(), count.status.code()), ("200", Some(0)), "--count via {via:?}: {count:?}");
        let printed = run_via(&dir, &db, &["scan", "--list", list, "{}"], &log, via);
        assert_eq!(stdout(&printed), stdout(&regular), "printed lines via {via:?}");
        let json = run_via(&dir, &db, &["scan", "--json", "--list", list, "{}"], &log, via);
        assert_eq!(stdout(&json).lines().count(), 200, "--json via {via:?}");
    }
}

/// Regression (issue 10, defect 1): `--list <(cat list)` matched nothing,
/// and a list in a FIFO hung (it was opened once to detect, once to read).
#[test]
fn lists_read_alike_from_a_file_a_pipe_a_fifo_and_stdin() {
    let dir = Dir::new("list");
    let (log, list, ipsum) = write_data(&dir);
    let db = dir.join("unused.db");
    let log = log.to_str().expect("utf-8");
    for list in [&list, &ipsum] {
        for via in ALL_WAYS {
            let count = run_via(&dir, &db, &["scan", "--count", "--list", "{}", log], list, via);
            assert_eq!(
                (stdout(&count).trim(), count.status.code()),
                ("200", Some(0)),
                "{list:?} via {via:?}: {count:?}"
            );
            let merged = run_via(&dir, &db, &["net", "merge", "{}"], list, via);
            assert_eq!(stdout(&merged), "45.9.20.0/26\n45.9.20.64/27\n45.9.20.96/30\n", "{list:?} via {via:?}");
        }
    }
}

/// The indicators of a store, one line each.
fn indicators(db: &Path) -> Vec<String> {
    let out = common::cordon(db, &["indicators", "--json"]);
    assert!(out.status.success(), "{out:?}");
    stdout(&out)
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).expect("JSON line");
            format!("{} {}", value["value"], value["kind"])
        })
        .collect()
}

/// Regression (issue 10, defect 1): `cordon ingest <(printf …)` recorded an
/// empty import and exited 0; a FIFO hung (opened to detect, hash, parse).
#[test]
fn ingest_reads_alike_from_a_file_a_pipe_a_fifo_and_stdin() {
    let dir = Dir::new("ingest");
    let (_, list, ipsum) = write_data(&dir);
    let feed = dir.join("feed.txt");
    let lines = "45.9.20.31\nhxxp://evil-c2[.]xyz/gate.php\n10.0.0.1\n45.9.21.0/24\nevil-c2.example.net\n\
                 2a01:4f8::7\n80.94.95.112\n999.1.1.1\n";
    std::fs::write(&feed, lines).expect("write feed");
    for input in [&feed, &list, &ipsum] {
        let mut answers = Vec::new();
        for via in ALL_WAYS {
            let db = dir.join(&format!("{via:?}.db"));
            let out = run_via(&dir, &db, &["ingest", "--json", "--source", "t", "{}"], input, via);
            assert_eq!(out.status.code(), Some(0), "{input:?} via {via:?}: {out:?}");
            let report: serde_json::Value = serde_json::from_str(stdout(&out).trim()).expect("JSON");
            let file = &report["files"][0];
            let counts: Vec<String> = ["format", "read", "accepted", "new", "rejected", "skipped"]
                .iter()
                .map(|key| file[key].to_string())
                .collect();
            answers.push((counts, file["errors"].clone(), indicators(&db)));
            let _ = std::fs::remove_file(&db);
        }
        let (counts, _, stored) = &answers[0];
        assert_ne!(counts[2], "0", "{input:?}: something is accepted: {counts:?}");
        assert!(!stored.is_empty());
        for (via, answer) in ALL_WAYS.iter().zip(&answers) {
            assert_eq!(answer, &answers[0], "{input:?} via {via:?}");
        }
    }
}

/// The scanner's stream line cap is the parsers' line cap.
#[test]
fn the_stream_line_cap_is_the_parsers_line_cap() {
    assert_eq!(cordon_scan::MAX_STREAM_LINE, cordon_formats::MAX_LINE);
}

/// Runs `cordon ARGS` under GNU time with `stdin`; returns the output and
/// the peak resident set size in KiB.
fn peak_rss(args: &[&str], stdin: Stdio, dir: &Dir) -> (Output, u64) {
    let time = Path::new("/usr/bin/time");
    assert!(time.exists(), "GNU time is missing: run scripts/install-peers.sh");
    let report = dir.join("rss.txt");
    let child = Command::new(time)
        .process_group(0)
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&report)
        .arg(cordon_exe())
        .args(args)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("time runs");
    let out = finish(child, &format!("cordon {args:?}"));
    let text = std::fs::read_to_string(&report).expect("time's report");
    let kib = text.lines().last().and_then(|l| l.trim().parse().ok()).unwrap_or_else(|| panic!("no RSS in {text:?}"));
    (out, kib)
}

/// 1 GiB of zero bytes, no newline, gzipped (about 1 MiB).
fn gigabyte_of_zeros_gz(path: &Path) {
    let file = File::create(path).expect("create");
    let mut encoder = flate2::write::GzEncoder::new(std::io::BufWriter::new(file), flate2::Compression::fast());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..1024 {
        encoder.write_all(&zeros).expect("compress");
    }
    encoder.finish().expect("finish").flush().expect("flush");
}

/// Peak memory allowed for a streamed input of any size.
const MAX_RSS_KIB: u64 = 100 * 1024;

/// Regression (issue 10, defect 4): a `.gz` or stdin log without newlines
/// grew one buffer without limit (1 GiB of zeros: 1 GB RSS).
#[test]
fn scanning_a_gigabyte_without_newlines_keeps_memory_flat() {
    let dir = Dir::new("scan-rss");
    let gz = dir.join("zeros.gz");
    gigabyte_of_zeros_gz(&gz);
    let list = dir.join("list.txt");
    std::fs::write(&list, "45.9.20.1\n").expect("write list");
    let db = dir.join("unused.db");
    let (db, list, gz) = (db.to_str().expect("utf-8"), list.to_str().expect("utf-8"), gz.to_str().expect("utf-8"));
    let (out, kib) = peak_rss(&["--db", db, "scan", "--count", "--list", list, gz], Stdio::null(), &dir);
    assert_eq!(stdout(&out).trim(), "0", "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(":1: line longer than 64 KiB, not scanned"), "{stderr}");
    assert!(kib < MAX_RSS_KIB, "scan of a .gz: peak RSS {kib} KiB");
    // The same through standard input, decompressed by a child.
    let mut zcat = Command::new("gzip").arg("-dc").arg(gz).stdout(Stdio::piped()).spawn().expect("gzip runs");
    let stdin = Stdio::from(zcat.stdout.take().expect("gzip's stdout"));
    let (out, kib) = peak_rss(&["--db", db, "scan", "--count", "--list", list, "-"], stdin, &dir);
    let _ = zcat.wait();
    assert_eq!(stdout(&out).trim(), "0", "{out:?}");
    assert!(kib < MAX_RSS_KIB, "scan of stdin: peak RSS {kib} KiB");
}

/// Regression (issue 10, defect 4): `cordon ingest -` read all of standard
/// input into memory. A gigabyte without newlines, declared plain, is
/// refused after 16 MiB (defect 10: it was hashed for ever), and memory
/// stays flat; undeclared, it is unrecognised at once.
#[test]
fn ingesting_a_gigabyte_from_stdin_keeps_memory_flat() {
    let dir = Dir::new("ingest-rss");
    let gz = dir.join("zeros.gz");
    gigabyte_of_zeros_gz(&gz);
    let db = dir.join("store.db");
    let db = db.to_str().expect("utf-8");
    for format in [&["--format", "plain"][..], &[][..]] {
        let mut zcat = Command::new("gzip").arg("-dc").arg(&gz).stdout(Stdio::piped()).spawn().expect("gzip runs");
        let stdin = Stdio::from(zcat.stdout.take().expect("gzip's stdout"));
        let mut args = vec!["--db", db, "ingest", "--source", "t", "-"];
        args.extend_from_slice(format);
        let start = Instant::now();
        let (out, kib) = peak_rss(&args, stdin, &dir);
        let _ = zcat.kill();
        let _ = zcat.wait();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{format:?}: {stderr}");
        assert!(stderr.contains("-: "), "{stderr}");
        if !format.is_empty() {
            assert!(stderr.contains("16 MiB without a line end"), "{stderr}");
        }
        assert!(start.elapsed() < Duration::from_secs(20), "took {:?}", start.elapsed());
        assert!(kib < MAX_RSS_KIB, "ingest {format:?} of stdin: peak RSS {kib} KiB");
    }
    assert!(indicators(Path::new(db)).is_empty());
}

/// Lines of the large feed: more than the 8 MiB a spool keeps in memory.
const LARGE_FEED_LINES: u32 = 800_000;

/// A feed through stdin larger than the 8 MiB a spool keeps in memory is
/// stored whole (its copy spills to a temporary file), with the same
/// answer and about the same peak memory as the same feed given as a file
/// (the store's own memory grows with the rows, so the bound is relative).
#[test]
fn a_feed_larger_than_the_in_memory_spool_is_ingested_whole() {
    let dir = Dir::new("ingest-large");
    let feed = dir.join("feed.txt");
    let mut text = String::new();
    for i in 0..LARGE_FEED_LINES {
        let [_, b, c, d] = (0x2d00_0000 + i).to_be_bytes();
        text.push_str(&format!("45.{b}.{c}.{d}\n"));
    }
    std::fs::write(&feed, &text).expect("write feed");
    assert!(text.len() > 8 << 20);
    let mut peaks = Vec::new();
    for from_stdin in [false, true] {
        let db = dir.join(&format!("store-{from_stdin}.db"));
        let db_text = db.to_str().expect("utf-8");
        let feed_text = feed.to_str().expect("utf-8");
        let (out, kib) = if from_stdin {
            let mut cat = Command::new("cat").arg(&feed).stdout(Stdio::piped()).spawn().expect("cat runs");
            let stdin = Stdio::from(cat.stdout.take().expect("cat's stdout"));
            let measured = peak_rss(&["--db", db_text, "ingest", "--json", "--source", "t", "-"], stdin, &dir);
            let _ = cat.wait();
            measured
        } else {
            peak_rss(&["--db", db_text, "ingest", "--json", "--source", "t", feed_text], Stdio::null(), &dir)
        };
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let report: serde_json::Value = serde_json::from_str(stdout(&out).trim()).expect("JSON");
        assert_eq!(report["files"][0]["accepted"], LARGE_FEED_LINES, "{report}");
        assert_eq!(report["files"][0]["new"], LARGE_FEED_LINES, "{report}");
        peaks.push(kib);
    }
    assert!(peaks[1] < peaks[0] + 16 * 1024, "peak RSS from a file {} KiB, from stdin {} KiB", peaks[0], peaks[1]);
}

/// Regression (issue 10, defect 10): unreadable or unrecognised `--list` and
/// `net` inputs exited 1 (the README says 2), and printed the cause twice.
#[test]
fn unreadable_or_unrecognised_lists_exit_2() {
    let dir = Dir::new("exit");
    let (log, _, _) = write_data(&dir);
    let binary = dir.join("binary.bin");
    std::fs::write(&binary, b"\x00\x01\x02 not a list \x00").expect("write");
    let missing = dir.join("missing.txt");
    let db = dir.join("unused.db");
    let log = log.to_str().expect("utf-8");
    for list in [&binary, &missing] {
        let list = list.to_str().expect("utf-8");
        for args in
            [&["scan", "--count", "--list", list, log][..], &["net", "merge", list][..], &["net", "count", list][..]]
        {
            let out = common::cordon(&db, args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
            assert_eq!(stderr.lines().count(), 1, "{args:?}: one message: {stderr}");
            assert!(stderr.contains(list), "{stderr}");
            if list.ends_with("missing.txt") {
                assert_eq!(stderr.matches("No such file or directory").count(), 1, "{stderr}");
            }
        }
    }
}

/// Regression (issue 10, defect 10): `ingest DIR --format plain` said "No
/// such file or directory"; `ingest --format plain /dev/zero` never ended.
#[test]
fn ingest_says_what_is_wrong_with_a_directory_or_an_endless_device() {
    let dir = Dir::new("ingest-dir");
    let feed_dir = dir.join("feeds");
    std::fs::create_dir_all(&feed_dir).expect("mkdir");
    let db = dir.join("store.db");
    let feed_dir = feed_dir.to_str().expect("utf-8");
    for args in
        [&["ingest", "--source", "t", "--format", "plain", feed_dir][..], &["ingest", "--source", "t", feed_dir][..]]
    {
        let out = common::cordon(&db, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("is a directory") && stderr.contains("only MISP feed directories"), "{stderr}");
        assert!(!stderr.contains("No such file"), "{stderr}");
    }
    let mut child = Command::new(cordon_exe())
        .arg("--db")
        .arg(&db)
        .args(["ingest", "--source", "t", "--format", "plain", "/dev/zero"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cordon runs");
    let start = Instant::now();
    while child.try_wait().expect("wait").is_none() && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
    }
    if child.try_wait().expect("wait").is_none() {
        let _ = child.kill();
        let _ = child.wait();
        panic!("ingest of /dev/zero still running after 20 s");
    }
    let mut stderr = String::new();
    child.stderr.take().expect("stderr").read_to_string(&mut stderr).expect("read");
    assert_eq!(child.wait().expect("status").code(), Some(2), "{stderr}");
    assert!(stderr.contains("/dev/zero: not a valid plain file: 16 MiB without a line end"), "{stderr}");
}
