//! The watch page (`/w/{shortUUID}`, `/videos/watch/{id}`) and the embed page
//! (`/videos/embed/{id}`, the player alone, framable): the player with its configuration, the
//! video's details and description, Open Graph and Twitter card tags, and the oEmbed link.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::http::AppState;
use crate::http::extract::{Params, blocking};
use crate::http::query;
use crate::model::federation::RateKind;
use crate::model::video::{Privacy, RemoteVideo, Video, VideoState};
use crate::service::urls::{self, Urls};
use crate::service::{
    ServiceError, listing, media_files, rates, remote_videos, videos, visibility,
};
use crate::web::cards::{self, Card};
use crate::web::headers::allowing_media_from;
use crate::web::page::{CSP, Chrome, EMBED_CSP, PageError, respond_with};
use crate::web::session::Visitor;
use crate::web::{assets, format, markdown};

/// What the player script is told (`web/static/player.js`), as the player element's
/// `data-config` attribute (HTML-escaped there, so no script context is involved).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlayerConfig {
    /// The HLS master playlist, when the video has HLS.
    hls: Option<String>,
    /// Progressive files, largest first: for browsers without MSE and as a last resort.
    files: Vec<ProgressiveFile>,
    poster: Option<String>,
    duration: u64,
    start: u64,
    title: String,
    /// Where the player reports what is watched, so views are counted.
    views: String,
}

#[derive(Debug, Serialize)]
struct ProgressiveFile {
    url: String,
    height: u64,
}

/// The video's open-graph facts, absolute URLs as crawlers need them.
struct Meta {
    url: String,
    embed_url: String,
    image: Option<String>,
    description: String,
    oembed: String,
    width: u32,
    height: u32,
}

#[derive(Template)]
#[template(path = "watch.html")]
struct WatchPage {
    chrome: Chrome,
    title: String,
    channel: String,
    channel_href: String,
    account: String,
    account_href: String,
    views: String,
    published: String,
    published_iso: String,
    description_html: String,
    tags: Vec<String>,
    privacy: &'static str,
    notice: Option<String>,
    player: String,
    player_js: &'static str,
    meta: Meta,
    more: Vec<Card>,
    /// Private and unlisted videos are kept out of search engines.
    noindex: bool,
    rating: Rating,
}

/// The like and dislike buttons: the counts, and the visitor's own rate (`None` when not
/// logged in: the buttons lead to the login page instead).
struct Rating {
    likes: u64,
    dislikes: u64,
    mine: Option<&'static str>,
    rate_url: String,
    login_href: String,
}

#[derive(Template)]
#[template(path = "embed.html")]
struct EmbedPage {
    title: String,
    instance: String,
    watch_href: String,
    player: String,
    player_js: &'static str,
    css: &'static str,
}

#[derive(Debug, Deserialize)]
pub struct WatchQuery {
    start: Option<String>,
    t: Option<String>,
}

/// Everything both pages read about one video.
struct Loaded {
    video: Video,
    channel: crate::model::channel::Channel,
    account: crate::model::account::Account,
    files: videos::Files,
    /// The logged-in visitor's rate of the video.
    rated: Option<RateKind>,
}

async fn load(state: &AppState, visitor: &Visitor, id: String) -> Result<Loaded, PageError> {
    if id.len() > 64 {
        return Err(PageError::not_found("Video"));
    }
    let core = state.core.clone();
    let viewer = visitor.user.clone();
    let loaded = blocking(move || {
        let o = match visibility::load_visible(&core, &id, viewer.as_ref()) {
            Err(ServiceError::Unauthorized(_)) => return Ok(Err(PageError::private_video())),
            found => found?,
        };
        let files = videos::files_of(&core, o.video.id)?;
        remote_videos::refresh_if_stale(&core, &o.video, crate::model::now_ms())?;
        let rated = match &viewer {
            Some(me) => rates::rate_of(&core, me, o.video.id)?,
            None => None,
        };
        Ok(Ok(Loaded {
            video: o.video,
            channel: o.channel,
            account: o.account,
            files,
            rated,
        }))
    })
    .await??;
    Ok(loaded)
}

