//! Search routes, as PeerTube's: `GET /api/v1/search/videos` (full text with every list filter
//! plus duration and date bounds, `host`, `searchTarget` and relevance order), the
//! `/search/video-channels` search, and Vireo's `/search/suggestions` for search-as-you-type.
//! A search term that is the URL of a video or channel of this instance, or a channel handle,
//! finds that video or channel, as in PeerTube; remote ones will resolve once federation lands.

use std::collections::HashSet;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::error::{ApiError, ApiResult};
use super::extract::{MaybeAuth, Params, blocking};
use super::pagination::{ListResponse, Page};
use super::videos::{self, ListQuery};
use crate::app::AppState;
use crate::model::parse_iso8601;
use crate::model::user::User;
use crate::model::video::{Video, parse_short_uuid};
use crate::search::Highlight;
use crate::service::search::{Found, Order};
use crate::service::{Core, channels};
use crate::store::Tx;

/// Most suggestions returned for search-as-you-type.
const MAX_SUGGESTIONS: usize = 10;

/// The search-only filters: duration and date bounds, `host` and `searchTarget`.
fn search_filters(core: &Core, p: &Params, q: &mut ListQuery) -> ApiResult<()> {
    let seconds = |name: &str| -> ApiResult<Option<u64>> {
        match p.get(name) {
            None | Some("") => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                ApiError::invalid_param("query", name, format!("Should have a valid {name}"))
            }),
        }
    };
    let date = |name: &str| -> ApiResult<Option<i64>> {
        match p.get(name) {
            None | Some("") => Ok(None),
            Some(v) => parse_iso8601(v).map(Some).ok_or_else(|| {
                ApiError::invalid_param("query", name, format!("Should have a valid {name}"))
            }),
        }
    };
    let f = &mut q.filter;
    f.duration_min = seconds("durationMin")?;
    f.duration_max = seconds("durationMax")?;
    f.published_from_ms = date("startDate")?;
    f.published_until_ms = date("endDate")?;
    f.originally_published_from_ms = date("originallyPublishedStartDate")?;
    f.originally_published_until_ms = date("originallyPublishedEndDate")?;
    search_target(p)?;
    match p.get("host").filter(|h| !h.is_empty()) {
        None => {}
        Some(h) if h.eq_ignore_ascii_case(&core.config().public_host()) => f.is_local = Some(true),
        // Vireo knows no remote videos until federation lands, so another host has none.
        Some(_) => q.nothing = true,
    }
    Ok(())
}

/// `searchTarget`: `local` or `search-index`. No external search index is configured
/// (`/api/v1/config` says so), so both search this instance, as PeerTube does then.
fn search_target(p: &Params) -> ApiResult<()> {
    match p.get("searchTarget") {
        None | Some("" | "local" | "search-index") => Ok(()),
        Some(_) => Err(ApiError::invalid_param(
            "query",
            "searchTarget",
            "Should have a valid search target",
        )),
    }
}

/// `-match` (or no sort) orders by relevance; anything else by that column.
fn order(p: &Params, q: &ListQuery) -> Order {
    match p.get("sort") {
        None | Some("" | "match" | "-match") => Order::Relevance,
        Some(_) => Order::By(q.sort.0, q.sort.1),
    }
}

/// The path of a URL of this instance, if `text` is one.
fn local_path(core: &Core, text: &str) -> Option<String> {
    let url = url::Url::parse(text.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let authority = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str()?),
        None => url.host_str()?.to_owned(),
    };
    authority
        .eq_ignore_ascii_case(&core.config().public_host())
        .then(|| url.path().to_owned())
}

/// The video a local watch, short or embed URL names.
fn video_at(tx: &impl Tx, path: &str) -> ApiResult<Option<Video>> {
    let id = ["/w/", "/videos/watch/", "/videos/embed/", "/api/v1/videos/"]
        .iter()
        .find_map(|prefix| path.strip_prefix(prefix))
        .map(|rest| rest.trim_end_matches('/'));
    let Some(id) = id.filter(|id| id.len() == 36 || parse_short_uuid(id).is_some()) else {
        return Ok(None);
    };
    Ok(crate::service::videos::find(tx, id)?)
}

/// The search words as typed, taken out of the list filter, whose copy is lowercased (that
/// would break a short UUID in a URL) and means substring matching, not full-text search.
fn take_search_text(q: &mut ListQuery, params: &Params) -> String {
    q.filter.name_contains = None;
    params.get("search").unwrap_or_default().to_owned()
}

/// A page of video search results, before rendering.
pub(crate) struct Results {
    pub query: ListQuery,
    pub total: usize,
    pub videos: Vec<Video>,
    /// The index's answer (for highlights); `None` when no full-text search ran.
    pub found: Option<Found>,
}

/// Run a video search as `/search/videos` takes it: a local video URL finds that video, empty
/// words list by the filters alone, anything else goes to the index. Call it off the runtime.
pub(crate) fn run_videos(
    core: &Core,
    params: &Params,
    viewer: Option<&User>,
) -> ApiResult<Results> {
    let mut q = videos::list_query(core, params, viewer)?;
    search_filters(core, params, &mut q)?;
    let order = order(params, &q);
    let text = take_search_text(&mut q, params);
    let results = |query, total, videos, found| Results {
        query,
        total,
        videos,
        found,
    };
    if q.nothing {
        return Ok(results(q, 0, Vec::new(), None));
    }
    if let Some(path) = local_path(core, &text) {
        let tx = core.store.read()?;
        let found = video_at(&tx, &path)?;
        drop(tx);
        let rows = core.catalog.snapshot();
        let visible: Vec<Video> = found
            .into_iter()
            .filter(|v| rows.get(v.id).is_some_and(|r| q.filter.matches(r)))
            .collect();
        return Ok(results(q, visible.len(), visible, None));
    }
    if text.trim().is_empty() {
        let (total, list) = videos::page_of(core, &q)?;
        return Ok(results(q, total, list, None));
    }
    let found =
        crate::service::search::search(core, &text, &q.filter, order, q.page.start, q.page.count)?;
    let list = load(core, &found)?;
    Ok(results(q, found.total, list, Some(found)))
}

