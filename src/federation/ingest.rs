//! Bringing other servers' videos in (the `Ingest` and `Crawl` chores): a video is fetched by
//! its URL (signed, as the instance actor), read and checked (`video_object`), its channel and
//! account fetched (or taken from the cache) and checked to be a `Group` and a `Person` of its
//! server, and then kept through `service::remote_videos`, which applies the follow rule. The
//! origin's image becomes the local thumbnail and preview. A followed actor's outbox is read a
//! page at a time, each page queueing a fetch per video it lists.
//!
//! The object is always fetched from its origin, never taken from the activity that named it:
//! the origin alone says what its video is (an `Announce` or a `Create` forwarded by another
//! server could say anything).

use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;

use super::activity::id_of;
use super::client::{self, FetchError};
use super::fetcher::{self, ActorError};
use super::signatures::{host_header, is_on_host};
use super::video_object::{self, VideoError};
use crate::model::federation::{Chore, RemoteActor};
use crate::model::now_ms;
use crate::service::remote_videos::{self, Kept};
use crate::service::{Core, ServiceError, blocklist, images};

/// Items of one outbox page looked at (PeerTube and Vireo serve 10 a page).
const ITEMS_PER_PAGE: usize = 100;

/// Why a video could not be brought in.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// Worth trying again later (the origin did not answer, a 5xx, the store).
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Actor(#[from] ActorError),
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// Trying again cannot help: the object is not a video this instance keeps.
    #[error("{0}")]
    Refused(String),
}

impl IngestError {
    /// Whether another try could succeed: the network and the store fail for a while; a
    /// refusal, or an answer that is not 5xx, is final.
    pub fn is_transient(&self) -> bool {
        match self {
            IngestError::Fetch(f) | IngestError::Actor(ActorError::Fetch(f)) => transient(f),
            IngestError::Service(_) | IngestError::Actor(ActorError::Service(_)) => true,
            IngestError::Actor(_) | IngestError::Refused(_) => false,
        }
    }
}

fn transient(e: &FetchError) -> bool {
    match e {
        FetchError::Status { status, .. } => status.is_server_error(),
        FetchError::Refused(..) | FetchError::TooLarge(..) | FetchError::NotJson(..) => false,
        FetchError::Http { .. } | FetchError::Client(_) => true,
    }
}

impl From<VideoError> for IngestError {
    fn from(e: VideoError) -> Self {
        IngestError::Refused(e.to_string())
    }
}

/// Fetch the video at `url` and keep it (`via`: the followed actor it came through; `None`:
/// its origin changed it). A video its origin no longer serves (404, 410) is deleted here.
pub async fn video(core: &Arc<Core>, url: &str, via: Option<&str>) -> Result<Kept, IngestError> {
    let parsed = url::Url::parse(url).map_err(|_| IngestError::Refused("not a URL".into()))?;
    let host = host_header(&parsed).ok_or_else(|| IngestError::Refused("no host".into()))?;
    if blocking(core, move |c| blocklist::is_host_blocked(c, &host)).await? {
        return Err(IngestError::Refused("its server is blocked".into()));
    }
    let doc = match fetcher::signed_get(core, &parsed).await {
        Ok(doc) => doc,
        Err(ActorError::Fetch(FetchError::Status { status, .. }))
            if status == StatusCode::NOT_FOUND || status == StatusCode::GONE =>
        {
            let url = url.to_owned();
            blocking(core, move |c| remote_videos::gone(c, &url)).await?;
            return Err(IngestError::Refused(format!("its origin answers {status}")));
        }
        Err(e) => return Err(e.into()),
    };
    let read = video_object::read(&doc, url)?;
    let channel = owner(core, &read.channel, "Group").await?;
    let account = owner(core, &read.account, "Person").await?;
    for actor in [&channel, &account] {
        let (id, host) = (actor.id.clone(), actor.host.clone());
        if blocking(core, move |c| blocklist::is_actor_blocked(c, &id, &host)).await? {
            return Err(IngestError::Refused(format!("{} is blocked", actor.id)));
        }
    }
    let image = read.video.remote.as_ref().and_then(|r| r.image_url.clone());
    let before = {
        let url = url.to_owned();
        blocking(core, move |c| remote_videos::by_url(c, &url)).await?
    };
    let via = via.map(str::to_owned);
    let video = read.video;
    let kept = blocking(core, move |c| {
        remote_videos::keep(c, video, &channel, &account, via.as_deref())
    })
    .await?;
    let had_image = before.as_ref().is_some_and(|v| {
        v.thumbnail.is_some()
            && v.remote.as_ref().and_then(|r| r.image_url.as_ref()) == image.as_ref()
    });
    if let (Some(id), Some(image), false) = (kept.id(), image, had_image) {
        // A video without its image still plays: a failure is only logged.
        if let Err(e) = fetch_image(core, id, &image).await {
            tracing::info!(video = url, error = %e, "remote video image not fetched");
        }
    }
    Ok(kept)
}

