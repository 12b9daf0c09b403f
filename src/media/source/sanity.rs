//! The ranges a container's claims must fall in before anything is sized or looped by them:
//! sample rates, channel counts, picture sizes and shapes. A claim outside is a lie or a file no
//! player shows well, and accepting it is what let a 5-second clip whose sampling frequency was
//! edited to 1 Hz become 240 000 s of audio to encode, and a 16 × 7 680 VP9 file cost more
//! memory than a real 8K upload.

use std::ops::RangeInclusive;

/// Audio sample rates accepted: the lowest any codec Vireo takes uses is 7 350 Hz (AAC), the
/// highest 768 kHz (PCM).
pub const SAMPLE_RATES: RangeInclusive<u32> = 4_000..=768_000;
/// Audio channels accepted (7.1 is eight).
pub const CHANNELS: RangeInclusive<u16> = 1..=8;
/// The shorter side of a picture, in pixels, at least: below it nothing shows in a player
/// (PeerTube's smallest rung is 144 lines).
pub const MIN_SIDE: u32 = 16;
/// The longer side over the shorter, at most: wider than a 32:9 monitor's 3.6 by some margin,
/// and far from what amplifies the ladder's buffers.
pub const MAX_ASPECT: u32 = 8;

/// The largest sample (one coded picture or audio packet) accepted: an 8K intra picture at a
/// high quality is a few megabytes. Every sample is read into memory whole somewhere (decoding,
/// thumbnails), so a file of one 4 GiB "sample" must not get that far.
pub const MAX_SAMPLE_BYTES: u64 = 64 * 1024 * 1024;

/// Why a claim is refused (a sentence for the uploader).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Insane(pub String);

/// A picture's size: each side at least `MIN_SIDE`, the long one at most `MAX_ASPECT` times the
/// short one.
pub fn picture(width: u32, height: u32) -> Result<(), Insane> {
    let (short, long) = (width.min(height), width.max(height));
    if short < MIN_SIDE {
        return Err(Insane(format!(
            "The video is {width}×{height} pixels; each side must be at least {MIN_SIDE}"
        )));
    }
    if long > short.saturating_mul(MAX_ASPECT) {
        return Err(Insane(format!(
            "The video is {width}×{height} pixels; its long side may be at most {MAX_ASPECT} times its short side"
        )));
    }
    Ok(())
}

/// An audio track's sample rate and channels (`None`: the container does not say).
pub fn audio(rate: u32, channels: Option<u16>) -> Result<(), Insane> {
    if !SAMPLE_RATES.contains(&rate) {
        return Err(Insane(format!(
            "The audio claims a sample rate of {rate} Hz; accepted are {} to {} Hz",
            SAMPLE_RATES.start(),
            SAMPLE_RATES.end()
        )));
    }
    if let Some(n) = channels
        && !CHANNELS.contains(&n)
    {
        return Err(Insane(format!(
            "The audio claims {n} channels; accepted are {} to {}",
            CHANNELS.start(),
            CHANNELS.end()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_shapes_at_their_edges() {
        assert!(picture(16, 16).is_ok());
        assert!(picture(15, 1080).is_err());
        assert!(picture(1, 1).is_err());
        assert!(picture(128, 1024).is_ok(), "8:1 exactly");
        assert!(picture(128, 1025).is_err());
        assert!(picture(16, 7680).is_err());
        assert!(picture(7680, 960).is_ok());
        assert!(picture(1080, 1920).is_ok());
    }

    #[test]
    fn audio_at_its_edges() {
        assert!(audio(48_000, Some(2)).is_ok());
        assert!(audio(7_350, None).is_ok());
        assert!(audio(1, Some(2)).is_err());
        assert!(audio(3_999, Some(2)).is_err());
        assert!(audio(768_001, Some(2)).is_err());
        assert!(audio(44_100, Some(0)).is_err());
        assert!(audio(44_100, Some(9)).is_err());
        assert!(audio(44_100, Some(8)).is_ok());
    }
}
