//! The user administration page, for users who may manage users: the user list (search, block,
//! unblock, create) at `/admin/users`. The forms go through the API's own functions
//! (`service::user_admin::create`, `set_blocked`), so the same rights and checks apply.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::blocking;
use crate::model::user::{Role, User};
use crate::service::rights;
use crate::service::user_admin::{self, CreateUser};
use crate::service::users::{self, UserQuery, UserSort};
use crate::web::cards::{self, Pager};
use crate::web::format;
use crate::web::page::{Chrome, PageError, PageForm, form_status, respond};
use crate::web::pages::login::see_other;
use crate::web::pages::upload::{login_first, size};
use crate::web::session::Visitor;

const PER_PAGE: usize = 50;

/// The visitor, if they may manage users.
pub(crate) fn admin(visitor: &Visitor) -> Option<User> {
    visitor.user.clone().filter(rights::can_manage_users)
}

/// The sender of a user administration form, if they may manage users.
fn user_manager(visitor: &Visitor, csrf: &str) -> Result<User, PageError> {
    let me = visitor.form_sender(csrf, "/admin/users")?;
    match rights::can_manage_users(&me) {
        true => Ok(me),
        false => Err(forbidden()),
    }
}

fn forbidden() -> PageError {
    PageError::new(
        StatusCode::FORBIDDEN,
        "Only administrators and moderators can see this page.",
    )
}

/// The answer to anyone else: the login form, or a refusal.
pub(crate) fn refusal(visitor: &Visitor, here: &str) -> Response {
    match visitor.user {
        None => login_first(visitor, here),
        Some(_) => forbidden().into_response(),
    }
}

pub struct UserRow {
    pub id: u64,
    pub username: String,
    pub email: String,
    pub role: &'static str,
    pub quota: String,
    pub created: String,
    pub last_login: String,
    pub blocked: bool,
    pub blocked_reason: String,
    /// Root cannot be blocked.
    pub blockable: bool,
}

pub struct RoleOption {
    pub id: u8,
    pub label: &'static str,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    chrome: Chrome,
    search: String,
    users: Vec<UserRow>,
    total: String,
    pager: Pager,
    roles: Vec<RoleOption>,
    flash: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
pub struct UsersQuery {
    #[serde(default)]
    search: String,
    page: Option<String>,
    done: Option<String>,
}

fn row(u: &User, now_ms: i64) -> UserRow {
    UserRow {
        id: u.id,
        username: u.username.clone(),
        email: u.email.clone(),
        role: u.role.label(),
        quota: if u.video_quota < 0 {
            "unlimited".to_owned()
        } else {
            size(u.video_quota.unsigned_abs())
        },
        created: format::age(u.created_at_ms, now_ms),
        last_login: u
            .last_login_ms
            .map_or_else(|| "never".to_owned(), |t| format::age(t, now_ms)),
        blocked: u.blocked,
        blocked_reason: u.blocked_reason.clone().unwrap_or_default(),
        blockable: u.username != users::ROOT,
    }
}

async fn users_page(
    state: &AppState,
    visitor: &Visitor,
    q: UsersQuery,
    error: Option<String>,
) -> Result<Response, PageError> {
    let page = cards::page_number(q.page.as_deref());
    let core = state.core.clone();
    let search = q.search.trim().chars().take(200).collect::<String>();
    let query = UserQuery {
        start: (page - 1) * PER_PAGE,
        count: PER_PAGE,
        sort: Some((UserSort::CreatedAt, true)),
        search: Some(search.clone()).filter(|s| !s.is_empty()),
        blocked: None,
    };
    let (total, found) = blocking(move || Ok(users::page(&core, &query)?)).await?;
    let now = crate::model::now_ms();
    let link_search = search.clone();
    let t = UsersPage {
        chrome: Chrome::new(state, visitor, "Users", "/admin/users"),
        users: found.iter().map(|u| row(u, now)).collect(),
        total: match total {
            1 => "1 user".to_owned(),
            n => format!("{n} users"),
        },
        pager: cards::pager(page, PER_PAGE, total, move |n| {
            let q: String = url::form_urlencoded::byte_serialize(link_search.as_bytes()).collect();
            format!("/admin/users?search={q}&page={n}")
        }),
        search,
        roles: [Role::User, Role::Moderator, Role::Administrator]
            .into_iter()
            .map(|r| RoleOption {
                id: r.id(),
                label: r.label(),
            })
            .collect(),
        flash: match q.done.as_deref() {
            Some("created") => Some("The user was created.".to_owned()),
            Some("blocked") => Some("The user is blocked: their sessions have ended.".to_owned()),
            Some("unblocked") => Some("The user is unblocked.".to_owned()),
            _ => None,
        },
        error: error.clone(),
    };
    Ok(respond(visitor, form_status(&error), &t))
}

pub async fn list(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<UsersQuery>,
) -> Result<Response, PageError> {
    if admin(&visitor).is_none() {
        return Ok(refusal(&visitor, "/admin/users"));
    }
    users_page(&state, &visitor, q, None).await
}

#[derive(Debug, Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    role: String,
}

pub async fn create(
    State(state): State<AppState>,
    visitor: Visitor,
    PageForm(f): PageForm<CreateForm>,
) -> Result<Response, PageError> {
    let me = user_manager(&visitor, &f.csrf)?;
    let Some(role) = f
        .role
        .parse::<u8>()
        .ok()
        .and_then(|r| Role::try_from(r).ok())
    else {
        let msg = Some("Choose a role.".to_owned());
        return users_page(&state, &visitor, UsersQuery::default(), msg).await;
    };
    let new = CreateUser {
        username: f.username.trim().to_owned(),
        password: f.password,
        email: f.email.trim().to_owned(),
        role,
        video_quota: None,
        video_quota_daily: None,
        channel_name: None,
    };
    match user_admin::create(&state.core, &me, new)
        .await
        .map_err(ApiError::from)
    {
        Ok(_) => Ok(see_other(&visitor, "/admin/users?done=created")),
        Err(e) if e.status.is_client_error() => {
            users_page(
                &state,
                &visitor,
                UsersQuery::default(),
                Some(e.explanation()),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
pub struct BlockForm {
    #[serde(default)]
    csrf: String,
    reason: Option<String>,
}

async fn block_or_unblock(
    state: AppState,
    visitor: Visitor,
    id: String,
    f: BlockForm,
    blocked: bool,
) -> Result<Response, PageError> {
    let me = user_manager(&visitor, &f.csrf)?;
    let reason = f
        .reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    let Ok(id) = id.parse::<u64>() else {
        return Err(PageError::not_found("User"));
    };
    let core = state.core.clone();
    let outcome =
        blocking(move || Ok(user_admin::set_blocked(&core, &me, id, blocked, reason)?)).await;
    match outcome {
        Ok(()) => Ok(see_other(
            &visitor,
            if blocked {
                "/admin/users?done=blocked"
            } else {
                "/admin/users?done=unblocked"
            },
        )),
        Err(e) if e.status == StatusCode::BAD_REQUEST => {
            users_page(
                &state,
                &visitor,
                UsersQuery::default(),
                Some(e.explanation()),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn block(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    PageForm(f): PageForm<BlockForm>,
) -> Result<Response, PageError> {
    block_or_unblock(state, visitor, id, f, true).await
}

pub async fn unblock(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    PageForm(f): PageForm<BlockForm>,
) -> Result<Response, PageError> {
    block_or_unblock(state, visitor, id, f, false).await
}
