//! Routing a [`Format`] to its parser.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use crate::json::layout;
use crate::lines::MAX_LINE;
use crate::{
    delimited, feodo, intelmq, ipsum, misp, phishtank, plain, spamhaus, stix, threatfox, urlhaus, Event, Format,
    FormatError, Options,
};

/// Parses the file or MISP feed directory at `path`.
pub(crate) fn parse_path(
    format: Format,
    path: &Path,
    options: &Options,
    sink: &mut dyn FnMut(Event),
) -> Result<(), FormatError> {
    if format == Format::MispFeed {
        return misp::parse_feed_dir(path, sink);
    }
    let file = File::open(path).map_err(|source| FormatError::Io { path: path.to_path_buf(), source })?;
    let mut reader = BufReader::with_capacity(MAX_LINE, file);
    parse_reader(format, path, &mut reader, options, sink)
}

/// Parses `reader` as `format`.
pub(crate) fn parse_reader(
    format: Format,
    name: &Path,
    reader: &mut dyn BufRead,
    options: &Options,
    sink: &mut dyn FnMut(Event),
) -> Result<(), FormatError> {
    match format {
        Format::Plain => plain::parse(name, reader, sink),
        Format::Openphish => plain::parse_openphish(name, reader, sink),
        Format::Ipsum => ipsum::parse(name, reader, sink),
        Format::SpamhausDrop => spamhaus::parse_text(name, reader, sink),
        Format::SpamhausDropJson => spamhaus::parse_json(name, reader, sink),
        Format::SpamhausAsnDrop => spamhaus::parse_asndrop(name, reader, sink),
        Format::FeodoCsv => feodo::parse_csv(name, reader, sink),
        Format::FeodoJson => feodo::parse_json(name, reader, sink),
        Format::UrlhausCsv => urlhaus::parse_csv(name, reader, sink),
        Format::UrlhausJson => urlhaus::parse_json(name, reader, sink),
        Format::ThreatfoxCsv => threatfox::parse_csv(name, reader, sink),
        Format::ThreatfoxJson => threatfox::parse_json(name, reader, sink),
        Format::PhishtankJson => phishtank::parse(name, reader, sink),
        Format::Intelmq => intelmq::parse(name, reader, sink),
        Format::Csv => delimited::parse(name, reader, options, sink),
        Format::Stix => stix::parse(name, reader, sink),
        Format::Misp => misp::parse_event(name, reader, sink),
        Format::MispFeed => Err(layout(name, format, "a MISP feed is a directory: give its path, not a stream")),
    }
}
