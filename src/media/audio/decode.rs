//! Audio packets to interleaved `f32` frames with symphonia's decoders (MP3, Vorbis, FLAC,
//! PCM), built from what the demuxer read of the track (`AudioFormat`) rather than through
//! symphonia's own demuxers: Vireo's demuxers already know each packet's place and time, and
//! keeping one demux keeps audio and video on one clock.

use symphonia::core::audio::{Channels, Position};
use symphonia::core::codecs::audio::well_known::{
    CODEC_ID_FLAC, CODEC_ID_MP3, CODEC_ID_PCM_F32BE, CODEC_ID_PCM_F32LE, CODEC_ID_PCM_F64BE,
    CODEC_ID_PCM_F64LE, CODEC_ID_PCM_S8, CODEC_ID_PCM_S16BE, CODEC_ID_PCM_S16LE,
    CODEC_ID_PCM_S24BE, CODEC_ID_PCM_S24LE, CODEC_ID_PCM_S32BE, CODEC_ID_PCM_S32LE,
    CODEC_ID_PCM_U8, CODEC_ID_VORBIS,
};
use symphonia::core::codecs::audio::{
    AudioCodecId, AudioCodecParameters, AudioDecoder, AudioDecoderOptions,
};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::packet::PacketRef;
use symphonia::core::units::{Duration, Timestamp};

use super::{AudioError, AudioFormat, InputCodec};

/// Decodes one audio track.
pub struct Decoder {
    inner: Box<dyn AudioDecoder>,
    /// Decoded samples, reused between packets.
    buf: Vec<f32>,
}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder").finish_non_exhaustive()
    }
}

/// One packet's decoded audio.
#[derive(Debug)]
pub struct Decoded<'a> {
    /// Interleaved frames.
    pub samples: &'a [f32],
    pub rate: u32,
    /// Where each channel sits (`None`: no positions known, channels in their order).
    pub layout: Layout,
}

/// Channel positions of decoded audio, in the order of the interleaved samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    Positioned(Vec<Position>),
    Discrete(usize),
}

impl Layout {
    pub fn count(&self) -> usize {
        match self {
            Layout::Positioned(p) => p.len(),
            Layout::Discrete(n) => *n,
        }
    }
}

fn layout_of(channels: &Channels) -> Layout {
    match channels {
        Channels::Positioned(p) => Layout::Positioned(p.iter().collect()),
        other => Layout::Discrete(other.count()),
    }
}

impl Decoder {
    pub fn new(format: &AudioFormat) -> Result<Decoder, AudioError> {
        let params = parameters(format)?;
        let made = std::panic::catch_unwind(|| {
            symphonia::default::get_codecs()
                .make_audio_decoder(&params, &AudioDecoderOptions::default())
        })
        .map_err(|_| AudioError::Decode("the decoder's set-up data is damaged".into()))?;
        let inner = made.map_err(|e| {
            AudioError::Unsupported(format!("{} audio ({e})", format.codec.label()))
        })?;
        Ok(Decoder {
            inner,
            buf: Vec::new(),
        })
    }

    /// Decode one packet. `Ok(None)` when this packet cannot be decoded but the stream can go
    /// on (the caller fills its time with silence); an error when decoding cannot continue.
    pub fn decode(&mut self, packet: &[u8]) -> Result<Option<Decoded<'_>>, AudioError> {
        let packet = PacketRef::new(0, Timestamp::new(0), Duration::new(0), packet);
        // symphonia's decoders are pure Rust but not proven panic-free on hostile packets; a
        // panic costs this packet (and a fresh decoder state), never the process.
        let (inner, buf) = (&mut self.inner, &mut self.buf);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            match inner.decode_ref(&packet) {
                Ok(decoded) => {
                    let rate = decoded.spec().rate();
                    let layout = layout_of(decoded.spec().channels());
                    decoded.copy_to_vec_interleaved(buf);
                    Ok(Some((rate, layout)))
                }
                Err(SymphoniaError::DecodeError(_) | SymphoniaError::IoError(_)) => Ok(None),
                Err(SymphoniaError::ResetRequired) => {
                    inner.reset();
                    Ok(None)
                }
                Err(e) => Err(AudioError::Decode(e.to_string())),
            }
        }));
        let decoded = match outcome {
            Ok(result) => result?,
            Err(_) => {
                self.inner.reset();
                None
            }
        };
        Ok(decoded.map(|(rate, layout)| Decoded {
            samples: &self.buf,
            rate,
            layout,
        }))
    }
}

/// symphonia's parameters for a track.
fn parameters(format: &AudioFormat) -> Result<AudioCodecParameters, AudioError> {
    let mut params = AudioCodecParameters::new();
    if format.sample_rate > 0 {
        params.with_sample_rate(format.sample_rate);
    }
    match &format.codec {
        InputCodec::Mp3 => {
            params.for_codec(CODEC_ID_MP3);
        }
        InputCodec::Vorbis { headers } => {
            params
                .for_codec(CODEC_ID_VORBIS)
                .with_extra_data(headers.clone().into_boxed_slice());
        }
        InputCodec::Flac { stream_info } => {
            params
                .for_codec(CODEC_ID_FLAC)
                .with_extra_data(stream_info.clone().into_boxed_slice());
        }
        InputCodec::Pcm {
            bits,
            float,
            big_endian,
            unsigned,
        } => {
            let codec = pcm_codec(*bits, *float, *big_endian, *unsigned).ok_or_else(|| {
                AudioError::Unsupported(format!(
                    "{bits}-bit {} PCM audio",
                    if *float { "float" } else { "integer" }
                ))
            })?;
            if format.channels == 0 || format.sample_rate == 0 {
                return Err(AudioError::Decode(
                    "PCM audio without its channel count or sample rate".into(),
                ));
            }
            // PCM tracks keep WAVE's channel order, which is the positions' bit order.
            let positions = Position::from_count(u32::from(format.channels))
                .map(Channels::Positioned)
                .unwrap_or(Channels::Discrete(format.channels));
            params
                .for_codec(codec)
                .with_channels(positions)
                .with_bits_per_sample(u32::from(*bits))
                .with_bits_per_coded_sample(u32::from(*bits));
        }
    }
    Ok(params)
}

fn pcm_codec(bits: u16, float: bool, big_endian: bool, unsigned: bool) -> Option<AudioCodecId> {
    Some(match (float, bits, big_endian) {
        (true, 32, false) => CODEC_ID_PCM_F32LE,
        (true, 32, true) => CODEC_ID_PCM_F32BE,
        (true, 64, false) => CODEC_ID_PCM_F64LE,
        (true, 64, true) => CODEC_ID_PCM_F64BE,
        (false, 8, _) if unsigned => CODEC_ID_PCM_U8,
        (false, 8, _) => CODEC_ID_PCM_S8,
        (false, 16, false) => CODEC_ID_PCM_S16LE,
        (false, 16, true) => CODEC_ID_PCM_S16BE,
        (false, 24, false) => CODEC_ID_PCM_S24LE,
        (false, 24, true) => CODEC_ID_PCM_S24BE,
        (false, 32, false) => CODEC_ID_PCM_S32LE,
        (false, 32, true) => CODEC_ID_PCM_S32BE,
        _ => return None,
    })
}
