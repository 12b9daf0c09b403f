//! The AV1 ladder of an upload (`JobKind::TranscodeLadder` for a published H.264 upload; inside
//! `ProcessUpload` for a VP9 one, which plays only once transcoded): every rung the configuration
//! names, up to the source's size (`media::transcode::ladder`), encoded from one shared decode
//! (`media::transcode::rendition`); then each rung, smallest first, is packaged with the
//! source's audio, hashed into a torrent, committed, and added to the master playlist beside the
//! upload's remuxed copy, if it has one. The same decode feeds the storyboard
//! (`media::storyboard`), which is committed first.
//!
//! A committed rung is never encoded again: a retry, or a restart after `kill -9`, encodes only
//! the rungs still missing. Stopping the server interrupts the encode between two pictures; the
//! job then stays claimed and is put back in the queue at the next start. Nothing half-written
//! is ever served: rungs are written under temporary names and renamed, and scratch files are
//! removed however the job ends.

use std::path::Path;

use super::Core;
use super::media_files::{self, VideoDirs};
use super::processing::{self, PipelineError, Publish, Scratch};
use super::progress::Tracker;
use super::urls::{self, Urls};
use crate::media::colour::Colour;
use crate::media::encode::av1::Tuning;
use crate::media::probe::VideoCodec;
use crate::media::remux;
use crate::media::remux::Rendition;
use crate::media::remux::progressive::Progressive;
use crate::media::source::{ContainerError, Source};
use crate::media::storyboard::{Collector, Plan};
use crate::media::transcode::checkpoint;
use crate::media::transcode::frames::FramesError;
use crate::media::transcode::ladder::{self, Encoding, Rung};
use crate::media::transcode::rendition::{self, Encoded, Quality, Target, TranscodeError};
use crate::model::video::{HlsRendition, Storyboard, Video, VideoMedia, VideoSource, WebVideo};

/// Keyframe spacing: every rung has keyframes on the same pictures, so segments align across
/// renditions and a player can switch at any segment.
const KEYFRAME_SECS: f64 = 2.0;

/// Whether an upload gets the AV1 ladder: transcoding is on (every video codec the probe admits
/// is decoded: H.264, VP9 and AV1). Its audio is whatever the opened source carries: copied, or
/// Opus made from what MP4 cannot carry.
pub fn applies(core: &Core, source: &VideoSource) -> bool {
    core.config().transcoding.enabled
        && matches!(
            source.info.video.codec,
            VideoCodec::H264 | VideoCodec::Vp9 | VideoCodec::Av1
        )
}

/// Encode and publish the rungs a video is still missing. For an upload that plays only once
/// transcoded (VP9), the smallest rung is encoded alone first and its commit publishes the
/// video; the others follow from a second decode, so that viewers wait for one rung, not five.
pub fn transcode(core: &Core, video_id: u64) -> Result<(), PipelineError> {
    let Some((video, source, media)) = processing::load(core, video_id)? else {
        return Ok(());
    };
    let transcoded_only = processing::not_remuxable(&source).is_some();
    // Without its remuxed copy the video is being reprocessed, which enqueues the ladder again.
    if !applies(core, &source) || (!transcoded_only && media.hls.is_empty()) {
        return Ok(());
    }
    let dirs = VideoDirs::of(core, &video.uuid);
    let interrupt = core.work.interrupt_of(&video.uuid);
    let (mut src, _demuxed) =
        processing::open_source(&dirs, &source, "ladder-demuxed.tmp", &interrupt)?;
    if transcoded_only && media.hls.is_empty() {
        // Nothing of it plays yet: what will be published must be what the file says.
        processing::verify(&mut src)?;
    }
    if transcoded_only {
        // No remux made them: the thumbnail and preview come from this source (when missing).
        processing::make_images(core, &video, &mut src, source.info.video.rotation);
    }
    // Players without AV1 get H.264 from the remux of an H.264 upload; for any other upload
    // the ladder makes one H.264 rendition beside the AV1 rungs.
    let compat = source.info.video.codec != VideoCodec::H264;
    let todo = missing_rungs(
        src.width,
        src.height,
        &core.config().transcoding.resolutions,
        &media,
        Wanted {
            compat,
            web: core.config().transcoding.web_videos,
        },
    );
    let storyboard = media
        .storyboard
        .is_none()
        .then(|| storyboard_plan(&video, &source))
        .flatten();
    if todo.is_empty() && storyboard.is_none() {
        // A crash may have come between the last rung's commit and its playlist.
        return Ok(media_files::write_master(&dirs, &video, &media.hls)?);
    }
    std::fs::create_dir_all(dirs.hls())?;
    std::fs::create_dir_all(dirs.web_videos())?;
    let passes = passes(&todo, transcoded_only && media.hls.is_empty());
    let frames = src.video.samples.len() as u64;
    let guard = core
        .progress
        .start_frames(video_id, frames * passes.len() as u64);
    let job = Job {
        core,
        dirs: &dirs,
        video: &video,
        source: &source,
        tracker: &guard.tracker,
        publishes: transcoded_only,
    };
    let mut storyboard = storyboard;
    for rungs in passes {
        storyboard = job.pass(&mut src, rungs, storyboard.take())?;
    }
    // Every pass resumed midway: the storyboard gets a decode of its own.
    if storyboard.is_some() {
        job.pass(&mut src, &[], storyboard)?;
    }
    Ok(())
}

