//! Users: admin management (`/users`, `/users/{id}`), self-service (`/users/me`) and
//! registration, with PeerTube's rules on who may manage whom.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, Auth, Params, blocking};
use super::pagination::{ListResponse, Page, parse_sort};
use super::views::{self, Ctx, UserJson};
use crate::app::AppState;
use crate::auth::{password, rights};
use crate::model::account::Account;
use crate::model::user::{Role, User};
use crate::service::users::{self, AdminUpdate, NewUser, SelfUpdate, UserQuery, UserSort};
use crate::service::{Core, ServiceError, channels, validate};
use crate::store::{Tx, records, tables};

pub(crate) const ROOT: &str = "root";

/// Render one user with its account and channels.
pub fn render(core: &Core, tx: &impl Tx, u: &User, me: bool) -> ApiResult<UserJson> {
    let account: Account = records::get(tx, tables::ACCOUNTS, u.account_id)?
        .ok_or_else(|| ApiError::from(ServiceError::NotFound("account")))?;
    let channels = channels::of_account(tx, account.id)?;
    Ok(views::user(
        &Ctx::new(&core.config()),
        u,
        &account,
        &channels,
        me,
    ))
}

fn no_right(u: &User, path: &str) -> ApiError {
    ApiError::forbidden(format!(
        "User {} does not have right to access to {path}.",
        u.username
    ))
}

