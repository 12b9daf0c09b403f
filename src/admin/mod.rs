//! Administration commands (`vireo admin …`): one request/reply protocol, executed against the
//! running server through a Unix socket in the data directory (redb admits one process), or
//! directly against the store when no server runs. Both paths call `execute`, so they behave
//! identically.

pub mod client;
pub mod socket;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::auth::{password, secret};
use crate::model::user::Role;
use crate::service::users::{self, AdminUpdate, NewUser, UserQuery};
use crate::service::{Core, ServiceError, validate};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    UserCreate {
        username: String,
        email: String,
        password: Option<String>,
        role: String,
    },
    UserPasswd {
        username: String,
        password: String,
    },
    UserRole {
        username: String,
        role: String,
    },
    UserList,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Reply {
    Ok { message: String, data: Value },
    Error { message: String },
}

impl Reply {
    fn ok(message: impl Into<String>, data: Value) -> Reply {
        Reply::Ok {
            message: message.into(),
            data,
        }
    }
}

/// Execute one admin request. Blocking (argon2, redb commits).
pub fn execute(core: &Core, req: Request) -> Reply {
    match try_execute(core, req) {
        Ok(reply) => reply,
        Err(e) => Reply::Error {
            message: e.to_string(),
        },
    }
}

fn parse_role(s: &str) -> Result<Role, ServiceError> {
    Role::parse(s).ok_or_else(|| {
        ServiceError::invalid(
            "role",
            format!("unknown role {s:?}: use admin, moderator or user"),
        )
    })
}

fn hash(p: &str) -> Result<String, ServiceError> {
    validate::password(p)?;
    password::hash(p).map_err(|e| ServiceError::Internal(e.to_string()))
}

fn find(core: &Core, username: &str) -> Result<crate::model::user::User, ServiceError> {
    users::find_by_login(&core.store.read()?, username)?.ok_or(ServiceError::NotFound("user"))
}

fn try_execute(core: &Core, req: Request) -> Result<Reply, ServiceError> {
    match req {
        Request::UserCreate {
            username,
            email,
            password,
            role,
        } => {
            let role = parse_role(&role)?;
            let (password, generated) = match password {
                Some(p) => (p, false),
                None => (
                    secret::random_password().map_err(|e| ServiceError::Internal(e.to_string()))?,
                    true,
                ),
            };
            let new = NewUser {
                username,
                email,
                password_hash: hash(&password)?,
                role,
                video_quota: core.config().user.video_quota,
                video_quota_daily: core.config().user.video_quota_daily,
                display_name: None,
                channel_name: None,
                channel_display_name: None,
                email_verified: true,
            };
            let (user, _, channel) = users::create(core, new)?;
            let mut message = format!(
                "created user {} (id {}, role {}) with channel {}",
                user.username,
                user.id,
                role.label(),
                channel.name
            );
            if generated {
                message.push_str(&format!("\npassword: {password}"));
            }
            Ok(Reply::ok(message, json!({"id": user.id})))
        }
        Request::UserPasswd { username, password } => {
            let user = find(core, &username)?;
            let up = AdminUpdate {
                password_hash: Some(hash(&password)?),
                ..AdminUpdate::default()
            };
            users::update(core, user.id, up)?;
            Ok(Reply::ok(
                format!(
                    "password of {} changed; its sessions were revoked",
                    user.username
                ),
                json!({"id": user.id}),
            ))
        }
        Request::UserRole { username, role } => {
            let role = parse_role(&role)?;
            let user = find(core, &username)?;
            if user.username == "root" && role != Role::Administrator {
                return Err(ServiceError::Forbidden(
                    "root stays an administrator".into(),
                ));
            }
            users::update(
                core,
                user.id,
                AdminUpdate {
                    role: Some(role),
                    ..AdminUpdate::default()
                },
            )?;
            Ok(Reply::ok(
                format!("{} is now {}", user.username, role.label()),
                json!({"id": user.id, "role": role.id()}),
            ))
        }
        Request::UserList => {
            let q = UserQuery {
                start: 0,
                count: usize::MAX,
                sort: Some((users::UserSort::Id, false)),
                ..UserQuery::default()
            };
            let (_, list) = users::list(&core.store.read()?, &q)?;
            let mut message = format!("{:>5}  {:<24} {:<14} {}", "id", "username", "role", "email");
            for u in &list {
                message.push_str(&format!(
                    "\n{:>5}  {:<24} {:<14} {}{}",
                    u.id,
                    u.username,
                    u.role.label(),
                    u.email,
                    if u.blocked { "  (blocked)" } else { "" }
                ));
            }
            let data = list
                .iter()
                .map(|u| json!({"id": u.id, "username": u.username, "role": u.role.id(), "email": u.email}))
                .collect();
            Ok(Reply::ok(message, Value::Array(data)))
        }
    }
}
