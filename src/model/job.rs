//! Background jobs: what is queued, and the state of each.

use serde::{Deserialize, Serialize};

use super::Record;

/// The work a job does. Later stages (transcoding, indexing, delivery) add variants here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum JobKind {
    /// Delete every file a removed video left in the media directory.
    RemoveVideoFiles { uuid: uuid::Uuid },
    /// Make a newly uploaded video playable: remux it to HLS when the browser can play its
    /// codecs as they are (the transcoding ladder handles the rest).
    ProcessUpload { video_id: u64 },
    /// Encode the AV1 renditions a published H.264 upload is still missing
    /// (`service::ladder`).
    TranscodeLadder { video_id: u64 },
    /// Bring the search index up to date with these videos' text (or their removal).
    IndexVideos { video_ids: Vec<u64> },
}

/// Which workers run a job: media work can take minutes to hours, so quick bookkeeping (the
/// search index) has a lane of its own and never waits behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    Media,
    Index,
}

impl JobKind {
    pub fn lane(&self) -> Lane {
        match self {
            JobKind::IndexVideos { .. } => Lane::Index,
            JobKind::RemoveVideoFiles { .. }
            | JobKind::ProcessUpload { .. }
            | JobKind::TranscodeLadder { .. } => Lane::Media,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum JobState {
    Pending,
    Running,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub id: u64,
    pub kind: JobKind,
    pub state: JobState,
    pub attempts: u32,
    pub run_after_ms: i64,
    pub created_at_ms: i64,
    pub last_error: Option<String>,
}

impl Record for Job {
    const KIND: &'static str = "job";
    const VERSION: u8 = 1;
}
