//! The third edge beside `api/` and `web/`: how Vireo talks to other fediverse servers.
//! It calls `service/` and `http/` only, never another edge (ARCHITECTURE.md, "Layers").
//!
//! What is here: discovery (`discovery`); the local actors and videos as documents (`actors`,
//! `videos`, `collections`), served on their pages' URLs to servers that ask for ActivityPub
//! (`negotiate`); HTTP Signatures (`signatures`); the inbox (`activity`, `inbox`); outgoing
//! requests (`client`, `fetcher`, `resolve`); and the worker (`delivery`) that runs the chores
//! (`chores`: following, answering followers), fans out video changes (`fanout`) and delivers.
//! The decisions are in ARCHITECTURE.md, "Federation".

pub mod activity;
pub mod actors;
pub mod chores;
pub mod client;
pub mod collections;
pub mod delivery;
pub mod discovery;
pub mod fanout;
pub mod fetcher;
pub mod fuzz;
pub mod inbox;
pub mod ingest;
pub mod negotiate;
pub mod pool;
pub mod remote_follow;
pub mod resolve;
pub mod signatures;
pub mod video_object;
pub mod videos;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;

use crate::http::AppState;
use crate::service::urls;

/// The routes whose URL is also a web page: `app` sends a request here instead of to the page
/// when `negotiate::wants_activity` says it asks for ActivityPub (and `is_object_page` matches).
pub fn object_router() -> Router<AppState> {
    Router::new()
        .route("/accounts/{name}", get(actors::account))
        .route("/a/{name}", get(actors::account))
        .route("/a/{name}/{tab}", get(actors::account_tab))
        .route("/video-channels/{name}", get(actors::channel))
        .route("/c/{name}", get(actors::channel))
        .route("/c/{name}/{tab}", get(actors::channel_tab))
        .route("/videos/watch/{id}", get(videos::video))
        .route("/w/{id}", get(videos::video))
}

/// The real PeerTube and Mastodon payloads of the shared fixtures, for the unit tests.
#[cfg(test)]
pub(crate) fn fixture(path: &str) -> Value {
    let text = std::fs::read_to_string(format!(
        "{}/../shared/fixtures/activitypub/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("the shared fixtures beside this repository");
    serde_json::from_str(&text).expect("a JSON fixture")
}

/// An ActivityPub document as an answer.
pub fn activity_response(doc: &Value) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(negotiate::ACTIVITY_JSON),
        )],
        doc.to_string(),
    )
        .into_response()
}

/// Every federation route.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/webfinger", get(discovery::webfinger))
        .route("/.well-known/nodeinfo", get(discovery::nodeinfo_links))
        .route("/nodeinfo/{version}", get(discovery::nodeinfo))
        .route("/.well-known/host-meta", get(discovery::host_meta))
        .route(urls::SHARED_INBOX, post(inbox::receive))
        .route("/accounts/{name}/inbox", post(inbox::receive))
        .route("/video-channels/{name}/inbox", post(inbox::receive))
        .route(
            "/accounts/{name}/{collection}",
            get(collections::account_collection),
        )
        .route(
            "/video-channels/{name}/{collection}",
            get(collections::channel_collection),
        )
        .route("/videos/watch/{id}/{which}", get(videos::collection))
        .route(urls::REMOTE_FOLLOW, get(remote_follow::remote_follow))
}
