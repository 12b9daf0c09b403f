//! Throttling of password guessing: every password check is counted as a failure *before* the
//! hash runs (and taken back when it succeeds), so parallel requests see each other at once, in
//! sliding windows of three kinds:
//!
//! - per account and client address: the lockout (`auth.login_max_failures`);
//! - per account, from every address (`auth.login_max_failures_per_account`): past this ceiling
//!   only addresses that logged in to that account recently may still try, so a distributed
//!   attack cannot go on guessing, nor lock the owner out of where they usually log in;
//! - per address, whatever the account (`auth.login_max_failures_per_address`): one address
//!   cannot spray guesses over many accounts.
//!
//! An account is one bucket whatever name it is reached by (username or e-mail); names of no
//! account get buckets of their own, so the throttle does not reveal which names exist.
//! Registrations are counted per address in a bucket of their own.
//!
//! Kept in memory on purpose: the windows are minutes long, and a restart resetting them gives an
//! attacker nothing a restart would not anyway (it does forget the recent addresses, so after a
//! restart during an attack on an account its owner may wait a window).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::address::AddressKey;

/// Who a password check is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subject {
    /// An existing user, by id.
    User(u64),
    /// A login name that matches no user (lowercased).
    Unknown(String),
}

/// The limits, per window.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub window: Duration,
    pub per_account_address: usize,
    pub per_account: usize,
    pub per_address: usize,
    pub signups_per_address: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Bucket {
    AccountAddress(Subject, AddressKey),
    Account(Subject),
    Address(AddressKey),
    Signup(AddressKey),
}

/// How long an address stays "recent" for an account after a successful login there.
const RECENT_LOGIN: Duration = Duration::from_secs(30 * 24 * 3600);
/// Addresses remembered per account.
const RECENT_PER_ACCOUNT: usize = 16;
/// Past this many buckets, expired ones are dropped before adding more (a flood of names).
const MAX_BUCKETS: usize = 100_000;

#[derive(Debug)]
pub struct Throttle {
    limits: Limits,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    failures: HashMap<Bucket, VecDeque<Instant>>,
    recent: HashMap<u64, Vec<(AddressKey, Instant)>>,
}

/// A password check in progress, already counted as a failure; `succeeded` takes it back.
#[derive(Debug)]
#[must_use = "an attempt stays counted as a failure unless it succeeded"]
pub struct Attempt {
    subject: Subject,
    address: AddressKey,
}

impl State {
    /// Failures in `bucket` within the window, and when the oldest of them leaves it.
    fn count(&mut self, bucket: &Bucket, now: Instant, window: Duration) -> (usize, Duration) {
        let Some(times) = self.failures.get_mut(bucket) else {
            return (0, Duration::ZERO);
        };
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            times.pop_front();
        }
        let wait = times.front().map_or(Duration::ZERO, |t| {
            window.saturating_sub(now.duration_since(*t))
        });
        (times.len(), wait)
    }

    fn push(&mut self, bucket: Bucket, now: Instant, window: Duration) {
        if self.failures.len() > MAX_BUCKETS {
            self.failures
                .retain(|_, v| v.back().is_some_and(|t| now.duration_since(*t) < window));
        }
        self.failures.entry(bucket).or_default().push_back(now);
    }

    /// Take back the newest failure of `bucket`.
    fn pop(&mut self, bucket: &Bucket) {
        if let Some(times) = self.failures.get_mut(bucket) {
            times.pop_back();
            if times.is_empty() {
                self.failures.remove(bucket);
            }
        }
    }

    fn is_recent(&self, subject: &Subject, address: AddressKey, now: Instant) -> bool {
        let Subject::User(id) = subject else {
            return false;
        };
        self.recent.get(id).is_some_and(|seen| {
            seen.iter()
                .any(|(a, t)| *a == address && now.duration_since(*t) < RECENT_LOGIN)
        })
    }
}

