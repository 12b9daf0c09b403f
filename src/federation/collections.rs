//! The collections of local actors, in PeerTube's paging (`activityPubCollectionPagination`):
//! the root gives `totalItems` and `first`; `?page=N` (from 1) gives ten items, with `next` and
//! `prev`. Followers are the remote actors that follow (`service::follows`); local actors follow
//! nobody yet, so `following` is empty until instance follows exist. Outboxes hold one activity
//! per federated video (`outbox`).

use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::activity_response;
use super::actors::actor_id;
use super::videos as fed_videos;
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::blocking;
use crate::model::video::Privacy;
use crate::service::actors::{self, Local};
use crate::service::catalog::{Filter, SortKey};
use crate::service::follows;
use crate::service::urls::Urls;
use crate::service::videos;

const PAGE_SIZE: usize = 10;
/// Pages past this are refused: no collection is that long, and a crawler asking is lost.
const MAX_PAGE: u64 = 100_000;

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    page: Option<u64>,
}

/// `GET /accounts/{name}/{followers|following|outbox}`.
pub async fn account_collection(
    state: State<AppState>,
    Path((name, which)): Path<(String, String)>,
    q: Query<PageQuery>,
) -> ApiResult<Response> {
    collection_of(state, name, false, &which, q).await
}

/// `GET /video-channels/{name}/{followers|following|outbox}`.
pub async fn channel_collection(
    state: State<AppState>,
    Path((name, which)): Path<(String, String)>,
    q: Query<PageQuery>,
) -> ApiResult<Response> {
    collection_of(state, name, true, &which, q).await
}

async fn collection_of(
    state: State<AppState>,
    name: String,
    channel: bool,
    which: &str,
    q: Query<PageQuery>,
) -> ApiResult<Response> {
    match which {
        "followers" => followers(state, name, channel, q).await,
        "following" => following(state, name, channel, q).await,
        "outbox" => outbox(state, name, channel, q).await,
        _ => Err(ApiError::not_found("Collection")),
    }
}

async fn followers(
    State(state): State<AppState>,
    name: String,
    channel: bool,
    Query(q): Query<PageQuery>,
) -> ApiResult<Response> {
    let page = checked_page(q.page)?;
    let core = state.core.clone();
    let (id, total, items) = blocking(move || {
        let local = local(&core, &name, channel)?;
        let (total, items) =
            follows::followers(&core, local.actor_ref(), first_item(page), PAGE_SIZE)?;
        let id = format!("{}/followers", actor_id(&Urls::new(&core.config()), &local));
        Ok((id, total, items))
    })
    .await?;
    Ok(activity_response(&collection(&id, total, page, items)))
}

async fn following(
    State(state): State<AppState>,
    name: String,
    channel: bool,
    Query(q): Query<PageQuery>,
) -> ApiResult<Response> {
    let page = checked_page(q.page)?;
    let core = state.core.clone();
    let id = blocking(move || {
        let local = local(&core, &name, channel)?;
        Ok(format!(
            "{}/following",
            actor_id(&Urls::new(&core.config()), &local)
        ))
    })
    .await?;
    Ok(activity_response(&collection(
        &id,
        0,
        page,
        Vec::<String>::new(),
    )))
}

/// The index of the first item of `page` (1-based; the root starts at 0).
fn first_item(page: Option<u64>) -> usize {
    page.map_or(0, |p| usize::try_from(p - 1).unwrap_or(usize::MAX))
        .saturating_mul(PAGE_SIZE)
}

fn checked_page(page: Option<u64>) -> ApiResult<Option<u64>> {
    match page {
        Some(p) if p == 0 || p > MAX_PAGE => Err(ApiError::invalid_param(
            "query",
            "page",
            format!("Should be 1 to {MAX_PAGE}"),
        )),
        other => Ok(other),
    }
}

fn local(core: &crate::service::Core, name: &str, channel: bool) -> ApiResult<Local> {
    match actors::local_by_handle(core, name)? {
        Some(l @ Local::Channel(_)) if channel => Ok(l),
        Some(l @ (Local::Account(_) | Local::Instance(_))) if !channel => Ok(l),
        _ => Err(ApiError::not_found("Actor")),
    }
}

/// The root of a collection, or one of its pages.
fn collection(id: &str, total: u64, page: Option<u64>, items: Vec<impl serde::Serialize>) -> Value {
    let context = "https://www.w3.org/ns/activitystreams";
    let Some(page) = page else {
        let mut root = json!({
            "@context": context,
            "id": id,
            "type": "OrderedCollection",
            "totalItems": total,
        });
        if total > 0 {
            root["first"] = json!(format!("{id}?page=1"));
        }
        return root;
    };
    let mut doc = json!({
        "@context": context,
        "id": format!("{id}?page={page}"),
        "type": "OrderedCollectionPage",
        "partOf": id,
        "totalItems": total,
        "orderedItems": items,
    });
    if page > 1 {
        doc["prev"] = json!(format!("{id}?page={}", page - 1));
    }
    if total > page.saturating_mul(PAGE_SIZE as u64) {
        doc["next"] = json!(format!("{id}?page={}", page + 1));
    }
    doc
}

/// An actor's outbox, as PeerTube crawls it after a follow is accepted: one activity per
/// federated video, newest first: an account's `Create`s (the full video), a channel's and the
/// instance's `Announce`s.
async fn outbox(
    State(state): State<AppState>,
    name: String,
    channel: bool,
    Query(q): Query<PageQuery>,
) -> ApiResult<Response> {
    let page = checked_page(q.page)?;
    let core = state.core.clone();
    let (id, total, items) = blocking(move || {
        let local = local(&core, &name, channel)?;
        let urls = Urls::new(&core.config());
        let actor = actor_id(&urls, &local);
        let filter = Filter {
            account_id: match &local {
                Local::Account(a) => Some(a.id),
                _ => None,
            },
            channel_id: match &local {
                Local::Channel(c) => Some(c.id),
                _ => None,
            },
            is_local: Some(true),
            privacy_one_of: Some(vec![Privacy::Public, Privacy::Unlisted]),
            listable_only: true,
            ..Filter::default()
        };
        // The root gives only the total.
        let count = if page.is_some() { PAGE_SIZE } else { 0 };
        let (total, found) = videos::list(
            &core,
            &filter,
            SortKey::PublishedAt,
            true,
            first_item(page),
            count,
        )?;
        let mut items = Vec::with_capacity(found.len());
        for v in found {
            let Some(loaded) = fed_videos::find(&core, &v.uuid.to_string())? else {
                continue;
            };
            items.push(match &local {
                Local::Account(_) => fed_videos::create(&urls, &loaded),
                Local::Channel(_) => fed_videos::announce(&urls, &loaded),
                Local::Instance(_) => fed_videos::instance_announce(&urls, &loaded, &actor),
            });
        }
        Ok((
            format!("{actor}/outbox"),
            u64::try_from(total).unwrap_or(0),
            items,
        ))
    })
    .await?;
    Ok(activity_response(&collection(&id, total, page, items)))
}
