//! The headers every page is answered with: a Content-Security-Policy (the embed page's allows
//! framing), nosniff, a referrer policy, and no caching of personal pages by shared caches.

use axum::http::{HeaderValue, header};
use axum::response::Response;

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

/// Put the page headers, with `csp`, on `r`.
pub fn apply(r: &mut Response, csp: &'static str) {
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
