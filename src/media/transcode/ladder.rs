//! Which renditions a source gets: PeerTube's resolutions (the shorter side: 1080, 720, 480,
//! 360, 240 by default, configurable), none above the source's own, and each rung's even
//! picture size with the source's aspect ratio.

/// One rung: its resolution (the shorter side), picture size and codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rung {
    pub resolution: u32,
    pub width: usize,
    pub height: usize,
    pub encoding: Encoding,
}

/// What a rung is encoded as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Encoding {
    /// The ladder's rungs.
    Av1,
    /// The one rendition for players without AV1, made for uploads that are not H.264.
    H264,
}

/// The largest rung of `resolutions` the H.264 compatibility rendition is made at: the
/// rendition players without AV1 fall back to, so it gets a size that looks right on a phone
/// or a laptop, and no more, since it is the one rendition not made with AV1's savings.
pub const COMPAT_MAX: u32 = 720;

/// The H.264 compatibility rung for a source: the largest configured rung up to `COMPAT_MAX`
/// (the smallest rung when none is that small).
pub fn compat_rung(width: usize, height: usize, resolutions: &[u32]) -> Rung {
    let all = rungs(width, height, resolutions);
    let pick = all
        .iter()
        .rev()
        .find(|r| r.resolution <= COMPAT_MAX)
        .or(all.first())
        .copied()
        .unwrap_or_else(|| rung(width, height, width.min(height) as u32));
    Rung {
        encoding: Encoding::H264,
        ..pick
    }
}

/// The rungs for a `width × height` source from `resolutions`, smallest first (the order they
/// are encoded and published in). A source smaller than every rung, or an empty list, gets one
/// at its own size (PeerTube, with no resolution chosen, transcodes the original one).
pub fn rungs(width: usize, height: usize, resolutions: &[u32]) -> Vec<Rung> {
    let short = width.min(height).max(2);
    let mut out: Vec<Rung> = resolutions
        .iter()
        .copied()
        .filter(|r| (*r as usize) <= short && *r >= 2)
        .map(|r| rung(width, height, r))
        .collect();
    if out.is_empty() {
        out.push(rung(width, height, short as u32));
    }
    out.sort_by_key(|r| r.resolution);
    out.dedup_by_key(|r| r.resolution);
    out
}

fn rung(width: usize, height: usize, resolution: u32) -> Rung {
    let r = resolution as usize;
    let long = |a: usize, b: usize| even(r as f64 * a as f64 / b.max(1) as f64);
    let (w, h) = if width >= height {
        (long(width, height), even(r as f64))
    } else {
        (even(r as f64), long(height, width))
    };
    Rung {
        resolution,
        width: w,
        height: h,
        encoding: Encoding::Av1,
    }
}

/// The nearest even number, at least 16 (the smallest picture AV1 encoders accept).
fn even(v: f64) -> usize {
    ((v / 2.0).round() as usize * 2).max(16)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT: [u32; 5] = [1080, 720, 480, 360, 240];

    #[test]
    fn no_rung_chosen_means_one_at_the_source_size() {
        let only = rungs(1280, 720, &[]);
        assert_eq!(
            only.iter().map(|r| (r.width, r.height)).collect::<Vec<_>>(),
            [(1280, 720)]
        );
        assert_eq!(compat_rung(1280, 720, &[]).height, 720);
    }

    #[test]
    fn rungs_keep_the_aspect_never_exceed_the_source_and_are_even() {
        let r = rungs(1280, 720, &DEFAULT);
        let sizes: Vec<(usize, usize)> = r.iter().map(|r| (r.width, r.height)).collect();
        assert_eq!(sizes, [(426, 240), (640, 360), (854, 480), (1280, 720)]);
        let portrait = rungs(1080, 1920, &DEFAULT);
        assert_eq!(
            portrait.last().map(|r| (r.width, r.height)),
            Some((1080, 1920))
        );
        assert_eq!(portrait[0].width, 240);
        let compat = compat_rung(1920, 1080, &DEFAULT);
        assert_eq!(
            (compat.width, compat.height, compat.encoding),
            (1280, 720, Encoding::H264)
        );
        assert_eq!(compat_rung(640, 360, &DEFAULT).height, 360);
        assert_eq!(
            compat_rung(1920, 1080, &[1080]).height,
            1080,
            "the only rung"
        );
        let odd = rungs(642, 362, &DEFAULT);
        assert!(odd.iter().all(|r| r.width % 2 == 0 && r.height % 2 == 0));
        assert_eq!(odd.len(), 2, "240 and 360");
        let tiny = rungs(160, 90, &DEFAULT);
        assert_eq!(
            tiny,
            [Rung {
                resolution: 90,
                width: 160,
                height: 90,
                encoding: Encoding::Av1,
            }]
        );
    }
}
