//! Channels and accounts: `/video-channels`, `/accounts` and the video lists under each.

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, Auth, MaybeAuth, Params, blocking};
use super::pagination::{ListResponse, Page, parse_sort};
use super::videos::list_scoped;
use super::views::{self, Ctx};
use crate::app::AppState;
use crate::auth::rights;
use crate::model::account::{Account, ActorRef};
use crate::model::channel::Channel;
use crate::model::user::User;
use crate::service::channels::{self, ChannelSort, ChannelUpdate, NewChannel};
use crate::service::{Core, users};
use crate::store::{Tx, records, tables};

const CHANNEL_SORTS: &[(&str, ChannelSort)] = &[
    ("id", ChannelSort::Id),
    ("name", ChannelSort::Name),
    ("createdAt", ChannelSort::CreatedAt),
    ("updatedAt", ChannelSort::UpdatedAt),
];

pub(crate) fn account_by_id(tx: &impl Tx, id: u64) -> ApiResult<Account> {
    records::get(tx, tables::ACCOUNTS, id)?.ok_or_else(|| ApiError::not_found("Account"))
}

pub(crate) fn channel_by_handle(core: &Core, tx: &impl Tx, handle: &str) -> ApiResult<Channel> {
    channels::by_handle(tx, handle, &core.config().public_host())?
        .ok_or_else(|| ApiError::not_found("Video channel"))
}

/// A local account by name (`name` or `name@host`).
pub(crate) fn account_by_name(core: &Core, tx: &impl Tx, handle: &str) -> ApiResult<Account> {
    let name = channels::local_name(handle, &core.config().public_host())
        .ok_or_else(|| ApiError::not_found("Account"))?;
    match users::resolve_actor(tx, name)? {
        Some(ActorRef::Account(id)) => account_by_id(tx, id),
        _ => Err(ApiError::not_found("Account")),
    }
}

pub(super) fn render_channels(
    core: &Core,
    tx: &impl Tx,
    list: &[Channel],
) -> ApiResult<Vec<views::ChannelJson>> {
    let ctx = Ctx::new(&core.config());
    list.iter()
        .map(|c| {
            let owner = account_by_id(tx, c.account_id)?;
            Ok(views::channel(&ctx, c, Some(&owner)))
        })
        .collect()
}

/// The `sort` of channel lists, newest first by default.
pub(super) fn parse_channel_sort(params: &Params) -> ApiResult<(ChannelSort, bool)> {
    parse_sort(params, CHANNEL_SORTS, (ChannelSort::CreatedAt, true))
}

fn list_channels(core: &Core, params: &Params, account: Option<u64>) -> ApiResult<Response> {
    let page = Page::parse(params)?;
    let sort = parse_channel_sort(params)?;
    let search = params.get("search").filter(|s| !s.is_empty());
    let tx = core.store.read()?;
    let (total, found) = channels::list(&tx, account, search, sort, page.start, page.count)?;
    let data = render_channels(core, &tx, &found)?;
    Ok(axum::Json(ListResponse::new(total, data)).into_response())
}

pub async fn list(State(state): State<AppState>, params: Params) -> ApiResult<Response> {
    list_channels(&state.core, &params, None)
}

pub async fn get(State(state): State<AppState>, Path(handle): Path<String>) -> ApiResult<Response> {
    let core = &state.core;
    let tx = core.store.read()?;
    let c = channel_by_handle(core, &tx, &handle)?;
    let owner = account_by_id(&tx, c.account_id)?;
    Ok(axum::Json(views::channel(&Ctx::new(&core.config()), &c, Some(&owner))).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateChannelBody {
    name: String,
    display_name: String,
    description: Option<String>,
    support: Option<String>,
}

pub async fn create(
    State(state): State<AppState>,
    Auth(me): Auth,
    ApiJson(body): ApiJson<CreateChannelBody>,
) -> ApiResult<Response> {
    if body.name == me.username {
        return Err(ApiError::invalid_param(
            "body",
            "name",
            "Channel name cannot be the same as user username.",
        ));
    }
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

/// The channel, if the caller owns it or may moderate content.
fn owned_channel(core: &Core, me: &User, handle: &str) -> ApiResult<Channel> {
    let tx = core.store.read()?;
    let c = channel_by_handle(core, &tx, handle)?;
    if c.account_id != me.account_id && !rights::can_moderate_content(me) {
        return Err(ApiError::forbidden(
            "Cannot manage a video channel of another user",
        ));
    }
    if c.account_id != me.account_id {
        // A moderator may not touch what an administrator owns.
        let owner = account_by_id(&tx, c.account_id)?;
        if let Some(uid) = owner.user_id
            && let Some(owner_user) = users::get(&tx, uid)?
            && owner_user.role < me.role
        {
            return Err(ApiError::forbidden(
                "Cannot manage a video channel of a user with a higher role",
            ));
        }
    }
    Ok(c)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateChannelBody {
    display_name: Option<String>,
    #[serde(default, deserialize_with = "super::extract::nullable")]
    description: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::extract::nullable")]
    support: Option<Option<String>>,
}

pub async fn update(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(handle): Path<String>,
    ApiJson(body): ApiJson<UpdateChannelBody>,
) -> ApiResult<Response> {
    let c = owned_channel(&state.core, &me, &handle)?;
    let core = state.core.clone();
    blocking(move || {
        let up = ChannelUpdate {
            display_name: body.display_name,
            description: body.description,
            support: body.support,
        };
        Ok(channels::update(&core, c.id, up)?)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(handle): Path<String>,
) -> ApiResult<Response> {
    let c = owned_channel(&state.core, &me, &handle)?;
    let core = state.core.clone();
    blocking(move || Ok(channels::delete(&core, c.id)?)).await?;
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
    let c = channel_by_handle(core, &core.store.read()?, &handle)?;
    list_scoped(&state, &uri, &params, viewer.as_ref(), |f| {
        f.channel_id = Some(c.id)
    })
}

pub async fn account(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    let core = &state.core;
    let a = account_by_name(core, &core.store.read()?, &name)?;
    Ok(axum::Json(views::account(&Ctx::new(&core.config()), &a)).into_response())
}

pub async fn account_channels(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
) -> ApiResult<Response> {
    let core = &state.core;
    let a = account_by_name(core, &core.store.read()?, &name)?;
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
    let a = account_by_name(core, &core.store.read()?, &name)?;
    list_scoped(&state, &uri, &params, viewer.as_ref(), |f| {
        f.account_id = Some(a.id)
    })
}

pub async fn accounts(State(state): State<AppState>, params: Params) -> ApiResult<Response> {
    let core = &state.core;
    let page = Page::parse(&params)?;
    let (_, descending) = parse_sort(&params, &[("createdAt", ())], ((), false))?;
    let tx = core.store.read()?;
    let mut all: Vec<Account> = records::all(&tx, tables::ACCOUNTS)?;
    all.sort_by_key(|a| (a.created_at_ms, a.id));
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
