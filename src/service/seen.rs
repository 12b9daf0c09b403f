//! Replay protection for the inbox: the ids of the signed activities received in the last two
//! hours. A signature is accepted for at most an hour after its date (`federation::signatures`),
//! so an activity sent again with its old signature is either too old or remembered here.

use redb::{ReadableTable, WriteTransaction};

use super::{Result, ServiceError};
use crate::store::tables;

/// How long an activity id is remembered: longer than a signature stays valid.
const REMEMBER_MS: i64 = 2 * 3600 * 1000;
/// At most this many forgotten per write, so one write never pays for a long backlog.
const FORGET_PER_WRITE: usize = 64;

/// Record `id` as received at `now_ms`, inside the transaction that acts on it; a second
/// delivery of the same id is refused (403), and the transaction with it.
pub fn remember(tx: &WriteTransaction, id: &str, now_ms: i64) -> Result<()> {
    forget_old(tx, now_ms)?;
    let mut seen = tx.open_table(tables::SEEN_ACTIVITIES)?;
    if seen.get(id)?.is_some() {
        return Err(ServiceError::Forbidden(
            "This activity was already received".into(),
        ));
    }
    seen.insert(id, now_ms)?;
    tx.open_table(tables::SEEN_BY_TIME)?
        .insert((now_ms, id), ())?;
    Ok(())
}

fn forget_old(tx: &WriteTransaction, now_ms: i64) -> Result<()> {
    let cutoff = now_ms - REMEMBER_MS;
    let mut by_time = tx.open_table(tables::SEEN_BY_TIME)?;
    let old: Vec<(i64, String)> = by_time
        .range::<(i64, &str)>(..(cutoff, ""))?
        .take(FORGET_PER_WRITE)
        .map(|e| e.map(|(k, _)| (k.value().0, k.value().1.to_owned())))
        .collect::<std::result::Result<_, _>>()?;
    let mut seen = tx.open_table(tables::SEEN_ACTIVITIES)?;
    for (at, id) in old {
        by_time.remove((at, id.as_str()))?;
        seen.remove(id.as_str())?;
    }
    Ok(())
}

/// Record `id` on its own (for activities whose effect is not a store write, such as a `View`
/// counted in memory first); 403 when it was already received.
pub fn remember_now(core: &super::Core, id: &str, now_ms: i64) -> Result<()> {
    core.store.write(|tx| remember(tx, id, now_ms))
}
