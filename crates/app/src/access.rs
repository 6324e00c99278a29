//! Who may call the hub: users with a role in an organisation, API tokens
//! that authenticate them, and [`App::authenticate`], which turns a token
//! into the [`Principal`] every server call answers for.
//!
//! A token is `cordon_` followed by 32 random bytes in hex; only its SHA-256
//! is stored (a token has 256 bits of entropy, so a fast hash is the right
//! one: there is nothing to brute-force). Passwords are stored as Argon2id
//! PHC strings.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use cordon_model::{OrgKind, Viewer};
use cordon_store::auth::{AuthStore, NewToken, NewUser, Token, User};
use cordon_store::orgs::OrgStore;
use ipnet::IpNet;
use sha2::{Digest, Sha256};

use crate::{require_hub, App, AppError};

/// What a user may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// The hub's administrator: everything, organisations and users too.
    Admin,
    /// The hub's analyst: the coordination work.
    Analyst,
    /// A partner's member: submits and reads its own submissions.
    Submitter,
    /// A national agency's officer: its country's targets.
    Agency,
    /// A reader (defenders): lookups and blocklists.
    Reader,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 5] = [Role::Admin, Role::Analyst, Role::Submitter, Role::Agency, Role::Reader];

    /// The role's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Submitter => "submitter",
            Role::Agency => "agency",
            Role::Reader => "reader",
        }
    }

    /// Whether a member of an organisation of `kind` may hold this role:
    /// admin and analyst are the hub's, submitter a partner's, agency an
    /// agency's; reader anyone's.
    pub fn fits(self, kind: OrgKind) -> bool {
        match self {
            Role::Admin | Role::Analyst => kind == OrgKind::Hub,
            Role::Submitter => kind == OrgKind::Partner,
            Role::Agency => kind == OrgKind::Agency,
            Role::Reader => true,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is no role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role '{0}' (expected admin, analyst, submitter, agency or reader)")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim().to_ascii_lowercase();
        Role::ALL.into_iter().find(|r| r.as_str() == name).ok_or_else(|| UnknownRole(s.to_string()))
    }
}

/// An authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// What it may see.
    pub viewer: Viewer,
    /// The user's address.
    pub user: String,
    /// The user's organisation's name.
    pub org: String,
    /// The user's role.
    pub role: Role,
    /// Whether the token may only read.
    pub read_only: bool,
}

/// A token just created: the secret is shown once and never stored.
#[derive(Clone, Debug)]
pub struct CreatedToken {
    /// The stored record.
    pub token: Token,
    /// The token itself.
    pub secret: String,
}

/// What a token create asks for.
#[derive(Clone, Debug, Default)]
pub struct TokenRequest {
    /// The user's address.
    pub user: String,
    /// Seconds until it expires (`None`: never).
    pub expires_in: Option<i64>,
    /// Whether it may only read.
    pub read_only: bool,
    /// The networks it may be used from (empty: anywhere).
    pub allow_ips: Vec<IpNet>,
}

/// The recognisable start of every token.
pub const TOKEN_PREFIX: &str = "cordon_";

pub(crate) fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], AppError> {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes).map_err(|e| AppError::Storage(format!("no randomness: {e}")))?;
    Ok(bytes)
}

/// The Argon2id PHC string of `password`.
pub fn hash_password(password: &str) -> Result<String, AppError> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()?).map_err(|e| AppError::Storage(e.to_string()))?;
    let hash =
        Argon2::default().hash_password(password.as_bytes(), &salt).map_err(|e| AppError::Storage(e.to_string()))?;
    Ok(hash.to_string())
}

