//! Decoding H.264 pictures from MP4 samples with rusty_h264 (pure Rust, no C++; chosen in
//! `../shared/research/video-pipeline.md` §2). MP4 samples hold length-prefixed NAL units
//! (AVCC) and the parameter sets live in the `avcC` box; the decoder reads Annex B, so both are
//! rewritten with start codes here.

use rusty_h264_decoder::{DecodeError, Decoder};

use super::{DecodeFailure, Picture};

impl From<DecodeError> for DecodeFailure {
    fn from(e: DecodeError) -> Self {
        match e {
            DecodeError::Unsupported(what) => DecodeFailure::Unsupported(what.to_owned()),
            other => DecodeFailure::Decoder(other.to_string()),
        }
    }
}

const START_CODE: [u8; 4] = [0, 0, 0, 1];

/// An H.264 decoder for one track.
pub struct H264 {
    decoder: Decoder,
    length_size: usize,
    buffer: Vec<u8>,
}

impl H264 {
    /// A decoder primed with the track's parameter sets.
    pub fn new(avcc: &mp4_atom::Avcc) -> Result<H264, DecodeFailure> {
        let mut h = H264 {
            decoder: Decoder::new(),
            length_size: usize::from(avcc.length_size).clamp(1, 4),
            buffer: Vec::new(),
        };
        let mut sets = Vec::new();
        for ps in avcc
            .sequence_parameter_sets
            .iter()
            .chain(&avcc.picture_parameter_sets)
        {
            sets.extend_from_slice(&START_CODE);
            sets.extend_from_slice(ps);
        }
        h.run(sets)?;
        Ok(h)
    }

    /// Decode one sample; the picture it completes, if any, in decode order.
    pub fn decode(&mut self, sample: &[u8]) -> Result<Option<Picture>, DecodeFailure> {
        let mut annex_b = std::mem::take(&mut self.buffer);
        annex_b.clear();
        avcc_to_annex_b(sample, self.length_size, &mut annex_b)?;
        self.run(annex_b)
    }

    fn run(&mut self, annex_b: Vec<u8>) -> Result<Option<Picture>, DecodeFailure> {
        let decoder = &mut self.decoder;
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| decoder.decode(&annex_b)));
        self.buffer = annex_b;
        let frame = match outcome {
            Ok(result) => result?,
            Err(_) => {
                // The decoder's state is unknown after a panic: start afresh.
                self.decoder = Decoder::new();
                return Err(DecodeFailure::Panicked);
            }
        };
        Ok(frame.map(|f| Picture {
            width: f.width,
            height: f.height,
            y: f.y,
            u: f.u,
            v: f.v,
        }))
    }
}

/// Rewrite length-prefixed NAL units as start-code-prefixed ones, appended to `out`.
fn avcc_to_annex_b(
    sample: &[u8],
    length_size: usize,
    out: &mut Vec<u8>,
) -> Result<(), DecodeFailure> {
    let mut at = 0usize;
    while at < sample.len() {
        let len_bytes = sample
            .get(at..at + length_size)
            .ok_or(DecodeFailure::Malformed("truncated NAL length"))?;
        let len = len_bytes
            .iter()
            .fold(0usize, |a, &b| (a << 8) | usize::from(b));
        at += length_size;
        let nal = sample
            .get(at..at.saturating_add(len))
            .ok_or(DecodeFailure::Malformed("a NAL unit overruns its sample"))?;
        out.extend_from_slice(&START_CODE);
        out.extend_from_slice(nal);
        at += len;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_prefixed_nals_get_start_codes() {
        let mut out = Vec::new();
        avcc_to_annex_b(&[0, 0, 0, 2, 0x65, 0xaa, 0, 0, 0, 1, 0x41], 4, &mut out).unwrap();
        assert_eq!(out, [0, 0, 0, 1, 0x65, 0xaa, 0, 0, 0, 1, 0x41]);
        let mut out = Vec::new();
        assert_eq!(
            avcc_to_annex_b(&[0, 9, 0x65], 2, &mut out),
            Err(DecodeFailure::Malformed("a NAL unit overruns its sample"))
        );
        assert!(avcc_to_annex_b(&[0, 0], 4, &mut out).is_err());
    }
}
