//! A worker pool over one of the federation queues (chores, deliveries): it keeps up to
//! `limit` pieces of work running, and claims more the moment one ends, so a slow piece (a
//! server that hangs until the timeout) holds up only its own slot, never a whole batch. Work
//! may name a key (a host): no two pieces with the same key run at once.
//!
//! Written by hand because it is a loop over `tokio::task::JoinSet`; the claiming, and so the
//! order and the leases, stay in `service/`.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::model::now_ms;
use crate::service::{Core, ServiceError};

/// The longest the pool sleeps without looking at its queue.
const IDLE_POLL: Duration = Duration::from_secs(60);

/// One federation queue, as the pool sees it.
pub trait Queue: Send + Sync + 'static {
    type Work: Send + 'static;
    /// What the queue is called in the logs.
    const NAME: &'static str;
    /// Up to `limit` pieces due now, none with a key in `busy`, each leased by the claim.
    fn claim(
        core: &Core,
        limit: usize,
        busy: &HashSet<String>,
    ) -> Result<Vec<Self::Work>, ServiceError>;
    /// The key no two running pieces share, if any.
    fn key(work: &Self::Work) -> Option<String>;
    /// When the next piece is due, if any is queued.
    fn next_due_ms(core: &Core) -> Result<Option<i64>, ServiceError>;
    /// Do the piece and record its outcome.
    fn run(core: Arc<Core>, work: Self::Work) -> impl Future<Output = ()> + Send;
}

/// Run queue `Q` with up to `limit` pieces at once until the task is aborted. `wake` is rung
/// when work may have been queued.
pub async fn run<Q: Queue>(core: Arc<Core>, limit: usize, wake: Arc<Notify>) {
    let limit = limit.max(1);
    let mut running = tokio::task::JoinSet::new();
    let mut keys: HashMap<tokio::task::Id, String> = HashMap::new();
    loop {
        let free = limit.saturating_sub(running.len());
        let claimed = if free > 0 {
            claim::<Q>(&core, free, keys.values().cloned().collect()).await
        } else {
            Vec::new()
        };
        let filled = free > 0 && claimed.len() == free;
        for work in claimed {
            let key = Q::key(&work);
            let handle = running.spawn(Q::run(core.clone(), work));
            if let Some(key) = key {
                keys.insert(handle.id(), key);
            }
        }
        if filled {
            // Every free slot found work: more may be due at once.
            continue;
        }
        let wait = until_next::<Q>(&core).await;
        tokio::select! {
            Some(ended) = running.join_next_with_id(), if !running.is_empty() => {
                keys.remove(&ended_id::<Q>(ended));
                // Those that ended meanwhile too: one claim refills all their slots.
                while let Some(ended) = running.try_join_next_with_id() {
                    keys.remove(&ended_id::<Q>(ended));
                }
            }
            _ = wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// The id of a task that ended, logged when it ended badly (a panic).
fn ended_id<Q: Queue>(
    ended: Result<(tokio::task::Id, ()), tokio::task::JoinError>,
) -> tokio::task::Id {
    match ended {
        Ok((id, ())) => id,
        Err(e) => {
            tracing::warn!(queue = Q::NAME, error = %e, "a federation task ended badly");
            e.id()
        }
    }
}

/// Claim work when some is due. A read first: most wakes (a commit elsewhere, a timer) find
/// nothing due, and a claim is a write transaction, committed to disk.
async fn claim<Q: Queue>(core: &Arc<Core>, limit: usize, busy: HashSet<String>) -> Vec<Q::Work> {
    let c = core.clone();
    let claim = move || {
        let due_now = Q::next_due_ms(&c)?.is_some_and(|at| at <= now_ms());
        if !due_now {
            return Ok(Vec::new());
        }
        Q::claim(&c, limit, &busy)
    };
    match tokio::task::spawn_blocking(claim).await {
        Ok(Ok(work)) => work,
        Ok(Err(e)) => {
            tracing::warn!(queue = Q::NAME, error = %e, "claiming federation work");
            Vec::new()
        }
        Err(e) => {
            tracing::warn!(queue = Q::NAME, error = %e, "claiming federation work");
            Vec::new()
        }
    }
}

/// How long to sleep when no free slot found work: until the next piece is due, or, when one
/// is due already (its key is busy), until a running piece ends or the idle poll.
async fn until_next<Q: Queue>(core: &Arc<Core>) -> Duration {
    let c = core.clone();
    let next = tokio::task::spawn_blocking(move || Q::next_due_ms(&c))
        .await
        .ok()
        .and_then(Result::ok)
        .flatten();
    match next {
        Some(at) if at > now_ms() => {
            let ms = u64::try_from(at.saturating_sub(now_ms())).unwrap_or(0);
            Duration::from_millis(ms).min(IDLE_POLL)
        }
        _ => IDLE_POLL,
    }
}