/// Whether `password` matches the PHC string `hash`.
pub fn password_matches(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

fn unauthorized() -> AppError {
    AppError::Unauthorized("the credentials are unknown, expired, revoked or not valid from here".into())
}

impl App {
    /// Adds a user (the hub's administrators only; from the command line,
    /// the hub).
    pub fn add_user(
        &self,
        viewer: &Viewer,
        email: &str,
        org: &str,
        role: Role,
        password: Option<&str>,
    ) -> Result<User, AppError> {
        require_hub(viewer, "adding users")?;
        let email = email.trim().to_ascii_lowercase();
        let (local, domain) = email.split_once('@').unwrap_or(("", ""));
        if local.is_empty() || domain.is_empty() || email.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(AppError::Invalid(format!("'{email}' is not an e-mail address")));
        }
        let Some(organisation) = self.store.org(org)? else {
            return Err(AppError::NotFound(format!("there is no organisation '{org}'")));
        };
        if !role.fits(organisation.kind) {
            return Err(AppError::Invalid(format!("a {} organisation's members cannot be {role}s", organisation.kind)));
        }
        let password_hash = password.map(hash_password).transpose()?;
        let user = NewUser { email, org: org.to_string(), role: role.as_str().to_string(), password_hash };
        Ok(self.store.add_user(&user)?)
    }

    /// Every user (the hub only).
    pub fn users(&self, viewer: &Viewer) -> Result<Vec<User>, AppError> {
        require_hub(viewer, "listing users")?;
        Ok(self.store.users()?)
    }

    /// Disables a user: nothing it holds authenticates any more.
    pub fn disable_user(&self, viewer: &Viewer, email: &str) -> Result<(), AppError> {
        require_hub(viewer, "disabling users")?;
        if !self.store.disable_user(&email.trim().to_ascii_lowercase())? {
            return Err(AppError::NotFound(format!("there is no user {email}")));
        }
        Ok(())
    }

    /// Creates a token; its secret is in the answer and nowhere else.
    pub fn create_token(&self, viewer: &Viewer, request: &TokenRequest) -> Result<CreatedToken, AppError> {
        require_hub(viewer, "creating tokens")?;
        let email = request.user.trim().to_ascii_lowercase();
        if self.store.user(&email)?.is_none() {
            return Err(AppError::NotFound(format!("there is no user {email}")));
        }
        let secret = format!("{TOKEN_PREFIX}{}", hex::encode(random_bytes::<32>()?));
        let now = crate::now();
        let token = NewToken {
            user: email,
            sha256: sha256_hex(&secret),
            prefix: secret[..TOKEN_PREFIX.len() + 8].to_string(),
            expires: request.expires_in.map(|secs| now + secs),
            read_only: request.read_only,
            allow_ips: request.allow_ips.iter().map(ToString::to_string).collect(),
        };
        Ok(CreatedToken { token: self.store.add_token(&token, now)?, secret })
    }

    /// Every token (the hub only): never the secrets.
    pub fn tokens(&self, viewer: &Viewer) -> Result<Vec<Token>, AppError> {
        require_hub(viewer, "listing tokens")?;
        Ok(self.store.tokens(None)?)
    }

    /// Revokes a token.
    pub fn revoke_token(&self, viewer: &Viewer, id: i64) -> Result<(), AppError> {
        require_hub(viewer, "revoking tokens")?;
        if !self.store.revoke_token(id, crate::now())? {
            return Err(AppError::NotFound(format!("there is no live token #{id}")));
        }
        Ok(())
    }

    /// The caller a token stands for, used from `client`: unknown, expired,
    /// revoked, disabled or out-of-network credentials are all
    /// [`AppError::Unauthorized`], with one message that says no more.
    pub fn authenticate(&self, secret: &str, client: IpAddr) -> Result<Principal, AppError> {
        if !secret.starts_with(TOKEN_PREFIX) {
            return Err(unauthorized());
        }
        let Some((token, user)) = self.store.token_by_hash(&sha256_hex(secret))? else {
            return Err(unauthorized());
        };
        let expired = token.expires.is_some_and(|at| at <= crate::now());
        let allowed = token.allow_ips.is_empty()
            || token.allow_ips.iter().filter_map(|net| net.parse::<IpNet>().ok()).any(|net| net.contains(&client));
        if user.disabled || token.revoked.is_some() || expired || !allowed {
            return Err(unauthorized());
        }
        let role: Role = user.role.parse().map_err(|_| unauthorized())?;
        let Some(org) = self.store.org(&user.org)? else {
            return Err(unauthorized());
        };
        Ok(Principal { viewer: org.viewer(), user: user.email, org: org.name, role, read_only: token.read_only })
    }
}
