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

use super::Core;
use super::media_files::{VideoDirs, make_torrent, names, write_atomic, write_master};
use super::processing::{
    PipelineError, Publish, aspect_ratio_e4, commit, discard_on_error, load, make_images,
    not_remuxable, open_source, set_reason, verify,
};
use super::urls::{self, Urls};
use crate::media::remux;
use crate::media::source::Source;
use crate::model::video::{HlsRendition, TorrentFile, Video, WebVideo};

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
    let interrupt = core.work.interrupt_of(&video.uuid);
    let (mut src, _scratch) = open_source(&dirs, &source, "demuxed.tmp", &interrupt)?;
    verify(&mut src)?;
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

/// Step 1b: the HLS rendition and its playlists.
fn make_hls(
    dirs: &VideoDirs,
    video: &Video,
    src: &mut Source,
) -> Result<HlsRendition, PipelineError> {
    let dir = dirs.hls();
    std::fs::create_dir_all(&dir)?;
    let height = src.height;
    let file = names::fragmented(&video.uuid, height, None);
    let playlist = names::media_playlist(&video.uuid, height, None);
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

/// Step 2: the progressive MP4 and its torrent.
fn make_web_video(
    core: &Core,
    dirs: &VideoDirs,
    video: &Video,
    src: &mut Source,
) -> Result<WebVideo, PipelineError> {
    let dir = dirs.web_videos();
    std::fs::create_dir_all(&dir)?;
    let file = names::progressive(&video.uuid, src.height, None);
    let tmp = dir.join(format!("{file}.tmp"));
    let written = discard_on_error(&tmp, remux::progressive::write(src, &tmp))?;
    std::fs::rename(&tmp, dir.join(&file))?;
    let url = Urls::new(&core.config()).absolute(&urls::web_video(&file));
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
    let file = names::fragmented(&video.uuid, height, None);
    let url = Urls::new(&core.config()).absolute(&urls::hls_file(&video.uuid, &file));
    Ok(make_torrent(
        dirs,
        &dirs.hls().join(&file),
        video,
        height,
        "-hls",
        &url,
    )?)
}