/// The encoding passes over `todo` (smallest first): one decode for all, or, while nothing of
/// the video plays, the smallest rung alone first so that it is published soonest.
fn passes<T>(todo: &[T], nothing_plays: bool) -> Vec<&[T]> {
    match todo.split_first() {
        Some((first, rest)) if nothing_plays && !rest.is_empty() => {
            vec![std::slice::from_ref(first), rest]
        }
        _ => vec![todo],
    }
}

/// What every encoding pass of one ladder job shares.
struct Job<'a> {
    core: &'a Core,
    dirs: &'a VideoDirs,
    video: &'a Video,
    source: &'a VideoSource,
    tracker: &'a Tracker,
    /// A rung's commit also publishes the video (nothing else of it plays).
    publishes: bool,
}

impl Job<'_> {
    /// Encode `rungs` from one decode of the source (with the storyboard, when it is still
    /// missing), then publish each rung that encoded, smallest first. A pass that resumes
    /// earlier encodes midway (`rendition::resumes_at`) does not see the whole video, so it
    /// hands the storyboard back.
    fn pass(
        &self,
        src: &mut Source,
        rungs: &[Todo],
        storyboard: Option<Plan>,
    ) -> Result<Option<Plan>, PipelineError> {
        let (core, dirs, video) = (self.core, self.dirs, self.video);
        let targets: Vec<Target> = rungs
            .iter()
            .map(|todo| {
                let rung = &todo.rung;
                Target {
                    rung: *rung,
                    scratch: dirs
                        .root
                        .join(format!("{}-{}.scratch", codec_tag(rung), rung.height)),
                    output: todo
                        .hls
                        .then(|| dirs.hls().join(format!("{}.tmp", names(video, rung).0))),
                    progressive: todo.web.then(|| {
                        dirs.web_videos()
                            .join(format!("{}.tmp", web_name(video, rung)))
                    }),
                }
            })
            .collect();
        // Removed however this ends; the outputs are renamed or removed rung by rung below.
        let _outputs: Vec<Scratch> = targets
            .iter()
            .map(|t| Scratch(t.output.iter().chain(&t.progressive).cloned().collect()))
            .collect();
        // The encoded samples and their checkpoints (`media::transcode::checkpoint`) stay when
        // the job stops or may be retried, so that its next run resumes them.
        let mut scratches = Scratch(
            targets
                .iter()
                .flat_map(|t| [t.scratch.clone(), checkpoint::path_of(&t.scratch)])
                .collect(),
        );
        let quality = quality(core);
        let resumed = rendition::resumes_at(src, &targets, quality);
        let (storyboard, handed_back) = match resumed {
            0 => (storyboard, None),
            _ => (None, storyboard),
        };
        // The frames an earlier run encoded are done: the percent starts where it stopped.
        self.tracker
            .skip(resumed.min(src.video.samples.len() as u64));
        let timescale = src.video.timescale.max(1) as f64;
        let rotation = self.source.info.video.rotation;
        let mut sprites =
            storyboard.map(|plan| Collector::new(plan, rotation, Colour::of_source(src)));
        let mut first_pts = None;
        let encoded = rendition::encode_rungs(src, &targets, quality, |picture, pts| {
            self.tracker.add(1);
            if super::work::stop_requested(core, &video.uuid).is_some() {
                return Err(TranscodeError::Cancelled);
            }
            let start = *first_pts.get_or_insert(pts);
            let secs = (pts - start) as f64 / timescale;
            if let Some(Err(e)) = sprites.as_mut().map(|c| c.offer(picture, secs)) {
                tracing::warn!(video = video.id, error = %e, "no storyboard");
                sprites = None;
            }
            Ok(())
        });
        let encoded = match encoded.map_err(failure) {
            Ok(encoded) => encoded,
            Err(e) => {
                if matches!(e, PipelineError::Cancelled | PipelineError::Transient(_)) {
                    scratches.0.clear();
                }
                return Err(e);
            }
        };
        if let Some(collector) = sprites {
            publish_storyboard(core, dirs, video, collector)?;
        }
        // Every rung that encoded is published, even when another failed.
        let mut first_error = None;
        for (target, result) in targets.iter().zip(encoded) {
            let published = result
                .map_err(failure)
                .and_then(|e| self.publish_rung(src, target, e));
            if let Err(e) = published {
                tracing::warn!(video = video.id, rung = target.rung.resolution, error = %e, "AV1 rung failed");
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(handed_back), Err)
    }

    /// Package one encoded rung and put its files under their served names (`place_hls`,
    /// `place_web`), then commit them in one transaction (publishing the video when nothing
    /// else of it plays), and list the HLS file in the master playlist.
    fn publish_rung(
        &self,
        src: &mut Source,
        target: &Target,
        encoded: Encoded,
    ) -> Result<(), PipelineError> {
        let (core, dirs, video) = (self.core, self.dirs, self.video);
        let made = rendition::package(src, target, encoded).map_err(failure)?;
        let _ = std::fs::remove_file(&target.scratch);
        checkpoint::remove(&target.scratch);
        let hls = match (&made.hls, &target.output) {
            (Some(r), Some(tmp)) => Some(self.place_hls(target, r, tmp)?),
            _ => None,
        };
        let web = match (&made.progressive, &target.progressive) {
            (Some(p), Some(tmp)) => Some(self.place_web(target, p, tmp, &made.codecs)?),
            _ => None,
        };
        let publish = match &hls {
            Some(rendition) if self.publishes => Some(Publish {
                aspect_ratio_e4: processing::aspect_ratio_e4(
                    rendition.width,
                    rendition.height,
                    self.source.info.video.rotation,
                ),
                ladder: false,
            }),
            _ => None,
        };
        if let (Some(_), Some(rendition)) = (&publish, &hls) {
            // The master playlist lists the rung before the commit makes the video public.
            let mut listed = processing::load(core, video.id)?
                .map(|(_, _, m)| m.hls)
                .unwrap_or_default();
            listed.retain(|r| r.file != rendition.file);
            listed.push(rendition.clone());
            media_files::write_master(dirs, video, &listed)?;
        }
        let lists_hls = hls.is_some();
        let committed = processing::commit(core, video.id, dirs, publish, |m| {
            if let Some(rendition) = hls {
                m.hls.retain(|r| r.file != rendition.file);
                m.hls.push(rendition);
            }
            if let Some(web) = web {
                m.web_videos.retain(|w| w.file != web.file);
                m.web_videos.push(web);
            }
        })?;
        match committed {
            Some(media) if lists_hls => Ok(media_files::write_master(dirs, video, &media.hls)?),
            _ => Ok(()), // no new HLS file, or deleted meanwhile (its files are gone)
        }
    }

    /// Rename a rung's fragmented MP4 from `tmp` to its served name, write its media playlist
    /// and torrent; the rendition to commit.
    fn place_hls(
        &self,
        target: &Target,
        made: &Rendition,
        tmp: &Path,
    ) -> Result<HlsRendition, PipelineError> {
        let (core, dirs, video) = (self.core, self.dirs, self.video);
        let (file, playlist) = names(video, &target.rung);
        let hls = dirs.hls();
        std::fs::rename(tmp, hls.join(&file))?;
        media_files::write_atomic(&hls, &playlist, &remux::playlist::media(made, &file))?;
        let url = format!(
            "{}/static/streaming-playlists/hls/{}/{file}",
            core.config().public_url(),
            video.uuid
        );
        let height = made.height;
        let tag = format!("-{}-hls", codec_tag(&target.rung));
        let torrent = media_files::make_torrent(dirs, &hls.join(&file), video, height, &tag, &url)?;
        Ok(HlsRendition {
            width: made.width,
            height,
            fps: made.fps,
            size: made.size,
            codecs: made.codecs.clone(),
            file,
            playlist,
            torrent: Some(torrent),
            peak_bandwidth: made.peak_bandwidth,
            average_bandwidth: made.average_bandwidth,
            transcoded: true,
        })
    }

    /// Rename a rung's progressive MP4 from `tmp` to its served name and write its torrent;
    /// the web video to commit.
    fn place_web(
        &self,
        target: &Target,
        made: &Progressive,
        tmp: &Path,
        codecs: &str,
    ) -> Result<WebVideo, PipelineError> {
        let (core, dirs, video) = (self.core, self.dirs, self.video);
        let rung = &target.rung;
        let file = web_name(video, rung);
        let path = dirs.web_videos().join(&file);
        std::fs::rename(tmp, &path)?;
        let url = Urls::new(&core.config()).absolute(&urls::web_video(&file));
        let tag = format!("-{}", codec_tag(rung));
        let height = rung.height as u32;
        let torrent = media_files::make_torrent(dirs, &path, video, height, &tag, &url)?;
        Ok(WebVideo {
            width: rung.width as u32,
            height,
            fps: made.fps,
            size: made.size,
            has_audio: codecs.contains(','),
            file,
            torrent: Some(torrent),
            transcoded: true,
            codecs: codecs.to_owned(),
        })
    }
}

