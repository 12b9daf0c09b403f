//! Uploads: resumable sessions (PeerTube's `upload-resumable` protocol) and single-request
//! uploads end the same way, in `finish_file`: the file's headers are probed, it is moved
//! under `<data dir>/media/<uuid>/`, and the video is created in one transaction.
//!
//! Durability: a chunk's bytes are synced to the part file before the session's `received` count
//! is committed, so after a crash the part file holds at least what the session says; the excess
//! is cut off when the upload resumes. Start-up sweeps part files and media directories that no
//! session or video owns, so nothing half-written stays.

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use redb::{ReadableTable, WriteTransaction};

use super::videos::{self, NewVideo};
use super::{Core, Result, ServiceError, channels, indexing, upload_limits, validate};
use crate::auth::secret;
use crate::model::now_ms;
use crate::model::upload::{UploadMeta, UploadSession};
use crate::model::user::User;
use crate::model::video::{CommentsPolicy, Privacy, Video, VideoSource, VideoState};
use crate::store::{Tx, codec, records, tables};

/// Where part files of uploads in progress live.
pub fn uploads_dir(core: &Core) -> PathBuf {
    core.config().storage.data_dir.join("uploads")
}

/// A fresh, unguessable path in the uploads folder for a single-request upload being received.
pub fn new_single_part(core: &Core) -> Result<PathBuf> {
    let id = secret::random_hex::<16>()
        .map_err(|e| ServiceError::internal("naming an upload", e.to_string()))?;
    Ok(uploads_dir(core).join(format!("single-{id}.part")))
}

pub fn part_path(core: &Core, id: &str) -> PathBuf {
    uploads_dir(core).join(format!("{id}.part"))
}

fn io_error(what: &str, e: std::io::Error) -> ServiceError {
    ServiceError::internal(what.to_string(), e)
}

/// Turn upload metadata into a new video, checking every field.
pub fn new_video(meta: &UploadMeta, input_size: u64) -> Result<NewVideo> {
    let privacy = Privacy::try_from(meta.privacy)
        .map_err(|_| ServiceError::invalid("privacy", "Should have a valid privacy"))?;
    if privacy == Privacy::PasswordProtected {
        return Err(ServiceError::invalid(
            "privacy",
            "Password protected videos are not supported yet",
        ));
    }
    let comments_policy = CommentsPolicy::try_from(meta.comments_policy).map_err(|_| {
        ServiceError::invalid("commentsPolicy", "Should have a valid commentsPolicy")
    })?;
    let v = NewVideo {
        channel_id: meta.channel_id,
        name: meta.name.clone(),
        description: meta.description.clone(),
        support: meta.support.clone(),
        category: meta.category,
        licence: meta.licence,
        language: meta.language.clone(),
        privacy,
        nsfw: meta.nsfw,
        tags: meta.tags.clone(),
        comments_policy,
        download_enabled: meta.download_enabled,
        wait_transcoding: meta.wait_transcoding,
        // The media pipeline moves it on once it has made browser-playable files.
        state: VideoState::ToTranscode,
        duration: 0,
        originally_published_at_ms: meta.originally_published_at_ms,
        input_size,
    };
    videos::validate_new(&v)?;
    Ok(v)
}

/// The uploader must own the target channel.
fn check_channel(tx: &impl Tx, user: &User, channel_id: u64) -> Result<()> {
    // PeerTube answers an unknown channel with 404, before any other check of it.
    let channel = channels::get(tx, channel_id)?.ok_or(ServiceError::NotFound("video channel"))?;
    if channel.account_id != user.account_id {
        return Err(ServiceError::Forbidden(
            "Cannot upload to a channel of another account".into(),
        ));
    }
    Ok(())
}

/// Refuse files over the instance limit or the user's quota, counting uploads in progress.
pub fn check_size(
    core: &Core,
    tx: &impl Tx,
    user: &User,
    size: u64,
    except: Option<&str>,
) -> Result<()> {
    let max = core.config().uploads.max_file_bytes;
    if size > max {
        return Err(ServiceError::FileTooLarge(format!(
            "This file is too large: {size} bytes, the instance accepts up to {max}"
        )));
    }
    let day_ago = now_ms() - 24 * 3600 * 1000;
    let (stored, stored_today) = core.catalog.bytes_of_account(user.account_id, day_ago);
    let declared: u64 = upload_limits::sessions_of(tx, user.id)?
        .iter()
        .filter(|s| Some(s.id.as_str()) != except)
        .map(|s| s.size)
        .sum();
    // Single-request uploads being received count too: parallel uploads cannot overrun it.
    let pending = declared + core.receiving.bytes_of(user.id);
    let over = |quota: i64, used: u64| quota >= 0 && used + pending + size > quota.unsigned_abs();
    if over(user.video_quota, stored) || over(user.video_quota_daily, stored_today) {
        return Err(ServiceError::QuotaReached(
            "The user video quota is exceeded with this video.".into(),
        ));
    }
    Ok(())
}

