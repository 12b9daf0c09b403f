//! Local videos as ActivityPub `Video` objects in PeerTube's shape (its `pt:` and schema.org
//! terms), served on the watch page's URL to servers that ask (`/videos/watch/{uuid}`,
//! `/w/{id}`), with the collections PeerTube reads when it imports a video (likes, dislikes,
//! shares, comments: each must load, or PeerTube drops the video), and the activities that carry
//! a video to followers (`Create`, `Update`, `Delete`, the channel's `Announce`).
//!
//! Only federated videos are served (`service::outbox::is_federated`: local, published, public
//! or unlisted); the others are 404 here, whatever their privacy allows on the web page.

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
use crate::model::video::{CommentsPolicy, Privacy, Video, VideoMedia, VideoSource};
use crate::model::vocab;
use crate::service::file_facts::{self, Playable};
use crate::service::images::{PREVIEW_SIZE, THUMBNAIL_SIZE};
use crate::service::urls::{self, Urls};
use crate::service::visibility::{self, Owned};
use crate::service::{ServiceError, outbox, videos};

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// A federated video with everything its object shows.
#[derive(Debug)]
pub struct Loaded {
    pub owned: Owned,
    pub media: VideoMedia,
    pub source: Option<VideoSource>,
}

/// The federated video `id` names (UUID or short UUID), if there is one.
pub fn find(core: &crate::service::Core, id: &str) -> Result<Option<Loaded>, ServiceError> {
    let owned = match visibility::load_visible(core, id, None) {
        Ok(o) => o,
        Err(
            ServiceError::NotFound(_) | ServiceError::Forbidden(_) | ServiceError::Unauthorized(_),
        ) => return Ok(None),
        Err(e) => return Err(e),
    };
    if !outbox::is_federated(&owned.video) {
        return Ok(None);
    }
    let files = videos::files_of(core, owned.video.id)?;
    Ok(Some(Loaded {
        owned,
        media: files.media,
        source: files.source,
    }))
}

/// The federated local video an activity's object names (its `/videos/watch/{uuid}` or
/// `/w/{id}` URL on this instance).
pub fn find_by_url(core: &crate::service::Core, url: &str) -> Result<Option<Loaded>, ServiceError> {
    let base = core.config().public_url();
    let Some(path) = url.strip_prefix(base.as_str()) else {
        return Ok(None);
    };
    let id = path
        .strip_prefix("/videos/watch/")
        .or_else(|| path.strip_prefix("/w/"))
        .filter(|id| !id.is_empty() && !id.contains(['/', '?', '#']));
    match id {
        Some(id) => find(core, id),
        None => Ok(None),
    }
}

fn load(core: &crate::service::Core, id: &str) -> ApiResult<Loaded> {
    find(core, id)?.ok_or_else(|| ApiError::not_found("Video"))
}

/// `GET /videos/watch/{id}` and `/w/{id}` asked for as ActivityPub: the `Video`.
pub async fn video(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let core = state.core.clone();
    let loaded = blocking(move || load(&core, &id)).await?;
    let urls = Urls::new(&state.core.config());
    Ok(activity_response(&with_context(video_object(
        &urls, &loaded,
    ))))
}

/// `GET /videos/watch/{id}/{likes|dislikes|announces|comments}`: the counts PeerTube reads;
/// `…/activity`: the `Create` that published the video.
pub async fn collection(
    State(state): State<AppState>,
    Path((id, which)): Path<(String, String)>,
) -> ApiResult<Response> {
    let core = state.core.clone();
    let loaded = blocking(move || load(&core, &id)).await?;
    let v = &loaded.owned.video;
    let urls = Urls::new(&state.core.config());
    let total = match which.as_str() {
        "activity" => return Ok(activity_response(&create(&urls, &loaded))),
        "likes" => v.likes,
        "dislikes" => v.dislikes,
        // Vireo neither records shares of its videos nor has comments yet.
        "announces" | "comments" => 0,
        _ => return Err(ApiError::not_found("Collection")),
    };
    let id = format!("{}/{which}", video_id(&urls, v));
    Ok(activity_response(&json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": id,
        "type": "OrderedCollection",
        "totalItems": total,
    })))
}

/// A video's id: its long watch URL, whichever URL it was asked by.
pub fn video_id(urls: &Urls, v: &Video) -> String {
    urls.absolute(&urls::watch_long(&v.uuid))
}

fn account_id(urls: &Urls, a: &Account) -> String {
    urls.absolute(&urls::account_actor(&a.name))
}

fn channel_id(urls: &Urls, c: &Channel) -> String {
    urls.absolute(&urls::channel_actor(&c.name))
}

/// Who a video is addressed to: public videos to everyone, unlisted ones only in `cc`, as
/// PeerTube addresses them (peers list a video only when Public is in `to`).
fn audience(urls: &Urls, v: &Video, a: &Account) -> (Vec<String>, Vec<String>) {
    let followers = format!("{}/followers", account_id(urls, a));
    match v.privacy {
        Privacy::Public => (vec![PUBLIC.to_owned()], vec![followers]),
        _ => (Vec::new(), vec![PUBLIC.to_owned()]),
    }
}

