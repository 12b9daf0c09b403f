//! Federation chores (`CHORES`): work that needs the network or an activity built, asked for by
//! a change the API or the inbox commits (follow a host, unfollow it, answer a follower). Each
//! is queued in the transaction of that change, so the change and its chore are kept, or lost,
//! together, and a chore outlives a restart; the federation worker claims and runs them.
//!
//! They are kept in one table scanned whole rather than with a due-order index as the
//! deliveries are: they are few (an administrator's follows, the follows received, the videos
//! announced by followed actors), except right after a follow, when the followed actor's
//! outbox queues a fetch per video it lists (ten per page read, as PeerTube pages them).

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
    records::put(tx, tables::CHORES, id, &queued)?;
    Ok(id)
}

/// The chores due at `now_ms` (the `limit` longest waiting), each moved `lease_ms` ahead so no other claim takes it while it
/// runs (and one in flight when the process dies runs again when its lease ends).
pub fn claim_due(
    core: &Core,
    now_ms: i64,
    lease_ms: i64,
    limit: usize,
) -> Result<Vec<QueuedChore>> {
    core.store.write(|tx| {
        let mut due: Vec<QueuedChore> = records::all::<QueuedChore>(tx, tables::CHORES)?
            .into_iter()
            .filter(|c| c.next_at_ms <= now_ms)
            .collect();
        due.sort_by_key(|c| (c.next_at_ms, c.id));
        due.truncate(limit);
        for c in &due {
            let mut leased = c.clone();
            leased.next_at_ms = now_ms.saturating_add(lease_ms);
            records::put(tx, tables::CHORES, c.id, &leased)?;
        }
        Ok(due)
    })
}

/// The chore is done: forget it.
pub fn done(core: &Core, id: u64) -> Result<()> {
    core.store.write(|tx| {
        records::remove(tx, tables::CHORES, id)?;
        Ok(())
    })
}

/// The chore is done and its outcome must be committed with its removal: `finish` runs in the
/// transaction that removes it (it queues a delivery, say).
pub fn finish<T>(
    core: &Core,
    id: u64,
    finish: impl FnOnce(&WriteTransaction) -> Result<T>,
) -> Result<T> {
    let out = core.store.write(|tx| {
        records::remove(tx, tables::CHORES, id)?;
        finish(tx)
    })?;
    core.deliveries_wake.notify_one();
    Ok(out)
}

/// The chore failed with `error`: try it again later, or drop it after `MAX_ATTEMPTS`.
/// Returns when it runs again, or `None` when it was dropped.
pub fn failed(core: &Core, id: u64, error: &str, now_ms: i64) -> Result<Option<i64>> {
    core.store.write(|tx| {
        let Some(mut c) = records::get::<QueuedChore>(tx, tables::CHORES, id)? else {
            return Ok(None);
        };
        c.attempts = c.attempts.saturating_add(1);
        if c.attempts >= MAX_ATTEMPTS {
            records::remove(tx, tables::CHORES, id)?;
            return Ok(None);
        }
        c.last_error = Some(error.chars().take(500).collect());
        c.next_at_ms = now_ms + retry_delay_ms(FIRST_RETRY_MS, c.attempts);
        records::put(tx, tables::CHORES, id, &c)?;
        Ok(Some(c.next_at_ms))
    })
}

/// When the next chore is due, if any is queued.
pub fn next_due_ms(core: &Core) -> Result<Option<i64>> {
    let tx = core.store.read()?;
    let t = store::Tx::table(&tx, tables::CHORES)?;
    let mut next: Option<i64> = None;
    for entry in t.iter()? {
        let (_, v) = entry?;
        let c: QueuedChore = store::codec::decode(v.value())?;
        next = Some(next.map_or(c.next_at_ms, |n| n.min(c.next_at_ms)));
    }
    Ok(next)
}
