//! Serving a video's files at PeerTube's paths, streamed from disk by tower-http's `ServeFile`
//! (HTTP Range, `HEAD`, MIME types from the extension), with a strong `ETag` and
//! `If-None-Match`, CORS for remote players, and cache headers:
//!
//! - HLS: `/static/streaming-playlists/hls/[private/]{uuid}/{file}`;
//! - progressive MP4s: `/static/web-videos/[private/]{uuid}-{height}.mp4`;
//! - downloads (`Content-Disposition: attachment`): `/download/web-videos/{uuid}-{height}.mp4`,
//!   `/download/streaming-playlists/hls/videos/{uuid}-{height}-fragmented.mp4`,
//!   `/download/torrents/{name}`;
//! - `.torrent` files: `/lazy-static/torrents/{name}`;
//! - images: `/lazy-static/thumbnails/{name}`, `/lazy-static/previews/{name}`,
//!   `/lazy-static/storyboards/{name}`.
//!
//! Every file of a video, its images included, is served only to those who may watch it; a
//! download also needs downloads enabled (or the owner). Images have random names that change
//! whenever the image does. Files of a video that is not public are marked `private` for caches,
//! so no shared cache keeps what its owner may later hide.

use std::path::PathBuf;

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::response::Response;
use axum::routing::get;

use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{MaybeAuth, blocking};
use crate::http::files;
use crate::model::user::User;
use crate::model::video::{Privacy, Video};
use crate::service::images::{self, Kind};
use crate::service::media_files::{self, VideoDirs};
use crate::service::{videos, visibility};

/// The routes of this module, outside `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/static/streaming-playlists/hls/{uuid}/{file}",
            get(hls_file),
        )
        .route(
            "/static/streaming-playlists/hls/private/{uuid}/{file}",
            get(hls_file),
        )
        .route("/static/web-videos/{file}", get(web_video))
        .route("/static/web-videos/private/{file}", get(web_video))
        .route("/download/web-videos/{file}", get(download_web_video))
        .route(
            "/download/streaming-playlists/hls/videos/{file}",
            get(download_hls_file),
        )
        .route("/lazy-static/torrents/{file}", get(torrent))
        .route("/download/torrents/{file}", get(download_torrent))
        .route("/lazy-static/thumbnails/{file}", get(thumbnail))
        .route("/lazy-static/previews/{file}", get(preview))
        .route("/lazy-static/storyboards/{file}", get(storyboard))
}

/// A file name we write: letters, digits, `-`, `_` and `.`, not starting with a dot.
fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The video UUID our file names start with (`<uuid>-…`).
fn uuid_prefix(name: &str) -> ApiResult<uuid::Uuid> {
    if !safe_name(name) {
        return Err(ApiError::not_found("File"));
    }
    name.get(..36)
        .filter(|_| name.as_bytes().get(36) == Some(&b'-'))
        .and_then(|u| uuid::Uuid::parse_str(u).ok())
        .ok_or_else(|| ApiError::not_found("File"))
}

/// How a file is answered.
struct Serve {
    cache: Cache,
    content_type: Option<&'static str>,
    /// `Some(name)` sends it as an attachment with that file name.
    attachment: Option<String>,
}

/// How long caches may keep a file, and whether shared caches may (public videos only).
#[derive(Debug, Clone, Copy)]
enum Cache {
    /// Playlists: a rung may be added to them.
    Minute,
    /// Media files and torrents.
    Hour,
    /// Images, whose name changes with their bytes.
    Forever,
}

impl Cache {
    fn header(self, video: &Video) -> &'static str {
        match (self, video.privacy == Privacy::Public) {
            (Cache::Minute, true) => "public, max-age=60",
            (Cache::Minute, false) => "private, max-age=60",
            (Cache::Hour, true) => "public, max-age=3600",
            (Cache::Hour, false) => "private, max-age=3600",
            (Cache::Forever, true) => "public, max-age=31536000, immutable",
            (Cache::Forever, false) => "private, max-age=31536000, immutable",
        }
    }
}

