//! Videos: listing with PeerTube's filters, one video, metadata updates, deletion, and the
//! vocabularies (categories, licences, languages, privacies).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::pagination::ListResponse;
use super::views::{self, Ctx};
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Auth, JsonOrMultipart, MaybeAuth, Params, blocking};
use crate::http::query;
use crate::http::video_form::UpdateVideoBody;
use crate::model::user::User;
use crate::model::video::{Privacy, Video};
use crate::model::vocab;
use crate::service::catalog::{Filter, SortKey};
use crate::service::listing::{self, VideoQuery};
use crate::service::search::Found;
use crate::service::{
    Core, file_facts, images, manage, processing, remote_videos, urls, videos, visibility,
};

/// Run a list query and render the page as JSON, loading each channel and account once.
pub(super) fn render_list(core: &Core, q: VideoQuery) -> ApiResult<Bytes> {
    let (total, found) = listing::page(core, &q)?;
    render_videos(core, &q, total, &found, None)
}

/// A video in search results: as in lists, with the words that matched highlighted.
#[derive(Serialize)]
struct Highlighted<T: Serialize> {
    #[serde(flatten)]
    video: T,
    #[serde(skip_serializing_if = "Option::is_none")]
    highlight: Option<crate::service::search::Highlight>,
}

/// A page of videos in PeerTube's list envelope; search results add each one's highlight.
pub(super) fn render_videos(
    core: &Core,
    q: &VideoQuery,
    total: usize,
    found: &[Video],
    search: Option<&Found>,
) -> ApiResult<Bytes> {
    let ctx = Ctx::new(&core.config());
    let owners = listing::owners(core, found)?;
    let mut data = Vec::with_capacity(found.len());
    for v in found {
        let Some((c, a)) = owners.get(&v.channel_id) else {
            continue;
        };
        data.push(Highlighted {
            video: views::video(&ctx, v, a, c, q.with_state),
            highlight: search.map(|f| {
                f.highlighter.video(
                    &v.name,
                    v.description.as_deref().unwrap_or(""),
                    v.language.as_deref(),
                )
            }),
        });
    }
    let mut body = ListResponse::new(total, data);
    if q.skip_count {
        body.total = None;
    }
    serde_json::to_vec(&body).map(Bytes::from).map_err(|e| {
        tracing::error!(error = %e, "rendering a video list");
        ApiError::internal()
    })
}

