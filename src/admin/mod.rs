//! Administration commands (`vireo admin …`): one request/reply protocol, executed against the
//! running server through a Unix socket in the data directory (redb admits one process), or
//! directly against the store when no server runs. Both paths call `execute`, so they behave
//! identically.

pub mod client;
pub mod socket;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::model::user::Role;
use crate::service::users::{self, UserQuery};
use crate::service::{Core, ServiceError, user_admin};

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

fn try_execute(core: &Core, req: Request) -> Result<Reply, ServiceError> {
    match req {
        Request::UserCreate {
            username,
            email,
            password,
            role,
        } => {
            let role = parse_role(&role)?;
            let (user, channel, generated) =
                user_admin::operator_create(core, username, email, password, role)?;
            let mut message = format!(
                "created user {} (id {}, role {}) with channel {}",
                user.username,
                user.id,
                role.label(),
                channel.name
            );
            if let Some(password) = generated {
                message.push_str(&format!("\npassword: {password}"));
            }
            Ok(Reply::ok(message, json!({"id": user.id})))
        }
        Request::UserPasswd { username, password } => {
            let user = user_admin::operator_set_password(core, &username, &password)?;
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
            let user = user_admin::operator_set_role(core, &username, role)?;
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
            let (_, list) = users::page(core, &q)?;
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
