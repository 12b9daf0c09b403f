//! "Follow from your server" (`GET /remote-follow?actor=…&account=…`): a visitor of a local
//! channel or account page names its own account (`name@server`); Vireo asks that server by
//! WebFinger where its users follow remote actors (the subscribe template, as Mastodon and
//! PeerTube publish it) and sends the browser there with the actor's URL. When it cannot, the
//! visitor goes back to the page with a `follow_error` code the page explains.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::resolve::{self, ResolveError};
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::blocking;
use crate::http::hosts;
use crate::service::actors::{self, Local};
use crate::service::blocklist;
use crate::service::urls::{self, Urls};

#[derive(Debug, Deserialize)]
pub struct RemoteFollowQuery {
    actor: Option<String>,
    account: Option<String>,
}

pub async fn remote_follow(
    State(state): State<AppState>,
    Query(q): Query<RemoteFollowQuery>,
) -> ApiResult<Response> {
    let name = q.actor.unwrap_or_default();
    let core = state.core.clone();
    let lookup = name.clone();
    let local = blocking(move || Ok(actors::local_by_handle(&core, &lookup)?))
        .await?
        .ok_or_else(|| ApiError::not_found("Actor"))?;
    let (page, actor_path) = match &local {
        Local::Channel(c) => (urls::channel_page(&c.name), urls::channel_actor(&c.name)),
        Local::Account(a) => (urls::account_page(&a.name), urls::account_actor(&a.name)),
        Local::Instance(_) => return Err(ApiError::not_found("Actor")),
    };
    let back = |code: &str| Redirect::to(&format!("{page}?follow_error={code}")).into_response();
    let account = q.account.unwrap_or_default();
    let Some((user, host)) = hosts::handle(account.trim()) else {
        return Ok(back("handle"));
    };
    let core = state.core.clone();
    let checked = host.clone();
    if blocking(move || Ok(blocklist::is_host_blocked(&core, &checked)?)).await? {
        return Ok(back("blocked"));
    }
    let config = state.core.config();
    let actor = Urls::new(&config).absolute(&actor_path);
    match resolve::remote_follow_url(&config, &host, &user, &actor).await {
        Ok(url) => Ok(Redirect::to(url.as_str()).into_response()),
        Err(e) => {
            tracing::info!(account = %account, error = %e, "remote follow not offered");
            Ok(back(match e {
                ResolveError::NoRemoteFollow(_) | ResolveError::NoActor(_) => "none",
                ResolveError::BadHost(_) => "handle",
                ResolveError::Fetch(_) => "unreachable",
            }))
        }
    }
}
