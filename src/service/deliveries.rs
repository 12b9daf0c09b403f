//! The outbox queue: activities waiting to reach other servers' inboxes, kept in redb
//! (`DELIVERIES`, due order in `DELIVERIES_DUE`) and enqueued in the transaction of the change
//! that causes them, so a change and its deliveries are committed, or lost, together.
//!
//! The federation edge's worker claims due deliveries (moving them a lease ahead, so a delivery
//! in flight when the process is killed is tried again when the lease runs out), sends them,
//! and reports back: delivered (removed) or failed (tried again after
//! `federation.delivery_first_retry_secs`, 30 s by default, doubling up to 12 h, until
//! `federation.delivery_give_up_hours` have passed since it was enqueued). A host whose
//! deliveries keep failing rests, and then is dead (`delivery_hosts`): its deliveries wait for
//! its rest, then are dropped and no longer queued.

use redb::{ReadableTable, WriteTransaction};

use super::backoff::{Backoff, retry_delay_ms};
use super::delivery_hosts::{self, Verdict};
use super::{Core, Result};
use crate::model::account::ActorRef;
use crate::model::federation::Delivery;
use crate::store::{self, records, tables};

/// Enqueue `activity` (serialised) for `inbox`, signed by `signer` when sent, unless the
/// inbox's host is dead. Ring `Core::deliveries_wake` after the commit. Returns whether it was
/// queued.
pub fn enqueue(
    tx: &WriteTransaction,
    signer: ActorRef,
    inbox: &str,
    activity: &str,
    now_ms: i64,
) -> Result<bool> {
    if let Some(host) = delivery_hosts::host_of(inbox)
        && delivery_hosts::health(tx, &host)?.is_some_and(|h| h.dead)
    {
        return Ok(false);
    }
    let id = store::next_id(tx, "delivery")?;
    let delivery = Delivery {
        id,
        signer,
        inbox: inbox.to_owned(),
        activity: activity.to_owned(),
        attempts: 0,
        created_at_ms: now_ms,
        next_at_ms: now_ms,
        last_error: None,
    };
    records::put(tx, tables::DELIVERIES, id, &delivery)?;
    tx.open_table(tables::DELIVERIES_DUE)?
        .insert((now_ms, id), ())?;
    Ok(true)
}

/// Up to `limit` deliveries due at `now_ms`, each moved `lease_ms` ahead so no other claim
/// takes it while it is in flight. Those for a resting host are moved to the end of its rest
/// instead, and those for a dead host dropped.
pub fn claim_due(core: &Core, now_ms: i64, limit: usize, lease_ms: i64) -> Result<Vec<Delivery>> {
    core.store.write(|tx| {
        let due: Vec<(i64, u64)> = tx
            .open_table(tables::DELIVERIES_DUE)?
            .range(..=(now_ms, u64::MAX))?
            .take(limit)
            .map(|e| e.map(|(k, _)| k.value()))
            .collect::<std::result::Result<_, _>>()?;
        let mut claimed = Vec::with_capacity(due.len());
        for (at, id) in due {
            let Some(mut d) = records::get::<Delivery>(tx, tables::DELIVERIES, id)? else {
                tx.open_table(tables::DELIVERIES_DUE)?.remove((at, id))?;
                continue;
            };
            let health = match delivery_hosts::host_of(&d.inbox) {
                Some(host) => delivery_hosts::health(tx, &host)?,
                None => None,
            };
            match delivery_hosts::verdict(health.as_ref(), now_ms) {
                Verdict::Send => {
                    reschedule(tx, &mut d, now_ms + lease_ms)?;
                    claimed.push(d);
                }
                Verdict::WaitUntil(at) => reschedule(tx, &mut d, at)?,
                Verdict::Drop => remove(tx, id)?,
            }
        }
        Ok(claimed)
    })
}

fn reschedule(tx: &WriteTransaction, d: &mut Delivery, at_ms: i64) -> Result<()> {
    let mut due = tx.open_table(tables::DELIVERIES_DUE)?;
    due.remove((d.next_at_ms, d.id))?;
    d.next_at_ms = at_ms;
    due.insert((at_ms, d.id), ())?;
    records::put(tx, tables::DELIVERIES, d.id, d)?;
    Ok(())
}

/// The delivery arrived: forget it, and that its host was failing.
pub fn delivered(core: &Core, id: u64) -> Result<()> {
    core.store.write(|tx| {
        if let Some(d) = records::get::<Delivery>(tx, tables::DELIVERIES, id)?
            && let Some(host) = delivery_hosts::host_of(&d.inbox)
        {
            delivery_hosts::delivered(tx, &host)?;
        }
        remove(tx, id)
    })
}

fn remove(tx: &WriteTransaction, id: u64) -> Result<()> {
    if let Some(d) = records::get::<Delivery>(tx, tables::DELIVERIES, id)? {
        tx.open_table(tables::DELIVERIES_DUE)?
            .remove((d.next_at_ms, id))?;
        records::remove(tx, tables::DELIVERIES, id)?;
    }
    Ok(())
}

/// The delivery failed with `error`: try again later, or give up when it is older than
/// `give_up_after_ms` (or when the failure is final, such as a 4xx other than 401, 408 or
/// 429). Returns when it will be tried again, or `None` when it was dropped.
pub fn failed(
    core: &Core,
    id: u64,
    error: &str,
    is_final: bool,
    now_ms: i64,
    backoff: Backoff,
) -> Result<Option<i64>> {
    core.store.write(|tx| {
        let Some(mut d) = records::get::<Delivery>(tx, tables::DELIVERIES, id)? else {
            return Ok(None);
        };
        // A final refusal is the inbox's answer about this activity: the host is up.
        let host_dead = match delivery_hosts::host_of(&d.inbox) {
            Some(host) if !is_final => delivery_hosts::failed(tx, &host, now_ms, backoff)?.dead,
            _ => false,
        };
        if is_final
            || host_dead
            || now_ms.saturating_sub(d.created_at_ms) >= backoff.give_up_after_ms
        {
            remove(tx, id)?;
            return Ok(None);
        }
        d.attempts = d.attempts.saturating_add(1);
        d.last_error = Some(error.chars().take(500).collect());
        let at = now_ms + retry_delay_ms(backoff.first_retry_ms, d.attempts);
        reschedule(tx, &mut d, at)?;
        Ok(Some(at))
    })
}

/// When the next delivery is due, if any is queued.
pub fn next_due_ms(core: &Core) -> Result<Option<i64>> {
    let tx = core.store.read()?;
    let due = store::Tx::table(&tx, tables::DELIVERIES_DUE)?;
    let first = due.first()?;
    Ok(first.map(|(k, _)| k.value().0))
}

/// Every queued delivery (for tests and the admin's view), oldest first.
pub fn queued(core: &Core) -> Result<Vec<Delivery>> {
    let mut all: Vec<Delivery> = records::all(&core.store.read()?, tables::DELIVERIES)?;
    all.sort_by_key(|d| d.id);
    Ok(all)
}