/// The storyboard's layout for a video, from its duration and its picture as shown.
fn storyboard_plan(video: &Video, source: &VideoSource) -> Option<Plan> {
    let v = &source.info.video;
    let (w, h) = match v.rotation % 180 {
        90 => (v.height, v.width),
        _ => (v.width, v.height),
    };
    Plan::for_video(video.duration, w, h)
}

/// Write the storyboard's JPEG and commit it. A storyboard that cannot be encoded is only
/// missing, never a reason to fail the ladder.
fn publish_storyboard(
    core: &Core,
    dirs: &VideoDirs,
    video: &Video,
    collector: Collector,
) -> Result<(), PipelineError> {
    let (plan, jpeg) = match collector.finish() {
        Ok(made) => made,
        Err(e) => {
            tracing::warn!(video = video.id, error = %e, "no storyboard");
            return Ok(());
        }
    };
    // A new random name for every storyboard made: unguessable, and cacheable forever.
    let file = media_files::names::storyboard(&video.uuid, &super::images::random_part()?);
    let images = dirs.images();
    std::fs::create_dir_all(&images)?;
    media_files::write_atomic(&images, &file, &jpeg)?;
    let storyboard = Storyboard {
        file: file.clone(),
        total_width: plan.total_width(),
        total_height: plan.total_height(),
        sprite_width: plan.sprite_width,
        sprite_height: plan.sprite_height,
        sprite_duration: plan.sprite_duration,
    };
    let mut replaced = None;
    processing::commit(core, video.id, dirs, None, |m| {
        replaced = m.storyboard.replace(storyboard).map(|old| old.file);
    })?;
    if let Some(old) = replaced.filter(|old| *old != file) {
        let _ = std::fs::remove_file(images.join(old));
    }
    Ok(())
}

