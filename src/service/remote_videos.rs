//! Videos of other servers (remote videos), kept so this instance's lists, search and pages
//! show what the servers and channels it follows publish. The federation edge fetches and
//! checks a `Video` object and hands it here; this keeps it with its channel and account (as
//! remote `Channel` and `Account` records), and takes it back when its origin deletes it or the
//! instance stops following every actor it came through.
//!
//! The rule (PeerTube lists what an accepted follow of the instance reaches): a remote video is
//! kept only while the instance follows, accepted, an actor it came through: the server or
//! channel that announced it, its channel, or its account (`RemoteVideo::via`). PeerTube keeps
//! every video it ever fetched and hides the unfollowed ones; Vireo forgets them instead, so
//! everything stored is listable and the lists need no join.

use redb::{ReadableTable, WriteTransaction};

use super::catalog::{Change, FileKinds, Row};
use super::{
    Core, Result, ServiceError, actors, chores, delivery_hosts, following, indexing, seen, videos,
};
use crate::model::account::{Account, ActorRef};
use crate::model::channel::Channel;
use crate::model::federation::{BlockTarget, Chore, RemoteActor};
use crate::model::video::Video;
use crate::store::{Tx, next_id, records, tables};

/// What became of a fetched remote video.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// Stored for the first time, with this id.
    Created(u64),
    /// Already stored: its fields were replaced.
    Updated(u64),
    /// The instance follows none of the actors it came through.
    NotFollowed,
    /// Its UUID is another video's here (a local one, or one of another server).
    UuidTaken,
}

impl Kept {
    /// The id of the video stored, when it was.
    pub fn id(self) -> Option<u64> {
        match self {
            Kept::Created(id) | Kept::Updated(id) => Some(id),
            Kept::NotFollowed | Kept::UuidTaken => None,
        }
    }
}

/// Keep `video` (as read from its object: `remote` set, ids not yet given), published by
/// `channel` and its owner `account`, which reached the instance through `via` (an announcer or
/// the activity's actor; `None` when its origin updates it). A new video is kept only when the
/// instance follows one of `via`, the channel and the account; a known one is updated whatever
/// the follows. One transaction: the records, the indexes, the search index job.
pub fn keep(
    core: &Core,
    mut video: Video,
    channel: &RemoteActor,
    account: &RemoteActor,
    via: Option<&str>,
) -> Result<Kept> {
    let Some(mut remote) = video.remote.take() else {
        return Ok(Kept::NotFollowed);
    };
    let kept = core.catalog.write(|| {
        core.store.write(|tx| {
            let existing = match find_id(tx, &remote.url)? {
                Some(id) => videos::get(tx, id)?,
                None => None,
            };
            let mut through: Vec<String> = existing
                .as_ref()
                .and_then(|v| v.remote.as_ref())
                .map(|r| r.via.clone())
                .unwrap_or_default();
            for actor in via
                .into_iter()
                .chain([channel.id.as_str(), account.id.as_str()])
            {
                if !through.iter().any(|t| t == actor) && following::is_followed(tx, actor)? {
                    through.push(actor.to_owned());
                }
            }
            if existing.is_none() && through.is_empty() {
                return Ok((Kept::NotFollowed, Vec::new()));
            }
            if existing.is_none() && uuid_taken(tx, &video.uuid)? {
                return Ok((Kept::UuidTaken, Vec::new()));
            }
            let account_id = upsert_account(tx, account)?;
            let channel_id = upsert_channel(tx, channel, account_id)?;
            remote.via = through;
            video.channel_id = channel_id;
            video.is_local = false;
            let files = FileKinds {
                hls: remote.hls.is_some(),
                web_videos: !remote.web_videos.is_empty(),
                bytes: 0,
            };
            let outcome = match existing {
                Some(old) => {
                    video.id = old.id;
                    // The UUID stays the one it was stored under; the images made here stay
                    // until the new ones are made.
                    video.uuid = old.uuid;
                    video.thumbnail = old.thumbnail;
                    video.preview = old.preview;
                    video.created_at_ms = old.created_at_ms;
                    // A video object carries no rate counts (only their collections' URLs):
                    // the rates given here stay counted.
                    video.likes = old.likes;
                    video.dislikes = old.dislikes;
                    Kept::Updated(old.id)
                }
                None => {
                    video.id = next_id(tx, "videos")?;
                    tx.open_table(tables::VIDEOS_BY_UUID)?
                        .insert(video.uuid.as_u128(), video.id)?;
                    tx.open_table(tables::VIDEOS_BY_URL)?
                        .insert(remote.url.as_str(), video.id)?;
                    Kept::Created(video.id)
                }
            };
            video.remote = Some(remote);
            records::put(tx, tables::VIDEOS, video.id, &video)?;
            indexing::enqueue_indexing(tx, vec![video.id])?;
            let changes = vec![
                Change::Upsert(Row::new(&video, account_id)),
                Change::Files(video.id, files),
            ];
            Ok((outcome, changes))
        })
    })?;
    core.jobs_wake.notify();
    Ok(kept)
}

