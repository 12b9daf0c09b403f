//! Which media jobs run now, for whom, and when one must stop: the fair share of the media
//! workers between accounts, and the signals a running job obeys between two pictures.
//!
//! - **Fair share.** Each account's use of the media workers is counted in seconds, halving every
//!   hour (`USAGE_HALF_LIFE`), its running jobs included. A free worker takes the due job whose
//!   owner has used the least; within one account, a job that makes a video watchable comes
//!   before one that improves a watchable video, then the oldest. So a user's second long video
//!   waits behind another user's first, however they were queued.
//! - **Time slices.** A job that has run `jobs.time_slice_secs` gives its worker up when another
//!   account, which has used less, has a job waiting: it stops between two pictures and goes
//!   back to the queue (its GOPs are checkpointed, so it resumes where it stopped, losing at most
//!   one GOP per rung). One small file of a long black video cannot hold the worker for hours.
//!   A job gives way only once it has kept a GOP since it started (`Interrupt::kept`): on a
//!   slow machine a GOP can take longer than a slice, and two jobs stopping each other before
//!   either kept anything would take turns for ever.
//! - **Cancelling.** Deleting a video drops its queued jobs in the same transaction
//!   (`store::jobs::discard_pending`) and tells its running job to stop at once; the job that
//!   removes the video's files waits for it.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use super::{Core, Result, channels, videos};
use crate::media::interrupt::Interrupt;
use crate::model::job::{Job, JobKind, Lane};
use crate::store::{Tx, jobs as store_jobs};

/// Past use of the workers counts half as much after this long.
const USAGE_HALF_LIFE: Duration = Duration::from_secs(3600);
/// A running job looks whether its video still exists, and once its slice is used up at the
/// queue, at most this often.
const LOOK_EVERY: Duration = Duration::from_secs(1);
/// Due jobs looked at when choosing one (the oldest first).
const CHOICES: usize = 512;

/// Why a running job was asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The server is stopping: the job stays claimed and resumes at the next start.
    Shutdown,
    /// Its video was deleted: the job is over.
    Cancelled,
    /// Its slice is used up and another account waits: back to the queue.
    Yield,
}

/// The media jobs running now and each account's use of the workers.
#[derive(Debug, Default)]
pub struct Work {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    running: HashMap<uuid::Uuid, Running>,
    /// Seconds used per account, as of `at`.
    usage: HashMap<u64, (f64, Instant)>,
}

#[derive(Debug)]
struct Running {
    account: Option<u64>,
    started: Instant,
    stop: Option<Stop>,
    last_look: Instant,
    /// Raised with `stop`: the media code looks at it before every sample it reads.
    interrupt: Interrupt,
}

impl Running {
    fn ask(&mut self, stop: Stop) -> Option<Stop> {
        self.stop.get_or_insert(stop);
        self.interrupt.stop();
        self.stop
    }
}

impl State {
    fn usage_of(&self, account: u64, now: Instant) -> f64 {
        let past = self
            .usage
            .get(&account)
            .map_or(0.0, |(secs, at)| decayed(*secs, now.duration_since(*at)));
        let running: f64 = self
            .running
            .values()
            .filter(|r| r.account == Some(account))
            .map(|r| now.duration_since(r.started).as_secs_f64())
            .sum();
        past + running
    }
}

fn decayed(secs: f64, after: Duration) -> f64 {
    secs * 0.5f64.powf(after.as_secs_f64() / USAGE_HALF_LIFE.as_secs_f64())
}

/// A media job running on behalf of `account` for one video: dropping it records the time it
/// took against the account.
#[derive(Debug)]
pub struct Ticket<'a> {
    work: &'a Work,
    video: uuid::Uuid,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        let mut state = self.work.lock();
        if let Some(r) = state.running.remove(&self.video)
            && let Some(account) = r.account
        {
            let now = Instant::now();
            let used = r.started.elapsed().as_secs_f64();
            let entry = state.usage.entry(account).or_insert((0.0, now));
            *entry = (decayed(entry.0, now.duration_since(entry.1)) + used, now);
        }
        drop(state);
        self.work.changed.notify_all();
    }
}

impl Ticket<'_> {
    /// Why the job was asked to stop, if it was.
    pub fn stop(&self) -> Option<Stop> {
        self.work
            .lock()
            .running
            .get(&self.video)
            .and_then(|r| r.stop)
    }
}

impl Work {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A job for `video`, owned by `account`, starts, with `interrupt` to stop it (carrying its
    /// budget of time).
    pub fn begin(
        &self,
        video: uuid::Uuid,
        account: Option<u64>,
        interrupt: Interrupt,
    ) -> Ticket<'_> {
        let now = Instant::now();
        self.lock().running.insert(
            video,
            Running {
                account,
                started: now,
                stop: None,
                last_look: now,
                interrupt,
            },
        );
        Ticket { work: self, video }
    }

    /// What the job running for `video` stops on (never raised when none runs).
    pub fn interrupt_of(&self, video: &uuid::Uuid) -> Interrupt {
        self.lock()
            .running
            .get(video)
            .map_or_else(Interrupt::never, |r| r.interrupt.clone())
    }

    /// Ask the job running for `video`, if any, to stop: the video is gone.
    pub fn cancel(&self, video: &uuid::Uuid) {
        if let Some(r) = self.lock().running.get_mut(video) {
            r.ask(Stop::Cancelled);
        }
    }

    /// Ask every running job to stop: the server is stopping.
    pub fn stop_all(&self) {
        for r in self.lock().running.values_mut() {
            r.ask(Stop::Shutdown);
        }
    }

