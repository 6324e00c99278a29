//! IPsum (stamparm/ipsum): `IP<TAB>count` after a `#` comment block.
//!
//! The count is how many blocklists list the address. It becomes the record's
//! confidence as a corroboration hint: `min(100, 10 × count)`, so an address
//! on one list gets 10 and one on ten or more lists gets 100. A count that is
//! missing or not a number leaves the confidence unset, with a warning.

use std::io::BufRead;
use std::path::Path;

use cordon_model::Attributes;

use crate::emit::emit_value;
use crate::lines::for_each_line;
use crate::plain::strip_comment;
use crate::{Event, FormatError};

/// The confidence an IPsum count stands for: `min(100, 10 × count)`.
pub(crate) fn confidence_of_count(count: u32) -> u8 {
    count.saturating_mul(10).min(100) as u8
}

/// Parses an IPsum list.
pub(crate) fn parse(name: &Path, reader: &mut dyn BufRead, sink: &mut dyn FnMut(Event)) -> Result<(), FormatError> {
    for_each_line(name, reader, sink, &mut |line, text, sink| {
        let entry = strip_comment(text);
        let mut fields = entry.split_whitespace();
        let Some(value) = fields.next() else {
            return Ok(());
        };
        let confidence = match fields.next() {
            Some(count) => match count.parse::<u32>() {
                Ok(count) => Some(confidence_of_count(count)),
                Err(_) => {
                    let message = format!("list count '{count}' is not a number; no confidence set");
                    sink(Event::Warning { line, message });
                    None
                }
            },
            None => {
                sink(Event::Warning { line, message: "no list count; no confidence set".to_string() });
                None
            }
        };
        let attributes = Attributes { confidence, ..Attributes::default() };
        emit_value(line, value, attributes, &[], sink);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_to_confidence() {
        assert_eq!(confidence_of_count(0), 0);
        assert_eq!(confidence_of_count(1), 10);
        assert_eq!(confidence_of_count(10), 100);
        assert_eq!(confidence_of_count(u32::MAX), 100);
    }
}
