//! The persistent job queue: jobs are enqueued inside the write transaction of the change that
//! causes them, claimed by workers, and retried with backoff; all state lives in redb so a restart
//! (even after `kill -9`) loses nothing.

use redb::{ReadableTable, WriteTransaction};

use super::{Result, Tx, next_id, records, tables};
use crate::model::job::{Job, JobKind, JobState, Lane};

/// Add a job to the queue within the caller's transaction; it may run from `run_after_ms` on.
pub fn enqueue(tx: &WriteTransaction, kind: JobKind, now_ms: i64) -> Result<u64> {
    let id = next_id(tx, "jobs")?;
    let job = Job {
        id,
        kind,
        state: JobState::Pending,
        attempts: 0,
        run_after_ms: now_ms,
        created_at_ms: now_ms,
        last_error: None,
    };
    records::put(tx, tables::JOBS, id, &job)?;
    tx.open_table(tables::JOBS_PENDING)?
        .insert((now_ms, id), ())?;
    Ok(id)
}

/// Up to `limit` due jobs of `lane`, oldest first (for a scheduler to choose from).
pub fn due(tx: &impl Tx, now_ms: i64, lane: Lane, limit: usize) -> Result<Vec<Job>> {
    let pending = tx.table(tables::JOBS_PENDING)?;
    let mut out = Vec::new();
    for entry in pending.range((i64::MIN, 0)..=(now_ms, u64::MAX))? {
        let (_, id) = entry?.0.value();
        if let Some(job) = records::get::<Job>(tx, tables::JOBS, id)?
            && job.state == JobState::Pending
            && job.kind.lane() == lane
        {
            out.push(job);
            if out.len() >= limit {
                break;
            }
        }
    }
    Ok(out)
}

/// Claim `job` (one `due` returned in this transaction), marking it running.
pub fn claim(tx: &WriteTransaction, mut job: Job) -> Result<Job> {
    tx.open_table(tables::JOBS_PENDING)?
        .remove((job.run_after_ms, job.id))?;
    job.state = JobState::Running;
    job.attempts += 1;
    records::put(tx, tables::JOBS, job.id, &job)?;
    Ok(job)
}

/// A running job gave its worker up for another (a time slice): it waits in the queue again
/// from `now_ms`, without counting the attempt.
pub fn yield_back(tx: &WriteTransaction, id: u64, now_ms: i64) -> Result<()> {
    let Some(mut job) = records::get::<Job>(tx, tables::JOBS, id)? else {
        return Ok(());
    };
    job.state = JobState::Pending;
    job.attempts = job.attempts.saturating_sub(1);
    job.run_after_ms = now_ms;
    tx.open_table(tables::JOBS_PENDING)?
        .insert((now_ms, id), ())?;
    records::put(tx, tables::JOBS, id, &job)
}

/// Take the first due job of `lane`, marking it running. A job left `Running` by a crash is put
/// back in the queue by `requeue_interrupted` at start-up.
pub fn claim_due(tx: &WriteTransaction, now_ms: i64, lane: Lane) -> Result<Option<Job>> {
    let mut pending = tx.open_table(tables::JOBS_PENDING)?;
    let mut found = None;
    // Queue entries whose job record is gone are dropped on the way.
    let mut stale = Vec::new();
    for entry in pending.range((i64::MIN, 0)..=(now_ms, u64::MAX))? {
        let key = entry?.0.value();
        match records::get::<Job>(tx, tables::JOBS, key.1)? {
            Some(job) if job.kind.lane() == lane => {
                found = Some((key, job));
                break;
            }
            Some(_) => {}
            None => stale.push(key),
        }
    }
    for key in stale {
        pending.remove(key)?;
    }
    let Some((key, mut job)) = found else {
        return Ok(None);
    };
    pending.remove(key)?;
    drop(pending);
    job.state = JobState::Running;
    job.attempts += 1;
    records::put(tx, tables::JOBS, job.id, &job)?;
    Ok(Some(job))
}

/// Take the due search-index jobs together, as one (up to `max_ids` videos): the first claimed
/// gets every video id of the others, written to its record in this transaction, and the
/// others leave the queue. A burst of changes (a followed server's outbox brings thousands of
/// videos) then costs one index commit, not one each; a crash requeues the one job with all.
pub fn claim_index_batch(
    tx: &WriteTransaction,
    now_ms: i64,
    max_ids: usize,
) -> Result<Option<Job>> {
    let Some(mut first) = claim_due(tx, now_ms, Lane::Index)? else {
        return Ok(None);
    };
    let JobKind::IndexVideos { video_ids } = &first.kind else {
        return Ok(Some(first));
    };
    let mut ids = video_ids.clone();
    let mut absorbed = false;
    while ids.len() < max_ids {
        let Some(next) = claim_due(tx, now_ms, Lane::Index)? else {
            break;
        };
        let JobKind::IndexVideos { video_ids: more } = next.kind else {
            yield_back(tx, next.id, now_ms)?;
            break;
        };
        ids.extend(more);
        complete(tx, next.id)?;
        absorbed = true;
    }
    if absorbed {
        ids.sort_unstable();
        ids.dedup();
        first.kind = JobKind::IndexVideos { video_ids: ids };
        records::put(tx, tables::JOBS, first.id, &first)?;
    }
    Ok(Some(first))
}