/// A rung the video lacks files of, and which: its HLS file, its progressive file, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Todo {
    rung: Rung,
    hls: bool,
    web: bool,
}

/// Which rungs a video should have beyond the AV1 ladder's HLS files.
#[derive(Debug, Clone, Copy)]
struct Wanted {
    /// The H.264 compatibility rung.
    compat: bool,
    /// A progressive file of every rung (`transcoding.web_videos`).
    web: bool,
}

/// The rungs of `resolutions` for this source (with the H.264 compatibility rung when asked)
/// whose files are not all committed yet, smallest first.
fn missing_rungs(
    width: u32,
    height: u32,
    resolutions: &[u32],
    media: &VideoMedia,
    wanted: Wanted,
) -> Vec<Todo> {
    let (w, h) = (width as usize, height as usize);
    let mut rungs = ladder::rungs(w, h, resolutions);
    if wanted.compat {
        rungs.push(ladder::compat_rung(w, h, resolutions));
    }
    let mut todo: Vec<Todo> = rungs
        .into_iter()
        .map(|rung| Todo {
            rung,
            hls: !media
                .hls
                .iter()
                .any(|r| r.transcoded && is_rung(&rung, &r.codecs, r.width, r.height)),
            web: wanted.web
                && !media
                    .web_videos
                    .iter()
                    .any(|f| f.transcoded && is_rung(&rung, &f.codecs, f.width, f.height)),
        })
        .filter(|t| t.hls || t.web)
        .collect();
    // Smallest first, and at one size AV1 before H.264: the first rung published is AV1.
    todo.sort_by_key(|t| (t.rung.resolution, t.rung.encoding));
    todo
}

