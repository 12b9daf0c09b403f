//! PeerTube's instance follows under `/api/v1/server`: whom the instance follows
//! (`/following`: list, follow hosts or handles, unfollow) and who follows it (`/followers`:
//! list, accept, reject, remove). Listing is public, as on PeerTube; changes are for
//! administrators. A follow is found and sent in the background, so `POST /following` answers
//! 204 at once and the list shows how it went (pending, then accepted or rejected).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::pagination::ListResponse;
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, Auth, Params, blocking};
use crate::http::hosts::{handle, host};
use crate::http::query;
use crate::model::federation::{FollowState, RemoteActor};
use crate::model::iso8601;
use crate::service::follows::{self, Decision, FollowQuery, FollowRow, FollowSort};
use crate::service::urls::{self, Urls};
use crate::service::{Core, actors, following};

/// What the other side of a listed follow is, and which side it is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// The instance follows the listed actor.
    Following,
    /// The listed actor follows the instance.
    Follower,
}

/// `GET /api/v1/server/following`.
pub async fn following_list(State(state): State<AppState>, params: Params) -> ApiResult<Response> {
    let q = list_query(&params, Side::Following)?;
    let core = state.core.clone();
    blocking(move || {
        let (total, rows) = following::page(&core, &q)?;
        list(&core, total, &rows, Side::Following)
    })
    .await
}

/// `GET /api/v1/server/followers`.
pub async fn followers_list(State(state): State<AppState>, params: Params) -> ApiResult<Response> {
    let q = list_query(&params, Side::Follower)?;
    let core = state.core.clone();
    blocking(move || {
        let (total, rows) = follows::instance_followers_page(&core, &q)?;
        list(&core, total, &rows, Side::Follower)
    })
    .await
}

/// `POST /api/v1/server/following`: `{"hosts": [...], "handles": [...]}`, each a string or a
/// list of them.
pub async fn follow(
    State(state): State<AppState>,
    Auth(me): Auth,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    let hosts = strings(body.get("hosts"), "hosts")?
        .into_iter()
        .map(|h| host(&h).ok_or_else(|| invalid("hosts", "Should have an array of unique hosts")))
        .collect::<ApiResult<Vec<String>>>()?;
    let handles = strings(body.get("handles"), "handles")?
        .into_iter()
        .map(|h| handle(&h).ok_or_else(|| invalid("handles", "Should have an array of handles")))
        .collect::<ApiResult<Vec<(String, String)>>>()?;
    let core = state.core.clone();
    blocking(move || {
        let local = core.config().public_host();
        following::request(&core, &me, &hosts, &handles, &local)?;
        Ok(StatusCode::NO_CONTENT.into_response())
    })
    .await
}

/// `DELETE /api/v1/server/following/{hostOrHandle}`: a bare host names its instance actor.
pub async fn unfollow(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(target): Path<String>,
) -> ApiResult<Response> {
    let (name, host) = match handle(&target) {
        Some((name, host)) => (Some(name), host),
        None => (
            None,
            host(&target).ok_or_else(|| {
                invalid(
                    "hostOrHandle",
                    "Should have a valid host or handle to unfollow",
                )
            })?,
        ),
    };
    let core = state.core.clone();
    blocking(move || {
        following::stop(&core, &me, name.as_deref(), &host)?;
        Ok(StatusCode::NO_CONTENT.into_response())
    })
    .await
}

/// `POST /api/v1/server/followers/{handle}/accept`.
pub async fn accept(state: State<AppState>, me: Auth, handle: Path<String>) -> ApiResult<Response> {
    decide(state, me, handle, Decision::Accept).await
}

/// `POST /api/v1/server/followers/{handle}/reject`.
pub async fn reject(state: State<AppState>, me: Auth, handle: Path<String>) -> ApiResult<Response> {
    decide(state, me, handle, Decision::Reject).await
}

/// `DELETE /api/v1/server/followers/{handle}`.
pub async fn remove(state: State<AppState>, me: Auth, handle: Path<String>) -> ApiResult<Response> {
    decide(state, me, handle, Decision::Remove).await
}

async fn decide(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(target): Path<String>,
    decision: Decision,
) -> ApiResult<Response> {
    let (name, host) =
        handle(&target).ok_or_else(|| invalid("handle", "Should have a valid handle"))?;
    let core = state.core.clone();
    blocking(move || {
        follows::decide(&core, &me, &name, &host, decision)?;
        Ok(StatusCode::NO_CONTENT.into_response())
    })
    .await
}

fn invalid(field: &str, message: &str) -> ApiError {
    ApiError::invalid_param("body", field, message)
}