impl Throttle {
    pub fn new(limits: Limits) -> Self {
        Throttle {
            limits,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Count a password check of `subject` from `ip` as a failure before it runs; `Err(wait)`
    /// when a limit is reached (nothing is counted then).
    pub fn begin(&self, subject: Subject, ip: IpAddr) -> Result<Attempt, Duration> {
        let now = Instant::now();
        let window = self.limits.window;
        let address = AddressKey::of(ip);
        let mut state = self.lock();
        let pair = Bucket::AccountAddress(subject.clone(), address);
        let account = Bucket::Account(subject.clone());
        let from = Bucket::Address(address);
        let mut wait = None;
        for (bucket, limit) in [
            (&pair, self.limits.per_account_address),
            (&from, self.limits.per_address),
        ] {
            let (n, until) = state.count(bucket, now, window);
            if n >= limit {
                wait = Some(wait.unwrap_or(Duration::ZERO).max(until));
            }
        }
        let (n, until) = state.count(&account, now, window);
        if n >= self.limits.per_account && !state.is_recent(&subject, address, now) {
            wait = Some(wait.unwrap_or(Duration::ZERO).max(until));
        }
        if let Some(wait) = wait {
            return Err(wait.max(Duration::from_secs(1)));
        }
        state.push(pair, now, window);
        state.push(account, now, window);
        state.push(from, now, window);
        Ok(Attempt { subject, address })
    }

    /// The check succeeded: it is not a failure, the account's failures from this address are
    /// forgotten, and the address is recent for the account.
    pub fn succeeded(&self, attempt: Attempt) {
        let now = Instant::now();
        let mut state = self.lock();
        let Attempt { subject, address } = attempt;
        state
            .failures
            .remove(&Bucket::AccountAddress(subject.clone(), address));
        state.pop(&Bucket::Account(subject.clone()));
        state.pop(&Bucket::Address(address));
        if let Subject::User(id) = subject {
            let seen = state.recent.entry(id).or_default();
            seen.retain(|(a, t)| *a != address && now.duration_since(*t) < RECENT_LOGIN);
            if seen.len() >= RECENT_PER_ACCOUNT {
                seen.remove(0);
            }
            seen.push((address, now));
        }
    }

    /// The check did not run after all (the server was too busy to hash): take it back.
    pub fn abandon(&self, attempt: Attempt) {
        let mut state = self.lock();
        let Attempt { subject, address } = attempt;
        state.pop(&Bucket::AccountAddress(subject.clone(), address));
        state.pop(&Bucket::Account(subject));
        state.pop(&Bucket::Address(address));
    }

    /// Count a registration from `ip` before its password is hashed; `Err(wait)` past the limit.
    pub fn begin_signup(&self, ip: IpAddr) -> Result<(), Duration> {
        let now = Instant::now();
        let bucket = Bucket::Signup(AddressKey::of(ip));
        let mut state = self.lock();
        let (n, until) = state.count(&bucket, now, self.limits.window);
        if n >= self.limits.signups_per_address {
            return Err(until.max(Duration::from_secs(1)));
        }
        state.push(bucket, now, self.limits.window);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> Throttle {
        Throttle::new(Limits {
            window: Duration::from_secs(60),
            per_account_address: 3,
            per_account: 5,
            per_address: 8,
            signups_per_address: 2,
        })
    }

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    /// Checks are counted before they run: a burst gets exactly the limit through.
    #[test]
    fn a_burst_is_cut_at_the_limit_before_any_check_runs() {
        let t = throttle();
        let admitted: Vec<_> = (0..100)
            .filter_map(|_| t.begin(Subject::User(1), ip(1)).ok())
            .collect();
        assert_eq!(admitted.len(), 3);
        let wait = t.begin(Subject::User(1), ip(1)).unwrap_err();
        assert!(wait > Duration::from_secs(50) && wait <= Duration::from_secs(60));
    }

    /// The lockout is per account and address: the owner elsewhere may still log in, until the
    /// account's ceiling; past it only addresses it logged in from recently may try.
    #[test]
    fn the_owner_is_not_locked_out_from_a_recent_address() {
        let t = throttle();
        let ok = t.begin(Subject::User(1), ip(9)).unwrap();
        t.succeeded(ok);
        for _ in 0..3 {
            let _ = t.begin(Subject::User(1), ip(1)).unwrap();
        }
        assert!(
            t.begin(Subject::User(1), ip(1)).is_err(),
            "locked at its address"
        );
        for _ in 0..2 {
            let _ = t.begin(Subject::User(1), ip(2)).unwrap();
        }
        // Five failures: the account's ceiling.
        assert!(t.begin(Subject::User(1), ip(2)).is_err());
        assert!(
            t.begin(Subject::User(1), ip(3)).is_err(),
            "a new address waits"
        );
        let owner = t
            .begin(Subject::User(1), ip(9))
            .expect("a recent address may try");
        t.succeeded(owner);
        assert!(t.begin(Subject::User(2), ip(3)).is_ok(), "other accounts");
    }

    /// One address cannot spray guesses over many accounts, known or not.
    #[test]
    fn one_address_is_limited_over_all_accounts() {
        let t = throttle();
        for n in 0..8 {
            let _ = t
                .begin(Subject::Unknown(format!("name{n}")), ip(1))
                .unwrap();
        }
        assert!(t.begin(Subject::Unknown("other".into()), ip(1)).is_err());
        assert!(t.begin(Subject::User(7), ip(1)).is_err());
        assert!(t.begin(Subject::User(7), ip(2)).is_ok());
    }

    /// A success is not a failure and clears the lockout of that account and address.
    #[test]
    fn success_takes_the_attempt_back() {
        let t = throttle();
        for _ in 0..2 {
            let _ = t.begin(Subject::User(1), ip(1)).unwrap();
        }
        let ok = t.begin(Subject::User(1), ip(1)).unwrap();
        t.succeeded(ok);
        for _ in 0..3 {
            let _ = t.begin(Subject::User(1), ip(1)).unwrap();
        }
        assert!(t.begin(Subject::User(1), ip(1)).is_err());
    }

    #[test]
    fn signups_are_counted_per_address() {
        let t = throttle();
        assert!(t.begin_signup(ip(1)).is_ok());
        assert!(t.begin_signup(ip(1)).is_ok());
        assert!(t.begin_signup(ip(1)).is_err());
        assert!(t.begin_signup(ip(2)).is_ok());
    }
}
