//! Background work: a pool of `jobs.workers` threads for media jobs plus one thread for the
//! search index's (`model::job::Lane`), apart from the HTTP runtime and at a lower CPU priority
//! (`jobs.nice`), that run the persistent jobs in `store::jobs`, each claiming one at a time,
//! retrying failures with backoff. Jobs left running by a crash are put back in the queue
//! at start (`store::jobs::requeue_interrupted`).

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::model::job::{Job, JobKind, Lane};
use crate::model::now_ms;
use crate::service::Core;
use crate::service::pipeline::PipelineError;
use crate::store::jobs;

/// Attempts before a job is marked failed for good.
pub const MAX_ATTEMPTS: u32 = 8;

/// The running worker threads; `stop` waits for the jobs in hand to finish.
#[derive(Debug)]
pub struct Worker {
    shared: Arc<Shared>,
    handles: Vec<JoinHandle<()>>,
}

#[derive(Debug, Default)]
struct Shared {
    stop: AtomicBool,
}

/// A doorbell for the workers: whoever commits a job rings it, so the job starts at once instead
/// of at the next poll. Rings are counted, so a worker that looked at the queue before a ring
/// and waits after it still wakes, and every waiting worker (each lane) sees every ring.
#[derive(Debug, Default)]
pub struct Wake {
    rings: Mutex<u64>,
    cv: Condvar,
}

impl Wake {
    pub fn notify(&self) {
        *self.rings.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        self.cv.notify_all();
    }

    /// The number of rings so far; pass it to `wait` after looking at the queue.
    fn seen(&self) -> u64 {
        *self.rings.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Wait for a ring after `seen`, at most `timeout`.
    fn wait(&self, seen: u64, timeout: Duration) {
        let rings = self.rings.lock().unwrap_or_else(|p| p.into_inner());
        let _ = self
            .cv
            .wait_timeout_while(rings, timeout, |r| *r == seen)
            .unwrap_or_else(|p| p.into_inner());
    }
}

impl Worker {
    /// Requeue interrupted jobs, then start the worker thread.
    pub fn start(core: Arc<Core>) -> std::io::Result<Worker> {
        match core
            .store
            .write(|tx| jobs::requeue_interrupted(tx, now_ms()))
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(jobs = n, "resuming jobs interrupted by the last shutdown"),
            Err(e) => tracing::error!(error = %e, "could not requeue interrupted jobs"),
        }
        let shared = Arc::new(Shared::default());
        let mut handles = Vec::new();
        let lanes = (0..core.config().jobs.workers.max(1))
            .map(|n| (format!("vireo-jobs-{n}"), Lane::Media))
            .chain(std::iter::once(("vireo-index".to_owned(), Lane::Index)));
        for (name, lane) in lanes {
            let (core, thread_shared) = (core.clone(), shared.clone());
            let nice = core.config().jobs.nice;
            handles.push(std::thread::Builder::new().name(name).spawn(move || {
                lower_priority(nice);
                run(&core, &thread_shared, lane)
            })?);
        }
        Ok(Worker { shared, handles })
    }

    pub fn stop(self, core: &Core) {
        self.shared.stop.store(true, Ordering::SeqCst);
        core.stopping.store(true, Ordering::SeqCst);
        core.jobs_wake.notify();
        for h in self.handles {
            let _ = h.join();
        }
    }
}

fn run(core: &Core, shared: &Shared, lane: Lane) {
    while !shared.stop.load(Ordering::SeqCst) {
        let seen = core.jobs_wake.seen();
        match core.store.write(|tx| jobs::claim_due(tx, now_ms(), lane)) {
            Ok(Some(job)) => match execute(core, &job) {
                Outcome::Done(result) => finish(core, &job, result),
                // Left claimed: `requeue_interrupted` puts it back at the next start, without
                // counting an attempt.
                Outcome::Interrupted => tracing::info!(job = job.id, "job interrupted by shutdown"),
            },
            Ok(None) => core.jobs_wake.wait(seen, Duration::from_secs(1)),
            Err(e) => {
                tracing::error!(error = %e, "job queue unavailable");
                core.jobs_wake.wait(seen, Duration::from_secs(1));
            }
        }
    }
}

