//! Videos: listing with PeerTube's filters, one video, metadata updates, deletion, and the
//! vocabularies (categories, licences, languages, privacies).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::error::{ApiError, ApiResult};
use super::extract::{
    Auth, FileFields, JsonOrMultipart, MaybeAuth, MultipartFields, Params, blocking,
};
use super::pagination::{ListResponse, Page, parse_sort};
use super::views::{self, Ctx};
use crate::app::AppState;
use crate::auth::rights;
use crate::model::account::Account;
use crate::model::channel::Channel;
use crate::model::user::User;
use crate::model::video::{CommentsPolicy, Privacy, Video};
use crate::model::{parse_iso8601, vocab};
use crate::service::catalog::{Filter, SortKey};
use crate::service::images::{self, Kind};
use crate::service::search::Found;
use crate::service::videos::{self, VideoUpdate};
use crate::service::{Core, channels};
use crate::store::{Tx, records, tables};

const SORTS: &[(&str, SortKey)] = &[
    ("name", SortKey::Name),
    ("duration", SortKey::Duration),
    ("createdAt", SortKey::CreatedAt),
    ("publishedAt", SortKey::PublishedAt),
    ("originallyPublishedAt", SortKey::PublishedAt),
    ("views", SortKey::Views),
    ("likes", SortKey::Likes),
    // Vireo keeps no per-day view history yet: trending and hot rank by views, best by likes.
    ("trending", SortKey::Views),
    ("hot", SortKey::Views),
    ("best", SortKey::Likes),
    ("match", SortKey::PublishedAt),
];

/// Parsed list parameters shared by every video list route.
pub(crate) struct ListQuery {
    pub filter: Filter,
    pub sort: (SortKey, bool),
    pub page: Page,
    pub skip_count: bool,
    /// `isLive=true`, or a host Vireo holds no videos of: nothing matches.
    pub nothing: bool,
    /// Show each video's state (lists that include unpublished videos).
    pub with_state: bool,
}

pub(crate) fn list_query(core: &Core, p: &Params, viewer: Option<&User>) -> ApiResult<ListQuery> {
    if p.has("filter") {
        return Err(ApiError::bad_request(
            "\"filter\" query parameter is not supported anymore by PeerTube. Please use \"isLocal\" and \"include\" instead",
        ));
    }
    let moderator = viewer.is_some_and(rights::can_moderate_content);
    let include: u32 = match p.get("include") {
        None | Some("") => 0,
        Some(v) => v.parse().map_err(|_| {
            ApiError::invalid_param("query", "include", "Should have a valid include")
        })?,
    };
    if (include != 0 || p.has("privacyOneOf")) && !moderator {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized_request",
            "You are not allowed to see all videos, specify a custom include or auto tags filter.",
        ));
    }
    let privacy_one_of = match p.ints::<u8>("privacyOneOf")? {
        Some(ids) => Some(
            ids.into_iter()
                .map(|i| {
                    Privacy::try_from(i).map_err(|_| {
                        ApiError::invalid_param(
                            "query",
                            "privacyOneOf",
                            "Should have a valid privacy",
                        )
                    })
                })
                .collect::<ApiResult<Vec<_>>>()?,
        ),
        None if viewer.is_some() => Some(vec![Privacy::Public, Privacy::Internal]),
        None => Some(vec![Privacy::Public]),
    };
    let nsfw = match p.get("nsfw") {
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some("both") => None,
        Some(_) => {
            return Err(ApiError::invalid_param(
                "query",
                "nsfw",
                "Should have a valid nsfw",
            ));
        }
        None => {
            let hidden = match viewer {
                Some(u) => u.nsfw_policy == "do_not_list",
                None => core.config().instance.default_nsfw_policy == "do_not_list",
            };
            hidden.then_some(false)
        }
    };
    let filter = Filter {
        privacy_one_of,
        listable_only: include & 1 == 0,
        nsfw,
        is_local: p.bool("isLocal")?,
        category_one_of: p.ints("categoryOneOf")?,
        licence_one_of: p.ints("licenceOneOf")?,
        language_one_of: p.strings("languageOneOf"),
        tags_one_of: p.strings("tagsOneOf").map(lower),
        tags_all_of: p.strings("tagsAllOf").map(lower),
        name_contains: p
            .get("search")
            .filter(|s| !s.is_empty())
            .map(str::to_lowercase),
        ..Filter::default()
    };
    Ok(ListQuery {
        filter,
        sort: parse_sort(p, SORTS, (SortKey::PublishedAt, true))?,
        page: Page::parse(p)?,
        skip_count: p.bool("skipCount")?.unwrap_or(false),
        nothing: p.bool("isLive")? == Some(true),
        with_state: include & 1 != 0,
    })
}

