//! A video's playable files as PeerTube numbers them, and what each one is: the ids its JSON
//! gives the files (`files[].id`, `streamingPlaylists[].files[].id`) and the technical facts
//! `GET /api/v1/videos/{id}/metadata/{fileId}` answers (PeerTube's player shows them in its
//! statistics and download dialogs). The facts come from what Vireo recorded when it made or
//! probed each file (the upload's probe, each rendition's codecs, size and rate), so answering
//! reads no media and runs nothing.

use super::media_files::{self, WebFile};
use super::visibility;
use super::{Core, Result, ServiceError, videos};
use crate::model::media::{AudioCodec, VideoCodec};
use crate::model::user::User;
use crate::model::video::{HlsRendition, Video, VideoMedia, VideoSource};

/// One playable file.
#[derive(Debug, Clone)]
pub enum Playable<'a> {
    /// A progressive file (or the original upload, until those are made).
    Web(WebFile<'a>),
    /// An HLS rendition's fragmented MP4.
    Hls(&'a HlsRendition),
}

/// Every playable file with its id: the progressive files first, then the HLS renditions,
/// each group largest first, numbered from 1. The ids are positions, stable while the files
/// are; PeerTube's are database keys, which its clients only pass back.
pub fn playable_files<'a>(
    video: &Video,
    media: &'a VideoMedia,
    source: Option<&VideoSource>,
) -> Vec<(usize, Playable<'a>)> {
    let web = media_files::web_files(video, media, source);
    let mut hls: Vec<&HlsRendition> = media.hls.iter().collect();
    hls.sort_by_key(|r| std::cmp::Reverse(r.height));
    web.into_iter()
        .map(Playable::Web)
        .chain(hls.into_iter().map(Playable::Hls))
        .enumerate()
        .map(|(i, f)| (i + 1, f))
        .collect()
}