/// Whether a committed transcoded file (its codecs and size) is `rung`'s.
fn is_rung(rung: &Rung, codecs: &str, width: u32, height: u32) -> bool {
    let encoding = match codecs.starts_with("avc1") {
        true => Encoding::H264,
        false => Encoding::Av1,
    };
    encoding == rung.encoding && width as usize == rung.width && height as usize == rung.height
}

/// rav1e's settings from the configuration. Every rung gets as many encoder threads (and tiles)
/// as there are cores, although the rungs run at once: rungs wait on each other at the shared
/// decode, and the spare threads fill those gaps (`benches/README.md`: the ladder took 5.7×
/// x264's time with one thread per rung and 1.63 cores busy, 5.1× and 1.91 with two).
fn quality(core: &Core) -> Quality {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let t = &core.config().transcoding;
    Quality {
        quantizer: usize::from(t.quantizer),
        speed: t.speed,
        keyframe_secs: KEYFRAME_SECS,
        threads: cores,
        tuning: Tuning {
            psnr: false,
            small_partitions: t.fine_partitions,
            small_partitions_up_to: t.fine_partitions_up_to,
        },
    }
}

/// A rung's fragmented MP4 and media playlist names: the codec is in the name, since the
/// remuxed upload may have the same height.
fn names(video: &Video, rung: &Rung) -> (String, String) {
    let (height, codec) = (rung.height as u32, Some(codec_tag(rung)));
    (
        media_files::names::fragmented(&video.uuid, height, codec),
        media_files::names::media_playlist(&video.uuid, height, codec),
    )
}

/// A rung's progressive MP4 name; the codec is in it, since the remuxed upload's progressive
/// file may have the same height.
fn web_name(video: &Video, rung: &Rung) -> String {
    media_files::names::progressive(&video.uuid, rung.height as u32, Some(codec_tag(rung)))
}

/// The codec as it appears in file names.
fn codec_tag(rung: &Rung) -> &'static str {
    match rung.encoding {
        Encoding::Av1 => "av1",
        Encoding::H264 => "h264",
    }
}