/// A field that PeerTube reads through `toArray`: absent is none, a string is one. At most
/// `following::MAX_TARGETS`, each once.
fn strings(v: Option<&Value>, field: &str) -> ApiResult<Vec<String>> {
    let Some(v) = v else {
        return Ok(Vec::new());
    };
    let all: Vec<String> = match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or_else(|| invalid(field, "Should have an array of strings"))?,
        _ => return Err(invalid(field, "Should have an array of strings")),
    };
    let mut unique = all.clone();
    unique.sort_unstable();
    unique.dedup();
    if unique.len() != all.len() || all.len() > following::MAX_TARGETS {
        return Err(invalid(
            field,
            &format!(
                "Should have at most {} unique entries",
                following::MAX_TARGETS
            ),
        ));
    }
    Ok(all)
}

fn list_query(p: &Params, side: Side) -> ApiResult<FollowQuery> {
    let page = query::page(p)?;
    let sorts: &[(&str, FollowSort)] = match side {
        Side::Following => &[
            ("createdAt", FollowSort::CreatedAt),
            ("state", FollowSort::State),
            // Vireo keeps no redundancies: every follow has the same (none).
            ("redundancyAllowed", FollowSort::CreatedAt),
        ],
        Side::Follower => &[
            ("createdAt", FollowSort::CreatedAt),
            ("state", FollowSort::State),
            // Every follow has PeerTube's base score here.
            ("score", FollowSort::CreatedAt),
        ],
    };
    let sort = query::sort(p, sorts, (FollowSort::CreatedAt, true))?;
    let state = match p.get("state") {
        None => None,
        Some("pending") => Some(FollowState::Pending),
        Some("accepted") => Some(FollowState::Accepted),
        Some("rejected") => Some(FollowState::Rejected),
        Some(_) => {
            return Err(ApiError::invalid_param(
                "query",
                "state",
                "Should have a valid follow state",
            ));
        }
    };
    let actor_type = match p.get("actorType") {
        None => None,
        Some(t @ ("Person" | "Application" | "Group" | "Service" | "Organization")) => {
            Some(t.to_owned())
        }
        Some(_) => {
            return Err(ApiError::invalid_param(
                "query",
                "actorType",
                "Should have a valid actor type",
            ));
        }
    };
    Ok(FollowQuery {
        start: page.start,
        count: page.count,
        sort,
        state,
        actor_type,
        search: p.get("search").filter(|s| !s.is_empty()).map(str::to_owned),
    })
}

/// A list of follows in PeerTube's shape (`ActorFollow`): each side an actor.
fn list(core: &Core, total: u64, rows: &[FollowRow], side: Side) -> ApiResult<Response> {
    let me = instance_json(core)?;
    let data: Vec<Value> = rows
        .iter()
        .map(|row| {
            let other = remote_json(&row.actor);
            let (follower, followed) = match side {
                Side::Following => (me.clone(), other),
                Side::Follower => (other, me.clone()),
            };
            json!({
                "id": row.id,
                "follower": follower,
                "following": followed,
                // PeerTube's base score; Vireo does not score peers by their deliveries.
                "score": 1000,
                "state": row.state.as_str(),
                "createdAt": iso8601(row.created_at_ms),
                "updatedAt": iso8601(row.updated_at_ms),
            })
        })
        .collect();
    Ok(axum::Json(ListResponse::new(
        usize::try_from(total).unwrap_or(usize::MAX),
        data,
    ))
    .into_response())
}

/// The instance actor, as a side of a follow. Local actors have no number in this list of
/// actors; the instance is actor 0.
fn instance_json(core: &Core) -> ApiResult<Value> {
    let config = core.config();
    let name = actors::instance_actor_name(
        &core
            .store
            .read()
            .map_err(crate::service::ServiceError::from)?,
    )?;
    let (followers, _) = follows::followers(core, crate::model::account::ActorRef::Instance, 0, 0)?;
    Ok(actor_json(
        0,
        &Urls::new(&config).absolute(&urls::account_actor(&name)),
        &name,
        &config.public_host(),
        followers,
        following::count(core)?,
        None,
    ))
}

fn remote_json(a: &RemoteActor) -> Value {
    // Remote counts are not fetched: PeerTube shows what the actor's collections said.
    actor_json(
        a.number,
        &a.id,
        &a.preferred_username,
        &a.host,
        0,
        0,
        Some(a.fetched_at_ms),
    )
}

fn actor_json(
    id: u64,
    url: &str,
    name: &str,
    host: &str,
    followers: u64,
    following: u64,
    created_ms: Option<i64>,
) -> Value {
    json!({
        "id": id,
        "url": url,
        "name": name,
        "host": host,
        "avatars": [],
        "banners": [],
        "hostRedundancyAllowed": false,
        "followersCount": followers,
        "followingCount": following,
        "createdAt": created_ms.map(iso8601),
    })
}
