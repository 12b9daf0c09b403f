//! What every step of processing an upload shares (`pipeline`: the remux; `ladder`: the AV1
//! rungs): its errors, opening its source (its Matroska frames or re-encoded audio in scratch
//! files), checking that it is what it claims, committing what a step made, and marking a
//! video failed with the reason its owner sees.

use std::path::{Path, PathBuf};

use super::catalog::{Change, FileKinds, Row};
use super::images::{self, Kind};
use super::media_files::VideoDirs;
use super::progress::Snapshot;
use super::{Core, ServiceError, channels, outbox, videos};
use crate::media::interrupt::{Interrupt, Why};
use crate::media::probe::VideoCodec;
use crate::media::source::{self, Source};
use crate::media::{audio, thumbnail};
use crate::model::job::JobKind;
use crate::model::now_ms;
use crate::model::video::{Video, VideoMedia, VideoSource, VideoState};
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

impl From<source::ContainerError> for PipelineError {
    fn from(e: source::ContainerError) -> Self {
        match e {
            source::ContainerError::Io(io) => PipelineError::Transient(io.to_string()),
            source::ContainerError::Interrupted(Why::Stopped) => PipelineError::Cancelled,
            source::ContainerError::Interrupted(why @ (Why::OverTime(_) | Why::OverMemory(_))) => {
                PipelineError::Permanent(format!("Processing stopped: {why}"))
            }
            other => PipelineError::Permanent(other.to_string()),
        }
    }
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
/// of its frames (`source::matroska`) named `scratch_name` (one per job kind, as two workers may
/// read the same upload), which `Scratch` removes when processing ends.
/// The source stops reading when `interrupt` is raised (`service::work`: shutdown, deletion, the
/// end of a time slice, the job's budget).
pub(super) fn open_source(
    dirs: &VideoDirs,
    source: &VideoSource,
    scratch_name: &str,
    interrupt: &Interrupt,
) -> Result<(Source, Scratch), PipelineError> {
    let original = dirs.root.join(&source.file);
    let mut scratch = Scratch(Vec::new());
    if source.info.container == "matroska" {
        let demuxed = scratch.add(dirs.root.join(scratch_name));
        let src = source::matroska::open_watched(&original, &demuxed, interrupt)?;
        // Audio browsers cannot play from MP4 becomes Opus, appended to the demuxed frames.
        let src = audio::append_opus(src, &demuxed).map_err(source::ContainerError::from)?;
        return Ok((src, scratch));
    }
    let mut src = Source::open(&original)?;
    src.watch(interrupt.clone());
    if src.foreign_audio.is_none() {
        return Ok((src, scratch));
    }
    // The upload itself is never written to: the video is copied beside the Opus packets.
    let with_opus = scratch.add(dirs.root.join(format!("{scratch_name}.opus")));
    let src = audio::to_opus(src, &with_opus).map_err(source::ContainerError::from)?;
    Ok((src, scratch))
}

/// Refuse an upload that is not what its headers say (`media::verify`), before anything of it
/// is published.
pub(super) fn verify(src: &mut Source) -> Result<(), PipelineError> {
    let untrue = |e: crate::media::verify::Untrue| {
        PipelineError::Permanent(format!("This video is not what its file says: {e}"))
    };
    crate::media::verify::parameter_sets(src).map_err(untrue)?;
    crate::media::verify::spot_check(src).map_err(untrue)
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

/// Remove the half-written `tmp` of a write that failed, so that nothing is left behind.
pub(super) fn discard_on_error<T>(
    tmp: &Path,
    result: Result<T, source::ContainerError>,
) -> Result<T, PipelineError> {
    if result.is_err() {
        let _ = std::fs::remove_file(tmp);
    }
    Ok(result?)
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
            let files = Change::Files(video_id, FileKinds::of(&media));
            let Some(publish) = publish else {
                return Ok((Some(media), vec![files]));
            };
            video.aspect_ratio_e4 = Some(publish.aspect_ratio_e4);
            let channel = channels::get(tx, video.channel_id)?;
            let now = now_ms();
            let was_federated = outbox::is_federated(&video);
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
            // Only its first publication is news: the rungs that follow change no field
            // that peers keep.
            if !was_federated {
                outbox::video_changed(tx, was_federated, &video, false, account, now)?;
            }
            Ok((
                Some(media),
                vec![Change::Upsert(Row::new(&video, account)), files],
            ))
        })
    })?;
    if kept.is_none() {
        remove_dir(&dirs.root)?;
    } else if enqueues {
        core.jobs_wake.notify();
    }
    core.deliveries_wake.notify_one();
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
pub(super) fn set_reason(core: &Core, video_id: u64, reason: &str) -> Result<(), PipelineError> {
    let video = core.store.read().map_err(ServiceError::from)?;
    let state = videos::get(&video, video_id)?.map(|v| v.state);
    drop(video);
    match state {
        Some(s) => Ok(set_state(core, video_id, s, reason)?),
        None => Ok(()),
    }
}

/// How far a video's processing has got: the running job's counters, or 0 % while a job for it
/// waits in the queue (so "no progress" means its processing is over, never "between jobs").
pub fn progress(core: &Core, video_id: u64) -> Result<Option<Snapshot>, ServiceError> {
    if let Some(s) = core.progress.get(video_id) {
        return Ok(Some(s));
    }
    let tx = core.store.read()?;
    Ok(
        store_jobs::media_work_left(&tx, video_id)?.then_some(Snapshot {
            percent: 0.0,
            eta_secs: None,
            fps: None,
        }),
    )
}

/// Mark a video whose processing cannot succeed, so its owner sees why.
pub fn mark_failed(core: &Core, video_id: u64, reason: &str) -> Result<(), ServiceError> {
    set_state(core, video_id, VideoState::TranscodingFailed, reason)
}
