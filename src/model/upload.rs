//! A resumable upload in progress: who sends it, what video it will become, and how many bytes
//! have been received and made durable.

use serde::{Deserialize, Serialize};

use super::Record;

/// The video metadata sent when the upload starts, kept until the last byte arrives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadMeta {
    pub channel_id: u64,
    pub name: String,
    pub description: Option<String>,
    pub support: Option<String>,
    pub category: Option<u32>,
    pub licence: Option<u32>,
    pub language: Option<String>,
    pub privacy: u8,
    pub nsfw: bool,
    pub tags: Vec<String>,
    pub comments_policy: u8,
    pub download_enabled: bool,
    pub wait_transcoding: bool,
    pub originally_published_at_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadSession {
    /// Random hex id, the `upload_id` of the protocol.
    pub id: String,
    pub user_id: u64,
    pub filename: String,
    /// Total size announced by the client (`X-Upload-Content-Length`).
    pub size: u64,
    /// Bytes written to the part file and synced to disk.
    pub received: u64,
    pub meta: UploadMeta,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl Record for UploadSession {
    const KIND: &'static str = "upload";
    const VERSION: u8 = 1;
}
