//! Pages that could not be shown: `PageError`, with the status code an API client would get
//! for the same request and a sentence for the visitor, rendered as the plain error page; and
//! `PageForm`, a page post whose malformed body is such an error.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::{assets, headers};
use crate::http::error::ApiError;

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

    /// A video the visitor may not see without logging in.
    pub fn private_video() -> PageError {
        PageError {
            offer_login: true,
            ..PageError::new(
                StatusCode::UNAUTHORIZED,
                "This video is private. Log in to watch it if you may.",
            )
        }
    }

    pub fn internal(e: impl std::fmt::Display) -> PageError {
        tracing::error!(error = %e, "a page failed");
        PageError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong on our side. Try again in a moment.",
        )
    }
}

/// An error page says what the API would: its message (refusals included), the login form
/// offered on a 401. The one page that words a refusal its own way is a private video's
/// (`private_video`), whose API message speaks of tokens.
impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        let offer_login = e.status == StatusCode::UNAUTHORIZED;
        let message = match e.status {
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
            headers::apply(&mut r, headers::CSP);
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
        headers::apply(&mut r, headers::CSP);
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
