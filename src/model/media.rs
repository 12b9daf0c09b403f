//! What the probe found in an upload (`media::probe`): its container, duration, and the codec,
//! size and rate of its video and audio tracks. Kept with the video (`VideoSource`), so it is
//! plain stored data here; the probe fills it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VideoCodec {
    H264,
    Av1,
    Vp9,
}

impl VideoCodec {
    /// The name people know the codec by.
    pub fn label(self) -> &'static str {
        match self {
            VideoCodec::H264 => "H.264",
            VideoCodec::Av1 => "AV1",
            VideoCodec::Vp9 => "VP9",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AudioCodec {
    Aac,
    Mp3,
    Opus,
    Vorbis,
    Flac,
    Pcm,
}

impl AudioCodec {
    /// The name people know the codec by.
    pub fn label(self) -> &'static str {
        match self {
            AudioCodec::Aac => "AAC",
            AudioCodec::Mp3 => "MP3",
            AudioCodec::Opus => "Opus",
            AudioCodec::Vorbis => "Vorbis",
            AudioCodec::Flac => "FLAC",
            AudioCodec::Pcm => "PCM",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VideoTrack {
    pub codec: VideoCodec,
    pub width: u32,
    pub height: u32,
    /// Clockwise rotation to apply for display: 0, 90, 180 or 270.
    pub rotation: u16,
    /// Frames, when the container states it (MP4 sample tables do; Matroska does not).
    pub frames: Option<u64>,
    /// Average frame rate, when it can be told from the headers.
    pub fps: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AudioTrack {
    pub codec: AudioCodec,
    pub sample_rate: u32,
    pub channels: u16,
}

/// What the probe learnt about an upload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaInfo {
    pub container: String,
    pub duration_ms: u64,
    pub video: VideoTrack,
    pub audio: Option<AudioTrack>,
}
