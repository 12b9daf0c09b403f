//! How retries are spaced, shared by the deliveries, the hosts they go to, and the federation
//! chores: a first delay, doubling after each failure, at most 12 hours apart.

const LONGEST_RETRY_MS: i64 = 12 * 3600 * 1000;

/// How retries are spaced and when they stop.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub first_retry_ms: i64,
    pub give_up_after_ms: i64,
}

/// `first_ms` after the first failure, doubling, at most 12 h.
pub fn retry_delay_ms(first_ms: i64, attempts: u32) -> i64 {
    let doublings = attempts.saturating_sub(1).min(20);
    first_ms
        .saturating_mul(1_i64 << doublings)
        .min(LONGEST_RETRY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_twelve_hours() {
        assert_eq!(retry_delay_ms(30_000, 1), 30_000);
        assert_eq!(retry_delay_ms(30_000, 2), 60_000);
        assert_eq!(retry_delay_ms(30_000, 5), 480_000);
        assert_eq!(retry_delay_ms(30_000, 12), LONGEST_RETRY_MS);
        assert_eq!(retry_delay_ms(30_000, u32::MAX), LONGEST_RETRY_MS);
    }
}