impl Serve {
    /// A video file: cached an hour, type from the extension, maybe as an attachment.
    fn media(attachment: Option<String>) -> Serve {
        Serve {
            cache: Cache::Hour,
            content_type: None,
            attachment,
        }
    }
}

pub async fn hls_file(
    State(state): State<AppState>,
    MaybeAuth(viewer): MaybeAuth,
    Path((uuid, file)): Path<(String, String)>,
    req: Request,
) -> ApiResult<Response> {
    let uuid = uuid::Uuid::parse_str(&uuid).map_err(|_| ApiError::not_found("File"))?;
    if !safe_name(&file) {
        return Err(ApiError::not_found("File"));
    }
    let (video, dirs) = visible(&state, &uuid, viewer.as_ref(), false)?;
    let playlist = file.ends_with(".m3u8");
    let how = Serve {
        cache: if playlist { Cache::Minute } else { Cache::Hour },
        content_type: playlist.then_some("application/vnd.apple.mpegurl"),
        attachment: None,
    };
    serve(&state, &video, dirs.hls().join(&file), how, req).await
}

pub async fn web_video(
    State(state): State<AppState>,
    MaybeAuth(viewer): MaybeAuth,
    Path(file): Path<String>,
    req: Request,
) -> ApiResult<Response> {
    let (video, dirs) = visible(&state, &uuid_prefix(&file)?, viewer.as_ref(), false)?;
    let how = Serve::media(None);
    let path = web_video_path(&state, &video, dirs, &file).await?;
    serve(&state, &video, path, how, req).await
}

pub async fn download_web_video(
    State(state): State<AppState>,
    MaybeAuth(viewer): MaybeAuth,
    Path(file): Path<String>,
    req: Request,
) -> ApiResult<Response> {
    let (video, dirs) = visible(&state, &uuid_prefix(&file)?, viewer.as_ref(), true)?;
    let rest = file.get(37..).unwrap_or_default();
    let how = Serve::media(Some(format!("{}-{rest}", video.name)));
    let path = web_video_path(&state, &video, dirs, &file).await?;
    serve(&state, &video, path, how, req).await
}

/// A web video's file: the progressive MP4 once made; before that, the original upload
/// (PeerTube serves the input meanwhile).
async fn web_video_path(
    state: &AppState,
    video: &Video,
    dirs: VideoDirs,
    file: &str,
) -> ApiResult<PathBuf> {
    let (core, video, file) = (state.core.clone(), video.clone(), file.to_owned());
    blocking(move || {
        let source = videos::files_of(&core, video.id)?.source;
        media_files::web_video_file(&dirs, &video, source.as_ref(), &file)
            .ok_or_else(|| ApiError::not_found("File"))
    })
    .await
}

pub async fn download_hls_file(
    State(state): State<AppState>,
    MaybeAuth(viewer): MaybeAuth,
    Path(file): Path<String>,
    req: Request,
) -> ApiResult<Response> {
    let (video, dirs) = visible(&state, &uuid_prefix(&file)?, viewer.as_ref(), true)?;
    let height = file
        .get(37..)
        .unwrap_or_default()
        .trim_end_matches("-fragmented.mp4");
    let how = Serve::media(Some(format!("{}-{height}-fragmented.mp4", video.name)));
    serve(&state, &video, dirs.hls().join(&file), how, req).await
}

pub async fn torrent(
    State(state): State<AppState>,
    MaybeAuth(viewer): MaybeAuth,
    Path(file): Path<String>,
    req: Request,
) -> ApiResult<Response> {
    torrent_file(&state, viewer.as_ref(), &file, false, req).await
}

pub async fn download_torrent(
    State(state): State<AppState>,
    MaybeAuth(viewer): MaybeAuth,
    Path(file): Path<String>,
    req: Request,
) -> ApiResult<Response> {
    torrent_file(&state, viewer.as_ref(), &file, true, req).await
}

