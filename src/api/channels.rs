//! Channels and accounts: `/video-channels`, `/accounts` and the video lists under each.

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::pagination::ListResponse;
use super::videos::list_scoped;
use super::views::{self, Ctx};
use crate::http::AppState;
use crate::http::error::ApiResult;
use crate::http::extract::{ApiJson, Auth, MaybeAuth, Params, blocking};
use crate::http::query;
use crate::model::account::ActorRef;
use crate::model::channel::Channel;
use crate::service::channels::{self, ChannelSort, ChannelUpdate, NewChannel};
use crate::service::{Core, actors, follows, manage};

const CHANNEL_SORTS: &[(&str, ChannelSort)] = &[
    ("id", ChannelSort::Id),
    ("name", ChannelSort::Name),
    ("createdAt", ChannelSort::CreatedAt),
    ("updatedAt", ChannelSort::UpdatedAt),
];

pub(super) fn render_channels(core: &Core, list: &[Channel]) -> ApiResult<Vec<views::ChannelJson>> {
    let ctx = Ctx::new(&core.config());
    let owners = channels::owners(core, list)?;
    Ok(list
        .iter()
        .zip(&owners)
        .map(|(c, owner)| views::channel(&ctx, c, Some(owner)))
        .collect())
}

/// The sort keys of a channel search (PeerTube's own list for it). Channels are found by their
/// words without a score, so `match` keeps the list's own order, newest first.
const CHANNEL_SEARCH_SORTS: &[(&str, ChannelSort)] = &[
    ("match", ChannelSort::CreatedAt),
    ("displayName", ChannelSort::DisplayName),
    ("createdAt", ChannelSort::CreatedAt),
];

/// The `sort` of channel lists, newest first by default.
pub(super) fn parse_channel_sort(params: &Params) -> ApiResult<(ChannelSort, bool)> {
    query::sort(params, CHANNEL_SORTS, (ChannelSort::CreatedAt, true))
}

/// The `sort` of a channel search, newest first by default.
pub(super) fn parse_channel_search_sort(params: &Params) -> ApiResult<(ChannelSort, bool)> {
    query::sort(params, CHANNEL_SEARCH_SORTS, (ChannelSort::CreatedAt, true))
}

fn list_channels(core: &Core, params: &Params, account: Option<u64>) -> ApiResult<Response> {
    let page = query::page(params)?;
    let sort = parse_channel_sort(params)?;
    let search = params.get("search").filter(|s| !s.is_empty());
    let (total, found) = channels::list(core, account, search, sort, page)?;
    let data = render_channels(core, &found)?;
    Ok(axum::Json(ListResponse::new(total, data)).into_response())
}

pub async fn list(State(state): State<AppState>, params: Params) -> ApiResult<Response> {
    list_channels(&state.core, &params, None)
}

pub async fn get(State(state): State<AppState>, Path(handle): Path<String>) -> ApiResult<Response> {
    let core = &state.core;
    let c = actors::channel_by_handle(core, &handle)?;
    let owner = actors::account_by_id(core, c.account_id)?;
    let mut json = views::channel(&Ctx::new(&core.config()), &c, Some(&owner));
    // Followers are known for local actors only (a remote actor's live on its server).
    if c.host.is_none() {
        json.followers_count = follows::count(core, ActorRef::Channel(c.id))?;
    }
    if owner.host.is_none()
        && let Some(a) = json.owner_account.as_mut()
    {
        a.followers_count = follows::count(core, ActorRef::Account(owner.id))?;
    }
    Ok(axum::Json(json).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateChannelBody {
    name: String,
    display_name: String,
    /// PeerTube takes `null` for "none" here.
    #[serde(default, deserialize_with = "crate::http::strict::null_as_absent")]
    description: Option<String>,
    #[serde(default, deserialize_with = "crate::http::strict::null_as_absent")]
    support: Option<String>,
}

pub async fn create(
    State(state): State<AppState>,
    Auth(me): Auth,
    ApiJson(body): ApiJson<CreateChannelBody>,
) -> ApiResult<Response> {
    // A name taken by any actor, one's own account included, is a conflict (`service::actors`).
    let core = state.core.clone();
    let channel = blocking(move || {
        let new = NewChannel {
            name: body.name,
            display_name: body.display_name,
            description: body.description,
            support: body.support,
        };
        Ok(channels::create(&core, me.account_id, new)?)
    })
    .await?;
    Ok(axum::Json(json!({"videoChannel": {"id": channel.id}})).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateChannelBody {
    display_name: Option<String>,
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    description: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    support: Option<Option<String>>,
    bulk_videos_support_update: Option<bool>,
}

pub async fn update(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(handle): Path<String>,
    ApiJson(body): ApiJson<UpdateChannelBody>,
) -> ApiResult<Response> {
    let core = state.core.clone();
    blocking(move || {
        let up = ChannelUpdate {
            display_name: body.display_name,
            description: body.description,
            support: body.support,
            bulk_videos_support: body.bulk_videos_support_update.unwrap_or(false),
        };
        Ok(manage::update_channel(&core, &me, &handle, up)?)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(handle): Path<String>,
) -> ApiResult<Response> {
    let core = state.core.clone();
    blocking(move || Ok(manage::delete_channel(&core, &me, &handle)?)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn channel_videos(
    State(state): State<AppState>,
    MaybeAuth(viewer): MaybeAuth,
    Path(handle): Path<String>,
    uri: Uri,
    params: Params,
) -> ApiResult<Response> {
    let core = &state.core;
    let c = actors::channel_by_handle(core, &handle)?;
    list_scoped(&state, &uri, &params, viewer.as_ref(), |f| {
        f.channel_id = Some(c.id)
    })
}

pub async fn account(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    let core = &state.core;
    let a = actors::account_by_handle(core, &name)?;
    let mut json = views::account(&Ctx::new(&core.config()), &a);
    if a.host.is_none() {
        json.followers_count = follows::count(core, ActorRef::Account(a.id))?;
    }
    Ok(axum::Json(json).into_response())
}

pub async fn account_channels(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
) -> ApiResult<Response> {
    let core = &state.core;
    // PeerTube adds daily view statistics with it; Vireo keeps no per-day views yet, so the
    // parameter is checked and the list comes without them.
    params.bool("withStats")?;
    let a = actors::account_by_handle(core, &name)?;
    list_channels(core, &params, Some(a.id))
}

pub async fn account_videos(
    State(state): State<AppState>,
    MaybeAuth(viewer): MaybeAuth,
    Path(name): Path<String>,
    uri: Uri,
    params: Params,
) -> ApiResult<Response> {
    let core = &state.core;
    let a = actors::account_by_handle(core, &name)?;
    list_scoped(&state, &uri, &params, viewer.as_ref(), |f| {
        f.account_id = Some(a.id)
    })
}

pub async fn accounts(State(state): State<AppState>, params: Params) -> ApiResult<Response> {
    let core = &state.core;
    let page = query::page(&params)?;
    let (_, descending) = query::sort(&params, &[("createdAt", ())], ((), false))?;
    let mut all = actors::all_accounts(core)?;
    if descending {
        all.reverse();
    }
    let ctx = Ctx::new(&core.config());
    let total = all.len();
    let data = all
        .iter()
        .skip(page.start)
        .take(page.count)
        .map(|a| views::account(&ctx, a))
        .collect();
    Ok(axum::Json(ListResponse::new(total, data)).into_response())
}
