//! Keeping the search index up to date: every change to what a video is found by enqueues an
//! `IndexVideos` job in the transaction that makes it (the job itself is `search::index_videos`).
//! Kept apart from both the video and channel rules and the search so that each may ask for a
//! reindex without knowing the others.

use redb::WriteTransaction;

use super::{Core, Result};
use crate::model::job::JobKind;
use crate::model::now_ms;
use crate::store::jobs;

/// Queue the search index update of these videos (one job, one index commit).
pub fn enqueue_indexing(tx: &WriteTransaction, video_ids: Vec<u64>) -> Result<()> {
    jobs::enqueue(tx, JobKind::IndexVideos { video_ids }, now_ms())?;
    Ok(())
}

/// Whose videos to reindex after a name they are indexed under changed.
#[derive(Debug, Clone, Copy)]
pub enum Owner {
    Channel(u64),
    Account(u64),
}

/// Queue the reindexing of every video of a channel or account whose display name changed, in
/// the transaction that changes it. The ids come from the catalogue; a video created meanwhile
/// is indexed by its own job, which reads the new name.
pub fn enqueue_owner_reindex(core: &Core, tx: &WriteTransaction, owner: Owner) -> Result<()> {
    let ids = core.catalog.ids_where(|r| match owner {
        Owner::Channel(c) => r.channel_id == c,
        Owner::Account(a) => r.account_id == a,
    });
    if ids.is_empty() {
        return Ok(());
    }
    enqueue_indexing(tx, ids)
}
