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

/// Keep (or refresh) a remote actor.
pub fn put(core: &Core, actor: &RemoteActor) -> Result<()> {
    core.store.write(|tx| {
        tx.open_table(tables::REMOTE_ACTORS)?
            .insert(actor.id.as_str(), codec::encode(actor).as_slice())?;
        Ok(())
    })
}

/// Whether `actor` was fetched recently enough to be used without fetching it again.
pub fn is_fresh(actor: &RemoteActor) -> bool {
    now_ms().saturating_sub(actor.fetched_at_ms) < FRESH_FOR_MS
}
