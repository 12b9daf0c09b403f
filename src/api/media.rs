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
//! Video files and torrents of a video are served only to those who may watch it; a download
//! also needs downloads enabled (or the owner). Images are public, as PeerTube serves them:
//! their names are unguessable and change whenever the image does.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower::ServiceExt;
use tower_http::cors::{Any, CorsLayer};
use tower_http::services::ServeFile;

use super::error::{ApiError, ApiResult};
use super::extract::MaybeAuth;
use super::videos::load_visible;
use crate::app::AppState;
use crate::auth::rights;
use crate::model::user::User;
use crate::model::video::{Video, VideoSource};
use crate::service::images::{self, Kind};
use crate::service::pipeline::VideoDirs;
use crate::store::{records, tables};

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
        .layer(cors())
}

/// Any site may embed and play public files (a remote player, a federated instance's page);
/// hls.js sends `Range` and reads the length and range of answers.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::HEAD])
        .allow_headers([header::RANGE, header::IF_NONE_MATCH, header::AUTHORIZATION])
        .expose_headers([
            header::CONTENT_LENGTH,
            header::CONTENT_RANGE,
            header::ETAG,
            header::ACCEPT_RANGES,
        ])
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
    cache: &'static str,
    content_type: Option<&'static str>,
    /// `Some(name)` sends it as an attachment with that file name.
    attachment: Option<String>,
}

const MEDIA_CACHE: &str = "public, max-age=3600";

impl Serve {
    /// A video file: cached an hour, type from the extension, maybe as an attachment.
    fn media(attachment: Option<String>) -> Serve {
        Serve {
            cache: MEDIA_CACHE,
            content_type: None,
            attachment,
        }
    }
}
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

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
    let (_, dirs) = visible(&state, &uuid, viewer.as_ref(), false)?;
    let playlist = file.ends_with(".m3u8");
    let how = Serve {
        cache: if playlist {
            "public, max-age=60"
        } else {
            MEDIA_CACHE
        },
        content_type: playlist.then_some("application/vnd.apple.mpegurl"),
        attachment: None,
    };
    serve(&state, dirs.hls().join(&file), how, req).await
}

pub async fn web_video(
    State(state): State<AppState>,
    MaybeAuth(viewer): MaybeAuth,
    Path(file): Path<String>,
    req: Request,
) -> ApiResult<Response> {
    let (video, dirs) = visible(&state, &uuid_prefix(&file)?, viewer.as_ref(), false)?;
    let how = Serve::media(None);
    serve(
        &state,
        web_video_path(&state, &video, &dirs, &file).await?,
        how,
        req,
    )
    .await
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
    serve(
        &state,
        web_video_path(&state, &video, &dirs, &file).await?,
        how,
        req,
    )
    .await
}

/// A web video's file: the progressive MP4 once made; before that, the original upload under
/// the name `api::views::original_file_name` gives it (PeerTube serves the input meanwhile).
async fn web_video_path(
    state: &AppState,
    video: &Video,
    dirs: &VideoDirs,
    file: &str,
) -> ApiResult<PathBuf> {
    let made = dirs.web_videos().join(file);
    if tokio::fs::try_exists(&made).await.unwrap_or(false) {
        return Ok(made);
    }
    let source: Option<VideoSource> =
        records::get(&state.core.store.read()?, tables::VIDEO_SOURCES, video.id)?;
    match source {
        Some(s) if super::views::original_file_name(video, &s) == file => {
            Ok(dirs.root.join(&s.file))
        }
        _ => Err(ApiError::not_found("File")),
    }
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
    serve(&state, dirs.hls().join(&file), how, req).await
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
    let (_, dirs) = visible(state, &uuid_prefix(file)?, viewer, download)?;
    let how = Serve {
        cache: MEDIA_CACHE,
        content_type: Some("application/x-bittorrent"),
        attachment: download.then(|| file.to_owned()),
    };
    serve(state, dirs.torrents().join(file), how, req).await
}

pub async fn thumbnail(
    State(state): State<AppState>,
    Path(file): Path<String>,
    req: Request,
) -> ApiResult<Response> {
    image(&state, Kind::Thumbnail, &file, req).await
}

