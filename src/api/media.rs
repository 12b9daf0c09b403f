//! Serving a video's playable files at PeerTube's paths
//! (`/static/streaming-playlists/hls/{uuid}/{file}`), with HTTP Range, `ETag`/`If-None-Match`,
//! correct MIME types and CORS for remote players, streamed from disk (tower-http's `ServeFile`).
//! Private videos' files are served only to those who may watch them.

use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::ServeFile;

use super::error::{ApiError, ApiResult};
use super::extract::MaybeAuth;
use super::videos::load_visible;
use crate::app::AppState;

/// A file name we write: letters, digits, `-`, `_` and `.`, not starting with a dot.
fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
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
    let (video, _, _) = load_visible(&state.core, &uuid.to_string(), viewer.as_ref())?;
    let path = crate::service::pipeline::hls_dir(&state.core, &video).join(&file);
    let meta = tokio::fs::metadata(&path)
        .await
        .map_err(|_| ApiError::not_found("File"))?;
    let etag = entity_tag(&meta);
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut res = if matches {
        StatusCode::NOT_MODIFIED.into_response()
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
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    let cache = if file.ends_with(".m3u8") {
        "public, max-age=60"
    } else {
        "public, max-age=3600"
    };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if file.ends_with(".m3u8") {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/vnd.apple.mpegurl"),
        );
    }
    Ok(res)
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
    #[test]
    fn only_our_file_names_are_served() {
        assert!(super::safe_name("0c1f-720-fragmented.mp4"));
        assert!(super::safe_name("master.m3u8"));
        for bad in ["", "../vireo.redb", ".hidden", "a/b", "a\\\\b", "x%2e%2e"] {
            assert!(!super::safe_name(bad), "{bad}");
        }
    }
}
