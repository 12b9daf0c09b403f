//! Whether an upload is what its headers say, checked before anything of it is published: the
//! picture size its parameter sets give against its sample entry's (before any decoding, so a
//! 64 × 64 stream whose SPS claims 16 384 × 16 384 never gets a decoder to allocate for that),
//! then keyframes spread over the whole file decoded, their size compared with the claim and
//! their failures counted. A file valid for its first megabyte and random after, or pictures of
//! another size than the headers say, fail the job with a sentence saying so.

use mp4_atom::Codec;

use super::decode::VideoDecoder;
use super::source::Source;

/// Keyframes decoded: the first, the last and others evenly between.
const SPOT_CHECKS: usize = 8;
/// Of those, the share that may fail (a damaged spot the ladder conceals) before the file is
/// refused as damaged.
const MAX_FAILED_SHARE: f64 = 0.25;

/// Why an upload is not what it claims (a sentence for the uploader).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Untrue(pub String);

/// The picture size the H.264 parameter sets give, against the track's (`width × height`).
pub fn parameter_sets(src: &Source) -> Result<(), Untrue> {
    let avcc = match src.video.trak.mdia.minf.stbl.stsd.codecs.first() {
        Some(Codec::Avc1(c)) => &c.avcc,
        Some(Codec::Avc3(c)) => &c.avcc,
        _ => return Ok(()),
    };
    for sps in &avcc.sequence_parameter_sets {
        let Some((w, h)) = sps_size(sps) else {
            return Err(Untrue(
                "its H.264 sequence parameter set cannot be read".into(),
            ));
        };
        if !same_size((w as usize, h as usize), src.width, src.height) {
            return Err(Untrue(format!(
                "its H.264 parameters say {w}×{h} pixels where the file says {}×{}",
                src.width, src.height
            )));
        }
    }
    Ok(())
}

/// Width and height of an SPS NAL unit (header included), cropping applied.
fn sps_size(nal: &[u8]) -> Option<(u32, u32)> {
    use h264_reader::nal::sps::SeqParameterSet;
    let rbsp = h264_reader::rbsp::decode_nal(nal).ok()?;
    let sps = SeqParameterSet::from_bits(h264_reader::rbsp::BitReader::new(&*rbsp)).ok()?;
    sps.pixel_dimensions().ok()
}

/// A decoded size is the claimed one, or that rounded down to even (decoders crop odd sizes).
fn same_size((w, h): (usize, usize), width: u32, height: u32) -> bool {
    let near = |got: usize, claimed: u32| got == claimed as usize || got == (claimed & !1) as usize;
    near(w, width) && near(h, height)
}

/// Decode `SPOT_CHECKS` keyframes spread over the video: each decoded picture must have the
/// claimed size, and no more than a quarter may fail.
pub fn spot_check(src: &mut Source) -> Result<(), Untrue> {
    let keyframes: Vec<usize> = src
        .video
        .samples
        .iter()
        .enumerate()
        .filter(|(_, s)| s.sync)
        .map(|(i, _)| i)
        .collect();
    let picked = spread(&keyframes, SPOT_CHECKS);
    let timescale = src.video.timescale.max(1);
    let mut failed = Vec::new();
    for &index in &picked {
        let decoded = decode_alone(src, index);
        let secs = src.video.samples[index].dts / timescale;
        match decoded {
            Ok(Some((w, h))) if !same_size((w, h), src.width, src.height) => {
                return Err(Untrue(format!(
                    "the file says its pictures are {}×{} pixels, but at {secs} s one is {w}×{h}",
                    src.width, src.height
                )));
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => failed.push(secs),
        }
    }
    let too_many = failed.len() as f64 > picked.len() as f64 * MAX_FAILED_SHARE;
    if too_many || (!picked.is_empty() && failed.len() == picked.len()) {
        let from = failed.first().copied().unwrap_or(0);
        return Err(Untrue(format!(
            "it is damaged: {} of the {} keyframes checked cannot be decoded, from about {from} s on",
            failed.len(),
            picked.len()
        )));
    }
    Ok(())
}

/// `n` of `items` (or all of them when fewer), evenly spread, the first and last included.
fn spread(items: &[usize], n: usize) -> Vec<usize> {
    if items.len() <= n {
        return items.to_vec();
    }
    let mut out: Vec<usize> = (0..n)
        .map(|k| items[k * (items.len() - 1) / (n - 1).max(1)])
        .collect();
    out.dedup();
    out
}

/// The size of the picture the keyframe at `index` decodes to, alone.
fn decode_alone(src: &mut Source, index: usize) -> Result<Option<(usize, usize)>, String> {
    let mut decoder = VideoDecoder::for_track(&src.video.trak).map_err(|e| e.to_string())?;
    let sample = src.video.samples[index];
    let bytes = src.read_sample(&sample).map_err(|e| e.to_string())?;
    let picture = decoder.decode(&bytes).map_err(|e| e.to_string())?;
    Ok(picture.map(|p| (p.width, p.height)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_takes_the_ends_and_between() {
        let items: Vec<usize> = (0..100).collect();
        let s = spread(&items, 8);
        assert_eq!(s.len(), 8);
        assert_eq!((s[0], s[7]), (0, 99));
        assert_eq!(spread(&[3, 9], 8), vec![3, 9]);
    }

    #[test]
    fn odd_sizes_may_be_cropped_even() {
        assert!(same_size((640, 360), 640, 360));
        assert!(same_size((640, 360), 641, 361));
        assert!(!same_size((64, 64), 16_384, 16_384));
    }
}