/// The `@context` of a video and its activities: ActivityStreams, and the terms PeerTube
/// defines for videos.
pub fn video_context() -> Value {
    json!([
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/v1",
        {
            "pt": "https://joinpeertube.org/ns#",
            "sc": "http://schema.org/",
            "Hashtag": "as:Hashtag",
            "category": "sc:category",
            "licence": "sc:license",
            "language": "sc:inLanguage",
            "identifier": "sc:identifier",
            "sensitive": "as:sensitive",
            "originallyPublishedAt": "sc:datePublished",
            "uploadDate": "sc:uploadDate",
            "isLiveBroadcast": "sc:isLiveBroadcast",
            "PropertyValue": "sc:PropertyValue",
            "value": "sc:value",
            "uuid": {"@type": "sc:identifier", "@id": "pt:uuid"},
            "views": {"@type": "sc:Number", "@id": "pt:views"},
            "state": {"@type": "sc:Number", "@id": "pt:state"},
            "size": {"@type": "sc:Number", "@id": "pt:size"},
            "fps": {"@type": "sc:Number", "@id": "pt:fps"},
            "commentsPolicy": {"@type": "sc:Number", "@id": "pt:commentsPolicy"},
            "commentsEnabled": {"@type": "sc:Boolean", "@id": "pt:commentsEnabled"},
            "downloadEnabled": {"@type": "sc:Boolean", "@id": "pt:downloadEnabled"},
            "waitTranscoding": {"@type": "sc:Boolean", "@id": "pt:waitTranscoding"},
            "support": {"@type": "sc:Text", "@id": "pt:support"},
            "aspectRatio": {"@type": "sc:Float", "@id": "pt:aspectRatio"},
            "likes": {"@id": "as:likes", "@type": "@id"},
            "dislikes": {"@id": "as:dislikes", "@type": "@id"},
            "shares": {"@id": "as:shares", "@type": "@id"},
            "comments": {"@id": "as:comments", "@type": "@id"}
        }
    ])
}

fn with_context(mut object: Value) -> Value {
    if let Some(map) = object.as_object_mut() {
        let mut with = serde_json::Map::new();
        with.insert("@context".into(), video_context());
        with.append(map);
        return Value::Object(with);
    }
    object
}

/// The `Video` object (without `@context`, for embedding in activities).
pub fn video_object(urls: &Urls, loaded: &Loaded) -> Value {
    let Owned {
        video: v,
        channel: c,
        account: a,
    } = &loaded.owned;
    let id = video_id(urls, v);
    let (to, cc) = audience(urls, v, a);
    let identified = |identifier: String, name: Option<&str>| {
        name.map(|n| json!({"identifier": identifier, "name": n}))
    };
    let category = v
        .category
        .and_then(|c| identified(c.to_string(), vocab::category_label(c)));
    let licence = v
        .licence
        .and_then(|l| identified(l.to_string(), vocab::licence_label(l)));
    let language = v
        .language
        .as_deref()
        .and_then(|l| identified(l.to_owned(), vocab::language_label(l)));
    // PeerTube refuses a description shorter than 3 characters; none is then sent.
    let content = v
        .description
        .as_deref()
        .filter(|d| d.chars().count() >= 3)
        .map(|d| d.chars().take(10_000).collect::<String>());
    json!({
        "type": "Video",
        "id": id,
        "name": v.name,
        "duration": format!("PT{}S", v.duration),
        "uuid": v.uuid.to_string(),
        "tag": v.tags.iter().map(|t| json!({"type": "Hashtag", "name": t})).collect::<Vec<_>>(),
        "category": category,
        "licence": licence,
        "language": language,
        "views": v.views,
        "sensitive": v.nsfw,
        "waitTranscoding": v.wait_transcoding,
        "state": v.state.id(),
        "commentsEnabled": v.comments_policy != CommentsPolicy::Disabled,
        "commentsPolicy": v.comments_policy.id(),
        "downloadEnabled": v.download_enabled,
        "published": iso8601(v.published_at_ms),
        "originallyPublishedAt": v.originally_published_at_ms.map(iso8601),
        "updated": iso8601(v.updated_at_ms),
        "uploadDate": iso8601(v.created_at_ms),
        "mediaType": "text/markdown",
        "content": content,
        "support": v.support,
        "subtitleLanguage": [],
        "icon": icons(urls, v),
        "aspectRatio": v.aspect_ratio_e4.map(|r| f64::from(r) / 10_000.0),
        "url": url_list(urls, loaded),
        "likes": format!("{id}/likes"),
        "dislikes": format!("{id}/dislikes"),
        "shares": format!("{id}/announces"),
        "comments": format!("{id}/comments"),
        // The account first: Mastodon takes the first as the author.
        "attributedTo": [
            {"type": "Person", "id": account_id(urls, a)},
            {"type": "Group", "id": channel_id(urls, c)}
        ],
        "isLiveBroadcast": false,
        "to": to,
        "cc": cc,
    })
}

