//! How far the job processing each video has got, for its owner and the web UI: a percentage
//! and an estimated time left. Kept in memory only — it is a view of work in flight. A job
//! resumed after a restart counts the work it kept as done (`Tracker::skip`), but not in its
//! rate. Job code bumps lock-free counters; readers take a consistent-enough snapshot.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The counters of one video's processing: units of work done out of a total.
#[derive(Debug)]
pub struct Tracker {
    /// Shared with whatever counts the work (`source::Source::count_into`).
    pub done: Arc<AtomicU64>,
    pub total: AtomicU64,
    /// Of `done`, the units an earlier run did (kept, not redone): no part of the rate.
    skipped: AtomicU64,
    /// The units are video frames, so a rate in frames per second means something.
    frames: bool,
    started: Instant,
}

impl Tracker {
    pub fn add(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }

    /// Count `n` units an earlier run did as done, outside the rate (so the time left and the
    /// frames per second stay those of the work this run does).
    pub fn skip(&self, n: u64) {
        self.skipped.fetch_add(n, Ordering::Relaxed);
        self.add(n);
    }
}

/// A snapshot: percent done and, once some work is done, seconds left at the rate so far.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snapshot {
    pub percent: f64,
    pub eta_secs: Option<u64>,
    /// Frames per second so far, for work counted in frames.
    pub fps: Option<f64>,
}

/// All videos being processed.
#[derive(Debug, Default)]
pub struct Progress {
    running: Mutex<HashMap<u64, Arc<Tracker>>>,
}

impl Progress {
    /// Start tracking a video's processing of `total` units; the tracker ends when `Guard` drops.
    pub fn start(&self, video_id: u64, total: u64) -> Guard<'_> {
        self.track(video_id, total, false)
    }

    /// Start tracking work counted in video frames, which also reports frames per second.
    pub fn start_frames(&self, video_id: u64, total: u64) -> Guard<'_> {
        self.track(video_id, total, true)
    }

    fn track(&self, video_id: u64, total: u64, frames: bool) -> Guard<'_> {
        let tracker = Arc::new(Tracker {
            done: Arc::new(AtomicU64::new(0)),
            total: AtomicU64::new(total.max(1)),
            skipped: AtomicU64::new(0),
            frames,
            started: Instant::now(),
        });
        self.lock().insert(video_id, tracker.clone());
        Guard {
            progress: self,
            video_id,
            tracker,
        }
    }

    pub fn get(&self, video_id: u64) -> Option<Snapshot> {
        let tracker = self.lock().get(&video_id)?.clone();
        let total = tracker.total.load(Ordering::Relaxed).max(1);
        let done = tracker.done.load(Ordering::Relaxed).min(total);
        let fraction = done as f64 / total as f64;
        let elapsed = tracker.started.elapsed().as_secs_f64();
        // Done by this run: the rate, and from it the time left.
        let worked = done.saturating_sub(tracker.skipped.load(Ordering::Relaxed));
        let eta_secs =
            (worked > 0).then(|| (elapsed * (total - done) as f64 / worked as f64).ceil() as u64);
        let fps = (tracker.frames && elapsed > 0.0)
            .then(|| (worked as f64 / elapsed * 10.0).round() / 10.0);
        Some(Snapshot {
            percent: (fraction * 1000.0).round() / 10.0,
            eta_secs,
            fps,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Tracker>>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Tracking of one video; removed from `Progress` when dropped (done, failed or panicked).
pub struct Guard<'a> {
    progress: &'a Progress,
    video_id: u64,
    pub tracker: Arc<Tracker>,
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        self.progress.lock().remove(&self.video_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_and_eta_follow_the_counters() {
        let p = Progress::default();
        assert_eq!(p.get(1), None);
        {
            let g = p.start(1, 200);
            assert_eq!(p.get(1).map(|s| (s.percent, s.eta_secs)), Some((0.0, None)));
            g.tracker.add(50);
            let s = p.get(1).unwrap();
            assert_eq!(s.percent, 25.0);
            assert!(s.eta_secs.is_some());
            g.tracker.add(500);
            assert_eq!(p.get(1).unwrap().percent, 100.0);
        }
        assert_eq!(p.get(1), None, "gone once the job ends");
        assert_eq!(p.start(2, 10).tracker.total.load(Ordering::Relaxed), 10);
        assert_eq!(p.get(2), None);
        let g = p.start_frames(3, 100);
        g.tracker.add(40);
        let s = p.get(3).unwrap();
        assert!(s.fps.is_some_and(|f| f > 0.0), "{s:?}");
        assert_eq!(s.percent, 40.0);
    }

    #[test]
    fn work_kept_from_an_earlier_run_counts_as_done_but_not_in_the_rate() {
        let p = Progress::default();
        let g = p.start_frames(1, 100);
        g.tracker.skip(75);
        let s = p.get(1).unwrap();
        assert_eq!((s.percent, s.eta_secs), (75.0, None), "no rate yet");
        assert!(s.fps.is_none_or(|f| f == 0.0), "{s:?}");
        std::thread::sleep(std::time::Duration::from_millis(20));
        g.tracker.add(5);
        let s = p.get(1).unwrap();
        assert_eq!(s.percent, 80.0);
        // 5 frames in ≥ 20 ms: ≤ 250 fps, and 20 frames left take ≥ 4 × the time so far.
        assert!(s.fps.is_some_and(|f| f > 0.0 && f <= 250.0), "{s:?}");
        assert!(s.eta_secs.is_some(), "{s:?}");
    }
}
