//! What one user's uploads are held to besides the file size limit: the quota *while* a
//! single-request upload streams (so parallel uploads cannot put more on disk than the quota
//! leaves), how many uploads one user has in progress at once, and how much of their video may
//! wait for the media workers.
//!
//! Resumable uploads declare their size up front and are checked against the quota when they
//! start (`uploads::check_size`, which counts the bytes being received here too); a
//! single-request upload's size is only known at its end, so it takes its bytes from the quota
//! as they arrive (`Receipt::take`) and stops the moment it passes what is left.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use redb::ReadableTable;

use super::{Core, Result, ServiceError, channels};
use crate::model::job::{Job, JobKind, JobState};
use crate::model::now_ms;
use crate::model::upload::UploadSession;
use crate::model::user::User;
use crate::store::{Tx, codec, records, tables};

/// A resumable upload touched this recently counts as in progress for
/// `uploads.max_concurrent_per_user`; an abandoned one stops counting (it still counts against
/// the quota until it expires or is cancelled).
const ACTIVE_SESSION_MS: i64 = 3_600_000;

/// Single-request uploads being received now, per user id.
#[derive(Debug, Default, Clone)]
pub struct Receiving(Arc<Mutex<HashMap<u64, Streams>>>);

#[derive(Debug, Default, Clone, Copy)]
struct Streams {
    count: u32,
    bytes: u64,
}

impl Receiving {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Streams>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Bytes of `user_id`'s single-request uploads received so far.
    pub fn bytes_of(&self, user_id: u64) -> u64 {
        self.lock().get(&user_id).map_or(0, |s| s.bytes)
    }

    fn count_of(&self, user_id: u64) -> u32 {
        self.lock().get(&user_id).map_or(0, |s| s.count)
    }
}

/// One single-request upload being received: its bytes count against its user's quota until it
/// is dropped (after the video is committed, when they count as a stored file instead).
#[derive(Debug)]
pub struct Receipt {
    registry: Receiving,
    user_id: u64,
    bytes: u64,
    /// Bytes the user's uploads being received may add up to; `None` without a quota.
    headroom: Option<u64>,
}

impl Receipt {
    /// Count `n` more bytes; refused with PeerTube's quota error once this and the user's other
    /// uploads being received pass what the quota leaves.
    pub fn take(&mut self, n: u64) -> Result<()> {
        let mut all = self.registry.lock();
        let streams = all.entry(self.user_id).or_default();
        if let Some(headroom) = self.headroom
            && streams.bytes.saturating_add(n) > headroom
        {
            return Err(quota_reached());
        }
        streams.bytes += n;
        self.bytes += n;
        Ok(())
    }
}

impl Drop for Receipt {
    fn drop(&mut self) {
        let mut all = self.registry.lock();
        if let Some(streams) = all.get_mut(&self.user_id) {
            streams.bytes = streams.bytes.saturating_sub(self.bytes);
            streams.count = streams.count.saturating_sub(1);
            if streams.count == 0 {
                all.remove(&self.user_id);
            }
        }
    }
}

pub fn quota_reached() -> ServiceError {
    ServiceError::QuotaReached("The user video quota is exceeded with this video.".into())
}

/// Begin receiving a single-request upload from `user`: refused when the user has as many
/// uploads in progress as allowed, or too much video waiting to be processed; otherwise the
/// receipt its bytes are counted on.
pub fn begin_receiving(core: &Core, user: &User) -> Result<Receipt> {
    let tx = core.store.read()?;
    let sessions = sessions_of(&tx, user.id)?;
    check_queued(core, &tx, user, 0)?;
    let pending: u64 = sessions.iter().map(|s| s.size).sum();
    let headroom = quota_headroom(core, user, pending);
    if headroom == Some(0) {
        return Err(quota_reached());
    }
    let active = active_sessions(&sessions);
    let registry = core.receiving.clone();
    let mut all = registry.lock();
    let streams = all.entry(user.id).or_default();
    check_concurrency(core, active + streams.count)?;
    streams.count += 1;
    drop(all);
    Ok(Receipt {
        registry,
        user_id: user.id,
        bytes: 0,
        headroom,
    })
}

