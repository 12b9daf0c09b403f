//! What every page shares: the layout's data (`Chrome`) and how a page is answered (its
//! template rendered, with the page headers and the visitor's cookie). Error pages are
//! `web::error`'s, the headers `web::headers`'.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::session::Visitor;
use crate::http::AppState;

pub use super::error::{PageError, PageForm};
pub use super::headers::{CSP, EMBED_CSP};
use super::{assets, headers};

/// The layout's data: instance name, the visitor, asset URLs.
#[derive(Debug, Clone, Default)]
pub struct Chrome {
    pub instance: String,
    pub title: String,
    pub user: Option<String>,
    pub is_admin: bool,
    /// Offer "Create an account" (signup open, nobody logged in).
    pub signup: bool,
    pub csrf: String,
    pub search: String,
    /// Shown once at the top of the page (e.g. "your session has ended").
    pub notice: Option<String>,
    pub css: &'static str,
    pub app_js: &'static str,
    pub icon: &'static str,
    /// The path of this page, for the login link's `next`.
    pub here: String,
    /// The feed of what this page lists (the instance's unless a page names its own).
    pub feed: String,
}

impl Chrome {
    /// A placeholder, for pages built off the runtime and given their chrome after.
    pub fn empty() -> Chrome {
        Chrome::default()
    }

    pub fn new(
        state: &AppState,
        visitor: &Visitor,
        title: impl Into<String>,
        here: &str,
    ) -> Chrome {
        let user = visitor.user.as_ref();
        Chrome {
            instance: state.core.config().instance.name.clone(),
            title: title.into(),
            user: user.map(|u| u.username.clone()),
            is_admin: user.is_some_and(crate::service::rights::can_manage_users),
            signup: user.is_none() && state.core.config().signup.enabled,
            csrf: visitor.csrf.clone(),
            search: String::new(),
            notice: visitor
                .session_ended
                .then(|| "Your session has ended. Log in again to continue.".to_owned()),
            css: assets::url("style.css"),
            app_js: assets::url("app.js"),
            icon: assets::url("icon.svg"),
            here: here.to_owned(),
            feed: "/feeds/videos.xml".to_owned(),
        }
    }
}

/// Render a template as the answer for `visitor`, with the page headers.
/// A form page's status: 400 when it is shown again with what was wrong with the form.
pub fn form_status(error: &Option<String>) -> StatusCode {
    match error {
        Some(_) => StatusCode::BAD_REQUEST,
        None => StatusCode::OK,
    }
}

pub fn respond(visitor: &Visitor, status: StatusCode, t: &impl Template) -> Response {
    respond_with(visitor, status, t, CSP)
}

pub fn respond_with(
    visitor: &Visitor,
    status: StatusCode,
    t: &impl Template,
    csp: &str,
) -> Response {
    let body = match t.render() {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "rendering a page");
            return PageError::internal(e).into_response();
        }
    };
    let mut r = (status, Html(body)).into_response();
    headers::apply(&mut r, csp);
    visitor.apply(&mut r);
    r
}
