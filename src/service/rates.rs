//! Likes and dislikes: of local videos by remote actors (`Like`, `Dislike` and their `Undo`, as
//! PeerTube sends them to a video's origin), and of any video by local users (PeerTube's
//! `PUT /videos/{id}/rate`). One rate per rater and video, a new one replacing the opposite,
//! the video's counters kept equal to the rates stored. A local user's rate of a remote video
//! also queues a `Rate` chore, which tells the origin. Views from other servers are counted
//! through `views`, like local ones.

use redb::{ReadableTable, WriteTransaction};

use super::catalog::{Change, Row};
use super::urls::{self, Urls};
use super::{Core, Result, ServiceError, actors, channels, chores, seen, videos, visibility};
use crate::model::account::ActorRef;
use crate::model::federation::{Chore, Rate, RateKind, SentRate};
use crate::model::user::User;
use crate::model::video::Video;
use crate::store::{Tx, codec, records, tables};

/// `actor` rates video `video_id` (activity `activity_id`); a rate of the other kind is
/// replaced. Returns whether the counters changed.
pub fn rate(
    core: &Core,
    video_id: u64,
    actor: &str,
    kind: RateKind,
    activity_id: &str,
    now_ms: i64,
) -> Result<bool> {
    core.catalog.write(|| {
        core.store.write(|tx| {
            seen::remember(tx, activity_id, now_ms)?;
            let Some(mut video) = videos::get(tx, video_id)? else {
                return Ok((false, Vec::new()));
            };
            let old = remove_rate(tx, &mut video, actor)?;
            let new = Rate {
                kind,
                activity_id: activity_id.to_owned(),
                created_at_ms: now_ms,
            };
            put_rate(tx, video_id, actor, &new)?;
            count(&mut video, kind, true);
            let changed = old.map(|o| o.kind) != Some(kind);
            save(tx, &video).map(|c| (changed, c))
        })
    })
}

/// The rate an `Undo` takes back: named by its activity id, or by its video and kind.
#[derive(Debug, Clone, Copy)]
pub struct Undone<'a> {
    pub activity_id: Option<&'a str>,
    pub video_id: Option<u64>,
    pub kind: RateKind,
}

/// `actor` takes back its rate named `undone.activity_id` (or, when that id is unknown, its
/// rate of `undone.video_id` if of the kind undone: a `Dislike` that replaced a `Like` and
/// arrived before the like's `Undo` stays). Returns whether one was removed.
pub fn unrate(
    core: &Core,
    actor: &str,
    undone: Undone<'_>,
    undo_id: &str,
    now_ms: i64,
) -> Result<bool> {
    core.catalog.write(|| {
        core.store.write(|tx| {
            seen::remember(tx, undo_id, now_ms)?;
            let by_activity = match undone.activity_id {
                Some(id) => tx
                    .open_table(tables::RATES_BY_ACTIVITY)?
                    .get(id)?
                    .map(|v| (v.value().0, v.value().1.to_owned())),
                None => None,
            };
            let by_kind = || -> Result<Option<(u64, String)>> {
                let Some(video_id) = undone.video_id else {
                    return Ok(None);
                };
                let rate = stored(tx, video_id, actor)?;
                Ok(rate
                    .filter(|r| r.kind == undone.kind)
                    .map(|_| (video_id, actor.to_owned())))
            };
            let target = match by_activity {
                Some(found) => Some(found),
                None => by_kind()?,
            };
            // Only the rater may take its rate back.
            let Some((video_id, rater)) = target.filter(|(_, r)| r == actor) else {
                return Ok((false, Vec::new()));
            };
            let Some(mut video) = videos::get(tx, video_id)? else {
                return Ok((false, Vec::new()));
            };
            let removed = remove_rate(tx, &mut video, &rater)?.is_some();
            save(tx, &video).map(|c| (removed, c))
        })
    })
}

