//! The HTTP application: shared state and `fn app(state) -> Router`, with the middleware every
//! request passes (timeouts, body limits, panic catching, CORS, tracing). Tests drive this
//! router in-process; `server` binds it to a socket.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{Any, CorsLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::api;
use crate::api::cache::ListCache;
use crate::api::error::ApiError;
use crate::api::uploads::InFlight;
use crate::auth::throttle::LoginThrottle;
use crate::service::Core;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub core: Arc<Core>,
    pub throttle: Arc<LoginThrottle>,
    pub list_cache: Arc<ListCache>,
    pub uploads_in_flight: Arc<InFlight>,
    /// Reused buffers for small byte ranges read in one go (`api::media`).
    pub range_reads: Arc<crate::api::media::RangeBuffers>,
}

impl AppState {
    pub fn new(core: Arc<Core>) -> AppState {
        let auth = &core.config().auth;
        let throttle = LoginThrottle::new(
            auth.login_max_failures,
            Duration::from_secs(auth.login_window_secs),
        );
        let list_cache = ListCache::new(core.config().server.list_cache_entries);
        AppState {
            core,
            throttle: Arc::new(throttle),
            list_cache: Arc::new(list_cache),
            uploads_in_flight: Arc::new(InFlight::default()),
            range_reads: Arc::new(crate::api::media::RangeBuffers::default()),
        }
    }
}

/// The whole application as a router.
pub fn app(state: AppState) -> Router {
    let server = &state.core.config().server;
    let timeout = Duration::from_secs(server.request_timeout_secs);
    let max_body = server.max_body_bytes;
    // PeerTube serves its API to browser clients on other origins (embeds, remote front-ends);
    // bearer tokens, not cookies, carry identity, so any origin may call it.
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::RANGE]);
    // Uploads stream large bodies for as long as they take; every other request is small and
    // bounded in size and time.
    let bounded =
        api::router()
            .layer(DefaultBodyLimit::max(max_body))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                timeout,
            ));
    let api = bounded.merge(api::upload_router()).layer(cors);
    Router::new()
        .nest("/api/v1", api)
        .merge(api::media::router())
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
        .merge(crate::web::router().layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        )))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(CatchPanicLayer::custom(panic_response))
        // A 5xx is logged as a warning here: internal errors are logged as errors, with their
        // cause, where they happen, and an expected 503 ("indexing") is no error at all.
        .layer(
            TraceLayer::new_for_http()
                .on_failure(tower_http::trace::DefaultOnFailure::new().level(tracing::Level::WARN)),
        )
        .with_state(state)
}

/// The process is up and serving HTTP.
async fn livez() -> &'static str {
    "ok\n"
}

/// The store answers: the instance can serve requests.
async fn readyz(State(state): State<AppState>) -> Response {
    match state.core.store.ping() {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable\n").into_response()
        }
    }
}

/// Unknown paths: a page for browsers, PeerTube's problem document for everything else.
async fn not_found(headers: axum::http::HeaderMap) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if wants_html {
        return crate::web::page::PageError::not_found("Page").into_response();
    }
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "Not found").into_response()
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "This method is not allowed on this path",
    )
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiError::internal().into_response()
}
