//! Users: admin management (`/users`, `/users/{id}`), self-service (`/users/me`) and
//! registration, with PeerTube's rules on who may manage whom.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::pagination::ListResponse;
use super::views::{self, Ctx, UserJson, UserStats};
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{AccessToken, ApiJson, Auth, ClientIp, Params, blocking};
use crate::http::query;
use crate::model::user::{Role, User};
use crate::service::user_admin::{self, Caller, ChangeMe, ChangeUser, CreateUser, SignUp};
use crate::service::users::{self, UserQuery, UserSort};
use crate::service::{Core, actors, channels};

/// Render one user with its account and channels.
pub fn render(core: &Core, u: &User, me: bool) -> ApiResult<UserJson> {
    let account = actors::account_by_id(core, u.account_id)?;
    let channels = channels::of(core, account.id)?;
    Ok(views::user(
        &Ctx::new(&core.config()),
        u,
        &account,
        &channels,
        me,
    ))
}

fn role(id: u8) -> ApiResult<Role> {
    Role::try_from(id)
        .map_err(|_| ApiError::invalid_param("body", "role", "Should have a valid role"))
}

fn user_id(id: &str) -> ApiResult<u64> {
    id.parse()
        .map_err(|_| ApiError::invalid_param("params", "id", "Should have a valid id"))
}

