//! Just enough RFC 5322 / MIME to write abuse reports: typed headers,
//! quoted and RFC 2047-encoded display names, base64 bodies,
//! multipart/mixed.
//!
//! Headers are built from types, never pasted from strings: a
//! [`HeaderValue`] is either unstructured text or a list of [`Mailbox`]es.
//! Every piece of it may carry feed or contact data, so:
//!
//! * control characters (CR and LF included) become spaces and whitespace
//!   runs one space ([`header_value`]), so no value can start a header of
//!   its own;
//! * a plain ASCII display name is always a quoted-string, with `"`, `\`
//!   and `?` escaped: commas, angle brackets, `;` and `:` in it are text,
//!   not address syntax, and no `=?` appears in the header, so a name that
//!   is itself an encoded word (`=?utf-8?q?=0D=0ABcc:_x@y?=`) is never
//!   decoded by a lenient reader;
//! * a display name that is not plain ASCII is RFC 2047 encoded words of
//!   the whole name (base64 of UTF-8), and so is unstructured text that is
//!   not plain ASCII or holds `=?`: what a reader decodes is exactly the
//!   sanitized text. Words are cut after a space where one is near, as
//!   readers differ on the space between two encoded words of a name
//!   (RFC 2047 drops it, CPython's `email` keeps it);
//! * an address must be a plain ASCII `local@domain` ([`valid_address`])
//!   that lettre's [`lettre::Address`] also accepts; anything else is
//!   refused, not repaired.
//!
//! Text bodies go unencoded (8bit, readable in the outbox) when they are
//! clean UTF-8 with short lines, anything else base64; the boundary holds a
//! random UUID, so no body line can be mistaken for it.

use std::fmt::Write;

/// Input bytes per encoded word: 45 bytes are 60 base64 characters, 72
/// with `=?UTF-8?B?` and `?=`, within RFC 2047's 75.
const ENCODED_WORD_BYTES: usize = 45;

/// A quoted display name is folded at a space once its line holds this
/// many characters.
const FOLD_AT: usize = 64;

/// `text` with control characters (CR and LF included) replaced by spaces,
/// whitespace runs collapsed to one space and the ends trimmed.
fn sanitized(text: &str) -> String {
    let clean: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    clean.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether sanitized `text` must be written as encoded words: non-ASCII,
/// or holding `=?`, which a reader could take for an encoded word.
fn needs_encoding(text: &str) -> bool {
    !text.is_ascii() || text.contains("=?")
}

/// `text` as RFC 2047 encoded words (UTF-8, base64), each of at most
/// [`ENCODED_WORD_BYTES`] input bytes, cut just after the chunk's last
/// space if it has one, else at a character boundary.
fn encoded_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut end = 0;
        for (at, c) in rest.char_indices() {
            if at + c.len_utf8() > ENCODED_WORD_BYTES {
                break;
            }
            end = at + c.len_utf8();
        }
        if end < rest.len() {
            if let Some(space) = rest[..end].rfind(' ').filter(|&space| space > 0) {
                end = space + 1;
            }
        }
        let (chunk, tail) = rest.split_at(end);
        words.push(format!("=?UTF-8?B?{}?=", base64(chunk.as_bytes())));
        rest = tail;
    }
    words
}

/// Sanitized ASCII `name` as a quoted-string (`"`, `\` and `?` escaped),
/// folded at spaces so that no line grows long.
fn quoted_name(name: &str) -> String {
    let mut out = String::from("\"");
    let mut line = 0usize;
    for c in name.chars() {
        if c == ' ' && line >= FOLD_AT {
            // Unfolding removes the CRLF only: the space stays.
            out.push_str("\r\n");
            line = 0;
        }
        if matches!(c, '"' | '\\' | '?') {
            out.push('\\');
            line += 1;
        }
        out.push(c);
        line += 1;
    }
    out.push('"');
    out
}

/// A header value with control characters (CR and LF included) replaced by
/// spaces, and text that is not plain ASCII or holds `=?` as RFC 2047
/// encoded words of the whole text, on one line.
pub fn header_value(raw: &str) -> String {
    let clean = sanitized(raw);
    if needs_encoding(&clean) {
        return encoded_words(&clean).join(" ");
    }
    clean
}

/// Whether `address` is a plain ASCII `local@domain` address safe in a
/// header: a dot-atom local part and a domain of at least two labels of
/// letters, digits and inner hyphens.
pub fn valid_address(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    let atom = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local.split('.').all(|part| !part.is_empty() && part.chars().all(atom));
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    let domain_ok = domain.len() <= 253 && domain.contains('.') && domain.split('.').all(label_ok);
    local_ok && domain_ok && address.len() <= 254
}

