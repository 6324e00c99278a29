//! PostgreSQL implementation of [`AuthStore`].

use cordon_model::Timestamp;
use postgres::Row;

use super::{get, now, Conn};
use crate::auth::{AuthStore, NewToken, NewUser, Session, SessionStore, Token, User};
use crate::StoreError;

const USER_COLUMNS: &str = "u.id, u.email, o.name, u.role, u.password_hash, u.disabled, unix(u.created)";
const TOKEN_COLUMNS: &str =
    "t.id, u.email, t.prefix, unix(t.created), unix(t.expires), unix(t.revoked), t.read_only, t.allow_ips";

fn user_row(row: &Row, first: usize) -> Result<User, StoreError> {
    Ok(User {
        id: get(row, first)?,
        email: get(row, first + 1)?,
        org: get(row, first + 2)?,
        role: get(row, first + 3)?,
        password_hash: get(row, first + 4)?,
        disabled: get(row, first + 5)?,
        created: get(row, first + 6)?,
    })
}

fn token_row(row: &Row) -> Result<Token, StoreError> {
    Ok(Token {
        id: get(row, 0)?,
        user: get(row, 1)?,
        prefix: get(row, 2)?,
        created: get(row, 3)?,
        expires: get(row, 4)?,
        revoked: get(row, 5)?,
        read_only: get(row, 6)?,
        allow_ips: get(row, 7)?,
    })
}

impl AuthStore for Conn {
    fn add_user(&self, user: &NewUser) -> Result<User, StoreError> {
        let Some(org) = self.query_opt("SELECT id FROM organisations WHERE name = $1", &[&user.org])? else {
            return Err(StoreError::Aborted(format!("there is no organisation '{}'", user.org)));
        };
        let org: i64 = get(&org, 0)?;
        let inserted = self.execute(
            "INSERT INTO users (email, org_id, role, password_hash, created) VALUES ($1, $2, $3, $4, ts($5))
             ON CONFLICT (email) DO NOTHING",
            &[&user.email, &org, &user.role, &user.password_hash, &now()],
        )?;
        if inserted == 0 {
            return Err(StoreError::Conflict(format!("there is already a user {}", user.email)));
        }
        self.user(&user.email)?.ok_or_else(|| StoreError::Database("the new user vanished".into()))
    }

    fn users(&self) -> Result<Vec<User>, StoreError> {
        let sql =
            format!("SELECT {USER_COLUMNS} FROM users u JOIN organisations o ON o.id = u.org_id ORDER BY u.email");
        self.query(&sql, &[])?.iter().map(|r| user_row(r, 0)).collect()
    }

    fn user(&self, email: &str) -> Result<Option<User>, StoreError> {
        let sql =
            format!("SELECT {USER_COLUMNS} FROM users u JOIN organisations o ON o.id = u.org_id WHERE u.email = $1");
        self.query_opt(&sql, &[&email])?.map(|r| user_row(&r, 0)).transpose()
    }

    fn disable_user(&self, email: &str) -> Result<bool, StoreError> {
        Ok(self.execute("UPDATE users SET disabled = true WHERE email = $1", &[&email])? > 0)
    }

    fn add_token(&self, token: &NewToken, time: Timestamp) -> Result<Token, StoreError> {
        let Some(user) = self.query_opt("SELECT id FROM users WHERE email = $1", &[&token.user])? else {
            return Err(StoreError::Aborted(format!("there is no user {}", token.user)));
        };
        let user: i64 = get(&user, 0)?;
        let id: i64 = self.value(
            "INSERT INTO tokens (user_id, sha256, prefix, created, expires, read_only, allow_ips)
             VALUES ($1, $2, $3, ts($4), ts($5), $6, $7) RETURNING id",
            &[&user, &token.sha256, &token.prefix, &time, &token.expires, &token.read_only, &token.allow_ips],
        )?;
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1");
        let row = self.query_opt(&sql, &[&id])?.ok_or_else(|| StoreError::Database("the new token vanished".into()))?;
        token_row(&row)
    }

    fn tokens(&self, user: Option<&str>) -> Result<Vec<Token>, StoreError> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens t JOIN users u ON u.id = t.user_id
             WHERE $1::text IS NULL OR u.email = $1::text ORDER BY t.id"
        );
        self.query(&sql, &[&user])?.iter().map(token_row).collect()
    }

    fn revoke_token(&self, id: i64, time: Timestamp) -> Result<bool, StoreError> {
        Ok(self.execute("UPDATE tokens SET revoked = ts($2) WHERE id = $1 AND revoked IS NULL", &[&id, &time])? > 0)
    }

    fn token_by_hash(&self, sha256: &str) -> Result<Option<(Token, User)>, StoreError> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS}, {USER_COLUMNS}
             FROM tokens t JOIN users u ON u.id = t.user_id JOIN organisations o ON o.id = u.org_id
             WHERE t.sha256 = $1"
        );
        self.query_opt(&sql, &[&sha256])?.map(|r| Ok((token_row(&r)?, user_row(&r, 8)?))).transpose()
    }
}

impl SessionStore for Conn {
    fn add_session(&self, sha256: &str, session: &Session) -> Result<(), StoreError> {
        let Some(user) = self.query_opt("SELECT id FROM users WHERE email = $1", &[&session.user])? else {
            return Err(StoreError::Aborted(format!("there is no user {}", session.user)));
        };
        let user: i64 = get(&user, 0)?;
        self.transaction(None, |c| {
            c.execute("DELETE FROM web_sessions WHERE expires <= ts($1)", &[&session.created])?;
            c.execute(
                "INSERT INTO web_sessions (sha256, user_id, created, expires) VALUES ($1, $2, ts($3), ts($4))",
                &[&sha256, &user, &session.created, &session.expires],
            )?;
            Ok(())
        })
    }

    fn session_by_hash(&self, sha256: &str) -> Result<Option<(Session, User)>, StoreError> {
        let sql = format!(
            "SELECT unix(s.created), unix(s.expires), {USER_COLUMNS}
             FROM web_sessions s JOIN users u ON u.id = s.user_id JOIN organisations o ON o.id = u.org_id
             WHERE s.sha256 = $1"
        );
        self.query_opt(&sql, &[&sha256])?
            .map(|r| {
                let user = user_row(&r, 2)?;
                Ok((Session { user: user.email.clone(), created: get(&r, 0)?, expires: get(&r, 1)? }, user))
            })
            .transpose()
    }

    fn remove_session(&self, sha256: &str) -> Result<bool, StoreError> {
        Ok(self.execute("DELETE FROM web_sessions WHERE sha256 = $1", &[&sha256])? > 0)
    }
}