pub async fn list(
    State(state): State<AppState>,
    Auth(me): Auth,
    params: Params,
) -> ApiResult<Response> {
    user_admin::check_manager(&me)?;
    let page = query::page(&params)?;
    let sort = query::sort(
        &params,
        &[
            ("id", UserSort::Id),
            ("username", UserSort::Username),
            ("createdAt", UserSort::CreatedAt),
            ("role", UserSort::Role),
            ("lastLoginDate", UserSort::LastLoginDate),
            ("videoQuotaUsed", UserSort::VideoQuotaUsed),
        ],
        (UserSort::CreatedAt, true),
    )?;
    let query = UserQuery {
        start: page.start,
        count: page.count,
        sort: Some(sort),
        search: params
            .get("search")
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
        blocked: params.bool("blocked")?,
    };
    let core = &state.core;
    let (total, found) = users::page(core, &query)?;
    let data = found
        .iter()
        .map(|u| render(core, u, false))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(axum::Json(ListResponse::new(total, data)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateUserBody {
    pub(crate) username: String,
    pub(crate) password: String,
    pub(crate) email: String,
    pub(crate) role: u8,
    pub(crate) video_quota: Option<i64>,
    pub(crate) video_quota_daily: Option<i64>,
    pub(crate) channel_name: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    pub(crate) admin_flags: Option<u8>,
}

pub async fn create(
    State(state): State<AppState>,
    Auth(me): Auth,
    ApiJson(body): ApiJson<CreateUserBody>,
) -> ApiResult<Response> {
    let (user, account) = user_admin::create(&state.core, &me, body.into_new()?).await?;
    Ok(axum::Json(json!({"user": {"id": user.id, "account": {"id": account.id}}})).into_response())
}

impl CreateUserBody {
    /// The user this form asks for, its role checked.
    pub fn into_new(self) -> ApiResult<CreateUser> {
        Ok(CreateUser {
            role: role(self.role)?,
            username: self.username,
            password: self.password,
            email: self.email,
            video_quota: self.video_quota,
            video_quota_daily: self.video_quota_daily,
            channel_name: self.channel_name,
        })
    }
}

pub async fn get(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<String>,
    params: Params,
) -> ApiResult<Response> {
    let core = &state.core;
    let with_stats = params.bool("withStats")?.unwrap_or(false);
    let target = match id.parse::<u64>() {
        Ok(n) if n == me.id => me.clone(),
        _ => user_admin::managed(core, &me, user_id(&id)?)?,
    };
    let mut json = render(core, &target, false)?;
    let videos = with_stats
        .then(|| user_admin::videos_count_for(core, &me, &target))
        .flatten();
    if let Some(videos_count) = videos {
        json.stats = Some(UserStats {
            videos_count,
            abuses_count: 0,
            abuses_accepted_count: 0,
            abuses_created_count: 0,
            video_comments_count: 0,
        });
    }
    Ok(axum::Json(json).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateUserBody {
    password: Option<String>,
    email: Option<String>,
    email_verified: Option<bool>,
    video_quota: Option<i64>,
    video_quota_daily: Option<i64>,
    role: Option<u8>,
    #[allow(dead_code)]
    pub(crate) admin_flags: Option<u8>,
    /// PeerTube takes `null` here (no external authentication); Vireo has no plugins.
    #[allow(dead_code)]
    #[serde(default, deserialize_with = "crate::http::strict::null_as_absent")]
    plugin_auth: Option<String>,
}

pub async fn update(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateUserBody>,
) -> ApiResult<Response> {
    user_admin::check_manager(&me)?;
    let id = user_id(&id)?;
    let change = ChangeUser {
        email: body.email,
        email_verified: body.email_verified,
        video_quota: body.video_quota,
        video_quota_daily: body.video_quota_daily,
        role: body.role.map(role).transpose()?,
        password: body.password,
    };
    user_admin::change(&state.core, &me, id, change).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    user_admin::check_manager(&me)?;
    let id = user_id(&id)?;
    let core = state.core.clone();
    blocking(move || Ok(user_admin::remove(&core, &me, id)?)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Deserialize, Default)]
pub struct BlockBody {
    reason: Option<String>,
}

pub async fn block(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    // The body is optional: `{}`, `{"reason": "…"}` or nothing at all.
    let body: BlockBody = if body.iter().all(u8::is_ascii_whitespace) {
        BlockBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(format!("Invalid JSON body: {e}")))?
    };
    set_blocked(state, me, id, true, body.reason).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn unblock(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    set_blocked(state, me, id, false, None).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn set_blocked(
    state: AppState,
    me: User,
    id: String,
    blocked: bool,
    reason: Option<String>,
) -> ApiResult<()> {
    user_admin::check_manager(&me)?;
    let id = user_id(&id)?;
    let core = state.core.clone();
    blocking(move || Ok(user_admin::set_blocked(&core, &me, id, blocked, reason)?)).await
}

pub async fn me(State(state): State<AppState>, Auth(me): Auth) -> ApiResult<Response> {
    let core = &state.core;
    let json = render(core, &me, true)?;
    let mut value =
        serde_json::to_value(json).map_err(|e| ApiError::internal_from("rendering a user", e))?;
    if let Some(obj) = value.as_object_mut() {
        // PeerTube lists the user's special playlists; Vireo has no playlists yet.
        obj.insert("specialPlaylists".into(), json!([]));
    }
    Ok(axum::Json(value).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateMeBody {
    /// PeerTube accepts `null` here and keeps the name.
    #[serde(default, deserialize_with = "crate::http::strict::null_as_absent")]
    pub(crate) display_name: Option<String>,
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    pub(crate) description: Option<Option<String>>,
    pub(crate) nsfw_policy: Option<String>,
    pub(crate) p2p_enabled: Option<bool>,
    pub(crate) auto_play_video: Option<bool>,
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    pub(crate) video_languages: Option<Option<Vec<String>>>,
    pub(crate) theme: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) password: Option<String>,
    pub(crate) current_password: Option<String>,
    // Preferences PeerTube's clients send that Vireo has no use for (its player does not play the
    // next video by itself, it keeps no watch history and shows no pop-ups): type-checked as
    // PeerTube checks them, `null` refused, then dropped.
    #[serde(rename = "autoPlayNextVideo")]
    _auto_play_next_video: Option<bool>,
    #[serde(rename = "autoPlayNextVideoPlaylist")]
    _auto_play_next_video_playlist: Option<bool>,
    #[serde(rename = "videosHistoryEnabled")]
    _videos_history_enabled: Option<bool>,
    #[serde(rename = "noInstanceConfigWarningModal")]
    _no_instance_config_warning_modal: Option<bool>,
    #[serde(rename = "noAccountSetupWarningModal")]
    _no_account_setup_warning_modal: Option<bool>,
    #[serde(rename = "noWelcomeModal")]
    _no_welcome_modal: Option<bool>,
}

pub async fn update_me(
    State(state): State<AppState>,
    Auth(me): Auth,
    ClientIp(ip): ClientIp,
    AccessToken(token): AccessToken,
    ApiJson(body): ApiJson<UpdateMeBody>,
) -> ApiResult<Response> {
    let caller = Caller {
        ip,
        session: token.as_deref(),
    };
    user_admin::change_me(&state.core, &me, body.into(), caller).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

impl From<UpdateMeBody> for ChangeMe {
    fn from(b: UpdateMeBody) -> ChangeMe {
        ChangeMe {
            display_name: b.display_name,
            description: b.description,
            nsfw_policy: b.nsfw_policy,
            p2p_enabled: b.p2p_enabled,
            auto_play_video: b.auto_play_video,
            video_languages: b.video_languages,
            theme: b.theme,
            email: b.email,
            password: b.password,
            current_password: b.current_password,
        }
    }
}

/// Bytes of video a user stores, in all and over the last 24 hours (uploaded originals).
pub async fn quota_used(State(state): State<AppState>, Auth(me): Auth) -> Response {
    let day_ago = crate::model::now_ms() - 24 * 3600 * 1000;
    let (total, daily) = state.core.catalog.bytes_of_account(me.account_id, day_ago);
    axum::Json(json!({"videoQuotaUsed": total, "videoQuotaUsedDaily": daily})).into_response()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisterChannel {
    name: String,
    display_name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisterBody {
    pub(crate) username: String,
    pub(crate) password: String,
    pub(crate) email: String,
    #[serde(default, deserialize_with = "crate::http::strict::null_as_absent")]
    pub(crate) display_name: Option<String>,
    #[serde(default, deserialize_with = "crate::http::strict::null_as_absent")]
    pub(crate) channel: Option<RegisterChannel>,
}

pub async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<RegisterBody>,
) -> ApiResult<Response> {
    user_admin::sign_up(&state.core, body.into(), ip).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

impl From<RegisterBody> for SignUp {
    fn from(b: RegisterBody) -> SignUp {
        SignUp {
            username: b.username,
            password: b.password,
            email: b.email,
            display_name: b.display_name,
            channel: b.channel.map(|c| (c.name, c.display_name)),
        }
    }
}
