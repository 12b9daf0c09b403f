//! Turning an uploaded video into playable files, run by the job worker. Uploads whose video
//! browsers play (H.264 or AV1, in MP4/MOV or Matroska/WebM) are remuxed without re-encoding
//! the video; their audio is copied when MP4 carries it as it is (AAC, MP3, Opus) and becomes
//! Opus otherwise (Vorbis, FLAC, PCM; `media::audio`, when the upload is opened):
//!
//! 1. the thumbnail and preview (unless uploaded), and the HLS rendition (fragmented MP4 +
//!    playlists), then the video is published — it plays from here on;
//! 2. the progressive MP4 (PeerTube's "web video", also the download) and a `.torrent` per file.
//!
//! Each step commits what it made in one transaction and is skipped when a retry or a restart
//! finds it done. Files are written under temporary names and renamed, so a crash never leaves a
//! half-written file under a served name; a video deleted meanwhile has its files removed.
//!
//! The commit that publishes an H.264 upload also enqueues its AV1 ladder (`service::ladder`),
//! which adds renditions to the same HLS playlist as they land. A VP9 upload, which browsers
//! do not all play from MP4, gets its thumbnail here and then its ladder in the same job: the
//! first AV1 rung publishes it. With transcoding off, a VP9 upload waits, with the reason on the
//! video.

use std::path::{Path, PathBuf};

use super::catalog::{Change, Row};
use super::images::{self, Kind};
use super::{Core, ServiceError, channels, videos};
use crate::media::probe::VideoCodec;
use crate::media::remux::{self, Source};
use crate::media::{audio, thumbnail, torrent};
use crate::model::job::JobKind;
use crate::model::now_ms;
use crate::model::video::{
    HlsRendition, TorrentFile, Video, VideoMedia, VideoSource, VideoState, WebVideo,
};
use crate::store::{jobs as store_jobs, records, tables};

/// Why processing did not finish.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Trying again cannot help (the file is damaged); the video is marked failed.
    #[error("{0}")]
    Permanent(String),
    /// Worth retrying (I/O, storage).
    #[error("{0}")]
    Transient(String),
    /// The server is stopping: the job is left to resume at the next start.
    #[error("interrupted by shutdown")]
    Cancelled,
}

impl From<ServiceError> for PipelineError {
    fn from(e: ServiceError) -> Self {
        PipelineError::Transient(e.to_string())
    }
}

impl From<std::io::Error> for PipelineError {
    fn from(e: std::io::Error) -> Self {
        PipelineError::Transient(e.to_string())
    }
}

impl From<remux::RemuxError> for PipelineError {
    fn from(e: remux::RemuxError) -> Self {
        match e {
            remux::RemuxError::Io(io) => PipelineError::Transient(io.to_string()),
            other => PipelineError::Permanent(other.to_string()),
        }
    }
}

/// The folders of one video's files under `<data dir>/media/<uuid>/`.
pub struct VideoDirs {
    pub root: PathBuf,
}

impl VideoDirs {
    pub fn of(core: &Core, uuid: &uuid::Uuid) -> VideoDirs {
        VideoDirs {
            root: crate::jobs::media_dir(&core.config().storage.data_dir).join(uuid.to_string()),
        }
    }
    pub fn hls(&self) -> PathBuf {
        self.root.join("hls")
    }
    pub fn web_videos(&self) -> PathBuf {
        self.root.join("web-videos")
    }
    pub fn torrents(&self) -> PathBuf {
        self.root.join("torrents")
    }
    pub fn images(&self) -> PathBuf {
        self.root.join("images")
    }
}

/// The HLS directory of a video.
pub fn hls_dir(core: &Core, video: &Video) -> PathBuf {
    VideoDirs::of(core, &video.uuid).hls()
}

/// Why an upload cannot be remuxed as it is, or `None` when it can. Its audio never stands in
/// the way: AAC, MP3 in MP4 and Opus are copied, and Vorbis, FLAC, PCM and Matroska's MP3
/// become Opus (`media::audio`) when the upload is opened.
pub(super) fn not_remuxable(source: &VideoSource) -> Option<String> {
    let codec = source.info.video.codec;
    (!matches!(codec, VideoCodec::H264 | VideoCodec::Av1)).then(|| {
        format!(
            "{} video plays only once transcoded, and transcoding is off on this server",
            codec.label()
        )
    })
}

