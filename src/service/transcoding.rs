//! What an administrator can do to a video's files after upload, as PeerTube's API offers it:
//! run transcoding again (`POST /videos/{id}/transcoding`), so a changed ladder reaches old
//! videos, and remove the HLS renditions or the progressive files (`DELETE /videos/{id}/hls`,
//! `…/web-videos`). A video always keeps one of the two, so it never stops playing.
//!
//! Each change is one transaction (the media record and any job); files are removed after the
//! commit, so a crash in between leaves only unreferenced files, never a reference to a missing
//! one.

use super::catalog::{Change, FileKinds};
use super::media_files::{self, VideoDirs};
use super::processing;
use super::rights;
use super::{Core, Result, ServiceError, videos};
use crate::model::job::JobKind;
use crate::model::now_ms;
use crate::model::user::User;
use crate::model::video::VideoMedia;
use crate::store::{jobs, records, tables};

/// Which files a transcoding request is for, as PeerTube names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Hls,
    WebVideo,
}

/// The id of the video `key` names, if `me` may manage its files: administrators only, as
/// PeerTube's `RUN_VIDEO_TRANSCODING` and `MANAGE_VIDEO_FILES` rights.
pub fn video_to_manage(core: &Core, me: &User, key: &str) -> Result<u64> {
    if !rights::can_manage_video_files(me) {
        return Err(ServiceError::Forbidden(
            "Only administrators may manage video files.".into(),
        ));
    }
    let video = videos::find(&core.store.read()?, key)?.ok_or(ServiceError::NotFound("video"))?;
    Ok(video.id)
}

/// Queue the work that makes the video's `kind` files complete. For HLS that is the remuxed
/// copy (when it was removed) and every AV1 rung the configuration names that the video lacks;
/// for progressive files, the remux's and (with `transcoding.web_videos`) every rung's. `force`
/// first drops the rungs' files of that kind, so they are encoded again with today's settings.
pub fn request(core: &Core, video_id: u64, kind: Kind, force: bool) -> Result<()> {
    if core.progress.get(video_id).is_some() {
        return Err(ServiceError::Conflict(
            "This video is being processed already; try again when it is done.".into(),
        ));
    }
    let tx = core.store.read()?;
    let video = videos::get(&tx, video_id)?.ok_or(ServiceError::NotFound("Video"))?;
    let source =
        records::get::<crate::model::video::VideoSource>(&tx, tables::VIDEO_SOURCES, video_id)?
            .ok_or(ServiceError::NotFound("Video source"))?;
    drop(tx);
    let ladder = super::ladder::applies(core, &source);
    // An upload served only transcoded (VP9) has AV1 rungs and nothing else.
    let transcoded_only = match processing::not_remuxable(&source) {
        Some(_) if ladder => true,
        Some(reason) => return Err(ServiceError::invalid("transcodingType", reason)),
        None => false,
    };
    let rung_webs = ladder && core.config().transcoding.web_videos;
    if transcoded_only {
        refuse_for_transcoded_only(kind, force, rung_webs)?;
    }
    if force && !core.config().transcoding.enabled {
        return Err(transcoding_disabled());
    }
    let mut dropped = Vec::new();
    // Through the catalogue: dropping rungs can leave a video without one kind of file.
    let hls = core.catalog.write(|| {
        core.store.write(|tx| {
            let mut media =
                records::get::<VideoMedia>(tx, tables::VIDEO_MEDIA, video_id)?.unwrap_or_default();
            if force {
                dropped = drop_rungs(&mut media, kind);
                records::put(tx, tables::VIDEO_MEDIA, video_id, &media)?;
            }
            let remux_missing = |m: &VideoMedia| match kind {
                Kind::Hls => !m.hls.iter().any(|r| !r.transcoded),
                Kind::WebVideo => !m.web_videos.iter().any(|w| !w.transcoded),
            };
            let mut queued = Vec::new();
            match kind {
                // The remux remakes what is missing, and its publication queues the ladder.
                Kind::Hls if transcoded_only && media.hls.is_empty() => {
                    queued.push(JobKind::ProcessUpload { video_id })
                }
                Kind::Hls if !transcoded_only && remux_missing(&media) => {
                    queued.push(JobKind::ProcessUpload { video_id })
                }
                // Remuxing is always allowed; encoding only where the instance does it.
                Kind::Hls if !core.config().transcoding.enabled => {
                    return Err(transcoding_disabled());
                }
                Kind::Hls if ladder => queued.push(JobKind::TranscodeLadder { video_id }),
                Kind::Hls => {}
                Kind::WebVideo => {
                    if !transcoded_only && remux_missing(&media) {
                        queued.push(JobKind::ProcessUpload { video_id });
                    }
                    // The ladder makes only the rungs' files still missing; with none, nothing.
                    if rung_webs {
                        queued.push(JobKind::TranscodeLadder { video_id });
                    }
                }
            }
            // Nothing queued: the files are complete (the remux's progressive file is remuxed, so
            // making it again would give the same bytes).
            for job in queued {
                jobs::enqueue(tx, job, now_ms())?;
            }
            let files = Change::Files(video_id, FileKinds::of(&media));
            Ok::<_, ServiceError>((media.hls, vec![files]))
        })
    })?;
    let dirs = VideoDirs::of(core, &video.uuid);
    if !dropped.is_empty() {
        remove_files(&dirs, &dropped);
        // The renditions as just committed.
        if let Err(e) = media_files::write_master(&dirs, &video, &hls) {
            tracing::warn!(video = video_id, error = %e, "master playlist not rewritten");
        }
    }
    core.jobs_wake.notify();
    Ok(())
}

