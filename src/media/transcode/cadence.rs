//! A constant output frame rate from whatever timing the source has. Phones record at a
//! variable rate, screen recorders drop frames when idle, and a hostile or broken file may claim
//! thousands of frames a second; every rung is encoded at one steady rate instead, so players
//! and encoders see regular frames, the AV1 level and the GOP mean what they say, and keyframes
//! fall on the same instants in every rung.
//!
//! The rate is the source's usual rate (from its median frame duration) snapped to the nearest
//! common rate within 3 % (23.976 … 60), otherwise rounded to a whole number, and never above 60 (PeerTube's default
//! ceiling) nor below 1. Each output frame at time `start + k / rate` shows the latest source
//! picture that starts before the middle of that frame (the nearest start, as ffmpeg's `fps`
//! filter rounds), so a source already at that rate maps one to one whatever the rounding of its
//! time stamps, a faster one drops pictures, a slower one or a
//! gap repeats them, and output times stay on the source's clock: no drift against the audio.

use std::sync::Arc;

use crate::media::decode::Picture;

/// Frame rates sources commonly have, which a rate close to one is snapped to.
const COMMON: [f64; 9] = [
    24_000.0 / 1_001.0,
    24.0,
    25.0,
    30_000.0 / 1_001.0,
    30.0,
    48.0,
    50.0,
    60_000.0 / 1_001.0,
    60.0,
];

/// The highest output rate.
pub const MAX_FPS: f64 = 60.0;

/// The output rate for a source whose pictures usually come at `usual` frames per second.
pub fn output_rate(usual: f64) -> f64 {
    if !usual.is_finite() || usual <= 0.0 {
        return 25.0;
    }
    let capped = usual.min(MAX_FPS);
    COMMON
        .iter()
        .copied()
        .filter(|c| (capped - c).abs() <= 0.03 * c)
        .min_by(|a, b| (capped - a).abs().total_cmp(&(capped - b).abs()))
        .unwrap_or_else(|| capped.round().clamp(1.0, MAX_FPS))
}

/// Turns pictures at their source times into pictures at the output rate.
#[derive(Debug)]
pub struct Cadence {
    /// Output frame length, in the source track's time units.
    step: f64,
    /// The first output frame's time (the first picture's), once known.
    start: Option<f64>,
    /// Output frames given out so far.
    slot: u64,
    /// The picture on screen now, waiting for the output frames it fills.
    held: Option<Arc<Picture>>,
}

impl Cadence {
    /// A cadence of `fps` frames per second for times counted in `timescale` units.
    pub fn new(timescale: u64, fps: f64) -> Cadence {
        Cadence {
            step: timescale.max(1) as f64 / fps.max(1.0),
            start: None,
            slot: 0,
            held: None,
        }
    }

    /// The same cadence, its grid starting at `origin` (the first picture's time), taken up
    /// at output frame `slot`: what a resumed encode needs. Pictures must then be pushed from
    /// one shown at or before that frame.
    pub fn resumed(timescale: u64, fps: f64, origin: i64, slot: u64) -> Cadence {
        Cadence {
            start: Some(origin as f64),
            slot,
            ..Cadence::new(timescale, fps)
        }
    }

    /// When output frame `slot` is shown.
    pub fn slot_time(&self, slot: u64) -> i64 {
        (self.start.unwrap_or(0.0) + slot as f64 * self.step).round() as i64
    }

    /// The picture shown from `pts` on; appends to `out` every output frame (picture and time)
    /// that the previous picture fills.
    pub fn push(&mut self, picture: Arc<Picture>, pts: i64, out: &mut Vec<(Arc<Picture>, i64)>) {
        let start = *self.start.get_or_insert(pts as f64);
        if let Some(held) = self.held.take() {
            while start + (self.slot as f64 + 0.5) * self.step <= pts as f64 {
                out.push((held.clone(), self.time(start)));
                self.slot += 1;
            }
        }
        self.held = Some(picture);
    }

    /// The source ends at `end` (the last picture's time plus its duration): the last
    /// picture's output frames.
    pub fn finish(&mut self, end: i64, out: &mut Vec<(Arc<Picture>, i64)>) {
        let (Some(start), Some(held)) = (self.start, self.held.take()) else {
            return;
        };
        // A source of one picture still makes one frame, however short it is.
        while self.slot == 0 || start + (self.slot as f64 + 0.5) * self.step <= end as f64 {
            out.push((held.clone(), self.time(start)));
            self.slot += 1;
        }
    }

    fn time(&self, start: f64) -> i64 {
        (start + self.slot as f64 * self.step).round() as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pic(n: u8) -> Arc<Picture> {
        Arc::new(Picture {
            width: 2,
            height: 2,
            y: vec![n; 4],
            u: vec![n],
            v: vec![n],
        })
    }

    /// Output (picture id, time) for pictures at `times` (ms), ending at `end`, at `fps`.
    fn run(times: &[i64], end: i64, fps: f64) -> Vec<(u8, i64)> {
        let mut c = Cadence::new(1000, fps);
        let mut out = Vec::new();
        for (i, t) in times.iter().enumerate() {
            c.push(pic(i as u8), *t, &mut out);
        }
        c.finish(end, &mut out);
        out.iter().map(|(p, t)| (p.y[0], *t)).collect()
    }

    #[test]
    fn rates_snap_to_common_ones_and_are_capped() {
        assert_eq!(output_rate(25.0), 25.0);
        assert!((output_rate(29.6) - 30_000.0 / 1_001.0).abs() < 1e-9);
        assert_eq!(output_rate(1000.0), 60.0);
        assert_eq!(output_rate(12.4), 12.0);
        assert_eq!(output_rate(0.2), 1.0);
        assert_eq!(output_rate(f64::NAN), 25.0);
    }

    #[test]
    fn a_steady_source_maps_one_to_one() {
        let times: Vec<i64> = (0..10).map(|i| i * 40).collect();
        let out = run(&times, 400, 25.0);
        assert_eq!(
            out,
            (0..10)
                .map(|i| (i as u8, i as i64 * 40))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn gaps_repeat_fast_sources_drop_and_times_stay_on_the_clock() {
        // 40 ms frames, then a picture held for 200 ms: it fills five output frames.
        let out = run(&[0, 40, 80], 280, 25.0);
        assert_eq!(
            out,
            [
                (0, 0),
                (1, 40),
                (2, 80),
                (2, 120),
                (2, 160),
                (2, 200),
                (2, 240)
            ]
        );
        // 100 fps into 25: every fourth picture, at 40 ms steps.
        let times: Vec<i64> = (0..40).map(|i| i * 10).collect();
        let out = run(&times, 400, 25.0);
        assert_eq!(out.len(), 10);
        assert!(
            out.iter()
                .enumerate()
                .all(|(k, (_, t))| *t == k as i64 * 40)
        );
        assert_eq!(out[1].0, 5, "the last picture starting before 60 ms");
        // The output starts where the source does.
        assert_eq!(run(&[500, 540], 580, 25.0), [(0, 500), (1, 540)]);
        assert_eq!(run(&[0], 1, 25.0), [(0, 0)], "one picture, one frame");
    }
}