/// A video's channel or account: the actor at `url`, which must be of type `kind`.
async fn owner(core: &Arc<Core>, url: &str, kind: &str) -> Result<RemoteActor, IngestError> {
    let parsed = url::Url::parse(url).map_err(|_| IngestError::Refused("not a URL".into()))?;
    let actor = fetcher::known_actor(core, &parsed).await?;
    if actor.kind != kind {
        return Err(IngestError::Refused(format!(
            "{url} is a {}, not a {kind}",
            actor.kind
        )));
    }
    Ok(actor)
}

/// Fetch the origin's image and make the local thumbnail and preview of video `id` from it.
async fn fetch_image(core: &Arc<Core>, id: u64, url: &str) -> Result<(), IngestError> {
    let parsed = url::Url::parse(url).map_err(|_| IngestError::Refused("not a URL".into()))?;
    let bytes = client::get_bytes(&core.config(), &parsed, HeaderMap::new(), "image/*").await?;
    blocking(core, move |c| images::from_remote(c, id, &bytes)).await?;
    Ok(())
}

/// Read one page of a followed actor's outbox (`url`: its root or a page) and queue a fetch of
/// each video it lists, and the next page while `pages_left` is not 0. Only what the actor's
/// own server published counts: a page lists activities unsigned, so an item on another
/// server is not taken from it.
pub async fn crawl(
    core: &Arc<Core>,
    url: &str,
    via: &str,
    pages_left: u32,
) -> Result<(), IngestError> {
    let parsed = url::Url::parse(url).map_err(|_| IngestError::Refused("not a URL".into()))?;
    let host = host_header(&parsed).ok_or_else(|| IngestError::Refused("no host".into()))?;
    let doc = fetcher::signed_get(core, &parsed).await?;
    let page = match &doc["first"] {
        // The root: its first page is embedded, or named.
        first @ Value::Object(_) => first,
        Value::String(first) => {
            let next = next_page(first, &host, pages_left, via);
            let via = via.to_owned();
            return blocking(core, move |c| {
                remote_videos::crawled(c, Vec::new(), &via, next, now_ms())
            })
            .await;
        }
        _ => &doc,
    };
    let items = page["orderedItems"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let videos: Vec<String> = items
        .iter()
        .take(ITEMS_PER_PAGE)
        .filter_map(|item| listed_video(item, &host))
        .collect();
    let next = page["next"]
        .as_str()
        .filter(|_| pages_left > 0)
        .and_then(|n| next_page(n, &host, pages_left - 1, via));
    let via = via.to_owned();
    blocking(core, move |c| {
        remote_videos::crawled(c, videos, &via, next, now_ms())
    })
    .await
}

/// The video an outbox item (`Announce` or `Create`) names, when both are on `host`.
fn listed_video(item: &Value, host: &str) -> Option<String> {
    if !matches!(item["type"].as_str(), Some("Announce" | "Create")) {
        return None;
    }
    let object = &item["object"];
    if object.get("type").is_some_and(|t| t != "Video") {
        return None;
    }
    let actor = id_of(&item["actor"])?;
    let video = id_of(object)?;
    (is_on_host(actor, host) && is_on_host(video, host)).then(|| video.to_owned())
}

/// The chore reading the page at `url`, when it is on the outbox's host.
fn next_page(url: &str, host: &str, pages_left: u32, via: &str) -> Option<Chore> {
    is_on_host(url, host).then(|| Chore::Crawl {
        url: url.to_owned(),
        via: via.to_owned(),
        pages_left,
    })
}

/// Run `f` on the blocking pool (the store and image work are synchronous).
async fn blocking<T: Send + 'static>(
    core: &Arc<Core>,
    f: impl FnOnce(&Core) -> Result<T, ServiceError> + Send + 'static,
) -> Result<T, IngestError> {
    let c = core.clone();
    tokio::task::spawn_blocking(move || f(&c))
        .await
        .map_err(|e| ServiceError::internal("bringing a video in", e))?
        .map_err(IngestError::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn outbox_items_count_only_when_they_and_their_video_are_the_outbox_s_server() {
        let host = "pt.example";
        let item = |actor: &str, object: Value| json!({"type": "Announce", "id": "https://pt.example/a/1", "actor": actor, "object": object});
        let me = "https://pt.example/accounts/peertube";
        assert_eq!(
            listed_video(&item(me, json!("https://pt.example/videos/watch/1")), host).as_deref(),
            Some("https://pt.example/videos/watch/1")
        );
        assert_eq!(
            listed_video(
                &item(
                    me,
                    json!({"type": "Video", "id": "https://pt.example/videos/watch/2"})
                ),
                host
            )
            .as_deref(),
            Some("https://pt.example/videos/watch/2")
        );
        for (actor, object) in [
            (me, json!("https://evil.example/videos/watch/1")),
            (
                "https://evil.example/u",
                json!("https://pt.example/videos/watch/1"),
            ),
            (me, json!({"type": "Note", "id": "https://pt.example/n/1"})),
        ] {
            assert_eq!(
                listed_video(&item(actor, object.clone()), host),
                None,
                "{object}"
            );
        }
        let follow =
            json!({"type": "Follow", "actor": me, "object": "https://pt.example/videos/watch/1"});
        assert_eq!(listed_video(&follow, host), None);
        assert!(next_page("https://pt.example/outbox?page=2", host, 3, me).is_some());
        assert!(next_page("https://evil.example/outbox?page=2", host, 3, me).is_none());
    }
}
