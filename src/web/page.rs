//! What every page shares: the layout's data (`Chrome`), the answer's headers (a
//! Content-Security-Policy the pages pass, no caching of personal pages), and error pages with
//! the status code an API client would get for the same request.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::assets;
use super::session::Visitor;
use crate::api::error::ApiError;
use crate::app::AppState;

/// The policy every page is served with: scripts, styles, images and media from this origin
/// only (media also from the player's `blob:` MediaSource), no inline script or style, no
/// plugins, forms posting only here, and no framing (the embed page alone allows it).
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; media-src 'self' blob:; connect-src 'self'; font-src 'self'; \
    manifest-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The embed page's policy: the same, but any site may frame it.
pub const EMBED_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; media-src 'self' blob:; connect-src 'self'; font-src 'self'; \
    form-action 'self'; base-uri 'none'; frame-ancestors *";

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
            is_admin: user.is_some_and(crate::auth::rights::can_manage_users),
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
    csp: &'static str,
) -> Response {
    let body = match t.render() {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "rendering a page");
            return PageError::internal(e).into_response();
        }
    };
    let mut r = (status, Html(body)).into_response();
    page_headers(&mut r, csp);
    visitor.apply(&mut r);
    r
}

fn page_headers(r: &mut Response, csp: &'static str) {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    // Pages show who is logged in and carry a CSRF token: never stored by shared caches.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
}

/// A page that could not be shown: its status and a sentence for the visitor.
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub message: String,
    /// Offer the login form (a private video for an anonymous visitor).
    pub offer_login: bool,
    /// Send the visitor there instead of showing a page (a form sent after the session ended
    /// goes to the login form).
    pub location: Option<String>,
}

impl PageError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> PageError {
        PageError {
            status,
            message: message.into(),
            offer_login: false,
            location: None,
        }
    }

    /// The answer to a form whose CSRF token is missing or wrong.
    pub fn stale_form() -> PageError {
        PageError::new(
            StatusCode::FORBIDDEN,
            "This form has expired or did not come from this site. Go back, reload the page and try again.",
        )
    }

    /// Send the visitor to the login form, coming back to `here` after.
    pub fn log_in_first(here: &str) -> PageError {
        let next: String = url::form_urlencoded::byte_serialize(here.as_bytes()).collect();
        PageError {
            location: Some(format!("/login?next={next}")),
            ..PageError::new(StatusCode::SEE_OTHER, "Log in first.")
        }
    }

    pub fn not_found(what: &str) -> PageError {
        PageError::new(StatusCode::NOT_FOUND, format!("{what} not found."))
    }

    pub fn internal(e: impl std::fmt::Display) -> PageError {
        tracing::error!(error = %e, "a page failed");
        PageError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong on our side. Try again in a moment.",
        )
    }
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        let offer_login = e.status == StatusCode::UNAUTHORIZED;
        let message = match e.status {
            StatusCode::UNAUTHORIZED => {
                "This video is private. Log in to watch it if you may.".to_owned()
            }
            StatusCode::FORBIDDEN => "You are not allowed to see this.".to_owned(),
            _ if e.detail.ends_with("not found") => format!("{}.", e.detail),
            _ => e.explanation(),
        };
        PageError {
            status: e.status,
            message,
            offer_login,
            location: None,
        }
    }
}

impl From<crate::service::ServiceError> for PageError {
    fn from(e: crate::service::ServiceError) -> Self {
        ApiError::from(e).into()
    }
}

impl From<crate::store::StoreError> for PageError {
    fn from(e: crate::store::StoreError) -> Self {
        ApiError::from(e).into()
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    message: &'a str,
    offer_login: bool,
    css: &'static str,
    icon: &'static str,
}

impl IntoResponse for PageError {
    /// Error pages are rendered without the visitor (they may come from failing to read one),
    /// so their layout is the plain one.
    fn into_response(self) -> Response {
        if let Some(to) = &self.location
            && let Ok(v) = HeaderValue::from_str(to)
        {
            let mut r = StatusCode::SEE_OTHER.into_response();
            r.headers_mut().insert(header::LOCATION, v);
            page_headers(&mut r, CSP);
            return r;
        }
        let page = ErrorPage {
            status: self.status.as_u16(),
            message: &self.message,
            offer_login: self.offer_login,
            css: assets::url("style.css"),
            icon: assets::url("icon.svg"),
        };
        let body = page.render().unwrap_or_else(|_| self.message.clone());
        let mut r = (self.status, Html(body)).into_response();
        page_headers(&mut r, CSP);
        r
    }
}

/// A form-urlencoded page post; a malformed one is answered with an error page.
#[derive(Debug)]
pub struct PageForm<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for PageForm<T> {
    type Rejection = PageError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, PageError> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(PageForm(v)),
            Err(rejection) => Err(PageError::new(
                rejection.status(),
                "The form could not be read. Go back and try again.",
            )),
        }
    }
}