/// Open the upload for remuxing: an MP4 directly; a Matroska/WebM file through a scratch copy
/// of its frames (`remux::matroska`) named `scratch_name` (one per job kind, as two workers may
/// read the same upload), which `Scratch` removes when processing ends.
pub(super) fn open_source(
    dirs: &VideoDirs,
    source: &VideoSource,
    scratch_name: &str,
) -> Result<(Source, Scratch), PipelineError> {
    let original = dirs.root.join(&source.file);
    let mut scratch = Scratch(Vec::new());
    if source.info.container == "matroska" {
        let demuxed = scratch.add(dirs.root.join(scratch_name));
        let src = remux::matroska::open(&original, &demuxed)?;
        // Audio browsers cannot play from MP4 becomes Opus, appended to the demuxed frames.
        let src = audio::append_opus(src, &demuxed).map_err(remux::RemuxError::from)?;
        return Ok((src, scratch));
    }
    let src = Source::open(&original)?;
    if src.foreign_audio.is_none() {
        return Ok((src, scratch));
    }
    // The upload itself is never written to: the video is copied beside the Opus packets.
    let with_opus = scratch.add(dirs.root.join(format!("{scratch_name}.opus")));
    let src = audio::to_opus(src, &with_opus).map_err(remux::RemuxError::from)?;
    Ok((src, scratch))
}

/// Scratch files removed when dropped (done, failed or retried).
pub(super) struct Scratch(pub(super) Vec<PathBuf>);

impl Scratch {
    /// Remove `path` with the others; returns it.
    fn add(&mut self, path: PathBuf) -> PathBuf {
        self.0.push(path.clone());
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// A video with its upload and what has been made of it; `None` when it was deleted meanwhile.
pub(super) fn load(
    core: &Core,
    video_id: u64,
) -> Result<Option<(Video, VideoSource, VideoMedia)>, PipelineError> {
    let tx = core.store.read().map_err(ServiceError::from)?;
    let Some(video) = videos::get(&tx, video_id)? else {
        return Ok(None);
    };
    let Some(source) = records::get::<VideoSource>(&tx, tables::VIDEO_SOURCES, video_id)
        .map_err(ServiceError::from)?
    else {
        return Ok(None);
    };
    let media = records::get::<VideoMedia>(&tx, tables::VIDEO_MEDIA, video_id)
        .map_err(ServiceError::from)?
        .unwrap_or_default();
    Ok(Some((video, source, media)))
}

/// Process one uploaded video, doing only the steps not yet done.
pub fn process_upload(core: &Core, video_id: u64) -> Result<(), PipelineError> {
    let Some((video, source, media)) = load(core, video_id)? else {
        return Ok(());
    };
    if let Some(reason) = not_remuxable(&source) {
        if super::ladder::applies(core, &source) {
            return transcode_only(core, &video);
        }
        return set_reason(core, video_id, &reason);
    }
    let dirs = VideoDirs::of(core, &video.uuid);
    let (mut src, _scratch) = open_source(&dirs, &source, "demuxed.tmp")?;
    // The AV1 rungs (`transcoded`) are the ladder's; this job makes the remuxed copy.
    let remux_missing = !media.hls.iter().any(|r| !r.transcoded);
    // Work units: sample bytes copied into each file still to write.
    // The ladder's progressive files are its own; this job makes the remux's.
    let web_missing = !media.web_videos.iter().any(|w| !w.transcoded);
    let steps = u64::from(remux_missing) + u64::from(web_missing);
    let guard = core.progress.start(video_id, steps * src.sample_bytes());
    src.count_into(guard.tracker.done.clone());
    make_images(core, &video, &mut src, source.info.video.rotation);
    if remux_missing {
        let rendition = make_hls(&dirs, &video, &mut src)?;
        let aspect = aspect_ratio_e4(src.width, src.height, source.info.video.rotation);
        let publish = Publish {
            aspect_ratio_e4: aspect,
            ladder: super::ladder::applies(core, &source),
        };
        commit(core, video_id, &dirs, Some(publish), |m| {
            m.hls.retain(|r| r.transcoded);
            m.hls.insert(0, rendition);
        })?;
    }
    // The remuxed HLS file's torrent serves only peers, so it comes last: with the progressive
    // file, or alone when that exists (the HLS was removed and made again).
    let hls_torrent_missing = remux_missing
        || media
            .hls
            .iter()
            .any(|r| !r.transcoded && r.torrent.is_none());
    let mut web = None;
    if web_missing {
        match make_web_video(core, &dirs, &video, &mut src) {
            Ok(made) => web = Some(made),
            // The video plays from its HLS already: it stays published without a download.
            Err(PipelineError::Permanent(reason)) => {
                tracing::warn!(video = video_id, %reason, "no progressive file");
                return Ok(());
            }
            Err(e) => return Err(e),
        }
    }
    let torrent = match hls_torrent_missing {
        true => Some(hls_torrent(core, &dirs, &video, src.height)?),
        false => None,
    };
    if web.is_some() || torrent.is_some() {
        commit(core, video_id, &dirs, None, |m| {
            if let Some(web) = web {
                m.web_videos.retain(|w| w.transcoded);
                m.web_videos.insert(0, web);
            }
            if let (Some(t), Some(r)) = (torrent, m.hls.iter_mut().find(|r| !r.transcoded)) {
                r.torrent = Some(t);
            }
        })?;
    }
    Ok(())
}

/// An upload that plays only once transcoded (VP9): its AV1 ladder (which also makes its
/// thumbnail and preview), whose first rung publishes it. The video fails only when no rung could be made; a
/// later rung that fails costs that rung alone.
fn transcode_only(core: &Core, video: &Video) -> Result<(), PipelineError> {
    // The ladder makes the images from the source it opens (a WebM is demuxed once).
    match super::ladder::transcode(core, video.id) {
        Err(PipelineError::Permanent(reason)) if plays(core, video.id)? => {
            tracing::warn!(video = video.id, %reason, "an AV1 rung failed; the others play");
            Ok(())
        }
        other => other,
    }
}

/// Whether a video has a rendition to play.
fn plays(core: &Core, video_id: u64) -> Result<bool, PipelineError> {
    Ok(load(core, video_id)?.is_some_and(|(_, _, media)| !media.hls.is_empty()))
}

/// Remove the half-written `tmp` of a write that failed, so that nothing is left behind.
pub(super) fn discard_on_error<T>(
    tmp: &Path,
    result: Result<T, remux::RemuxError>,
) -> Result<T, PipelineError> {
    if result.is_err() {
        let _ = std::fs::remove_file(tmp);
    }
    Ok(result?)
}

/// Write `bytes` to `dir/name` through a temporary file and a rename.
pub(super) fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), PipelineError> {
    let tmp = dir.join(format!("{name}.tmp"));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, dir.join(name))?;
    Ok(())
}

