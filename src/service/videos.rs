//! Videos: creation (used by uploads and imports), lookup by id, UUID or short UUID, listing
//! through the catalogue, metadata updates and deletion.

use redb::{ReadableTable, WriteTransaction};

use super::catalog::{Change, Filter, Row, SortKey};
use super::{Core, Result, ServiceError, indexing, outbox, validate};
use crate::model::channel::Channel;
use crate::model::job::JobKind;
use crate::model::now_ms;
use crate::model::video::{
    CommentsPolicy, Privacy, Video, VideoMedia, VideoSource, VideoState, parse_short_uuid,
};
use crate::store::{Tx, jobs, next_id, records, tables};

/// Metadata of a new video.
#[derive(Debug, Clone)]
pub struct NewVideo {
    pub channel_id: u64,
    pub name: String,
    pub description: Option<String>,
    pub support: Option<String>,
    pub category: Option<u32>,
    pub licence: Option<u32>,
    pub language: Option<String>,
    pub privacy: Privacy,
    pub nsfw: bool,
    pub tags: Vec<String>,
    pub comments_policy: CommentsPolicy,
    pub download_enabled: bool,
    pub wait_transcoding: bool,
    pub state: VideoState,
    pub duration: u64,
    pub originally_published_at_ms: Option<i64>,
    /// Bytes of the uploaded original, counted against the quota.
    pub input_size: u64,
}

pub fn validate_category(v: u32) -> Result<()> {
    if crate::model::vocab::category_label(v).is_some() {
        Ok(())
    } else {
        Err(ServiceError::invalid(
            "category",
            "Should have a valid category",
        ))
    }
}

pub fn validate_licence(v: u32) -> Result<()> {
    if crate::model::vocab::licence_label(v).is_some() {
        Ok(())
    } else {
        Err(ServiceError::invalid(
            "licence",
            "Should have a valid licence",
        ))
    }
}

pub(crate) fn validate_new(v: &NewVideo) -> Result<()> {
    validate::name("name", &v.name, 3, 120)?;
    if let Some(d) = &v.description {
        validate::text("description", d, 3, 10_000)?;
    }
    if let Some(s) = &v.support {
        validate::text("support", s, 3, 1000)?;
    }
    if let Some(c) = v.category {
        validate_category(c)?;
    }
    if let Some(l) = v.licence {
        validate_licence(l)?;
    }
    if let Some(l) = &v.language {
        validate::language("language", l)?;
    }
    validate::tags(&v.tags)
}

/// Store a new video in its channel.
pub fn create(core: &Core, v: NewVideo) -> Result<Video> {
    validate_new(&v)?;
    core.catalog
        .write(|| {
            core.store.write(|tx| {
                let channel = channel_by_id(tx, v.channel_id)?
                    .ok_or(ServiceError::NotFound("video channel"))?;
                let video = create_in(tx, &v, now_ms(), uuid::Uuid::new_v4())?;
                indexing::enqueue_indexing(tx, vec![video.id])?;
                let row = Row::new(&video, channel.account_id);
                Ok((video, vec![Change::Upsert(row)]))
            })
        })
        .inspect(|_| core.jobs_wake.notify())
}

/// Store many videos in one transaction (imports, benchmarks): one commit instead of one per video.
pub fn create_batch(core: &Core, list: Vec<NewVideo>) -> Result<Vec<Video>> {
    for v in &list {
        validate_new(v)?;
    }
    core.catalog
        .write(|| {
            core.store.write(|tx| {
                let now = now_ms();
                let mut owners = std::collections::HashMap::new();
                let mut made = Vec::with_capacity(list.len());
                let mut changes = Vec::with_capacity(list.len());
                for (i, v) in list.iter().enumerate() {
                    let account_id = match owners.get(&v.channel_id) {
                        Some(a) => *a,
                        None => {
                            let c = channel_by_id(tx, v.channel_id)?
                                .ok_or(ServiceError::NotFound("video channel"))?;
                            owners.insert(v.channel_id, c.account_id);
                            c.account_id
                        }
                    };
                    // Distinct publication times keep the order of the batch.
                    let video = create_in(tx, v, now + i as i64, uuid::Uuid::new_v4())?;
                    changes.push(Change::Upsert(Row::new(&video, account_id)));
                    made.push(video);
                }
                indexing::enqueue_indexing(tx, made.iter().map(|v| v.id).collect())?;
                Ok((made, changes))
            })
        })
        .inspect(|_| core.jobs_wake.notify())
}

