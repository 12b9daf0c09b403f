//! Keeping the search index in step with the store, and asking it: the text of a video as
//! indexed (its owners' names and its language included), the `IndexVideos` job, full rebuilds,
//! and queries judged by the catalogue — its visibility rules and filters decide what may be
//! shown, and a video's views, likes and age are blended into its text score.

use std::sync::Arc;

use super::catalog::{Filter, Snapshot, SortKey};
use super::{Core, Result, ServiceError, channels, videos};
use crate::model::account::Account;
use crate::model::job::JobKind;
use crate::model::video::Video;
pub use crate::search::Highlight;
use crate::search::{Highlighter, IndexedVideo, Judge, SearchError};
use crate::store::{Tx, records, tables};

/// Deepest result reachable by paging, and most results sorted by a column other than
/// relevance: a search is not a way to list the whole catalogue.
pub const MAX_HITS: usize = 10_000;
/// How much a video's popularity may lift its text score: ×(1 + this × log10(1 + views +
/// 10 × likes)), so 1 000 views weigh ×1.15 and a million ×1.3 — enough to order videos whose
/// text matches alike, too little to lift a description match over a title match (×3).
const POPULARITY_WEIGHT: f32 = 0.05;
/// A new video's score is lifted by up to this factor, halving every `RECENCY_HALF_LIFE_DAYS`.
const RECENCY_WEIGHT: f32 = 0.2;
const RECENCY_HALF_LIFE_DAYS: f32 = 30.0;

impl From<SearchError> for ServiceError {
    fn from(e: SearchError) -> Self {
        match e {
            SearchError::Indexing => ServiceError::Unavailable(e.to_string()),
            other => ServiceError::internal("searching", other),
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
        language: v.language.clone(),
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

/// Drop the index updates still queued, before a rebuild that reads the store afterwards and
/// so includes them (a bulk import's would otherwise index everything a second time).
pub(crate) fn drop_queued_updates(store: &crate::store::Store) -> Result<usize> {
    let dropped = store.write(|tx| {
        Ok::<_, ServiceError>(crate::store::jobs::discard_pending(tx, |k| {
            matches!(k, JobKind::IndexVideos { .. })
        })?)
    })?;
    if dropped > 0 {
        tracing::info!(
            jobs = dropped,
            "queued index updates folded into the rebuild"
        );
    }
    Ok(dropped)
}

/// Index every stored video afresh; `progress` gets the count so far. Index updates still
/// queued are dropped first (`drop_queued_updates`).
pub fn rebuild(core: &Core, progress: impl FnMut(usize)) -> Result<usize> {
    drop_queued_updates(&core.store)?;
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

/// How search results are ordered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Order {
    /// Best match first (text score blended with popularity and recency).
    Relevance,
    /// By a catalogue column, descending when the flag is set.
    By(SortKey, bool),
}

/// A page of search results.
pub struct Found {
    /// Visible matches in all.
    pub total: usize,
    pub ids: Vec<u64>,
    /// Marks the query's words in the results' titles and descriptions.
    pub highlighter: Highlighter,
}

/// The catalogue as a search judge: the filter says what may be shown; views, likes and age
/// weigh in the score.
struct CatalogJudge {
    rows: Snapshot,
    filter: Filter,
    now_ms: i64,
}

impl Judge for CatalogJudge {
    fn visible(&self, id: u64) -> bool {
        self.rows.get(id).is_some_and(|r| self.filter.matches(r))
    }

    fn boost(&self, id: u64) -> f32 {
        let Some(r) = self.rows.get(id) else {
            return 1.0;
        };
        let age_days = (self.now_ms - r.published_at_ms).max(0) as f32 / 86_400_000.0;
        blend(r.views, r.likes, age_days)
    }
}

/// The factor a video's text score is multiplied by for its popularity and its age.
fn blend(views: u64, likes: u64, age_days: f32) -> f32 {
    let interest = views as f32 + 10.0 * likes as f32;
    let popularity = 1.0 + POPULARITY_WEIGHT * (1.0 + interest).log10();
    let recency = 1.0 + RECENCY_WEIGHT * 0.5f32.powf(age_days / RECENCY_HALF_LIFE_DAYS);
    popularity * recency
}

/// The videos matching `text` that pass `filter`, ordered by `order`: how many in all, and the
/// page from `start`.
pub fn search(
    core: &Core,
    text: &str,
    filter: &Filter,
    order: Order,
    start: usize,
    count: usize,
) -> Result<Found> {
    let rows = core.catalog.snapshot();
    let judge = Arc::new(CatalogJudge {
        rows: rows.clone(),
        filter: filter.clone(),
        now_ms: crate::model::now_ms(),
    });
    let limit = match order {
        Order::Relevance => start.saturating_add(count).min(MAX_HITS),
        Order::By(..) => MAX_HITS,
    };
    let hits = core.search.search(text, judge, limit)?;
    let ranked: Vec<u64> = hits.hits.iter().map(|(id, _)| *id).collect();
    let ordered = match order {
        Order::Relevance => ranked,
        Order::By(key, descending) => rows.sort(&ranked, key, descending),
    };
    Ok(Found {
        total: hits.total,
        ids: ordered.into_iter().skip(start).take(count).collect(),
        highlighter: Highlighter::new(&hits.parsed, hits.typos),
    })
}

#[cfg(test)]
mod tests {
    use super::blend;

    /// More views, more likes or a newer video weigh more, but even a hugely popular new video
    /// weighs less than the 3× a title match has over a description match.
    #[test]
    fn popularity_and_recency_order_ties_without_overturning_relevance() {
        assert!(blend(1000, 0, 10.0) > blend(10, 0, 10.0));
        assert!(blend(10, 50, 10.0) > blend(10, 0, 10.0));
        assert!(blend(10, 0, 1.0) > blend(10, 0, 90.0));
        assert!(
            (blend(0, 0, 10_000.0) - 1.0).abs() < 1e-3,
            "an old unseen video is neutral"
        );
        assert!(blend(100_000_000, 10_000_000, 0.0) < 2.0);
    }
}
