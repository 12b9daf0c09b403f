//! Video uploads as PeerTube's clients send them: the single-request multipart
//! `POST /videos/upload`, and the resumable protocol (`POST /videos/upload-resumable` to start,
//! `PUT …?upload_id=` with `Content-Range` chunks, `DELETE` to cancel). Bodies stream to disk in
//! chunks as they arrive; nothing holds a whole file in memory.

use std::path::PathBuf;

use axum::body::{Body, Bytes};
use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt};
use serde::Deserialize;
use serde_json::json;
use tokio::io::{AsyncSeekExt, AsyncWriteExt};

use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{
    ApiJson, ApiMultipart, Auth, FileFields, FormBudget, MultipartFields, blocking,
    multipart_value, read_file_field, refused_field,
};
use crate::http::strict::{self, Origin};
use crate::http::video_form::{
    VIDEO_ARRAY_FIELDS, VIDEO_BOOLEAN_FIELDS, VIDEO_NULLABLE_FIELDS, VIDEO_NUMBER_FIELDS,
    comments_policy_id, published_date,
};
use crate::model::upload::{UploadMeta, UploadSession};
use crate::model::user::User;
use crate::model::video::{Video, short_uuid};
use crate::service::images;
use crate::service::upload_limits::{self, Receipt};
use crate::service::uploads;

/// Video metadata of an upload, as JSON (resumable) or multipart text fields (single request).
/// The fields PeerTube lets a client send as `null` read it as absent.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadBody {
    channel_id: u64,
    name: String,
    filename: Option<String>,
    privacy: Option<u8>,
    #[serde(default, deserialize_with = "crate::http::strict::null_as_absent")]
    description: Option<String>,
    #[serde(default, deserialize_with = "crate::http::strict::null_as_absent")]
    support: Option<String>,
    #[serde(default, deserialize_with = "crate::http::strict::null_as_absent")]
    category: Option<u32>,
    #[serde(default, deserialize_with = "crate::http::strict::null_as_absent")]
    licence: Option<u32>,
    #[serde(default, deserialize_with = "crate::http::strict::null_as_absent")]
    language: Option<String>,
    nsfw: Option<bool>,
    #[serde(default, deserialize_with = "crate::http::strict::null_as_absent")]
    tags: Option<Vec<String>>,
    comments_enabled: Option<bool>,
    #[serde(default, deserialize_with = "crate::http::strict::null_as_absent")]
    comments_policy: Option<u8>,
    download_enabled: Option<bool>,
    wait_transcoding: Option<bool>,
    #[serde(default, deserialize_with = "crate::http::strict::null_as_absent")]
    originally_published_at: Option<String>,
}

impl MultipartFields for UploadBody {
    const NUMBERS: &'static [&'static str] = VIDEO_NUMBER_FIELDS;
    const BOOLEANS: &'static [&'static str] = VIDEO_BOOLEAN_FIELDS;
    const ARRAYS: &'static [&'static str] = VIDEO_ARRAY_FIELDS;
    const NULLABLE: &'static [&'static str] = VIDEO_NULLABLE_FIELDS;
}

impl UploadBody {
    /// PeerTube's defaults: public, comments on, downloads on, published without waiting.
    fn into_meta(self) -> ApiResult<UploadMeta> {
        let comments_policy =
            comments_policy_id(self.comments_policy, self.comments_enabled).unwrap_or(1);
        let originally_published_at_ms = match self.originally_published_at.as_deref() {
            None | Some("") => None,
            Some(s) => Some(published_date(s)?),
        };
        Ok(UploadMeta {
            channel_id: self.channel_id,
            name: self.name,
            description: self.description.filter(|d| !d.is_empty()),
            support: self.support.filter(|s| !s.is_empty()),
            category: self.category,
            licence: self.licence,
            language: self.language.filter(|l| !l.is_empty()),
            privacy: self.privacy.unwrap_or(1),
            nsfw: self.nsfw.unwrap_or(false),
            tags: self.tags.unwrap_or_default(),
            comments_policy,
            download_enabled: self.download_enabled.unwrap_or(true),
            wait_transcoding: self.wait_transcoding.unwrap_or(false),
            originally_published_at_ms,
        })
    }
}

