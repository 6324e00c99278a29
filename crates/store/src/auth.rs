//! Users and API tokens: who may call the server, as which organisation
//! and role. Secrets never reach the store in the clear: passwords arrive
//! as Argon2id PHC strings and tokens as their SHA-256, both computed by the
//! caller; the store only keeps and matches them.

use cordon_model::Timestamp;

use crate::StoreError;

/// A user of the hub.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// Its id.
    pub id: i64,
    /// Its e-mail address (unique, lowercase).
    pub email: String,
    /// The organisation it belongs to.
    pub org: String,
    /// Its role's name (`admin`, `analyst`, `submitter`, `agency`, `reader`).
    pub role: String,
    /// The Argon2id PHC string of its password, when it has one.
    pub password_hash: Option<String>,
    /// Whether it was disabled (then nothing it holds authenticates).
    pub disabled: bool,
    /// When it was created.
    pub created: Timestamp,
}

/// A user to add.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewUser {
    /// Its e-mail address.
    pub email: String,
    /// The organisation's name.
    pub org: String,
    /// Its role's name.
    pub role: String,
    /// The Argon2id PHC string of its password.
    pub password_hash: Option<String>,
}

/// An API token as stored (never the token itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// Its id.
    pub id: i64,
    /// The user it authenticates.
    pub user: String,
    /// The first characters of the token, to recognise it in lists.
    pub prefix: String,
    /// When it was created.
    pub created: Timestamp,
    /// When it expires, if ever.
    pub expires: Option<Timestamp>,
    /// When it was revoked, if it was.
    pub revoked: Option<Timestamp>,
    /// Whether it may only read.
    pub read_only: bool,
    /// The networks it may be used from (empty: anywhere).
    pub allow_ips: Vec<String>,
}

/// A token to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewToken {
    /// The user's e-mail address.
    pub user: String,
    /// The SHA-256 of the token, lowercase hex.
    pub sha256: String,
    /// The token's first characters.
    pub prefix: String,
    /// When it expires, if ever.
    pub expires: Option<Timestamp>,
    /// Whether it may only read.
    pub read_only: bool,
    /// The networks it may be used from (CIDRs; empty: anywhere).
    pub allow_ips: Vec<String>,
}

/// Storage of users and tokens.
pub trait AuthStore {
    /// Adds a user; [`StoreError::Conflict`] when the address is taken,
    /// [`StoreError::Aborted`] when the organisation does not exist.
    fn add_user(&self, user: &NewUser) -> Result<User, StoreError>;

    /// Every user, by address.
    fn users(&self) -> Result<Vec<User>, StoreError>;

    /// The user with this address.
    fn user(&self, email: &str) -> Result<Option<User>, StoreError>;

    /// Disables a user; false when there is none.
    fn disable_user(&self, email: &str) -> Result<bool, StoreError>;

    /// Stores a token and returns it with its id.
    fn add_token(&self, token: &NewToken, time: Timestamp) -> Result<Token, StoreError>;

    /// Every token (of one user, or all).
    fn tokens(&self, user: Option<&str>) -> Result<Vec<Token>, StoreError>;

    /// Revokes a token; false when there is none (or it was revoked).
    fn revoke_token(&self, id: i64, time: Timestamp) -> Result<bool, StoreError>;

    /// The token with this SHA-256 and its user, whatever their state (the
    /// caller decides whether they still authenticate).
    fn token_by_hash(&self, sha256: &str) -> Result<Option<(Token, User)>, StoreError>;
}

/// A browser session as stored (never its secret, only the secret's
/// SHA-256).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// The user it signs in.
    pub user: String,
    /// When it began.
    pub created: Timestamp,
    /// When it stops signing anyone in.
    pub expires: Timestamp,
}

/// Storage of the dashboard's sign-in sessions: a plain table of session
/// hashes, kept apart from [`AuthStore`] so a backend adds it on its own.
pub trait SessionStore {
    /// Stores a session under the SHA-256 of its secret and drops every
    /// session that expired by `session.created`; [`StoreError::Aborted`]
    /// when the user does not exist.
    fn add_session(&self, sha256: &str, session: &Session) -> Result<(), StoreError>;

    /// The session with this SHA-256 and its user, whatever their state
    /// (the caller decides whether it still signs anyone in).
    fn session_by_hash(&self, sha256: &str) -> Result<Option<(Session, User)>, StoreError>;

    /// Ends a session; false when there was none.
    fn remove_session(&self, sha256: &str) -> Result<bool, StoreError>;
}
