//! Reading IP lists given on the command line (`cordon net`, `cordon scan
//! --list`): any format `ingest` reads, detected the same way.
//!
//! Unlike ingest, nothing is skipped as a bogon here: a list is taken as it
//! is, the way iprange and grepcidr take theirs. Entries that are not IP
//! based (domains, URLs) are ignored; unreadable entries are reported on
//! stderr with file and line.
//!
//! Plain lists, the common case and the one that can hold millions of
//! entries, take a fast path: [`plain_networks`] reads simple lines itself
//! and hands any other line to the same normalizer the plain-list parser
//! uses, so the result is the general path's.

use std::io::Read;
use std::path::Path;

use anyhow::Context;
use cordon_formats::{Event, Format};
use cordon_model::Observable;
use cordon_netset::parse_v4_net;
use ipnet::IpNet;

/// Reads every network (address, CIDR or range) from `path` (`-` is stdin).
pub(crate) fn read_networks(path: &str) -> anyhow::Result<Vec<IpNet>> {
    if path == "-" {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes).context("cannot read standard input")?;
        let format = cordon_formats::detect_bytes(Path::new(path), &bytes).unwrap_or(Format::Plain);
        return networks_in_bytes(path, format, &bytes);
    }
    let path_ref = Path::new(path);
    match cordon_formats::detect(path_ref)? {
        Format::Plain => {
            let bytes = std::fs::read(path_ref).with_context(|| format!("cannot read {path}"))?;
            networks_in_bytes(path, Format::Plain, &bytes)
        }
        format => {
            let mut out = Vec::new();
            cordon_formats::parse(format, path_ref, &cordon_formats::Options::default(), &mut sink(path, &mut out))?;
            Ok(out)
        }
    }
}

/// The networks of `bytes` in `format`, plain lists by the fast path.
fn networks_in_bytes(path: &str, format: Format, bytes: &[u8]) -> anyhow::Result<Vec<IpNet>> {
    if format == Format::Plain {
        if let Some(networks) = plain_networks(path, bytes) {
            return Ok(networks);
        }
    }
    let mut out = Vec::new();
    cordon_formats::parse_reader(
        format,
        Path::new(path),
        &mut &*bytes,
        &cordon_formats::Options::default(),
        &mut sink(path, &mut out),
    )?;
    Ok(out)
}

/// A parser sink collecting networks into `out` and reporting rejected
/// entries on stderr.
fn sink<'a>(path: &'a str, out: &'a mut Vec<IpNet>) -> impl FnMut(Event) + 'a {
    move |event| match event {
        Event::Record(record) => out.extend(network(record.observable)),
        Event::Rejected { line, reason } => eprintln!("cordon: {path}:{line}: {reason}"),
        Event::Skipped { .. } | Event::Warning { .. } => {}
    }
}

/// The networks of a plain list, or `None` when a line needs more than the
/// fast path knows (comments after a value, odd spacing, long lines, bytes
/// that are not UTF-8): the caller then parses the whole file the general way.
///
/// Fast path: blank lines and lines starting with `#` or `;` are comments;
/// `a.b.c.d` and `a.b.c.d/len` are read by [`parse_v4_net`]; any other line
/// without spaces or comment markers goes to [`cordon_model::normalize`],
/// exactly as the plain-list parser would send it.
fn plain_networks(path: &str, bytes: &[u8]) -> Option<Vec<IpNet>> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let mut out = Vec::with_capacity(bytes.len() / 14);
    for (index, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() || line.starts_with(b"#") || line.starts_with(b";") {
            continue;
        }
        if let Some(net) = parse_v4_net(line) {
            out.push(IpNet::V4(net));
            continue;
        }
        if line.len() > cordon_formats::MAX_LINE
            || line.iter().any(|&b| b.is_ascii_whitespace() || b == b'#' || b == b';')
        {
            return None;
        }
        match cordon_model::normalize(std::str::from_utf8(line).ok()?) {
            Ok(normalized) => out.extend(normalized.observables.into_iter().filter_map(network)),
            Err(rejection) => eprintln!("cordon: {path}:{}: {}", index + 1, rejection.0),
        }
    }
    Some(out)
}

/// The network of an IP-based observable.
fn network(observable: Observable) -> Option<IpNet> {
    match observable {
        Observable::Ip(ip) => Some(IpNet::from(ip)),
        Observable::Net(net) => Some(net),
        Observable::Domain(_) | Observable::Url(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path reads a plain list exactly as the plain-list parser
    /// does, and gives up on what it does not know.
    #[test]
    fn plain_fast_path_equals_the_general_parser() {
        let list = "\u{feff}# header\n; note\n\n198.51.7.1\r\n45.9.20.0/22\n45.9.20.77/24\n2001:67c:2e8::/48\n\
                    ::ffff:45.9.1.2\n45.9.3.1-45.9.3.6\n45.9.4.1:8080\n[.]bad\n999.1.1.1\nhxxp://45.9.5.5/x\n\
                    45[.]9[.]6[.]6\nexample.org\n01.2.3.4\n";
        let fast = plain_networks("list.txt", list.as_bytes()).expect("fast path applies");
        let mut general = Vec::new();
        cordon_formats::parse_reader(
            Format::Plain,
            Path::new("list.txt"),
            &mut list.as_bytes(),
            &cordon_formats::Options::default(),
            &mut sink("list.txt", &mut general),
        )
        .expect("parses");
        assert_eq!(fast, general);
        assert!(fast.len() >= 9, "{fast:?}");
        let needs_general: [&[u8]; 4] = [b"1.2.3.4 # tor exit\n", b" 1.2.3.4\n", b"1.2.3.4\t5\n", b"1.2.3.4\n\xff\n"];
        for bytes in needs_general {
            assert_eq!(plain_networks("list.txt", bytes), None, "{bytes:?}");
        }
    }
}
