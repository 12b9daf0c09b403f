//! Federation chores (`CHORES`): work that needs the network or an activity built, asked for by
//! a change the API or the inbox commits (follow a host, unfollow it, answer a follower). Each
//! is queued in the transaction of that change, so the change and its chore are kept, or lost,
//! together, and a chore outlives a restart; the federation worker claims and runs them.
//!
//! Their due order is kept in `CHORES_DUE`, written with each change to `CHORES`, as the
//! deliveries' is: a claim reads the due ones only. Chores are few (an administrator's follows,
//! the follows received, the videos announced by followed actors) except right after a follow,
//! when the followed actor's outbox queues a fetch per video it lists, thousands of them, and
//! each claim used to read them all.

use redb::{ReadableTable, WriteTransaction};

use super::backoff::retry_delay_ms;
use super::{Core, Result};
use crate::model::federation::{Chore, QueuedChore};
use crate::store::{self, records, tables};

/// How often a chore that fails (a host that does not answer) is tried before it is dropped.
pub const MAX_ATTEMPTS: u32 = 6;
/// The first retry's delay; later ones double (30 s, 1 min, … 8 min: about 16 min in all).
const FIRST_RETRY_MS: i64 = 30_000;

/// Queue `chore` inside the caller's transaction. Ring `Core::deliveries_wake` after the commit.
pub fn enqueue(tx: &WriteTransaction, chore: Chore, now_ms: i64) -> Result<u64> {
    let id = store::next_id(tx, "chore")?;
    let queued = QueuedChore {
        id,
        chore,
        attempts: 0,
        created_at_ms: now_ms,
        next_at_ms: now_ms,
        last_error: None,
    };
    put(tx, &queued)?;
    Ok(id)
}

/// Keep `c` and its place in the due order (any previous place removed by the caller).
fn put(tx: &WriteTransaction, c: &QueuedChore) -> Result<()> {
    records::put(tx, tables::CHORES, c.id, c)?;
    tx.open_table(tables::CHORES_DUE)?
        .insert((c.next_at_ms, c.id), ())?;
    Ok(())
}

/// Forget chore `id` and its place in the due order.
fn remove(tx: &WriteTransaction, id: u64) -> Result<()> {
    if let Some(c) = records::get::<QueuedChore>(tx, tables::CHORES, id)? {
        tx.open_table(tables::CHORES_DUE)?
            .remove((c.next_at_ms, id))?;
        records::remove(tx, tables::CHORES, id)?;
    }
    Ok(())
}

/// Move `c` to run at `at_ms`.
fn reschedule(tx: &WriteTransaction, c: &mut QueuedChore, at_ms: i64) -> Result<()> {
    tx.open_table(tables::CHORES_DUE)?
        .remove((c.next_at_ms, c.id))?;
    c.next_at_ms = at_ms;
    put(tx, c)
}

/// The chores due at `now_ms` (the `limit` longest waiting), each moved `lease_ms` ahead so no other claim takes it while it
/// runs (and one in flight when the process dies runs again when its lease ends).
pub fn claim_due(
    core: &Core,
    now_ms: i64,
    lease_ms: i64,
    limit: usize,
) -> Result<Vec<QueuedChore>> {
    core.store.write(|tx| claim_in(tx, now_ms, lease_ms, limit))
}

fn claim_in(
    tx: &WriteTransaction,
    now_ms: i64,
    lease_ms: i64,
    limit: usize,
) -> Result<Vec<QueuedChore>> {
    let keys: Vec<(i64, u64)> = tx
        .open_table(tables::CHORES_DUE)?
        .range(..=(now_ms, u64::MAX))?
        .take(limit)
        .map(|e| e.map(|(k, _)| k.value()))
        .collect::<std::result::Result<_, _>>()?;
    let mut due = Vec::with_capacity(keys.len());
    for (at, id) in keys {
        let Some(mut c) = records::get::<QueuedChore>(tx, tables::CHORES, id)? else {
            tx.open_table(tables::CHORES_DUE)?.remove((at, id))?;
            continue;
        };
        let claimed = c.clone();
        reschedule(tx, &mut c, now_ms.saturating_add(lease_ms))?;
        due.push(claimed);
    }
    Ok(due)
}

/// The chore is done: forget it.
pub fn done(core: &Core, id: u64) -> Result<()> {
    core.store.write(|tx| remove(tx, id))
}

