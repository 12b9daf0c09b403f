//! Video decoders for the transcoding pipeline: one picture per MP4 sample, as 8-bit 4:2:0.
//! H.264 through rusty_h264 and VP9 through rusty_vp9, both pure Rust
//! (`../shared/research/video-pipeline.md` §2), and AV1 through rav1d in a child process
//! (`av1`); the track's sample entry picks the decoder.
//!
//! A decoder eats attacker-controlled bytes: every H.264 and VP9 call runs under `catch_unwind`,
//! and the AV1 decoder in a process of its own, so a decoder bug costs one picture, never the
//! worker thread.

pub mod av1;
mod h264;
mod vp9;

use mp4_atom::{Codec, Trak};

pub use av1::Av1;
pub use h264::H264;
pub use vp9::Vp9;

/// An 8-bit 4:2:0 picture, cropped: luma `width × height`, chroma `(width/2) × (height/2)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    pub width: usize,
    pub height: usize,
    pub y: Vec<u8>,
    pub u: Vec<u8>,
    pub v: Vec<u8>,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum DecodeFailure {
    #[error("damaged sample: {0}")]
    Malformed(&'static str),
    #[error("{0} is not supported")]
    Unsupported(String),
    #[error("decoding failed: {0}")]
    Decoder(String),
    #[error("the decoder failed internally on this sample")]
    Panicked,
}

/// The decoder of one video track, chosen by its codec. The in-process decoders carry
/// kilobytes of state inline, so they are boxed.
pub enum VideoDecoder {
    H264(Box<H264>),
    Vp9(Box<Vp9>),
    Av1(Av1),
}

impl VideoDecoder {
    /// A decoder for the video track `trak`, primed with its configuration.
    pub fn for_track(trak: &Trak) -> Result<VideoDecoder, DecodeFailure> {
        match trak.mdia.minf.stbl.stsd.codecs.first() {
            Some(Codec::Avc1(c)) => Ok(VideoDecoder::H264(Box::new(H264::new(&c.avcc)?))),
            Some(Codec::Avc3(c)) => Ok(VideoDecoder::H264(Box::new(H264::new(&c.avcc)?))),
            Some(Codec::Vp09(c)) => Ok(VideoDecoder::Vp9(Box::new(Vp9::at_most(
                u32::from(c.visual.width),
                u32::from(c.visual.height),
            )))),
            Some(Codec::Av01(c)) => Ok(VideoDecoder::Av1(Av1::new(&c.av1c.config_obus))),
            _ => Err(DecodeFailure::Unsupported(
                "decoding this video codec".into(),
            )),
        }
    }

    /// Decode one sample; the picture it completes, if any, in decode order.
    pub fn decode(&mut self, sample: &[u8]) -> Result<Option<Picture>, DecodeFailure> {
        match self {
            VideoDecoder::H264(d) => d.decode(sample),
            VideoDecoder::Vp9(d) => d.decode(sample),
            VideoDecoder::Av1(d) => d.decode(sample),
        }
    }
}

/// Whether a track's video can be decoded here.
pub fn decodable(trak: &Trak) -> bool {
    matches!(
        trak.mdia.minf.stbl.stsd.codecs.first(),
        Some(Codec::Avc1(_) | Codec::Avc3(_) | Codec::Vp09(_) | Codec::Av01(_))
    )
}

/// A decoder's 4:2:0 planes (bytes and bytes per row: Y, U, V) as an 8-bit picture with even
/// sizes: samples deeper than 8 bits (little-endian `u16`) are rounded to 8 bits, since the
/// rungs are 8-bit, and an odd width or height loses its last column or row, since the
/// pipeline's 4:2:0 planes are exactly half the luma's size.
fn eight_bit_420(
    width: u32,
    height: u32,
    depth: u32,
    [y, u, v]: [(&[u8], usize); 3],
) -> Result<Picture, DecodeFailure> {
    let (width, height) = ((width & !1) as usize, (height & !1) as usize);
    if width == 0 || height == 0 {
        return Err(DecodeFailure::Malformed("a picture without pixels"));
    }
    Ok(Picture {
        width,
        height,
        y: crop_to_8bit(y, width, height, depth)?,
        u: crop_to_8bit(u, width / 2, height / 2, depth)?,
        v: crop_to_8bit(v, width / 2, height / 2, depth)?,
    })
}

/// The top-left `w × h` samples of a plane given as (bytes, bytes per row), as bytes.
fn crop_to_8bit(
    (plane, stride): (&[u8], usize),
    w: usize,
    h: usize,
    depth: u32,
) -> Result<Vec<u8>, DecodeFailure> {
    let bytes_per_sample = if depth > 8 { 2 } else { 1 };
    let row_bytes = w * bytes_per_sample;
    if stride < row_bytes || plane.len() < stride * (h.max(1) - 1) + row_bytes {
        return Err(DecodeFailure::Malformed("a plane smaller than its picture"));
    }
    let mut out = Vec::with_capacity(w * h);
    let shift = depth.saturating_sub(8);
    for row in plane.chunks(stride).take(h) {
        let row = &row[..row_bytes];
        if shift == 0 {
            out.extend_from_slice(row);
        } else {
            let half = 1u32 << (shift - 1);
            out.extend(row.chunks_exact(2).map(|px| {
                let v = u32::from(u16::from_le_bytes([px[0], px[1]]));
                ((v + half) >> shift).min(255) as u8
            }));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_samples_round_to_eight_bits() {
        // 10-bit: 1023 (white) → 255, 512 → 128, 2 → 1 (rounded), 1 → 0; 12-bit 4095 → 255.
        let plane: Vec<u8> = [1023u16, 512, 2, 1]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        assert_eq!(
            crop_to_8bit((&plane, 8), 4, 1, 10).unwrap(),
            [255, 128, 1, 0]
        );
        assert_eq!(crop_to_8bit((&[0xff, 0x0f], 2), 1, 1, 12).unwrap(), [255]);
    }

    #[test]
    fn planes_shorter_than_their_picture_are_refused() {
        assert!(crop_to_8bit((&[0; 5], 3), 3, 2, 8).is_err());
        assert!(
            crop_to_8bit((&[0; 6], 2), 3, 2, 8).is_err(),
            "stride below the width"
        );
        assert!(
            eight_bit_420(1, 1, 8, [(&[0][..], 1); 3]).is_err(),
            "no even picture"
        );
    }
}