/// A followed actor shared the video at `url` (activity `activity_id`): queue its fetch. Only
/// what an actor the instance follows sends is worth a fetch; anything else is ignored (and
/// `false` returned). The activity is remembered in the same transaction, so a replay is
/// refused.
pub fn shared(core: &Core, activity_id: &str, url: &str, actor: &str, now_ms: i64) -> Result<bool> {
    let queued = core.store.write(|tx| -> Result<bool> {
        if !following::is_followed(tx, actor)? {
            return Ok(false);
        }
        seen::remember(tx, activity_id, now_ms)?;
        let chore = Chore::Ingest {
            url: url.to_owned(),
            via: Some(actor.to_owned()),
        };
        chores::enqueue(tx, chore, now_ms)?;
        Ok(true)
    })?;
    core.deliveries_wake.notify_one();
    Ok(queued)
}

/// The origin of the video at `url` (`actor`, which must own it) changed it: queue its fetch
/// again. `false` when the instance does not have it or `actor` does not own it.
pub fn changed(
    core: &Core,
    activity_id: &str,
    url: &str,
    actor: &str,
    now_ms: i64,
) -> Result<bool> {
    let Some(v) = by_url(core, url)? else {
        return Ok(false);
    };
    if !is_owner(core, &v, actor)? {
        return Ok(false);
    }
    core.store.write(|tx| -> Result<()> {
        seen::remember(tx, activity_id, now_ms)?;
        let chore = Chore::Ingest {
            url: url.to_owned(),
            via: None,
        };
        chores::enqueue(tx, chore, now_ms)?;
        Ok(())
    })?;
    core.deliveries_wake.notify_one();
    Ok(true)
}

/// Queue the fetch of each video a followed actor's outbox lists (`urls`, one page of it), and
/// the page after it, in one transaction.
pub fn crawled(
    core: &Core,
    urls: Vec<String>,
    via: &str,
    next: Option<Chore>,
    now_ms: i64,
) -> Result<()> {
    core.store.write(|tx| -> Result<()> {
        for url in urls {
            let chore = Chore::Ingest {
                url,
                via: Some(via.to_owned()),
            };
            chores::enqueue(tx, chore, now_ms)?;
        }
        if let Some(next) = next {
            chores::enqueue(tx, next, now_ms)?;
        }
        Ok(())
    })?;
    core.deliveries_wake.notify_one();
    Ok(())
}

/// The id of the remote video whose object is at `url`.
pub fn find_id(tx: &impl Tx, url: &str) -> Result<Option<u64>> {
    let t = tx.table(tables::VIDEOS_BY_URL)?;
    let id = t.get(url)?.map(|v| v.value());
    Ok(id)
}

/// The remote video at `url`, if the instance has it.
pub fn by_url(core: &Core, url: &str) -> Result<Option<Video>> {
    let tx = core.store.read()?;
    match find_id(&tx, url)? {
        Some(id) => videos::get(&tx, id),
        None => Ok(None),
    }
}

/// Whether `actor` speaks for the remote video `v`: it is its channel or its account (only
/// they may update or delete it).
pub fn is_owner(core: &Core, v: &Video, actor: &str) -> Result<bool> {
    let tx = core.store.read()?;
    let Some(owner) = actors::remote_by_url(&tx, actor)? else {
        return Ok(false);
    };
    let Some((channel, account)) = owners(&tx, v)? else {
        return Ok(false);
    };
    Ok(match owner {
        ActorRef::Channel(id) => id == channel.id,
        ActorRef::Account(id) => id == account.id,
        ActorRef::Instance => false,
    })
}

