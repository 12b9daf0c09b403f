//! Which local video changes other servers hear of, decided where the change is made: each
//! service that publishes, edits or deletes a video calls `video_changed` inside its transaction,
//! which records an `OutboxEvent` (`OUTBOX`) when the video's federated face changed. The
//! federation worker later turns each event into deliveries (`fan_out`), building the
//! activities then, so the transaction that changes a video never waits on the network.
//!
//! A video is federated while it is local, published, and public or unlisted (PeerTube sends
//! neither private nor internal videos).

use redb::{ReadableTable, WriteTransaction};

use super::{Core, Result, deliveries};
use crate::model::account::ActorRef;
use crate::model::federation::{OutboxEvent, VideoNews};
use crate::model::video::{Privacy, Video, VideoState};
use crate::store::{self, records, tables};

/// Whether other servers see `v`.
pub fn is_federated(v: &Video) -> bool {
    v.is_local
        && v.state == VideoState::Published
        && matches!(v.privacy, Privacy::Public | Privacy::Unlisted)
}

/// Record what changed for other servers, given whether `before` was federated and the video
/// as it is now (`None`: deleted). Ring `Core::deliveries_wake` after the commit.
pub fn video_changed(
    tx: &WriteTransaction,
    was_federated: bool,
    now: &Video,
    deleted: bool,
    account_id: u64,
    now_ms: i64,
) -> Result<bool> {
    let is = !deleted && is_federated(now);
    let news = match (was_federated, is) {
        (false, true) => VideoNews::Create,
        (true, true) => VideoNews::Update,
        (true, false) => VideoNews::Delete,
        (false, false) => return Ok(false),
    };
    let id = store::next_id(tx, "outbox")?;
    let event = OutboxEvent {
        id,
        news,
        video_id: now.id,
        uuid: now.uuid,
        account_id,
        channel_id: now.channel_id,
        created_at_ms: now_ms,
    };
    records::put(tx, tables::OUTBOX, id, &event)?;
    Ok(true)
}

/// The oldest events waiting to be fanned out.
pub fn pending(core: &Core, limit: usize) -> Result<Vec<OutboxEvent>> {
    let tx = core.store.read()?;
    let t = store::Tx::table(&tx, tables::OUTBOX)?;
    let events = t
        .iter()?
        .take(limit)
        .map(|e| {
            e.map_err(store::StoreError::from)
                .and_then(|(_, v)| Ok(store::codec::decode::<OutboxEvent>(v.value())?))
        })
        .collect::<std::result::Result<_, _>>()?;
    Ok(events)
}

/// One activity for one inbox.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub signer: ActorRef,
    pub inbox: String,
    pub activity: String,
}

/// Replace event `id` by its deliveries, in one transaction: after a crash either the event is
/// still there (and fanned out again) or all its deliveries are queued.
pub fn fan_out(core: &Core, id: u64, outgoing: &[Outgoing], now_ms: i64) -> Result<()> {
    core.store.write(|tx| {
        if records::remove(tx, tables::OUTBOX, id)? {
            for o in outgoing {
                deliveries::enqueue(tx, o.signer, &o.inbox, &o.activity, now_ms)?;
            }
        }
        Ok::<_, super::ServiceError>(())
    })?;
    if !outgoing.is_empty() {
        core.deliveries_wake.notify_one();
    }
    Ok(())
}
