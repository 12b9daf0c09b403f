//! Streaming sample-rate conversion of interleaved `f32` audio with rubato's FFT resampler
//! (Opus takes 48 kHz; uploads are often 44.1 kHz). Frames go in in any amounts and come out
//! as they are ready, with the resampler's start-up delay trimmed, so a whole soundtrack is
//! never held in memory and the output starts where the input did.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler as _};

/// Frames the resampler takes per call: small enough to stay in cache, large enough for the
/// FFT to pay off.
const CHUNK: usize = 1024;

/// Converts one stream of interleaved frames from one rate to another.
pub struct Resampler {
    inner: Fft<f32>,
    channels: usize,
    /// Input frames not yet given to the resampler (interleaved).
    pending: Vec<f32>,
    /// Output frames of the start-up delay still to drop.
    to_trim: usize,
    /// Input frames taken so far, and output frames given out, to end on the right length.
    frames_in: u64,
    frames_out: u64,
    ratio: f64,
    out: Vec<f32>,
}

impl std::fmt::Debug for Resampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resampler")
            .field("channels", &self.channels)
            .field("ratio", &self.ratio)
            .finish_non_exhaustive()
    }
}

impl Resampler {
    pub fn new(from_rate: u32, to_rate: u32, channels: usize) -> Result<Resampler, String> {
        let inner = Fft::<f32>::new(
            from_rate as usize,
            to_rate as usize,
            CHUNK,
            channels.max(1),
            FixedSync::Input,
        )
        .map_err(|e| e.to_string())?;
        let out_max = inner.output_frames_max();
        Ok(Resampler {
            to_trim: inner.output_delay(),
            inner,
            channels: channels.max(1),
            pending: Vec::with_capacity(CHUNK * channels.max(1)),
            frames_in: 0,
            frames_out: 0,
            ratio: f64::from(to_rate) / f64::from(from_rate.max(1)),
            out: vec![0.0; out_max * channels.max(1)],
        })
    }

    /// Take `input` (interleaved) and append every output frame that became ready to `output`.
    pub fn push(&mut self, input: &[f32], output: &mut Vec<f32>) -> Result<(), String> {
        self.frames_in += (input.len() / self.channels) as u64;
        self.pending.extend_from_slice(input);
        let need = self.inner.input_frames_next();
        let mut start = 0;
        while (self.pending.len() - start) / self.channels >= need {
            let end = start + need * self.channels;
            let chunk = self.pending[start..end].to_vec();
            self.process(&chunk, need, None, output)?;
            start = end;
        }
        self.pending.drain(..start);
        Ok(())
    }

    /// No more input: the frames still inside, up to the length the input calls for.
    pub fn finish(&mut self, output: &mut Vec<f32>) -> Result<(), String> {
        let want = (self.frames_in as f64 * self.ratio).round() as u64;
        let mut guard = 0;
        while self.frames_out < want && guard < 64 {
            let need = self.inner.input_frames_next();
            let frames = (self.pending.len() / self.channels).min(need);
            let mut chunk = std::mem::take(&mut self.pending);
            chunk.resize(need * self.channels, 0.0);
            self.process(&chunk, need, Some(frames), output)?;
            guard += 1;
        }
        // The last call makes a whole chunk: cut what lies past the input's end.
        let excess = self.frames_out.saturating_sub(want) as usize * self.channels;
        output.truncate(output.len().saturating_sub(excess));
        self.frames_out = self.frames_out.min(want);
        Ok(())
    }

    fn process(
        &mut self,
        chunk: &[f32],
        frames: usize,
        partial: Option<usize>,
        output: &mut Vec<f32>,
    ) -> Result<(), String> {
        let input =
            InterleavedSlice::new(chunk, self.channels, frames).map_err(|e| e.to_string())?;
        let out_frames = self.out.len() / self.channels;
        let mut out = InterleavedSlice::new_mut(&mut self.out, self.channels, out_frames)
            .map_err(|e| e.to_string())?;
        let indexing = Indexing {
            partial_len: partial,
            ..Indexing::default()
        };
        let (_, made) = self
            .inner
            .process_into_buffer(&input, &mut out, Some(&indexing))
            .map_err(|e| e.to_string())?;
        let skip = self.to_trim.min(made);
        self.to_trim -= skip;
        output.extend_from_slice(&self.out[skip * self.channels..made * self.channels]);
        self.frames_out += (made - skip) as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(rate: u32, freq: f32, frames: usize) -> Vec<f32> {
        (0..frames)
            .flat_map(|i| {
                let v = (i as f32 * freq * std::f32::consts::TAU / rate as f32).sin() * 0.5;
                [v, -v]
            })
            .collect()
    }

    #[test]
    fn a_tone_keeps_its_length_pitch_and_start() {
        let input = sine(44_100, 1000.0, 44_100);
        let mut r = Resampler::new(44_100, 48_000, 2).unwrap();
        let mut out = Vec::new();
        // Fed in odd pieces, as a decoder gives them.
        for piece in input.chunks(2 * 577) {
            r.push(piece, &mut out).unwrap();
        }
        r.finish(&mut out).unwrap();
        assert_eq!(out.len(), 2 * 48_000, "one second in, one second out");
        let expected = sine(48_000, 1000.0, 48_000);
        // Away from the edges the tone matches a 48 kHz tone sample for sample: same pitch,
        // no delay.
        let err: f32 = out[2000..90_000]
            .iter()
            .zip(&expected[2000..90_000])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(err < 0.01, "largest error {err}");
    }
}
