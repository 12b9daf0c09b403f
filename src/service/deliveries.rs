//! The outbox queue: activities waiting to reach other servers' inboxes, kept in redb
//! (`DELIVERIES`, due order in `DELIVERIES_DUE`) and enqueued in the transaction of the change
//! that causes them, so a change and its deliveries are committed, or lost, together.
//!
//! The federation edge's worker claims due deliveries, one at a time per host (moving each a
//! lease ahead, so a delivery in flight when the process is killed is tried again when the
//! lease runs out), sends them,
//! and reports back: delivered (removed) or failed (tried again after
//! `federation.delivery_first_retry_secs`, 30 s by default, doubling up to 12 h, until
//! `federation.delivery_give_up_hours` have passed since it was enqueued). A host whose
//! deliveries keep failing rests, and then is dead (`delivery_hosts`): its deliveries wait for
//! its rest, then are dropped and no longer queued.

use std::collections::{HashMap, HashSet};

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
    let host = delivery.host().unwrap_or_default();
    tx.open_table(tables::DELIVERIES_DUE)?
        .insert((now_ms, id), host.as_str())?;
    Ok(true)
}

/// How many due deliveries one claim looks through, per delivery it may claim, past those for
/// hosts already being sent to.
const SCAN_PER_SLOT: usize = 64;

/// Up to `limit` deliveries due at `now_ms`, at most one per host and none for a host in `busy`
/// (those being sent to), each moved `lease_ms` ahead so no other claim takes it while it is in
/// flight. One at a time per host keeps a host's activities in the order they were queued (a
/// `Create` before its `Update`) and lets a host that hangs hold only its own queue. Those for
/// a resting host are moved to the end of its rest instead, and those for a dead host dropped.
pub fn claim_due(
    core: &Core,
    now_ms: i64,
    limit: usize,
    lease_ms: i64,
    busy: &HashSet<String>,
) -> Result<Vec<Delivery>> {
    core.store
        .write(|tx| claim_in(tx, now_ms, limit, lease_ms, busy))
}

fn claim_in(
    tx: &WriteTransaction,
    now_ms: i64,
    limit: usize,
    lease_ms: i64,
    busy: &HashSet<String>,
) -> Result<Vec<Delivery>> {
    // The first due for each free host, in due order; the host is read from the index, so
    // those for busy hosts cost no read of their activity. Those for a resting or dead host
    // are all moved or dropped, not one per claim.
    let mut picked: Vec<(i64, u64)> = Vec::with_capacity(limit);
    let mut moves: Vec<(i64, u64, Verdict)> = Vec::new();
    let mut taken: HashSet<String> = HashSet::new();
    let mut verdicts: HashMap<String, Verdict> = HashMap::new();
    {
        let due = tx.open_table(tables::DELIVERIES_DUE)?;
        let scan = due
            .range(..=(now_ms, u64::MAX))?
            .take(limit.saturating_mul(SCAN_PER_SLOT));
        for entry in scan {
            if picked.len() >= limit {
                break;
            }
            let (key, host) = entry?;
            let (host, key) = (host.value(), key.value());
            if busy.contains(host) || taken.contains(host) {
                continue;
            }
            let verdict = match verdicts.get(host) {
                Some(v) => *v,
                None if host.is_empty() => Verdict::Send,
                None => {
                    let health = delivery_hosts::health(tx, host)?;
                    let v = delivery_hosts::verdict(health.as_ref(), now_ms);
                    verdicts.insert(host.to_owned(), v);
                    v
                }
            };
            match verdict {
                Verdict::Send => {
                    if !host.is_empty() {
                        taken.insert(host.to_owned());
                    }
                    picked.push(key);
                }
                other => moves.push((key.0, key.1, other)),
            }
        }
    }
    for (at, id, verdict) in moves {
        match verdict {
            Verdict::WaitUntil(until) => {
                if let Some(mut d) = records::get::<Delivery>(tx, tables::DELIVERIES, id)? {
                    reschedule(tx, &mut d, until)?;
                } else {
                    tx.open_table(tables::DELIVERIES_DUE)?.remove((at, id))?;
                }
            }
            _ => remove_at(tx, at, id)?,
        }
    }
    let mut claimed = Vec::with_capacity(picked.len());
    for (at, id) in picked {
        let Some(mut d) = records::get::<Delivery>(tx, tables::DELIVERIES, id)? else {
            tx.open_table(tables::DELIVERIES_DUE)?.remove((at, id))?;
            continue;
        };
        reschedule(tx, &mut d, now_ms + lease_ms)?;
        claimed.push(d);
    }
    Ok(claimed)
}

fn reschedule(tx: &WriteTransaction, d: &mut Delivery, at_ms: i64) -> Result<()> {
    let mut due = tx.open_table(tables::DELIVERIES_DUE)?;
    due.remove((d.next_at_ms, d.id))?;
    d.next_at_ms = at_ms;
    let host = d.host().unwrap_or_default();
    due.insert((at_ms, d.id), host.as_str())?;
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
        remove_at(tx, d.next_at_ms, id)?;
    }
    Ok(())
}