/// Step 1a: the thumbnail and preview the owner did not upload. A video whose frames cannot be
/// decoded still plays, so a failure here is logged, not fatal.
pub(super) fn make_images(core: &Core, video: &Video, src: &mut Source, rotation: u16) {
    let video_id = video.id;
    let missing: Vec<Kind> = [
        (Kind::Thumbnail, &video.thumbnail),
        (Kind::Preview, &video.preview),
    ]
    .into_iter()
    .filter(|(_, name)| name.is_none())
    .map(|(kind, _)| kind)
    .collect();
    if missing.is_empty() {
        return;
    }
    let made = match thumbnail::from_video(src, rotation) {
        Ok(made) => made,
        Err(e) => {
            tracing::warn!(video = video_id, error = %e, "no thumbnail");
            return;
        }
    };
    if let Err(e) = images::store(core, video_id, &made, &missing, true) {
        tracing::warn!(video = video_id, error = %e, "thumbnail not stored");
    }
}

/// Step 1b: the HLS rendition and its playlists.
fn make_hls(
    dirs: &VideoDirs,
    video: &Video,
    src: &mut Source,
) -> Result<HlsRendition, PipelineError> {
    let dir = dirs.hls();
    std::fs::create_dir_all(&dir)?;
    let height = src.height;
    let file = format!("{}-{height}-fragmented.mp4", video.uuid);
    let playlist = format!("{}-{height}.m3u8", video.uuid);
    let tmp = dir.join(format!("{file}.tmp"));
    let rendition = discard_on_error(&tmp, remux::fragmented::write(src, &tmp))?;
    std::fs::rename(&tmp, dir.join(&file))?;
    write_atomic(&dir, &playlist, &remux::playlist::media(&rendition, &file))?;
    let made = HlsRendition {
        width: rendition.width,
        height: rendition.height,
        fps: rendition.fps,
        size: rendition.size,
        codecs: rendition.codecs.clone(),
        file,
        playlist,
        torrent: None,
        peak_bandwidth: rendition.peak_bandwidth,
        average_bandwidth: rendition.average_bandwidth,
        transcoded: false,
    };
    write_master(dirs, video, std::slice::from_ref(&made))?;
    Ok(made)
}

