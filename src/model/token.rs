//! OAuth sessions: an access/refresh token pair issued to a user. Only hashes are stored.

use serde::{Deserialize, Serialize};

use super::Record;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Token {
    pub user_id: u64,
    /// SHA-256 of the refresh token, hex.
    pub refresh_hash: String,
    pub access_expires_ms: i64,
    pub refresh_expires_ms: i64,
    pub created_at_ms: i64,
    /// When the session began (the login); refreshing carries it on, so a session has an
    /// absolute end (`auth.session_max_lifetime_secs`). Tokens stored before it existed count
    /// from their own creation.
    #[serde(default)]
    pub session_started_ms: Option<i64>,
}

impl Token {
    pub fn session_started(&self) -> i64 {
        self.session_started_ms.unwrap_or(self.created_at_ms)
    }
}

impl Record for Token {
    const KIND: &'static str = "token";
    const VERSION: u8 = 1;
}

/// The local OAuth client PeerTube clients fetch from `/api/v1/oauth-clients/local`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthClient {
    pub client_id: String,
    pub client_secret: String,
}

impl Record for OAuthClient {
    const KIND: &'static str = "oauth client";
    const VERSION: u8 = 1;
}