fn created(video: &Video) -> Response {
    axum::Json(json!({"video": {
        "id": video.id,
        "uuid": video.uuid,
        "shortUUID": short_uuid(&video.uuid),
    }}))
    .into_response()
}

fn io_failure(e: std::io::Error) -> ApiError {
    tracing::error!(error = %e, "writing an upload");
    ApiError::internal()
}

/// `POST /api/v1/videos/upload`: one multipart request carrying the file and its metadata.
pub async fn upload(
    State(state): State<AppState>,
    Auth(me): Auth,
    ApiMultipart(mut form): ApiMultipart,
) -> ApiResult<Response> {
    let core = state.core.clone();
    let dir = uploads::uploads_dir(&core);
    tokio::fs::create_dir_all(&dir).await.map_err(io_failure)?;
    let part = uploads::new_single_part(&core)?;
    let receipt = {
        let (core, me) = (core.clone(), me.clone());
        blocking(move || Ok(upload_limits::begin_receiving(&core, &me)?)).await
    };
    let receipt = match receipt {
        Ok(receipt) => receipt,
        Err(e) => {
            drain(&mut form).await;
            return Err(e);
        }
    };
    let result = receive_single(&state, &mut form, &part, receipt).await;
    match result {
        Ok((meta, filename, files, receipt)) => {
            // Images are read before the video exists, so a bad one refuses the whole upload.
            let made = match blocking(move || Ok(images::from_form_files(&files)?)).await {
                Ok(made) => made,
                Err(e) => {
                    let _ = tokio::fs::remove_file(&part).await;
                    return Err(e);
                }
            };
            // Quota and channel are checked by `finish_file`, inside the transaction that
            // creates the video, after the headers are probed.
            let part2 = part.clone();
            let video = blocking(move || {
                // From here on the file counts as the video it becomes.
                drop(receipt);
                let video = uploads::finish_file(&core, &me, &meta, &part2, &filename, None)?;
                for (kind, images) in &made {
                    images::store(&core, video.id, images, &[*kind], false)?;
                }
                Ok(video)
            })
            .await;
            if video.is_err() {
                let _ = tokio::fs::remove_file(&part).await;
            }
            Ok(created(&video?))
        }
        Err(e) => {
            let _ = tokio::fs::remove_file(&part).await;
            Err(e)
        }
    }
}

/// Most bytes of a refused upload read and discarded, so that ordinary clients, which send the
/// whole body before reading the answer, see the refusal instead of a reset connection. Past
/// this the connection is simply closed.
const DRAIN_LIMIT: u64 = 64 * 1024 * 1024;

/// Drain a form none of which was read yet, field by field. (A field must be read to its end
/// before the next is asked for: asking the multipart reader for the next field reads the rest
/// of the current one, however long, which is why a refused file only drains itself.)
async fn drain(form: &mut Multipart) {
    let mut drained = 0u64;
    while let Ok(Some(mut field)) = form.next_field().await {
        while let Ok(Some(chunk)) = field.chunk().await {
            drained += chunk.len() as u64;
            if drained > DRAIN_LIMIT {
                return;
            }
        }
    }
}

/// Read and discard the rest of one field, up to `DRAIN_LIMIT` (see `drain`).
async fn drain_field(mut field: axum::extract::multipart::Field<'_>) {
    let mut drained = 0u64;
    while let Ok(Some(chunk)) = field.chunk().await {
        drained += chunk.len() as u64;
        if drained > DRAIN_LIMIT {
            return;
        }
    }
}

