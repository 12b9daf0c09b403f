//! The federation worker: runs the chores (`chores`), fans out video changes (`fanout`), and
//! sends the queued activities (`service::deliveries`) to other servers' inboxes, signed by
//! their local actor, reporting each outcome so that failures are tried again with backoff.
//! Chores and sends are two pools (`pool`) of `federation.delivery_concurrency` each, so a long
//! run of chores (a followed server's outbox) never holds the deliveries back, and a server that
//! hangs holds one slot, not the rest; sends go one at a time per host. All wait on
//! `Core::deliveries_wake` (rung by every commit that queues a chore, an event or a delivery)
//! or until their next retry is due.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::http::{HeaderMap, Method, StatusCode};
use tokio::sync::Notify;

use super::actors::actor_id;
use super::client::{self, Request, insert};
use super::pool::{self, Queue};
use super::signatures;
use crate::model::federation::Delivery;
use crate::model::now_ms;
use crate::service::urls::Urls;
use crate::service::{Core, ServiceError, actors, blocklist, deliveries, keys};

/// The longest the fan-out sleeps without looking at the outbox.
const IDLE_POLL: Duration = Duration::from_secs(60);

/// Start the worker; it runs until the task is aborted (at shutdown), and its pools with it. A
/// chore or delivery in flight then is tried again when its lease runs out.
pub fn start(core: Arc<Core>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let limit = core.config().federation.delivery_concurrency;
        let chores_wake = Arc::new(Notify::new());
        let sends_wake = Arc::new(Notify::new());
        // Dropped, and so aborted, with this task.
        let mut pools = tokio::task::JoinSet::new();
        pools.spawn(pool::run::<super::chores::Chores>(
            core.clone(),
            limit,
            chores_wake.clone(),
        ));
        pools.spawn(pool::run::<Sends>(core.clone(), limit, sends_wake.clone()));
        loop {
            let wake = core.deliveries_wake.notified();
            let fanned = match super::fanout::run(&core).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "fanning out video changes");
                    0
                }
            };
            // One ring for the pools, each kept until it next waits: the sends start on this
            // batch's deliveries while the next batch is fanned out.
            chores_wake.notify_one();
            sends_wake.notify_one();
            if fanned == 0 {
                let _ = tokio::time::timeout(IDLE_POLL, wake).await;
            }
        }
    })
}

/// The deliveries as a queue for a pool: keyed by host, so each host gets one at a time.
struct Sends;

impl Queue for Sends {
    type Work = Delivery;
    const NAME: &'static str = "deliveries";

    fn claim(
        core: &Core,
        limit: usize,
        busy: &HashSet<String>,
    ) -> Result<Vec<Delivery>, ServiceError> {
        // Long enough for a send to finish or time out before anyone claims it again.
        let lease_ms = i64::try_from(core.config().federation.fetch_timeout_secs)
            .unwrap_or(60)
            .saturating_mul(3000);
        deliveries::claim_due(core, now_ms(), limit, lease_ms, busy)
    }

    fn key(d: &Delivery) -> Option<String> {
        crate::service::delivery_hosts::host_of(&d.inbox)
    }

    fn next_due_ms(core: &Core) -> Result<Option<i64>, ServiceError> {
        deliveries::next_due_ms(core)
    }

    async fn run(core: Arc<Core>, d: Delivery) {
        deliver(&core, d).await
    }
}

/// Send one delivery and record the outcome.
async fn deliver(core: &Arc<Core>, d: Delivery) {
    let outcome = send(core, &d).await;
    let c = core.clone();
    let config = core.config();
    let backoff = crate::service::backoff::Backoff {
        first_retry_ms: i64::try_from(config.federation.delivery_first_retry_secs)
            .unwrap_or(30)
            .saturating_mul(1000),
        give_up_after_ms: i64::try_from(config.federation.delivery_give_up_hours)
            .unwrap_or(168)
            .saturating_mul(3_600_000),
    };
    let record = tokio::task::spawn_blocking(move || match outcome {
        Ok(()) => deliveries::delivered(&c, d.id).map(|()| None),
        Err((error, is_final)) => deliveries::failed(&c, d.id, &error, is_final, now_ms(), backoff)
            .map(|next| Some((error, next))),
    })
    .await;
    match record {
        Ok(Ok(None)) => tracing::debug!(inbox = %d.inbox, "delivered"),
        Ok(Ok(Some((error, next)))) => {
            tracing::info!(inbox = %d.inbox, error, retry_at_ms = next, "delivery failed")
        }
        Ok(Err(e)) => tracing::warn!(error = %e, "recording a delivery"),
        Err(e) => tracing::warn!(error = %e, "recording a delivery"),
    }
}

/// POST the activity; `Err((why, final))` when it did not arrive, `final` when trying again is
/// pointless (the inbox refused it for good).
async fn send(core: &Arc<Core>, d: &Delivery) -> Result<(), (String, bool)> {
    let url = url::Url::parse(&d.inbox).map_err(|e| (format!("bad inbox URL: {e}"), true))?;
    if let Some(host) = signatures::host_header(&url) {
        let c = core.clone();
        let blocked = tokio::task::spawn_blocking(move || blocklist::is_host_blocked(&c, &host))
            .await
            .map_err(|e| (e.to_string(), false))?
            .map_err(|e| (e.to_string(), false))?;
        if blocked {
            return Err((format!("{} is on a blocked server", d.inbox), true));
        }
    }
    let headers = sign(core, d, &url)
        .await
        .map_err(|e| (e.to_string(), false))?;
    let config = core.config();
    let answer = client::send(
        &config,
        Request {
            method: Method::POST,
            url: &url,
            headers,
            body: Some(d.activity.clone().into_bytes()),
        },
    )
    .await
    .map_err(|e| {
        let is_final = matches!(e, client::FetchError::Refused(..));
        (e.to_string(), is_final)
    })?;
    if answer.status.is_success() {
        return Ok(());
    }
    // As Mastodon: 401 (a key not yet fetched), 408 and 429 are worth retrying; other 4xx not.
    let retry = answer.status.is_server_error()
        || matches!(
            answer.status,
            StatusCode::UNAUTHORIZED | StatusCode::REQUEST_TIMEOUT | StatusCode::TOO_MANY_REQUESTS
        );
    Err((format!("{} answered {}", d.inbox, answer.status), !retry))
}

/// The headers of a signed POST of `d`.
async fn sign(core: &Arc<Core>, d: &Delivery, url: &url::Url) -> Result<HeaderMap, ServiceError> {
    let core = core.clone();
    let d = d.clone();
    let url = url.clone();
    tokio::task::spawn_blocking(move || {
        let local = actors::local_by_ref(&core, d.signer)?
            .ok_or(ServiceError::NotFound("the signing actor"))?;
        let key = keys::actor_key(&core, d.signer)?;
        let key_id = format!("{}#main-key", actor_id(&Urls::new(&core.config()), &local));
        let signed = signatures::sign(
            &key,
            &key_id,
            &Method::POST,
            &url,
            Some(d.activity.as_bytes()),
            SystemTime::now(),
        )?;
        let mut h = HeaderMap::new();
        insert(&mut h, "date", &signed.date)?;
        if let Some(digest) = &signed.digest {
            insert(&mut h, "digest", digest)?;
        }
        insert(&mut h, "signature", &signed.signature)?;
        insert(&mut h, "content-type", "application/activity+json")?;
        insert(&mut h, "accept", client::ACCEPT_ACTIVITY)?;
        Ok(h)
    })
    .await
    .map_err(|e| ServiceError::internal("signing a delivery", e))?
}
