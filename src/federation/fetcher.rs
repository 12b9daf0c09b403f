//! Fetching remote actors: a signed GET (as the instance actor, for servers in authorized-fetch
//! mode) through `client`, the document checked before anything of it is kept, and a cache in
//! redb (`service::remote_actors`) refreshed after two days or when a signature stops verifying.

use std::time::SystemTime;

use axum::http::{HeaderMap, Method};
use serde_json::Value;

use super::client::{self, FetchError, insert};
use super::signatures;
use crate::model::account::ActorRef;
use crate::model::federation::RemoteActor;
use crate::model::now_ms;
use crate::service::urls::{self, Urls};
use crate::service::{Core, ServiceError, actors, keys, remote_actors};

/// The actor types Vireo talks to (PeerTube's list).
const ACTOR_TYPES: [&str; 5] = ["Person", "Group", "Application", "Service", "Organization"];
/// Bounds on what a remote actor document may say.
const MAX_NAME: usize = 255;
const MAX_URL: usize = 2000;

/// Why a remote actor could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ActorError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("the actor at {0} is not valid: {1}")]
    Invalid(String, String),
    #[error("the actor {0} does not publish the key {1}")]
    NoSuchKey(String, String),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

/// GET `url` signed by the instance actor, as JSON.
pub async fn signed_get(core: &std::sync::Arc<Core>, url: &url::Url) -> Result<Value, ActorError> {
    let config = core.config();
    let headers = sign_as_instance(core, url).await?;
    Ok(client::get_json(&config, url, headers).await?)
}

async fn sign_as_instance(
    core: &std::sync::Arc<Core>,
    url: &url::Url,
) -> Result<HeaderMap, ServiceError> {
    let core = core.clone();
    let url = url.clone();
    let work = tokio::task::spawn_blocking(move || {
        let key = keys::actor_key(&core, ActorRef::Instance)?;
        let name = actors::instance_actor_name(&core.store.read()?)?;
        let key_id = format!(
            "{}#main-key",
            Urls::new(&core.config()).absolute(&urls::account_actor(&name))
        );
        let signed = signatures::sign(&key, &key_id, &Method::GET, &url, None, SystemTime::now())?;
        let mut h = HeaderMap::new();
        insert(&mut h, "date", &signed.date)?;
        insert(&mut h, "signature", &signed.signature)?;
        Ok(h)
    });
    work.await
        .map_err(|e| ServiceError::internal("signing a fetch", e))?
}

/// The actor that owns `key_id` (`<actor>#main-key`), from the cache when fresh and `refresh`
/// is false, else fetched, checked and cached.
pub async fn key_owner(
    core: &std::sync::Arc<Core>,
    key_id: &str,
    refresh: bool,
) -> Result<RemoteActor, ActorError> {
    let actor_id = key_id.split_once('#').map_or(key_id, |(a, _)| a).to_owned();
    if !refresh {
        let cached = {
            let core = core.clone();
            let id = actor_id.clone();
            tokio::task::spawn_blocking(move || remote_actors::get(&core, &id))
                .await
                .map_err(|e| ServiceError::internal("reading an actor", e))??
        };
        if let Some(actor) = cached.filter(|a| remote_actors::is_fresh(a) && a.key_id == key_id) {
            return Ok(actor);
        }
    }
    let url = url::Url::parse(&actor_id)
        .map_err(|_| ActorError::Invalid(actor_id.clone(), "its id is not a URL".into()))?;
    fetch(core, &url, Some(key_id)).await
}

/// Fetch the actor at `url` (signed), check it, and keep it: the actor a follow is sent to.
pub async fn actor(core: &std::sync::Arc<Core>, url: &url::Url) -> Result<RemoteActor, ActorError> {
    fetch(core, url, None).await
}

/// The actor at `url`: from the cache while fresh, else fetched, checked and kept (the channel
/// and account of a remote video, met again with each of their videos).
pub async fn known_actor(
    core: &std::sync::Arc<Core>,
    url: &url::Url,
) -> Result<RemoteActor, ActorError> {
    let cached = {
        let core = core.clone();
        let id = url.to_string();
        tokio::task::spawn_blocking(move || remote_actors::get(&core, &id))
            .await
            .map_err(|e| ServiceError::internal("reading an actor", e))??
    };
    match cached.filter(remote_actors::is_fresh) {
        Some(actor) => Ok(actor),
        None => fetch(core, url, None).await,
    }
}

async fn fetch(
    core: &std::sync::Arc<Core>,
    url: &url::Url,
    key_id: Option<&str>,
) -> Result<RemoteActor, ActorError> {
    let doc = signed_get(core, url).await?;
    let actor = parse_actor(&doc, url, key_id)?;
    let core = core.clone();
    let kept = tokio::task::spawn_blocking(move || remote_actors::put(&core, &actor))
        .await
        .map_err(|e| ServiceError::internal("keeping an actor", e))??;
    Ok(kept)
}