pub(super) fn json_response(body: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Serve a video list (all videos, or one channel's or account's as narrowed by `scope`), from
/// the anonymous-visitor cache when possible (`api::cache`).
pub fn list_scoped(
    state: &AppState,
    uri: &Uri,
    params: &Params,
    viewer: Option<&User>,
    scope: impl FnOnce(&mut Filter),
) -> ApiResult<Response> {
    let core = &state.core;
    let key = uri.path_and_query().map(|p| p.as_str()).unwrap_or("");
    let generation = core.generation();
    if viewer.is_none()
        && let Some(body) = state.list_cache.get(key, generation)
    {
        return Ok(json_response(body));
    }
    let mut q = query::video_query(core, params, viewer)?;
    scope(&mut q.filter);
    let body = render_list(core, q)?;
    if viewer.is_none() {
        state.list_cache.put(key, generation, body.clone());
    }
    Ok(json_response(body))
}

pub async fn list(
    State(state): State<AppState>,
    MaybeAuth(viewer): MaybeAuth,
    uri: Uri,
    params: Params,
) -> ApiResult<Response> {
    list_scoped(&state, &uri, &params, viewer.as_ref(), |_| {})
}

/// `GET /api/v1/users/me/videos`: the caller's own videos in every state and privacy, with their
/// state, as PeerTube's "my videos" page lists them.
pub async fn mine(
    State(state): State<AppState>,
    Auth(me): Auth,
    params: Params,
) -> ApiResult<Response> {
    let core = &state.core;
    let filter = Filter {
        account_id: Some(me.account_id),
        name_contains: params
            .get("search")
            .filter(|s| !s.is_empty())
            .map(str::to_lowercase),
        channel_id: match params.get("channelId") {
            None => None,
            Some(v) => Some(v.parse().map_err(|_| {
                ApiError::invalid_param("query", "channelId", "Should have a valid channelId")
            })?),
        },
        ..Filter::default()
    };
    let q = VideoQuery {
        filter,
        sort: query::sort(&params, query::VIDEO_SORTS, (SortKey::CreatedAt, true))?,
        page: query::page(&params)?,
        skip_count: false,
        nothing: false,
        with_state: true,
    };
    Ok(json_response(render_list(core, q)?))
}

pub async fn get(
    State(state): State<AppState>,
    MaybeAuth(viewer): MaybeAuth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let o = visibility::load_visible(&state.core, &id, viewer.as_ref())?;
    remote_videos::refresh_if_stale(&state.core, &o.video, crate::model::now_ms())?;
    let ctx = Ctx::new(&state.core.config());
    let files = videos::files_of(&state.core, o.video.id)?;
    let (v, a, c) = (&o.video, &o.account, &o.channel);
    let mut json = views::video_details(&ctx, v, a, c, &files.media, files.source.as_ref());
    json.progress = processing::progress(&state.core, v.id)?.map(Into::into);
    Ok(axum::Json(json).into_response())
}

/// `GET /videos/{id}/storyboards`: PeerTube's list, empty until the ladder has made one.
pub async fn storyboards(
    State(state): State<AppState>,
    MaybeAuth(viewer): MaybeAuth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let v = visibility::load_visible(&state.core, &id, viewer.as_ref())?.video;
    let media = videos::files_of(&state.core, v.id)?.media;
    let storyboards: Vec<Value> = media
        .storyboard
        .iter()
        .map(|s| {
            json!({
                "storyboardPath": urls::storyboard(&s.file),
                "totalHeight": s.total_height,
                "totalWidth": s.total_width,
                "spriteHeight": s.sprite_height,
                "spriteWidth": s.sprite_width,
                "spriteDuration": s.sprite_duration,
            })
        })
        .collect();
    Ok(axum::Json(json!({ "storyboards": storyboards })).into_response())
}

pub async fn description(
    State(state): State<AppState>,
    MaybeAuth(viewer): MaybeAuth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let v = visibility::load_visible(&state.core, &id, viewer.as_ref())?.video;
    Ok(axum::Json(json!({"description": v.description})).into_response())
}

/// `GET /videos/{id}/metadata/{fileId}`: one file's technical description, for whoever may
/// watch the video.
pub async fn file_metadata(
    State(state): State<AppState>,
    MaybeAuth(viewer): MaybeAuth,
    Path((id, file_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let file_id: usize = file_id.parse().map_err(|_| {
        ApiError::invalid_param("params", "videoFileId", "Should have a valid videoFileId")
    })?;
    let facts = file_facts::of_file(&state.core, &id, viewer.as_ref(), file_id)?;
    Ok(axum::Json(views::file_metadata(&facts)).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<String>,
    JsonOrMultipart(body, files): JsonOrMultipart<UpdateVideoBody>,
) -> ApiResult<Response> {
    let up = body.into_update()?;
    let core = state.core.clone();
    blocking(move || {
        let made = images::from_form_files(&files)?;
        Ok(manage::update_video(&core, &me, &id, up, &made)?)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let core = state.core.clone();
    blocking(move || Ok(manage::delete_video(&core, &me, &id)?)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn id_map<K: ToString>(entries: impl Iterator<Item = (K, &'static str)>) -> Response {
    let map: Map<String, Value> = entries
        .map(|(k, v)| (k.to_string(), Value::from(v)))
        .collect();
    axum::Json(Value::Object(map)).into_response()
}

pub async fn categories() -> Response {
    id_map(vocab::CATEGORIES.iter().copied())
}

pub async fn licences() -> Response {
    id_map(vocab::LICENCES.iter().copied())
}

pub async fn languages() -> Response {
    id_map(vocab::LANGUAGES.iter().copied())
}

pub async fn privacies() -> Response {
    id_map(Privacy::ALL.iter().map(|p| (p.id(), p.label())))
}
