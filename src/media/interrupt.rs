//! How long-running media work is told to stop: a flag the service raises (the server stops,
//! the video was deleted, another user's turn came), a deadline past which the work has
//! overrun its budget of time, and a ceiling on the server's resident memory past which media
//! work gives up (the process's, as jobs share it; looked at every few hundred samples). `remux::Source` looks at it before every sample it reads, which is where
//! every step spends its time (remuxing, decoding audio and video, demuxing Matroska), so work
//! stops within one sample of being asked, whichever step it is in.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Why work was interrupted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Why {
    /// It was asked to stop; what it did so far is kept for later.
    #[error("asked to stop")]
    Stopped,
    /// It ran past its budget of time.
    #[error("it took longer than the {} its budget allows", minutes(*.0))]
    OverTime(Duration),
    /// The server's memory passed the ceiling while it ran.
    #[error("it needed more memory than the server allows ({0} MB)")]
    OverMemory(u64),
}

fn minutes(d: Duration) -> String {
    match d.as_secs() {
        s if s < 120 => format!("{s} s"),
        s => format!("{} min", s / 60),
    }
}

/// A stop flag, an optional deadline and memory ceiling, shared between the work and whoever may
/// stop it.
#[derive(Debug, Clone)]
pub struct Interrupt {
    stopped: Arc<AtomicBool>,
    deadline: Option<(Instant, Duration)>,
    /// Resident memory ceiling in MB, and how many checks are left before memory is read again.
    memory: Option<(u64, Arc<AtomicU32>)>,
    /// Work kept for good so far (a rung's finished GOPs, on disk): whoever may ask the work to
    /// give way waits for some, so a job stopped and resumed always moves on.
    kept: Arc<AtomicU64>,
}

/// Checks between two readings of the process's memory.
const MEMORY_EVERY: u32 = 256;

impl Default for Interrupt {
    fn default() -> Self {
        Interrupt::never()
    }
}

impl Interrupt {
    /// Never raised (the probe, tools, tests).
    pub fn never() -> Interrupt {
        Interrupt {
            stopped: Arc::new(AtomicBool::new(false)),
            deadline: None,
            memory: None,
            kept: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Also raised once the process's resident memory passes `mb` megabytes.
    pub fn with_memory_ceiling(mut self, mb: u64) -> Interrupt {
        self.memory = Some((mb, Arc::new(AtomicU32::new(0))));
        self
    }

    /// Raised by `stop`, or once `budget` has passed from now.
    pub fn with_budget(budget: Duration) -> Interrupt {
        Interrupt {
            deadline: Some((Instant::now() + budget, budget)),
            ..Interrupt::never()
        }
    }

    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
    }

    /// Some work was kept for good (a checkpoint written).
    pub fn note_kept(&self) {
        self.kept.fetch_add(1, Ordering::Relaxed);
    }

    /// How many times work was kept for good since this interrupt was made.
    pub fn kept(&self) -> u64 {
        self.kept.load(Ordering::Relaxed)
    }

    /// `Err` once the work must stop.
    pub fn check(&self) -> Result<(), Why> {
        if self.stopped.load(Ordering::Relaxed) {
            return Err(Why::Stopped);
        }
        if let Some((at, budget)) = self.deadline
            && Instant::now() > at
        {
            return Err(Why::OverTime(budget));
        }
        if let Some((ceiling, countdown)) = &self.memory
            && countdown.fetch_sub(1, Ordering::Relaxed) == 0
        {
            countdown.store(MEMORY_EVERY, Ordering::Relaxed);
            if resident_mb().is_some_and(|mb| mb > *ceiling) {
                return Err(Why::OverMemory(*ceiling));
            }
        }
        Ok(())
    }
}

/// This process's resident memory, from `/proc/self/status`.
fn resident_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_when_asked_or_past_its_budget() {
        let i = Interrupt::with_budget(Duration::from_millis(30));
        assert_eq!(i.check(), Ok(()));
        std::thread::sleep(Duration::from_millis(40));
        assert!(matches!(i.check(), Err(Why::OverTime(_))));
        let j = Interrupt::never();
        let shared = j.clone();
        shared.stop();
        assert_eq!(j.check(), Err(Why::Stopped));
        assert!(
            Why::OverTime(Duration::from_secs(600))
                .to_string()
                .contains("10 min")
        );
    }

    #[test]
    fn a_memory_ceiling_below_what_the_process_holds_raises_it() {
        let low = Interrupt::never().with_memory_ceiling(0);
        assert_eq!(low.check(), Err(Why::OverMemory(0)));
        let high = Interrupt::never().with_memory_ceiling(1 << 30);
        for _ in 0..1000 {
            assert_eq!(high.check(), Ok(()));
        }
    }
}
