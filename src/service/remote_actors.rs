//! The actors of other servers, as last fetched (`REMOTE_ACTORS`): their inboxes and keys. The
//! federation edge fetches and checks them; this keeps them and says when they are stale.

use redb::ReadableTable;

use super::{Core, Result};
use crate::model::federation::RemoteActor;
use crate::model::now_ms;
use crate::store::{Tx, codec, tables};

/// How long a fetched actor is trusted before it is fetched again (PeerTube: two days).
pub const FRESH_FOR_MS: i64 = 2 * 24 * 3600 * 1000;

/// A remote actor by id, as last fetched.
pub fn get(core: &Core, id: &str) -> Result<Option<RemoteActor>> {
    find(&core.store.read()?, id)
}

pub fn find(tx: &impl Tx, id: &str) -> Result<Option<RemoteActor>> {
    let t = tx.table(tables::REMOTE_ACTORS)?;
    let v = t.get(id)?;
    Ok(match v {
        Some(v) => Some(codec::decode(v.value())?),
        None => None,
    })
}

/// Keep (or refresh) a remote actor; it keeps the number it was first given.
pub fn put(core: &Core, actor: &RemoteActor) -> Result<RemoteActor> {
    core.store.write(|tx| {
        let mut kept = actor.clone();
        kept.number = match find(tx, &actor.id)?.map(|a| a.number) {
            Some(n) if n != 0 => n,
            _ => crate::store::next_id(tx, "remote_actor")?,
        };
        tx.open_table(tables::REMOTE_ACTORS)?
            .insert(actor.id.as_str(), codec::encode(&kept).as_slice())?;
        Ok(kept)
    })
}

/// Whether `actor` was fetched recently enough to be used without fetching it again.
pub fn is_fresh(actor: &RemoteActor) -> bool {
    now_ms().saturating_sub(actor.fetched_at_ms) < FRESH_FOR_MS
}