fn transcoding_disabled() -> ServiceError {
    ServiceError::invalid(
        "transcodingType",
        "Transcoding is disabled on this instance.",
    )
}

/// Take the rungs' files of `kind` out of `media`; the files to remove once that is committed.
fn drop_rungs(media: &mut VideoMedia, kind: Kind) -> Vec<(&'static str, String)> {
    match kind {
        Kind::Hls => {
            let files = media
                .hls
                .iter()
                .filter(|r| r.transcoded)
                .flat_map(hls_files)
                .collect();
            media.hls.retain(|r| !r.transcoded);
            files
        }
        Kind::WebVideo => {
            let files = media
                .web_videos
                .iter()
                .filter(|w| w.transcoded)
                .flat_map(web_files)
                .collect();
            media.web_videos.retain(|w| !w.transcoded);
            files
        }
    }
}

/// What cannot be asked of a video served only from its AV1 rungs: progressive files when the
/// rungs get none (its upload cannot be remuxed into one), and encoding every HLS rung again,
/// which would first take away all it plays from.
fn refuse_for_transcoded_only(kind: Kind, force: bool, rung_webs: bool) -> Result<()> {
    if kind == Kind::WebVideo && !rung_webs {
        return Err(ServiceError::invalid(
            "transcodingType",
            "This video's upload plays only once transcoded and this instance writes no \
             progressive files of its renditions (transcoding.web_videos): its web file is the \
             upload as it was sent.",
        ));
    }
    if force && kind == Kind::Hls {
        return Err(ServiceError::invalid(
            "forceTranscoding",
            "This video plays only from its AV1 renditions, so they cannot all be encoded again \
             at once; ask without forceTranscoding to add the resolutions it lacks.",
        ));
    }
    Ok(())
}

/// Remove one kind of file: every HLS rendition (the remuxed copy and the AV1 rungs, and the
/// master playlist), or the progressive files.
pub fn remove(core: &Core, video_id: u64, kind: Kind) -> Result<()> {
    let (uuid, files) = core.catalog.write(|| {
        core.store.write(|tx| {
            let video = videos::get(tx, video_id)?.ok_or(ServiceError::NotFound("Video"))?;
            let mut media =
                records::get::<VideoMedia>(tx, tables::VIDEO_MEDIA, video_id)?.unwrap_or_default();
            let (files, other_left) = match kind {
                Kind::Hls => (
                    media.hls.iter().flat_map(hls_files).collect::<Vec<_>>(),
                    !media.web_videos.is_empty(),
                ),
                Kind::WebVideo => (
                    media.web_videos.iter().flat_map(web_files).collect(),
                    !media.hls.is_empty(),
                ),
            };
            if files.is_empty() {
                return Err(ServiceError::NotFound("Video files"));
            }
            if !other_left {
                return Err(ServiceError::invalid(
                    "id",
                    "Cannot remove the only files this video plays from.",
                ));
            }
            match kind {
                Kind::Hls => media.hls.clear(),
                Kind::WebVideo => media.web_videos.clear(),
            }
            records::put(tx, tables::VIDEO_MEDIA, video_id, &media)?;
            let kinds = Change::Files(video_id, FileKinds::of(&media));
            Ok(((video.uuid, files), vec![kinds]))
        })
    })?;
    let dirs = VideoDirs::of(core, &uuid);
    remove_files(&dirs, &files);
    if kind == Kind::Hls {
        remove_files(&dirs, &[("hls", "master.m3u8".to_owned())]);
    }
    Ok(())
}

/// The files of one HLS rendition, as (folder, name) under the video's directory.
fn hls_files(r: &crate::model::video::HlsRendition) -> Vec<(&'static str, String)> {
    let mut files = vec![("hls", r.file.clone()), ("hls", r.playlist.clone())];
    files.extend(r.torrent.as_ref().map(|t| ("torrents", t.file.clone())));
    files
}

/// The files of one progressive file, as (folder, name) under the video's directory.
fn web_files(w: &crate::model::video::WebVideo) -> Vec<(&'static str, String)> {
    let mut files = vec![("web-videos", w.file.clone())];
    files.extend(w.torrent.as_ref().map(|t| ("torrents", t.file.clone())));
    files
}

/// Remove files no record refers to any more; one that cannot be removed is only wasted space.
fn remove_files(dirs: &VideoDirs, files: &[(&'static str, String)]) {
    for (folder, name) in files {
        let path = dirs.root.join(folder).join(name);
        if let Err(e) = std::fs::remove_file(&path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %path.display(), error = %e, "file not removed");
        }
    }
}
