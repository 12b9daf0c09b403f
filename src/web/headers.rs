//! The headers every page is answered with: a Content-Security-Policy (the embed page's allows
//! framing; a remote video's pages allow its server's media), nosniff, a referrer policy, and no caching of personal pages by shared caches.

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

/// `csp` with media also from `origins` (a remote video's server, whose HLS the player fetches
/// and whose MP4s the video element may load). Origins are `scheme://host[:port]` as
/// `url::Origin` writes them; anything else is left out.
pub fn allowing_media_from(csp: &str, origins: &[String]) -> String {
    let ok: Vec<&str> = origins
        .iter()
        .map(String::as_str)
        .filter(|o| {
            url::Url::parse(o).is_ok_and(|u| {
                matches!(u.scheme(), "http" | "https") && u.origin().ascii_serialization() == *o
            })
        })
        .collect();
    if ok.is_empty() {
        return csp.to_owned();
    }
    let extra = ok.join(" ");
    csp.replace(
        "media-src 'self' blob:",
        &format!("media-src 'self' blob: {extra}"),
    )
    .replace("connect-src 'self'", &format!("connect-src 'self' {extra}"))
}

/// Put the page headers, with `csp`, on `r`.
pub fn apply(r: &mut Response, csp: &str) {
    let h = r.headers_mut();
    let policy = HeaderValue::from_str(csp).unwrap_or_else(|_| HeaderValue::from_static(CSP));
    h.insert(header::CONTENT_SECURITY_POLICY, policy);
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