pub(crate) fn create_in(
    tx: &WriteTransaction,
    v: &NewVideo,
    now: i64,
    uuid: uuid::Uuid,
) -> Result<Video> {
    let id = next_id(tx, "videos")?;
    let video = Video {
        id,
        uuid,
        name: v.name.clone(),
        description: v.description.clone(),
        support: v.support.clone(),
        channel_id: v.channel_id,
        category: v.category,
        licence: v.licence,
        language: v.language.clone(),
        privacy: v.privacy,
        nsfw: v.nsfw,
        tags: v.tags.clone(),
        comments_policy: v.comments_policy,
        download_enabled: v.download_enabled,
        wait_transcoding: v.wait_transcoding,
        state: v.state,
        duration: v.duration,
        views: 0,
        likes: 0,
        dislikes: 0,
        is_local: true,
        created_at_ms: now,
        updated_at_ms: now,
        published_at_ms: now,
        originally_published_at_ms: v.originally_published_at_ms,
        input_size: v.input_size,
        state_reason: None,
        thumbnail: None,
        preview: None,
        aspect_ratio_e4: None,
        remote: None,
    };
    records::put(tx, tables::VIDEOS, id, &video)?;
    tx.open_table(tables::VIDEOS_BY_UUID)?
        .insert(video.uuid.as_u128(), id)?;
    Ok(video)
}

pub fn get(tx: &impl Tx, id: u64) -> Result<Option<Video>> {
    Ok(records::get(tx, tables::VIDEOS, id)?)
}

/// What a video's files are: its renditions, and the original upload (served until the
/// progressive file is made).
#[derive(Debug, Clone, Default)]
pub struct Files {
    pub media: VideoMedia,
    pub source: Option<VideoSource>,
}

/// The files of video `id` (none yet for a video still being processed).
pub fn files_of(core: &Core, id: u64) -> Result<Files> {
    let tx = core.store.read()?;
    Ok(Files {
        media: records::get(&tx, tables::VIDEO_MEDIA, id)?.unwrap_or_default(),
        source: records::get(&tx, tables::VIDEO_SOURCES, id)?,
    })
}

/// Resolve PeerTube's three spellings of a video id: integer, UUID, or short UUID.
pub fn find(tx: &impl Tx, key: &str) -> Result<Option<Video>> {
    if let Ok(id) = key.parse::<u64>() {
        return get(tx, id);
    }
    let uuid = if key.len() == 36 {
        uuid::Uuid::parse_str(key).ok()
    } else {
        parse_short_uuid(key)
    };
    let Some(uuid) = uuid else { return Ok(None) };
    let id = tx
        .table(tables::VIDEOS_BY_UUID)?
        .get(uuid.as_u128())?
        .map(|v| v.value());
    match id {
        Some(id) => get(tx, id),
        None => Ok(None),
    }
}

/// One page of videos matching `filter`, loaded from the store, and the number matching.
pub fn list(
    core: &Core,
    filter: &Filter,
    sort: SortKey,
    descending: bool,
    start: usize,
    count: usize,
) -> Result<(usize, Vec<Video>)> {
    let (total, ids) = core.catalog.query(filter, sort, descending, start, count);
    let tx = core.store.read()?;
    let mut videos = Vec::with_capacity(ids.len());
    for id in ids {
        // A video deleted between the catalogue query and this read is simply skipped.
        if let Some(v) = get(&tx, id)? {
            videos.push(v);
        }
    }
    Ok((total, videos))
}

/// Fields of `PUT /api/v1/videos/{id}`; `Some(None)` clears a nullable field.
#[derive(Debug, Clone, Default)]
pub struct VideoUpdate {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub support: Option<Option<String>>,
    pub category: Option<Option<u32>>,
    pub licence: Option<Option<u32>>,
    pub language: Option<Option<String>>,
    pub privacy: Option<Privacy>,
    pub nsfw: Option<bool>,
    pub tags: Option<Vec<String>>,
    pub comments_policy: Option<CommentsPolicy>,
    pub download_enabled: Option<bool>,
    pub wait_transcoding: Option<bool>,
    pub originally_published_at_ms: Option<Option<i64>>,
    pub channel_id: Option<u64>,
}