/// Read every field: the file streams to `part` (its bytes taken from the quota on `receipt`
/// as they arrive), text fields become the metadata.
async fn receive_single(
    state: &AppState,
    form: &mut Multipart,
    part: &PathBuf,
    mut receipt: Receipt,
) -> ApiResult<(UploadMeta, String, FileFields, Receipt)> {
    let max = state.core.config().uploads.max_file_bytes;
    let mut images: FileFields = Vec::new();
    let mut fields = serde_json::Map::new();
    let mut size = None;
    let mut filename = String::new();
    let mut budget = FormBudget::default();
    while let Some(field) = form.next_field().await.map_err(multipart_error)? {
        budget.part()?;
        let raw = field.name().unwrap_or_default().to_owned();
        let name = raw.split('[').next().unwrap_or_default().to_owned();
        let again =
            |what: &str| ApiError::invalid_param("body", what, format!("{what} may be sent once"));
        match name.as_str() {
            // Refused, but read (bounded) first, so the client sees the answer rather than a
            // reset connection.
            "videofile" if size.is_some() => {
                drain_field(field).await;
                return Err(again("videofile"));
            }
            "thumbnailfile" | "previewfile" if images.iter().any(|(n, _)| *n == name) => {
                drain_field(field).await;
                return Err(again(&name));
            }
            "videofile" => {
                filename = field.file_name().unwrap_or("video").to_owned();
                if let Err(e) = uploads::check_announced(&filename, field.content_type()) {
                    drain_field(field).await;
                    return Err(e.into());
                }
                let mut stream = field.map(|c| c.map_err(|e| e.body_text()));
                match write_stream(part, 0, &mut stream, max, Some(&mut receipt)).await {
                    Ok(n) => size = Some(n),
                    Err(e) => {
                        // Finish reading this field (bounded) before answering; see `drain`.
                        let mut drained = 0u64;
                        while let Some(Ok(chunk)) = stream.next().await {
                            drained += chunk.len() as u64;
                            if drained > DRAIN_LIMIT {
                                break;
                            }
                        }
                        return Err(e);
                    }
                }
            }
            "thumbnailfile" | "previewfile" => {
                let bytes = read_file_field(&name, field).await?;
                images.push((name, bytes));
            }
            _ if field.file_name().is_some() => {
                return Err(ApiError::invalid_param(
                    "body",
                    &name,
                    "This file field is not accepted here",
                ));
            }
            _ => {
                let text = budget.text(&name, field).await?;
                let value = multipart_value::<UploadBody>(&name, text)?;
                if UploadBody::ARRAYS.contains(&name.as_str()) {
                    let entry = fields.entry(name).or_insert_with(|| json!([]));
                    if let Some(items) = entry.as_array_mut() {
                        items.push(value);
                    }
                } else {
                    fields.insert(name, value);
                }
            }
        }
    }
    if size.is_none() {
        return Err(ApiError::invalid_param(
            "body",
            "videofile",
            "Should have a file",
        ));
    }
    let body: UploadBody = strict::from_value(serde_json::Value::Object(fields), Origin::Form)
        .map_err(refused_field)?;
    Ok((body.into_meta()?, filename, images, receipt))
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "max_file_size_reached",
            "The file is too large",
        ),
        status => ApiError::new(status, "bad_request", e.body_text()),
    }
}

/// Write a byte stream into `path` from `offset`, never past `limit` bytes in all, and with a
/// `receipt` never past the user's quota; returns the file's length afterwards. On any error the
/// file keeps only what was written and synced, so an interrupted chunk can be resumed where it
/// stopped.
async fn write_stream<S, E>(
    path: &PathBuf,
    offset: u64,
    mut stream: S,
    limit: u64,
    mut receipt: Option<&mut Receipt>,
) -> ApiResult<u64>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut file = tokio::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(false)
        .open(path)
        .await
        .map_err(io_failure)?;
    // Bytes past `offset` were never acknowledged (a crash between write and commit): drop them.
    file.set_len(offset).await.map_err(io_failure)?;
    file.seek(std::io::SeekFrom::Start(offset))
        .await
        .map_err(io_failure)?;
    // Network chunks are small (tens of KB) and every tokio file write is a hop to the blocking
    // pool; batching them into 1 MiB writes made large uploads ~1.5× faster (benches/README.md).
    let mut file = tokio::io::BufWriter::with_capacity(WRITE_BUFFER, file);
    let mut written = offset;
    let mut failure = None;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(bytes) => {
                if written + bytes.len() as u64 > limit {
                    failure = Some(ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "max_file_size_reached",
                        format!("The file is larger than the {limit} bytes allowed"),
                    ));
                    break;
                }
                if let Some(Err(e)) = receipt.as_mut().map(|r| r.take(bytes.len() as u64)) {
                    failure = Some(e.into());
                    break;
                }
                file.write_all(&bytes).await.map_err(io_failure)?;
                written += bytes.len() as u64;
            }
            Err(e) => {
                failure = Some(ApiError::bad_request(format!(
                    "The upload was interrupted: {e}"
                )));
                break;
            }
        }
    }
    file.flush().await.map_err(io_failure)?;
    file.get_ref().sync_data().await.map_err(io_failure)?;
    match failure {
        Some(e) => Err(e),
        None => Ok(written),
    }
}