pub async fn preview(
    State(state): State<AppState>,
    Path(file): Path<String>,
    req: Request,
) -> ApiResult<Response> {
    image(&state, Kind::Preview, &file, req).await
}

/// A storyboard's sprites. Its name stays when it is made again, so it is cached an hour, not
/// forever.
pub async fn storyboard(
    State(state): State<AppState>,
    Path(file): Path<String>,
    req: Request,
) -> ApiResult<Response> {
    if !file.ends_with("-storyboard.jpg") || !safe_name(&file) {
        return Err(ApiError::not_found("File"));
    }
    let dirs = VideoDirs::of(&state.core, &uuid_prefix(&file)?);
    let how = Serve {
        cache: MEDIA_CACHE,
        content_type: Some("image/jpeg"),
        attachment: None,
    };
    serve(&state, dirs.images().join(&file), how, req).await
}

async fn image(state: &AppState, kind: Kind, file: &str, req: Request) -> ApiResult<Response> {
    if !file.ends_with(".jpg") {
        return Err(ApiError::not_found("File"));
    }
    let dirs = VideoDirs::of(&state.core, &uuid_prefix(file)?);
    let how = Serve {
        cache: IMMUTABLE,
        content_type: Some("image/jpeg"),
        attachment: None,
    };
    serve(state, images::path(&dirs, kind, file), how, req).await
}

/// The video named by `uuid` if `viewer` may watch it (and, for a download, download it), with
/// its folders.
fn visible(
    state: &AppState,
    uuid: &uuid::Uuid,
    viewer: Option<&User>,
    download: bool,
) -> ApiResult<(Video, VideoDirs)> {
    let (video, _, account) = load_visible(&state.core, &uuid.to_string(), viewer)?;
    if download && !video.download_enabled {
        let owner_or_moderator =
            viewer.is_some_and(|u| u.account_id == account.id || rights::can_moderate_content(u));
        if !owner_or_moderator {
            return Err(ApiError::forbidden("Video download is disabled"));
        }
    }
    let dirs = VideoDirs::of(&state.core, uuid);
    Ok((video, dirs))
}

