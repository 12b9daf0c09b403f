//! Turning an uploaded video into playable files, run by the job worker: H.264 MP4 uploads are
//! remuxed into HLS and published at once; other inputs wait for the transcoding ladder.

use std::path::PathBuf;

use super::catalog::{Change, Row};
use super::{Core, ServiceError, channels, videos};
use crate::media::probe::{AudioCodec, VideoCodec};
use crate::media::remux;
use crate::model::now_ms;
use crate::model::video::{HlsRendition, Video, VideoMedia, VideoSource, VideoState};
use crate::store::{records, tables};

/// Why processing did not finish.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Trying again cannot help (the file is damaged); the video is marked failed.
    #[error("{0}")]
    Permanent(String),
    /// Worth retrying (I/O, storage).
    #[error("{0}")]
    Transient(String),
}

impl From<ServiceError> for PipelineError {
    fn from(e: ServiceError) -> Self {
        PipelineError::Transient(e.to_string())
    }
}

/// The HLS directory of a video.
pub fn hls_dir(core: &Core, video: &Video) -> PathBuf {
    crate::jobs::media_dir(&core.config.storage.data_dir)
        .join(video.uuid.to_string())
        .join("hls")
}

fn remuxable(source: &VideoSource) -> bool {
    source.info.container == "mp4"
        && source.info.video.codec == VideoCodec::H264
        && matches!(
            source.info.audio.as_ref().map(|a| a.codec),
            None | Some(AudioCodec::Aac | AudioCodec::Mp3 | AudioCodec::Opus)
        )
}

/// Process one uploaded video. Idempotent: files are written under temporary names and renamed,
/// and the database change is one transaction.
pub fn process_upload(core: &Core, video_id: u64) -> Result<(), PipelineError> {
    let tx = core.store.read().map_err(ServiceError::from)?;
    let Some(video) = videos::get(&tx, video_id)? else {
        return Ok(()); // deleted meanwhile
    };
    let Some(source) = records::get::<VideoSource>(&tx, tables::VIDEO_SOURCES, video_id)
        .map_err(ServiceError::from)?
    else {
        return Ok(());
    };
    drop(tx);
    if video.state != VideoState::ToTranscode || !remuxable(&source) {
        return Ok(());
    }
    let media = crate::jobs::media_dir(&core.config.storage.data_dir).join(video.uuid.to_string());
    let dir = hls_dir(core, &video);
    std::fs::create_dir_all(&dir).map_err(|e| PipelineError::Transient(e.to_string()))?;
    let height = source.info.video.height;
    let file = format!("{}-{height}-fragmented.mp4", video.uuid);
    let playlist = format!("{}-{height}.m3u8", video.uuid);
    let tmp = dir.join(format!("{file}.tmp"));
    let rendition = remux::remux_mp4(&media.join(&source.file), &tmp).map_err(|e| match e {
        remux::RemuxError::Io(io) => PipelineError::Transient(io.to_string()),
        other => PipelineError::Permanent(other.to_string()),
    })?;
    let write = |name: &str, bytes: Vec<u8>| -> Result<(), PipelineError> {
        let path = dir.join(name);
        let tmp = dir.join(format!("{name}.tmp"));
        std::fs::write(&tmp, bytes)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| PipelineError::Transient(e.to_string()))
    };
    std::fs::rename(&tmp, dir.join(&file)).map_err(|e| PipelineError::Transient(e.to_string()))?;
    write(&playlist, remux::media_playlist(&rendition, &file))?;
    write(
        "master.m3u8",
        remux::master_playlist(&[(&rendition, playlist.clone())]),
    )?;
    let stored = HlsRendition {
        width: rendition.width,
        height: rendition.height,
        fps: rendition.fps,
        size: std::fs::metadata(dir.join(&file))
            .map(|m| m.len())
            .unwrap_or(0),
        codecs: rendition.codecs.clone(),
        file,
        playlist,
    };
    publish(core, video_id, VideoMedia { hls: vec![stored] })
}

/// Record the renditions and publish the video, in one transaction.
fn publish(core: &Core, video_id: u64, media: VideoMedia) -> Result<(), PipelineError> {
    core.catalog.write(|| {
        core.store.write(|tx| {
            let Some(mut video) = videos::get(tx, video_id)? else {
                return Ok(((), Vec::new()));
            };
            let channel = channels::get(tx, video.channel_id)?;
            records::put(tx, tables::VIDEO_MEDIA, video_id, &media)?;
            video.state = VideoState::Published;
            let now = now_ms();
            video.published_at_ms = now;
            video.updated_at_ms = now;
            records::put(tx, tables::VIDEOS, video_id, &video)?;
            let account = channel.map(|c| c.account_id).unwrap_or(0);
            Ok(((), vec![Change::Upsert(Row::new(&video, account))]))
        })
    })?;
    Ok(())
}

/// Mark a video whose processing cannot succeed, so its owner sees why.
pub fn mark_failed(core: &Core, video_id: u64) -> Result<(), ServiceError> {
    core.catalog.write(|| {
        core.store.write(|tx| {
            let Some(mut video) = videos::get(tx, video_id)? else {
                return Ok(((), Vec::new()));
            };
            let channel = channels::get(tx, video.channel_id)?;
            video.state = VideoState::TranscodingFailed;
            video.updated_at_ms = now_ms();
            records::put(tx, tables::VIDEOS, video_id, &video)?;
            let account = channel.map(|c| c.account_id).unwrap_or(0);
            Ok(((), vec![Change::Upsert(Row::new(&video, account))]))
        })
    })
}