/// `me` rates the video `key` names (`None`: takes its rate back), as PeerTube's
/// `PUT /videos/{id}/rate`. The same rate again changes nothing. Returns the video's id.
pub fn rate_as(
    core: &Core,
    me: &User,
    key: &str,
    rating: Option<RateKind>,
    now_ms: i64,
) -> Result<u64> {
    let video_id = visibility::load_visible(core, key, Some(me))?.video.id;
    let rater = actors::slot(ActorRef::Account(me.account_id));
    let actor = account_actor(core, me.account_id)?;
    let sent = core.catalog.write(|| {
        core.store.write(|tx| {
            let mut video = videos::get(tx, video_id)?.ok_or(ServiceError::NotFound("video"))?;
            let old = stored(tx, video_id, &rater)?;
            if old.as_ref().map(|o| o.kind) == rating {
                return Ok((false, Vec::new()));
            }
            let old = remove_rate(tx, &mut video, &rater)?;
            tx.open_table(tables::ACCOUNT_RATES)?
                .remove((me.account_id, video_id))?;
            let new = rating.map(|kind| Rate {
                kind,
                activity_id: format!("{actor}/{}/{}", path_of(kind), uuid::Uuid::new_v4()),
                created_at_ms: now_ms,
            });
            if let Some(new) = &new {
                put_rate(tx, video_id, &rater, new)?;
                tx.open_table(tables::ACCOUNT_RATES)?
                    .insert((me.account_id, video_id), ())?;
                count(&mut video, new.kind, true);
            }
            // The origin of a remote video counts the rate too: told by a chore, from the
            // user's own actor, as PeerTube sends a rate to a video's origin.
            // A switch sends the new rate alone: the origin replaces the opposite one (Vireo
            // and PeerTube both do), where an `Undo` and the new rate could arrive out of order.
            let told = match (new, old) {
                (Some(r), _) => Some((r, false)),
                (None, Some(r)) => Some((r, true)),
                (None, None) => None,
            };
            if let (Some(remote), Some((r, undo))) = (&video.remote, told) {
                let chore = Chore::Rate {
                    video: remote.url.clone(),
                    by: ActorRef::Account(me.account_id),
                    rate: SentRate {
                        kind: r.kind,
                        id: r.activity_id,
                    },
                    undo,
                };
                chores::enqueue(tx, chore, now_ms)?;
            }
            let remote = video.remote.is_some();
            save(tx, &video).map(|c| (remote, c))
        })
    })?;
    if sent {
        core.deliveries_wake.notify_one();
    }
    Ok(video_id)
}

/// `me`'s rate of the video `key` names: its id, and the rate (`None`: none).
pub fn rating_of(core: &Core, me: &User, key: &str) -> Result<(u64, Option<RateKind>)> {
    let video_id = visibility::load_visible(core, key, Some(me))?.video.id;
    Ok((video_id, rate_of(core, me, video_id)?))
}

/// `me`'s rate of video `video_id`, which the caller already found `me` may see (the watch
/// page, which has loaded it).
pub fn rate_of(core: &Core, me: &User, video_id: u64) -> Result<Option<RateKind>> {
    let rater = actors::slot(ActorRef::Account(me.account_id));
    Ok(stored(&core.store.read()?, video_id, &rater)?.map(|r| r.kind))
}

/// The videos the account `handle` rated (only `kind` when given), most recent first
/// (`oldest_first` reverses), with each rate. Only the account's own user may ask, as in
/// PeerTube's `/accounts/{name}/ratings`.
pub fn of_account(
    core: &Core,
    me: &User,
    handle: &str,
    kind: Option<RateKind>,
    oldest_first: bool,
) -> Result<Vec<(Video, Rate)>> {
    let account_id = actors::account_by_handle(core, handle)?.id;
    if account_id != me.account_id {
        return Err(ServiceError::Forbidden(
            "Only owner of this account can access this resource.".into(),
        ));
    }
    let tx = core.store.read()?;
    let rater = actors::slot(ActorRef::Account(account_id));
    let table = tx.table(tables::ACCOUNT_RATES)?;
    let mut found = Vec::new();
    for entry in table.range((account_id, 0)..=(account_id, u64::MAX))? {
        let video_id = entry?.0.value().1;
        let (Some(video), Some(rate)) =
            (videos::get(&tx, video_id)?, stored(&tx, video_id, &rater)?)
        else {
            continue;
        };
        if kind.is_none_or(|k| k == rate.kind) {
            found.push((video, rate));
        }
    }
    found.sort_by_key(|(v, r)| (r.created_at_ms, v.id));
    if !oldest_first {
        found.reverse();
    }
    Ok(found)
}