async fn torrent_file(
    state: &AppState,
    viewer: Option<&User>,
    file: &str,
    download: bool,
    req: Request,
) -> ApiResult<Response> {
    if !file.ends_with(".torrent") {
        return Err(ApiError::not_found("File"));
    }
    let (video, dirs) = visible(state, &uuid_prefix(file)?, viewer, download)?;
    let how = Serve {
        cache: Cache::Hour,
        content_type: Some("application/x-bittorrent"),
        attachment: download.then(|| file.to_owned()),
    };
    serve(state, &video, dirs.torrents().join(file), how, req).await
}

pub async fn thumbnail(
    State(state): State<AppState>,
    MaybeAuth(viewer): MaybeAuth,
    Path(file): Path<String>,
    req: Request,
) -> ApiResult<Response> {
    image(&state, viewer.as_ref(), Some(Kind::Thumbnail), &file, req).await
}

pub async fn preview(
    State(state): State<AppState>,
    MaybeAuth(viewer): MaybeAuth,
    Path(file): Path<String>,
    req: Request,
) -> ApiResult<Response> {
    image(&state, viewer.as_ref(), Some(Kind::Preview), &file, req).await
}

/// A storyboard's sprites.
pub async fn storyboard(
    State(state): State<AppState>,
    MaybeAuth(viewer): MaybeAuth,
    Path(file): Path<String>,
    req: Request,
) -> ApiResult<Response> {
    if !file.ends_with("-storyboard.jpg") {
        return Err(ApiError::not_found("File"));
    }
    image(&state, viewer.as_ref(), None, &file, req).await
}

/// A thumbnail, preview (`Some(kind)`) or storyboard (`None`) of a video `viewer` may watch.
async fn image(
    state: &AppState,
    viewer: Option<&User>,
    kind: Option<Kind>,
    file: &str,
    req: Request,
) -> ApiResult<Response> {
    if !file.ends_with(".jpg") {
        return Err(ApiError::not_found("File"));
    }
    let (video, dirs) = visible(state, &uuid_prefix(file)?, viewer, false)?;
    let path = match kind {
        Some(kind) => images::path(&dirs, kind, file),
        None => dirs.images().join(file),
    };
    let how = Serve {
        cache: Cache::Forever,
        content_type: Some("image/jpeg"),
        attachment: None,
    };
    serve(state, &video, path, how, req).await
}

/// The video named by `uuid` if `viewer` may watch it (and, for a download, download it), with
/// its folders.
fn visible(
    state: &AppState,
    uuid: &uuid::Uuid,
    viewer: Option<&User>,
    download: bool,
) -> ApiResult<(Video, VideoDirs)> {
    let owned = visibility::load_files_of(&state.core, &uuid.to_string(), viewer)?;
    if download {
        visibility::check_download(&owned, viewer)?;
    }
    let dirs = VideoDirs::of(&state.core, uuid);
    Ok((owned.video, dirs))
}

/// Serve a file of `video`, cached as its privacy allows.
async fn serve(
    state: &AppState,
    video: &Video,
    path: PathBuf,
    how: Serve,
    req: Request,
) -> ApiResult<Response> {
    let how = files::Serve {
        cache_control: how.cache.header(video),
        content_type: how.content_type,
        attachment: how.attachment,
    };
    files::serve(&state.range_reads, path, how, req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_file_names_are_served() {
        assert!(safe_name("0c1f-720-fragmented.mp4"));
        assert!(safe_name("master.m3u8"));
        for bad in ["", "../vireo.redb", ".hidden", "a/b", "a\\\\b", "x%2e%2e"] {
            assert!(!safe_name(bad), "{bad}");
        }
        let u = "e7946124-7b72-4ad7-9d22-844a84bb2de1";
        assert!(uuid_prefix(&format!("{u}-720.mp4")).is_ok());
        assert!(uuid_prefix(&format!("{u}720.mp4")).is_err());
        assert!(uuid_prefix("e7946124-7b72").is_err());
    }
}
