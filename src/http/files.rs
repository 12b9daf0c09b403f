//! Serving a file from disk: `Range` (a single small range read in one go into pooled buffers,
//! anything else streamed by tower-http's `ServeFile`), a strong `ETag` and `If-None-Match`, the
//! MIME type from the extension, `Cache-Control` and, for downloads, `Content-Disposition`.
//! Which files may be served to whom is the edges' business (`api::media`, with `service::visibility`).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::ServeFile;

use super::error::{ApiError, ApiResult};

/// How a file is answered: its `Cache-Control`, its type when not told by its extension, and
/// for a download the file name it is saved under.
#[derive(Debug, Clone)]
pub struct Serve {
    pub cache_control: &'static str,
    pub content_type: Option<&'static str>,
    pub attachment: Option<String>,
}

/// Stream one file with Range, ETag/304, MIME type and caching and, for downloads, a file name.
pub async fn serve(
    buffers: &RangeBuffers,
    path: PathBuf,
    how: Serve,
    req: Request,
) -> ApiResult<Response> {
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
    } else if let Some(res) = small_range(buffers, &path, meta.len(), single_range(&req)).await? {
        res
    } else {
        ServeFile::new(path)
            .oneshot(req)
            .await
            .map_err(|e| ApiError::internal_from("serving a file", e))?
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
        header::CACHE_CONTROL,
        HeaderValue::from_static(how.cache_control),
    );
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
    buffers: &RangeBuffers,
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
    let Some(mut buffer) = buffers.take(size as usize) else {
        return Ok(None);
    };
    let file = path.to_owned();
    let buffer = tokio::task::spawn_blocking(move || -> std::io::Result<SlotBuffer> {
        use std::os::unix::fs::FileExt;
        std::fs::File::open(file)?.read_exact_at(&mut buffer.bytes, start)?;
        Ok(buffer)
    })
    .await
    .map_err(|e| ApiError::internal_from("reading a range", e))?
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
        .map_err(|e| ApiError::internal_from("answering a range", e))?;
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
