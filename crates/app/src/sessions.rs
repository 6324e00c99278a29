//! The dashboard's sign-in: an e-mail and a password become a session whose
//! secret only the browser holds (the store keeps its SHA-256), and a
//! session's secret becomes the [`Principal`] it signs in, as a token does
//! for the API.
//!
//! Every sign-in makes a new secret (a secret the browser brought before is
//! never kept: no session fixation); a session ends at logout, when its user
//! is disabled, or [`SESSION_LIFETIME`] after it began. A failed sign-in is
//! appended to the audit log with the address it came from.

use std::net::IpAddr;

use cordon_store::audit::{AuditEntry, AuditStore};
use cordon_store::auth::{AuthStore, Session, SessionStore};
use cordon_store::orgs::OrgStore;

use crate::access::{password_matches, random_bytes, sha256_hex, Principal, Role};
use crate::{App, AppError};

/// How long a session signs its user in, in seconds (eight hours: a
/// working day).
pub const SESSION_LIFETIME: i64 = 8 * 3600;

/// A session just begun: the secret goes into the browser's cookie and
/// nowhere else.
#[derive(Clone, Debug)]
pub struct SignedIn {
    /// The session's secret.
    pub secret: String,
    /// Whom it signs in.
    pub principal: Principal,
    /// When it ends (Unix seconds).
    pub expires: i64,
}

/// A hash of a random password, verified when the user is unknown so that
/// a sign-in takes as long whether the address exists or not.
fn no_user_hash() -> Result<&'static str, AppError> {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if let Some(hash) = HASH.get() {
        return Ok(hash);
    }
    let hash = crate::access::hash_password(&hex::encode(random_bytes::<16>()?))?;
    Ok(HASH.get_or_init(|| hash))
}

fn refused() -> AppError {
    AppError::Unauthorized("the e-mail address or the password is wrong, or the user is disabled".into())
}

impl App {
    /// Signs `email` in with `password` from `client`: a new session, or
    /// [`AppError::Unauthorized`] (audited) for an unknown address, a wrong
    /// password, a user without a password or a disabled one.
    pub fn sign_in(&self, email: &str, password: &str, client: IpAddr) -> Result<SignedIn, AppError> {
        let email = email.trim().to_ascii_lowercase();
        let now = crate::now();
        let user = self.store.user(&email)?;
        let hash = user.as_ref().and_then(|u| u.password_hash.clone());
        let matches = match &hash {
            Some(hash) => password_matches(password, hash),
            None => {
                // The same work as a real check, its answer ignored.
                let _ = password_matches(password, no_user_hash()?);
                false
            }
        };
        let principal = match user {
            Some(user) if matches && !user.disabled => self.principal(&user)?,
            _ => {
                let entry = AuditEntry {
                    time: now,
                    user: email.chars().take(200).collect(),
                    org: "-".into(),
                    action: "POST /login".into(),
                    object: format!("sign-in from {client}"),
                    result: "401".into(),
                };
                self.store.append_audit(&[entry])?;
                return Err(refused());
            }
        };
        let secret = hex::encode(random_bytes::<32>()?);
        let expires = now + SESSION_LIFETIME;
        let session = Session { user: principal.user.clone(), created: now, expires };
        self.store.add_session(&sha256_hex(&secret), &session)?;
        Ok(SignedIn { secret, principal, expires })
    }

    /// The principal a session's secret signs in: unknown, expired and
    /// disabled sessions are [`AppError::Unauthorized`].
    pub fn session(&self, secret: &str) -> Result<Principal, AppError> {
        let Some((session, user)) = self.store.session_by_hash(&sha256_hex(secret))? else {
            return Err(refused());
        };
        if session.expires <= crate::now() || user.disabled {
            return Err(refused());
        }
        self.principal(&user)
    }

    /// Ends the session of `secret` (nothing when there is none).
    pub fn sign_out(&self, secret: &str) -> Result<(), AppError> {
        self.store.remove_session(&sha256_hex(secret))?;
        Ok(())
    }

    fn principal(&self, user: &cordon_store::auth::User) -> Result<Principal, AppError> {
        let role: Role = user.role.parse().map_err(|_| refused())?;
        let Some(org) = self.store.org(&user.org)? else {
            return Err(refused());
        };
        Ok(Principal { viewer: org.viewer(), user: user.email.clone(), org: org.name, role, read_only: false })
    }
}
