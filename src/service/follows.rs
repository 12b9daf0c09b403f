//! Remote actors following local accounts, channels and the instance (`FOLLOWERS`). A `Follow`
//! of an account or a channel is accepted at once (every local actor is public, as on
//! PeerTube); one of the instance waits for an administrator when
//! `federation.followers_manual_approval` is on, and is rejected when
//! `federation.instance_followers` is off. The answer (`Accept`, `Reject`) is a chore
//! queued in the transaction of the decision; an `Undo` removes the follow. The followers
//! collections and the fan-out read the accepted ones from here; the administrator's list of
//! the instance's followers, with its accept, reject and remove, is here too.

use redb::{ReadableTable, WriteTransaction};

use super::actors::slot;
use super::{Core, Result, ServiceError, chores, deliveries, remote_actors, rights, seen};
use crate::model::account::ActorRef;
use crate::model::federation::{Chore, FollowState, Follower, RemoteActor};
use crate::model::user::User;
use crate::store::{self, Tx, codec, tables};

/// A received, verified `Follow` of `following` by `follower`: remember it, accepted or held
/// for approval, and queue the `Accept` (`accept`, serialised: built by the inbox, so the
/// usual case costs one commit) to the follower's own inbox when accepted, in one transaction. A repeated follow
/// replaces the earlier one (its activity id is what a later `Undo` names) and keeps an
/// acceptance already given. Returns where the follow stands.
pub fn receive(
    core: &Core,
    following: ActorRef,
    follower: &RemoteActor,
    follow_id: &str,
    accept: &str,
    now_ms: i64,
) -> Result<FollowState> {
    let slot = slot(following);
    let settings = &core.config().federation;
    let of_instance = following == ActorRef::Instance;
    let manual = of_instance && settings.followers_manual_approval;
    let refused = of_instance && !settings.instance_followers;
    let state = core.store.write(|tx| {
        seen::remember(tx, follow_id, now_ms)?;
        if refused {
            // Nothing is kept of a follow refused by the instance's setting; it is answered.
            let follow = Follower {
                actor: follower.id.clone(),
                following,
                activity_id: follow_id.to_owned(),
                created_at_ms: now_ms,
                state: FollowState::Rejected,
                id: 0,
                updated_at_ms: now_ms,
            };
            answer(tx, &follow, &follower.inbox, false, now_ms)?;
            return Ok(FollowState::Rejected);
        }
        let old = find(tx, &slot, &follower.id)?;
        if let Some(old) = &old {
            tx.open_table(tables::FOLLOWS_BY_ACTIVITY)?
                .remove(old.activity_id.as_str())?;
        }
        let was_accepted = old
            .as_ref()
            .is_some_and(|o| o.state == FollowState::Accepted);
        let state = if manual && !was_accepted {
            FollowState::Pending
        } else {
            FollowState::Accepted
        };
        let id = match old.as_ref().map(|o| o.id).filter(|&id| id != 0) {
            Some(id) => id,
            None => store::next_id(tx, "follower")?,
        };
        let record = Follower {
            actor: follower.id.clone(),
            following,
            activity_id: follow_id.to_owned(),
            created_at_ms: old.as_ref().map_or(now_ms, |o| o.created_at_ms),
            state,
            id,
            updated_at_ms: now_ms,
        };
        put(tx, &slot, &record)?;
        if state == FollowState::Accepted {
            deliveries::enqueue(tx, following, &follower.inbox, accept, now_ms)?;
        }
        Ok::<_, ServiceError>(state)
    })?;
    core.deliveries_wake.notify_one();
    Ok(state)
}

fn put(tx: &WriteTransaction, slot: &str, record: &Follower) -> Result<()> {
    tx.open_table(tables::FOLLOWERS)?.insert(
        (slot, record.actor.as_str()),
        codec::encode(record).as_slice(),
    )?;
    tx.open_table(tables::FOLLOWS_BY_ACTIVITY)?
        .insert(record.activity_id.as_str(), (slot, record.actor.as_str()))?;
    Ok(())
}