/// `GET /api/v1/search/videos`.
pub async fn videos(
    State(state): State<AppState>,
    MaybeAuth(viewer): MaybeAuth,
    params: Params,
) -> ApiResult<Response> {
    let core = state.core.clone();
    let body = blocking(move || {
        let r = run_videos(&core, &params, viewer.as_ref())?;
        videos::render_videos(&core, &r.query, r.total, &r.videos, r.found.as_ref())
    })
    .await?;
    Ok(videos::json_response(body))
}

/// The videos of a page of results, in order (any deleted meanwhile left out).
fn load(core: &Core, found: &Found) -> ApiResult<Vec<Video>> {
    let tx = core.store.read()?;
    let mut list = Vec::with_capacity(found.ids.len());
    for id in &found.ids {
        if let Some(v) = crate::service::videos::get(&tx, *id)? {
            list.push(v);
        }
    }
    Ok(list)
}

/// One search-as-you-type suggestion: a video title, highlighted.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Suggestion {
    uuid: String,
    short_uuid: String,
    name: String,
    highlight: Highlight,
}

/// `GET /api/v1/search/suggestions?search=…[&count=]`: the titles of the best visible matches
/// for what has been typed so far (the last word as a prefix), for a search box's drop-down.
/// Built from visible videos only, so a private title's words never show.
pub async fn suggestions(
    State(state): State<AppState>,
    MaybeAuth(viewer): MaybeAuth,
    params: Params,
) -> ApiResult<Response> {
    let core = state.core.clone();
    let mut q = videos::list_query(&core, &params, viewer.as_ref())?;
    let text = take_search_text(&mut q, &params);
    let count = q.page.count.min(MAX_SUGGESTIONS);
    let data = blocking(move || {
        if text.trim().is_empty() || q.nothing {
            return Ok(Vec::new());
        }
        let found =
            crate::service::search::search(&core, &text, &q.filter, Order::Relevance, 0, count)?;
        let list = load(&core, &found)?;
        Ok::<_, ApiError>(
            list.into_iter()
                .map(|v| Suggestion {
                    uuid: v.uuid.to_string(),
                    short_uuid: crate::model::video::short_uuid(&v.uuid),
                    highlight: found.highlighter.video(&v.name, "", v.language.as_deref()),
                    name: v.name,
                })
                .collect(),
        )
    })
    .await?;
    Ok(axum::Json(ListResponse::new(data.len(), data)).into_response())
}

/// `GET /api/v1/search/video-channels`: channels whose name or display name contains the
/// words, or the channel a local handle (`name`, `name@host`, `@name@host`) or URL
/// (`/c/name`, `/video-channels/name`) names; `handles` narrows to those handles.
pub async fn channels(State(state): State<AppState>, params: Params) -> ApiResult<Response> {
    let core = state.core.clone();
    search_target(&params)?;
    let page = Page::parse(&params)?;
    let sort = super::channels::parse_channel_sort(&params)?;
    let host = core.config().public_host();
    if params
        .get("host")
        .is_some_and(|h| !h.is_empty() && !h.eq_ignore_ascii_case(&host))
    {
        return Ok(axum::Json(ListResponse::<()>::new(0, Vec::new())).into_response());
    }
    let handles: Option<Vec<String>> = params.strings("handles");
    let text = params.get("search").unwrap_or_default().trim().to_owned();
    let body = blocking(move || {
        let tx = core.store.read()?;
        let named = if let Some(path) = local_path(&core, &text) {
            ["/c/", "/video-channels/"]
                .iter()
                .find_map(|p| path.strip_prefix(p))
                .map(|rest| rest.split('/').next().unwrap_or(rest).to_owned())
        } else if text.contains('@') && !text.contains(char::is_whitespace) {
            Some(text.trim_start_matches('@').to_owned())
        } else {
            None
        };
        let (total, mut found) = match named {
            Some(handle) => {
                let one: Vec<_> = channels::by_handle(&tx, &handle, &host)?
                    .into_iter()
                    .collect();
                (one.len(), one)
            }
            None => {
                let words = (!text.is_empty()).then_some(text.as_str());
                match &handles {
                    // Narrowing by handles needs the whole match list before paging.
                    Some(_) => channels::list(&tx, None, words, sort, 0, usize::MAX)?,
                    None => channels::list(&tx, None, words, sort, page.start, page.count)?,
                }
            }
        };
        let mut total = total;
        if let Some(handles) = &handles {
            let wanted: HashSet<&str> = handles
                .iter()
                .filter_map(|h| channels::local_name(h.trim_start_matches('@'), &host))
                .collect();
            found.retain(|c| wanted.contains(c.name.as_str()));
            total = found.len();
            found = found
                .into_iter()
                .skip(page.start)
                .take(page.count)
                .collect();
        }
        let data = super::channels::render_channels(&core, &tx, &found)?;
        Ok::<_, ApiError>(axum::Json(ListResponse::new(total, data)).into_response())
    })
    .await?;
    Ok(body)
}
