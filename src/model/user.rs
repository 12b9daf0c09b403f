//! Local users: credentials, role, quotas and preferences. Each user owns one account.

use serde::{Deserialize, Serialize};

use super::Record;

/// PeerTube's `UserRole` ids: lower is more powerful.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::FromRepr,
    strum::IntoStaticStr,
)]
#[serde(into = "u8", try_from = "u8")]
#[repr(u8)]
pub enum Role {
    Administrator = 0,
    Moderator = 1,
    User = 2,
}
super::numeric_enum!(Role, "role id");

impl Role {
    /// Parse the CLI spelling (`admin`, `moderator`, `user`) or a numeric id.
    pub fn parse(s: &str) -> Option<Role> {
        match s.to_ascii_lowercase().as_str() {
            "0" | "admin" | "administrator" => Some(Role::Administrator),
            "1" | "moderator" | "mod" => Some(Role::Moderator),
            "2" | "user" => Some(Role::User),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: u64,
    pub username: String,
    pub email: String,
    /// argon2id PHC string.
    pub password_hash: String,
    pub role: Role,
    pub account_id: u64,
    /// Bytes; -1 means unlimited, as in PeerTube.
    pub video_quota: i64,
    pub video_quota_daily: i64,
    pub blocked: bool,
    pub blocked_reason: Option<String>,
    pub email_verified: bool,
    pub nsfw_policy: String,
    pub auto_play_video: bool,
    pub p2p_enabled: bool,
    pub video_languages: Option<Vec<String>>,
    pub created_at_ms: i64,
    pub last_login_ms: Option<i64>,
}

impl Record for User {
    const KIND: &'static str = "user";
    const VERSION: u8 = 1;
}
