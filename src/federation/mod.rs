//! The third edge beside `api/` and `web/`: how Vireo talks to other fediverse servers.
//! It calls `service/` and `http/` only, never another edge (ARCHITECTURE.md, "Layers").
//!
//! Built so far: discovery (`discovery`): WebFinger for local accounts and channels, NodeInfo
//! 2.0 and 2.1, host-meta. The actors, signatures, inbox and delivery follow (issue 22; the
//! decisions taken for them are in ARCHITECTURE.md, "Federation").

pub mod discovery;

use axum::Router;
use axum::routing::get;

use crate::http::AppState;

/// Every federation route.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/webfinger", get(discovery::webfinger))
        .route("/.well-known/nodeinfo", get(discovery::nodeinfo_links))
        .route("/nodeinfo/{version}", get(discovery::nodeinfo))
        .route("/.well-known/host-meta", get(discovery::host_meta))
}
