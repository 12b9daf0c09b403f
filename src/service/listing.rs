//! A page of videos as a viewer asked for it: the query (filters, order, page), run against
//! the in-memory catalogue, and the channels and accounts to show beside each video. What the
//! query may show is decided by `visibility::reach` before it gets here; the edges parse their
//! own parameters into a `VideoQuery`.

use std::collections::HashMap;

use super::catalog::{Filter, SortKey};
use super::{Core, Result, actors, videos};
use crate::model::account::Account;
use crate::model::channel::Channel;
use crate::model::video::Video;

/// A window of a list: `count` items from `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub start: usize,
    pub count: usize,
}

/// A video list request.
#[derive(Debug, Clone)]
pub struct VideoQuery {
    pub filter: Filter,
    /// Sort key and whether descending.
    pub sort: (SortKey, bool),
    pub page: Page,
    /// The caller does not need the total (PeerTube's `skipCount`).
    pub skip_count: bool,
    /// Nothing can match (`isLive=true`, or a host Vireo holds no videos of).
    pub nothing: bool,
    /// Show each video's state (lists that include unpublished videos).
    pub with_state: bool,
}

/// The total and the requested page of a query.
pub fn page(core: &Core, q: &VideoQuery) -> Result<(usize, Vec<Video>)> {
    if q.nothing {
        return Ok((0, Vec::new()));
    }
    videos::list(
        core,
        &q.filter,
        q.sort.0,
        q.sort.1,
        q.page.start,
        q.page.count,
    )
}

/// The channel and account of each video's channel, each loaded once.
pub fn owners(core: &Core, list: &[Video]) -> Result<HashMap<u64, (Channel, Account)>> {
    let tx = core.store.read()?;
    let mut out = HashMap::new();
    for v in list {
        if let std::collections::hash_map::Entry::Vacant(e) = out.entry(v.channel_id) {
            e.insert(actors::owner_of(&tx, v.channel_id)?);
        }
    }
    Ok(out)
}
