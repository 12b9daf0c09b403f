//! Likes and dislikes of local videos by remote actors (`Like`, `Dislike` and their `Undo`, as
//! PeerTube sends them to a video's origin): one rate per actor and video, a new one replacing
//! the opposite, the video's counters kept equal to the rates stored. Views from other servers
//! are counted through `views`, like local ones.

use redb::{ReadableTable, WriteTransaction};

use super::catalog::{Change, Row};
use super::{Core, Result, channels, seen, videos};
use crate::model::federation::{Rate, RateKind};
use crate::model::video::Video;
use crate::store::{codec, records, tables};

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
            tx.open_table(tables::VIDEO_RATES)?
                .insert((video_id, actor), codec::encode(&new).as_slice())?;
            tx.open_table(tables::RATES_BY_ACTIVITY)?
                .insert(activity_id, (video_id, actor))?;
            count(&mut video, kind, true);
            let changed = old.map(|o| o.kind) != Some(kind);
            save(tx, &video).map(|c| (changed, c))
        })
    })
}

/// `actor` takes back its rate named `activity_id` (or, when the Undo only names the video,
/// its rate of `video_id`). Returns whether one was removed.
pub fn unrate(
    core: &Core,
    actor: &str,
    activity_id: Option<&str>,
    video_id: Option<u64>,
    undo_id: &str,
    now_ms: i64,
) -> Result<bool> {
    core.catalog.write(|| {
        core.store.write(|tx| {
            seen::remember(tx, undo_id, now_ms)?;
            let by_activity = match activity_id {
                Some(id) => tx
                    .open_table(tables::RATES_BY_ACTIVITY)?
                    .get(id)?
                    .map(|v| (v.value().0, v.value().1.to_owned())),
                None => None,
            };
            let target = by_activity.or_else(|| video_id.map(|v| (v, actor.to_owned())));
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

/// Remove `actor`'s rate of `video` and uncount it.
fn remove_rate(tx: &WriteTransaction, video: &mut Video, actor: &str) -> Result<Option<Rate>> {
    let old: Option<Rate> = {
        let t = tx.open_table(tables::VIDEO_RATES)?;
        let v = t.get((video.id, actor))?;
        match v {
            Some(v) => Some(codec::decode(v.value())?),
            None => None,
        }
    };
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
