//! The inboxes (`POST /inbox`, shared, and each actor's `…/inbox`): where other servers deliver
//! activities. Every activity must come signed by its own actor (`signatures`), checked before
//! anything of it is read further; what it asks is then done through `service/`.
//!
//! Answers: 202 when accepted (or understood and ignored: an unknown type, an Undo of nothing),
//! 401 when the signature is missing, wrong, stale, or not the actor's, 403 for a replayed
//! activity (and for every activity while `federation.enabled` is off, or from an actor or a
//! server the instance blocks), 400 for what is not an
//! activity, 404 for a follow of nobody here, 413 over `federation.max_activity_bytes`. Nothing
//! is stored unless everything holds.

use std::sync::Arc;
use std::time::SystemTime;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::activity::{self, ActivityError, Incoming, Undone};
use super::actors::actor_id;
use super::client::FetchError;
use super::fetcher::{self, ActorError};
use super::signatures::{self, Params, SignatureError, SignedRequest};
use super::videos;
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::blocking;
use crate::model::federation::RemoteActor;
use crate::model::now_ms;
use crate::service::actors;
use crate::service::keys::PublicKey;
use crate::service::urls::Urls;
use crate::service::{
    Core, blocklist, delivery_hosts, following, follows, rates, remote_videos, seen,
};

/// `POST /inbox`, `/accounts/{name}/inbox`, `/video-channels/{name}/inbox`: one processing for
/// all, since an activity names its own target.
pub async fn receive(State(state): State<AppState>, req: Request) -> ApiResult<Response> {
    let core = state.core.clone();
    if !core.config().federation.enabled {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "federation_disabled",
            "This instance does not federate",
        ));
    }
    let limit = core.config().federation.max_activity_bytes;
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, limit).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("An activity may be at most {limit} bytes"),
        )
    })?;
    let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let incoming = SignedRequest {
        method: &parts.method,
        target,
        headers: &parts.headers,
        body: &body,
    };
    let params = signatures::check(incoming, SystemTime::now()).map_err(refused)?;
    let json: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("The body is not JSON: {e}")))?;
    let activity = activity::read(&json).map_err(|e| match e {
        ActivityError::UndoByOther => ApiError::forbidden(e.to_string()),
        other => ApiError::bad_request(other.to_string()),
    })?;
    if activity.actor != params.key_owner() {
        return Err(unauthorized(
            "The signer and the actor of the activity do not match",
        ));
    }
    // A blocked server is turned away before its key is fetched: nothing is asked of it.
    if let Some(host) = url::Url::parse(&activity.actor)
        .ok()
        .and_then(|u| signatures::host_header(&u))
    {
        refuse_blocked(&core, activity.actor.clone(), host).await?;
    }
    let actor = match verified_signer(&core, incoming, &params).await {
        Ok(actor) => actor,
        // An actor announcing its own deletion is gone by the time its Delete arrives: there is
        // no key left to check, and nothing of it to act on. Refusing would make its server
        // retry for days (Mastodon sends these to every server it ever talked to).
        Err(Refusal::Gone) if is_self_delete(&json, &activity.actor) => {
            return Ok(StatusCode::ACCEPTED.into_response());
        }
        Err(e) => return Err(e.into()),
    };
    refuse_blocked(&core, actor.id.clone(), actor.host.clone()).await?;
    if let Some(id) = &activity.id
        && !signatures::is_on_host(id, &actor.host)
    {
        return Err(ApiError::bad_request(
            "The activity's id is on another server than its actor",
        ));
    }
    act(&core, activity.what, actor).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

/// 403 when the instance blocked `actor` or its server (`host`).
async fn refuse_blocked(core: &Arc<Core>, actor: String, host: String) -> ApiResult<()> {
    let core = core.clone();
    let blocked = blocking(move || Ok(blocklist::is_actor_blocked(&core, &actor, &host)?)).await?;
    match blocked {
        true => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "blocked",
            "This instance blocks the actor or its server",
        )),
        false => Ok(()),
    }
}

/// Why the signer could not be verified.
enum Refusal {
    /// Its actor document is gone (404 or 410).
    Gone,
    Other(ApiError),
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> ApiError {
        match r {
            Refusal::Gone => unauthorized("The signer's actor is gone"),
            Refusal::Other(e) => e,
        }
    }
}

/// The signer, fetched (or cached), whose key verifies the request. A cached key that does not
/// verify is fetched again once: the actor may have changed its key.
async fn verified_signer(
    core: &Arc<Core>,
    req: SignedRequest<'_>,
    params: &Params,
) -> Result<RemoteActor, Refusal> {
    let mut refresh = false;
    loop {
        let actor = fetcher::key_owner(core, &params.key_id, refresh)
            .await
            .map_err(|e| match e {
                ActorError::Service(s) => Refusal::Other(ApiError::from(s)),
                ActorError::Fetch(FetchError::Status { status, .. })
                    if status == StatusCode::GONE || status == StatusCode::NOT_FOUND =>
                {
                    Refusal::Gone
                }
                other => Refusal::Other(unauthorized(&format!(
                    "The signer's key cannot be used: {other}"
                ))),
            })?;
        let key = PublicKey::from_pem(&actor.public_key_pem)
            .map_err(|e| Refusal::Other(unauthorized(&e.to_string())))?;
        match signatures::verify(req, params, &key) {
            Ok(()) => return Ok(actor),
            Err(e) if refresh => return Err(Refusal::Other(refused(e))),
            Err(_) => refresh = true,
        }
    }
}