/// The chore is done and its outcome must be committed with its removal: `finish` runs in the
/// transaction that removes it (it queues a delivery, say).
pub fn finish<T>(
    core: &Core,
    id: u64,
    finish: impl FnOnce(&WriteTransaction) -> Result<T>,
) -> Result<T> {
    let out = core.store.write(|tx| {
        remove(tx, id)?;
        finish(tx)
    })?;
    core.deliveries_wake.notify_one();
    Ok(out)
}

/// The chore failed with `error`: try it again later, or drop it after `MAX_ATTEMPTS`.
/// Returns when it runs again, or `None` when it was dropped.
pub fn failed(core: &Core, id: u64, error: &str, now_ms: i64) -> Result<Option<i64>> {
    core.store.write(|tx| failed_in(tx, id, error, now_ms))
}

fn failed_in(tx: &WriteTransaction, id: u64, error: &str, now_ms: i64) -> Result<Option<i64>> {
    let Some(mut c) = records::get::<QueuedChore>(tx, tables::CHORES, id)? else {
        return Ok(None);
    };
    c.attempts = c.attempts.saturating_add(1);
    if c.attempts >= MAX_ATTEMPTS {
        remove(tx, id)?;
        return Ok(None);
    }
    c.last_error = Some(error.chars().take(500).collect());
    let at = now_ms + retry_delay_ms(FIRST_RETRY_MS, c.attempts);
    reschedule(tx, &mut c, at)?;
    Ok(Some(c.next_at_ms))
}

/// When the next chore is due, if any is queued.
pub fn next_due_ms(core: &Core) -> Result<Option<i64>> {
    let tx = core.store.read()?;
    let due = store::Tx::table(&tx, tables::CHORES_DUE)?;
    let first = due.first()?;
    Ok(first.map(|(k, _)| k.value().0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn follow(host: &str) -> Chore {
        Chore::Follow {
            host: host.to_owned(),
            name: None,
        }
    }

    fn hosts(claimed: &[QueuedChore]) -> Vec<String> {
        claimed
            .iter()
            .map(|c| match &c.chore {
                Chore::Follow { host, .. } => host.clone(),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn claims_read_the_due_chores_in_order_and_lease_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("vireo.redb")).unwrap();
        let ids: Vec<u64> = store
            .write(|tx| {
                ["a", "b", "c"]
                    .iter()
                    .enumerate()
                    .map(|(i, h)| enqueue(tx, follow(h), 100 + i as i64))
                    .collect::<Result<_>>()
            })
            .unwrap();
        // Only what is due, oldest first, at most `limit`.
        let first = store.write(|tx| claim_in(tx, 101, 1000, 5)).unwrap();
        assert_eq!(hosts(&first), ["a", "b"]);
        // Leased: not claimed again until the lease ends, while the third comes due.
        let next = store.write(|tx| claim_in(tx, 500, 1000, 5)).unwrap();
        assert_eq!(hosts(&next), ["c"]);
        // A failure moves it back by the retry delay; done forgets it and its place.
        let retry = store
            .write(|tx| failed_in(tx, ids[0], "down", 600))
            .unwrap();
        assert_eq!(retry, Some(600 + FIRST_RETRY_MS));
        store.write(|tx| remove(tx, ids[1])).unwrap();
        let later = store
            .write(|tx| claim_in(tx, 1_100 + FIRST_RETRY_MS, 1000, 5))
            .unwrap();
        assert_eq!(hosts(&later), ["c", "a"]);
        let tx = store.read().unwrap();
        let due = store::Tx::table(&tx, tables::CHORES_DUE).unwrap();
        assert_eq!(due.iter().unwrap().count(), 2, "one place per queued chore");
    }

    #[test]
    fn chores_queued_before_the_index_existed_are_indexed_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vireo.redb");
        let store = Store::open(&path).unwrap();
        store.write(|tx| enqueue(tx, follow("old"), 5)).unwrap();
        // As an older Vireo left it: the chore without its place in the due order.
        store
            .write(|tx| {
                tx.delete_table(tables::CHORES_DUE)?;
                Ok::<_, crate::store::StoreError>(())
            })
            .unwrap();
        drop(store);
        let store = Store::open(&path).unwrap();
        let claimed = store.write(|tx| claim_in(tx, 10, 1000, 5)).unwrap();
        assert_eq!(hosts(&claimed), ["old"]);
    }
}