fn lower(v: Vec<String>) -> Vec<String> {
    v.into_iter().map(|s| s.to_lowercase()).collect()
}

/// Run a list query and render the page as JSON, loading each channel and account once.
pub(super) fn render_list(core: &Core, q: ListQuery) -> ApiResult<Bytes> {
    let (total, found) = page_of(core, &q)?;
    render_videos(core, &q, total, &found, None)
}

/// The total and the requested page of a list query.
pub(crate) fn page_of(core: &Core, q: &ListQuery) -> ApiResult<(usize, Vec<Video>)> {
    if q.nothing {
        return Ok((0, Vec::new()));
    }
    Ok(videos::list(
        core,
        &q.filter,
        q.sort.0,
        q.sort.1,
        q.page.start,
        q.page.count,
    )?)
}

/// A video in search results: as in lists, with the words that matched highlighted.
#[derive(Serialize)]
struct Highlighted<T: Serialize> {
    #[serde(flatten)]
    video: T,
    #[serde(skip_serializing_if = "Option::is_none")]
    highlight: Option<crate::search::Highlight>,
}

/// A page of videos in PeerTube's list envelope; search results add each one's highlight.
pub(super) fn render_videos(
    core: &Core,
    q: &ListQuery,
    total: usize,
    found: &[Video],
    search: Option<&Found>,
) -> ApiResult<Bytes> {
    let ctx = Ctx::new(&core.config());
    let tx = core.store.read()?;
    let mut owners: HashMap<u64, (Channel, Account)> = HashMap::new();
    let mut data = Vec::with_capacity(found.len());
    for v in found {
        let (c, a) = match owners.entry(v.channel_id) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(owner_of(&tx, v.channel_id)?),
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
    let generation = core.store.generation();
    if viewer.is_none()
        && let Some(body) = state.list_cache.get(key, generation)
    {
        return Ok(json_response(body));
    }
    let mut q = list_query(core, params, viewer)?;
    scope(&mut q.filter);
    let body = render_list(core, q)?;
    if viewer.is_none() {
        state.list_cache.put(key, generation, body.clone());
    }
    Ok(json_response(body))
}

pub(crate) fn owner_of(tx: &impl Tx, channel_id: u64) -> ApiResult<(Channel, Account)> {
    let c = channels::get(tx, channel_id)?.ok_or_else(|| ApiError::not_found("Video channel"))?;
    let a: Account = records::get(tx, tables::ACCOUNTS, c.account_id)?
        .ok_or_else(|| ApiError::not_found("Account"))?;
    Ok((c, a))
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
            None | Some("") => None,
            Some(v) => Some(v.parse().map_err(|_| {
                ApiError::invalid_param("query", "channelId", "Should have a valid channelId")
            })?),
        },
        ..Filter::default()
    };
    let q = ListQuery {
        filter,
        sort: parse_sort(&params, SORTS, (SortKey::CreatedAt, true))?,
        page: Page::parse(&params)?,
        skip_count: false,
        nothing: false,
        with_state: true,
    };
    Ok(json_response(render_list(core, q)?))
}

/// May `viewer` see this video at all? Private: owner and moderators; internal: any user.
fn can_view(v: &Video, owner: &Account, viewer: Option<&User>) -> bool {
    match v.privacy {
        Privacy::Public | Privacy::Unlisted | Privacy::PasswordProtected => true,
        Privacy::Internal => viewer.is_some(),
        Privacy::Private => {
            viewer.is_some_and(|u| u.account_id == owner.id || rights::can_moderate_content(u))
        }
    }
}

pub(crate) fn load_visible(
    core: &Core,
    key: &str,
    viewer: Option<&User>,
) -> ApiResult<(Video, Channel, Account)> {
    let tx = core.store.read()?;
    let v = videos::find(&tx, key)?.ok_or_else(|| ApiError::not_found("Video"))?;
    let (c, a) = owner_of(&tx, v.channel_id)?;
    if !can_view(&v, &a, viewer) {
        // PeerTube answers 403 to a user who may not see it and 401 to an anonymous visitor.
        return Err(match viewer {
            Some(_) => ApiError::forbidden("Cannot get this private video"),
            None => ApiError::unauthorized("unauthorized_request"),
        });
    }
    Ok((v, c, a))
}