fn validate_update(up: &VideoUpdate) -> Result<()> {
    if let Some(n) = &up.name {
        validate::name("name", n, 3, 120)?;
    }
    if let Some(Some(d)) = &up.description {
        validate::text("description", d, 3, 10_000)?;
    }
    if let Some(Some(s)) = &up.support {
        validate::text("support", s, 3, 1000)?;
    }
    if let Some(Some(c)) = up.category {
        validate_category(c)?;
    }
    if let Some(Some(l)) = up.licence {
        validate_licence(l)?;
    }
    if let Some(Some(l)) = &up.language {
        validate::language("language", l)?;
    }
    if let Some(t) = &up.tags {
        validate::tags(t)?;
    }
    Ok(())
}

/// Apply an update. `new_channel_owner` is the account that must own a target channel when the
/// video moves (checked by the caller's rights, enforced here).
pub fn update(core: &Core, id: u64, up: VideoUpdate, channel_owner: Option<u64>) -> Result<Video> {
    validate_update(&up)?;
    core.catalog
        .write(|| {
            core.store.write(|tx| {
                let mut v = get(tx, id)?.ok_or(ServiceError::NotFound("video"))?;
                let mut channel: Channel = channel_by_id(tx, v.channel_id)?
                    .ok_or(ServiceError::NotFound("video channel"))?;
                if let Some(target) = up.channel_id.filter(|c| *c != v.channel_id) {
                    let target = channel_by_id(tx, target)?.ok_or_else(|| {
                        ServiceError::invalid("channelId", "Unknown video channel")
                    })?;
                    if channel_owner.is_some_and(|owner| owner != target.account_id) {
                        return Err(ServiceError::Forbidden(
                            "Cannot move a video to a channel of another account".into(),
                        ));
                    }
                    v.channel_id = target.id;
                    channel = target;
                }
                let was_federated = outbox::is_federated(&v);
                apply_update(&mut v, &up);
                v.updated_at_ms = now_ms();
                records::put(tx, tables::VIDEOS, id, &v)?;
                outbox::video_changed(
                    tx,
                    was_federated,
                    &v,
                    false,
                    channel.account_id,
                    v.updated_at_ms,
                )?;
                indexing::enqueue_indexing(tx, vec![id])?;
                let row = Row::new(&v, channel.account_id);
                Ok((v, vec![Change::Upsert(row)]))
            })
        })
        .inspect(|_| {
            core.jobs_wake.notify();
            core.deliveries_wake.notify_one();
        })
}

fn apply_update(v: &mut Video, up: &VideoUpdate) {
    if let Some(n) = &up.name {
        v.name = n.clone();
    }
    if let Some(d) = &up.description {
        v.description = d.clone();
    }
    if let Some(s) = &up.support {
        v.support = s.clone();
    }
    if let Some(c) = up.category {
        v.category = c;
    }
    if let Some(l) = up.licence {
        v.licence = l;
    }
    if let Some(l) = &up.language {
        v.language = l.clone();
    }
    if let Some(p) = up.privacy {
        v.privacy = p;
    }
    if let Some(n) = up.nsfw {
        v.nsfw = n;
    }
    if let Some(t) = &up.tags {
        v.tags = t.clone();
    }
    if let Some(c) = up.comments_policy {
        v.comments_policy = c;
    }
    if let Some(d) = up.download_enabled {
        v.download_enabled = d;
    }
    if let Some(w) = up.wait_transcoding {
        v.wait_transcoding = w;
    }
    if let Some(o) = up.originally_published_at_ms {
        v.originally_published_at_ms = o;
    }
}

/// Delete a video; its media files are removed by a job enqueued in the same transaction.
pub fn delete(core: &Core, id: u64) -> Result<()> {
    core.catalog
        .write(|| {
            core.store.write(|tx| {
                let v = get(tx, id)?.ok_or(ServiceError::NotFound("video"))?;
                delete_in(tx, &v)?;
                Ok((v.uuid, vec![Change::Remove(id)]))
            })
        })
        .inspect(|uuid| core.work.cancel(uuid))?;
    core.jobs_wake.notify();
    core.deliveries_wake.notify_one();
    Ok(())
}