/// Queue the `Accept` or `Reject` of `follow`. It goes to the follower's own inbox, not the
/// shared one: Mastodon looks for the follow request of the actor whose inbox it reached.
fn answer(
    tx: &WriteTransaction,
    follow: &Follower,
    inbox: &str,
    accept: bool,
    now_ms: i64,
) -> Result<()> {
    chores::enqueue(
        tx,
        Chore::Answer {
            following: follow.following,
            follower: follow.actor.clone(),
            inbox: inbox.to_owned(),
            follow_id: follow.activity_id.clone(),
            accept,
        },
        now_ms,
    )?;
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
            Some((slot, follower)) if follower == actor => {
                Ok(remove(tx, &slot, &follower)?.is_some())
            }
            _ => Ok(false),
        }
    })
}

fn remove(tx: &WriteTransaction, slot: &str, actor: &str) -> Result<Option<Follower>> {
    let Some(old) = find(tx, slot, actor)? else {
        return Ok(None);
    };
    tx.open_table(tables::FOLLOWS_BY_ACTIVITY)?
        .remove(old.activity_id.as_str())?;
    tx.open_table(tables::FOLLOWERS)?.remove((slot, actor))?;
    Ok(Some(old))
}

/// Every follower of `following`, in any state, in key order.
fn all_of(tx: &impl Tx, slot: &str) -> Result<Vec<Follower>> {
    let t = tx.table(tables::FOLLOWERS)?;
    let all = t
        .range((slot, "")..)?
        .map(|e| e.map_err(store::StoreError::from))
        .take_while(|e| e.as_ref().map_or(true, |(k, _)| k.value().0 == slot))
        .map(|e| e.and_then(|(_, v)| Ok(codec::decode::<Follower>(v.value())?)))
        .collect::<std::result::Result<_, _>>()?;
    Ok(all)
}

/// The actor ids of the accepted followers of `following`, unordered: whom to deliver to.
pub fn audience(core: &Core, following: ActorRef) -> Result<Vec<String>> {
    let all = all_of(&core.store.read()?, &slot(following))?;
    Ok(all
        .into_iter()
        .filter(|f| f.state == FollowState::Accepted)
        .map(|f| f.actor)
        .collect())
}

/// How many accepted followers local actor `following` has (its `followersCount`).
pub fn count(core: &Core, following: ActorRef) -> Result<u64> {
    let all = all_of(&core.store.read()?, &slot(following))?;
    let accepted = all.iter().filter(|f| f.state == FollowState::Accepted);
    Ok(u64::try_from(accepted.count()).unwrap_or(u64::MAX))
}

/// A page of the accepted followers of `following` (their actor ids, oldest first) and how
/// many there are.
pub fn followers(
    core: &Core,
    following: ActorRef,
    offset: usize,
    limit: usize,
) -> Result<(u64, Vec<String>)> {
    let mut all: Vec<Follower> = all_of(&core.store.read()?, &slot(following))?
        .into_iter()
        .filter(|f| f.state == FollowState::Accepted)
        .collect();
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

/// The instance's followers in any state, each with its actor as last fetched (for the
/// administrator's list).
pub fn instance_followers(core: &Core) -> Result<Vec<(Follower, RemoteActor)>> {
    let tx = core.store.read()?;
    let mut out = Vec::new();
    for f in all_of(&tx, &slot(ActorRef::Instance))? {
        if let Some(actor) = remote_actors::find(&tx, &f.actor)? {
            out.push((f, actor));
        }
    }
    Ok(out)
}

/// What an administrator does with a follower of the instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Accept,
    Reject,
    Remove,
}