/// A job finished: it leaves the queue.
pub fn complete(tx: &WriteTransaction, id: u64) -> Result<()> {
    records::remove(tx, tables::JOBS, id)?;
    Ok(())
}

/// A job failed: retry later with exponential backoff, or mark it failed for good.
pub fn fail(
    tx: &WriteTransaction,
    id: u64,
    error: &str,
    now_ms: i64,
    max_attempts: u32,
) -> Result<()> {
    let Some(mut job) = records::get::<Job>(tx, tables::JOBS, id)? else {
        return Ok(());
    };
    job.last_error = Some(error.chars().take(2000).collect());
    if job.attempts >= max_attempts {
        job.state = JobState::Failed;
    } else {
        job.state = JobState::Pending;
        job.run_after_ms = now_ms + backoff_ms(job.attempts);
        tx.open_table(tables::JOBS_PENDING)?
            .insert((job.run_after_ms, id), ())?;
    }
    records::put(tx, tables::JOBS, id, &job)
}

/// Drop every job still waiting in the queue whose kind `redundant` selects (a full search
/// rebuild makes queued index updates moot). Running jobs finish as usual. Returns how many.
pub fn discard_pending(
    tx: &WriteTransaction,
    redundant: impl Fn(&JobKind) -> bool,
) -> Result<usize> {
    let mut pending = tx.open_table(tables::JOBS_PENDING)?;
    let mut dropped = Vec::new();
    for entry in pending.iter()? {
        let key = entry?.0.value();
        if let Some(job) = records::get::<Job>(tx, tables::JOBS, key.1)?
            && job.state == JobState::Pending
            && redundant(&job.kind)
        {
            dropped.push(key);
        }
    }
    for key in &dropped {
        pending.remove(*key)?;
    }
    drop(pending);
    for (_, id) in &dropped {
        records::remove(tx, tables::JOBS, *id)?;
    }
    Ok(dropped.len())
}

/// 2 s, 4 s, 8 s … capped at one hour.
pub fn backoff_ms(attempts: u32) -> i64 {
    let exp = attempts.min(20);
    (2_000_i64 << exp.saturating_sub(1)).min(3_600_000)
}

/// Put jobs that were running when the process died back into the queue.
pub fn requeue_interrupted(tx: &WriteTransaction, now_ms: i64) -> Result<usize> {
    let running: Vec<Job> = records::all::<Job>(tx, tables::JOBS)?
        .into_iter()
        .filter(|j| j.state == JobState::Running)
        .collect();
    let mut pending = tx.open_table(tables::JOBS_PENDING)?;
    for job in &running {
        pending.insert((now_ms, job.id), ())?;
    }
    drop(pending);
    for mut job in running.iter().cloned() {
        job.state = JobState::Pending;
        job.run_after_ms = now_ms;
        records::put(tx, tables::JOBS, job.id, &job)?;
    }
    Ok(running.len())
}

/// Whether a job still to run or running works on this video's media (its processing is not
/// over, even while no job is running it: between the remux and the ladder, say).
pub fn media_work_left(tx: &impl Tx, video_id: u64) -> Result<bool> {
    let jobs: Vec<Job> = records::all(tx, tables::JOBS)?;
    Ok(jobs.iter().any(|j| {
        j.state != JobState::Failed
            && matches!(j.kind, JobKind::ProcessUpload { video_id: v } | JobKind::TranscodeLadder { video_id: v } if v == video_id)
    }))
}