fn delete_in(tx: &WriteTransaction, v: &Video) -> Result<()> {
    // Its queued media jobs go with it; a running one is told to stop after the commit
    // (`cancel_running`) and the removal of its files waits for it.
    jobs::discard_pending(
        tx,
        |k| matches!(k, JobKind::ProcessUpload { video_id } | JobKind::TranscodeLadder { video_id } if *video_id == v.id),
    )?;
    if outbox::is_federated(v) {
        let account = channel_by_id(tx, v.channel_id)?.map_or(0, |c| c.account_id);
        outbox::video_changed(tx, true, v, true, account, now_ms())?;
    }
    records::remove(tx, tables::VIDEOS, v.id)?;
    forget_rates(tx, v.id)?;
    tx.open_table(tables::VIDEOS_BY_UUID)?
        .remove(v.uuid.as_u128())?;
    if let Some(remote) = &v.remote {
        tx.open_table(tables::VIDEOS_BY_URL)?
            .remove(remote.url.as_str())?;
    }
    jobs::enqueue(tx, JobKind::RemoveVideoFiles { uuid: v.uuid }, now_ms())?;
    indexing::enqueue_indexing(tx, vec![v.id])?;
    Ok(())
}

/// Forget every rate of video `video_id`, inside the transaction that deletes it. Here rather
/// than in `rates`, which reads videos (and checks who may see them): the deletion of a video
/// owns the removal of what hangs off it.
fn forget_rates(tx: &WriteTransaction, video_id: u64) -> Result<()> {
    let doomed: Vec<(String, String)> = {
        let table = tx.open_table(tables::VIDEO_RATES)?;
        let mut doomed = Vec::new();
        for entry in table.range((video_id, "")..(video_id.saturating_add(1), ""))? {
            let (k, v) = entry?;
            let rate: crate::model::federation::Rate = crate::store::codec::decode(v.value())?;
            doomed.push((k.value().1.to_owned(), rate.activity_id));
        }
        doomed
    };
    for (rater, activity) in doomed {
        tx.open_table(tables::VIDEO_RATES)?
            .remove((video_id, rater.as_str()))?;
        tx.open_table(tables::RATES_BY_ACTIVITY)?
            .remove(activity.as_str())?;
        if let Some(crate::model::account::ActorRef::Account(account)) =
            super::actors::parse_slot(&rater)
        {
            tx.open_table(tables::ACCOUNT_RATES)?
                .remove((account, video_id))?;
        }
    }
    Ok(())
}

/// Delete every video of a channel inside the caller's transaction; returns catalogue changes.
pub(crate) fn delete_channel_videos_in(
    tx: &WriteTransaction,
    channel_id: u64,
) -> Result<Vec<Change>> {
    let doomed: Vec<Video> = records::all::<Video>(tx, tables::VIDEOS)?
        .into_iter()
        .filter(|v| v.channel_id == channel_id)
        .collect();
    let mut changes = Vec::with_capacity(doomed.len());
    for v in &doomed {
        delete_in(tx, v)?;
        changes.push(Change::Remove(v.id));
    }
    Ok(changes)
}

/// Give every video of channel `channel_id` the support text `support` (PeerTube's
/// `bulkVideosSupportUpdate`). Support texts are not in the catalogue, so nothing else changes.
pub(crate) fn set_channel_support_in(
    tx: &WriteTransaction,
    channel_id: u64,
    support: &Option<String>,
) -> Result<()> {
    let now = now_ms();
    for mut v in records::all::<Video>(tx, tables::VIDEOS)? {
        if v.channel_id == channel_id && v.support != *support {
            v.support = support.clone();
            v.updated_at_ms = now;
            records::put(tx, tables::VIDEOS, v.id, &v)?;
        }
    }
    Ok(())
}

/// A channel by id, read here rather than through `channels` (which deletes videos through
/// this module).
fn channel_by_id(tx: &impl Tx, id: u64) -> Result<Option<Channel>> {
    Ok(records::get(tx, tables::CHANNELS, id)?)
}