/// What a client says of a file before sending it, in both protocols: its name, and its type
/// when it gives one. Refused at once when wrong, before a byte of the file is taken.
pub fn check_announced(filename: &str, media_type: Option<&str>) -> Result<()> {
    validate::upload_filename(filename)?;
    validate::announced_video_type(media_type)
}

/// Begin a resumable upload of `size` bytes, announced as `media_type`.
pub fn start(
    core: &Core,
    user: &User,
    meta: UploadMeta,
    filename: String,
    media_type: Option<&str>,
    size: u64,
) -> Result<UploadSession> {
    check_announced(&filename, media_type)?;
    new_video(&meta, size)?;
    if size == 0 {
        return Err(ServiceError::invalid(
            "X-Upload-Content-Length",
            "The file is empty",
        ));
    }
    let dir = uploads_dir(core);
    std::fs::create_dir_all(&dir).map_err(|e| io_error("creating the uploads directory", e))?;
    let id = secret::random_hex::<16>()
        .map_err(|e| ServiceError::internal("naming an upload", e.to_string()))?;
    let now = now_ms();
    let session = UploadSession {
        id: id.clone(),
        user_id: user.id,
        filename: filename.chars().take(255).collect(),
        size,
        received: 0,
        meta,
        created_at_ms: now,
        updated_at_ms: now,
    };
    File::create(part_path(core, &id)).map_err(|e| io_error("creating the part file", e))?;
    let created = core.store.write(|tx| {
        check_channel(tx, user, session.meta.channel_id)?;
        super::upload_limits::check_new_session(core, tx, user)?;
        check_size(core, tx, user, size, None)?;
        put_session(tx, &session)?;
        Ok(())
    });
    if let Err(e) = created {
        let _ = std::fs::remove_file(part_path(core, &id));
        return Err(e);
    }
    Ok(session)
}

fn put_session(tx: &WriteTransaction, s: &UploadSession) -> Result<()> {
    tx.open_table(tables::UPLOADS)?
        .insert(s.id.as_str(), codec::encode(s).as_slice())?;
    Ok(())
}

/// The session `id` if it belongs to `user_id`. Another user's upload is reported as missing,
/// so upload ids cannot be probed.
pub fn get(core: &Core, id: &str, user_id: u64) -> Result<UploadSession> {
    let tx = core.store.read()?;
    let table = tx.table(tables::UPLOADS)?;
    let found = table.get(id)?;
    let session: Option<UploadSession> = match found {
        Some(v) => Some(codec::decode(v.value())?),
        None => None,
    };
    match session {
        Some(s) if s.user_id == user_id => Ok(s),
        _ => Err(ServiceError::NotFound("upload")),
    }
}

/// Record that the part file now durably holds `received` bytes.
pub fn advance(core: &Core, id: &str, received: u64) -> Result<UploadSession> {
    core.store.write(|tx| {
        let mut s: UploadSession = {
            let table = tx.open_table(tables::UPLOADS)?;
            let found = table.get(id)?;
            match found {
                Some(v) => codec::decode(v.value())?,
                None => return Err(ServiceError::NotFound("upload")),
            }
        };
        s.received = received;
        s.updated_at_ms = now_ms();
        put_session(tx, &s)?;
        Ok(s)
    })
}

/// Cancel an upload: its session and bytes are removed.
pub fn cancel(core: &Core, id: &str, user_id: u64) -> Result<()> {
    get(core, id, user_id)?;
    core.store.write(|tx| {
        tx.open_table(tables::UPLOADS)?.remove(id)?;
        Ok::<_, ServiceError>(())
    })?;
    let _ = std::fs::remove_file(part_path(core, id));
    Ok(())
}

/// The last chunk arrived: turn the session's part file into a video.
pub fn finish(core: &Core, session: &UploadSession, user: &User) -> Result<Video> {
    let part = part_path(core, &session.id);
    let result = finish_file(
        core,
        user,
        &session.meta,
        &part,
        &session.filename,
        Some(&session.id),
    );
    if matches!(result, Err(ServiceError::UnsupportedMedia(_))) {
        // Nothing can be done with these bytes: drop the session so they do not linger.
        let dropped = core.store.write(|tx| {
            tx.open_table(tables::UPLOADS)?
                .remove(session.id.as_str())?;
            Ok::<_, ServiceError>(())
        });
        if let Err(e) = dropped {
            // The session stays; the upload sweep removes it when it expires.
            tracing::warn!(error = %e, "dropping a refused upload's session");
        }
    }
    result
}

