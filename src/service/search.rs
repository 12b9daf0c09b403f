//! Keeping the search index in step with the store, and asking it: the text of a video as
//! indexed (its owners' names included), the `IndexVideos` job, full rebuilds, and queries whose
//! results are narrowed by the catalogue's visibility rules and filters.

use std::sync::Arc;

use super::catalog::Filter;
use super::{Core, Result, ServiceError, channels, videos};
use crate::model::account::Account;
use crate::model::video::Video;
use crate::search::{IndexedVideo, SearchError};
use crate::store::{Tx, records, tables};

/// Most hits taken from the index before filters; deeper pages of a very common word stop here.
pub const MAX_HITS: usize = 1000;

impl From<SearchError> for ServiceError {
    fn from(e: SearchError) -> Self {
        match e {
            SearchError::Indexing => ServiceError::Unavailable(e.to_string()),
            other => ServiceError::Internal(other.to_string()),
        }
    }
}

/// The indexed text of a video.
fn indexed(tx: &impl Tx, v: &Video) -> Result<IndexedVideo> {
    let mut owners = Vec::new();
    if let Some(c) = channels::get(tx, v.channel_id)? {
        owners.push(c.name.clone());
        owners.push(c.display_name.clone());
        if let Some(a) = records::get::<Account>(tx, tables::ACCOUNTS, c.account_id)? {
            owners.push(a.name);
            owners.push(a.display_name);
        }
    }
    Ok(IndexedVideo {
        id: v.id,
        name: v.name.clone(),
        description: v.description.clone().unwrap_or_default(),
        tags: v.tags.clone(),
        owners,
    })
}

/// The `IndexVideos` job: index each video as stored now, or drop it when it is gone, in one
/// index commit.
pub fn index_videos(core: &Core, video_ids: &[u64]) -> Result<()> {
    let tx = core.store.read()?;
    let (mut upserts, mut removed) = (Vec::new(), Vec::new());
    for &id in video_ids {
        match videos::get(&tx, id)? {
            Some(v) => upserts.push(indexed(&tx, &v)?),
            None => removed.push(id),
        }
    }
    drop(tx);
    Ok(core.search.apply(&upserts, &removed)?)
}

/// Index every stored video afresh; `progress` gets the count so far.
pub fn rebuild(core: &Core, progress: impl FnMut(usize)) -> Result<usize> {
    let tx = core.store.read()?;
    let all: Vec<Video> = records::all(&tx, tables::VIDEOS)?;
    let docs = all
        .iter()
        .map(|v| indexed(&tx, v))
        .collect::<Result<Vec<_>>>()?;
    drop(tx);
    Ok(core.search.rebuild(docs.into_iter(), progress)?)
}

/// Rebuild on a thread of its own while the server answers (searches say "indexing").
pub fn rebuild_in_background(core: Arc<Core>) {
    let spawned = std::thread::Builder::new()
        .name("vireo-reindex".into())
        .spawn(move || match rebuild(&core, |_| {}) {
            Ok(n) => tracing::info!(videos = n, "search index rebuilt"),
            Err(e) => tracing::error!(error = %e, "search index rebuild failed"),
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "could not start the search index rebuild");
    }
}

/// Ids of the videos matching `text` that pass `filter`, best first: how many in all (up to
/// `MAX_HITS`), and the page from `start`.
pub fn search(
    core: &Core,
    text: &str,
    filter: &Filter,
    start: usize,
    count: usize,
) -> Result<(usize, Vec<u64>)> {
    let hits: Vec<u64> = core
        .search
        .search(text, MAX_HITS)?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let visible = core.catalog.retain_matching(filter, &hits);
    let page = visible.iter().skip(start).take(count).copied().collect();
    Ok((visible.len(), page))
}
