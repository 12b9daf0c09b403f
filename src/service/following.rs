//! The remote actors the instance follows (`FOLLOWING`): PeerTube's "following" of another
//! instance (its `Application` actor) or of a channel or account by handle. An administrator
//! asks; a chore then finds and fetches the actor and `start` records the follow as pending
//! and queues the `Follow`; the target's `Accept` or `Reject` settles it (`answered`); `stop`
//! removes it and queues the `Undo`.

use redb::ReadableTable;

use super::follows::{self, FollowQuery, FollowRow};
use super::{Core, Result, ServiceError, chores, deliveries, remote_actors, seen};
use crate::model::account::ActorRef;
use crate::model::federation::{Chore, FollowState, Following, RemoteActor};
use crate::model::user::User;
use crate::store::{self, Tx, codec, tables};

/// Pages of a newly followed actor's outbox read at most (PeerTube's bound: 2 000 pages of
/// 10 items, PeerTube's and Vireo's page size).
pub const CRAWL_PAGES: u32 = 2000;

/// Most hosts and handles one request may name (PeerTube's bound).
pub const MAX_TARGETS: usize = 100;

/// Follow `hosts` (their instance actors) and `handles` (`name@host`), as `me`: the follows
/// are found and sent in the background, as PeerTube's are; the list says how they went.
/// `local_host` is this instance's, which cannot follow itself.
pub fn request(
    core: &Core,
    me: &User,
    hosts: &[String],
    handles: &[(String, String)],
    local_host: &str,
) -> Result<()> {
    follows::check_manager(me)?;
    let targets: Vec<Chore> = hosts
        .iter()
        .map(|h| (h.clone(), None))
        .chain(handles.iter().map(|(n, h)| (h.clone(), Some(n.clone()))))
        .map(|(host, name)| Chore::Follow { host, name })
        .collect();
    if targets.is_empty() {
        return Err(ServiceError::invalid(
            "hosts",
            "You must provide at least one handle or one host.",
        ));
    }
    if let Some(Chore::Follow { host, .. }) = targets
        .iter()
        .find(|c| matches!(c, Chore::Follow { host, .. } if host.eq_ignore_ascii_case(local_host)))
    {
        return Err(ServiceError::invalid(
            "hosts",
            format!("{host} is this instance, which cannot follow itself."),
        ));
    }
    let now = crate::model::now_ms();
    core.store.write(|tx| {
        for chore in targets {
            chores::enqueue(tx, chore, now)?;
        }
        Ok::<_, ServiceError>(())
    })?;
    core.deliveries_wake.notify_one();
    Ok(())
}

/// Follow `target`, fetched and checked: record the follow as pending and queue the `Follow`
/// (`make_follow` builds it from the follow's id) to the target's own inbox, in one
/// transaction. A follow already accepted is left as it is; any other is sent again (PeerTube
/// does the same when an administrator asks again). `follow_id` names a new follow from its
/// number. Returns whether a `Follow` was queued.
pub fn start(
    core: &Core,
    target: &RemoteActor,
    follow_id: impl FnOnce(u64) -> String,
    make_follow: impl FnOnce(&str) -> String,
    now_ms: i64,
) -> Result<bool> {
    let sent = core.store.write(|tx| {
        let old: Option<Following> = find(tx, &target.id)?;
        if old
            .as_ref()
            .is_some_and(|f| f.state == FollowState::Accepted)
        {
            return Ok::<_, ServiceError>(false);
        }
        let row = match old {
            Some(mut f) => {
                f.state = FollowState::Pending;
                f.updated_at_ms = now_ms;
                f
            }
            None => {
                let id = store::next_id(tx, "following")?;
                Following {
                    id,
                    target: target.id.clone(),
                    name: target.preferred_username.clone(),
                    host: target.host.clone(),
                    follow_id: follow_id(id),
                    state: FollowState::Pending,
                    created_at_ms: now_ms,
                    updated_at_ms: now_ms,
                }
            }
        };
        put(tx, &row)?;
        let follow = make_follow(&row.follow_id);
        deliveries::enqueue(tx, ActorRef::Instance, &target.inbox, &follow, now_ms)?;
        Ok(true)
    })?;
    core.deliveries_wake.notify_one();
    Ok(sent)
}

/// Whether the instance follows `actor` and the follow was accepted.
pub fn is_followed(tx: &impl Tx, actor: &str) -> Result<bool> {
    Ok(find(tx, actor)?.is_some_and(|f| f.state == FollowState::Accepted))
}

/// Whether the instance follows (accepted) some actor on `host`: only then is what that
/// server announces worth fetching.
pub fn follows_someone_on(tx: &impl Tx, host: &str) -> Result<bool> {
    Ok(all(tx)?
        .iter()
        .any(|f| f.state == FollowState::Accepted && f.host.eq_ignore_ascii_case(host)))
}