/// Accept, reject or remove the instance's follower `name@host`, as `me`. Accepting needs a
/// pending or rejected follow, rejecting a pending or accepted one (PeerTube's rules); removing
/// rejects the follow first when it was not already.
pub fn decide(core: &Core, me: &User, name: &str, host: &str, decision: Decision) -> Result<()> {
    check_manager(me)?;
    let slot = slot(ActorRef::Instance);
    let now = crate::model::now_ms();
    core.store.write(|tx| {
        let (mut follow, actor) = all_of(tx, &slot)?
            .into_iter()
            .find_map(|f| {
                let actor = remote_actors::find(tx, &f.actor).ok().flatten()?;
                (actor.preferred_username.eq_ignore_ascii_case(name)
                    && actor.host.eq_ignore_ascii_case(host))
                .then_some((f, actor))
            })
            .ok_or(ServiceError::NotFound("Follower"))?;
        let bad_state = |allowed: &str| {
            ServiceError::invalid("state", format!("Follow is not in {allowed} state."))
        };
        match decision {
            Decision::Accept if follow.state == FollowState::Accepted => {
                return Err(bad_state("pending/rejected"));
            }
            Decision::Reject if follow.state == FollowState::Rejected => {
                return Err(bad_state("pending/accepted"));
            }
            Decision::Accept | Decision::Reject => {
                let accept = decision == Decision::Accept;
                follow.state = if accept {
                    FollowState::Accepted
                } else {
                    FollowState::Rejected
                };
                follow.updated_at_ms = now;
                put(tx, &slot, &follow)?;
                answer(tx, &follow, &actor.inbox, accept, now)?;
            }
            Decision::Remove => {
                if follow.state != FollowState::Rejected {
                    answer(tx, &follow, &actor.inbox, false, now)?;
                }
                remove(tx, &slot, &follow.actor)?;
            }
        }
        Ok(())
    })?;
    core.deliveries_wake.notify_one();
    Ok(())
}

/// May `me` manage the instance's follows? Administrators only, as PeerTube's
/// `MANAGE_SERVER_FOLLOW` right.
pub fn check_manager(me: &User) -> Result<()> {
    match rights::can_manage_server_follows(me) {
        true => Ok(()),
        false => Err(ServiceError::Forbidden(
            "Only administrators may manage the instance's follows.".into(),
        )),
    }
}

/// How a list of follows (the instance's followers, or whom it follows) is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowSort {
    CreatedAt,
    State,
}

/// A list of follows' parameters, as PeerTube's `/server/followers` and `/server/following`
/// take them.
#[derive(Debug, Clone)]
pub struct FollowQuery {
    pub start: usize,
    pub count: usize,
    /// The key, and whether descending.
    pub sort: (FollowSort, bool),
    pub state: Option<FollowState>,
    /// The other side's actor type (`Person`, `Application`, `Group`, …).
    pub actor_type: Option<String>,
    /// A piece of the other side's name or host, any case.
    pub search: Option<String>,
}

/// One follow in such a list: the remote actor on the other side.
#[derive(Debug, Clone)]
pub struct FollowRow {
    pub id: u64,
    pub state: FollowState,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub actor: RemoteActor,
}

/// `rows` filtered, sorted and paged by `q`; with how many matched.
pub fn page(rows: Vec<FollowRow>, q: &FollowQuery) -> (u64, Vec<FollowRow>) {
    let search = q.search.as_ref().map(|s| s.to_lowercase());
    let mut kept: Vec<FollowRow> = rows
        .into_iter()
        .filter(|r| q.state.is_none_or(|s| s == r.state))
        .filter(|r| q.actor_type.as_ref().is_none_or(|t| *t == r.actor.kind))
        .filter(|r| {
            search.as_ref().is_none_or(|s| {
                r.actor.host.to_lowercase().contains(s)
                    || r.actor.preferred_username.to_lowercase().contains(s)
            })
        })
        .collect();
    let (key, descending) = q.sort;
    kept.sort_by(|a, b| {
        let order = match key {
            FollowSort::CreatedAt => a.created_at_ms.cmp(&b.created_at_ms),
            FollowSort::State => a.state.as_str().cmp(b.state.as_str()),
        }
        .then(a.id.cmp(&b.id));
        if descending { order.reverse() } else { order }
    });
    let total = u64::try_from(kept.len()).unwrap_or(u64::MAX);
    (
        total,
        kept.into_iter().skip(q.start).take(q.count).collect(),
    )
}

/// A page of the instance's followers, in any state, as `me` (an administrator) lists them.
pub fn instance_followers_page(core: &Core, q: &FollowQuery) -> Result<(u64, Vec<FollowRow>)> {
    let rows = instance_followers(core)?
        .into_iter()
        .map(|(f, actor)| FollowRow {
            id: f.id,
            state: f.state,
            created_at_ms: f.created_at_ms,
            updated_at_ms: f.updated_at_ms.max(f.created_at_ms),
            actor,
        })
        .collect();
    Ok(page(rows, q))
}
