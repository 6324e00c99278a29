//! Streaming a JSON object whose last member is a long array (a STIX
//! bundle's `objects`, a MISP event's `Attribute`) without building it.

use std::io::Write;

use serde_json::{Map, Value};

use crate::Error;

/// An open JSON array, the last member of an object being written. Each
/// element goes on its own line.
pub(crate) struct JsonArray<'a> {
    out: &'a mut dyn Write,
    empty: bool,
}

impl<'a> JsonArray<'a> {
    /// Writes the members of `head`, then `"key":[`, leaving the object
    /// open for [`JsonArray::push`] and [`JsonArray::close`].
    pub(crate) fn open(out: &'a mut dyn Write, head: &Map<String, Value>, key: &str) -> Result<JsonArray<'a>, Error> {
        let mut bytes = serde_json::to_vec(head)?;
        // `bytes` is `{…}`: drop the closing brace and continue the object.
        bytes.pop();
        if !head.is_empty() {
            bytes.push(b',');
        }
        out.write_all(&bytes)?;
        serde_json::to_writer(&mut *out, key)?;
        out.write_all(b":[")?;
        Ok(JsonArray { out, empty: true })
    }

    /// Appends one element.
    pub(crate) fn push(&mut self, value: &Value) -> Result<(), Error> {
        self.out.write_all(if self.empty { b"\n" } else { b",\n" })?;
        serde_json::to_writer(&mut *self.out, value)?;
        self.empty = false;
        Ok(())
    }

    /// Closes the array and the object, and flushes the output.
    pub(crate) fn close(self) -> Result<(), Error> {
        self.out.write_all(b"\n]}")?;
        self.out.flush()?;
        Ok(())
    }
}
