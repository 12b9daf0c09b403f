//! Opus encoding with libopus (the `opus` crate, which builds libopus's C from bundled source with
//! cmake; no C++): 48 kHz, 20 ms packets, 64 kb/s per channel, and the `dOps` box that describes
//! the stream in MP4.
//!
//! Why libopus rather than a pure-Rust encoder: it is the reference encoder every Opus decoder is
//! tested against, and it encodes a minute of stereo in well under a second on one core
//! (`../shared/research/video-pipeline.md` §5); the pure-Rust encoders found were young and
//! unmeasured for quality.

use opus::{Application, Bitrate, Channels};

use super::AudioError;

/// Opus's rate; every stream Vireo writes is at it.
pub const RATE: u32 = 48_000;
/// Frames per packet: 20 ms, Opus's usual packet for music and speech alike.
pub const FRAME: usize = 960;
/// Bits per second per channel: transparent for most content at 2 channels (128 kb/s).
const BITRATE_PER_CHANNEL: i32 = 64_000;
/// The largest packet libopus makes (RFC 6716 §3.4: 1275 bytes a frame), with room.
const MAX_PACKET: usize = 4000;

/// Encodes interleaved `f32` frames at 48 kHz into 20 ms Opus packets.
pub struct OpusEncoder {
    inner: opus::Encoder,
    channels: usize,
    /// Frames waiting for a whole packet (interleaved).
    pending: Vec<f32>,
    packet: Vec<u8>,
    pre_skip: u16,
}

impl std::fmt::Debug for OpusEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpusEncoder")
            .field("channels", &self.channels)
            .field("pre_skip", &self.pre_skip)
            .finish_non_exhaustive()
    }
}

fn encoder_error(e: opus::Error) -> AudioError {
    AudioError::Encode(e.to_string())
}

impl OpusEncoder {
    /// An encoder for 1 or 2 channels.
    pub fn new(channels: usize) -> Result<OpusEncoder, AudioError> {
        let layout = match channels {
            1 => Channels::Mono,
            2 => Channels::Stereo,
            n => return Err(AudioError::Encode(format!("{n} channels given to Opus"))),
        };
        let mut inner =
            opus::Encoder::new(RATE, layout, Application::Audio).map_err(encoder_error)?;
        inner
            .set_bitrate(Bitrate::Bits(BITRATE_PER_CHANNEL * channels as i32))
            .map_err(encoder_error)?;
        let pre_skip = inner.get_lookahead().map_err(encoder_error)?;
        Ok(OpusEncoder {
            inner,
            channels,
            pending: Vec::with_capacity(2 * FRAME * channels),
            packet: vec![0; MAX_PACKET],
            pre_skip: u16::try_from(pre_skip).unwrap_or(0),
        })
    }

    /// Frames a decoder must drop at the start (the encoder's look-ahead).
    pub fn pre_skip(&self) -> u16 {
        self.pre_skip
    }

    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Take interleaved frames; `on_packet` gets every packet that became whole.
    pub fn push(
        &mut self,
        input: &[f32],
        on_packet: &mut impl FnMut(&[u8]) -> Result<(), AudioError>,
    ) -> Result<(), AudioError> {
        self.pending.extend_from_slice(input);
        let whole = FRAME * self.channels;
        let mut start = 0;
        while self.pending.len() - start >= whole {
            let len = self
                .inner
                .encode_float(&self.pending[start..start + whole], &mut self.packet)
                .map_err(encoder_error)?;
            on_packet(&self.packet[..len])?;
            start += whole;
        }
        self.pending.drain(..start);
        Ok(())
    }

    /// No more input: the look-ahead's worth of silence pushes the last real frames out, and
    /// the last packet is padded with silence.
    pub fn finish(
        &mut self,
        on_packet: &mut impl FnMut(&[u8]) -> Result<(), AudioError>,
    ) -> Result<(), AudioError> {
        let mut tail = vec![0.0; usize::from(self.pre_skip) * self.channels];
        let whole = FRAME * self.channels;
        let after = (self.pending.len() + tail.len()) % whole;
        if after != 0 {
            tail.resize(tail.len() + whole - after, 0.0);
        }
        self.push(&tail, on_packet)
    }

    /// The `dOps` box: this stream's channels and pre-skip. Its input rate says 48 kHz whatever
    /// the source had: the field is informational, but Chromium refuses a stream whose `dOps`
    /// rate differs from its sample entry's (seen with a 44.1 kHz source).
    pub fn dops(&self) -> mp4_atom::Dops {
        mp4_atom::Dops {
            output_channel_count: self.channels as u8,
            pre_skip: self.pre_skip,
            input_sample_rate: RATE,
            output_gain: 0,
            channel_mapping: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_of_stereo_becomes_fifty_one_packets_at_about_the_bitrate() {
        let mut enc = OpusEncoder::new(2).unwrap();
        assert!(enc.pre_skip() > 0 && enc.pre_skip() < 1000);
        let tone: Vec<f32> = (0..RATE as usize)
            .flat_map(|i| {
                let v = (i as f32 * 440.0 * std::f32::consts::TAU / RATE as f32).sin() * 0.3;
                [v, v]
            })
            .collect();
        let mut packets = Vec::new();
        let mut keep = |p: &[u8]| {
            packets.push(p.to_vec());
            Ok(())
        };
        for piece in tone.chunks(2 * 1000) {
            enc.push(piece, &mut keep).unwrap();
        }
        enc.finish(&mut keep).unwrap();
        // 48 000 frames + the look-ahead, in 960-frame packets.
        let expected = (RATE as usize + usize::from(enc.pre_skip())).div_ceil(FRAME);
        assert_eq!(packets.len(), expected);
        let bytes: usize = packets.iter().map(Vec::len).sum();
        assert!(
            (4_000..40_000).contains(&bytes),
            "{bytes} bytes for a second at 128 kb/s"
        );
        let dops = enc.dops();
        assert_eq!(dops.output_channel_count, 2);
        assert_eq!(dops.input_sample_rate, RATE);
    }

    #[test]
    fn more_than_two_channels_are_refused() {
        assert!(OpusEncoder::new(6).is_err());
    }
}
