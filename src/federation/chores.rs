//! The federation worker's chores (`service::chores`): finding and following the actor an
//! administrator named, building the `Undo`, `Accept` and `Reject` that unfollows and
//! answers to followers send, and bringing remote videos in (`ingest`). A chore that needs the network and fails (a host that does not
//! answer) is tried again with backoff; what a chore sends is queued as a delivery in the
//! transaction that ends it.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::{Value, json};

use super::actors::actor_id;
use super::fetcher::{self, ActorError};
use super::ingest::{self, IngestError};
use super::pool::Queue;
use super::resolve::{self, ResolveError};
use crate::model::account::ActorRef;
use crate::model::federation::{Chore, QueuedChore, RateKind, SentRate};
use crate::model::now_ms;
use crate::service::urls::{self, Urls};
use crate::service::{
    Core, ServiceError, actors, blocklist, chores, deliveries, following, remote_videos,
};

const AS_CONTEXT: &str = "https://www.w3.org/ns/activitystreams";

/// Why a chore failed.
#[derive(Debug, thiserror::Error)]
enum ChoreError {
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    #[error(transparent)]
    Actor(#[from] ActorError),
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error("{0} is an actor of this instance")]
    Local(String),
    #[error(transparent)]
    Ingest(#[from] IngestError),
}

/// The chores as a queue for the worker's pool (`pool`): any number may fetch from one host at
/// once, as an outbox crawl's fetches do.
pub struct Chores;

impl Queue for Chores {
    type Work = QueuedChore;
    const NAME: &'static str = "chores";

    fn claim(
        core: &Core,
        limit: usize,
        _busy: &HashSet<String>,
    ) -> Result<Vec<QueuedChore>, ServiceError> {
        // Longer than a chore's fetches can take, so no other claim takes it while it runs.
        let lease_ms = i64::try_from(core.config().federation.fetch_timeout_secs)
            .unwrap_or(60)
            .saturating_mul(4000);
        chores::claim_due(core, now_ms(), lease_ms, limit)
    }

    fn key(_: &QueuedChore) -> Option<String> {
        None
    }

    fn next_due_ms(core: &Core) -> Result<Option<i64>, ServiceError> {
        chores::next_due_ms(core)
    }