fn icons(urls: &Urls, v: &Video) -> Vec<Value> {
    let image = |path: String, (width, height): (u32, u32)| {
        json!({
            "type": "Image",
            "url": urls.absolute(&path),
            "mediaType": "image/jpeg",
            "width": width,
            "height": height,
        })
    };
    v.thumbnail
        .as_deref()
        .map(|t| image(urls::thumbnail(t), THUMBNAIL_SIZE))
        .into_iter()
        .chain(
            v.preview
                .as_deref()
                .map(|p| image(urls::preview(p), PREVIEW_SIZE)),
        )
        .collect()
}

/// The watch page, the HLS master with its renditions as tags, then the progressive files.
fn url_list(urls: &Urls, loaded: &Loaded) -> Vec<Value> {
    let v = &loaded.owned.video;
    let mut list = vec![
        json!({"type": "Link", "mediaType": "text/html", "href": video_id(urls, v)}),
        json!({"type": "Link", "mediaType": "text/html", "href": urls.absolute(&urls::watch(&v.uuid))}),
    ];
    let playable = file_facts::playable_files(v, &loaded.media, loaded.source.as_ref());
    let file = |href: String, width: u32, height: u32, fps: f64, size: u64, flag: &str| {
        json!({
            "type": "Link",
            "mediaType": "video/mp4",
            "href": href,
            "height": height,
            "width": width,
            "size": size,
            "fps": fps.round() as i64,
            "attachment": [
                {"type": "PropertyValue", "name": "peertube_format_flag", "value": flag}
            ],
        })
    };
    let hls: Vec<Value> = playable
        .iter()
        .filter_map(|(_, p)| match p {
            Playable::Hls(r) => Some(file(
                urls.absolute(&urls::hls_file(&v.uuid, &r.file)),
                r.width,
                r.height,
                r.fps,
                r.size,
                "fragmented",
            )),
            Playable::Web(_) => None,
        })
        .collect();
    if !hls.is_empty() {
        list.push(json!({
            "type": "Link",
            "mediaType": "application/x-mpegURL",
            "href": urls.absolute(&urls::hls_master(&v.uuid)),
            "tag": hls,
        }));
    }
    list.extend(playable.iter().filter_map(|(_, p)| match p {
        Playable::Web(w) => Some(file(
            urls.absolute(&urls::web_video(&w.name)),
            w.width,
            w.height,
            w.fps,
            w.size,
            "web-video",
        )),
        Playable::Hls(_) => None,
    }));
    list
}

/// `Create` of the video, by its account, to the video's audience.
pub fn create(urls: &Urls, loaded: &Loaded) -> Value {
    let object = video_object(urls, loaded);
    let id = video_id(urls, &loaded.owned.video);
    with_context(json!({
        "type": "Create",
        "id": format!("{id}/activity"),
        "actor": account_id(urls, &loaded.owned.account),
        "to": object["to"],
        "cc": object["cc"],
        "object": object,
    }))
}

/// `Update` of the video, by its account.
pub fn update(urls: &Urls, loaded: &Loaded) -> Value {
    let object = video_object(urls, loaded);
    let v = &loaded.owned.video;
    let id = video_id(urls, v);
    with_context(json!({
        "type": "Update",
        "id": format!("{id}/updates/{}", iso8601(v.updated_at_ms)),
        "actor": account_id(urls, &loaded.owned.account),
        "to": object["to"],
        "cc": object["cc"],
        "object": object,
    }))
}

/// `Announce` of the video by its channel, which is how a channel's followers (a Mastodon user
/// following it, a PeerTube instance) hear of it.
pub fn announce(urls: &Urls, loaded: &Loaded) -> Value {
    let channel = channel_id(urls, &loaded.owned.channel);
    let id = format!(
        "{}/announces/{}",
        video_id(urls, &loaded.owned.video),
        loaded.owned.channel.id
    );
    announce_by(
        urls,
        &loaded.owned.video,
        &loaded.owned.account,
        &channel,
        id,
    )
}

/// The instance actor's `Announce` of a video (`instance` is the instance actor's id): what a
/// PeerTube instance that follows this one lists the video by.
pub fn instance_announce(urls: &Urls, loaded: &Loaded, instance: &str) -> Value {
    let v = &loaded.owned.video;
    let id = format!("{}/announces/instance", video_id(urls, v));
    announce_by(urls, v, &loaded.owned.account, instance, id)
}

/// `Announce` of a video by `actor` (its channel, or the instance).
pub fn announce_by(urls: &Urls, v: &Video, owner: &Account, actor: &str, id: String) -> Value {
    let (mut to, cc) = audience(urls, v, owner);
    to.push(format!("{actor}/followers"));
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "type": "Announce",
        "id": id,
        "actor": actor,
        "object": video_id(urls, v),
        "to": to,
        "cc": cc,
    })
}

/// `Delete` of a video by its account, when the video is gone (or no longer federated).
pub fn delete(urls: &Urls, uuid: &uuid::Uuid, account: &Account) -> Value {
    let id = urls.absolute(&urls::watch_long(uuid));
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "type": "Delete",
        "id": format!("{id}/delete"),
        "actor": account_id(urls, account),
        "object": id,
        "to": [PUBLIC],
        "cc": [format!("{}/followers", account_id(urls, account))],
    })
}