/// An address refused by [`Mailbox::new`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("'{}' is not a plain local@domain e-mail address", .0.escape_debug())]
pub struct InvalidAddress(pub String);

/// A display name and a validated address (RFC 5322 `name-addr`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mailbox {
    /// The display name, sanitized (may be empty).
    name: String,
    /// The address, valid by [`valid_address`] and [`lettre::Address`].
    address: lettre::Address,
}

impl Mailbox {
    /// A mailbox of any display name (sanitized: see the module docs) and an
    /// address that must be valid.
    pub fn new(name: &str, address: &str) -> Result<Mailbox, InvalidAddress> {
        let invalid = || InvalidAddress(address.to_string());
        if !valid_address(address) {
            return Err(invalid());
        }
        let address = address.parse::<lettre::Address>().map_err(|_| invalid())?;
        Ok(Mailbox { name: sanitized(name), address })
    }

    /// The display name as it will read once decoded.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The address.
    pub fn address(&self) -> &str {
        self.address.as_ref()
    }

    /// The mailbox as header text: `"Display Name" <address>`, the name as
    /// encoded words (folded between words) when it is not plain ASCII, or
    /// `<address>` alone.
    pub fn to_header(&self) -> String {
        let address = self.address();
        if self.name.is_empty() {
            return format!("<{address}>");
        }
        if !self.name.is_ascii() {
            return format!("{} <{address}>", encoded_words(&self.name).join("\r\n "));
        }
        format!("{} <{address}>", quoted_name(&self.name))
    }
}

/// A header's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeaderValue {
    /// Unstructured text (Subject, Date, …): sanitized and, where needed,
    /// encoded when written.
    Text(String),
    /// An address list (From, To, Cc, …).
    Mailboxes(Vec<Mailbox>),
}

impl HeaderValue {
    /// The value as written after `Name: `, folded with CRLF SP where it is
    /// long.
    fn render(&self) -> String {
        match self {
            HeaderValue::Text(text) => {
                let clean = sanitized(text);
                if needs_encoding(&clean) {
                    return encoded_words(&clean).join("\r\n ");
                }
                clean
            }
            HeaderValue::Mailboxes(list) => list.iter().map(Mailbox::to_header).collect::<Vec<_>>().join(",\r\n "),
        }
    }
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

/// A whole message: `headers` (a name, which is code's, and a typed value)
/// then a multipart/mixed body of `parts`, with CRLF line ends.
pub fn compose(headers: &[(&str, HeaderValue)], boundary: &str, parts: &[Part]) -> String {
    let mut out = String::new();
    for (name, value) in headers {
        let _ = write!(out, "{name}: {}\r\n", value.render());
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
        let mailbox = |name: &str, address: &str| Mailbox::new(name, address).map(|m| m.to_header());
        assert_eq!(mailbox("A \"B\"", "a@b.cc").unwrap(), "\"A \\\"B\\\"\" <a@b.cc>");
        assert_eq!(mailbox("", "a@b.cc").unwrap(), "<a@b.cc>");
        assert!(!valid_address("a@b.c>\r\nBcc: d@e.f"));
        assert!(valid_address("abuse@example.net"));
        for bad in
            ["a@b", "@b.c", "a@.b.c", "a..b@c.d", "a@b..c", "a@-b.c", "a b@c.d", "a@b.c\n", "\"a\"@b.c", "a@[1.2.3.4]"]
        {
            assert!(!valid_address(bad), "{bad}");
            assert!(Mailbox::new("x", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_that_look_like_encoded_words_are_encoded_whole() {
        let name = "=?utf-8?q?Abuse?= <leak@evil.example>, Real";
        let header = Mailbox::new(name, "abuse@host.example").unwrap().to_header();
        assert_eq!(header, r#""=\?utf-8\?q\?Abuse\?= <leak@evil.example>, Real" <abuse@host.example>"#);
        let header = Mailbox::new("Bäckerei Müller GmbH, Zweigstelle Nord", "a@b.example").unwrap().to_header();
        assert!(header.starts_with("=?UTF-8?B?") && header.ends_with("?= <a@b.example>"), "{header}");
        assert_eq!(encoded_words("aaaa bbbb").len(), 1);
        let words = encoded_words(&"wörter ".repeat(10));
        assert!(words.len() > 1 && words.iter().all(|w| w.len() <= 75), "{words:?}");
        assert_eq!(header_value("Bäckerei"), "=?UTF-8?B?QsOkY2tlcmVp?=");
        assert_eq!(header_value("=?x?="), "=?UTF-8?B?PT94Pz0=?=");
        assert_eq!(header_value("plain ascii"), "plain ascii");
    }
}
