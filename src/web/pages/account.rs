//! The logged-in user's own settings (`/my-account/settings`): display name, description and
//! how sensitive videos are listed, and a password change (the current one required), through
//! the API's own `service::user_admin::change_me`.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::{ClientIp, blocking};
use crate::model::account::Account;
use crate::service::actors;
use crate::service::user_admin::{self, Caller, ChangeMe};
use crate::web::page::{Chrome, PageError, PageForm, form_status, respond};
use crate::web::pages::login::see_other;
use crate::web::pages::upload::login_first;
use crate::web::session::Visitor;

const HERE: &str = "/my-account/settings";

/// PeerTube's three ways to list sensitive videos.
const NSFW: &[(&str, &str)] = &[
    ("do_not_list", "Hide them"),
    ("blur", "Blur their thumbnails"),
    ("display", "Show them"),
];

/// The choice of NSFW policies, `current` selected (this page and the instance settings).
pub fn nsfw_options(current: &str) -> Vec<NsfwOption> {
    NSFW.iter()
        .map(|&(value, label)| NsfwOption {
            value,
            label,
            selected: value == current,
        })
        .collect()
}

pub struct NsfwOption {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "account_settings.html")]
struct SettingsPage {
    chrome: Chrome,
    username: String,
    email: String,
    display_name: String,
    description: String,
    nsfw: Vec<NsfwOption>,
    flash: Option<&'static str>,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Done {
    done: Option<String>,
}

async fn page(
    state: &AppState,
    visitor: &Visitor,
    flash: Option<&'static str>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let Some(me) = visitor.user.clone() else {
        return Ok(login_first(visitor, HERE));
    };
    let core = state.core.clone();
    let account_id = me.account_id;
    let account: Account = blocking(move || Ok(actors::account_by_id(&core, account_id)?)).await?;
    let t = SettingsPage {
        chrome: Chrome::new(state, visitor, "My account", HERE),
        username: me.username.clone(),
        email: me.email.clone(),
        display_name: account.display_name,
        description: account.description.unwrap_or_default(),
        nsfw: nsfw_options(&me.nsfw_policy),
        flash,
        error: error.clone(),
    };
    Ok(respond(visitor, form_status(&error), &t))
}

pub async fn show(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    let flash = match q.done.as_deref() {
        Some("saved") => Some("Your settings are saved."),
        Some("password") => Some("Your password is changed."),
        _ => None,
    };
    page(&state, &visitor, flash, None).await
}

#[derive(Debug, Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    nsfw_policy: String,
}

pub async fn save_profile(
    State(state): State<AppState>,
    visitor: Visitor,
    ClientIp(ip): ClientIp,
    PageForm(f): PageForm<ProfileForm>,
) -> Result<Response, PageError> {
    let me = visitor.form_sender(&f.csrf, HERE)?;
    let body = ChangeMe {
        display_name: Some(f.display_name.trim().to_owned()),
        description: Some(Some(f.description).filter(|d| !d.trim().is_empty())),
        nsfw_policy: Some(f.nsfw_policy),
        ..ChangeMe::default()
    };
    let caller = Caller {
        ip,
        session: visitor.access_token(),
    };
    match user_admin::change_me(&state.core, &me, body, caller)
        .await
        .map_err(ApiError::from)
    {
        Ok(()) => Ok(see_other(&visitor, "/my-account/settings?done=saved")),
        Err(e) if e.status.is_client_error() => {
            page(&state, &visitor, None, Some(e.explanation())).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    visitor: Visitor,
    ClientIp(ip): ClientIp,
    PageForm(f): PageForm<PasswordForm>,
) -> Result<Response, PageError> {
    let me = visitor.form_sender(&f.csrf, HERE)?;
    let body = ChangeMe {
        password: Some(f.new_password.clone()),
        current_password: Some(f.current_password),
        ..ChangeMe::default()
    };
    let caller = Caller {
        ip,
        session: visitor.access_token(),
    };
    match user_admin::change_me(&state.core, &me, body, caller)
        .await
        .map_err(ApiError::from)
    {
        Ok(()) => Ok(see_other(&visitor, "/my-account/settings?done=password")),
        Err(e) if e.status.is_client_error() => {
            let msg = if e.code == "current_password_is_invalid" {
                "Your current password is not that one.".to_owned()
            } else {
                e.explanation()
            };
            page(&state, &visitor, None, Some(msg)).await
        }
        Err(e) => Err(e.into()),
    }
}