/// Bytes gathered before each write to the part file.
const WRITE_BUFFER: usize = 1 << 20;

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// `POST /api/v1/videos/upload-resumable`: announce an upload; answers where to send the bytes.
pub async fn start(
    State(state): State<AppState>,
    Auth(me): Auth,
    headers: HeaderMap,
    ApiJson(body): ApiJson<UploadBody>,
) -> ApiResult<Response> {
    let size = header_u64(&headers, "x-upload-content-length").ok_or_else(|| {
        ApiError::invalid_param(
            "headers",
            "x-upload-content-length",
            "Should have the file size in X-Upload-Content-Length",
        )
    })?;
    let filename = body
        .filename
        .clone()
        .filter(|f| !f.is_empty())
        .ok_or_else(|| ApiError::invalid_param("body", "filename", "Should have a filename"))?;
    let meta = body.into_meta()?;
    let media_type = headers
        .get("x-upload-content-type")
        .map(|v| v.to_str().unwrap_or("(not text)").to_owned());
    let core = state.core.clone();
    let session = blocking(move || {
        Ok(uploads::start(
            &core,
            &me,
            meta,
            filename,
            media_type.as_deref(),
            size,
        )?)
    })
    .await?;
    let location = format!(
        "{}/api/v1/videos/upload-resumable?upload_id={}",
        state.core.config().public_url(),
        session.id
    );
    let mut res = StatusCode::CREATED.into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

#[derive(Debug, Deserialize)]
pub struct UploadId {
    upload_id: Option<String>,
}

/// The upload a request is about. One that cannot exist is not found, as PeerTube answers any
/// upload id it does not know.
fn upload_id(q: &UploadId) -> ApiResult<String> {
    q.upload_id
        .clone()
        .filter(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| ApiError::not_found("Upload"))
}

/// A parsed `Content-Range`: `bytes a-b/total`, or `bytes */total` (a status query).
#[derive(Debug, PartialEq, Eq)]
enum ContentRange {
    Chunk { start: u64, end: u64, total: u64 },
    Status { total: u64 },
}

fn parse_content_range(v: &str) -> Option<ContentRange> {
    let rest = v.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let total = total.trim().parse().ok()?;
    if range.trim() == "*" {
        return Some(ContentRange::Status { total });
    }
    let (start, end) = range.split_once('-')?;
    let (start, end) = (start.trim().parse().ok()?, end.trim().parse().ok()?);
    (start <= end && end < total).then_some(ContentRange::Chunk { start, end, total })
}

/// 308 "Resume Incomplete" with the bytes received so far, as resumable clients expect.
fn incomplete(session: &UploadSession) -> Response {
    let mut res = Response::new(Body::empty());
    *res.status_mut() = StatusCode::PERMANENT_REDIRECT;
    if session.received > 0
        && let Ok(v) = HeaderValue::from_str(&format!("bytes=0-{}", session.received - 1))
    {
        res.headers_mut().insert(header::RANGE, v);
    }
    res
}

fn offset_mismatch(session: &UploadSession, detail: &str) -> Response {
    let mut res =
        ApiError::new(StatusCode::CONFLICT, "upload_offset_mismatch", detail).into_response();
    if let Some(range) = incomplete(session).headers().get(header::RANGE).cloned() {
        res.headers_mut().insert(header::RANGE, range);
    }
    res
}

/// `PUT /api/v1/videos/upload-resumable?upload_id=…`: one chunk, or a status query.
pub async fn chunk(
    State(state): State<AppState>,
    Auth(me): Auth,
    Query(q): Query<UploadId>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let id = upload_id(&q)?;
    let _writing = state.core.uploads_writing.enter(&id)?;
    let core = state.core.clone();
    let session = {
        let (core, id, uid) = (core.clone(), id.clone(), me.id);
        blocking(move || Ok(uploads::get(&core, &id, uid)?)).await?
    };
    let range = headers
        .get(header::CONTENT_RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_content_range)
        .ok_or_else(|| {
            ApiError::invalid_param(
                "headers",
                "content-range",
                "Should have a valid Content-Range",
            )
        })?;
    let (start, end) = match range {
        ContentRange::Status { total } if total == session.size => {
            if session.received == session.size {
                return finish(&state, session, me).await;
            }
            return Ok(incomplete(&session));
        }
        ContentRange::Chunk { start, end, total } if total == session.size => (start, end),
        _ => {
            return Ok(offset_mismatch(
                &session,
                "Content-Range does not match the size announced for this upload",
            ));
        }
    };
    if start != session.received {
        return Ok(offset_mismatch(
            &session,
            &format!(
                "This chunk starts at byte {start}, but the upload has received {} bytes",
                session.received
            ),
        ));
    }
    let declared = end - start + 1;
    if header_u64(&headers, "content-length").is_some_and(|n| n != declared) {
        return Err(ApiError::invalid_param(
            "headers",
            "content-length",
            "Content-Length does not match Content-Range",
        ));
    }
    let part = uploads::part_path(&core, &id);
    let stream = body.into_data_stream();
    let written = write_stream(&part, start, stream, end + 1, None).await;
    let received = match &written {
        Ok(n) => *n,
        // Keep what arrived before the failure: the client resumes from there.
        Err(_) => tokio::fs::metadata(&part)
            .await
            .map(|m| m.len())
            .unwrap_or(start)
            .min(end + 1),
    };
    let session = {
        let (core, id) = (core.clone(), id.clone());
        blocking(move || Ok(uploads::advance(&core, &id, received)?)).await?
    };
    written?;
    if session.received < end + 1 {
        return Err(ApiError::invalid_param(
            "body",
            "chunk",
            "The chunk is shorter than its Content-Range",
        ));
    }
    if session.received == session.size {
        return finish(&state, session, me).await;
    }
    Ok(incomplete(&session))
}

async fn finish(state: &AppState, session: UploadSession, me: User) -> ApiResult<Response> {
    let core = state.core.clone();
    let video = blocking(move || Ok(uploads::finish(&core, &session, &me)?)).await?;
    Ok(created(&video))
}

/// `DELETE /api/v1/videos/upload-resumable?upload_id=…`: abandon an upload.
pub async fn cancel(
    State(state): State<AppState>,
    Auth(me): Auth,
    Query(q): Query<UploadId>,
) -> ApiResult<Response> {
    let id = upload_id(&q)?;
    let _writing = state.core.uploads_writing.enter(&id)?;
    let core = state.core.clone();
    blocking(move || Ok(uploads::cancel(&core, &id, me.id)?)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges() {
        assert_eq!(
            parse_content_range("bytes 0-99/1000"),
            Some(ContentRange::Chunk {
                start: 0,
                end: 99,
                total: 1000
            })
        );
        assert_eq!(
            parse_content_range("bytes */1000"),
            Some(ContentRange::Status { total: 1000 })
        );
        assert_eq!(parse_content_range("bytes 100-99/1000"), None);
        assert_eq!(parse_content_range("bytes 0-1000/1000"), None);
        assert_eq!(parse_content_range("items 0-9/10"), None);
        assert_eq!(parse_content_range("bytes 0-x/10"), None);
    }
}
