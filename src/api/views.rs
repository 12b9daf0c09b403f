//! PeerTube's JSON shapes, built from stored records. Field order follows PeerTube's own output,
//! so responses diff cleanly against a real instance.

use serde::Serialize;

use crate::config::Config;
use crate::model::account::Account;
use crate::model::channel::Channel;
use crate::model::iso8601;
use crate::model::user::User;
use crate::model::video::{
    RemoteFile, RemoteVideo, TorrentFile, Video, VideoMedia, VideoSource, short_uuid,
};
use crate::model::vocab;
use crate::service::file_facts::{self, FileFacts, Playable};
use crate::service::media_files;
use crate::service::urls::{self, Urls};

/// What every view needs to know about this instance.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub urls: Urls,
    pub host: String,
}

impl Ctx {
    pub fn new(config: &Config) -> Ctx {
        Ctx {
            urls: Urls::new(config),
            host: config.public_host(),
        }
    }

    fn host_of(&self, host: &Option<String>) -> String {
        host.clone().unwrap_or_else(|| self.host.clone())
    }
}

/// An account's actor id: its URL here, or on its own server for a remote one.
fn account_url(ctx: &Ctx, a: &Account) -> String {
    a.url
        .clone()
        .unwrap_or_else(|| ctx.urls.absolute(&urls::account_actor(&a.name)))
}

/// A channel's actor id, as `account_url`.
fn channel_url(ctx: &Ctx, c: &Channel) -> String {
    c.url
        .clone()
        .unwrap_or_else(|| ctx.urls.absolute(&urls::channel_actor(&c.name)))
}

#[derive(Debug, Serialize)]
pub struct IdLabel<I: Serialize> {
    pub id: I,
    pub label: &'static str,
}

/// An actor image (avatar, banner). Vireo has none yet; the type fixes the shape.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActorImage {
    pub width: Option<u32>,
    pub path: String,
    pub file_url: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountJson {
    pub url: String,
    pub name: String,
    pub host: String,
    pub avatars: Vec<ActorImage>,
    pub id: u64,
    pub host_redundancy_allowed: Option<bool>,
    pub following_count: u64,
    pub followers_count: u64,
    pub created_at: String,
    pub banners: Vec<ActorImage>,
    pub display_name: String,
    pub description: Option<String>,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<u64>,
}