    async fn run(core: Arc<Core>, chore: QueuedChore) {
        run_one(&core, chore).await
    }
}

async fn run_one(core: &Arc<Core>, queued: QueuedChore) {
    let id = queued.id;
    let outcome = match queued.chore {
        Chore::Follow { host, name } => follow(core, id, &host, name.as_deref()).await,
        Chore::Ingest { url, via } => {
            let outcome = ingest::video(core, &url, via.as_deref()).await;
            settle(core, id, &url, outcome.map(|kept| format!("{kept:?}"))).await
        }
        Chore::Crawl {
            url,
            via,
            pages_left,
        } => {
            let outcome = ingest::crawl(core, &url, &via, pages_left).await;
            settle(core, id, &url, outcome.map(|()| "read".to_owned())).await
        }
        other => {
            let c = core.clone();
            tokio::task::spawn_blocking(move || send_built(&c, id, other))
                .await
                .unwrap_or_else(|e| Err(ServiceError::internal("a chore", e)))
                .map_err(ChoreError::from)
        }
    };
    let Err(error) = outcome else {
        return;
    };
    let c = core.clone();
    let text = error.to_string();
    let recorded =
        tokio::task::spawn_blocking(move || chores::failed(&c, id, &text, now_ms())).await;
    match recorded {
        Ok(Ok(Some(at))) => tracing::info!(%error, retry_at_ms = at, "federation chore failed"),
        Ok(Ok(None)) => tracing::warn!(%error, "federation chore failed; given up"),
        Ok(Err(e)) => tracing::warn!(error = %e, "recording a chore"),
        Err(e) => tracing::warn!(error = %e, "recording a chore"),
    }
}

/// End an `Ingest` or `Crawl` chore: done when it worked or cannot work; left to be tried
/// again when the origin or the store may answer later.
async fn settle(
    core: &Arc<Core>,
    chore: u64,
    url: &str,
    outcome: Result<String, IngestError>,
) -> Result<(), ChoreError> {
    match outcome {
        Ok(what) => tracing::debug!(url, what, "remote video chore done"),
        Err(e) if e.is_transient() => return Err(ChoreError::Ingest(e)),
        Err(e) => tracing::info!(url, error = %e, "remote video not kept"),
    }
    let c = core.clone();
    tokio::task::spawn_blocking(move || chores::done(&c, chore))
        .await
        .map_err(|e| ServiceError::internal("a chore", e))??;
    Ok(())
}

/// Find the actor, fetch it, and follow it.
async fn follow(
    core: &Arc<Core>,
    chore: u64,
    host: &str,
    name: Option<&str>,
) -> Result<(), ChoreError> {
    let config = core.config();
    let c = core.clone();
    let lowered = host.to_ascii_lowercase();
    let blocked = tokio::task::spawn_blocking(move || blocklist::is_host_blocked(&c, &lowered))
        .await
        .map_err(|e| ServiceError::internal("a follow", e))??;
    if blocked {
        tracing::info!(host, "not following a blocked server");
        let c = core.clone();
        return tokio::task::spawn_blocking(move || chores::done(&c, chore))
            .await
            .map_err(|e| ServiceError::internal("a follow", e))?
            .map_err(ChoreError::from);
    }
    let url = resolve::actor_url(&config, host, name).await?;
    let urls = Urls::new(&config);
    if url.as_str().starts_with(&format!("{}/", urls.base())) {
        return Err(ChoreError::Local(url.to_string()));
    }
    let target = fetcher::actor(core, &url).await?;
    let c = core.clone();
    tokio::task::spawn_blocking(move || {
        let me = instance_actor(&c)?;
        let sent = following::start(
            &c,
            &target,
            |n| format!("{me}/follows/{n}"),
            |follow_id| {
                json!({
                    "@context": AS_CONTEXT,
                    "id": follow_id,
                    "type": "Follow",
                    "actor": me,
                    "object": target.id,
                })
                .to_string()
            },
            now_ms(),
        )?;
        tracing::info!(target = %target.id, sent, "following");
        chores::done(&c, chore)
    })
    .await
    .map_err(|e| ServiceError::internal("a follow", e))??;
    Ok(())
}

/// The instance actor's id.
fn instance_actor(core: &Core) -> Result<String, ServiceError> {
    let name = actors::instance_actor_name(&core.store.read()?)?;
    Ok(Urls::new(&core.config()).absolute(&urls::account_actor(&name)))
}

/// Build the activity a chore sends and queue its delivery, ending the chore.
fn send_built(core: &Core, chore: u64, what: Chore) -> Result<(), ServiceError> {
    let (signer, inbox, activity) = match what {
        Chore::Follow { .. } | Chore::Ingest { .. } | Chore::Crawl { .. } => return Ok(()),
        Chore::View { video, count } => return send_views(core, chore, &video, count),
        Chore::Rate {
            video,
            by,
            rate,
            undo,
        } => return send_rate(core, chore, &video, by, &rate, undo),
        Chore::Unfollow {
            target,
            inbox,
            follow_id,
        } => {
            // What came through the unfollowed actor alone goes with it.
            let forgotten = remote_videos::forget_through(core, &target)?;
            tracing::info!(%target, forgotten, "unfollowed");
            let me = instance_actor(core)?;
            (
                ActorRef::Instance,
                inbox,
                undo_follow(&me, &target, &follow_id),
            )
        }
        Chore::Answer {
            following,
            follower,
            inbox,
            follow_id,
            accept,
        } => {
            // The followed actor may be gone (a deleted channel): nothing to answer for it.
            let Some(local) = actors::local_by_ref(core, following)? else {
                return chores::done(core, chore);
            };
            let me = actor_id(&Urls::new(&core.config()), &local);
            (following, inbox, answer(&me, &follower, &follow_id, accept))
        }
    };
    let text = activity.to_string();
    chores::finish(core, chore, |tx| {
        deliveries::enqueue(tx, signer, &inbox, &text, now_ms())?;
        Ok(())
    })
}

/// Send `count` views of the remote video at `video` to its origin: one `View` each, from
/// the instance actor, to the inbox of the video's account (its server's shared inbox when it
/// has one). A video or account gone meanwhile leaves nothing to tell.
fn send_views(core: &Core, chore: u64, video: &str, count: u32) -> Result<(), ServiceError> {
    let Some(inbox) = remote_videos::origin_inbox(core, video)? else {
        return chores::done(core, chore);
    };
    let me = instance_actor(core)?;
    // At most a hundred per chore: a flood of views is still a handful of requests each.
    let views: Vec<String> = (0..count.min(100))
        .map(|_| view(&me, video).to_string())
        .collect();
    chores::finish(core, chore, |tx| {
        for activity in &views {
            deliveries::enqueue(tx, ActorRef::Instance, &inbox, activity, now_ms())?;
        }
        Ok(())
    })
}

/// Send a local account's rate of the remote video at `video` (or its `Undo`) to the video's
/// origin, signed as that account. An account or video gone meanwhile leaves nothing to tell.
fn send_rate(
    core: &Core,
    chore: u64,
    video: &str,
    by: ActorRef,
    rate: &SentRate,
    undo: bool,
) -> Result<(), ServiceError> {
    let (Some(inbox), Some(local)) = (
        remote_videos::origin_inbox(core, video)?,
        actors::local_by_ref(core, by)?,
    ) else {
        return chores::done(core, chore);
    };
    let me = actor_id(&Urls::new(&core.config()), &local);
    let activity = match undo {
        true => undo_rate(&me, video, rate),
        false => rated(&me, video, rate),
    }
    .to_string();
    chores::finish(core, chore, |tx| {
        deliveries::enqueue(tx, by, &inbox, &activity, now_ms())?;
        Ok(())
    })
}

/// `me`'s `Like` or `Dislike` of `video`, as PeerTube sends one.
fn rated(me: &str, video: &str, rate: &SentRate) -> Value {
    let kind = match rate.kind {
        RateKind::Like => "Like",
        RateKind::Dislike => "Dislike",
    };
    json!({
        "@context": AS_CONTEXT,
        "id": rate.id,
        "type": kind,
        "actor": me,
        "object": video,
    })
}

/// The `Undo` of `me`'s rate of `video`.
fn undo_rate(me: &str, video: &str, rate: &SentRate) -> Value {
    let mut undone = rated(me, video, rate);
    if let Some(o) = undone.as_object_mut() {
        o.remove("@context");
    }
    json!({
        "@context": AS_CONTEXT,
        "id": format!("{}/undo", rate.id),
        "type": "Undo",
        "actor": me,
        "object": undone,
    })
}

/// One view of `video` by the instance actor `me`, as PeerTube sends one (no `expires`: a
/// view counted, not a viewer present).
fn view(me: &str, video: &str) -> Value {
    json!({
        "@context": AS_CONTEXT,
        "id": format!("{me}/views/videos/{}", uuid::Uuid::new_v4()),
        "type": "View",
        "actor": me,
        "object": video,
    })
}

/// The `Undo` of the instance's `Follow` of `target`.
fn undo_follow(me: &str, target: &str, follow_id: &str) -> Value {
    json!({
        "@context": AS_CONTEXT,
        "id": format!("{follow_id}/undo"),
        "type": "Undo",
        "actor": me,
        "object": {"id": follow_id, "type": "Follow", "actor": me, "object": target},
    })
}

/// The `Accept` or `Reject` of `follower`'s `Follow` of `me`.
pub fn answer(me: &str, follower: &str, follow_id: &str, accept: bool) -> Value {
    let (kind, path) = if accept {
        ("Accept", "accepts")
    } else {
        ("Reject", "rejects")
    };
    json!({
        "@context": AS_CONTEXT,
        "id": format!("{me}#{path}/follows/{}", uuid::Uuid::new_v4()),
        "type": kind,
        "actor": me,
        "object": {"id": follow_id, "type": "Follow", "actor": follower, "object": me},
    })
}
