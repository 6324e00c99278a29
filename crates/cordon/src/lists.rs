//! Reading IP lists given on the command line (`cordon net`, `cordon scan
//! --list`): any format `ingest` reads, detected the same way.
//!
//! Unlike ingest, nothing is skipped as a bogon here: a list is taken as it
//! is, the way iprange and grepcidr take theirs. Entries that are not IP
//! based (domains, URLs) are ignored; unreadable entries are reported on
//! stderr with file and line.

use std::io::Read;
use std::path::Path;

use anyhow::Context;
use cordon_formats::{Event, Format};
use cordon_model::Observable;
use ipnet::IpNet;

/// Reads every network (address, CIDR or range) from `path` (`-` is stdin).
pub(crate) fn read_networks(path: &str) -> anyhow::Result<Vec<IpNet>> {
    let mut out = Vec::new();
    let mut sink = |event: Event| match event {
        Event::Record(record) => match record.observable {
            Observable::Ip(ip) => out.push(IpNet::from(ip)),
            Observable::Net(net) => out.push(net),
            Observable::Domain(_) | Observable::Url(_) => {}
        },
        Event::Rejected { line, reason } => eprintln!("cordon: {path}:{line}: {reason}"),
        Event::Skipped { .. } | Event::Warning { .. } => {}
    };
    let options = cordon_formats::Options::default();
    if path == "-" {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes).context("cannot read standard input")?;
        let name = Path::new("-");
        let format = cordon_formats::detect_bytes(name, &bytes).unwrap_or(Format::Plain);
        cordon_formats::parse_reader(format, name, &mut bytes.as_slice(), &options, &mut sink)?;
    } else {
        let path_ref = Path::new(path);
        cordon_formats::parse(cordon_formats::detect(path_ref)?, path_ref, &options, &mut sink)?;
    }
    Ok(out)
}
