//! How each remote host Vireo delivers to is doing (`DELIVERY_HOSTS`): a host whose deliveries
//! keep failing rests, then is marked dead, so that one server being down does not cost a
//! timeout per queued activity, nor a retry schedule per activity for days.
//!
//! - **Resting.** After `REST_AFTER` failures in a row, the host's queued deliveries wait until
//!   its rest ends (the same backoff as one delivery: the first retry delay, doubling to 12 h);
//!   those due then probe it. One success ends it all.
//! - **Dead.** A host still failing `federation.delivery_give_up_hours` after its first failure
//!   is dead: what is queued for it is dropped and nothing new is queued, until an activity
//!   from it arrives (it is back), which forgets its failures.

use redb::{ReadableTable, WriteTransaction};

use super::backoff::{Backoff, retry_delay_ms};
use super::{Core, Result};
use crate::model::federation::HostHealth;
use crate::store::{Tx, codec, tables};

/// Failures in a row after which a host rests.
pub const REST_AFTER: u32 = 3;

/// What to do with a delivery due now, given its host's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Send,
    /// The host rests: try again then.
    WaitUntil(i64),
    /// The host is dead: drop it.
    Drop,
}

/// The host (and port, when not the default) an inbox URL names.
pub fn host_of(inbox: &str) -> Option<String> {
    crate::model::federation::inbox_host(inbox)
}

/// The verdict for a host in state `health` at `now_ms`.
pub fn verdict(health: Option<&HostHealth>, now_ms: i64) -> Verdict {
    match health {
        Some(h) if h.dead => Verdict::Drop,
        Some(h) if h.resting_until_ms > now_ms => Verdict::WaitUntil(h.resting_until_ms),
        _ => Verdict::Send,
    }
}

/// `health` after one more failure at `now_ms`.
pub fn after_failure(health: Option<HostHealth>, now_ms: i64, backoff: Backoff) -> HostHealth {
    let mut h = health.unwrap_or(HostHealth {
        failures: 0,
        failing_since_ms: now_ms,
        resting_until_ms: 0,
        dead: false,
    });
    h.failures = h.failures.saturating_add(1);
    if h.failures >= REST_AFTER {
        let rests = h.failures - REST_AFTER + 1;
        h.resting_until_ms = now_ms + retry_delay_ms(backoff.first_retry_ms, rests);
    }
    if now_ms.saturating_sub(h.failing_since_ms) >= backoff.give_up_after_ms {
        h.dead = true;
    }
    h
}

/// The health of `host`, if it has failed lately.
pub fn health(tx: &impl Tx, host: &str) -> Result<Option<HostHealth>> {
    let t = tx.table(tables::DELIVERY_HOSTS)?;
    let v = t.get(host)?;
    Ok(match v {
        Some(v) => Some(codec::decode(v.value())?),
        None => None,
    })
}

/// A delivery to `host` failed (in a way worth retrying): its health after it.
pub fn failed(
    tx: &WriteTransaction,
    host: &str,
    now_ms: i64,
    backoff: Backoff,
) -> Result<HostHealth> {
    let h = after_failure(health(tx, host)?, now_ms, backoff);
    tx.open_table(tables::DELIVERY_HOSTS)?
        .insert(host, codec::encode(&h).as_slice())?;
    if h.dead {
        tracing::warn!(
            host,
            "deliveries to this host have failed for too long: marked dead"
        );
    }
    Ok(h)
}

/// A delivery to `host` arrived: it is well.
pub fn delivered(tx: &WriteTransaction, host: &str) -> Result<()> {
    tx.open_table(tables::DELIVERY_HOSTS)?.remove(host)?;
    Ok(())
}

/// An activity from `host` was accepted: it is back, whatever it was. Writes only when the
/// host had failed, so the inbox's usual path stays read-only here.
pub fn heard_from(core: &Core, host: &str) -> Result<()> {
    let host = host.to_ascii_lowercase();
    if health(&core.store.read()?, &host)?.is_none() {
        return Ok(());
    }
    core.store.write(|tx| delivered(tx, &host))?;
    tracing::info!(host, "heard from a failing host: deliveries resume");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BACKOFF: Backoff = Backoff {
        first_retry_ms: 30_000,
        give_up_after_ms: 7 * 24 * 3600 * 1000,
    };

    #[test]
    fn a_failing_host_rests_after_three_failures_then_dies_after_the_give_up_time() {
        let t0 = 1_000_000;
        let one = after_failure(None, t0, BACKOFF);
        assert_eq!(verdict(Some(&one), t0), Verdict::Send);
        let two = after_failure(Some(one), t0 + 10, BACKOFF);
        assert_eq!(verdict(Some(&two), t0 + 10), Verdict::Send);
        let three = after_failure(Some(two), t0 + 20, BACKOFF);
        assert_eq!(three.resting_until_ms, t0 + 20 + 30_000);
        assert_eq!(
            verdict(Some(&three), t0 + 21),
            Verdict::WaitUntil(t0 + 20 + 30_000)
        );
        // The probe after the rest is sent; failing again, the rest doubles.
        assert_eq!(verdict(Some(&three), t0 + 30_020), Verdict::Send);
        let four = after_failure(Some(three), t0 + 30_020, BACKOFF);
        assert_eq!(four.resting_until_ms, t0 + 30_020 + 60_000);
        assert!(!four.dead);
        let later = t0 + BACKOFF.give_up_after_ms;
        let dead = after_failure(Some(four), later, BACKOFF);
        assert!(dead.dead);
        assert_eq!(verdict(Some(&dead), later + 1), Verdict::Drop);
        assert_eq!(verdict(None, later), Verdict::Send);
    }

    #[test]
    fn hosts_are_named_with_their_port() {
        assert_eq!(
            host_of("https://PT.example/inbox").as_deref(),
            Some("pt.example")
        );
        assert_eq!(
            host_of("http://127.0.0.1:9000/inbox").as_deref(),
            Some("127.0.0.1:9000")
        );
        assert_eq!(host_of("not a url"), None);
    }
}