/// Write `master.m3u8` listing `renditions`: the AV1 ones first, smallest to largest (players
/// that decode AV1 start there), then the H.264 ones (the upload remuxed as it is, or the
/// compatibility rendition of an upload that is not H.264), which every player decodes.
pub(super) fn write_master(
    dirs: &VideoDirs,
    video: &Video,
    renditions: &[HlsRendition],
) -> Result<(), PipelineError> {
    let mut ordered: Vec<&HlsRendition> = renditions.iter().collect();
    ordered.sort_by_key(|r| (!r.codecs.starts_with("av01"), r.height));
    let duration = video.duration.max(1) as f64;
    let variants: Vec<remux::playlist::Variant> = ordered
        .into_iter()
        .map(|r| {
            // Records from before bandwidths were kept: estimated from the size.
            let estimate = (r.size as f64 * 8.0 / duration) as u64;
            let average = Some(r.average_bandwidth)
                .filter(|b| *b > 0)
                .unwrap_or(estimate);
            remux::playlist::Variant {
                uri: r.playlist.clone(),
                codecs: r.codecs.clone(),
                width: r.width,
                height: r.height,
                fps: r.fps,
                peak_bandwidth: Some(r.peak_bandwidth).filter(|b| *b > 0).unwrap_or(average),
                average_bandwidth: average,
            }
        })
        .collect();
    write_atomic(
        &dirs.hls(),
        "master.m3u8",
        &remux::playlist::master(&variants),
    )
}

/// Step 2: the progressive MP4 and its torrent.
fn make_web_video(
    core: &Core,
    dirs: &VideoDirs,
    video: &Video,
    src: &mut Source,
) -> Result<WebVideo, PipelineError> {
    let dir = dirs.web_videos();
    std::fs::create_dir_all(&dir)?;
    let file = format!("{}-{}.mp4", video.uuid, src.height);
    let tmp = dir.join(format!("{file}.tmp"));
    let written = discard_on_error(&tmp, remux::progressive::write(src, &tmp))?;
    std::fs::rename(&tmp, dir.join(&file))?;
    let url = format!("{}/static/web-videos/{file}", core.config().public_url());
    let torrent = make_torrent(dirs, &dir.join(&file), video, src.height, "", &url)?;
    Ok(WebVideo {
        width: src.width,
        height: src.height,
        fps: written.fps,
        size: written.size,
        has_audio: src.audio.is_some(),
        file,
        torrent: Some(torrent),
        transcoded: false,
        codecs: String::new(),
    })
}

fn hls_torrent(
    core: &Core,
    dirs: &VideoDirs,
    video: &Video,
    height: u32,
) -> Result<TorrentFile, PipelineError> {
    let file = format!("{}-{height}-fragmented.mp4", video.uuid);
    let url = format!(
        "{}/static/streaming-playlists/hls/{}/{file}",
        core.config().public_url(),
        video.uuid
    );
    make_torrent(dirs, &dirs.hls().join(&file), video, height, "-hls", &url)
}

/// Hash `file` into `torrents/<uuid>-<height><suffix>.torrent`, web-seeded from `url`. Its
/// name is the video's title and resolution, as PeerTube names them.
pub(super) fn make_torrent(
    dirs: &VideoDirs,
    file: &Path,
    video: &Video,
    height: u32,
    suffix: &str,
    url: &str,
) -> Result<TorrentFile, PipelineError> {
    let title: String = video
        .name
        .chars()
        .map(|c| if "/\\?%*:|\"<>".contains(c) { '-' } else { c })
        .collect();
    let name = format!("{title} {height}p.mp4");
    let made =
        torrent::create(file, &name, url).map_err(|e| PipelineError::Transient(e.to_string()))?;
    let uuid = video.uuid;
    let dir = dirs.torrents();
    std::fs::create_dir_all(&dir)?;
    let torrent_name = format!("{uuid}-{height}{suffix}.torrent");
    write_atomic(&dir, &torrent_name, &made.bytes)?;
    Ok(TorrentFile {
        file: torrent_name,
        info_hash: made.info_hash,
    })
}

