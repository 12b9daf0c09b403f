//! Decoding VP9 pictures (WebM's usual video) with rusty_vp9: pure Rust, no dependency, checked
//! by its authors against all of libvpx's conformance streams. A Matroska or MP4 sample is one
//! VP9 packet (a superframe may hold a hidden alt-ref picture besides the shown one; the decoder
//! splits it), so every sample shows exactly one picture.
//!
//! Pictures come out as the pipeline's 8-bit 4:2:0 `Picture`: 10- and 12-bit profiles are
//! rounded down to 8 bits (rav1e is fed 8-bit, and the rungs are 8-bit), and an odd width or
//! height loses its last column or row, since 4:2:0 planes need even sizes. 4:2:2 and 4:4:4
//! (profiles 1 and 3, rare outside studios) are refused by name.

use rusty_vp9::{DecodedFrame, Error, Vp9Decoder};

use super::{DecodeFailure, Picture};

/// A VP9 decoder for one track.
pub struct Vp9 {
    decoder: Vp9Decoder,
    /// The largest picture the track may show (its sample entry's size); `None`: any.
    largest: Option<(u32, u32)>,
}

impl Default for Vp9 {
    fn default() -> Self {
        Vp9::new()
    }
}

impl Vp9 {
    pub fn new() -> Vp9 {
        Vp9 {
            decoder: drained_per_packet(),
            largest: None,
        }
    }

    /// A decoder that refuses a keyframe larger than `width × height` before decoding it: VP9
    /// gives every keyframe its own size (up to 65 536 × 65 536), which the decoder would
    /// allocate for however small the track says it is.
    pub fn at_most(width: u32, height: u32) -> Vp9 {
        Vp9 {
            largest: Some((width, height)),
            ..Vp9::new()
        }
    }

    /// Decode one sample; the picture it shows, if any.
    pub fn decode(&mut self, sample: &[u8]) -> Result<Option<Picture>, DecodeFailure> {
        if let (Some((max_w, max_h)), Some((w, h))) = (self.largest, keyframe_size(sample))
            && (w > max_w || h > max_h)
        {
            return Err(DecodeFailure::Malformed(
                "a keyframe larger than the track's pictures",
            ));
        }
        let decoder = &mut self.decoder;
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            decoder.push(sample, None)?;
            let mut shown = None;
            // Drain the packet: each hidden picture reports `Again`, the shown one a frame, and
            // `Eof` comes once the packet's pictures are all decoded.
            loop {
                match decoder.next_frame() {
                    Ok(frame) => shown = Some(frame),
                    Err(Error::Again) => {}
                    Err(Error::Eof) => return Ok(shown),
                    Err(e) => return Err(e),
                }
            }
        }));
        match outcome {
            Ok(Ok(frame)) => frame.map(|f| to_picture(&f)).transpose(),
            Ok(Err(e)) => Err(failure(e)),
            Err(_) => {
                // The decoder's state is unknown after a panic: start afresh.
                self.decoder = drained_per_packet();
                Err(DecodeFailure::Panicked)
            }
        }
    }
}

/// The size a keyframe's uncompressed header gives (VP9 bitstream spec, 6.2), `None` for other
/// frames or a header too short to say.
fn keyframe_size(packet: &[u8]) -> Option<(u32, u32)> {
    let mut bits = Bits {
        data: packet,
        at: 0,
    };
    if bits.read(2)? != 0b10 {
        return None;
    }
    let profile = bits.read(1)? | bits.read(1)? << 1;
    if profile == 3 {
        bits.read(1)?;
    }
    // show_existing_frame, then frame_type (0: a keyframe), show_frame, error_resilient_mode.
    if bits.read(1)? == 1 || bits.read(1)? != 0 {
        return None;
    }
    bits.read(2)?;
    if bits.read(24)? != 0x49_83_42 {
        return None;
    }
    if profile >= 2 {
        bits.read(1)?;
    }
    let colour_space = bits.read(3)?;
    if colour_space != 7 {
        bits.read(1)?;
        if profile == 1 || profile == 3 {
            bits.read(3)?;
        }
    } else if profile == 1 || profile == 3 {
        bits.read(1)?;
    }
    let width = bits.read(16)? + 1;
    let height = bits.read(16)? + 1;
    Some((width, height))
}