/// A `Delete` whose object is its own actor.
fn is_self_delete(json: &Value, actor: &str) -> bool {
    json["type"] == "Delete" && activity::id_of(&json["object"]) == Some(actor)
}

fn refused(e: SignatureError) -> ApiError {
    unauthorized(&e.to_string())
}

fn unauthorized(detail: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "invalid_signature", detail)
}

/// Do what a verified activity asks.
async fn act(core: &Arc<Core>, what: Incoming, actor: RemoteActor) -> ApiResult<()> {
    let core = core.clone();
    blocking(move || {
        let now = now_ms();
        // A host that speaks is up: deliveries to it resume if they were resting.
        delivery_hosts::heard_from(&core, &actor.host)?;
        match what {
            Incoming::Follow { id, object } => follow(&core, &id, &object, &actor, now),
            Incoming::Undo { id, undone } => undo(&core, &id, undone, &actor, now),
            Incoming::Answer {
                id,
                follow,
                accepted,
            } => answered(&core, &id, follow.as_deref(), accepted, &actor, now),
            Incoming::Rate { id, object, kind } => {
                let video = local_video(&core, &object)?;
                rates::rate(&core, video, &actor.id, kind, &id, now)?;
                Ok(())
            }
            Incoming::View { id, object } => {
                let video = local_video(&core, &object)?;
                seen::remember_now(&core, &id, now)?;
                core.views.add_remote(video);
                Ok(())
            }
            Incoming::Share { id, object } => {
                let queued = match signatures::is_on_host(&object, &actor.host) {
                    true => remote_videos::shared(&core, &id, &object, &actor.id, now)?,
                    // A server speaks for its own videos only.
                    false => false,
                };
                tracing::debug!(video = %object, by = %actor.id, queued, "video shared");
                Ok(())
            }
            Incoming::Changed { id, object } => {
                let queued = remote_videos::changed(&core, &id, &object, &actor.id, now)?;
                tracing::debug!(video = %object, by = %actor.id, queued, "video changed");
                Ok(())
            }
            Incoming::Deleted { object, .. } => {
                let removed = remote_videos::remove(&core, &object, &actor.id)?;
                tracing::debug!(object = %object, by = %actor.id, removed, "object deleted");
                Ok(())
            }
            // Understood later (comments, reports); accepted and ignored meanwhile, as
            // PeerTube drops what it does not handle.
            Incoming::Ignored { kind } => {
                tracing::debug!(kind, actor = %actor.id, "activity ignored");
                Ok(())
            }
        }
    })
    .await
}

/// A remote actor follows a local account, channel or the instance: accepted at once (the
/// `Accept` queued to its inbox), or held for an administrator's approval.
fn follow(
    core: &Core,
    follow_id: &str,
    object: &str,
    actor: &RemoteActor,
    now: i64,
) -> ApiResult<()> {
    let local = actors::local_by_url(core, object)?.ok_or_else(|| ApiError::not_found("Actor"))?;
    let me = actor_id(&Urls::new(&core.config()), &local);
    let accept = super::chores::answer(&me, &actor.id, follow_id, true).to_string();
    let state = follows::receive(core, local.actor_ref(), actor, follow_id, &accept, now)?;
    tracing::info!(follower = %actor.id, following = %object, state = state.as_str(), "follow received");
    Ok(())
}

/// The answer to a follow the instance sent: the follow is settled when the signer is the
/// actor followed (nothing happens otherwise: an answer to nothing of ours).
fn answered(
    core: &Core,
    id: &str,
    follow: Option<&str>,
    accepted: bool,
    actor: &RemoteActor,
    now: i64,
) -> ApiResult<()> {
    let settled = following::answered(core, &actor.id, follow, accepted, id, now)?;
    tracing::info!(target = %actor.id, accepted, settled = settled.is_some(), "follow answered");
    Ok(())
}

/// An `Undo`: of a `Follow`, the follow ends; of a `Like` or `Dislike`, the rate is taken back;
/// of anything else, nothing.
fn undo(
    core: &Core,
    undo_id: &str,
    undone: Undone,
    actor: &RemoteActor,
    now: i64,
) -> ApiResult<()> {
    match undone {
        Undone::Follow { id, object } => {
            let following = match object {
                Some(url) => actors::local_by_url(core, &url)?.map(|l| l.actor_ref()),
                None => None,
            };
            let removed = follows::undo(core, &actor.id, id.as_deref(), following, undo_id, now)?;
            tracing::info!(follower = %actor.id, removed, "follow undone");
        }
        Undone::Rate { id, object, kind } => {
            let video = match object {
                Some(url) => videos::find_by_url(core, &url)?.map(|l| l.owned.video.id),
                None => None,
            };
            let undone = rates::Undone {
                activity_id: id.as_deref(),
                video_id: video,
                kind,
            };
            let removed = rates::unrate(core, &actor.id, undone, undo_id, now)?;
            tracing::info!(actor = %actor.id, removed, "rate undone");
        }
        Undone::Other => {}
    }
    Ok(())
}

/// The id of the federated local video at `url`, or 404.
fn local_video(core: &Core, url: &str) -> ApiResult<u64> {
    videos::find_by_url(core, url)?
        .map(|l| l.owned.video.id)
        .ok_or_else(|| ApiError::not_found("Video"))
}
