//! Login throttling against password guessing: failures are counted per client address and per
//! username in a sliding window; past the limit, attempts are refused before any password check.
//!
//! Kept in memory on purpose: the window is minutes long, and a restart resetting it gives an
//! attacker nothing a restart would not anyway.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct LoginThrottle {
    max_failures: u32,
    window: Duration,
    state: Mutex<HashMap<Key, Vec<Instant>>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Ip(IpAddr),
    User(String),
}

impl LoginThrottle {
    pub fn new(max_failures: u32, window: Duration) -> Self {
        LoginThrottle {
            max_failures,
            window,
            state: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(wait)` when this address or username must wait before trying again.
    pub fn check(&self, ip: IpAddr, username: &str) -> Option<Duration> {
        let now = Instant::now();
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        [Key::Ip(ip), Key::User(username.to_lowercase())]
            .into_iter()
            .filter_map(|k| {
                let failures = state.get_mut(&k)?;
                failures.retain(|t| now.duration_since(*t) < self.window);
                if failures.len() >= self.max_failures as usize {
                    let oldest = failures.first()?;
                    Some(self.window.saturating_sub(now.duration_since(*oldest)))
                } else {
                    None
                }
            })
            .max()
    }

    pub fn record_failure(&self, ip: IpAddr, username: &str) {
        let now = Instant::now();
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        // Bound memory under a flood of distinct usernames: forget expired entries first.
        if state.len() > 100_000 {
            state.retain(|_, v| {
                v.last()
                    .is_some_and(|t| now.duration_since(*t) < self.window)
            });
        }
        for k in [Key::Ip(ip), Key::User(username.to_lowercase())] {
            state.entry(k).or_default().push(now);
        }
    }

    /// A successful login clears the username's failures (not the address's).
    pub fn record_success(&self, username: &str) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.remove(&Key::User(username.to_lowercase()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_limit_per_user_and_per_address() {
        let t = LoginThrottle::new(3, Duration::from_secs(60));
        let a: IpAddr = [127, 0, 0, 1].into();
        let b: IpAddr = [127, 0, 0, 2].into();
        for _ in 0..3 {
            assert!(t.check(a, "Root").is_none());
            t.record_failure(a, "root");
        }
        assert!(t.check(a, "someone").is_some(), "address locked");
        assert!(t.check(b, "ROOT").is_some(), "username locked");
        assert!(t.check(b, "other").is_none());
        t.record_success("root");
        assert!(t.check(b, "root").is_none());
    }
}
