//! An audio track MP4 cannot carry as it is (Vorbis, FLAC, PCM, MP3 in Matroska), as the
//! demuxers describe it: kept apart from the tracks the writers copy, for `media::audio` to
//! re-encode as Opus.

use super::Track;

/// How an audio track's packets are coded, as its container described it.
#[derive(Debug, Clone, PartialEq)]
pub enum InputCodec {
    Mp3,
    /// The identification, comment and setup headers, Xiph-laced (Matroska's CodecPrivate).
    Vorbis {
        headers: Vec<u8>,
    },
    /// The STREAMINFO block's 34 bytes.
    Flac {
        stream_info: Vec<u8>,
    },
    Pcm {
        bits: u16,
        float: bool,
        big_endian: bool,
        /// 8-bit samples stored unsigned (WAVE's and Matroska's convention).
        unsigned: bool,
    },
}

impl InputCodec {
    pub fn label(&self) -> &'static str {
        match self {
            InputCodec::Mp3 => "MP3",
            InputCodec::Vorbis { .. } => "Vorbis",
            InputCodec::Flac { .. } => "FLAC",
            InputCodec::Pcm { .. } => "PCM",
        }
    }
}

/// An audio track's coding, rate and channels (0 when the codec's own headers say).
#[derive(Debug, Clone, PartialEq)]
pub struct AudioFormat {
    pub codec: InputCodec,
    pub sample_rate: u32,
    pub channels: u16,
}

/// An audio track that must be re-encoded before it goes into MP4.
pub struct ForeignAudio {
    /// Its packets (one per chunk for PCM) in decode order; the trak is not used.
    pub track: Track,
    pub format: AudioFormat,
    /// When its first sample is presented relative to its decode time, in seconds (the edit
    /// list's offset; 0 for Matroska, whose times already carry it).
    pub offset_secs: f64,
}
