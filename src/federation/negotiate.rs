//! Content negotiation: the same URL is a web page for a browser and an ActivityPub document for
//! a federated server, as PeerTube serves them. A request gets the document when its `Accept`
//! names `application/activity+json` or `application/ld+json` (any profile) at least as high as
//! `text/html`; `*/*` and plain `application/json` get the page.

use axum::http::{HeaderMap, Method, header};

/// The media type of every ActivityPub document served.
pub const ACTIVITY_JSON: &str = "application/activity+json; charset=utf-8";

/// Whether the request asks for an ActivityPub document rather than a page.
pub fn wants_activity(method: &Method, headers: &HeaderMap) -> bool {
    if method != Method::GET && method != Method::HEAD {
        return false;
    }
    let mut activity = 0.0f32;
    let mut html = 0.0f32;
    for accept in headers.get_all(header::ACCEPT) {
        let Ok(accept) = accept.to_str() else {
            continue;
        };
        // Media ranges are comma-separated; no parameter value of an ActivityPub profile
        // contains a comma, so a plain split is exact for what peers send.
        for range in accept.split(',') {
            let Ok(m) = range.trim().parse::<mime::Mime>() else {
                continue;
            };
            let q = quality(&m);
            match (m.type_().as_str(), m.subtype().as_str(), m.suffix()) {
                ("application", "activity", Some(mime::JSON))
                | ("application", "ld", Some(mime::JSON)) => activity = activity.max(q),
                ("text", "html", _) => html = html.max(q),
                _ => {}
            }
        }
    }
    activity > 0.0 && activity >= html
}

/// A media range's `q` (1 when absent or unreadable, as RFC 9110 §12.4.2 defaults it).
fn quality(m: &mime::Mime) -> f32 {
    m.get_param("q")
        .and_then(|q| q.as_str().parse::<f32>().ok())
        .filter(|q| (0.0..=1.0).contains(q))
        .unwrap_or(1.0)
}

/// Whether `path` is one of the pages that are also an ActivityPub object: an account
/// (`/accounts/{name}`, `/a/{name}`, with `/videos` or `/video-channels`), a channel
/// (`/video-channels/{name}`, `/c/{name}`, with `/videos`) or a video (`/videos/watch/{id}`,
/// `/w/{id}`).
pub fn is_object_page(path: &str) -> bool {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    matches!(
        segments.as_slice(),
        ["accounts" | "a" | "video-channels" | "c", name]
            | ["a", name, "videos" | "video-channels"]
            | ["c", name, "videos"]
            | ["videos", "watch", name]
            | ["w", name]
            if !name.is_empty()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn wants(accept: &str) -> bool {
        let mut h = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(accept) {
            h.insert(header::ACCEPT, v);
        }
        wants_activity(&Method::GET, &h)
    }

    #[test]
    fn servers_get_documents_and_browsers_get_pages() {
        // Mastodon's, PeerTube's and Fedify's Accept headers.
        assert!(wants(
            "application/activity+json, application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\""
        ));
        assert!(wants("application/activity+json, application/ld+json"));
        assert!(wants(
            "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\""
        ));
        // Browsers and generic clients.
        assert!(!wants(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        ));
        assert!(!wants("*/*"));
        assert!(!wants("application/json"));
        assert!(!wants(""));
        assert!(!wants("text/html, application/activity+json;q=0.5"));
        assert!(wants("text/html;q=0.5, application/activity+json"));
        assert!(!wants("application/activity+json;q=0"));
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/activity+json"),
        );
        assert!(!wants_activity(&Method::POST, &h));
    }

    #[test]
    fn object_pages_are_actor_urls_and_their_page_forms() {
        for p in [
            "/accounts/bob",
            "/a/bob",
            "/a/bob/videos",
            "/a/bob/video-channels",
            "/video-channels/bob_channel",
            "/c/bob_channel",
            "/c/bob_channel/videos",
            "/c/bob_channel/",
            "/videos/watch/9c9de5e8-0a1b-4b5d-9a7e-2f1e2d3c4b5a",
            "/w/kkGMgK9ZtnKfYAgnEtQxbv",
        ] {
            assert!(is_object_page(p), "{p}");
        }
        for p in [
            "/accounts/bob/outbox",
            "/accounts/",
            "/api/v1/accounts/bob",
            "/c/x/video-channels",
            "/",
        ] {
            assert!(!is_object_page(p), "{p}");
        }
    }
}
