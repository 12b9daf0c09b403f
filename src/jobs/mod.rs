//! Background work: a pool of `jobs.workers` threads for media jobs plus one thread for the
//! search index's (`model::job::Lane`), apart from the HTTP runtime and at a lower CPU priority
//! (`jobs.nice`), that run the persistent jobs in `store::jobs`, each claiming one at a time,
//! retrying failures with backoff. Media workers take the job `service::work` chooses (each
//! account's fair share), and a job may give its worker back (a time slice) or be cancelled
//! (its video deleted). Jobs left running by a crash are put back in the queue at start
//! (`store::jobs::requeue_interrupted`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::media::interrupt::Interrupt;
use crate::model::job::{Job, JobKind, Lane};
use crate::model::now_ms;
use crate::service::Core;
use crate::service::processing::PipelineError;
use crate::service::work::{Stop, Ticket};
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
            // A larger stack than the upload's probe had (`media::inspect`): what it read whole,
            // the pipeline reads whole.
            let builder = std::thread::Builder::new()
                .name(name)
                .stack_size(crate::media::inspect::JOB_STACK);
            handles.push(builder.spawn(move || {
                lower_priority(nice);
                run(&core, &thread_shared, lane)
            })?);
        }
        Ok(Worker { shared, handles })
    }

    pub fn stop(self, core: &Core) {
        self.shared.stop.store(true, Ordering::SeqCst);
        core.stopping.store(true, Ordering::SeqCst);
        core.work.stop_all();
        core.jobs_wake.notify();
        for h in self.handles {
            let _ = h.join();
        }
    }
}

fn run(core: &Core, shared: &Shared, lane: Lane) {
    while !shared.stop.load(Ordering::SeqCst) {
        let seen = core.jobs_wake.seen();
        match core.store.write(|tx| claim(core, tx, lane)) {
            Ok(Some(job)) => match execute(core, &job) {
                Outcome::Done(result) => finish(core, &job, result),
                // Left claimed: `requeue_interrupted` puts it back at the next start, without
                // counting an attempt.
                Outcome::Interrupted => tracing::info!(job = job.id, "job interrupted by shutdown"),
                Outcome::Yielded => {
                    tracing::info!(job = job.id, "job gave its worker to another user's");
                    if let Err(e) = core
                        .store
                        .write(|tx| jobs::yield_back(tx, job.id, now_ms()))
                    {
                        tracing::error!(job = job.id, error = %e, "could not requeue a job");
                    }
                }
            },
            Ok(None) => core.jobs_wake.wait(seen, Duration::from_secs(1)),
            Err(e) => {
                tracing::error!(error = %e, "job queue unavailable");
                core.jobs_wake.wait(seen, Duration::from_secs(1));
            }
        }
    }
}

/// Videos indexed in one commit at most, when index jobs pile up.
const INDEX_BATCH: usize = 2000;

/// Claim the next job of `lane`: for media, the one `service::work` chooses; index jobs in
/// order, those due together as one.
fn claim(
    core: &Core,
    tx: &redb::WriteTransaction,
    lane: Lane,
) -> Result<Option<Job>, crate::service::ServiceError> {
    let now = now_ms();
    match lane {
        Lane::Index => Ok(jobs::claim_index_batch(tx, now, INDEX_BATCH)?),
        Lane::Media => match crate::service::work::choose(core, tx, now)? {
            Some(job) => Ok(Some(jobs::claim(tx, job)?)),
            None => Ok(None),
        },
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
    /// Its time slice is over and another user's job waits: back to the queue.
    Yielded,
}

/// What a job that stopped between two pictures should become, by why it was asked to stop.
fn stopped(ticket: &Ticket<'_>) -> Outcome {
    match ticket.stop() {
        // Its video is gone: there is nothing left to do.
        Some(Stop::Cancelled) => Outcome::Done(Ok(())),
        Some(Stop::Yield) => Outcome::Yielded,
        Some(Stop::Shutdown) | None => Outcome::Interrupted,
    }
}

/// The ticket a media job about a video runs under (`None` for other jobs, or a video gone).
fn ticket_for<'a>(core: &'a Core, kind: &JobKind) -> Option<Ticket<'a>> {
    let (JobKind::ProcessUpload { video_id } | JobKind::TranscodeLadder { video_id }) = kind else {
        return None;
    };
    let tx = core.store.read().ok()?;
    let video = crate::service::videos::get(&tx, *video_id).ok()??;
    let owner = crate::service::work::owner_of(&tx, kind).ok()?;
    let budget = time_budget(core, video.duration);
    let interrupt =
        Interrupt::with_budget(budget).with_memory_ceiling(core.config().jobs.max_memory_mb);
    Some(core.work.begin(video.uuid, owner, interrupt))
}

/// How long one run of a job about a video of `duration_secs` may take: a fixed part for the
/// small steps (`jobs.budget_base_secs`), and `jobs.budget_secs_per_video_sec` per second of video (the ladder on two
/// cores takes about three). Past it the job fails, saying so; a job that yields or resumes
/// starts a new run with the work it kept.
fn time_budget(core: &Core, duration_secs: u64) -> Duration {
    let jobs = &core.config().jobs;
    let per_sec = jobs.budget_secs_per_video_sec.saturating_mul(duration_secs);
    Duration::from_secs(jobs.budget_base_secs.saturating_add(per_sec))
}

/// Do one job's work. Each kind must be idempotent: a crash may run it twice.
fn execute(core: &Core, job: &Job) -> Outcome {
    let ticket = ticket_for(core, &job.kind);
    let cancelled = |ticket: &Option<Ticket<'_>>| match ticket {
        Some(t) => stopped(t),
        None => Outcome::Interrupted,
    };
    match &job.kind {
        JobKind::ProcessUpload { video_id } => {
            let result = crate::service::pipeline::process_upload(core, *video_id);
            if matches!(result, Err(PipelineError::Cancelled)) {
                return cancelled(&ticket);
            }
            upload_outcome(core, job, *video_id, result)
        }
        JobKind::TranscodeLadder { video_id } => {
            match crate::service::ladder::transcode(core, *video_id) {
                Ok(()) => Outcome::Done(Ok(())),
                Err(PipelineError::Cancelled) => cancelled(&ticket),
                // The video plays from its remuxed copy: a ladder that cannot be made is logged,
                // not held against the video.
                Err(PipelineError::Permanent(reason)) => {
                    tracing::warn!(video = video_id, %reason, "no AV1 ladder for this video");
                    Outcome::Done(Ok(()))
                }
                Err(PipelineError::Transient(reason)) => Outcome::Done(Err(reason)),
            }
        }
        JobKind::RemoveVideoFiles { uuid } => Outcome::Done(
            crate::service::media_files::remove_video_files(core, uuid).map_err(|e| e.to_string()),
        ),
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
        crate::service::processing::mark_failed(core, video_id, reason).map_err(|e| e.to_string())
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