pub async fn get(
    State(state): State<AppState>,
    MaybeAuth(viewer): MaybeAuth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (v, c, a) = load_visible(&state.core, &id, viewer.as_ref())?;
    let ctx = Ctx::new(&state.core.config());
    let tx = state.core.store.read()?;
    let media: crate::model::video::VideoMedia =
        records::get(&tx, tables::VIDEO_MEDIA, v.id)?.unwrap_or_default();
    let source: Option<crate::model::video::VideoSource> =
        records::get(&tx, tables::VIDEO_SOURCES, v.id)?;
    drop(tx);
    let mut json = views::video_details(&ctx, &v, &a, &c, &media, source.as_ref());
    json.progress = state.core.progress.get(v.id).map(Into::into);
    Ok(axum::Json(json).into_response())
}

/// `GET /videos/{id}/storyboards`: PeerTube's list, empty until the ladder has made one.
pub async fn storyboards(
    State(state): State<AppState>,
    MaybeAuth(viewer): MaybeAuth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (v, _, _) = load_visible(&state.core, &id, viewer.as_ref())?;
    let tx = state.core.store.read()?;
    let media: crate::model::video::VideoMedia =
        records::get(&tx, tables::VIDEO_MEDIA, v.id)?.unwrap_or_default();
    drop(tx);
    let storyboards: Vec<Value> = media
        .storyboard
        .iter()
        .map(|s| {
            json!({
                "storyboardPath": format!("/lazy-static/storyboards/{}", s.file),
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
    let (v, _, _) = load_visible(&state.core, &id, viewer.as_ref())?;
    Ok(axum::Json(json!({"description": v.description})).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateVideoBody {
    name: Option<String>,
    #[serde(default, deserialize_with = "super::extract::nullable")]
    description: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::extract::nullable")]
    support: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::extract::nullable")]
    category: Option<Option<u32>>,
    #[serde(default, deserialize_with = "super::extract::nullable")]
    licence: Option<Option<u32>>,
    #[serde(default, deserialize_with = "super::extract::nullable")]
    language: Option<Option<String>>,
    privacy: Option<u8>,
    nsfw: Option<bool>,
    pub(crate) tags: Option<Vec<String>>,
    comments_enabled: Option<bool>,
    comments_policy: Option<u8>,
    download_enabled: Option<bool>,
    wait_transcoding: Option<bool>,
    #[serde(default, deserialize_with = "super::extract::nullable")]
    originally_published_at: Option<Option<String>>,
    channel_id: Option<u64>,
}

/// How PeerTube's multipart video forms spell their typed fields (updates and uploads alike).
pub(crate) const VIDEO_NUMBER_FIELDS: &[&str] = &[
    "channelId",
    "category",
    "licence",
    "privacy",
    "commentsPolicy",
];
pub(crate) const VIDEO_BOOLEAN_FIELDS: &[&str] = &[
    "nsfw",
    "commentsEnabled",
    "downloadEnabled",
    "waitTranscoding",
];
pub(crate) const VIDEO_ARRAY_FIELDS: &[&str] = &["tags"];

impl MultipartFields for UpdateVideoBody {
    const NUMBERS: &'static [&'static str] = VIDEO_NUMBER_FIELDS;
    const BOOLEANS: &'static [&'static str] = VIDEO_BOOLEAN_FIELDS;
    const ARRAYS: &'static [&'static str] = VIDEO_ARRAY_FIELDS;
    const FILES: &'static [&'static str] = &["thumbnailfile", "previewfile"];
}

/// PeerTube's two spellings of the comments setting: `commentsPolicy` wins over the older
/// `commentsEnabled` boolean.
pub(super) fn comments_policy_id(policy: Option<u8>, enabled: Option<bool>) -> Option<u8> {
    match (policy, enabled) {
        (Some(p), _) => Some(p),
        (None, Some(true)) => Some(CommentsPolicy::Enabled.id()),
        (None, Some(false)) => Some(CommentsPolicy::Disabled.id()),
        (None, None) => None,
    }
}

/// `originallyPublishedAt` as Unix milliseconds.
pub(super) fn published_date(s: &str) -> ApiResult<i64> {
    parse_iso8601(s).ok_or_else(|| {
        ApiError::invalid_param("body", "originallyPublishedAt", "Should have a valid date")
    })
}

fn to_update(b: UpdateVideoBody) -> ApiResult<VideoUpdate> {
    let privacy = b
        .privacy
        .map(|p| {
            Privacy::try_from(p).map_err(|_| {
                ApiError::invalid_param("body", "privacy", "Should have a valid privacy")
            })
        })
        .transpose()?;
    if privacy == Some(Privacy::PasswordProtected) {
        return Err(ApiError::invalid_param(
            "body",
            "privacy",
            "Password protected videos are not supported yet",
        ));
    }
    let comments_policy = comments_policy_id(b.comments_policy, b.comments_enabled)
        .map(|p| {
            CommentsPolicy::try_from(p).map_err(|_| {
                ApiError::invalid_param(
                    "body",
                    "commentsPolicy",
                    "Should have a valid commentsPolicy",
                )
            })
        })
        .transpose()?;
    let originally_published_at_ms = match b.originally_published_at {
        Some(Some(s)) => Some(Some(published_date(&s)?)),
        Some(None) => Some(None),
        None => None,
    };
    Ok(VideoUpdate {
        name: b.name,
        description: b.description,
        support: b.support,
        category: b.category,
        licence: b.licence,
        language: b.language,
        privacy,
        nsfw: b.nsfw,
        tags: b.tags,
        comments_policy,
        download_enabled: b.download_enabled,
        wait_transcoding: b.wait_transcoding,
        originally_published_at_ms,
        channel_id: b.channel_id,
    })
}

/// The video and the caller's right to change it: its owner, or a moderator.
pub(crate) fn owned(core: &Core, me: &User, key: &str) -> ApiResult<(Video, Account)> {
    let tx = core.store.read()?;
    let v = videos::find(&tx, key)?.ok_or_else(|| ApiError::not_found("Video"))?;
    let (_, a) = owner_of(&tx, v.channel_id)?;
    if a.id != me.account_id && !rights::can_moderate_content(me) {
        return Err(ApiError::forbidden(
            "Cannot manage a video of another user.",
        ));
    }
    Ok((v, a))
}

pub async fn update(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<String>,
    JsonOrMultipart(body, files): JsonOrMultipart<UpdateVideoBody>,
) -> ApiResult<Response> {
    apply_update(&state.core, &me, &id, body, files).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Change a video's metadata and images as its owner or a moderator: the API's update and the
/// web UI's edit form.
pub(crate) async fn apply_update(
    core: &std::sync::Arc<Core>,
    me: &User,
    id: &str,
    body: UpdateVideoBody,
    files: FileFields,
) -> ApiResult<Video> {
    let (v, owner) = owned(core, me, id)?;
    let up = to_update(body)?;
    let made = made_images(files).await?;
    let core = core.clone();
    blocking(move || {
        let updated = videos::update(&core, v.id, up, Some(owner.id))?;
        for (kind, images) in &made {
            images::store(&core, v.id, images, &[*kind], false)?;
        }
        Ok(updated)
    })
    .await
}

/// Turn uploaded `thumbnailfile`/`previewfile` fields into JPEGs at PeerTube's sizes, off the
/// async runtime; a file that is not a readable image is a 400 before anything changes.
pub(super) async fn made_images(
    files: FileFields,
) -> ApiResult<Vec<(Kind, crate::media::thumbnail::Images)>> {
    blocking(move || {
        let mut out = Vec::new();
        for (name, bytes) in files {
            let kind = match name.as_str() {
                "thumbnailfile" => Kind::Thumbnail,
                "previewfile" => Kind::Preview,
                _ => continue,
            };
            let made = crate::media::thumbnail::from_image(&bytes)
                .map_err(|e| ApiError::invalid_param("body", &name, e.to_string()))?;
            out.push((kind, made));
        }
        Ok(out)
    })
    .await
}

pub async fn delete(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    remove(&state.core, &me, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Delete a video as its owner or a moderator (the API and the web UI).
pub(crate) async fn remove(core: &std::sync::Arc<Core>, me: &User, id: &str) -> ApiResult<()> {
    let (v, _) = owned(core, me, id)?;
    let core = core.clone();
    blocking(move || Ok(videos::delete(&core, v.id)?)).await
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