/// A big-endian bit reader over a packet.
struct Bits<'a> {
    data: &'a [u8],
    at: usize,
}

impl Bits<'_> {
    fn read(&mut self, n: usize) -> Option<u32> {
        let mut value = 0u32;
        for _ in 0..n {
            let byte = self.data.get(self.at / 8)?;
            value = value << 1 | u32::from(byte >> (7 - self.at % 8) & 1);
            self.at += 1;
        }
        Some(value)
    }
}

/// A decoder told that input has ended: an empty queue then reads as `Eof` rather than `Again`,
/// which is also what a hidden alt-ref picture reports, so a packet can be drained to its end.
/// Packets pushed later are still decoded.
fn drained_per_packet() -> Vp9Decoder {
    let mut decoder = Vp9Decoder::new();
    decoder.flush();
    decoder
}

fn failure(e: Error) -> DecodeFailure {
    match e {
        Error::Unsupported(what) => DecodeFailure::Unsupported(format!("VP9 {what}")),
        Error::Unimplemented(what) => DecodeFailure::Unsupported(format!("VP9 {what}")),
        other => DecodeFailure::Decoder(other.to_string()),
    }
}

/// The decoder's frame as an 8-bit 4:2:0 picture with even sizes.
fn to_picture(f: &DecodedFrame) -> Result<Picture, DecodeFailure> {
    if (f.subsampling_x, f.subsampling_y) != (1, 1) {
        return Err(DecodeFailure::Unsupported(
            "VP9 with 4:2:2 or 4:4:4 chroma".into(),
        ));
    }
    let [y, u, v] = [0, 1, 2].map(|i| {
        (
            f.planes.get(i).map_or(&[][..], Vec::as_slice),
            f.strides.get(i).copied().unwrap_or(0),
        )
    });
    super::eight_bit_420(f.width, f.height, f.bit_depth, [y, u, v])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real keyframe's header gives its size; a keyframe larger than the track is refused
    /// before it is decoded.
    #[test]
    fn keyframes_larger_than_the_track_are_refused_unread() {
        let seed = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/corpus/remux/seed-vp9-opus.webm");
        let dir = tempfile::tempdir().unwrap();
        let mut src =
            crate::media::source::matroska::open(&seed, &dir.path().join("demuxed")).unwrap();
        let first = src.video.samples[0];
        let bytes = src.read_sample(&first).unwrap();
        assert_eq!(keyframe_size(&bytes), Some((64, 48)));
        assert!(Vp9::at_most(64, 48).decode(&bytes).unwrap().is_some());
        assert!(matches!(
            Vp9::at_most(32, 32).decode(&bytes),
            Err(DecodeFailure::Malformed(_))
        ));
        assert_eq!(keyframe_size(&[0x80]), None);
    }

    #[test]
    fn odd_sizes_lose_their_last_column_and_row() {
        let frame = DecodedFrame {
            width: 3,
            height: 3,
            bit_depth: 8,
            subsampling_x: 1,
            subsampling_y: 1,
            planes: vec![(0..9).collect(), vec![7; 4], vec![9; 4]],
            strides: vec![3, 2, 2],
            pts: None,
        };
        let p = to_picture(&frame).unwrap();
        assert_eq!((p.width, p.height), (2, 2));
        assert_eq!(p.y, [0, 1, 3, 4]);
        assert_eq!((p.u.as_slice(), p.v.as_slice()), (&[7u8][..], &[9u8][..]));
    }

    #[test]
    fn short_planes_and_other_chroma_layouts_are_refused() {
        let frame = DecodedFrame {
            width: 2,
            height: 2,
            bit_depth: 8,
            subsampling_x: 0,
            subsampling_y: 0,
            planes: vec![vec![0; 4]; 3],
            strides: vec![2; 3],
            pts: None,
        };
        assert!(matches!(
            to_picture(&frame),
            Err(DecodeFailure::Unsupported(_))
        ));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let mut d = Vp9::new();
        for junk in [
            &[][..],
            &[0xff; 64][..],
            &[0x82, 0x49, 0x83, 0x42, 0x00][..],
        ] {
            assert!(d.decode(junk).is_err(), "{junk:?}");
        }
    }
}