/// Give the calling thread a niceness of `nice` (on Linux, niceness is per thread), so that
/// request handling always gets the CPU first.
fn lower_priority(nice: i32) {
    let tid = rustix::thread::gettid();
    if let Err(e) = rustix::process::setpriority_process(Some(tid), nice) {
        tracing::warn!(error = %e, "could not lower the job thread's priority");
    }
}

fn finish(core: &Core, job: &Job, outcome: Result<(), String>) {
    let result = match &outcome {
        Ok(()) => core.store.write(|tx| jobs::complete(tx, job.id)),
        Err(reason) => {
            tracing::warn!(job = job.id, attempt = job.attempts, %reason, "job failed");
            core.store
                .write(|tx| jobs::fail(tx, job.id, reason, now_ms(), MAX_ATTEMPTS))
        }
    };
    if let Err(e) = result {
        tracing::error!(job = job.id, error = %e, "could not record job outcome");
    }
}

/// How a job's run ended.
enum Outcome {
    /// Finished, or failed with a reason (then retried with backoff).
    Done(Result<(), String>),
    /// The server is stopping and the job gave up part-way.
    Interrupted,
}

/// Do one job's work. Each kind must be idempotent: a crash may run it twice.
fn execute(core: &Core, job: &Job) -> Outcome {
    match &job.kind {
        JobKind::ProcessUpload { video_id } => {
            let result = crate::service::pipeline::process_upload(core, *video_id);
            upload_outcome(core, job, *video_id, result)
        }
        JobKind::TranscodeLadder { video_id } => {
            match crate::service::ladder::transcode(core, *video_id) {
                Ok(()) => Outcome::Done(Ok(())),
                Err(PipelineError::Cancelled) => Outcome::Interrupted,
                // The video plays from its remuxed copy: a ladder that cannot be made is logged,
                // not held against the video.
                Err(PipelineError::Permanent(reason)) => {
                    tracing::warn!(video = video_id, %reason, "no AV1 ladder for this video");
                    Outcome::Done(Ok(()))
                }
                Err(PipelineError::Transient(reason)) => Outcome::Done(Err(reason)),
            }
        }
        JobKind::RemoveVideoFiles { uuid } => Outcome::Done(remove_files(core, uuid)),
        JobKind::IndexVideos { video_ids } => Outcome::Done(
            crate::service::search::index_videos(core, video_ids).map_err(|e| e.to_string()),
        ),
    }
}

/// What a failed upload means for its video: a permanent failure, or a transient one at the
/// last attempt, marks it failed with the reason its owner sees.
fn upload_outcome(
    core: &Core,
    job: &Job,
    video_id: u64,
    result: Result<(), PipelineError>,
) -> Outcome {
    let mark = |reason: &str| {
        crate::service::pipeline::mark_failed(core, video_id, reason).map_err(|e| e.to_string())
    };
    Outcome::Done(match result {
        Ok(()) => Ok(()),
        Err(PipelineError::Cancelled) => return Outcome::Interrupted,
        Err(PipelineError::Permanent(reason)) => {
            tracing::warn!(video = video_id, %reason, "the upload cannot be processed");
            mark(&reason)
        }
        Err(PipelineError::Transient(reason)) if job.attempts >= MAX_ATTEMPTS => {
            // The last try: the owner learns why instead of waiting forever.
            mark(&reason).and(Err(reason))
        }
        Err(PipelineError::Transient(reason)) => Err(reason),
    })
}

/// Remove every file of a deleted video.
fn remove_files(core: &Core, uuid: &uuid::Uuid) -> Result<(), String> {
    let dir = media_dir(&core.config().storage.data_dir).join(uuid.to_string());
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("removing {}: {e}", dir.display())),
    }
}

/// Where a video's files live: `<data dir>/media/<uuid>/`.
pub fn media_dir(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("media")
}