/// Width over height as shown (a quarter turn swaps them), in ten-thousandths.
pub(super) fn aspect_ratio_e4(width: u32, height: u32, rotation: u16) -> u32 {
    let (w, h) = if rotation % 180 == 90 {
        (height, width)
    } else {
        (width, height)
    };
    (f64::from(w) / f64::from(h.max(1)) * 10_000.0).round() as u32
}

/// What the commit that makes a video playable also does.
pub(super) struct Publish {
    /// Of what now plays.
    pub aspect_ratio_e4: u32,
    /// Enqueue the AV1 ladder in the same transaction.
    pub ladder: bool,
}

/// Record what a step made, in one transaction, and return the video's media as committed;
/// `publish` also makes the video public. When the video was deleted while the step ran, its
/// files are removed instead (and `None` returned).
pub(super) fn commit(
    core: &Core,
    video_id: u64,
    dirs: &VideoDirs,
    publish: Option<Publish>,
    apply: impl FnOnce(&mut VideoMedia),
) -> Result<Option<VideoMedia>, PipelineError> {
    let enqueues = publish.as_ref().is_some_and(|p| p.ladder);
    let kept = core.catalog.write(|| {
        core.store.write(|tx| {
            let Some(mut video) = videos::get(tx, video_id)? else {
                return Ok((None, Vec::new()));
            };
            let mut media =
                records::get::<VideoMedia>(tx, tables::VIDEO_MEDIA, video_id)?.unwrap_or_default();
            apply(&mut media);
            records::put(tx, tables::VIDEO_MEDIA, video_id, &media)?;
            let Some(publish) = publish else {
                return Ok((Some(media), Vec::new()));
            };
            video.aspect_ratio_e4 = Some(publish.aspect_ratio_e4);
            let channel = channels::get(tx, video.channel_id)?;
            let now = now_ms();
            if video.state != VideoState::Published {
                video.published_at_ms = now;
            }
            video.state = VideoState::Published;
            video.state_reason = None;
            video.updated_at_ms = now;
            records::put(tx, tables::VIDEOS, video_id, &video)?;
            if publish.ladder {
                store_jobs::enqueue(tx, JobKind::TranscodeLadder { video_id }, now)?;
            }
            let account = channel.map(|c| c.account_id).unwrap_or(0);
            Ok((Some(media), vec![Change::Upsert(Row::new(&video, account))]))
        })
    })?;
    if kept.is_none() {
        remove_dir(&dirs.root)?;
    } else if enqueues {
        core.jobs_wake.notify();
    }
    Ok(kept)
}

fn remove_dir(dir: &Path) -> Result<(), PipelineError> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
        _ => Ok(()),
    }
}

/// Change a video's state and reason, in one transaction.
fn set_state(
    core: &Core,
    video_id: u64,
    state: VideoState,
    reason: &str,
) -> Result<(), ServiceError> {
    core.catalog.write(|| {
        core.store.write(|tx| {
            let Some(mut video) = videos::get(tx, video_id)? else {
                return Ok(((), Vec::new()));
            };
            if video.state == state && video.state_reason.as_deref() == Some(reason) {
                return Ok(((), Vec::new()));
            }
            let channel = channels::get(tx, video.channel_id)?;
            video.state = state;
            video.state_reason = Some(reason.chars().take(500).collect());
            video.updated_at_ms = now_ms();
            records::put(tx, tables::VIDEOS, video_id, &video)?;
            let account = channel.map(|c| c.account_id).unwrap_or(0);
            Ok(((), vec![Change::Upsert(Row::new(&video, account))]))
        })
    })
}

/// Say what a video waits for.
fn set_reason(core: &Core, video_id: u64, reason: &str) -> Result<(), PipelineError> {
    let video = core.store.read().map_err(ServiceError::from)?;
    let state = videos::get(&video, video_id)?.map(|v| v.state);
    drop(video);
    match state {
        Some(s) => Ok(set_state(core, video_id, s, reason)?),
        None => Ok(()),
    }
}

/// Mark a video whose processing cannot succeed, so its owner sees why.
pub fn mark_failed(core: &Core, video_id: u64, reason: &str) -> Result<(), ServiceError> {
    set_state(core, video_id, VideoState::TranscodingFailed, reason)
}
