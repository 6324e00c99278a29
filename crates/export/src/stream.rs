//! Writing an export one entry at a time, for the formats whose output
//! follows the entries' order: `plain`, `csv`, `jsonl` and `stix`. The
//! caller reads the store with a cursor and pushes each entry as it comes,
//! so an export of any size holds one entry at a time.

use std::io::Write;

use crate::stix::Bundle;
use crate::text::{csv_row, jsonl_line, CSV_HEADER};
use crate::{Entry, Error, Format, Options, Summary};

/// An export being written entry by entry (see [`Stream::open`]).
pub struct Stream<'a> {
    format: Format,
    writer: Writer<'a>,
    summary: Summary,
}

/// Where each format's entries go.
enum Writer<'a> {
    Plain(&'a mut dyn Write),
    Csv(Box<csv::Writer<&'a mut dyn Write>>),
    Jsonl(&'a mut dyn Write),
    Stix(Bundle<'a>),
}

impl<'a> Stream<'a> {
    /// Opens an export in `format`, writing its head to `out` (a STIX
    /// bundle writes the marking definitions of its entries' TLPs at
    /// [`Stream::finish`]).
    ///
    /// # Errors
    ///
    /// [`Error::NotStreamed`] for a format that sorts or groups (see
    /// [`Format::streams`]), or an I/O error from `out`.
    pub fn open(format: Format, options: &Options, out: &'a mut dyn Write) -> Result<Stream<'a>, Error> {
        let writer = match format {
            Format::Plain => Writer::Plain(out),
            Format::Csv => {
                let mut csv = csv::Writer::from_writer(out);
                csv.write_record(CSV_HEADER)?;
                Writer::Csv(Box::new(csv))
            }
            Format::Jsonl => Writer::Jsonl(out),
            Format::Stix => Writer::Stix(Bundle::open(out, options)?),
            _ => return Err(Error::NotStreamed(format)),
        };
        Ok(Stream { format, writer, summary: Summary::default() })
    }

    /// Writes `entry`, or counts it as skipped if the format cannot carry
    /// it.
    ///
    /// # Errors
    ///
    /// An I/O error from the output.
    pub fn push(&mut self, entry: &Entry) -> Result<(), Error> {
        if !self.format.carries(entry) {
            self.summary.skipped += 1;
            return Ok(());
        }
        *self.summary.exported.entry(entry.kind).or_insert(0) += 1;
        match &mut self.writer {
            Writer::Plain(out) => writeln!(out, "{}", entry.value)?,
            Writer::Csv(csv) => csv_row(csv, entry)?,
            Writer::Jsonl(out) => jsonl_line(*out, entry)?,
            Writer::Stix(bundle) => bundle.push(entry)?,
        }
        Ok(())
    }

    /// Closes the export, flushes the output and tells what went out.
    ///
    /// # Errors
    ///
    /// An I/O error from the output.
    pub fn finish(self) -> Result<Summary, Error> {
        match self.writer {
            Writer::Plain(out) | Writer::Jsonl(out) => out.flush()?,
            Writer::Csv(mut csv) => csv.flush()?,
            Writer::Stix(bundle) => bundle.close()?,
        }
        Ok(self.summary)
    }
}