/// Where to tell the origin of the remote video at `url` something (its views): the inbox of
/// its account, its server's shared inbox when it has one.
pub fn origin_inbox(core: &Core, url: &str) -> Result<Option<String>> {
    let Some(v) = by_url(core, url)? else {
        return Ok(None);
    };
    let tx = core.store.read()?;
    let Some(actor) = owners(&tx, &v)?.and_then(|(_, account)| account.url) else {
        return Ok(None);
    };
    Ok(super::remote_actors::find(&tx, &actor)?.map(|a| a.shared_inbox.unwrap_or(a.inbox)))
}

/// A video's channel and account, `None` when either is gone.
fn owners(tx: &impl Tx, v: &Video) -> Result<Option<(Channel, Account)>> {
    match actors::owner_of(tx, v.channel_id) {
        Ok(found) => Ok(Some(found)),
        Err(ServiceError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Someone looks at `v` (its page, its API details): a remote video last fetched longer ago
/// than `federation.remote_refresh_secs` is fetched again from its origin (an `Ingest` chore),
/// as PeerTube refreshes what it shows, so an edit or a deletion the origin never sent is
/// caught up. Marked fetched now, so the next look does not queue another. Whether queued.
pub fn refresh_if_stale(core: &Core, v: &Video, now_ms: i64) -> Result<bool> {
    let after_ms = i64::try_from(core.config().federation.remote_refresh_secs)
        .unwrap_or(i64::MAX)
        .saturating_mul(1000);
    let stale = |v: &Video| {
        v.remote
            .as_ref()
            .is_some_and(|r| now_ms.saturating_sub(r.fetched_at_ms) >= after_ms)
    };
    if !stale(v) {
        return Ok(false);
    }
    let queued = core.store.write(|tx| {
        let Some(mut current) = videos::get(tx, v.id)?.filter(|c| stale(c)) else {
            return Ok(false);
        };
        let Some(remote) = current.remote.as_mut() else {
            return Ok(false);
        };
        remote.fetched_at_ms = now_ms;
        let url = remote.url.clone();
        records::put(tx, tables::VIDEOS, current.id, &current)?;
        chores::enqueue(tx, Chore::Ingest { url, via: None }, now_ms)?;
        Ok::<_, ServiceError>(true)
    })?;
    if queued {
        core.deliveries_wake.notify_one();
    }
    Ok(queued)
}

/// The video at `url` is gone from its origin (404, 410): gone from here too.
pub fn gone(core: &Core, url: &str) -> Result<()> {
    match by_url(core, url)? {
        Some(v) => delete_if_there(core, v.id),
        None => Ok(()),
    }
}

/// Delete video `id`, unless something else deleted it first.
fn delete_if_there(core: &Core, id: u64) -> Result<()> {
    match videos::delete(core, id) {
        Ok(()) | Err(ServiceError::NotFound(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Delete the remote video at `url` when `actor` owns it (its origin said so); whether it went.
pub fn remove(core: &Core, url: &str, actor: &str) -> Result<bool> {
    let Some(v) = by_url(core, url)? else {
        return Ok(false);
    };
    if !is_owner(core, &v, actor)? {
        return Ok(false);
    }
    videos::delete(core, v.id)?;
    Ok(true)
}

/// The instance stopped following `actor`: the remote videos that came through it alone are
/// deleted; the others no longer count it. Returns how many were deleted.
///
/// Scans every video: unfollowing is an administrator's rare act, and an index by actor would
/// cost every ingest a write.
pub fn forget_through(core: &Core, actor: &str) -> Result<usize> {
    let doomed = core.catalog.write(|| {
        core.store.write(|tx| {
            let mut doomed = Vec::new();
            for mut v in records::all::<Video>(tx, tables::VIDEOS)? {
                let Some(remote) = v.remote.as_mut() else {
                    continue;
                };
                if !remote.via.iter().any(|a| a == actor) {
                    continue;
                }
                remote.via.retain(|a| a != actor);
                if remote.via.is_empty() {
                    doomed.push(v.id);
                } else {
                    records::put(tx, tables::VIDEOS, v.id, &v)?;
                }
            }
            Ok((doomed, Vec::new()))
        })
    })?;
    for id in &doomed {
        delete_if_there(core, *id)?;
    }
    Ok(doomed.len())
}

/// The instance blocked `target` (a server, or a remote actor): the remote videos it published
/// are deleted, as those of an unfollowed actor are. Nothing else hides them (everything kept
/// is listable), and ingest refuses them from now on. Returns how many were deleted.
///
/// Scans every video, like `forget_through`: blocking is a moderator's rare act.
pub fn forget_blocked(core: &Core, target: &BlockTarget) -> Result<usize> {
    let doomed = {
        let tx = core.store.read()?;
        let mut doomed = Vec::new();
        for v in records::all::<Video>(&tx, tables::VIDEOS)? {
            let Some(remote) = &v.remote else {
                continue;
            };
            let blocked = match target {
                BlockTarget::Host { host } => {
                    delivery_hosts::host_of(&remote.url).as_deref() == Some(host.as_str())
                }
                BlockTarget::RemoteActor { id } => owners(&tx, &v)?.is_some_and(|(c, a)| {
                    c.url.as_deref() == Some(id.as_str()) || a.url.as_deref() == Some(id.as_str())
                }),
                BlockTarget::LocalAccount { .. } => false,
            };
            if blocked {
                doomed.push(v.id);
            }
        }
        doomed
    };
    for id in &doomed {
        delete_if_there(core, *id)?;
    }
    Ok(doomed.len())
}

fn uuid_taken(tx: &impl Tx, uuid: &uuid::Uuid) -> Result<bool> {
    Ok(tx
        .table(tables::VIDEOS_BY_UUID)?
        .get(uuid.as_u128())?
        .is_some())
}

/// Register the record standing for a remote actor under its URL and handle.
fn register(tx: &WriteTransaction, actor: &RemoteActor, r: ActorRef) -> Result<()> {
    actors::set_remote(tx, &actor.id, &actor.preferred_username, &actor.host, r)
}

fn display_name(actor: &RemoteActor) -> String {
    actor
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| actor.preferred_username.clone())
}

/// The remote account standing for `actor`, made or refreshed; its id.
fn upsert_account(tx: &WriteTransaction, actor: &RemoteActor) -> Result<u64> {
    let now = crate::model::now_ms();
    let existing = match actors::remote_by_url(tx, &actor.id)? {
        Some(ActorRef::Account(id)) => records::get::<Account>(tx, tables::ACCOUNTS, id)?,
        _ => None,
    };
    let account = match existing {
        Some(mut a) => {
            if a.display_name == display_name(actor) {
                return Ok(a.id);
            }
            a.display_name = display_name(actor);
            a.updated_at_ms = now;
            a
        }
        None => Account {
            id: next_id(tx, "accounts")?,
            name: actor.preferred_username.clone(),
            display_name: display_name(actor),
            description: None,
            user_id: None,
            host: Some(actor.host.clone()),
            created_at_ms: now,
            updated_at_ms: now,
            url: Some(actor.id.clone()),
        },
    };
    records::put(tx, tables::ACCOUNTS, account.id, &account)?;
    register(tx, actor, ActorRef::Account(account.id))?;
    Ok(account.id)
}

/// The remote channel standing for `actor`, owned by `account_id`, made or refreshed; its id.
fn upsert_channel(tx: &WriteTransaction, actor: &RemoteActor, account_id: u64) -> Result<u64> {
    let now = crate::model::now_ms();
    let existing = match actors::remote_by_url(tx, &actor.id)? {
        Some(ActorRef::Channel(id)) => records::get::<Channel>(tx, tables::CHANNELS, id)?,
        _ => None,
    };
    let channel = match existing {
        Some(mut c) => {
            if c.display_name == display_name(actor) && c.account_id == account_id {
                return Ok(c.id);
            }
            tx.open_table(tables::CHANNELS_BY_ACCOUNT)?
                .remove((c.account_id, c.id))?;
            c.display_name = display_name(actor);
            c.account_id = account_id;
            c.updated_at_ms = now;
            c
        }
        None => Channel {
            id: next_id(tx, "channels")?,
            name: actor.preferred_username.clone(),
            display_name: display_name(actor),
            description: None,
            support: None,
            account_id,
            host: Some(actor.host.clone()),
            created_at_ms: now,
            updated_at_ms: now,
            url: Some(actor.id.clone()),
        },
    };
    records::put(tx, tables::CHANNELS, channel.id, &channel)?;
    tx.open_table(tables::CHANNELS_BY_ACCOUNT)?
        .insert((account_id, channel.id), ())?;
    register(tx, actor, ActorRef::Channel(channel.id))?;
    Ok(channel.id)
}