fn find(tx: &impl Tx, target: &str) -> Result<Option<Following>> {
    let t = tx.table(tables::FOLLOWING)?;
    let v = t.get(target)?;
    Ok(match v {
        Some(v) => Some(codec::decode(v.value())?),
        None => None,
    })
}

fn put(tx: &redb::WriteTransaction, row: &Following) -> Result<()> {
    tx.open_table(tables::FOLLOWING)?
        .insert(row.target.as_str(), codec::encode(row).as_slice())?;
    Ok(())
}

/// `signer` answered the instance's follow: `Accept` (`accepted`) or `Reject`. Only the
/// followed actor can answer, so the follow is found by the signer, as PeerTube finds it;
/// `follow_id`, when the answer names one, must be ours. Returns the follow when there was one
/// to settle.
pub fn answered(
    core: &Core,
    signer: &str,
    follow_id: Option<&str>,
    accepted: bool,
    activity_id: &str,
    now_ms: i64,
) -> Result<Option<Following>> {
    core.store
        .write(|tx| {
            seen::remember(tx, activity_id, now_ms)?;
            let Some(mut row) = find(tx, signer)? else {
                return Ok(None);
            };
            if follow_id.is_some_and(|id| id != row.follow_id) {
                return Ok(None);
            }
            let newly_accepted = accepted && row.state != FollowState::Accepted;
            row.state = if accepted {
                FollowState::Accepted
            } else {
                FollowState::Rejected
            };
            row.updated_at_ms = now_ms;
            put(tx, &row)?;
            // What it published before the follow comes from its outbox, as PeerTube imports it.
            let outbox = remote_actors::find(tx, signer)?.and_then(|a| a.outbox);
            if let Some(url) = outbox.filter(|_| newly_accepted) {
                let crawl = Chore::Crawl {
                    url,
                    via: signer.to_owned(),
                    pages_left: CRAWL_PAGES,
                };
                chores::enqueue(tx, crawl, now_ms)?;
            }
            Ok(Some(row))
        })
        .inspect(|_| core.deliveries_wake.notify_one())
}

/// Stop following `name@host` (or, with no name, `host`'s instance actor), as `me`: the follow
/// is removed at once, and the `Undo` queued (unless it was rejected: then there is nothing to
/// undo).
pub fn stop(core: &Core, me: &User, name: Option<&str>, host: &str) -> Result<()> {
    follows::check_manager(me)?;
    let now = crate::model::now_ms();
    core.store.write(|tx| {
        let mut found = None;
        for f in all(tx)? {
            if !f.host.eq_ignore_ascii_case(host) {
                continue;
            }
            let named = match name {
                Some(n) => f.name.eq_ignore_ascii_case(n),
                None => {
                    remote_actors::find(tx, &f.target)?.is_some_and(|a| a.kind == "Application")
                }
            };
            if named {
                found = Some(f);
                break;
            }
        }
        let row = found.ok_or(ServiceError::NotFound("Follow"))?;
        tx.open_table(tables::FOLLOWING)?
            .remove(row.target.as_str())?;
        let inbox = remote_actors::find(tx, &row.target)?.map(|a| a.inbox);
        if let Some(inbox) = inbox
            && row.state != FollowState::Rejected
        {
            let chore = Chore::Unfollow {
                target: row.target,
                inbox,
                follow_id: row.follow_id,
            };
            chores::enqueue(tx, chore, now)?;
        }
        Ok::<_, ServiceError>(())
    })?;
    core.deliveries_wake.notify_one();
    Ok(())
}

fn all(tx: &impl Tx) -> Result<Vec<Following>> {
    let t = tx.table(tables::FOLLOWING)?;
    let mut out = Vec::new();
    for entry in t.iter()? {
        let (_, v) = entry?;
        out.push(codec::decode(v.value())?);
    }
    Ok(out)
}

/// A page of whom the instance follows, in any state.
pub fn page(core: &Core, q: &FollowQuery) -> Result<(u64, Vec<FollowRow>)> {
    let tx = core.store.read()?;
    let mut rows = Vec::new();
    for f in all(&tx)? {
        // The actor was fetched before the follow was recorded; it is kept as long as Vireo
        // knows it.
        if let Some(actor) = remote_actors::find(&tx, &f.target)? {
            rows.push(FollowRow {
                id: f.id,
                state: f.state,
                created_at_ms: f.created_at_ms,
                updated_at_ms: f.updated_at_ms,
                actor,
            });
        }
    }
    Ok(follows::page(rows, q))
}

/// How many actors the instance follows (accepted).
pub fn count(core: &Core) -> Result<u64> {
    let n = all(&core.store.read()?)?
        .iter()
        .filter(|f| f.state == FollowState::Accepted)
        .count();
    Ok(u64::try_from(n).unwrap_or(u64::MAX))
}
