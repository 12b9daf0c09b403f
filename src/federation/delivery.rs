//! The federation worker: runs the chores (`chores`), fans out video changes (`fanout`), and
//! sends the queued activities (`service::deliveries`) to other servers' inboxes, signed by
//! their local actor, a bounded number at once, reporting each outcome so that failures are
//! tried again with backoff. It waits on `Core::deliveries_wake` (rung by every commit that
//! queues a chore, an event or a delivery) or until the next retry is due.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::http::{HeaderMap, Method, StatusCode};

use super::actors::actor_id;
use super::client::{self, Request, insert};
use super::signatures;
use crate::model::federation::Delivery;
use crate::model::now_ms;
use crate::service::urls::Urls;
use crate::service::{Core, ServiceError, actors, blocklist, chores, deliveries, keys};

/// The longest the worker sleeps without looking at the queue.
const IDLE_POLL: Duration = Duration::from_secs(60);

/// Start the worker; it runs until the task is aborted (at shutdown). A delivery in flight then
/// is tried again when its lease runs out.
pub fn start(core: Arc<Core>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let wake = core.deliveries_wake.notified();
            // Each queue gets its turn every round, so a long run of chores (a followed
            // server's outbox) never holds the deliveries back.
            let mut busy = false;
            match super::chores::run(&core).await {
                Ok(n) => busy |= n > 0,
                Err(e) => tracing::warn!(error = %e, "federation chores"),
            }
            match super::fanout::run(&core).await {
                Ok(n) => busy |= n > 0,
                Err(e) => tracing::warn!(error = %e, "fanning out video changes"),
            }
            match run_due(&core).await {
                Ok(n) => busy |= n > 0,
                Err(e) => tracing::warn!(error = %e, "delivery queue"),
            }
            if busy {
                // More may be due: look again at once.
                continue;
            }
            let wait = until_next(&core).await;
            let _ = tokio::time::timeout(wait, wake).await;
        }
    })
}

async fn until_next(core: &Arc<Core>) -> Duration {
    let c = core.clone();
    let next = tokio::task::spawn_blocking(move || {
        let delivery = deliveries::next_due_ms(&c).ok().flatten();
        let chore = chores::next_due_ms(&c).ok().flatten();
        delivery.into_iter().chain(chore).min()
    })
    .await
    .ok()
    .flatten();
    match next {
        Some(at) => {
            let ms = u64::try_from(at.saturating_sub(now_ms())).unwrap_or(0);
            Duration::from_millis(ms).min(IDLE_POLL)
        }
        None => IDLE_POLL,
    }
}

/// Send the deliveries due now, up to `federation.delivery_concurrency` at once; how many.
async fn run_due(core: &Arc<Core>) -> Result<usize, ServiceError> {
    let config = core.config();
    let limit = config.federation.delivery_concurrency;
    // Long enough for a send to finish or time out before anyone claims it again.
    let lease_ms = i64::try_from(config.federation.fetch_timeout_secs)
        .unwrap_or(60)
        .saturating_mul(3000);
    let c = core.clone();
    let batch =
        tokio::task::spawn_blocking(move || deliveries::claim_due(&c, now_ms(), limit, lease_ms))
            .await
            .map_err(|e| ServiceError::internal("claiming deliveries", e))??;
    let n = batch.len();
    tracing::debug!(claimed = n, "deliveries due");
    let mut sends = tokio::task::JoinSet::new();
    for d in batch {
        let core = core.clone();
        sends.spawn(async move { deliver(&core, d).await });
    }
    while sends.join_next().await.is_some() {}
    Ok(n)
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