pub fn account(ctx: &Ctx, a: &Account) -> AccountJson {
    AccountJson {
        url: account_url(ctx, a),
        name: a.name.clone(),
        host: ctx.host_of(&a.host),
        avatars: Vec::new(),
        id: a.id,
        host_redundancy_allowed: Some(false),
        following_count: 0,
        followers_count: 0,
        created_at: iso8601(a.created_at_ms),
        banners: Vec::new(),
        display_name: a.display_name.clone(),
        description: a.description.clone(),
        updated_at: iso8601(a.updated_at_ms),
        user_id: a.user_id,
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelJson {
    pub url: String,
    pub name: String,
    pub host: String,
    pub avatars: Vec<ActorImage>,
    pub id: u64,
    pub host_redundancy_allowed: Option<bool>,
    pub following_count: u64,
    pub followers_count: u64,
    pub created_at: String,
    pub banners: Vec<ActorImage>,
    pub display_name: String,
    pub description: Option<String>,
    pub support: Option<String>,
    pub is_local: bool,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_account: Option<AccountJson>,
}

pub fn channel(ctx: &Ctx, c: &Channel, owner: Option<&Account>) -> ChannelJson {
    ChannelJson {
        url: channel_url(ctx, c),
        name: c.name.clone(),
        host: ctx.host_of(&c.host),
        avatars: Vec::new(),
        id: c.id,
        host_redundancy_allowed: Some(false),
        following_count: 0,
        followers_count: 0,
        created_at: iso8601(c.created_at_ms),
        banners: Vec::new(),
        display_name: c.display_name.clone(),
        description: c.description.clone(),
        support: c.support.clone(),
        is_local: c.host.is_none(),
        updated_at: iso8601(c.updated_at_ms),
        owner_account: owner.map(|a| account(ctx, a)),
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountSummary {
    pub id: u64,
    pub display_name: String,
    pub name: String,
    pub url: String,
    pub host: String,
    pub avatars: Vec<ActorImage>,
}

pub fn account_summary(ctx: &Ctx, a: &Account) -> AccountSummary {
    AccountSummary {
        id: a.id,
        display_name: a.display_name.clone(),
        name: a.name.clone(),
        url: account_url(ctx, a),
        host: ctx.host_of(&a.host),
        avatars: Vec::new(),
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelSummary {
    pub id: u64,
    pub name: String,
    pub display_name: String,
    pub url: String,
    pub host: String,
    pub avatars: Vec<ActorImage>,
}

pub fn channel_summary(ctx: &Ctx, c: &Channel) -> ChannelSummary {
    ChannelSummary {
        id: c.id,
        name: c.name.clone(),
        display_name: c.display_name.clone(),
        url: channel_url(ctx, c),
        host: ctx.host_of(&c.host),
        avatars: Vec::new(),
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationSettings {
    new_comment_on_my_video: u8,
    new_video_from_subscription: u8,
    abuse_as_moderator: u8,
    video_auto_blacklist_as_moderator: u8,
    blacklist_on_my_video: u8,
    my_video_published: u8,
    my_video_import_finished: u8,
    new_user_registration: u8,
    comment_mention: u8,
    new_follow: u8,
    new_instance_follower: u8,
    auto_instance_following: u8,
    abuse_new_message: u8,
    abuse_state_change: u8,
    new_peer_tube_version: u8,
    my_video_studio_edition_finished: u8,
    my_video_transcription_generated: u8,
    new_plugin_version: u8,
}

/// PeerTube's defaults for a new user (1 = web, 3 = web and e-mail). Vireo sends no
/// notifications yet; clients still expect the object.
const DEFAULT_NOTIFICATIONS: NotificationSettings = NotificationSettings {
    new_comment_on_my_video: 1,
    new_video_from_subscription: 1,
    abuse_as_moderator: 3,
    video_auto_blacklist_as_moderator: 3,
    blacklist_on_my_video: 3,
    my_video_published: 1,
    my_video_import_finished: 1,
    new_user_registration: 1,
    comment_mention: 1,
    new_follow: 1,
    new_instance_follower: 1,
    auto_instance_following: 1,
    abuse_new_message: 3,
    abuse_state_change: 3,
    new_peer_tube_version: 3,
    my_video_studio_edition_finished: 1,
    my_video_transcription_generated: 1,
    new_plugin_version: 1,
};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserJson {
    pub id: u64,
    pub username: String,
    pub email: String,
    pub theme: &'static str,
    pub pending_email: Option<String>,
    pub email_public: bool,
    pub email_verified: bool,
    pub nsfw_policy: String,
    pub p2p_enabled: bool,
    pub videos_history_enabled: bool,
    pub auto_play_video: bool,
    pub auto_play_next_video: bool,
    pub auto_play_next_video_playlist: bool,
    pub video_languages: Option<Vec<String>>,
    pub role: IdLabel<u8>,
    pub video_quota: i64,
    pub video_quota_daily: i64,
    pub no_instance_config_warning_modal: bool,
    pub no_welcome_modal: bool,
    pub no_account_setup_warning_modal: bool,
    pub blocked: bool,
    pub blocked_reason: Option<String>,
    pub account: AccountJson,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification_settings: Option<NotificationSettings>,
    pub video_channels: Vec<ChannelJson>,
    pub created_at: String,
    pub plugin_auth: Option<String>,
    pub last_login_date: Option<String>,
    pub two_factor_enabled: bool,
    pub admin_flags: u8,
    /// `GET /users/{id}?withStats=true`, for moderators.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub stats: Option<UserStats>,
}

/// PeerTube's `UserWithStats` additions. Vireo has no abuse reports or comments yet, so those
/// counts are truly zero.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserStats {
    pub videos_count: u64,
    pub abuses_count: u64,
    pub abuses_accepted_count: u64,
    pub abuses_created_count: u64,
    pub video_comments_count: u64,
}

/// The user as PeerTube shows it; `me` adds the fields only `/users/me` carries.
pub fn user(ctx: &Ctx, u: &User, a: &Account, channels: &[Channel], me: bool) -> UserJson {
    UserJson {
        id: u.id,
        username: u.username.clone(),
        email: u.email.clone(),
        theme: "instance-default",
        pending_email: None,
        email_public: false,
        email_verified: u.email_verified,
        nsfw_policy: u.nsfw_policy.clone(),
        p2p_enabled: u.p2p_enabled,
        videos_history_enabled: true,
        auto_play_video: u.auto_play_video,
        auto_play_next_video: false,
        auto_play_next_video_playlist: true,
        video_languages: u.video_languages.clone(),
        role: IdLabel {
            id: u.role.id(),
            label: u.role.label(),
        },
        video_quota: u.video_quota,
        video_quota_daily: u.video_quota_daily,
        no_instance_config_warning_modal: true,
        no_welcome_modal: true,
        no_account_setup_warning_modal: true,
        blocked: u.blocked,
        blocked_reason: u.blocked_reason.clone(),
        account: account(ctx, a),
        notification_settings: me.then_some(DEFAULT_NOTIFICATIONS),
        video_channels: channels.iter().map(|c| channel(ctx, c, None)).collect(),
        created_at: iso8601(u.created_at_ms),
        plugin_auth: None,
        last_login_date: u.last_login_ms.map(iso8601),
        two_factor_enabled: false,
        admin_flags: 0,
        stats: None,
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VideoJson<A: Serialize, C: Serialize> {
    pub id: u64,
    pub uuid: uuid::Uuid,
    #[serde(rename = "shortUUID")]
    pub short_uuid: String,
    pub url: String,
    pub name: String,
    pub category: IdLabel<Option<u32>>,
    pub licence: IdLabel<Option<u32>>,
    pub language: IdLabel<Option<String>>,
    pub privacy: IdLabel<u8>,
    pub nsfw: bool,
    pub truncated_description: Option<String>,
    pub description: Option<String>,
    pub is_local: bool,
    pub duration: u64,
    pub aspect_ratio: Option<f64>,
    pub views: u64,
    pub viewers: u64,
    pub likes: u64,
    pub dislikes: u64,
    pub thumbnail_path: Option<String>,
    pub preview_path: Option<String>,
    pub embed_path: String,
    pub created_at: String,
    pub updated_at: String,
    pub published_at: String,
    pub originally_published_at: Option<String>,
    pub is_live: bool,
    pub account: A,
    pub channel: C,
    /// Present in lists that show videos in every state (`include` flag 1, `/users/me/videos`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<IdLabel<u8>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait_transcoding: Option<bool>,
    /// With `state`: whether moderators took the video off lists, as PeerTube's own-video
    /// lists say. Vireo has no blocklist yet, so never.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blacklisted: Option<bool>,
    /// With `blacklisted`: the moderators' reason (`null`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blacklisted_reason: Option<Option<String>>,
}

/// PeerTube cuts list descriptions to 250 characters.
fn truncate_description(d: &str) -> String {
    if d.chars().count() <= 250 {
        d.to_owned()
    } else {
        let mut s: String = d.chars().take(247).collect();
        s.push_str("...");
        s
    }
}

fn video_base<A: Serialize, C: Serialize>(
    ctx: &Ctx,
    v: &Video,
    account: A,
    channel: C,
    full_description: bool,
) -> VideoJson<A, C> {
    let truncated = v.description.as_deref().map(truncate_description);
    VideoJson {
        id: v.id,
        uuid: v.uuid,
        short_uuid: short_uuid(&v.uuid),
        url: match &v.remote {
            Some(r) => r.url.clone(),
            None => ctx.urls.absolute(&urls::watch_long(&v.uuid)),
        },
        name: v.name.clone(),
        category: IdLabel {
            id: v.category,
            label: v
                .category
                .and_then(vocab::category_label)
                .unwrap_or("Unknown"),
        },
        licence: IdLabel {
            id: v.licence,
            label: v
                .licence
                .and_then(vocab::licence_label)
                .unwrap_or("Unknown"),
        },
        language: IdLabel {
            id: v.language.clone(),
            label: v
                .language
                .as_deref()
                .and_then(vocab::language_label)
                .unwrap_or("Unknown"),
        },
        privacy: IdLabel {
            id: v.privacy.id(),
            label: v.privacy.label(),
        },
        nsfw: v.nsfw,
        description: if full_description {
            v.description.clone()
        } else {
            truncated.clone()
        },
        truncated_description: truncated,
        is_local: v.is_local,
        duration: v.duration,
        aspect_ratio: v.aspect_ratio_e4.map(|r| f64::from(r) / 10_000.0),
        views: v.views,
        viewers: 0,
        likes: v.likes,
        dislikes: v.dislikes,
        thumbnail_path: v.thumbnail.as_ref().map(|n| urls::thumbnail(n)),
        preview_path: v.preview.as_ref().map(|n| urls::preview(n)),
        embed_path: urls::embed(&v.uuid),
        created_at: iso8601(v.created_at_ms),
        updated_at: iso8601(v.updated_at_ms),
        published_at: iso8601(v.published_at_ms),
        originally_published_at: v.originally_published_at_ms.map(iso8601),
        is_live: false,
        account,
        channel,
        state: None,
        wait_transcoding: None,
        blacklisted: None,
        blacklisted_reason: None,
    }
}

fn state_of(v: &Video) -> IdLabel<u8> {
    IdLabel {
        id: v.state.id(),
        label: v.state.label(),
    }
}

/// A video as it appears in lists; `with_state` adds its state for lists of unpublished videos.
pub fn video(
    ctx: &Ctx,
    v: &Video,
    a: &Account,
    c: &Channel,
    with_state: bool,
) -> VideoJson<AccountSummary, ChannelSummary> {
    let mut json = video_base(
        ctx,
        v,
        account_summary(ctx, a),
        channel_summary(ctx, c),
        false,
    );
    if with_state {
        json.state = Some(state_of(v));
        json.wait_transcoding = Some(v.wait_transcoding);
        json.blacklisted = Some(false);
        json.blacklisted_reason = Some(None);
    }
    json
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VideoDetailsJson {
    #[serde(flatten)]
    pub base: VideoJson<AccountJson, ChannelJson>,
    pub blacklisted: bool,
    pub blacklisted_reason: Option<String>,
    pub streaming_playlists: Vec<serde_json::Value>,
    pub files: Vec<serde_json::Value>,
    pub support: Option<String>,
    pub description_path: String,
    pub tags: Vec<String>,
    pub comments_enabled: bool,
    pub comments_policy: IdLabel<u8>,
    pub download_enabled: bool,
    pub wait_transcoding: bool,
    pub input_file_updated_at: Option<String>,
    pub state: IdLabel<u8>,
    pub tracker_urls: Vec<String>,
    /// Vireo's addition: why an unpublished video waits or failed, in words for its owner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_reason: Option<String>,
    /// Vireo's addition: how far processing has got, while a job works on the video.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<ProgressJson>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProgressJson {
    pub percent: f64,
    pub eta_seconds: Option<u64>,
    /// While the AV1 ladder encodes: source frames per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fps: Option<f64>,
}

impl From<crate::service::progress::Snapshot> for ProgressJson {
    fn from(s: crate::service::progress::Snapshot) -> Self {
        ProgressJson {
            percent: s.percent,
            eta_seconds: s.eta_secs,
            fps: s.fps,
        }
    }
}

/// What `file_json` describes: one served file of a video.
struct FileView<'a> {
    id: usize,
    width: u32,
    height: u32,
    fps: f64,
    size: u64,
    has_audio: bool,
    torrent: Option<&'a TorrentFile>,
    file_url: String,
    download_url: String,
    playlist_url: Option<String>,
}

/// One entry of PeerTube's `files` (web videos) or `streamingPlaylists[].files`, keys in
/// PeerTube's order.
fn file_json(ctx: &Ctx, v: &Video, f: FileView<'_>) -> serde_json::Value {
    let mut json = serde_json::Map::new();
    let mut put = |k: &str, value: serde_json::Value| {
        json.insert(k.to_owned(), value);
    };
    put("id", f.id.into());
    put(
        "resolution",
        serde_json::json!({"id": f.height, "label": format!("{}p", f.height)}),
    );
    put("width", f.width.into());
    put("height", f.height.into());
    let torrent_url = f
        .torrent
        .map(|t| ctx.urls.absolute(&urls::torrent(&t.file)));
    if let (Some(t), Some(url)) = (f.torrent, &torrent_url) {
        let magnet = media_files::magnet(t, &v.name, f.height, url, &f.file_url);
        put("magnetUri", magnet.into());
    }
    put("size", f.size.into());
    put("fps", ((f.fps * 100.0).round() / 100.0).into());
    put("torrentUrl", torrent_url.clone().into());
    put(
        "torrentDownloadUrl",
        f.torrent
            .map(|t| ctx.urls.absolute(&urls::torrent_download(&t.file)))
            .into(),
    );
    put("fileUrl", f.file_url.into());
    put("fileDownloadUrl", f.download_url.into());
    put(
        "metadataUrl",
        ctx.urls
            .absolute(&urls::file_metadata(&v.uuid, f.id))
            .into(),
    );
    put("hasAudio", f.has_audio.into());
    put("hasVideo", true.into());
    if let Some(p) = f.playlist_url {
        put("playlistUrl", p.into());
    }
    put("storage", 0.into());
    serde_json::Value::Object(json)
}

/// PeerTube's `files`: the progressive MP4s, largest first (the original upload until they are
/// made: `media_files::web_files`), numbered as `file_facts::playable_files` numbers them.
fn web_video_files(
    ctx: &Ctx,
    v: &Video,
    media: &VideoMedia,
    source: Option<&VideoSource>,
) -> Vec<serde_json::Value> {
    file_facts::playable_files(v, media, source)
        .into_iter()
        .filter_map(|(id, f)| match f {
            Playable::Web(f) => Some(file_json(
                ctx,
                v,
                FileView {
                    id,
                    width: f.width,
                    height: f.height,
                    fps: f.fps,
                    size: f.size,
                    has_audio: f.has_audio,
                    torrent: f.torrent,
                    file_url: ctx.urls.absolute(&urls::web_video(&f.name)),
                    download_url: ctx.urls.absolute(&urls::web_video_download(&f.name)),
                    playlist_url: None,
                },
            )),
            Playable::Hls(_) => None,
        })
        .collect()
}

/// PeerTube's `streamingPlaylists`: one HLS playlist with a file per rendition.
fn streaming_playlists(
    ctx: &Ctx,
    v: &Video,
    media: &VideoMedia,
    source: Option<&VideoSource>,
) -> Vec<serde_json::Value> {
    if media.hls.is_empty() {
        return Vec::new();
    }
    let files: Vec<serde_json::Value> = file_facts::playable_files(v, media, source)
        .into_iter()
        .filter_map(|(id, f)| match f {
            Playable::Hls(r) => Some(file_json(
                ctx,
                v,
                FileView {
                    id,
                    width: r.width,
                    height: r.height,
                    fps: r.fps,
                    size: r.size,
                    has_audio: r.codecs.contains(','),
                    torrent: r.torrent.as_ref(),
                    file_url: ctx.urls.absolute(&urls::hls_file(&v.uuid, &r.file)),
                    download_url: ctx.urls.absolute(&urls::hls_download(&r.file)),
                    playlist_url: Some(ctx.urls.absolute(&urls::hls_file(&v.uuid, &r.playlist))),
                },
            )),
            Playable::Web(_) => None,
        })
        .collect();
    vec![serde_json::json!({
        "id": 1,
        "type": 1,
        "playlistUrl": ctx.urls.absolute(&urls::hls_master(&v.uuid)),
        "segmentsSha256Url": null,
        "redundancies": [],
        "files": files,
    })]
}

/// A remote video's HLS playlist, as PeerTube shows one: the origin's URLs, nothing proxied.
fn remote_playlists(r: &RemoteVideo) -> Vec<serde_json::Value> {
    let Some(hls) = &r.hls else {
        return Vec::new();
    };
    vec![serde_json::json!({
        "id": 1,
        "type": 1,
        "playlistUrl": hls.url,
        "segmentsSha256Url": hls.segments_sha256_url,
        "redundancies": [],
        "files": remote_files(&hls.files, true, 1),
    })]
}

fn remote_hls_count(r: &RemoteVideo) -> u64 {
    r.hls.as_ref().map_or(0, |h| h.files.len() as u64)
}

/// A remote video's files, numbered from `first_id` in the order given (the HLS files first,
/// then the progressive ones, as local files are). An HLS file's playlist sits beside it on
/// the origin, PeerTube's way (`…-720-fragmented.mp4` → `…-720.m3u8`).
fn remote_files(files: &[RemoteFile], hls: bool, first_id: u64) -> Vec<serde_json::Value> {
    files
        .iter()
        .zip(first_id..)
        .map(|(f, id)| {
            let mut json = serde_json::json!({
                "id": id,
                "resolution": {"id": f.height, "label": format!("{}p", f.height)},
                "width": f.width,
                "height": f.height,
                "size": f.size,
                "fps": f.fps,
                "torrentUrl": null,
                "torrentDownloadUrl": null,
                "fileUrl": f.url,
                "fileDownloadUrl": f.url,
                "metadataUrl": null,
                "hasAudio": true,
                "hasVideo": true,
                "storage": null,
            });
            if hls && let Some(stem) = f.url.strip_suffix("-fragmented.mp4") {
                json["playlistUrl"] = format!("{stem}.m3u8").into();
            }
            json
        })
        .collect()
}

/// A video as `GET /api/v1/videos/{id}` returns it.
pub fn video_details(
    ctx: &Ctx,
    v: &Video,
    a: &Account,
    c: &Channel,
    media: &VideoMedia,
    source: Option<&VideoSource>,
) -> VideoDetailsJson {
    VideoDetailsJson {
        base: video_base(ctx, v, account(ctx, a), channel(ctx, c, Some(a)), true),
        blacklisted: false,
        blacklisted_reason: None,
        streaming_playlists: match &v.remote {
            Some(r) => remote_playlists(r),
            None => streaming_playlists(ctx, v, media, source),
        },
        files: match &v.remote {
            Some(r) => remote_files(&r.web_videos, false, remote_hls_count(r) + 1),
            None => web_video_files(ctx, v, media, source),
        },
        support: v.support.clone(),
        description_path: urls::video_description(&v.uuid),
        tags: v.tags.clone(),
        comments_enabled: v.comments_policy != crate::model::video::CommentsPolicy::Disabled,
        comments_policy: IdLabel {
            id: v.comments_policy.id(),
            label: v.comments_policy.label(),
        },
        download_enabled: v.download_enabled,
        wait_transcoding: v.wait_transcoding,
        input_file_updated_at: None,
        state: IdLabel {
            id: v.state.id(),
            label: v.state.label(),
        },
        tracker_urls: Vec::new(),
        state_reason: (v.state != crate::model::video::VideoState::Published)
            .then(|| v.state_reason.clone())
            .flatten(),
        progress: None,
    }
}

/// A file's technical description in the shape of ffprobe's JSON (`-show_streams
/// -show_format -show_chapters`), as PeerTube stores and serves it: what its player's
/// statistics and download dialogs read. Numbers ffprobe writes as strings stay strings.
pub fn file_metadata(f: &FileFacts) -> serde_json::Value {
    use serde_json::json;
    let seconds = format!("{:.6}", f.duration_ms as f64 / 1000.0);
    let bit_rate = (f.duration_ms > 0).then(|| (f.size * 8 * 1000 / f.duration_ms).to_string());
    let rate = frame_rate(f.video.fps);
    let mut streams = vec![json!({
        "index": 0,
        "codec_name": f.video.codec,
        "codec_type": "video",
        "width": f.video.width,
        "height": f.video.height,
        "coded_width": f.video.width,
        "coded_height": f.video.height,
        "r_frame_rate": rate,
        "avg_frame_rate": rate,
        "duration": seconds,
    })];
    if let Some(a) = &f.audio {
        streams.push(json!({
            "index": 1,
            "codec_name": a.codec,
            "codec_type": "audio",
            "sample_rate": a.sample_rate.map(|r| r.to_string()),
            "channels": a.channels,
            "channel_layout": a.channels.map(|c| match c {
                1 => "mono".to_owned(),
                2 => "stereo".to_owned(),
                n => format!("{n} channels"),
            }),
            "duration": seconds,
        }));
    }
    json!({
        "streams": streams,
        "format": {
            "nb_streams": streams.len(),
            "format_name": match f.container {
                "matroska" => "matroska,webm",
                _ => "mov,mp4,m4a,3gp,3g2,mj2",
            },
            "duration": seconds,
            "size": f.size.to_string(),
            "bit_rate": bit_rate,
        },
        "chapters": [],
    })
}

/// A frame rate as ffprobe writes it: a fraction, NTSC rates exact (`30000/1001`).
fn frame_rate(fps: f64) -> String {
    if fps <= 0.0 || !fps.is_finite() {
        return "0/0".into();
    }
    let ntsc = (fps * 1001.0 / 1000.0).round();
    if (ntsc * 1000.0 / 1001.0 - fps).abs() < 0.005 && (fps.round() - fps).abs() > 0.005 {
        format!("{}/1001", ntsc as u64 * 1000)
    } else {
        format!("{}/1", fps.round() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_descriptions_are_truncated_like_peertube() {
        assert_eq!(truncate_description("short"), "short");
        let long = "é".repeat(300);
        let t = truncate_description(&long);
        assert_eq!(t.chars().count(), 250);
        assert!(t.ends_with("..."));
    }
}
