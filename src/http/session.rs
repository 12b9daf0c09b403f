//! Who a request is from when it carries the web UI's session cookie rather than a bearer
//! token: the cookies' names and parsing, and the user of an API request made by the page's own
//! scripts (the CSRF token required for anything but reads). Bearer tokens are read by the
//! extractors (`extract::MaybeAuth`); the web UI's sessions themselves are `web::session`.

use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use cookie::Cookie;

use super::AppState;
use crate::auth::secret;
use crate::model::user::User;
use crate::service::sessions;

pub const SESSION_COOKIE: &str = "vireo_session";
pub const CSRF_COOKIE: &str = "vireo_csrf";
/// The header the page's scripts send the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
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
pub fn session_tokens(headers: &HeaderMap) -> Option<(String, String)> {
    let v = cookie_value(headers, SESSION_COOKIE)?;
    let (access, refresh) = v.split_once(':')?;
    let hex = |s: &str| !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_hexdigit());
    (hex(access) && hex(refresh)).then(|| (access.to_owned(), refresh.to_owned()))
}

pub fn csrf_from(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, CSRF_COOKIE)
        .filter(|v| v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()))
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
    use axum::http::HeaderValue;

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
}