/// Take back every rate account `account_id` gave, inside the transaction that deletes it:
/// the videos' counters drop. Returns the catalogue changes.
pub(crate) fn forget_account(tx: &WriteTransaction, account_id: u64) -> Result<Vec<Change>> {
    let rater = actors::slot(ActorRef::Account(account_id));
    let rated: Vec<u64> = {
        let table = tx.open_table(tables::ACCOUNT_RATES)?;
        let mut rated = Vec::new();
        for entry in table.range((account_id, 0)..=(account_id, u64::MAX))? {
            rated.push(entry?.0.value().1);
        }
        rated
    };
    let mut changes = Vec::with_capacity(rated.len());
    for video_id in rated {
        tx.open_table(tables::ACCOUNT_RATES)?
            .remove((account_id, video_id))?;
        if let Some(mut video) = videos::get(tx, video_id)? {
            remove_rate(tx, &mut video, &rater)?;
            changes.extend(save(tx, &video)?);
        }
    }
    Ok(changes)
}

/// The absolute id of local account `account_id`'s actor, which its rate activities start with.
fn account_actor(core: &Core, account_id: u64) -> Result<String> {
    let account = actors::account(&core.store.read()?, account_id)?;
    Ok(Urls::new(&core.config()).absolute(&urls::account_actor(&account.name)))
}

/// The path segment of a rate's activity id, as PeerTube names them.
fn path_of(kind: RateKind) -> &'static str {
    match kind {
        RateKind::Like => "likes",
        RateKind::Dislike => "dislikes",
    }
}

fn stored(tx: &impl Tx, video_id: u64, rater: &str) -> Result<Option<Rate>> {
    let table = tx.table(tables::VIDEO_RATES)?;
    let value = table.get((video_id, rater))?;
    Ok(match value {
        Some(v) => Some(codec::decode(v.value())?),
        None => None,
    })
}

fn put_rate(tx: &WriteTransaction, video_id: u64, rater: &str, rate: &Rate) -> Result<()> {
    tx.open_table(tables::VIDEO_RATES)?
        .insert((video_id, rater), codec::encode(rate).as_slice())?;
    tx.open_table(tables::RATES_BY_ACTIVITY)?
        .insert(rate.activity_id.as_str(), (video_id, rater))?;
    Ok(())
}

/// Remove `actor`'s rate of `video` and uncount it.
fn remove_rate(tx: &WriteTransaction, video: &mut Video, actor: &str) -> Result<Option<Rate>> {
    let old = stored(tx, video.id, actor)?;
    if let Some(o) = &old {
        tx.open_table(tables::VIDEO_RATES)?
            .remove((video.id, actor))?;
        tx.open_table(tables::RATES_BY_ACTIVITY)?
            .remove(o.activity_id.as_str())?;
        count(video, o.kind, false);
    }
    Ok(old)
}

fn count(video: &mut Video, kind: RateKind, add: bool) {
    let counter = match kind {
        RateKind::Like => &mut video.likes,
        RateKind::Dislike => &mut video.dislikes,
    };
    *counter = if add {
        counter.saturating_add(1)
    } else {
        counter.saturating_sub(1)
    };
}

fn save(tx: &WriteTransaction, video: &Video) -> Result<Vec<Change>> {
    records::put(tx, tables::VIDEOS, video.id, video)?;
    let account = channels::get(tx, video.channel_id)?.map_or(0, |c| c.account_id);
    Ok(vec![Change::Upsert(Row::new(video, account))])
}