/// The player's configuration as the page's `data-config` carries it (watch and embed pages).
/// Addresses are paths, so the page works under whatever host name the browser used.
fn player_json(l: &Loaded, q: &WatchQuery) -> Result<String, PageError> {
    serde_json::to_string(&player_config(l, start_of(q))).map_err(PageError::internal)
}

fn player_config(l: &Loaded, start: u64) -> PlayerConfig {
    let v = &l.video;
    if let Some(r) = &v.remote {
        return remote_player_config(v, r, start);
    }
    let media = &l.files.media;
    let files = media_files::web_files(v, media, l.files.source.as_ref())
        .into_iter()
        .map(|f| ProgressiveFile {
            url: urls::web_video(&f.name),
            height: u64::from(f.height),
        })
        .collect();
    PlayerConfig {
        hls: (!media.hls.is_empty()).then(|| urls::hls_master(&v.uuid)),
        files,
        poster: v.preview.as_deref().map(urls::preview),
        duration: v.duration,
        start: start.min(v.duration),
        title: v.name.clone(),
        views: urls::video_views(&v.uuid),
    }
}

/// A remote video plays from its origin: its HLS master and MP4s at their own addresses.
fn remote_player_config(v: &Video, r: &RemoteVideo, start: u64) -> PlayerConfig {
    PlayerConfig {
        hls: r.hls.as_ref().map(|h| h.url.clone()),
        files: r
            .web_videos
            .iter()
            .map(|f| ProgressiveFile {
                url: f.url.clone(),
                height: u64::from(f.height),
            })
            .collect(),
        poster: v.preview.as_deref().map(urls::preview),
        duration: v.duration,
        start: start.min(v.duration),
        title: v.name.clone(),
        views: urls::video_views(&v.uuid),
    }
}

/// The page's policy: `base`, and for a remote video, its media's servers too.
fn policy_for(base: &str, v: &Video) -> String {
    let Some(r) = &v.remote else {
        return base.to_owned();
    };
    let urls = r
        .hls
        .iter()
        .map(|h| h.url.as_str())
        .chain(r.web_videos.iter().map(|f| f.url.as_str()));
    let mut origins: Vec<String> = urls
        .filter_map(|u| url::Url::parse(u).ok())
        .map(|u| u.origin().ascii_serialization())
        .collect();
    origins.sort();
    origins.dedup();
    allowing_media_from(base, &origins)
}

fn start_of(q: &WatchQuery) -> u64 {
    q.start
        .as_deref()
        .or(q.t.as_deref())
        .and_then(format::start_time)
        .unwrap_or(0)
}

/// A plain-text summary of the description for link previews (Markdown marks left in are
/// harmless there, and it is escaped like any text).
fn summary(description: Option<&str>) -> String {
    let d = description.unwrap_or("").trim();
    let mut s: String = d.chars().take(200).collect();
    if d.chars().count() > 200 {
        s.push('…');
    }
    s
}

fn processing_notice(state: &AppState, v: &Video) -> Option<String> {
    match v.state {
        VideoState::Published => state.core.progress.get(v.id).map(|p| {
            format!(
                "More qualities are being prepared ({:.0} %). The video plays meanwhile.",
                p.percent
            )
        }),
        VideoState::TranscodingFailed => Some(match &v.state_reason {
            Some(r) => format!("Processing this video failed: {r}"),
            None => "Processing this video failed.".to_owned(),
        }),
        _ => Some(match state.core.progress.get(v.id) {
            Some(p) => format!(
                "This video is being processed ({:.0} %). It will play when it is ready.",
                p.percent
            ),
            None => {
                "This video is waiting to be processed. It will play when it is ready.".to_owned()
            }
        }),
    }
}

