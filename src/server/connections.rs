//! How many TCP connections the server holds open, in all and per client address, and which one
//! gives way when a cap is reached.
//!
//! hyper closes a connection whose request head does not arrive in time (`header_read_timeout`,
//! also the keep-alive idle time), but until then a connection costs a file descriptor, and an
//! attacker can open them faster than any timeout closes them (slowloris: 20 000 half-sent
//! requests used up the descriptors and the listener stopped accepting). Neither hyper,
//! hyper-util nor tower caps open connections (tower's limits count requests, and an idle
//! connection has none), hence this small registry of our own.
//!
//! When a cap is reached the **oldest connection that has not yet sent a complete request** is
//! closed to make room (the slowloris pattern: honest clients send their request within
//! milliseconds of connecting); only when every connection is serving or has served a request is
//! the new one refused. Either way the listener keeps accepting, so `/livez` and honest visitors
//! still get in while hostile connections are held. Addresses are grouped as an attacker holds
//! them: an IPv4 address, or an IPv6 /64.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::auth::address::{AddressKey, TrustedProxies};

/// The caps; 0 per address means no per-address cap. Trusted reverse proxies have none: every
/// connection through them comes from them.
#[derive(Debug, Clone, PartialEq)]
pub struct Caps {
    pub total: usize,
    pub per_address: usize,
    pub uncapped: TrustedProxies,
}

/// The open connections.
#[derive(Debug)]
pub struct Connections {
    caps: Caps,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    next_id: u64,
    open: HashMap<u64, Entry>,
    per_address: HashMap<AddressKey, PerAddress>,
    /// Connections that have not sent a complete request yet, oldest (smallest id) first.
    fresh: BTreeSet<u64>,
}

#[derive(Debug, Default)]
struct PerAddress {
    open: usize,
    fresh: BTreeSet<u64>,
}

#[derive(Debug)]
struct Entry {
    key: AddressKey,
    close: Option<oneshot::Sender<()>>,
}

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// This address holds its share of connections, all of them busy.
    Address,
    /// The server holds all it may, all of them busy.
    Full,
}

/// An admitted connection: dropping it gives its place back.
#[derive(Debug)]
pub struct Admitted {
    registry: Arc<Connections>,
    id: u64,
    started: AtomicBool,
}

/// Resolves when the registry wants the connection closed to make room for a newer one.
pub type CloseSignal = oneshot::Receiver<()>;

impl Admitted {
    /// The connection has sent a complete request head: it is no longer a candidate for
    /// closing. Cheap after the first call.
    pub fn started(&self) {
        if self.started.swap(true, Ordering::Relaxed) {
            return;
        }
        let mut state = self.registry.lock();
        if let Some(entry) = state.open.get(&self.id) {
            let key = entry.key;
            state.fresh.remove(&self.id);
            if let Some(per) = state.per_address.get_mut(&key) {
                per.fresh.remove(&self.id);
            }
        }
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut state = self.registry.lock();
        state.forget(self.id);
    }
}

impl State {
    /// Remove a connection from every count; false when it was already gone (closed to make
    /// room, then dropped).
    fn forget(&mut self, id: u64) -> bool {
        let Some(entry) = self.open.remove(&id) else {
            return false;
        };
        self.fresh.remove(&id);
        if let Some(per) = self.per_address.get_mut(&entry.key) {
            per.open = per.open.saturating_sub(1);
            per.fresh.remove(&id);
            if per.open == 0 {
                self.per_address.remove(&entry.key);
            }
        }
        true
    }

    /// Close connection `id` (it stops counting at once; its task ends when it sees the signal).
    fn close(&mut self, id: u64) {
        if let Some(sender) = self.open.get_mut(&id).and_then(|e| e.close.take()) {
            let _ = sender.send(());
        }
        self.forget(id);
    }

    fn open_of(&self, key: AddressKey) -> usize {
        self.per_address.get(&key).map_or(0, |p| p.open)
    }
}