pub async fn list(
    State(state): State<AppState>,
    Auth(me): Auth,
    params: Params,
) -> ApiResult<Response> {
    if !rights::can_manage_users(&me) {
        return Err(no_right(&me, "/api/v1/users"));
    }
    let page = Page::parse(&params)?;
    let sort = parse_sort(
        &params,
        &[
            ("id", UserSort::Id),
            ("username", UserSort::Username),
            ("createdAt", UserSort::CreatedAt),
            ("email", UserSort::Email),
            ("role", UserSort::Role),
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
    let tx = core.store.read()?;
    let (total, found) = users::list(&tx, &query).map_err(ApiError::from)?;
    let data = found
        .iter()
        .map(|u| render(core, &tx, u, false))
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
    let (user, account) = create_user(&state, &me, body).await?;
    Ok(axum::Json(json!({"user": {"id": user.id, "account": {"id": account.id}}})).into_response())
}

/// Create a user as an administrator or moderator (the API and the admin page).
pub(crate) async fn create_user(
    state: &AppState,
    me: &User,
    body: CreateUserBody,
) -> ApiResult<(User, crate::model::account::Account)> {
    if !rights::can_manage_users(me) {
        return Err(no_right(me, "/api/v1/users"));
    }
    let role = Role::try_from(body.role)
        .map_err(|_| ApiError::invalid_param("body", "role", "Should have a valid role"))?;
    if !rights::can_grant_role(me, role) {
        return Err(ApiError::forbidden(
            "You can only create users with the User role",
        ));
    }
    validate::password(&body.password).map_err(ApiError::from)?;
    if body.channel_name.as_deref() == Some(body.username.as_str()) {
        return Err(ApiError::invalid_param(
            "body",
            "channelName",
            "Channel name cannot be the same as user username.",
        ));
    }
    let defaults = state.core.config().user.clone();
    let new = NewUser {
        username: body.username,
        email: body.email,
        password_hash: String::new(),
        role,
        video_quota: body.video_quota.unwrap_or(defaults.video_quota),
        video_quota_daily: body.video_quota_daily.unwrap_or(defaults.video_quota_daily),
        display_name: None,
        channel_display_name: body.channel_name.clone(),
        channel_name: body.channel_name,
        email_verified: false,
    };
    users::validate_new(&new).map_err(ApiError::from)?;
    let core = state.core.clone();
    let (user, account, _) = blocking(move || {
        let hash =
            password::hash(&body.password).map_err(|e| ServiceError::Internal(e.to_string()))?;
        Ok(users::create(
            &core,
            NewUser {
                password_hash: hash,
                ..new
            },
        )?)
    })
    .await?;
    Ok((user, account))
}

/// Load the target user and check the caller may manage them.
fn managed_target(core: &Core, me: &User, id: &str) -> ApiResult<User> {
    if !rights::can_manage_users(me) {
        return Err(no_right(me, "/api/v1/users"));
    }
    let id: u64 = id
        .parse()
        .map_err(|_| ApiError::invalid_param("params", "id", "Should have a valid id"))?;
    let target = users::get(&core.store.read()?, id)?.ok_or_else(|| ApiError::not_found("User"))?;
    if !rights::can_manage_user(me, &target) {
        return Err(ApiError::forbidden(
            "You can only manage users with a role lower than yours",
        ));
    }
    Ok(target)
}

pub async fn get(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let core = &state.core;
    let target = match id.parse::<u64>() {
        Ok(n) if n == me.id => me.clone(),
        _ => managed_target(core, &me, &id)?,
    };
    let json = render(core, &core.store.read()?, &target, false)?;
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
    #[allow(dead_code)]
    plugin_auth: Option<String>,
}

pub async fn update(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateUserBody>,
) -> ApiResult<Response> {
    let target = managed_target(&state.core, &me, &id)?;
    let role = body
        .role
        .map(|r| {
            Role::try_from(r)
                .map_err(|_| ApiError::invalid_param("body", "role", "Should have a valid role"))
        })
        .transpose()?;
    if let Some(r) = role {
        if target.username == ROOT && r != Role::Administrator {
            return Err(ApiError::bad_request("Cannot change root role."));
        }
        if !rights::can_grant_role(&me, r) {
            return Err(ApiError::forbidden("You cannot give this role"));
        }
    }
    if let Some(p) = &body.password {
        validate::password(p).map_err(ApiError::from)?;
    }
    let core = state.core.clone();
    blocking(move || {
        let password_hash = match &body.password {
            Some(p) => Some(password::hash(p).map_err(|e| ServiceError::Internal(e.to_string()))?),
            None => None,
        };
        let up = AdminUpdate {
            email: body.email,
            email_verified: body.email_verified,
            video_quota: body.video_quota,
            video_quota_daily: body.video_quota_daily,
            role,
            password_hash,
            blocked: None,
        };
        Ok(users::update(&core, target.id, up)?)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    if id.parse::<u64>().ok() == Some(me.id) && rights::can_manage_users(&me) {
        return Err(ApiError::bad_request(if me.username == ROOT {
            "Cannot remove the root user"
        } else {
            "You cannot delete your own account here"
        }));
    }
    let target = managed_target(&state.core, &me, &id)?;
    if target.username == ROOT {
        return Err(ApiError::bad_request("Cannot remove the root user"));
    }
    let core = state.core.clone();
    blocking(move || Ok(users::delete(&core, target.id)?)).await?;
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

/// Block or unblock a user as one who may manage them (the API and the admin page).
pub(crate) async fn set_blocked(
    state: AppState,
    me: User,
    id: String,
    blocked: bool,
    reason: Option<String>,
) -> ApiResult<()> {
    let target = managed_target(&state.core, &me, &id)?;
    if target.username == ROOT {
        return Err(ApiError::bad_request("Cannot block the root user"));
    }
    if let Some(r) = &reason {
        validate::length("reason", r, 3, 250).map_err(ApiError::from)?;
    }
    let core = state.core.clone();
    blocking(move || {
        let up = AdminUpdate {
            blocked: Some((blocked, reason)),
            ..AdminUpdate::default()
        };
        users::update(&core, target.id, up)?;
        Ok(())
    })
    .await
}

pub async fn me(State(state): State<AppState>, Auth(me): Auth) -> ApiResult<Response> {
    let core = &state.core;
    let json = render(core, &core.store.read()?, &me, true)?;
    let mut value = serde_json::to_value(json).map_err(|_| ApiError::internal())?;
    if let Some(obj) = value.as_object_mut() {
        // PeerTube lists the user's special playlists; Vireo has no playlists yet.
        obj.insert("specialPlaylists".into(), json!([]));
    }
    Ok(axum::Json(value).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateMeBody {
    pub(crate) display_name: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) nsfw_policy: Option<String>,
    pub(crate) p2p_enabled: Option<bool>,
    pub(crate) auto_play_video: Option<bool>,
    pub(crate) video_languages: Option<Vec<String>>,
    pub(crate) email: Option<String>,
    pub(crate) password: Option<String>,
    pub(crate) current_password: Option<String>,
}

pub async fn update_me(
    State(state): State<AppState>,
    Auth(me): Auth,
    ApiJson(body): ApiJson<UpdateMeBody>,
) -> ApiResult<Response> {
    apply_update_me(&state, &me, body).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Change one's own profile, settings or password (the API and the web UI's account page). A
/// new password or e-mail needs the current password.
pub(crate) async fn apply_update_me(
    state: &AppState,
    me: &User,
    body: UpdateMeBody,
) -> ApiResult<()> {
    if body.password.is_some() || body.email.is_some() {
        let Some(current) = body.current_password.clone() else {
            return Err(ApiError::invalid_param(
                "body",
                "currentPassword",
                "currentPassword parameter is missing",
            ));
        };
        let hash = me.password_hash.clone();
        let ok = blocking(move || Ok(password::verify(&current, &hash))).await?;
        if !ok {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "current_password_is_invalid",
                "currentPassword is invalid.",
            ));
        }
    }
    if let Some(p) = &body.password {
        validate::password(p).map_err(ApiError::from)?;
    }
    if body
        .video_languages
        .as_ref()
        .is_some_and(|v| v.len() >= 500)
    {
        return Err(ApiError::invalid_param(
            "body",
            "videoLanguages",
            "Too many languages",
        ));
    }
    let core = state.core.clone();
    let id = me.id;
    blocking(move || {
        let password_hash = match &body.password {
            Some(p) => Some(password::hash(p).map_err(|e| ServiceError::Internal(e.to_string()))?),
            None => None,
        };
        let up = SelfUpdate {
            display_name: body.display_name,
            description: body.description,
            nsfw_policy: body.nsfw_policy,
            auto_play_video: body.auto_play_video,
            p2p_enabled: body.p2p_enabled,
            video_languages: body.video_languages,
            email: body.email,
            password_hash,
        };
        users::update_me(&core, id, up)?;
        Ok(())
    })
    .await
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
    pub(crate) display_name: Option<String>,
    pub(crate) channel: Option<RegisterChannel>,
}

pub async fn register(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RegisterBody>,
) -> ApiResult<Response> {
    register_user(&state, body).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Create an account by self-registration, under the instance's signup rules (the API and the
/// web UI's sign-up form).
pub(crate) async fn register_user(state: &AppState, body: RegisterBody) -> ApiResult<()> {
    let signup = state.core.config().signup.clone();
    if !signup.enabled {
        return Err(ApiError::forbidden("User registration is not allowed"));
    }
    validate::password(&body.password).map_err(ApiError::from)?;
    if let Some(c) = &body.channel
        && c.name == body.username
    {
        return Err(ApiError::invalid_param(
            "body",
            "channel.name",
            "Channel name cannot be the same as user username.",
        ));
    }
    let defaults = state.core.config().user.clone();
    let new = NewUser {
        username: body.username,
        email: body.email,
        password_hash: String::new(),
        role: Role::User,
        video_quota: defaults.video_quota,
        video_quota_daily: defaults.video_quota_daily,
        display_name: body.display_name,
        channel_name: body.channel.as_ref().map(|c| c.name.clone()),
        channel_display_name: body.channel.map(|c| c.display_name),
        email_verified: false,
    };
    users::validate_new(&new).map_err(ApiError::from)?;
    let core = state.core.clone();
    blocking(move || {
        if signup.limit >= 0 && users::count(&core.store.read()?)? >= signup.limit as u64 {
            return Err(ApiError::forbidden("User registration is not allowed"));
        }
        let hash =
            password::hash(&body.password).map_err(|e| ServiceError::Internal(e.to_string()))?;
        users::create(
            &core,
            NewUser {
                password_hash: hash,
                ..new
            },
        )?;
        Ok(())
    })
    .await
}
