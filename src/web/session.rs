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
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::Response;
use cookie::{Cookie, SameSite};

use crate::api::extract::blocking;
use crate::app::AppState;
use crate::auth::secret;
use crate::model::user::User;
use crate::service::sessions::{self, Issued, TokenProblem};

pub const SESSION_COOKIE: &str = "vireo_session";
pub const CSRF_COOKIE: &str = "vireo_csrf";
/// The header the page's scripts send the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

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
    pub fn check_form(&self, csrf: &str) -> Result<(), crate::web::page::PageError> {
        match self.csrf_ok(csrf) {
            true => Ok(()),
            false => Err(crate::web::page::PageError::stale_form()),
        }
    }

    /// The logged-in user who sent a form carrying `csrf`. A form without this visitor's token
    /// is refused; one sent after the session ended leads to the login form, then back to
    /// `here`.
    pub fn form_sender(&self, csrf: &str, here: &str) -> Result<User, crate::web::page::PageError> {
        self.check_form(csrf)?;
        self.user
            .clone()
            .ok_or_else(|| crate::web::page::PageError::log_in_first(here))
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

/// The value of cookie `name` in the request's `Cookie` headers.
fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// The session cookie's two tokens, if it is well formed.
fn session_tokens(headers: &HeaderMap) -> Option<(String, String)> {
    let v = cookie_value(headers, SESSION_COOKIE)?;
    let (access, refresh) = v.split_once(':')?;
    let hex = |s: &str| !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_hexdigit());
    (hex(access) && hex(refresh)).then(|| (access.to_owned(), refresh.to_owned()))
}

fn csrf_from(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, CSRF_COOKIE)
        .filter(|v| v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = crate::web::page::PageError;

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
                    secret::random_hex::<16>().map_err(crate::web::page::PageError::internal)?;
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

/// The user of an API request that carries no bearer token but the web session's cookie: the
/// page's own scripts and the player. Reads are allowed with the cookie alone (`SameSite=Lax`
/// keeps it off other sites' subresource requests); anything else must repeat the CSRF token
/// in `X-CSRF-Token`. An ended session is simply anonymous here: the page renews it.
pub fn api_user(parts: &Parts, state: &AppState) -> Option<User> {
    let (access, _) = session_tokens(&parts.headers)?;
    let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe {
        let cookie = csrf_from(&parts.headers)?;
        let given = parts.headers.get(CSRF_HEADER)?.to_str().ok()?;
        if !secret::equal(given, &cookie) {
            return None;
        }
    }
    sessions::authenticate(&state.core, &access).ok()?.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_cookie(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn session_cookies_are_parsed_strictly() {
        let h = with_cookie("a=b; vireo_session=ab12:cd34; other=1");
        assert_eq!(
            session_tokens(&h),
            Some(("ab12".to_owned(), "cd34".to_owned()))
        );
        for bad in [
            "vireo_session=ab12",
            "vireo_session=:cd",
            "vireo_session=zz:cd",
            "vireo_session=ab:cd:ef",
        ] {
            assert_eq!(session_tokens(&with_cookie(bad)), None, "{bad}");
        }
        assert_eq!(csrf_from(&with_cookie("vireo_csrf=short")), None);
        let good = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            csrf_from(&with_cookie(&format!("vireo_csrf={good}"))).as_deref(),
            Some(good)
        );
    }

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