pub async fn watch(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    Query(q): Query<WatchQuery>,
) -> Result<Response, PageError> {
    let l = load(&state, &visitor, id).await?;
    let u = Urls::new(&state.core.config());
    let player = player_json(&l, &q)?;
    let v = &l.video;
    let here = urls::watch(&v.uuid);
    let meta = Meta {
        url: u.absolute(&here),
        embed_url: u.absolute(&urls::embed(&v.uuid)),
        image: v.preview.as_ref().map(|n| u.absolute(&urls::preview(n))),
        description: summary(v.description.as_deref()),
        oembed: u.absolute(&urls::oembed(&u.absolute(&here))),
        width: 1280,
        height: 720,
    };
    let more = more_from_channel(&state, &visitor, v).await?;
    let t = WatchPage {
        chrome: Chrome::new(&state, &visitor, v.name.clone(), &here),
        title: v.name.clone(),
        channel: l.channel.display_name.clone(),
        channel_href: urls::channel_page(&l.channel.handle()),
        account: l.account.display_name.clone(),
        account_href: urls::account_page(&l.account.handle()),
        views: format::views(v.views),
        published: format::age(v.published_at_ms, crate::model::now_ms()),
        published_iso: crate::model::iso8601(v.published_at_ms),
        description_html: markdown::to_html(v.description.as_deref().unwrap_or("")),
        tags: v.tags.clone(),
        privacy: v.privacy.label(),
        notice: processing_notice(&state, v),
        player,
        player_js: assets::url("player.js"),
        meta,
        more,
        noindex: !matches!(v.privacy, Privacy::Public),
        rating: Rating {
            likes: v.likes,
            dislikes: v.dislikes,
            mine: visitor.user.as_ref().map(|_| match l.rated {
                Some(RateKind::Like) => "like",
                Some(RateKind::Dislike) => "dislike",
                None => "none",
            }),
            rate_url: format!("/api/v1/videos/{}/rate", v.uuid),
            login_href: format!(
                "/login?next={}",
                url::form_urlencoded::byte_serialize(here.as_bytes()).collect::<String>()
            ),
        },
    };
    let csp = policy_for(CSP, v);
    Ok(respond_with(&visitor, StatusCode::OK, &t, &csp))
}

/// Up to 8 other videos of the same channel, newest first, as the viewer may list them.
async fn more_from_channel(
    state: &AppState,
    visitor: &Visitor,
    v: &Video,
) -> Result<Vec<Card>, PageError> {
    let core = state.core.clone();
    let viewer = visitor.user.clone();
    let (channel_id, id) = (v.channel_id, v.id);
    Ok(blocking(move || {
        let params = Params::from_pairs(vec![
            ("sort".to_owned(), "-publishedAt".to_owned()),
            ("count".to_owned(), "9".to_owned()),
        ]);
        let mut q = query::video_query(&core, &params, viewer.as_ref())?;
        q.filter.channel_id = Some(channel_id);
        let (_, list) = listing::page(&core, &q)?;
        let others: Vec<Video> = list.into_iter().filter(|o| o.id != id).take(8).collect();
        cards::cards(&core, &others)
    })
    .await?)
}

pub async fn embed(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    Query(q): Query<WatchQuery>,
) -> Result<Response, PageError> {
    let l = load(&state, &visitor, id).await?;
    let t = EmbedPage {
        title: l.video.name.clone(),
        instance: state.core.config().instance.name.clone(),
        watch_href: urls::watch(&l.video.uuid),
        player: player_json(&l, &q)?,
        player_js: assets::url("player.js"),
        css: assets::url("style.css"),
    };
    let csp = policy_for(EMBED_CSP, &l.video);
    Ok(respond_with(&visitor, StatusCode::OK, &t, &csp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_are_short_plain_text() {
        assert_eq!(summary(None), "");
        assert_eq!(summary(Some("  hi  ")), "hi");
        let long = "x".repeat(500);
        assert_eq!(summary(Some(&long)).chars().count(), 201);
    }

    #[test]
    fn start_prefers_start_over_t() {
        let q = WatchQuery {
            start: Some("1m30s".into()),
            t: Some("5".into()),
        };
        assert_eq!(start_of(&q), 90);
        let q = WatchQuery {
            start: None,
            t: Some("bogus".into()),
        };
        assert_eq!(start_of(&q), 0);
    }
}