/// Recognise the container of a complete file at `part`, move it under the media directory and
/// create the video, removing the upload session `session_id` in the same transaction.
pub fn finish_file(
    core: &Core,
    user: &User,
    meta: &UploadMeta,
    part: &Path,
    filename: &str,
    session_id: Option<&str>,
) -> Result<Video> {
    let size = std::fs::metadata(part)
        .map_err(|e| io_error("reading the uploaded file", e))?
        .len();
    // Headers only, before anything is kept: refused files are deleted with the reason.
    // In a child process: this is the first parse of bytes anyone may send.
    let info = match crate::media::inspect::inspect(part, &core.config().media.limits()) {
        Ok(info) => info,
        Err(e) => {
            let _ = std::fs::remove_file(part);
            return Err(ServiceError::UnsupportedMedia(e.to_string()));
        }
    };
    let mut new = new_video(meta, size)?;
    new.duration = info.duration_ms.saturating_add(500) / 1000;
    let extension = if info.container == "matroska" {
        "mkv"
    } else {
        "mp4"
    };
    let uuid = uuid::Uuid::new_v4();
    let dir = super::media_files::media_dir(&core.config().storage.data_dir).join(uuid.to_string());
    std::fs::create_dir_all(&dir).map_err(|e| io_error("creating the media directory", e))?;
    let file = format!("original.{extension}");
    let original = dir.join(&file);
    std::fs::rename(part, &original).map_err(|e| io_error("moving the upload", e))?;
    let source = VideoSource {
        filename: filename.chars().take(255).collect(),
        file,
        size,
        info,
    };
    let created = core.catalog.write(|| {
        core.store.write(|tx| {
            check_channel(tx, user, new.channel_id)?;
            check_size(core, tx, user, size, session_id)?;
            super::upload_limits::check_queued(core, tx, user, new.duration)?;
            if let Some(id) = session_id {
                tx.open_table(tables::UPLOADS)?.remove(id)?;
            }
            let video = videos::create_in(tx, &new, now_ms(), uuid)?;
            records::put(tx, tables::VIDEO_SOURCES, video.id, &source)?;
            // An uploaded video is found by search like any other (its visibility is judged at
            // query time, so indexing it before it is published shows nothing early).
            indexing::enqueue_indexing(tx, vec![video.id])?;
            // In the same commit: a stored video always has the job that makes it playable.
            crate::store::jobs::enqueue(
                tx,
                crate::model::job::JobKind::ProcessUpload { video_id: video.id },
                now_ms(),
            )?;
            let row = super::catalog::Row::new(&video, user.account_id);
            Ok((video, vec![super::catalog::Change::Upsert(row)]))
        })
    });
    match &created {
        Ok(_) => core.jobs_wake.notify(),
        Err(_) => {
            // A resumable upload keeps its bytes: the client may ask to finish it again (after
            // its other videos are processed, say) without sending the file twice.
            if session_id.is_some() {
                let _ = std::fs::rename(&original, part);
            }
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    created
}

/// Remove what no session or video owns: stray part files, expired sessions, media directories
/// of videos that were never committed. Run at start, before serving.
pub fn sweep(core: &Core) -> Result<usize> {
    let expiry_ms = i64::try_from(core.config().uploads.resumable_expiry_hours)
        .unwrap_or(i64::MAX / 3_600_000)
        .saturating_mul(3_600_000);
    let cutoff = now_ms().saturating_sub(expiry_ms);
    let expired: Vec<String> = core.store.write(|tx| {
        let mut expired = Vec::new();
        {
            let table = tx.open_table(tables::UPLOADS)?;
            for entry in table.range::<&str>(..)? {
                let (k, v) = entry?;
                let s: UploadSession = codec::decode(v.value())?;
                if s.updated_at_ms < cutoff {
                    expired.push(k.value().to_owned());
                }
            }
        }
        let mut table = tx.open_table(tables::UPLOADS)?;
        for id in &expired {
            table.remove(id.as_str())?;
        }
        Ok::<_, ServiceError>(expired)
    })?;
    let mut removed = expired.len();
    let tx = core.store.read()?;
    let sessions = tx.table(tables::UPLOADS)?;
    for path in read_dir(&uploads_dir(core)) {
        let id = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        if sessions.get(id.as_str())?.is_none() && std::fs::remove_file(&path).is_ok() {
            removed += 1;
        }
    }
    let by_uuid = tx.table(tables::VIDEOS_BY_UUID)?;
    for path in read_dir(&super::media_files::media_dir(
        &core.config().storage.data_dir,
    )) {
        let owned = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| uuid::Uuid::parse_str(n).ok())
            .map(|u| by_uuid.get(u.as_u128()).map(|v| v.is_some()))
            .transpose()?
            .unwrap_or(false);
        if !owned && std::fs::remove_dir_all(&path).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}

fn read_dir(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default()
}

/// Uploads being written right now: one request at a time per upload.
#[derive(Debug, Default)]
pub struct InFlight(Mutex<HashSet<String>>);

pub struct InFlightGuard(Arc<InFlight>, String);

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.0
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.1);
    }
}

impl InFlight {
    pub fn enter(self: &Arc<Self>, id: &str) -> Result<InFlightGuard> {
        let mut set = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if !set.insert(id.to_owned()) {
            return Err(ServiceError::Conflict(
                "Another request is writing this upload".into(),
            ));
        }
        Ok(InFlightGuard(self.clone(), id.to_owned()))
    }
}
