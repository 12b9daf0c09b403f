//! Every public address of this instance, built in one place: pages (watch, embed, channel and
//! account), ActivityPub-style actor URLs, and the served files (images, web videos, HLS,
//! torrents). The path functions give site-relative paths (what the web UI links to, so a page
//! works under whatever host name the browser used); `Urls` makes them absolute with the
//! configured public URL (what the API and feeds publish).
//!
//! The routes that serve these paths are declared in `app.rs`.

use uuid::Uuid;

use crate::config::Config;
use crate::model::video::short_uuid;

/// Absolute URLs under the instance's public URL (`server.public_url`).
#[derive(Debug, Clone)]
pub struct Urls {
    base: String,
}

impl Urls {
    pub fn new(config: &Config) -> Urls {
        Urls {
            base: config.public_url(),
        }
    }

    /// The public URL itself, without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `path` (site-relative, starting with `/`) as an absolute URL.
    pub fn absolute(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A URL of this instance back to its path (any other URL unchanged).
    pub fn local_path<'a>(&self, url: &'a str) -> &'a str {
        url.strip_prefix(self.base.as_str()).unwrap_or(url)
    }
}

/// The watch page by short UUID (`/w/…`), as PeerTube shares it.
pub fn watch(uuid: &Uuid) -> String {
    format!("/w/{}", short_uuid(uuid))
}

/// The watch page by UUID (`/videos/watch/…`): a video's canonical URL in PeerTube's JSON.
pub fn watch_long(uuid: &Uuid) -> String {
    format!("/videos/watch/{uuid}")
}

pub fn embed(uuid: &Uuid) -> String {
    format!("/videos/embed/{uuid}")
}

/// The web UI's channel page.
pub fn channel_page(name: &str) -> String {
    format!("/c/{name}")
}

/// The inbox every local actor shares (`endpoints.sharedInbox`).
pub const SHARED_INBOX: &str = "/inbox";

/// The web UI's page about the instance (the instance actor's profile page).
pub const INSTANCE_PAGE: &str = "/about/instance";
/// "Follow from your server": a visitor names its account, and is sent to its own server.
pub const REMOTE_FOLLOW: &str = "/remote-follow";
/// Where a user of this server confirms following a remote actor (the WebFinger subscribe
/// template's page).
pub const AUTHORIZE_INTERACTION: &str = "/authorize_interaction";

/// The web UI's account page.
pub fn account_page(name: &str) -> String {
    format!("/a/{name}")
}

/// An account's canonical URL (its actor id once federation serves it).
pub fn account_actor(name: &str) -> String {
    format!("/accounts/{name}")
}

/// A channel's canonical URL (its actor id once federation serves it).
pub fn channel_actor(name: &str) -> String {
    format!("/video-channels/{name}")
}

pub fn video_description(uuid: &Uuid) -> String {
    format!("/api/v1/videos/{uuid}/description")
}

/// Where the player reports watching (`POST`).
pub fn video_views(uuid: &Uuid) -> String {
    format!("/api/v1/videos/{uuid}/views")
}

pub fn thumbnail(file: &str) -> String {
    format!("/lazy-static/thumbnails/{file}")
}

pub fn preview(file: &str) -> String {
    format!("/lazy-static/previews/{file}")
}

pub fn storyboard(file: &str) -> String {
    format!("/lazy-static/storyboards/{file}")
}

pub fn torrent(file: &str) -> String {
    format!("/lazy-static/torrents/{file}")
}

pub fn torrent_download(file: &str) -> String {
    format!("/download/torrents/{file}")
}

/// A progressive file (or the original upload served until it is made).
pub fn web_video(file: &str) -> String {
    format!("/static/web-videos/{file}")
}

pub fn web_video_download(file: &str) -> String {
    format!("/download/web-videos/{file}")
}

/// The folder of a video's HLS playlists and fragmented MP4s.
pub fn hls_dir(uuid: &Uuid) -> String {
    format!("/static/streaming-playlists/hls/{uuid}")
}

/// A file in a video's HLS folder (a rendition's playlist or media).
pub fn hls_file(uuid: &Uuid, file: &str) -> String {
    format!("{}/{file}", hls_dir(uuid))
}

/// A file's technical description (`service::file_facts`), by the id the video's JSON gives it.
pub fn file_metadata(uuid: &Uuid, file_id: usize) -> String {
    format!("/api/v1/videos/{uuid}/metadata/{file_id}")
}

pub fn hls_master(uuid: &Uuid) -> String {
    hls_file(uuid, "master.m3u8")
}

pub fn hls_download(file: &str) -> String {
    format!("/download/streaming-playlists/hls/videos/{file}")
}

/// The oEmbed endpoint describing `url` (for link previews).
pub fn oembed(url: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(url.as_bytes()).collect();
    format!("/services/oembed?url={encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_relative_and_urls_absolute() {
        let u = Urls {
            base: "https://v.example".into(),
        };
        let id = Uuid::nil();
        assert_eq!(
            u.absolute(&hls_master(&id)),
            format!("https://v.example/static/streaming-playlists/hls/{id}/master.m3u8")
        );
        assert_eq!(u.local_path("https://v.example/w/x"), "/w/x");
        assert_eq!(u.local_path("https://other/w/x"), "https://other/w/x");
        assert_eq!(
            oembed("https://v.example/w/a b"),
            "/services/oembed?url=https%3A%2F%2Fv.example%2Fw%2Fa+b"
        );
    }
}
