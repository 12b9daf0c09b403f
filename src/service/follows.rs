//! Remote actors following local accounts and channels (`FOLLOWERS`): a `Follow` received is
//! accepted at once (every local actor is public, as on PeerTube), and its `Accept` is queued
//! in the same transaction; an `Undo` removes it. The followers collection is read from here.

use redb::{ReadableTable, WriteTransaction};

use super::{Core, Result, deliveries, seen};
use crate::model::account::ActorRef;
use crate::model::federation::{Follower, RemoteActor};
use crate::store::{Tx, codec, tables};

/// The key of a local actor in `FOLLOWERS` and `ACTOR_KEYS`.
pub fn slot(actor: ActorRef) -> String {
    match actor {
        ActorRef::Instance => "instance".to_owned(),
        ActorRef::Account(id) => format!("account/{id}"),
        ActorRef::Channel(id) => format!("channel/{id}"),
    }
}

/// A received, verified `Follow` of `following` by `follower`: remember it and queue the
/// `Accept` (`accept`, serialised) to the follower's own inbox, in one transaction. A repeated
/// follow replaces the earlier one (its activity id is what a later `Undo` names).
pub fn accept(
    core: &Core,
    following: ActorRef,
    follower: &RemoteActor,
    follow_id: &str,
    accept: &str,
    now_ms: i64,
) -> Result<()> {
    let slot = slot(following);
    core.store.write(|tx| {
        seen::remember(tx, follow_id, now_ms)?;
        if let Some(old) = find(tx, &slot, &follower.id)? {
            tx.open_table(tables::FOLLOWS_BY_ACTIVITY)?
                .remove(old.activity_id.as_str())?;
        }
        let record = Follower {
            actor: follower.id.clone(),
            following,
            activity_id: follow_id.to_owned(),
            created_at_ms: now_ms,
        };
        tx.open_table(tables::FOLLOWERS)?.insert(
            (slot.as_str(), follower.id.as_str()),
            codec::encode(&record).as_slice(),
        )?;
        tx.open_table(tables::FOLLOWS_BY_ACTIVITY)?
            .insert(follow_id, (slot.as_str(), follower.id.as_str()))?;
        // The Accept goes to the follower's own inbox, not the shared one: Mastodon looks for
        // the follow request of the actor whose inbox it reached.
        deliveries::enqueue(tx, following, &follower.inbox, accept, now_ms)?;
        Ok::<_, super::ServiceError>(())
    })?;
    core.deliveries_wake.notify_one();
    Ok(())
}

fn find(tx: &impl Tx, slot: &str, actor: &str) -> Result<Option<Follower>> {
    let t = tx.table(tables::FOLLOWERS)?;
    let v = t.get((slot, actor))?;
    Ok(match v {
        Some(v) => Some(codec::decode(v.value())?),
        None => None,
    })
}

/// An `Undo` of a `Follow` by `actor`: the follow named by `follow_id`, or, when the Undo only
/// says whom it unfollows, `actor`'s follow of `following`. Returns whether one was removed.
pub fn undo(
    core: &Core,
    actor: &str,
    follow_id: Option<&str>,
    following: Option<ActorRef>,
    undo_id: &str,
    now_ms: i64,
) -> Result<bool> {
    core.store.write(|tx| {
        seen::remember(tx, undo_id, now_ms)?;
        let by_id = match follow_id {
            Some(id) => tx
                .open_table(tables::FOLLOWS_BY_ACTIVITY)?
                .get(id)?
                .map(|v| (v.value().0.to_owned(), v.value().1.to_owned())),
            None => None,
        };
        let key = by_id.or_else(|| following.map(|f| (slot(f), actor.to_owned())));
        match key {
            // Only the follower may undo its follow.
            Some((slot, follower)) if follower == actor => remove(tx, &slot, &follower),
            _ => Ok(false),
        }
    })
}

fn remove(tx: &WriteTransaction, slot: &str, actor: &str) -> Result<bool> {
    let Some(old) = find(tx, slot, actor)? else {
        return Ok(false);
    };
    tx.open_table(tables::FOLLOWS_BY_ACTIVITY)?
        .remove(old.activity_id.as_str())?;
    tx.open_table(tables::FOLLOWERS)?.remove((slot, actor))?;
    Ok(true)
}

/// A page of the followers of `following` (their actor ids, oldest first) and how many there are.
pub fn followers(
    core: &Core,
    following: ActorRef,
    offset: usize,
    limit: usize,
) -> Result<(u64, Vec<String>)> {
    let slot = slot(following);
    let tx = core.store.read()?;
    let t = tx.table(tables::FOLLOWERS)?;
    let mut all: Vec<Follower> = t
        .range((slot.as_str(), "")..)?
        .map(|e| e.map_err(crate::store::StoreError::from))
        .take_while(|e| e.as_ref().map_or(true, |(k, _)| k.value().0 == slot))
        .map(|e| e.and_then(|(_, v)| Ok(codec::decode::<Follower>(v.value())?)))
        .collect::<std::result::Result<_, _>>()?;
    all.sort_by(|a, b| (a.created_at_ms, &a.actor).cmp(&(b.created_at_ms, &b.actor)));
    let total = u64::try_from(all.len()).unwrap_or(u64::MAX);
    let page = all
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|f| f.actor)
        .collect();
    Ok((total, page))
}
