//! The `next` cursor: a keyset position (date added, object id) sealed
//! with HMAC-SHA-256 under the server's secret and bound to the query that
//! produced it ([`crate::query::Query::binding`]: the caller, the
//! collection and endpoint, every filter).
//!
//! A position rather than an offset: a page starts strictly after the last
//! object of the previous one in (date added, id) order, so objects that
//! share a timestamp are neither lost nor repeated, and objects added
//! meanwhile (later dates) come on later pages. The server keeps nothing
//! per cursor; the standard's security considerations ask that a `next`
//! be re-evaluated in the context of the request that presents it, and a
//! cursor opened under another binding is refused.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::Micros;

/// Where a page ends: the last object's date added and id.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    /// When the object (version) was added.
    pub date_added: Micros,
    /// The object's id.
    pub id: String,
}

/// The server's secret for sealing cursors.
#[derive(Clone)]
pub struct CursorKey {
    secret: [u8; 32],
}

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey(..)")
    }
}

/// Why a cursor was refused: it was not sealed by this server for this
/// query and caller (a server answers 400 without saying which).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("next: not a cursor this server gave for this query")]
pub struct CursorError;

/// The bytes of the MAC kept in a cursor (128 bits).
const TAG_BYTES: usize = 16;

impl CursorKey {
    /// A key of `secret` (32 random bytes, drawn when the server starts).
    pub fn new(secret: [u8; 32]) -> CursorKey {
        CursorKey { secret }
    }

    fn tag(&self, binding: &str, payload: &[u8]) -> [u8; TAG_BYTES] {
        // A key of any length is accepted by HMAC; this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret).unwrap_or_else(|_| unreachable!());
        mac.update(&(binding.len() as u64).to_be_bytes());
        mac.update(binding.as_bytes());
        mac.update(payload);
        let full = mac.finalize().into_bytes();
        let mut tag = [0; TAG_BYTES];
        tag.copy_from_slice(&full[..TAG_BYTES]);
        tag
    }

    /// The cursor of `position` for a query of `binding`.
    pub fn seal(&self, binding: &str, position: &Position) -> String {
        let mut payload = position.date_added.0.to_be_bytes().to_vec();
        payload.extend_from_slice(position.id.as_bytes());
        let tag = self.tag(binding, &payload);
        payload.extend_from_slice(&tag);
        URL_SAFE_NO_PAD.encode(payload)
    }

    /// The position in `cursor`, if this key sealed it for `binding`.
    pub fn open(&self, binding: &str, cursor: &str) -> Result<Position, CursorError> {
        let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| CursorError)?;
        if bytes.len() < 8 + TAG_BYTES {
            return Err(CursorError);
        }
        let (payload, tag) = bytes.split_at(bytes.len() - TAG_BYTES);
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret).map_err(|_| CursorError)?;
        mac.update(&(binding.len() as u64).to_be_bytes());
        mac.update(binding.as_bytes());
        mac.update(payload);
        // Constant time, and over the truncated tag.
        mac.verify_truncated_left(tag).map_err(|_| CursorError)?;
        let (date, id) = payload.split_at(8);
        let date = i64::from_be_bytes(date.try_into().map_err(|_| CursorError)?);
        let id = String::from_utf8(id.to_vec()).map_err(|_| CursorError)?;
        Ok(Position { date_added: Micros(date), id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn a_sealed_position_opens_under_its_binding_only(
            date in any::<i64>(), id in ".{0,80}", binding in ".{0,40}", other in ".{0,40}",
        ) {
            let key = CursorKey::new([3; 32]);
            let position = Position { date_added: Micros(date), id };
            let cursor = key.seal(&binding, &position);
            prop_assert_eq!(key.open(&binding, &cursor), Ok(position.clone()));
            if other != binding {
                prop_assert_eq!(key.open(&other, &cursor), Err(CursorError));
            }
            prop_assert_eq!(CursorKey::new([4; 32]).open(&binding, &cursor), Err(CursorError));
        }

        #[test]
        fn a_tampered_cursor_is_refused(date in any::<i64>(), id in "[a-z-]{1,40}", flip in any::<usize>()) {
            let key = CursorKey::new([3; 32]);
            let cursor = key.seal("b", &Position { date_added: Micros(date), id });
            let mut bytes = URL_SAFE_NO_PAD.decode(&cursor).unwrap();
            let at = flip % bytes.len();
            bytes[at] ^= 1;
            prop_assert_eq!(key.open("b", &URL_SAFE_NO_PAD.encode(bytes)), Err(CursorError));
        }
    }

    #[test]
    fn garbage_is_refused() {
        let key = CursorKey::new([3; 32]);
        for bad in ["", "!!", "AAAA", "not a cursor at all, really"] {
            assert_eq!(key.open("b", bad), Err(CursorError), "{bad}");
        }
    }
}