/// What a failed transcode means for the job: retried when the disk may recover, given up when
/// the input or the encoder cannot succeed.
fn failure(e: TranscodeError) -> PipelineError {
    match e {
        TranscodeError::Cancelled => PipelineError::Cancelled,
        TranscodeError::Package(ContainerError::Interrupted(why))
        | TranscodeError::Frames(FramesError::Read(ContainerError::Interrupted(why))) => {
            ContainerError::Interrupted(why).into()
        }
        TranscodeError::Io(io)
        | TranscodeError::Package(ContainerError::Io(io))
        | TranscodeError::Frames(FramesError::Read(ContainerError::Io(io))) => {
            PipelineError::Transient(io.to_string())
        }
        other => PipelineError::Permanent(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn made(width: u32, height: u32, transcoded: bool) -> HlsRendition {
        HlsRendition {
            width,
            height,
            fps: 25.0,
            size: 1,
            codecs: String::new(),
            file: String::new(),
            playlist: String::new(),
            torrent: None,
            peak_bandwidth: 0,
            average_bandwidth: 0,
            transcoded,
        }
    }

    #[test]
    fn failures_are_retried_only_when_the_disk_may_recover() {
        let io = || std::io::Error::other("disk full");
        assert!(matches!(
            failure(TranscodeError::Io(io())),
            PipelineError::Transient(_)
        ));
        assert!(matches!(
            failure(TranscodeError::Package(ContainerError::Io(io()))),
            PipelineError::Transient(_)
        ));
        assert!(matches!(
            failure(TranscodeError::Cancelled),
            PipelineError::Cancelled
        ));
        assert!(matches!(
            failure(TranscodeError::Empty),
            PipelineError::Permanent(_)
        ));
        assert!(matches!(
            failure(TranscodeError::Thread),
            PipelineError::Permanent(_)
        ));
    }

    #[test]
    fn the_first_rung_goes_alone_only_while_nothing_plays() {
        let todo = ladder::rungs(1280, 720, &[720, 360, 240]);
        let heights = |p: Vec<&[Rung]>| -> Vec<Vec<usize>> {
            p.iter()
                .map(|r| r.iter().map(|r| r.height).collect())
                .collect()
        };
        assert_eq!(heights(passes(&todo, true)), [vec![240], vec![360, 720]]);
        assert_eq!(heights(passes(&todo, false)), [vec![240, 360, 720]]);
        assert_eq!(heights(passes(&todo[..1], true)), [vec![240]]);
        assert_eq!(
            passes::<Todo>(&[], true).len(),
            1,
            "one empty pass: the storyboard may be due"
        );
    }

    fn media(hls: Vec<HlsRendition>, web_videos: Vec<WebVideo>) -> VideoMedia {
        VideoMedia {
            hls,
            web_videos,
            storyboard: None,
        }
    }

    fn web(width: u32, height: u32, codecs: &str) -> WebVideo {
        WebVideo {
            width,
            height,
            fps: 25.0,
            size: 1,
            has_audio: true,
            file: String::new(),
            torrent: None,
            transcoded: true,
            codecs: codecs.into(),
        }
    }

    const HLS_ONLY: Wanted = Wanted {
        compat: false,
        web: false,
    };

    fn resolutions(todo: Vec<Todo>) -> Vec<u32> {
        todo.into_iter().map(|t| t.rung.resolution).collect()
    }

    #[test]
    fn committed_rungs_are_not_encoded_again_but_the_remux_does_not_count() {
        let done = media(vec![made(1280, 720, false), made(640, 360, true)], vec![]);
        let todo = missing_rungs(1280, 720, &[720, 480, 360, 240], &done, HLS_ONLY);
        assert_eq!(resolutions(todo), [240, 480, 720], "smallest first");
        // Not an H.264 upload: the H.264 rung too, after the AV1 one of its size.
        let compat = Wanted {
            compat: true,
            web: false,
        };
        let todo: Vec<(u32, Encoding)> =
            missing_rungs(1280, 720, &[720, 240], &VideoMedia::default(), compat)
                .into_iter()
                .map(|t| (t.rung.resolution, t.rung.encoding))
                .collect();
        assert_eq!(
            todo,
            [
                (240, Encoding::Av1),
                (720, Encoding::Av1),
                (720, Encoding::H264)
            ]
        );
        let mut h264 = made(1280, 720, true);
        h264.codecs = "avc1.64001f,opus".into();
        let av1_720 = made(1280, 720, true);
        assert_eq!(
            missing_rungs(
                1280,
                720,
                &[720],
                &media(vec![av1_720.clone()], vec![]),
                compat
            )[0]
            .rung
            .encoding,
            Encoding::H264,
            "an AV1 rung of that size is no H.264 rung"
        );
        let both = media(vec![av1_720, h264], vec![]);
        assert!(missing_rungs(1280, 720, &[720], &both, compat).is_empty());
        let all = media(
            vec![
                made(426, 240, true),
                made(1280, 720, true),
                made(854, 480, true),
            ],
            vec![],
        );
        assert!(missing_rungs(1280, 720, &[720, 480, 240], &all, HLS_ONLY).is_empty());
    }

    #[test]
    fn a_rung_lacking_only_its_progressive_file_is_made_again_for_that_file_alone() {
        let with_web = Wanted {
            compat: false,
            web: true,
        };
        let hls = vec![made(426, 240, true), made(640, 360, true)];
        // The remux's progressive file is not a rung's; an H.264 file is not the AV1 rung's.
        let webs = vec![
            web(426, 240, "av01.0.00M.08,mp4a.40.2"),
            web(640, 360, "avc1.64001e,mp4a.40.2"),
            WebVideo {
                transcoded: false,
                ..web(640, 360, "")
            },
        ];
        let todo = missing_rungs(640, 360, &[360, 240], &media(hls.clone(), webs), with_web);
        assert_eq!(
            todo,
            [Todo {
                rung: ladder::rungs(640, 360, &[360])[0],
                hls: false,
                web: true,
            }]
        );
        // Without progressive files wanted, nothing is missing.
        assert!(missing_rungs(640, 360, &[360, 240], &media(hls, vec![]), HLS_ONLY).is_empty());
        // Nothing made: both files of every rung.
        let all = missing_rungs(640, 360, &[360, 240], &VideoMedia::default(), with_web);
        assert!(all.iter().all(|t| t.hls && t.web), "{all:?}");
    }
}
