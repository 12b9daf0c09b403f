//! Search routes, as PeerTube's: `GET /api/v1/search/videos` (full text with every list filter
//! plus duration and date bounds, `host`, `searchTarget` and relevance order), the
//! `/search/video-channels` search, and Vireo's `/search/suggestions` for search-as-you-type.
//! What a term finds (a local URL or handle, the index) is `service::finder`'s.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::pagination::ListResponse;
use super::videos;
use crate::http::AppState;
use crate::http::error::ApiResult;
use crate::http::extract::{MaybeAuth, Params, blocking};
use crate::http::query;
use crate::service::finder;
use crate::service::search::Highlight;

/// Most suggestions returned for search-as-you-type.
const MAX_SUGGESTIONS: usize = 10;

/// `GET /api/v1/search/videos`.
pub async fn videos(
    State(state): State<AppState>,
    MaybeAuth(viewer): MaybeAuth,
    params: Params,
) -> ApiResult<Response> {
    let core = state.core.clone();
    let body = blocking(move || {
        let s = query::video_search(&core, &params, viewer.as_ref())?;
        let r = finder::videos(&core, &s.query, &s.text, s.order)?;
        videos::render_videos(&core, &s.query, r.total, &r.videos, r.found.as_ref())
    })
    .await?;
    Ok(videos::json_response(body))
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
    let mut q = query::video_query(&core, &params, viewer.as_ref())?;
    let text = query::take_search_text(&mut q, &params);
    let count = q.page.count.min(MAX_SUGGESTIONS);
    let data = blocking(move || {
        let (list, found) = finder::suggestions(&core, &q, &text, count)?;
        let Some(found) = found else {
            return Ok(Vec::new());
        };
        Ok(list
            .into_iter()
            .map(|v| Suggestion {
                uuid: v.uuid.to_string(),
                short_uuid: crate::model::video::short_uuid(&v.uuid),
                highlight: found.highlighter.video(&v.name, "", v.language.as_deref()),
                name: v.name,
            })
            .collect())
    })
    .await?;
    Ok(axum::Json(ListResponse::new(data.len(), data)).into_response())
}

/// `GET /api/v1/search/video-channels`: channels whose name or display name contains the
/// words, or the channel a local handle (`name`, `name@host`, `@name@host`) or URL
/// (`/c/name`, `/video-channels/name`) names; `handles` narrows to those handles.
pub async fn channels(State(state): State<AppState>, params: Params) -> ApiResult<Response> {
    let core = state.core.clone();
    query::search_target(&params)?;
    let page = query::page(&params)?;
    let sort = super::channels::parse_channel_search_sort(&params)?;
    let host = core.config().public_host();
    if params
        .get("host")
        .is_some_and(|h| !h.is_empty() && !h.eq_ignore_ascii_case(&host))
    {
        return Ok(axum::Json(ListResponse::<()>::new(0, Vec::new())).into_response());
    }
    let handles: Option<Vec<String>> = params.strings("handles");
    let text = params.get("search").unwrap_or_default().trim().to_owned();
    blocking(move || {
        let (total, found) = finder::channels(&core, &text, handles.as_deref(), sort, page)?;
        let data = super::channels::render_channels(&core, &found)?;
        Ok(axum::Json(ListResponse::new(total, data)).into_response())
    })
    .await
}
