//! The local actors as ActivityPub documents, in PeerTube's shape: the instance `Application`
//! (`/accounts/peertube`), each account's `Person` (`/accounts/{name}`) and each channel's
//! `Group` (`/video-channels/{name}`), with their inboxes, collections, shared inbox and public
//! key. The web pages `/a/{name}` and `/c/{name}` answer the same document to a server that asks
//! for one (`negotiate`); the `id` is always the canonical URL.

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{Value, json};

use super::activity_response;
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::blocking;
use crate::model::account::Account;
use crate::model::channel::Channel;
use crate::model::iso8601;
use crate::model::key::ActorKey;
use crate::service::actors::{self, Local};
use crate::service::keys;
use crate::service::urls::{self, Urls};

/// The `@context` of PeerTube's actors: ActivityStreams, the security vocabulary (public keys)
/// and the extension terms used (`support`, `playlists`, `postingRestrictedToMods`).
pub fn actor_context() -> Value {
    json!([
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/v1",
        {"RsaSignature2017": "https://w3id.org/security#RsaSignature2017"},
        {
            "pt": "https://joinpeertube.org/ns#",
            "sc": "http://schema.org/",
            "playlists": {"@id": "pt:playlists", "@type": "@id"},
            "support": {"@type": "sc:Text", "@id": "pt:support"},
            "lemmy": "https://join-lemmy.org/ns#",
            "postingRestrictedToMods": "lemmy:postingRestrictedToMods"
        }
    ])
}

/// What an actor document is made from.
#[derive(Debug)]
enum Found {
    Account(Account),
    Channel(Channel, Account),
    Instance(String),
}

/// `GET /accounts/{name}` (and `/a/{name}…` asked for as ActivityPub): an account's `Person`, or
/// the instance's `Application`.
pub async fn account(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    let (found, key) = load(&state, name, false).await?;
    Ok(activity_response(&document(&state, &found, &key)))
}

/// `GET /video-channels/{name}` (and `/c/{name}…` asked for as ActivityPub): a channel's `Group`.
pub async fn channel(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    let (found, key) = load(&state, name, true).await?;
    Ok(activity_response(&document(&state, &found, &key)))
}

/// `GET /a/{name}/{tab}` and `/c/{name}/{tab}` asked for as ActivityPub: the actor itself.
pub async fn account_tab(
    state: State<AppState>,
    Path((name, _tab)): Path<(String, String)>,
) -> ApiResult<Response> {
    account(state, Path(name)).await
}

pub async fn channel_tab(
    state: State<AppState>,
    Path((name, _tab)): Path<(String, String)>,
) -> ApiResult<Response> {
    channel(state, Path(name)).await
}

/// The actor named `name` and its key (made on first use). Only local names of the wanted kind:
/// `/accounts/x` never serves a channel, as PeerTube's routes do not.
async fn load(state: &AppState, name: String, channel: bool) -> ApiResult<(Found, ActorKey)> {
    let core = state.core.clone();
    blocking(move || {
        let found = match actors::local_by_handle(&core, &name)? {
            Some(Local::Account(a)) if !channel => Found::Account(a),
            Some(Local::Instance(n)) if !channel => Found::Instance(n),
            Some(Local::Channel(c)) if channel => {
                let owner = actors::account_by_id(&core, c.account_id)?;
                Found::Channel(c, owner)
            }
            _ => {
                return Err(ApiError::not_found(if channel {
                    "Video channel"
                } else {
                    "Account"
                }));
            }
        };
        let key = keys::actor_key(&core, found_ref(&found))?;
        Ok((found, key))
    })
    .await
}

fn found_ref(found: &Found) -> crate::model::account::ActorRef {
    use crate::model::account::ActorRef;
    match found {
        Found::Account(a) => ActorRef::Account(a.id),
        Found::Channel(c, _) => ActorRef::Channel(c.id),
        Found::Instance(_) => ActorRef::Instance,
    }
}

/// The actor's id (its canonical URL).
pub fn actor_id(urls: &Urls, local: &Local) -> String {
    match local {
        Local::Account(a) => urls.absolute(&urls::account_actor(&a.name)),
        Local::Instance(name) => urls.absolute(&urls::account_actor(name)),
        Local::Channel(c) => urls.absolute(&urls::channel_actor(&c.name)),
    }
}

fn document(state: &AppState, found: &Found, key: &ActorKey) -> Value {
    let config = state.core.config();
    let urls = Urls::new(&config);
    let (kind, name, display, summary, published, page) = match found {
        Found::Account(a) => (
            "Person",
            &a.name,
            a.display_name.as_str(),
            a.description.as_deref(),
            a.created_at_ms,
            urls.absolute(&urls::account_page(&a.name)),
        ),
        Found::Channel(c, _) => (
            "Group",
            &c.name,
            c.display_name.as_str(),
            c.description.as_deref(),
            c.created_at_ms,
            urls.absolute(&urls::channel_page(&c.name)),
        ),
        Found::Instance(name) => (
            "Application",
            name,
            name.as_str(),
            None,
            0,
            urls.absolute(urls::INSTANCE_PAGE),
        ),
    };
    let id = match found {
        Found::Channel(..) => urls.absolute(&urls::channel_actor(name)),
        _ => urls.absolute(&urls::account_actor(name)),
    };
    let mut doc = json!({
        "@context": actor_context(),
        "type": kind,
        "id": id,
        "following": format!("{id}/following"),
        "followers": format!("{id}/followers"),
        "playlists": format!("{id}/playlists"),
        "inbox": format!("{id}/inbox"),
        "outbox": format!("{id}/outbox"),
        "preferredUsername": name,
        "name": display,
        "url": [{"type": "Link", "mediaType": "text/html", "href": page}],
        "endpoints": {"sharedInbox": urls.absolute(urls::SHARED_INBOX)},
        "publicKey": {
            "id": format!("{id}#main-key"),
            "owner": id,
            "publicKeyPem": key.public_pem,
        },
        "published": iso8601(published),
        "summary": summary,
    });
    if let (Found::Channel(c, owner), Some(map)) = (found, doc.as_object_mut()) {
        map.insert("support".into(), json!(c.support));
        // Only the owner posts to a channel.
        map.insert("postingRestrictedToMods".into(), json!(true));
        map.insert(
            "attributedTo".into(),
            json!([{"type": "Person", "id": urls.absolute(&urls::account_actor(&owner.name))}]),
        );
    }
    doc
}
