//! Just enough RFC 5322 / MIME to write abuse reports: sanitized header
//! values, RFC 2047 encoded words, base64 bodies, multipart/mixed.
//!
//! Every header value that may carry feed or contact data goes through
//! [`header_value`], which removes CR, LF and every other control character,
//! so no value can start a header of its own. Text bodies go unencoded
//! (8bit, readable in the outbox) when they are clean UTF-8 with short lines,
//! anything else base64; the boundary holds a random UUID, so no body line
//! can be mistaken for it.

use std::fmt::Write;

/// A header value with control characters (CR and LF included) replaced by
/// spaces, and non-ASCII text as RFC 2047 encoded words.
pub fn header_value(raw: &str) -> String {
    let clean: String = raw.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let clean = clean.split_whitespace().collect::<Vec<_>>().join(" ");
    if clean.is_ascii() {
        return clean;
    }
    // Encoded words of at most 45 input bytes each, split at char boundaries.
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in clean.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(format!("=?UTF-8?B?{}?=", base64(chunk.as_bytes())));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(format!("=?UTF-8?B?{}?=", base64(chunk.as_bytes())));
    }
    words.join(" ")
}

/// Whether `address` is a plain `local@domain` address safe in a header.
pub fn valid_address(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    let allowed = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c);
    !local.is_empty()
        && domain.contains('.')
        && local.chars().all(allowed)
        && domain.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

/// `"Display Name" <address>`, the name sanitized and quoted.
pub fn mailbox(name: &str, address: &str) -> String {
    let name = header_value(name);
    if name.starts_with("=?") {
        return format!("{name} <{address}>");
    }
    format!("\"{}\" <{address}>", name.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// One MIME part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    /// Its media type, e.g. `text/plain; charset=utf-8`.
    pub content_type: String,
    /// The attachment's file name, `None` for an inline part.
    pub filename: Option<String>,
    /// Its content.
    pub body: Vec<u8>,
}

/// The body as text to send unencoded (8bit): UTF-8 without control
/// characters other than line ends and tabs, lines short enough for SMTP.
/// A body line cannot be taken for the boundary, which holds a random UUID
/// the data cannot know.
fn readable_text(body: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(body).ok()?;
    let clean = text.chars().all(|c| !c.is_control() || c == '\n' || c == '\t' || c == '\r');
    (clean && text.lines().all(|l| l.len() <= 900)).then_some(text)
}

/// A whole message: `headers` (name, raw value: sanitized here) then a
/// multipart/mixed body of `parts`, with CRLF line ends.
pub fn compose(headers: &[(&str, String)], boundary: &str, parts: &[Part]) -> String {
    let mut out = String::new();
    for (name, value) in headers {
        let _ = write!(out, "{name}: {}\r\n", header_value(value));
    }
    let _ = write!(out, "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n");
    out.push_str("This is a MIME message.\r\n");
    for part in parts {
        let _ = write!(out, "--{boundary}\r\nContent-Type: {}", part.content_type);
        match &part.filename {
            Some(name) => {
                let name = header_value(name).replace('"', "");
                let _ = write!(out, "; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"");
            }
            None => out.push_str("\r\nContent-Disposition: inline"),
        }
        match readable_text(&part.body) {
            Some(text) => {
                out.push_str("\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
                for line in text.lines() {
                    out.push_str(line);
                    out.push_str("\r\n");
                }
            }
            None => {
                out.push_str("\r\nContent-Transfer-Encoding: base64\r\n\r\n");
                let encoded = base64(&part.body);
                for line in encoded.as_bytes().chunks(76) {
                    out.push_str(&String::from_utf8_lossy(line));
                    out.push_str("\r\n");
                }
            }
        }
    }
    let _ = write!(out, "--{boundary}--\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_vectors() {
        for (raw, enc) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg==")] {
            assert_eq!(base64(raw.as_bytes()), enc);
        }
    }

    #[test]
    fn no_line_breaks_survive_in_headers() {
        assert_eq!(header_value("Evil\r\nBcc: x@y.z"), "Evil Bcc: x@y.z");
        assert!(!header_value("Bäckerei\nX: y").contains('\n'));
        assert_eq!(mailbox("A \"B\"", "a@b.c"), "\"A \\\"B\\\"\" <a@b.c>");
        assert!(!valid_address("a@b.c>\r\nBcc: d@e.f"));
        assert!(valid_address("abuse@example.net"));
    }
}
