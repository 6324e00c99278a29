//! SQLite implementation of [`AuthStore`].

use cordon_model::Timestamp;
use rusqlite::{params, OptionalExtension, Row};

use super::{now, Conn};
use crate::auth::{AuthStore, NewToken, NewUser, Session, SessionStore, Token, User};
use crate::StoreError;

const USER_COLUMNS: &str = "u.id, u.email, o.name, u.role, u.password_hash, u.disabled, u.created";
const TOKEN_COLUMNS: &str = "t.id, u.email, t.prefix, t.created, t.expires, t.revoked, t.read_only, t.allow_ips";

fn user_row(row: &Row<'_>, first: usize) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(first)?,
        email: row.get(first + 1)?,
        org: row.get(first + 2)?,
        role: row.get(first + 3)?,
        password_hash: row.get(first + 4)?,
        disabled: row.get::<_, i64>(first + 5)? != 0,
        created: row.get(first + 6)?,
    })
}

fn token_row(row: &Row<'_>) -> rusqlite::Result<Token> {
    let allow: String = row.get(7)?;
    Ok(Token {
        id: row.get(0)?,
        user: row.get(1)?,
        prefix: row.get(2)?,
        created: row.get(3)?,
        expires: row.get(4)?,
        revoked: row.get(5)?,
        read_only: row.get::<_, i64>(6)? != 0,
        allow_ips: allow.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect(),
    })
}

impl AuthStore for Conn {
    fn add_user(&self, user: &NewUser) -> Result<User, StoreError> {
        let org: Option<i64> = self
            .conn
            .query_row("SELECT id FROM organisations WHERE name = ?1", [&user.org], |r| r.get(0))
            .optional()?;
        let Some(org) = org else {
            return Err(StoreError::Aborted(format!("there is no organisation '{}'", user.org)));
        };
        let inserted = self.conn.execute(
            "INSERT INTO users (email, org_id, role, password_hash, created) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (email) DO NOTHING",
            params![user.email, org, user.role, user.password_hash, now()],
        )?;
        if inserted == 0 {
            return Err(StoreError::Conflict(format!("there is already a user {}", user.email)));
        }
        self.user(&user.email)?.ok_or_else(|| StoreError::Database("the new user vanished".into()))
    }

    fn users(&self) -> Result<Vec<User>, StoreError> {
        let sql =
            format!("SELECT {USER_COLUMNS} FROM users u JOIN organisations o ON o.id = u.org_id ORDER BY u.email");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([], |r| user_row(r, 0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn user(&self, email: &str) -> Result<Option<User>, StoreError> {
        let sql =
            format!("SELECT {USER_COLUMNS} FROM users u JOIN organisations o ON o.id = u.org_id WHERE u.email = ?1");
        Ok(self.conn.prepare_cached(&sql)?.query_row([email], |r| user_row(r, 0)).optional()?)
    }

    fn disable_user(&self, email: &str) -> Result<bool, StoreError> {
        Ok(self.conn.execute("UPDATE users SET disabled = 1 WHERE email = ?1", [email])? > 0)
    }

    fn add_token(&self, token: &NewToken, time: Timestamp) -> Result<Token, StoreError> {
        let user: Option<i64> =
            self.conn.query_row("SELECT id FROM users WHERE email = ?1", [&token.user], |r| r.get(0)).optional()?;
        let Some(user) = user else {
            return Err(StoreError::Aborted(format!("there is no user {}", token.user)));
        };
        self.conn.execute(
            "INSERT INTO tokens (user_id, sha256, prefix, created, expires, read_only, allow_ips)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                user,
                token.sha256,
                token.prefix,
                time,
                token.expires,
                token.read_only as i64,
                token.allow_ips.join(",")
            ],
        )?;
        let id = self.conn.last_insert_rowid();
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.id = ?1");
        Ok(self.conn.prepare_cached(&sql)?.query_row([id], token_row)?)
    }

    fn tokens(&self, user: Option<&str>) -> Result<Vec<Token>, StoreError> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens t JOIN users u ON u.id = t.user_id
             WHERE ?1 IS NULL OR u.email = ?1 ORDER BY t.id"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([user], token_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn revoke_token(&self, id: i64, time: Timestamp) -> Result<bool, StoreError> {
        Ok(self.conn.execute("UPDATE tokens SET revoked = ?2 WHERE id = ?1 AND revoked IS NULL", params![id, time])?
            > 0)
    }

    fn token_by_hash(&self, sha256: &str) -> Result<Option<(Token, User)>, StoreError> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS}, {USER_COLUMNS}
             FROM tokens t JOIN users u ON u.id = t.user_id JOIN organisations o ON o.id = u.org_id
             WHERE t.sha256 = ?1"
        );
        let found =
            self.conn.prepare_cached(&sql)?.query_row([sha256], |r| Ok((token_row(r)?, user_row(r, 8)?))).optional()?;
        Ok(found)
    }
}

impl SessionStore for Conn {
    fn add_session(&self, sha256: &str, session: &Session) -> Result<(), StoreError> {
        let user: Option<i64> =
            self.conn.query_row("SELECT id FROM users WHERE email = ?1", [&session.user], |r| r.get(0)).optional()?;
        let Some(user) = user else {
            return Err(StoreError::Aborted(format!("there is no user {}", session.user)));
        };
        self.conn.execute("DELETE FROM web_sessions WHERE expires <= ?1", [session.created])?;
        self.conn.execute(
            "INSERT INTO web_sessions (sha256, user_id, created, expires) VALUES (?1, ?2, ?3, ?4)",
            params![sha256, user, session.created, session.expires],
        )?;
        Ok(())
    }

    fn session_by_hash(&self, sha256: &str) -> Result<Option<(Session, User)>, StoreError> {
        let sql = format!(
            "SELECT s.created, s.expires, {USER_COLUMNS}
             FROM web_sessions s JOIN users u ON u.id = s.user_id JOIN organisations o ON o.id = u.org_id
             WHERE s.sha256 = ?1"
        );
        let found = self
            .conn
            .prepare_cached(&sql)?
            .query_row([sha256], |r| {
                let user = user_row(r, 2)?;
                Ok((Session { user: user.email.clone(), created: r.get(0)?, expires: r.get(1)? }, user))
            })
            .optional()?;
        Ok(found)
    }

    fn remove_session(&self, sha256: &str) -> Result<bool, StoreError> {
        Ok(self.conn.execute("DELETE FROM web_sessions WHERE sha256 = ?1", [sha256])? > 0)
    }
}