/// Stream one file with Range, ETag/304, CORS, caching and, for downloads, a file name.
async fn serve(state: &AppState, path: PathBuf, how: Serve, req: Request) -> ApiResult<Response> {
    let meta = tokio::fs::metadata(&path)
        .await
        .map_err(|_| ApiError::not_found("File"))?;
    if !meta.is_file() {
        return Err(ApiError::not_found("File"));
    }
    let etag = entity_tag(&meta);
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut res = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else if let Some(res) = small_range(state, &path, meta.len(), single_range(&req)).await? {
        res
    } else {
        ServeFile::new(path)
            .oneshot(req)
            .await
            .map_err(|_| ApiError::internal())?
            .into_response()
    };
    if res.status() == StatusCode::NOT_FOUND {
        return Err(ApiError::not_found("File"));
    }
    let headers = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(how.cache));
    if let Some(t) = how.content_type {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(t));
    }
    if let Some(name) = how.attachment
        && let Ok(v) = HeaderValue::from_str(&content_disposition(&name))
    {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

/// Ranges up to this size are read in one go; larger ones (and whole files) stream.
const SMALL_RANGE: u64 = 4 * 1024 * 1024;
/// Small-range reads at once; past this, requests stream through `ServeFile` instead.
pub const RANGE_READ_SLOTS: usize = 16;

/// The buffers of small-range reads: at most `RANGE_READ_SLOTS` at once, reused from request to
/// request. Allocating one per request made the allocator keep ~10× their size in memory (glibc
/// arenas of the blocking-pool threads: 210 MB RSS under 64 connections against 16 MB of
/// buffers); reused, memory stays at what the slots hold.
#[derive(Debug)]
pub struct RangeBuffers {
    slots: Arc<tokio::sync::Semaphore>,
    free: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Default for RangeBuffers {
    fn default() -> Self {
        RangeBuffers {
            slots: Arc::new(tokio::sync::Semaphore::new(RANGE_READ_SLOTS)),
            free: Arc::new(Mutex::new(Vec::new())),
        }
    }
}

impl RangeBuffers {
    /// A buffer of `size` bytes, if a slot is free.
    fn take(&self, size: usize) -> Option<SlotBuffer> {
        let slot = self.slots.clone().try_acquire_owned().ok()?;
        let mut bytes = self
            .free
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop()
            .unwrap_or_default();
        bytes.clear();
        bytes.resize(size, 0);
        Some(SlotBuffer {
            bytes,
            home: self.free.clone(),
            _slot: slot,
        })
    }
}

/// Answer a single byte range of up to `SMALL_RANGE` bytes — what HLS players ask for, one
/// segment at a time — with one positioned read on the blocking pool and a one-chunk body.
/// `ServeFile` streams in 64 KiB reads, each a hop between the async runtime and the blocking
/// pool; profiling segment serving showed those hops as the main cost against nginx
/// (`benches/README.md`). Anything else (no range, several ranges, `If-Range`, a large range,
/// all slots busy) returns `None` and streams.
async fn small_range(
    state: &AppState,
    path: &std::path::Path,
    len: u64,
    range: Option<String>,
) -> ApiResult<Option<Response>> {
    let Some(range) = range else {
        return Ok(None);
    };
    let Ok(parsed) = http_range_header::parse_range_header(&range) else {
        return Ok(None);
    };
    let Ok(ranges) = parsed.validate(len) else {
        return Ok(None);
    };
    let [range] = ranges.as_slice() else {
        return Ok(None);
    };
    let (start, end) = (*range.start(), *range.end());
    let size = end - start + 1;
    if size > SMALL_RANGE {
        return Ok(None);
    }
    let Some(mut buffer) = state.range_reads.take(size as usize) else {
        return Ok(None);
    };
    let file = path.to_owned();
    let buffer = tokio::task::spawn_blocking(move || -> std::io::Result<SlotBuffer> {
        use std::os::unix::fs::FileExt;
        std::fs::File::open(file)?.read_exact_at(&mut buffer.bytes, start)?;
        Ok(buffer)
    })
    .await
    .map_err(|_| ApiError::internal())?
    .map_err(|_| ApiError::not_found("File"))?;
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    // The buffer owns the slot and goes back to the pool when hyper drops it after writing.
    let body = axum::body::Bytes::from_owner(buffer);
    let res = Response::builder()
        .status(StatusCode::PARTIAL_CONTENT)
        .header(header::CONTENT_TYPE, mime.as_ref())
        .header(header::CONTENT_LENGTH, size)
        .header(header::CONTENT_RANGE, format!("bytes {start}-{end}/{len}"))
        .header(header::ACCEPT_RANGES, "bytes")
        .body(axum::body::Body::from(body))
        .map_err(|_| ApiError::internal())?;
    Ok(Some(res))
}

/// A range read and the slot it holds; its memory returns to the pool when dropped.
struct SlotBuffer {
    bytes: Vec<u8>,
    home: Arc<Mutex<Vec<Vec<u8>>>>,
    _slot: tokio::sync::OwnedSemaphorePermit,
}

impl Drop for SlotBuffer {
    fn drop(&mut self) {
        let bytes = std::mem::take(&mut self.bytes);
        self.home
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(bytes);
    }
}

impl AsRef<[u8]> for SlotBuffer {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

/// The `Range` header of a plain GET (no `If-Range`), the only kind `small_range` answers.
fn single_range(req: &Request) -> Option<String> {
    let headers = req.headers();
    if req.method() != Method::GET || headers.contains_key(header::IF_RANGE) {
        return None;
    }
    headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// `attachment` with an ASCII fallback name and the exact UTF-8 one (RFC 6266 / RFC 5987).
fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            // Characters no common file system takes become `_`.
            if c.is_ascii_graphic() && !"\"\\/:*?<>|".contains(c) || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// A strong validator from the file's size and modification time: our files are written once
/// under a temporary name and renamed, so these change whenever the content does.
fn entity_tag(meta: &std::fs::Metadata) -> String {
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("\"{:x}-{:x}\"", meta.len(), modified)
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

    #[test]
    fn download_names_survive_quotes_and_unicode() {
        let d = content_disposition("Café \"night\"/1-720.mp4");
        assert!(
            d.starts_with("attachment; filename=\"Caf_ _night__1-720.mp4\""),
            "{d}"
        );
        assert!(
            d.contains("filename*=UTF-8''Caf%C3%A9%20%22night%22%2F1-720.mp4"),
            "{d}"
        );
    }
}