/// Check a fetched actor document and take what Vireo keeps of it. Its `id` must be the URL it
/// was fetched from (an actor cannot speak for another URL, let alone another server), and it
/// must publish `key_id` as a key it owns (or, when none is named, some key it owns: the first).
pub fn parse_actor(
    doc: &Value,
    fetched: &url::Url,
    key_id: Option<&str>,
) -> Result<RemoteActor, ActorError> {
    let bad = |why: &str| ActorError::Invalid(fetched.to_string(), why.to_owned());
    let kind = doc["type"].as_str().unwrap_or_default();
    if !ACTOR_TYPES.contains(&kind) {
        return Err(bad("its type is not one of an actor"));
    }
    let id = url_field(&doc["id"]).ok_or_else(|| bad("its id is not a URL"))?;
    if id.as_str() != fetched.as_str() {
        return Err(bad("its id is not the URL it was fetched from"));
    }
    let host = signatures::host_header(&id).ok_or_else(|| bad("its id has no host"))?;
    let inbox = url_field(&doc["inbox"]).ok_or_else(|| bad("its inbox is not a URL"))?;
    let shared_inbox = url_field(&doc["endpoints"]["sharedInbox"]);
    let username = doc["preferredUsername"]
        .as_str()
        .filter(|u| !u.is_empty() && u.len() <= MAX_NAME && !u.chars().any(char::is_whitespace))
        .ok_or_else(|| bad("its preferredUsername is missing or not a name"))?;
    let name = doc["name"].as_str().map(|n| {
        n.chars()
            .filter(|c| !c.is_control())
            .take(MAX_NAME)
            .collect()
    });
    let key = published_keys(&doc["publicKey"])
        .find(|k| match key_id {
            Some(wanted) => k["id"].as_str() == Some(wanted),
            None => k["owner"].as_str() == Some(id.as_str()) && url_field(&k["id"]).is_some(),
        })
        .ok_or_else(|| {
            ActorError::NoSuchKey(id.to_string(), key_id.unwrap_or("(any)").to_owned())
        })?;
    if key["owner"].as_str() != Some(id.as_str()) {
        return Err(bad("its key is owned by another actor"));
    }
    let key_id = key["id"].as_str().unwrap_or_default();
    let pem = key["publicKeyPem"]
        .as_str()
        .filter(|p| p.len() <= keys::MAX_PUBLIC_PEM)
        .ok_or_else(|| bad("its key has no usable publicKeyPem"))?;
    keys::PublicKey::from_pem(pem).map_err(|e| bad(&e.to_string()))?;
    Ok(RemoteActor {
        id: id.to_string(),
        kind: kind.to_owned(),
        preferred_username: username.to_owned(),
        name,
        host,
        inbox: inbox.to_string(),
        shared_inbox: shared_inbox.map(|u| u.to_string()),
        outbox: url_field(&doc["outbox"]).map(|u| u.to_string()),
        key_id: key_id.to_owned(),
        public_key_pem: pem.to_owned(),
        fetched_at_ms: now_ms(),
        number: 0,
    })
}

/// `publicKey` as one object or an array of them.
fn published_keys(v: &Value) -> impl Iterator<Item = &Value> {
    let many = v.as_array().map(|a| a.iter());
    let one = v.is_object().then_some(v);
    many.into_iter().flatten().chain(one)
}

/// A field that must be an http(s) URL of reasonable length.
fn url_field(v: &Value) -> Option<url::Url> {
    let s = v.as_str().filter(|s| s.len() <= MAX_URL)?;
    let u = url::Url::parse(s).ok()?;
    matches!(u.scheme(), "http" | "https").then_some(u)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::federation::fixture;

    #[test]
    fn real_peertube_and_mastodon_actors_are_read() {
        for (path, kind) in [
            ("peertube/objects/person.json", "Person"),
            ("peertube/objects/group.json", "Group"),
            ("mastodon/objects/person.json", "Person"),
        ] {
            let doc = fixture(path);
            let id = doc["id"].as_str().unwrap();
            let key_id = doc["publicKey"]["id"].as_str().unwrap();
            let url = url::Url::parse(id).unwrap();
            let actor = parse_actor(&doc, &url, Some(key_id)).unwrap();
            let any = parse_actor(&doc, &url, None).unwrap();
            assert_eq!(any.key_id, key_id, "{path}");
            assert_eq!(actor.kind, kind, "{path}");
            assert_eq!(actor.id, id);
            assert!(actor.inbox.starts_with("https://"), "{path}");
            assert!(actor.public_key_pem.contains("BEGIN PUBLIC KEY"));
        }
    }

    #[test]
    fn actors_that_lie_are_refused() {
        let doc = fixture("mastodon/objects/person.json");
        let id = doc["id"].as_str().unwrap().to_owned();
        let key_id = doc["publicKey"]["id"].as_str().unwrap().to_owned();
        let url = url::Url::parse(&id).unwrap();
        // Fetched from elsewhere: the id is another server's.
        let elsewhere = url::Url::parse("https://evil.example/users/x").unwrap();
        assert!(parse_actor(&doc, &elsewhere, Some(&key_id)).is_err());
        // A key it does not publish.
        assert!(matches!(
            parse_actor(&doc, &url, Some("https://evil.example/key")),
            Err(ActorError::NoSuchKey(..))
        ));
        // A key owned by someone else.
        let mut stolen = doc.clone();
        stolen["publicKey"]["owner"] = "https://evil.example/users/x".into();
        assert!(parse_actor(&stolen, &url, Some(&key_id)).is_err());
        assert!(parse_actor(&stolen, &url, None).is_err());
        // Not an actor, no inbox, junk key.
        let mut note = doc.clone();
        note["type"] = "Note".into();
        assert!(parse_actor(&note, &url, Some(&key_id)).is_err());
        let mut no_inbox = doc.clone();
        no_inbox["inbox"] = Value::Null;
        assert!(parse_actor(&no_inbox, &url, Some(&key_id)).is_err());
        let mut junk = doc;
        junk["publicKey"]["publicKeyPem"] =
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----".into();
        assert!(parse_actor(&junk, &url, Some(&key_id)).is_err());
    }
}
