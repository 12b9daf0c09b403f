//! Logging in and out through the page: the login form (`/login`), which issues an OAuth token
//! pair under the API's login throttle and keeps it in the session cookie, and `/logout`,
//! which revokes it. Both posts carry the CSRF token.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::{ClientIp, blocking};
use crate::service::user_admin::{self, SignUp};
use crate::service::{credentials, sessions};
use crate::web::page::{Chrome, PageError, PageForm, respond};
use crate::web::session::Visitor;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    username: String,
    next: String,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Where to go after logging in: a path of this site only (never `//host` or a URL), else home.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && n.len() <= 2000
                && !n.chars().any(char::is_control) =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

fn form(
    state: &AppState,
    visitor: &Visitor,
    status: StatusCode,
    username: String,
    next: String,
    error: Option<String>,
) -> Response {
    let t = LoginPage {
        chrome: Chrome::new(state, visitor, "Log in", "/login"),
        username,
        next,
        error,
    };
    respond(visitor, status, &t)
}

pub async fn show(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<NextQuery>,
) -> Response {
    let next = safe_next(q.next.as_deref());
    if visitor.user.is_some() {
        return see_other(&visitor, &next);
    }
    form(&state, &visitor, StatusCode::OK, String::new(), next, None)
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    next: Option<String>,
}

/// A 303 to `to`, with the visitor's cookies.
pub fn see_other(visitor: &Visitor, to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    visitor.apply(&mut r);
    r
}

pub async fn submit(
    State(state): State<AppState>,
    mut visitor: Visitor,
    ClientIp(ip): ClientIp,
    PageForm(f): PageForm<LoginForm>,
) -> Result<Response, PageError> {
    visitor.check_form(&f.csrf)?;
    let next = safe_next(f.next.as_deref());
    if f.username.trim().is_empty() || f.password.is_empty() {
        let msg = "Enter your username or e-mail and your password.".to_owned();
        return Ok(form(
            &state,
            &visitor,
            StatusCode::BAD_REQUEST,
            f.username,
            next,
            Some(msg),
        ));
    }
    let login = credentials::log_in(&state.core, ip, &f.username, f.password).await;
    match login.map_err(ApiError::from) {
        Ok(issued) => {
            let life = state.core.config().auth.refresh_token_lifetime_secs;
            visitor.log_in(&issued, life).map_err(PageError::internal)?;
            Ok(see_other(&visitor, &next))
        }
        Err(e) => {
            let msg = match e.status {
                StatusCode::TOO_MANY_REQUESTS => {
                    "Too many failed attempts. Wait a few minutes and try again.".to_owned()
                }
                StatusCode::BAD_REQUEST => "Incorrect username or password.".to_owned(),
                StatusCode::INTERNAL_SERVER_ERROR => return Err(e.into()),
                _ => e.explanation(),
            };
            let status = match e.status {
                StatusCode::BAD_REQUEST => StatusCode::UNAUTHORIZED,
                s => s,
            };
            Ok(form(&state, &visitor, status, f.username, next, Some(msg)))
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

pub async fn logout(
    State(state): State<AppState>,
    mut visitor: Visitor,
    PageForm(f): PageForm<LogoutForm>,
) -> Result<Response, PageError> {
    visitor.check_form(&f.csrf)?;
    if let Some(token) = visitor.log_out() {
        let core = state.core.clone();
        blocking(move || Ok(sessions::revoke(&core, &token)?)).await?;
    }
    Ok(see_other(&visitor, "/"))
}

#[derive(Template)]
#[template(path = "signup.html")]
struct SignupPage {
    chrome: Chrome,
    open: bool,
    username: String,
    email: String,
    display_name: String,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct SignupForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    csrf: String,
}

fn signup_page(
    state: &AppState,
    visitor: &Visitor,
    f: &SignupForm,
    error: Option<String>,
) -> SignupPage {
    SignupPage {
        chrome: Chrome::new(state, visitor, "Create an account", "/signup"),
        open: state.core.config().signup.enabled,
        username: f.username.clone(),
        email: f.email.clone(),
        display_name: f.display_name.clone(),
        error,
    }
}

pub async fn signup(State(state): State<AppState>, visitor: Visitor) -> Response {
    if visitor.user.is_some() {
        return see_other(&visitor, "/");
    }
    let empty = SignupForm {
        username: String::new(),
        email: String::new(),
        password: String::new(),
        display_name: String::new(),
        csrf: String::new(),
    };
    let t = signup_page(&state, &visitor, &empty, None);
    let status = if t.open {
        StatusCode::OK
    } else {
        StatusCode::FORBIDDEN
    };
    respond(&visitor, status, &t)
}

/// Create the account, then log it in.
pub async fn signup_submit(
    State(state): State<AppState>,
    mut visitor: Visitor,
    ClientIp(ip): ClientIp,
    PageForm(f): PageForm<SignupForm>,
) -> Result<Response, PageError> {
    visitor.check_form(&f.csrf)?;
    let new = SignUp {
        username: f.username.trim().to_owned(),
        password: f.password.clone(),
        email: f.email.trim().to_owned(),
        display_name: Some(f.display_name.trim().to_owned()).filter(|d| !d.is_empty()),
        channel: None,
    };
    if let Err(e) = user_admin::sign_up(&state.core, new, ip)
        .await
        .map_err(ApiError::from)
    {
        if e.status == StatusCode::INTERNAL_SERVER_ERROR {
            return Err(e.into());
        }
        let t = signup_page(&state, &visitor, &f, Some(e.explanation()));
        return Ok(respond(&visitor, e.status, &t));
    }
    let issued = credentials::log_in(&state.core, ip, f.username.trim(), f.password)
        .await
        .map_err(ApiError::from)?;
    let life = state.core.config().auth.refresh_token_lifetime_secs;
    visitor.log_in(&issued, life).map_err(PageError::internal)?;
    Ok(see_other(&visitor, "/videos/upload"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_a_local_path_only() {
        assert_eq!(safe_next(Some("/w/abc?start=5")), "/w/abc?start=5");
        for bad in [
            None,
            Some(""),
            Some("//evil.example"),
            Some("https://evil.example"),
            Some("/\\evil"),
            Some("/a\nb"),
        ] {
            assert_eq!(safe_next(bad), "/", "{bad:?}");
        }
    }
}
