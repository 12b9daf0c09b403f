//! Surround audio folded into stereo before it is encoded: browsers play stereo Opus in MP4
//! everywhere, while multichannel Opus needs a channel mapping not every player reads. Mono and
//! stereo pass through unchanged.
//!
//! The fold is the usual one (ITU-R BS.775): front left/right at full level, centre and
//! surrounds at −3 dB into both sides or their own, the low-frequency channel dropped, and the
//! result scaled so a full-scale signal on every channel cannot clip.

use symphonia::core::audio::Position;

use super::decode::Layout;

/// −3 dB.
const HALF_POWER: f32 = std::f32::consts::FRAC_1_SQRT_2;

/// How each input channel feeds the output's left and right.
#[derive(Debug, Clone, PartialEq)]
pub struct Mix {
    /// Per input channel: (gain into left, gain into right).
    gains: Vec<(f32, f32)>,
    inputs: usize,
    outputs: usize,
}

impl Mix {
    /// The mix for decoded audio laid out as `layout`.
    pub fn for_layout(layout: &Layout) -> Mix {
        let inputs = layout.count().max(1);
        if inputs <= 2 {
            return Mix {
                gains: Vec::new(),
                inputs,
                outputs: inputs,
            };
        }
        let mut gains: Vec<(f32, f32)> = match layout {
            Layout::Positioned(positions) => positions.iter().map(|p| gains_of(*p)).collect(),
            // No positions: the first two are taken as left and right, the rest dropped.
            Layout::Discrete(n) => (0..*n)
                .map(|i| match i {
                    0 => (1.0, 0.0),
                    1 => (0.0, 1.0),
                    _ => (0.0, 0.0),
                })
                .collect(),
        };
        let left: f32 = gains.iter().map(|g| g.0).sum();
        let right: f32 = gains.iter().map(|g| g.1).sum();
        let scale = 1.0 / left.max(right).max(1.0);
        for g in &mut gains {
            g.0 *= scale;
            g.1 *= scale;
        }
        Mix {
            gains,
            inputs,
            outputs: 2,
        }
    }

    /// Channels going in.
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// Channels coming out.
    pub fn outputs(&self) -> usize {
        self.outputs
    }

    /// Mix interleaved `input` into `output` (appended).
    pub fn apply(&self, input: &[f32], output: &mut Vec<f32>) {
        if self.gains.is_empty() {
            output.extend_from_slice(input);
            return;
        }
        for frame in input.chunks_exact(self.inputs) {
            let (mut l, mut r) = (0.0f32, 0.0f32);
            for (s, (gl, gr)) in frame.iter().zip(&self.gains) {
                l += s * gl;
                r += s * gr;
            }
            output.push(l);
            output.push(r);
        }
    }
}

fn gains_of(p: Position) -> (f32, f32) {
    let left = Position::FRONT_LEFT_CENTER
        | Position::REAR_LEFT
        | Position::SIDE_LEFT
        | Position::TOP_FRONT_LEFT
        | Position::TOP_REAR_LEFT
        | Position::TOP_SIDE_LEFT
        | Position::FRONT_LEFT_WIDE
        | Position::BOTTOM_FRONT_LEFT;
    let right = Position::FRONT_RIGHT_CENTER
        | Position::REAR_RIGHT
        | Position::SIDE_RIGHT
        | Position::TOP_FRONT_RIGHT
        | Position::TOP_REAR_RIGHT
        | Position::TOP_SIDE_RIGHT
        | Position::FRONT_RIGHT_WIDE
        | Position::BOTTOM_FRONT_RIGHT;
    if p == Position::FRONT_LEFT {
        (1.0, 0.0)
    } else if p == Position::FRONT_RIGHT {
        (0.0, 1.0)
    } else if p == Position::LFE1 || p == Position::LFE2 {
        (0.0, 0.0)
    } else if left.contains(p) {
        (HALF_POWER, 0.0)
    } else if right.contains(p) {
        (0.0, HALF_POWER)
    } else {
        // Centres, front to top to rear.
        (HALF_POWER, HALF_POWER)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn five_one() -> Layout {
        Layout::Positioned(vec![
            Position::FRONT_LEFT,
            Position::FRONT_RIGHT,
            Position::FRONT_CENTER,
            Position::LFE1,
            Position::REAR_LEFT,
            Position::REAR_RIGHT,
        ])
    }

    #[test]
    fn stereo_and_mono_pass_through() {
        for n in [1, 2] {
            let mix = Mix::for_layout(&Layout::Discrete(n));
            assert_eq!(mix.outputs(), n);
            let mut out = Vec::new();
            mix.apply(&[0.1, 0.2, 0.3, 0.4], &mut out);
            assert_eq!(out, [0.1, 0.2, 0.3, 0.4]);
        }
    }

    #[test]
    fn five_one_folds_into_stereo_without_clipping_and_drops_the_lfe() {
        let mix = Mix::for_layout(&five_one());
        assert_eq!(mix.outputs(), 2);
        let mut out = Vec::new();
        // Full scale everywhere cannot exceed full scale.
        mix.apply(&[1.0; 6], &mut out);
        assert!(out.iter().all(|s| *s <= 1.0 + 1e-6), "{out:?}");
        // The LFE alone is silent; the centre alone is equal on both sides; a rear left is
        // left only.
        let only = |i: usize| {
            let mut frame = [0.0f32; 6];
            frame[i] = 1.0;
            let mut out = Vec::new();
            mix.apply(&frame, &mut out);
            (out[0], out[1])
        };
        assert_eq!(only(3), (0.0, 0.0));
        let (l, r) = only(2);
        assert!(l > 0.0 && (l - r).abs() < 1e-6);
        let (l, r) = only(4);
        assert!(l > 0.0 && r == 0.0);
        assert!(only(0).0 > only(4).0, "the front is louder than a surround");
    }
}