/// Forget delivery `id`, due at `at`, and its place in the due order.
fn remove_at(tx: &WriteTransaction, at: i64, id: u64) -> Result<()> {
    tx.open_table(tables::DELIVERIES_DUE)?.remove((at, id))?;
    records::remove(tx, tables::DELIVERIES, id)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn inboxes(claimed: &[Delivery]) -> Vec<&str> {
        claimed.iter().map(|d| d.inbox.as_str()).collect()
    }

    #[test]
    fn a_claim_takes_one_delivery_per_host_and_none_for_a_busy_host() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("vireo.redb")).unwrap();
        store
            .write(|tx| {
                for (i, inbox) in [
                    "https://a.example/inbox",
                    "https://a.example/inbox",
                    "https://b.example:8443/inbox",
                    "https://c.example/inbox",
                    "https://b.example:8443/inbox",
                ]
                .iter()
                .enumerate()
                {
                    enqueue(tx, ActorRef::Instance, inbox, "{}", i as i64)?;
                }
                Ok::<_, crate::service::ServiceError>(())
            })
            .unwrap();
        let none = HashSet::new();
        let first = store.write(|tx| claim_in(tx, 10, 8, 1000, &none)).unwrap();
        assert_eq!(
            inboxes(&first),
            [
                "https://a.example/inbox",
                "https://b.example:8443/inbox",
                "https://c.example/inbox"
            ]
        );
        // While a.example's first is in flight, its second waits; b's second goes.
        let busy: HashSet<String> = ["a.example".to_owned()].into();
        let next = store.write(|tx| claim_in(tx, 20, 8, 1000, &busy)).unwrap();
        assert_eq!(inboxes(&next), ["https://b.example:8443/inbox"]);
        let ids: Vec<u64> = next.iter().map(|d| d.id).collect();
        assert_eq!(ids, [5]);
        // Its turn comes once a.example is free, in the order it was queued.
        let last = store.write(|tx| claim_in(tx, 30, 8, 1000, &none)).unwrap();
        assert_eq!(last.iter().map(|d| d.id).collect::<Vec<_>>(), [2]);
        // The limit holds across hosts.
        let capped = store
            .write(|tx| claim_in(tx, 5_000, 2, 1000, &none))
            .unwrap();
        assert_eq!(capped.len(), 2);
    }

    #[test]
    fn a_resting_host_s_deliveries_are_all_moved_in_one_claim() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("vireo.redb")).unwrap();
        let backoff = Backoff {
            first_retry_ms: 1_000,
            give_up_after_ms: 1_000_000,
        };
        let until = store
            .write(|tx| {
                for _ in 0..delivery_hosts::REST_AFTER {
                    delivery_hosts::failed(tx, "r.example", 0, backoff)?;
                }
                for inbox in [
                    "https://r.example/a",
                    "https://r.example/b",
                    "https://c.example/",
                ] {
                    enqueue(tx, ActorRef::Instance, inbox, "{}", 0)?;
                }
                Ok::<_, crate::service::ServiceError>(
                    delivery_hosts::health(tx, "r.example")?
                        .unwrap()
                        .resting_until_ms,
                )
            })
            .unwrap();
        assert!(until > 10);
        let claimed = store
            .write(|tx| claim_in(tx, 10, 8, 1000, &HashSet::new()))
            .unwrap();
        assert_eq!(inboxes(&claimed), ["https://c.example/"]);
        let tx = store.read().unwrap();
        let due: Vec<(i64, u64)> = store::Tx::table(&tx, tables::DELIVERIES_DUE)
            .unwrap()
            .iter()
            .unwrap()
            .map(|e| e.unwrap().0.value())
            .collect();
        assert_eq!(due, [(until, 1), (until, 2), (1010, 3)]);
    }

    #[test]
    fn deliveries_queued_before_the_index_named_hosts_are_indexed_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vireo.redb");
        let store = Store::open(&path).unwrap();
        store
            .write(|tx| enqueue(tx, ActorRef::Instance, "https://old.example/inbox", "{}", 5))
            .unwrap();
        // As an older Vireo left it: the due order in its former table, without hosts.
        store
            .write(|tx| {
                tx.delete_table(tables::DELIVERIES_DUE)?;
                let old: redb::TableDefinition<(i64, u64), ()> =
                    redb::TableDefinition::new("deliveries_due");
                tx.open_table(old)?.insert((5, 1), ())?;
                Ok::<_, crate::store::StoreError>(())
            })
            .unwrap();
        drop(store);
        let store = Store::open(&path).unwrap();
        let claimed = store
            .write(|tx| claim_in(tx, 10, 8, 1000, &HashSet::new()))
            .unwrap();
        assert_eq!(inboxes(&claimed), ["https://old.example/inbox"]);
    }
}
