//! Reading IP lists given on the command line (`cordon net`, `cordon scan
//! --list`): any format `ingest` reads, detected the same way.
//!
//! Each input is opened and read once, front to back, so a pipe
//! (`<(cat list)`), a FIFO or stdin reads as the same file would; an input
//! that cannot be read or is in no known format is a [`ListError`], for
//! which the commands exit 2.
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

use std::fs::File;
use std::io::{BufReader, Cursor, Read};
use std::path::Path;

use cordon_formats::{Event, Format, FormatError, DETECT_LIMIT, MAX_LINE};
use cordon_model::Observable;
use cordon_netset::parse_v4_net;
use ipnet::IpNet;

/// Why a list could not be read at all (unreadable or unrecognised): the
/// commands that read lists exit 2 for it.
#[derive(Debug)]
pub(crate) enum ListError {
    /// Opening or reading failed.
    Io {
        /// The list as given.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not a list in a format cordon reads (the error names the input).
    Format(FormatError),
}

impl std::fmt::Display for ListError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ListError::Io { path, source } => write!(f, "cannot read {path}: {source}"),
            ListError::Format(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ListError {}

impl From<FormatError> for ListError {
    fn from(e: FormatError) -> Self {
        ListError::Format(e)
    }
}

/// Reads every network (address, CIDR or range) from `path` (`-` is stdin).
///
/// The input is opened and read once, front to back, whatever it is (a
/// file, a pipe such as `<(cat list)`, a FIFO, stdin): the format is
/// detected on its first [`DETECT_LIMIT`] bytes, which are then parsed with
/// the rest. Only a MISP feed directory is read by path.
pub(crate) fn read_networks(path: &str) -> Result<Vec<IpNet>, ListError> {
    let name = Path::new(path);
    let io = |source| ListError::Io { path: path.to_string(), source };
    if path != "-" && name.is_dir() {
        let format = cordon_formats::detect(name)?;
        let mut out = Vec::new();
        cordon_formats::parse(format, name, &cordon_formats::Options::default(), &mut sink(path, &mut out))?;
        return Ok(out);
    }
    let mut reader: Box<dyn Read> =
        if path == "-" { Box::new(std::io::stdin().lock()) } else { Box::new(File::open(name).map_err(io)?) };
    let mut head = Vec::with_capacity(DETECT_LIMIT);
    (&mut reader).take(DETECT_LIMIT as u64).read_to_end(&mut head).map_err(io)?;
    let format = cordon_formats::detect_bytes(name, &head)?;
    if format == Format::Plain {
        let mut bytes = head;
        reader.read_to_end(&mut bytes).map_err(io)?;
        return networks_in_bytes(path, Format::Plain, &bytes);
    }
    let mut out = Vec::new();
    let mut rest = BufReader::with_capacity(MAX_LINE, Cursor::new(head).chain(reader));
    cordon_formats::parse_reader(
        format,
        name,
        &mut rest,
        &cordon_formats::Options::default(),
        &mut sink(path, &mut out),
    )?;
    Ok(out)
}

/// The networks of `bytes` in `format`, plain lists by the fast path.
fn networks_in_bytes(path: &str, format: Format, bytes: &[u8]) -> Result<Vec<IpNet>, ListError> {
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
