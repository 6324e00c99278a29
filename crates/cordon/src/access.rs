//! `cordon user` and `cordon token`: who may call the server.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use cordon_app::access::{Role, TokenRequest};
use cordon_model::format_timestamp;
use ipnet::IpNet;
use serde_json::json;

use crate::cli::{Cli, JsonArg};
use crate::output::{human, json_line, stdout};

/// `cordon user`.
#[derive(Subcommand, Debug)]
pub(crate) enum UserCommand {
    /// Add a user to an organisation with a role: admin or analyst (the hub),
    /// submitter (a partner), agency (an agency), reader (anyone).
    Add(UserAddArgs),
    /// List users.
    List(JsonArg),
    /// Disable a user: none of its tokens authenticate any more.
    Disable {
        /// Its e-mail address.
        email: String,
    },
}

#[derive(Args, Debug)]
pub(crate) struct UserAddArgs {
    /// Its e-mail address.
    email: String,
    /// Its organisation.
    #[arg(long)]
    org: String,
    /// Its role.
    #[arg(long)]
    role: Role,
    /// Read a password from the first line of standard input (stored as an
    /// Argon2id hash).
    #[arg(long)]
    password_stdin: bool,
}

/// `cordon token`.
#[derive(Subcommand, Debug)]
pub(crate) enum TokenCommand {
    /// Create an API token for a user; it is printed once, only its hash is kept.
    Create(TokenCreateArgs),
    /// List tokens (never the tokens themselves).
    List(JsonArg),
    /// Revoke a token.
    Revoke {
        /// Its id (`token list`).
        id: i64,
    },
}

#[derive(Args, Debug)]
pub(crate) struct TokenCreateArgs {
    /// The user's e-mail address.
    #[arg(long)]
    user: String,
    /// Expire after this long: `90d`, `12h`, `30m` (default: never).
    #[arg(long, value_parser = parse_duration)]
    expires: Option<i64>,
    /// The token may only read.
    #[arg(long)]
    read_only: bool,
    /// Accept the token only from these networks (repeatable).
    #[arg(long = "allow-ip", value_name = "CIDR")]
    allow_ips: Vec<IpNet>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn parse_duration(raw: &str) -> Result<i64, String> {
    let raw = raw.trim();
    let (number, unit) = raw.split_at(raw.len().saturating_sub(1));
    let seconds = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        "s" => 1,
        _ => return Err(format!("'{raw}' is not a duration (90d, 12h, 30m, 45s)")),
    };
    let n: i64 = number.parse().map_err(|_| format!("'{raw}' is not a duration (90d, 12h, 30m, 45s)"))?;
    n.checked_mul(seconds).filter(|s| *s > 0).ok_or_else(|| format!("'{raw}' is not a positive duration"))
}

pub(crate) fn user(cli: &Cli, cmd: &UserCommand) -> anyhow::Result<ExitCode> {
    let (app, viewer) = cli.open()?;
    let (mut json, mut out) = (stdout(), human());
    match cmd {
        UserCommand::Add(args) => {
            let password = if args.password_stdin {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                let line = line.trim_end_matches(['\r', '\n']).to_string();
                if line.is_empty() {
                    anyhow::bail!(cordon_app::AppError::Invalid("the password on standard input is empty".into()));
                }
                Some(line)
            } else {
                None
            };
            let user = app.add_user(&viewer, &args.email, &args.org, args.role, password.as_deref())?;
            writeln!(out, "user {} ({} of {})", user.email, user.role, user.org)?;
        }
        UserCommand::List(args) => {
            for u in app.users(&viewer)? {
                if args.json {
                    json_line(
                        &mut json,
                        &json!({"email": u.email, "org": u.org, "role": u.role, "disabled": u.disabled,
                                "password": u.password_hash.is_some(), "created": format_timestamp(u.created)}),
                    )?;
                } else {
                    let state = if u.disabled { "disabled" } else { "active" };
                    writeln!(out, "{}\t{}\t{}\t{state}", u.email, u.org, u.role)?;
                }
            }
        }
        UserCommand::Disable { email } => {
            app.disable_user(&viewer, email)?;
            writeln!(out, "disabled {email}")?;
        }
    }
    json.flush()?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn token(cli: &Cli, cmd: &TokenCommand) -> anyhow::Result<ExitCode> {
    let (app, viewer) = cli.open()?;
    let (mut json, mut out) = (stdout(), human());
    let token_json = |t: &cordon_store::auth::Token| {
        json!({"id": t.id, "user": t.user, "prefix": t.prefix, "created": format_timestamp(t.created),
               "expires": t.expires.map(format_timestamp), "revoked": t.revoked.map(format_timestamp),
               "read_only": t.read_only, "allow_ips": t.allow_ips})
    };
    match cmd {
        TokenCommand::Create(args) => {
            let request = TokenRequest {
                user: args.user.clone(),
                expires_in: args.expires,
                read_only: args.read_only,
                allow_ips: args.allow_ips.clone(),
            };
            let created = app.create_token(&viewer, &request)?;
            if args.json {
                let mut value = token_json(&created.token);
                value["token"] = json!(created.secret);
                json_line(&mut json, &value)?;
            } else {
                writeln!(out, "{}", created.secret)?;
                eprintln!(
                    "cordon: token #{} for {}: shown once, only its hash is kept",
                    created.token.id, created.token.user
                );
            }
        }
        TokenCommand::List(args) => {
            for t in app.tokens(&viewer)? {
                if args.json {
                    json_line(&mut json, &token_json(&t))?;
                } else {
                    let state = if t.revoked.is_some() { "revoked" } else { "live" };
                    let expires = t.expires.map_or_else(|| "never".to_string(), format_timestamp);
                    writeln!(out, "#{}\t{}\t{}…\t{state}\texpires {expires}", t.id, t.user, t.prefix)?;
                }
            }
        }
        TokenCommand::Revoke { id } => {
            app.revoke_token(&viewer, *id)?;
            writeln!(out, "revoked token #{id}")?;
        }
    }
    json.flush()?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
