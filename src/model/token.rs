//! OAuth sessions: an access/refresh token pair issued to a user. Only hashes are stored.

use serde::{Deserialize, Serialize};

use crate::store::Record;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Token {
    pub user_id: u64,
    /// SHA-256 of the refresh token, hex.
    pub refresh_hash: String,
    pub access_expires_ms: i64,
    pub refresh_expires_ms: i64,
    pub created_at_ms: i64,
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
