//! The media and index workers' doorbell: whoever commits a job rings it (`Core::jobs_wake`), so
//! the job starts at once instead of at the next poll. It lives with the services, which ring
//! it, so that they need not know the workers (`jobs/`), which wait on it.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// A doorbell for the workers: whoever commits a job rings it, so the job starts at once instead
/// of at the next poll. Rings are counted, so a worker that looked at the queue before a ring
/// and waits after it still wakes, and every waiting worker (each lane) sees every ring.
#[derive(Debug, Default)]
pub struct Wake {
    rings: Mutex<u64>,
    cv: Condvar,
}

impl Wake {
    pub fn notify(&self) {
        *self.rings.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        self.cv.notify_all();
    }

    /// The number of rings so far; pass it to `wait` after looking at the queue.
    pub fn seen(&self) -> u64 {
        *self.rings.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Wait for a ring after `seen`, at most `timeout`.
    pub fn wait(&self, seen: u64, timeout: Duration) {
        let rings = self.rings.lock().unwrap_or_else(|p| p.into_inner());
        let _ = self
            .cv
            .wait_timeout_while(rings, timeout, |r| *r == seen)
            .unwrap_or_else(|p| p.into_inner());
    }
}