/// Every job still stored (pending, running or failed), oldest first.
pub fn list(tx: &impl Tx) -> Result<Vec<Job>> {
    records::all(tx, tables::JOBS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.redb")).unwrap();
        (dir, store)
    }

    fn kind() -> JobKind {
        JobKind::RemoveVideoFiles {
            uuid: uuid::Uuid::nil(),
        }
    }

    /// Only waiting jobs of the selected kind are dropped; a running one and others stay.
    #[test]
    fn discard_pending_drops_only_waiting_jobs_of_a_kind() {
        let (_d, s) = store();
        let index = |ids: Vec<u64>| JobKind::IndexVideos { video_ids: ids };
        let running = s.write(|tx| enqueue(tx, index(vec![1]), 10)).unwrap();
        s.write(|tx| claim_due(tx, 10, Lane::Index)).unwrap();
        let waiting = s.write(|tx| enqueue(tx, index(vec![2]), 20)).unwrap();
        let other = s.write(|tx| enqueue(tx, kind(), 30)).unwrap();
        let dropped = s
            .write(|tx| discard_pending(tx, |k| matches!(k, JobKind::IndexVideos { .. })))
            .unwrap();
        assert_eq!(dropped, 1);
        let left: Vec<u64> = list(&s.read().unwrap())
            .unwrap()
            .iter()
            .map(|j| j.id)
            .collect();
        assert_eq!(left, [running, other]);
        assert!(!left.contains(&waiting));
        assert_eq!(
            s.write(|tx| claim_due(tx, 40, Lane::Media))
                .unwrap()
                .map(|j| j.id),
            Some(other)
        );
    }

    /// A video has media work left while its job waits or runs, not once it is done or failed,
    /// and another video's jobs or index jobs do not count.
    #[test]
    fn media_work_left_follows_the_video_s_media_jobs() {
        let (_d, s) = store();
        let left = |v| media_work_left(&s.read().unwrap(), v).unwrap();
        s.write(|tx| enqueue(tx, JobKind::IndexVideos { video_ids: vec![7] }, 1))
            .unwrap();
        assert!(!left(7));
        let job = s
            .write(|tx| enqueue(tx, JobKind::TranscodeLadder { video_id: 7 }, 1))
            .unwrap();
        assert!(left(7) && !left(8));
        s.write(|tx| claim_due(tx, 2, Lane::Media)).unwrap();
        assert!(left(7), "running");
        s.write(|tx| fail(tx, job, "broken", 3, 1)).unwrap();
        assert!(!left(7), "failed for good");
    }

    /// Due index jobs are claimed as one carrying all their ids (kept in its record); one not
    /// yet due, and media jobs, stay queued.
    #[test]
    fn index_jobs_due_together_are_claimed_as_one() {
        let (_d, s) = store();
        let index = |ids: Vec<u64>| JobKind::IndexVideos { video_ids: ids };
        let first = s.write(|tx| enqueue(tx, index(vec![3, 1]), 10)).unwrap();
        s.write(|tx| enqueue(tx, JobKind::ProcessUpload { video_id: 9 }, 10))
            .unwrap();
        s.write(|tx| enqueue(tx, index(vec![2, 3]), 11)).unwrap();
        let later = s.write(|tx| enqueue(tx, index(vec![4]), 50)).unwrap();
        let job = s
            .write(|tx| claim_index_batch(tx, 20, 100))
            .unwrap()
            .unwrap();
        assert_eq!(job.id, first);
        assert_eq!(job.kind, index(vec![1, 2, 3]));
        let kept: Vec<Job> = list(&s.read().unwrap()).unwrap();
        assert_eq!(kept.len(), 3, "{kept:?}");
        assert!(
            kept.iter()
                .any(|j| j.id == first && j.kind == index(vec![1, 2, 3]))
        );
        assert!(kept.iter().any(|j| j.id == later));
        // The cap: one job's ids are enough.
        let next = s.write(|tx| claim_index_batch(tx, 60, 1)).unwrap().unwrap();
        assert_eq!(next.id, later);
    }

    /// A yielded job waits again without an attempt counted; `due` and `claim` take jobs the
    /// scheduler chose.
    #[test]
    fn due_claim_and_yield() {
        let (_d, s) = store();
        let a = s
            .write(|tx| enqueue(tx, JobKind::ProcessUpload { video_id: 1 }, 10))
            .unwrap();
        let b = s
            .write(|tx| enqueue(tx, JobKind::TranscodeLadder { video_id: 2 }, 20))
            .unwrap();
        s.write(|tx| enqueue(tx, JobKind::IndexVideos { video_ids: vec![1] }, 5))
            .unwrap();
        let due_now = due(&s.read().unwrap(), 15, Lane::Media, 10).unwrap();
        assert_eq!(due_now.iter().map(|j| j.id).collect::<Vec<_>>(), [a]);
        let due_later = due(&s.read().unwrap(), 30, Lane::Media, 10).unwrap();
        assert_eq!(due_later.len(), 2);
        let job = s.write(|tx| claim(tx, due_later[1].clone())).unwrap();
        assert_eq!((job.id, job.attempts, job.state), (b, 1, JobState::Running));
        assert_eq!(
            due(&s.read().unwrap(), 30, Lane::Media, 10).unwrap().len(),
            1
        );
        s.write(|tx| yield_back(tx, b, 40)).unwrap();
        let back = due(&s.read().unwrap(), 40, Lane::Media, 10).unwrap();
        assert_eq!(back.len(), 2);
        let b_again = back.iter().find(|j| j.id == b).unwrap();
        assert_eq!((b_again.attempts, b_again.run_after_ms), (0, 40));
    }

    /// Index jobs never wait behind media jobs, and media workers leave them alone.
    #[test]
    fn lanes_claim_only_their_jobs() {
        let (_d, s) = store();
        let media = s
            .write(|tx| enqueue(tx, JobKind::ProcessUpload { video_id: 1 }, 10))
            .unwrap();
        let index = s
            .write(|tx| enqueue(tx, JobKind::IndexVideos { video_ids: vec![1] }, 20))
            .unwrap();
        let got = s
            .write(|tx| claim_due(tx, 30, Lane::Index))
            .unwrap()
            .unwrap();
        assert_eq!(got.id, index);
        assert!(
            s.write(|tx| claim_due(tx, 30, Lane::Index))
                .unwrap()
                .is_none()
        );
        let got = s
            .write(|tx| claim_due(tx, 30, Lane::Media))
            .unwrap()
            .unwrap();
        assert_eq!(got.id, media);
        assert!(
            s.write(|tx| claim_due(tx, 30, Lane::Media))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn enqueue_claim_complete() {
        let (_d, s) = store();
        let id = s.write(|tx| enqueue(tx, kind(), 100)).unwrap();
        assert!(
            s.write(|tx| claim_due(tx, 99, Lane::Media))
                .unwrap()
                .is_none()
        );
        let job = s
            .write(|tx| claim_due(tx, 100, Lane::Media))
            .unwrap()
            .unwrap();
        assert_eq!(
            (job.id, job.attempts, job.state),
            (id, 1, JobState::Running)
        );
        assert!(
            s.write(|tx| claim_due(tx, 1000, Lane::Media))
                .unwrap()
                .is_none()
        );
        s.write(|tx| complete(tx, id)).unwrap();
        assert!(list(&s.read().unwrap()).unwrap().is_empty());
    }

    #[test]
    fn failures_back_off_then_stop() {
        let (_d, s) = store();
        let id = s.write(|tx| enqueue(tx, kind(), 0)).unwrap();
        s.write(|tx| claim_due(tx, 0, Lane::Media))
            .unwrap()
            .unwrap();
        s.write(|tx| fail(tx, id, "boom", 0, 2)).unwrap();
        assert!(
            s.write(|tx| claim_due(tx, 1_999, Lane::Media))
                .unwrap()
                .is_none()
        );
        s.write(|tx| claim_due(tx, 2_000, Lane::Media))
            .unwrap()
            .unwrap();
        s.write(|tx| fail(tx, id, "boom again", 2_000, 2)).unwrap();
        let jobs = list(&s.read().unwrap()).unwrap();
        assert_eq!(jobs[0].state, JobState::Failed);
        assert_eq!(jobs[0].last_error.as_deref(), Some("boom again"));
        assert!(
            s.write(|tx| claim_due(tx, i64::MAX, Lane::Media))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn interrupted_jobs_run_again_and_rolled_back_enqueues_vanish() {
        let (_d, s) = store();
        s.write(|tx| enqueue(tx, kind(), 0)).unwrap();
        s.write(|tx| claim_due(tx, 0, Lane::Media))
            .unwrap()
            .unwrap();
        // A transaction that fails after enqueueing keeps neither the change nor the job.
        let r: Result<(), StoreErrorForTest> = s.write(|tx| {
            enqueue(tx, kind(), 0)?;
            Err(StoreErrorForTest::Abort)
        });
        assert!(r.is_err());
        assert_eq!(s.write(|tx| requeue_interrupted(tx, 5)).unwrap(), 1);
        let again = s
            .write(|tx| claim_due(tx, 5, Lane::Media))
            .unwrap()
            .unwrap();
        assert_eq!(again.attempts, 2);
        assert_eq!(list(&s.read().unwrap()).unwrap().len(), 1);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff_ms(1), 2_000);
        assert_eq!(backoff_ms(2), 4_000);
        assert_eq!(backoff_ms(30), 3_600_000);
    }

    #[derive(Debug)]
    enum StoreErrorForTest {
        Abort,
        Store,
    }
    impl From<crate::store::StoreError> for StoreErrorForTest {
        fn from(_: crate::store::StoreError) -> Self {
            StoreErrorForTest::Store
        }
    }
}