impl Connections {
    pub fn new(caps: Caps) -> Arc<Connections> {
        Arc::new(Connections {
            caps,
            state: Mutex::new(State::default()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.lock().open.len()
    }

    /// Admit a new connection from `ip`, closing the oldest one that has sent nothing complete
    /// when a cap is reached, or refuse it when there is none.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<(Admitted, CloseSignal), Refused> {
        let key = AddressKey::of(ip);
        let mut state = self.lock();
        let capped = self.caps.per_address > 0 && !self.caps.uncapped.contains(ip);
        if capped && state.open_of(key) >= self.caps.per_address {
            let oldest = state
                .per_address
                .get(&key)
                .and_then(|p| p.fresh.first().copied());
            match oldest {
                Some(id) => state.close(id),
                None => return Err(Refused::Address),
            }
        }
        if state.open.len() >= self.caps.total {
            match state.fresh.first().copied() {
                Some(id) => state.close(id),
                None => return Err(Refused::Full),
            }
        }
        let id = state.next_id;
        state.next_id += 1;
        let (close, closed) = oneshot::channel();
        state.open.insert(
            id,
            Entry {
                key,
                close: Some(close),
            },
        );
        state.fresh.insert(id);
        let per = state.per_address.entry(key).or_default();
        per.open += 1;
        per.fresh.insert(id);
        drop(state);
        let admitted = Admitted {
            registry: self.clone(),
            id,
            started: AtomicBool::new(false),
        };
        Ok((admitted, closed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    /// Past the per-address cap the oldest silent connection of that address gives way; once
    /// all of them have sent a request, new ones from it are refused, and other addresses are
    /// not affected.
    #[test]
    fn per_address_cap_closes_the_oldest_silent_connection() {
        let c = Connections::new(Caps {
            total: 100,
            per_address: 2,
            uncapped: TrustedProxies::default(),
        });
        let (first, mut first_closed) = c.admit(ip(1)).unwrap();
        let (second, _) = c.admit(ip(1)).unwrap();
        let (third, _) = c.admit(ip(1)).unwrap();
        assert!(first_closed.try_recv().is_ok(), "the oldest was closed");
        assert_eq!(c.open(), 2);
        second.started();
        third.started();
        assert_eq!(c.admit(ip(1)).unwrap_err(), Refused::Address);
        let (other, _) = c.admit(ip(2)).unwrap();
        assert_eq!(c.open(), 3);
        drop(first);
        assert_eq!(c.open(), 3, "a closed connection is not counted twice");
        drop((second, third, other));
        assert_eq!(c.open(), 0);
        assert!(c.lock().per_address.is_empty() && c.lock().fresh.is_empty());
    }

    /// A trusted reverse proxy carries many clients: it has no per-address cap.
    #[test]
    fn trusted_proxies_are_not_capped_per_address() {
        let c = Connections::new(Caps {
            total: 100,
            per_address: 2,
            uncapped: TrustedProxies::parse(&["10.0.0.1".into()]).unwrap(),
        });
        let held: Vec<_> = (0..10).map(|_| c.admit(ip(1)).unwrap()).collect();
        assert_eq!(c.open(), 10);
        let (_a, _) = c.admit(ip(2)).unwrap();
        let (_b, _) = c.admit(ip(2)).unwrap();
        let (_c, mut first_of_three) = c.admit(ip(2)).unwrap();
        assert_eq!(c.open(), 12, "10.0.0.2 stays capped at 2");
        assert!(first_of_three.try_recv().is_err());
        drop(held);
    }

    /// The total cap closes the oldest silent connection of any address, never a busy one.
    #[test]
    fn total_cap_spares_connections_that_sent_a_request() {
        let c = Connections::new(Caps {
            total: 3,
            per_address: 0,
            uncapped: TrustedProxies::default(),
        });
        let (busy, _) = c.admit(ip(1)).unwrap();
        busy.started();
        let (_silent, mut silent_closed) = c.admit(ip(2)).unwrap();
        let (_third, mut third_closed) = c.admit(ip(3)).unwrap();
        let (fourth, _) = c.admit(ip(4)).unwrap();
        assert!(
            silent_closed.try_recv().is_ok(),
            "the oldest silent one gave way"
        );
        assert!(third_closed.try_recv().is_err());
        fourth.started();
        let (fifth, _) = c.admit(ip(5)).unwrap();
        assert!(
            third_closed.try_recv().is_ok(),
            "then the next oldest silent one"
        );
        assert_eq!(c.open(), 3);
        fifth.started();
        assert_eq!(c.admit(ip(6)).unwrap_err(), Refused::Full);
        drop(busy);
        assert!(c.admit(ip(6)).is_ok());
    }
}
