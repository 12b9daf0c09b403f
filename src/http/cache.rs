//! A cache of rendered list responses for anonymous visitors.
//!
//! Why: the public video lists (home page, channel and account pages) are the most requested
//! routes, identical for every anonymous visitor, and rendering one means filtering the catalogue,
//! loading 15 records and serialising ~25 KB of JSON. A rendered body is kept per request URI and
//! served while the store's commit generation is unchanged; any commit makes every entry stale, so
//! a cached answer is never older than the last write. Logged-in users are never served from it
//! (their lists depend on their NSFW policy and rights).

use std::collections::HashMap;
use std::sync::RwLock;

use axum::body::Bytes;

#[derive(Debug)]
pub struct ListCache {
    capacity: usize,
    entries: RwLock<HashMap<String, (u64, Bytes)>>,
}

impl ListCache {
    /// A cache of at most `capacity` responses; 0 disables it.
    pub fn new(capacity: usize) -> ListCache {
        ListCache {
            capacity,
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// The body cached for `key`, if it was rendered at `generation`.
    pub fn get(&self, key: &str, generation: u64) -> Option<Bytes> {
        if self.capacity == 0 {
            return None;
        }
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        match entries.get(key) {
            Some((g, body)) if *g == generation => Some(body.clone()),
            _ => None,
        }
    }

    /// Keep `body`, rendered from the store at `generation`.
    pub fn put(&self, key: &str, generation: u64, body: Bytes) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= self.capacity && !entries.contains_key(key) {
            // Stale entries go first; if all are current, start over (bounded memory, and the
            // hot keys come back on their next request).
            entries.retain(|_, (g, _)| *g == generation);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key.to_owned(), (generation, body));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_with_the_generation_and_stay_bounded() {
        let c = ListCache::new(2);
        c.put("/a", 1, Bytes::from_static(b"a"));
        assert_eq!(c.get("/a", 1).as_deref(), Some(&b"a"[..]));
        assert_eq!(c.get("/a", 2), None, "a commit makes it stale");
        c.put("/b", 2, Bytes::from_static(b"b"));
        c.put("/c", 2, Bytes::from_static(b"c"));
        assert_eq!(c.get("/a", 2), None);
        assert!(c.get("/b", 2).is_some() && c.get("/c", 2).is_some());
        assert_eq!(c.entries.read().unwrap().len(), 2);
        let off = ListCache::new(0);
        off.put("/a", 1, Bytes::from_static(b"a"));
        assert_eq!(off.get("/a", 1), None);
    }
}