/// What a file is, in the terms of a media prober.
#[derive(Debug, Clone, PartialEq)]
pub struct FileFacts {
    /// `mp4` or `matroska` (an original upload kept as sent).
    pub container: &'static str,
    pub duration_ms: u64,
    pub size: u64,
    pub video: VideoFacts,
    pub audio: Option<AudioFacts>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VideoFacts {
    /// ffprobe's codec name (`h264`, `av1`, `vp9`).
    pub codec: &'static str,
    pub width: u32,
    pub height: u32,
    pub fps: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AudioFacts {
    /// ffprobe's codec name (`aac`, `opus`, `mp3`, `flac`, `vorbis`, `pcm_s16le`).
    pub codec: &'static str,
    pub sample_rate: Option<u32>,
    pub channels: Option<u16>,
}

/// The facts of file `file_id` of the video `key` names, if `viewer` may watch it.
pub fn of_file(core: &Core, key: &str, viewer: Option<&User>, file_id: usize) -> Result<FileFacts> {
    let owned = visibility::load_visible(core, key, viewer)?;
    let files = videos::files_of(core, owned.video.id)?;
    let video = &owned.video;
    let source = files.source.as_ref();
    let found = playable_files(video, &files.media, source)
        .into_iter()
        .find(|(id, _)| *id == file_id)
        .map(|(_, f)| f)
        .ok_or(ServiceError::NotFound("video file"))?;
    let duration_ms = source
        .map(|s| s.info.duration_ms)
        .unwrap_or(video.duration * 1000);
    Ok(match found {
        Playable::Web(w) => web_facts(&w, source, duration_ms),
        Playable::Hls(r) => hls_facts(r, source, duration_ms),
    })
}

/// A progressive file: the original as it was sent, a remux of it (MP4 with its codecs), or a
/// ladder rung (its codecs recorded, like an HLS rendition's).
fn web_facts(w: &WebFile<'_>, source: Option<&VideoSource>, duration_ms: u64) -> FileFacts {
    if !w.codecs.is_empty() {
        let mut facts = from_codecs(w.codecs, source, duration_ms, w.size);
        facts.video.width = w.width;
        facts.video.height = w.height;
        facts.video.fps = w.fps;
        return facts;
    }
    let container = match source {
        Some(s) if w.original && s.info.container == "matroska" => "matroska",
        _ => "mp4",
    };
    let (codec, audio) = source_codecs(source, w.original);
    FileFacts {
        container,
        duration_ms,
        size: w.size,
        video: VideoFacts {
            codec,
            width: w.width,
            height: w.height,
            fps: w.fps,
        },
        audio: audio.filter(|_| w.has_audio),
    }
}

fn hls_facts(r: &HlsRendition, source: Option<&VideoSource>, duration_ms: u64) -> FileFacts {
    let mut facts = from_codecs(&r.codecs, source, duration_ms, r.size);
    facts.video.width = r.width;
    facts.video.height = r.height;
    facts.video.fps = r.fps;
    facts
}

/// An MP4 Vireo made, from its RFC 6381 codecs; the audio's rate and channels as the upload's
/// (carried over, or made Opus at 48 kHz, stereo at most).
fn from_codecs(
    codecs: &str,
    source: Option<&VideoSource>,
    duration_ms: u64,
    size: u64,
) -> FileFacts {
    let mut names = codecs.split(',').map(str::trim);
    let video_codec = names.next().and_then(video_codec_of).unwrap_or("unknown");
    let audio = names.next().map(|c| {
        let probed = source.and_then(|s| s.info.audio.as_ref());
        AudioFacts {
            codec: audio_codec_of(c),
            // Opus is always 48 kHz; other audio is carried over from the upload as it was.
            sample_rate: if c == "opus" {
                Some(48_000)
            } else {
                probed.map(|a| a.sample_rate)
            },
            channels: probed.map(|a| a.channels.min(2)),
        }
    });
    FileFacts {
        container: "mp4",
        duration_ms,
        size,
        video: VideoFacts {
            codec: video_codec,
            width: 0,
            height: 0,
            fps: 0.0,
        },
        audio,
    }
}

/// The codecs of a file remuxed from the upload, or the upload itself (`as_is`): MP4 cannot
/// carry Vorbis or PCM, so a remux has them as Opus (`media::source::foreign`).
fn source_codecs(source: Option<&VideoSource>, as_is: bool) -> (&'static str, Option<AudioFacts>) {
    let Some(info) = source.map(|s| &s.info) else {
        return ("unknown", None);
    };
    let video = match info.video.codec {
        VideoCodec::H264 => "h264",
        VideoCodec::Av1 => "av1",
        VideoCodec::Vp9 => "vp9",
    };
    let audio = info.audio.as_ref().map(|a| {
        let foreign = matches!(a.codec, AudioCodec::Vorbis | AudioCodec::Pcm);
        let codec = match a.codec {
            _ if foreign && !as_is => "opus",
            AudioCodec::Aac => "aac",
            AudioCodec::Mp3 => "mp3",
            AudioCodec::Opus => "opus",
            AudioCodec::Vorbis => "vorbis",
            AudioCodec::Flac => "flac",
            AudioCodec::Pcm => "pcm_s16le",
        };
        AudioFacts {
            codec,
            sample_rate: Some(if codec == "opus" && foreign {
                48_000
            } else {
                a.sample_rate
            }),
            channels: Some(a.channels),
        }
    });
    (video, audio)
}

/// ffprobe's name of an RFC 6381 video codec.
fn video_codec_of(rfc6381: &str) -> Option<&'static str> {
    match rfc6381.split('.').next()? {
        "av01" => Some("av1"),
        "avc1" | "avc3" => Some("h264"),
        "vp09" => Some("vp9"),
        "hvc1" | "hev1" => Some("hevc"),
        _ => None,
    }
}

/// ffprobe's name of an RFC 6381 audio codec.
fn audio_codec_of(rfc6381: &str) -> &'static str {
    match rfc6381 {
        "opus" | "Opus" => "opus",
        "mp4a.6B" | "mp4a.6b" | "mp4a.40.34" => "mp3",
        "fLaC" | "flac" => "flac",
        c if c.starts_with("mp4a") => "aac",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6381_codecs_get_probers_names() {
        assert_eq!(video_codec_of("av01.0.08M.08"), Some("av1"));
        assert_eq!(video_codec_of("avc1.64001f"), Some("h264"));
        assert_eq!(video_codec_of("vp09.00.10.08"), Some("vp9"));
        assert_eq!(video_codec_of("xyz"), None);
        assert_eq!(audio_codec_of("mp4a.40.2"), "aac");
        assert_eq!(audio_codec_of("mp4a.6B"), "mp3");
        assert_eq!(audio_codec_of("opus"), "opus");
    }
}