    /// Wait until no job runs for `video`, at most `timeout`; whether none does.
    pub fn wait_idle(&self, video: &uuid::Uuid, timeout: Duration) -> bool {
        let state = self.lock();
        let (state, _) = self
            .changed
            .wait_timeout_while(state, timeout, |s| s.running.contains_key(video))
            .unwrap_or_else(|p| p.into_inner());
        !state.running.contains_key(video)
    }

    /// An account's use of the workers now, in (decayed) seconds.
    pub fn usage_of(&self, account: u64) -> f64 {
        self.lock().usage_of(account, Instant::now())
    }
}

/// Whether the job running for `video` must stop between two pictures, and why. Cheap: one
/// lock per picture, and at most every `LOOK_EVERY` a look whether the video still exists
/// (however it was deleted: alone, with its channel or its account) and, once the slice is used
/// up, at the queue.
pub fn stop_requested(core: &Core, video: &uuid::Uuid) -> Option<Stop> {
    if core.stopping.load(std::sync::atomic::Ordering::SeqCst) {
        return Some(Stop::Shutdown);
    }
    let slice = Duration::from_secs(core.config().jobs.time_slice_secs);
    let now = Instant::now();
    let (account, slice_over) = {
        let mut state = core.work.lock();
        let r = state.running.get_mut(video)?;
        if r.stop.is_some() {
            return r.stop;
        }
        if now.duration_since(r.last_look) < LOOK_EVERY {
            return None;
        }
        r.last_look = now;
        // A job is asked to give way only once it has kept some work for good (a finished
        // GOP): one that cannot finish a GOP within a slice would otherwise start over at every
        // turn and never end (two such jobs take turns for ever).
        let kept = r.interrupt.kept() > 0;
        (r.account, kept && now.duration_since(r.started) >= slice)
    };
    let stop = if !video_exists(core, video).unwrap_or(true) {
        Stop::Cancelled
    } else if slice_over
        && let Some(account) = account
        && someone_else_waits(core, account).unwrap_or(false)
    {
        Stop::Yield
    } else {
        return None;
    };
    let mut state = core.work.lock();
    state.running.get_mut(video)?.ask(stop)
}

fn video_exists(core: &Core, video: &uuid::Uuid) -> Result<bool> {
    Ok(videos::find(&core.store.read()?, &video.to_string())?.is_some())
}

/// Whether a due media job of another account, which has used the workers less, waits.
fn someone_else_waits(core: &Core, account: u64) -> Result<bool> {
    let tx = core.store.read()?;
    let mine = core.work.usage_of(account);
    for job in store_jobs::due(&tx, crate::model::now_ms(), Lane::Media, CHOICES)? {
        let owner = owner_of(&tx, &job.kind)?;
        if owner != Some(account) && owner.is_none_or(|o| core.work.usage_of(o) < mine) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The account a media job works for: its video's owner (`None` when the video is gone, or
/// for a job about no video).
pub fn owner_of(tx: &impl Tx, kind: &JobKind) -> Result<Option<u64>> {
    let (JobKind::ProcessUpload { video_id } | JobKind::TranscodeLadder { video_id }) = kind else {
        return Ok(None);
    };
    let Some(video) = videos::get(tx, *video_id)? else {
        return Ok(None);
    };
    Ok(channels::get(tx, video.channel_id)?.map(|c| c.account_id))
}

/// Which kind of job goes first within one account: removing files is quick, making a video
/// watchable comes before improving one that already plays.
fn kind_rank(kind: &JobKind) -> u8 {
    match kind {
        JobKind::RemoveVideoFiles { .. } | JobKind::IndexVideos { .. } => 0,
        JobKind::ProcessUpload { .. } => 1,
        JobKind::TranscodeLadder { .. } => 2,
    }
}

/// The due media job a free worker should take: the one whose owner has used the workers
/// least, then by kind, then the oldest.
pub fn choose(core: &Core, tx: &impl Tx, now_ms: i64) -> Result<Option<Job>> {
    let mut best: Option<((f64, u8, i64, u64), Job)> = None;
    for job in store_jobs::due(tx, now_ms, Lane::Media, CHOICES)? {
        let usage = match owner_of(tx, &job.kind)? {
            Some(account) => core.work.usage_of(account),
            None => 0.0,
        };
        let key = (usage, kind_rank(&job.kind), job.run_after_ms, job.id);
        let better = best.as_ref().is_none_or(|(k, _)| {
            key.0 < k.0 || (key.0 == k.0 && (key.1, key.2, key.3) < (k.1, k.2, k.3))
        });
        if better {
            best = Some((key, job));
        }
    }
    Ok(best.map(|(_, job)| job))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_counts_running_jobs_and_decays() {
        let work = Work::default();
        let a = uuid::Uuid::new_v4();
        let ticket = work.begin(a, Some(7), Interrupt::never());
        std::thread::sleep(Duration::from_millis(50));
        assert!(work.usage_of(7) >= 0.05);
        assert_eq!(work.usage_of(8), 0.0);
        drop(ticket);
        let after = work.usage_of(7);
        assert!((0.05..1.0).contains(&after), "{after}");
        assert!(decayed(100.0, USAGE_HALF_LIFE) - 50.0 < 1e-9);
    }

    #[test]
    fn a_cancelled_job_says_so_and_idle_is_seen() {
        let work = Work::default();
        let v = uuid::Uuid::new_v4();
        let ticket = work.begin(v, None, Interrupt::never());
        assert!(!work.wait_idle(&v, Duration::from_millis(10)));
        let interrupt = work.interrupt_of(&v);
        work.cancel(&v);
        assert_eq!(ticket.stop(), Some(Stop::Cancelled));
        assert!(interrupt.check().is_err(), "the media code sees it too");
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(50));
                drop(ticket);
            });
            assert!(work.wait_idle(&v, Duration::from_secs(5)));
        });
    }
}
