//! The web UI's cookie session and its CSRF token.
//!
//! Logging in through the page issues an ordinary OAuth token pair (`service::sessions`), kept
//! in one `HttpOnly`, `SameSite=Lax` cookie, so a password change or a block ends web sessions
//! exactly as it ends API tokens. An expired access token is renewed with the refresh token on
//! the next page; an expired or revoked pair makes the visitor anonymous and says so.
//!
//! Form posts and the page's own API calls carry a CSRF token: a random value in a second
//! cookie (`SameSite=Strict`), repeated in the form (or the `X-CSRF-Token` header) and compared
//! in constant time. A cross-site page can neither read that cookie nor make the browser send
//! it, so it cannot forge the pair.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use cookie::{Cookie, SameSite};

use crate::auth::secret;
use crate::http::AppState;
use crate::http::extract::blocking;
use crate::model::user::User;
use crate::service::sessions::{self, Issued, TokenProblem};

use crate::http::session::{CSRF_COOKIE, SESSION_COOKIE, cookie_value, csrf_from, session_tokens};

/// Who is looking at a page, and the cookies the answer must set.
#[derive(Debug, Clone)]
pub struct Visitor {
    pub user: Option<User>,
    /// The CSRF token forms on this page carry.
    pub csrf: String,
    /// A session cookie came with the request but its session has ended.
    pub session_ended: bool,
    /// The access token of the session, for logging out.
    access_token: Option<String>,
    set_cookies: Vec<String>,
    secure: bool,
}

impl Visitor {
    /// Check that a form carries this visitor's CSRF token.
    pub fn check_form(&self, csrf: &str) -> Result<(), crate::web::error::PageError> {
        match self.csrf_ok(csrf) {
            true => Ok(()),
            false => Err(crate::web::error::PageError::stale_form()),
        }
    }

    /// The logged-in user who sent a form carrying `csrf`. A form without this visitor's token
    /// is refused; one sent after the session ended leads to the login form, then back to
    /// `here`.
    pub fn form_sender(
        &self,
        csrf: &str,
        here: &str,
    ) -> Result<User, crate::web::error::PageError> {
        self.check_form(csrf)?;
        self.user
            .clone()
            .ok_or_else(|| crate::web::error::PageError::log_in_first(here))
    }

    /// Does `given` (a form field or header) match this visitor's CSRF token?
    pub fn csrf_ok(&self, given: &str) -> bool {
        !given.is_empty() && secret::equal(given, &self.csrf)
    }

    /// Start a session for a freshly issued token pair (a new CSRF token with it, so a token
    /// planted before login is worth nothing after).
    pub fn log_in(
        &mut self,
        issued: &Issued,
        lifetime_secs: i64,
    ) -> Result<(), secret::RandomError> {
        let value = format!("{}:{}", issued.access_token, issued.refresh_token);
        self.set(session_cookie(value, lifetime_secs, self.secure));
        self.csrf = secret::random_hex::<16>()?;
        self.set(csrf_cookie(self.csrf.clone(), self.secure));
        Ok(())
    }

    /// The access token of this visit's session, if it has one (the session a password change
    /// keeps).
    pub fn access_token(&self) -> Option<&str> {
        self.access_token.as_deref()
    }

    /// End the session: its tokens are revoked by the caller, its cookie removed here.
    pub fn log_out(&mut self) -> Option<String> {
        self.user = None;
        self.set(removal(SESSION_COOKIE, self.secure));
        self.access_token.take()
    }

    fn set(&mut self, c: Cookie<'static>) {
        self.set_cookies.push(c.to_string());
    }

    /// Add the cookies this visit set to a response.
    pub fn apply(&self, response: &mut Response) {
        for c in &self.set_cookies {
            if let Ok(v) = HeaderValue::from_str(c) {
                response.headers_mut().append(header::SET_COOKIE, v);
            }
        }
    }
}

fn session_cookie(value: String, lifetime_secs: i64, secure: bool) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .max_age(cookie::time::Duration::seconds(lifetime_secs))
        .build()
}

fn csrf_cookie(value: String, secure: bool) -> Cookie<'static> {
    Cookie::build((CSRF_COOKIE, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .build()
}

fn removal(name: &'static str, secure: bool) -> Cookie<'static> {
    let mut c = Cookie::build((name, ""))
        .path("/")
        .http_only(true)
        .secure(secure)
        .build();
    c.make_removal();
    c
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = crate::web::error::PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let secure = state.core.config().public_url().starts_with("https://");
        let mut visitor = Visitor {
            user: None,
            csrf: String::new(),
            session_ended: false,
            access_token: None,
            set_cookies: Vec::new(),
            secure,
        };
        match csrf_from(&parts.headers) {
            Some(c) => visitor.csrf = c,
            None => {
                visitor.csrf =
                    secret::random_hex::<16>().map_err(crate::web::error::PageError::internal)?;
                visitor.set(csrf_cookie(visitor.csrf.clone(), secure));
            }
        }
        let Some((access, refresh)) = session_tokens(&parts.headers) else {
            if cookie_value(&parts.headers, SESSION_COOKIE).is_some() {
                visitor.session_ended = true;
                visitor.set(removal(SESSION_COOKIE, secure));
            }
            return Ok(visitor);
        };
        match sessions::authenticate(&state.core, &access)? {
            Ok(user) => {
                visitor.user = Some(user);
                visitor.access_token = Some(access);
            }
            Err(TokenProblem::Expired) => {
                let core = state.core.clone();
                let renewed = blocking(move || Ok(sessions::refresh(&core, &refresh).ok())).await?;
                match renewed {
                    Some((user, issued)) => {
                        let life = state.core.config().auth.refresh_token_lifetime_secs;
                        let value = format!("{}:{}", issued.access_token, issued.refresh_token);
                        visitor.set(session_cookie(value, life, secure));
                        visitor.user = Some(user);
                        visitor.access_token = Some(issued.access_token);
                    }
                    None => {
                        visitor.session_ended = true;
                        visitor.set(removal(SESSION_COOKIE, secure));
                    }
                }
            }
            Err(TokenProblem::Unknown | TokenProblem::Blocked) => {
                visitor.session_ended = true;
                visitor.set(removal(SESSION_COOKIE, secure));
            }
        }
        Ok(visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_http_only_and_same_site() {
        let s = session_cookie("x:y".into(), 60, false).to_string();
        assert!(s.contains("HttpOnly") && s.contains("SameSite=Lax") && !s.contains("Secure"));
        let c = csrf_cookie("t".into(), true).to_string();
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Secure"));
        let r = removal(SESSION_COOKIE, false).to_string();
        assert!(r.contains("Max-Age=0"), "{r}");
    }
}
