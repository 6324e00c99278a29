//! CSV cells for people: spreadsheets run a cell that starts with `=`,
//! `+`, `-`, `@`, a tab or a carriage return as a formula
//! (`=HYPERLINK(…)`, `@SUM(…)|' /C calc'!A0`). Feed strings reach the
//! packages' `targets.csv` and the notifications' `evidence.csv`, so every
//! cell of those goes through [`cell`], which prefixes such a cell with a
//! single quote as OWASP recommends (the quote shows; the formula does not
//! run).

use std::borrow::Cow;

/// `text` made safe to open in a spreadsheet.
pub fn cell(text: &str) -> Cow<'_, str> {
    match text.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => Cow::Owned(format!("'{text}")),
        _ => Cow::Borrowed(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_the_rest_kept() {
        for hostile in ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(1)|' /C calc'!A0", "\tx", "\r=1"] {
            assert_eq!(cell(hostile), format!("'{hostile}"));
        }
        for plain in ["45.9.20.31", "http://evil.example/=x", "Emotet", "", "a=b"] {
            assert_eq!(cell(plain), plain);
        }
    }
}