/// What the user's quotas (total and 24 h) leave for uploads being received, after stored
/// videos and declared resumable uploads; `None` without a quota.
fn quota_headroom(core: &Core, user: &User, pending: u64) -> Option<u64> {
    let day_ago = now_ms() - 24 * 3600 * 1000;
    let (stored, stored_today) = core.catalog.bytes_of_account(user.account_id, day_ago);
    let left = |quota: i64, used: u64| {
        (quota >= 0).then(|| quota.unsigned_abs().saturating_sub(used + pending))
    };
    match (
        left(user.video_quota, stored),
        left(user.video_quota_daily, stored_today),
    ) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn active_sessions(sessions: &[crate::model::upload::UploadSession]) -> u32 {
    let since = now_ms() - ACTIVE_SESSION_MS;
    let n = sessions.iter().filter(|s| s.updated_at_ms >= since).count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn check_concurrency(core: &Core, in_progress: u32) -> Result<()> {
    let max = core.config().uploads.max_concurrent_per_user;
    if in_progress >= max {
        return Err(ServiceError::Throttled {
            message: format!(
                "You already have {in_progress} uploads in progress; this instance allows {max} at once. Finish or cancel one first."
            ),
            retry_after_secs: 60,
        });
    }
    Ok(())
}

/// A resumable upload may start: the user has fewer uploads in progress than allowed (counting
/// those being received), and not too much video waiting to be processed.
pub fn check_new_session(core: &Core, tx: &impl Tx, user: &User) -> Result<()> {
    let sessions = sessions_of(tx, user.id)?;
    check_concurrency(
        core,
        active_sessions(&sessions) + core.receiving.count_of(user.id),
    )?;
    check_queued(core, tx, user, 0)
}

/// Refuse when `user`'s video waiting for the media workers, plus `adding` seconds, passes
/// `jobs.max_queued_secs_per_user`: one user cannot fill the queue for days.
pub fn check_queued(core: &Core, tx: &impl Tx, user: &User, adding: u64) -> Result<()> {
    let max = core.config().jobs.max_queued_secs_per_user;
    if max < 0 {
        return Ok(());
    }
    let queued = queued_secs(tx, user.account_id)?;
    let max = max.unsigned_abs();
    if queued.saturating_add(adding) > max || (adding == 0 && queued >= max) {
        return Err(ServiceError::Throttled {
            message: format!(
                "{} of your video is waiting to be processed{}; this instance allows {} per user. Try again once your videos are ready.",
                minutes(queued),
                if adding > 0 {
                    format!(" and this one is {}", minutes(adding))
                } else {
                    String::new()
                },
                minutes(max)
            ),
            retry_after_secs: 600,
        });
    }
    Ok(())
}

fn minutes(secs: u64) -> String {
    format!("{} min", secs.div_ceil(60))
}

/// Seconds of video of `account_id` whose media jobs are waiting or running.
pub fn queued_secs(tx: &impl Tx, account_id: u64) -> Result<u64> {
    let mut seen = std::collections::HashSet::new();
    let mut total = 0u64;
    for job in records::all::<Job>(tx, tables::JOBS)? {
        if job.state == JobState::Failed {
            continue;
        }
        let (JobKind::ProcessUpload { video_id } | JobKind::TranscodeLadder { video_id }) =
            job.kind
        else {
            continue;
        };
        if !seen.insert(video_id) {
            continue;
        }
        let Some(video) = super::videos::get(tx, video_id)? else {
            continue;
        };
        let owner = channels::get(tx, video.channel_id)?.map(|c| c.account_id);
        if owner == Some(account_id) {
            total = total.saturating_add(video.duration);
        }
    }
    Ok(total)
}

/// The resumable uploads of `user_id` in progress.
pub fn sessions_of(tx: &impl Tx, user_id: u64) -> Result<Vec<UploadSession>> {
    let table = tx.table(tables::UPLOADS)?;
    let mut out = Vec::new();
    for entry in table.range::<&str>(..)? {
        let (_, v) = entry?;
        let s: UploadSession = codec::decode(v.value())?;
        if s.user_id == user_id {
            out.push(s);
        }
    }
    Ok(out)
}
