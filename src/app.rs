//! The HTTP application: `fn app(state) -> Router`, every edge's routes, with the middleware every
//! request passes (timeouts, body limits, panic catching, CORS, tracing). Tests drive this
//! router in-process; `server` binds it to a socket.

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowHeaders, Any, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::api;
pub use crate::http::AppState;
use crate::http::error::ApiError;

/// The whole application as a router.
pub fn app(state: AppState) -> Router {
    let server = &state.core.config().server;
    let timeout = Duration::from_secs(server.request_timeout_secs);
    let max_body = server.max_body_bytes;
    // Uploads stream large bodies for as long as they take; every other request is small and
    // bounded in size and time.
    let bounded =
        api::router()
            .layer(DefaultBodyLimit::max(max_body))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                timeout,
            ));
    let body_idle = Duration::from_secs(state.core.config().uploads.body_idle_timeout_secs);
    let api = bounded.merge(api::upload_router(max_body, body_idle));
    let objects = crate::federation::object_router()
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .with_state(state.clone());
    Router::new()
        .nest("/api/v1", api)
        .merge(api::media::router())
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
        .merge(
            crate::federation::router().layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                timeout,
            )),
        )
        .merge(crate::web::router().layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        )))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(move |req, next| {
            negotiate(objects.clone(), req, next)
        }))
        // Outside the routes, so a preflight is answered before any route or its method
        // fallback (which would say 405 without CORS headers).
        .layer(cors())
        .layer(axum::middleware::from_fn(preflight_no_content))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(CatchPanicLayer::custom(panic_response))
        // A 5xx is logged as a warning here: internal errors are logged as errors, with their
        // cause, where they happen, and an expected 503 ("indexing") is no error at all.
        .layer(
            TraceLayer::new_for_http()
                .on_failure(tower_http::trace::DefaultOnFailure::new().level(tracing::Level::WARN)),
        )
        .with_state(state)
}

/// CORS as PeerTube sends it: its API and media are meant for browser clients on other origins
/// (embeds, remote players, other front-ends), and bearer tokens, not cookies, carry identity,
/// so any origin may call them; a preflight may ask for any header. The media's length, range
/// and tag are readable by players; `Retry-After` by clients that were throttled. HTML pages
/// get the headers too: with `*`, a browser sends no cookie cross-origin, so another site only
/// ever reads what an anonymous visitor sees.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([
            Method::GET,
            Method::HEAD,
            Method::PUT,
            Method::PATCH,
            Method::POST,
            Method::DELETE,
        ])
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers([
            header::CONTENT_LENGTH,
            header::CONTENT_RANGE,
            header::ETAG,
            header::ACCEPT_RANGES,
            header::RETRY_AFTER,
        ])
}

/// A page that is also an ActivityPub object (an account, a channel) is answered by the
/// federation edge when the request asks for ActivityPub, else by the web UI; both answers say
/// `Vary: Accept`, so a cache keeps them apart.
async fn negotiate(objects: Router, req: axum::extract::Request, next: Next) -> Response {
    use crate::federation::negotiate;
    use tower::ServiceExt;
    if !negotiate::is_object_page(req.uri().path()) {
        return next.run(req).await;
    }
    let mut res = if negotiate::wants_activity(req.method(), req.headers()) {
        // A fresh request: this one already carries the outer router's path parameters, which
        // the federation router's own would be added to. A GET has no body to keep.
        let (parts, _) = req.into_parts();
        let mut fresh = axum::extract::Request::new(axum::body::Body::empty());
        *fresh.method_mut() = parts.method;
        *fresh.uri_mut() = parts.uri;
        *fresh.version_mut() = parts.version;
        *fresh.headers_mut() = parts.headers;
        match objects.oneshot(fresh).await {
            Ok(res) => res,
            Err(never) => match never {},
        }
    } else {
        next.run(req).await
    };
    res.headers_mut()
        .append(header::VARY, HeaderValue::from_static("accept"));
    res
}

/// tower-http answers a preflight with 200; PeerTube (the `cors` package) with 204 and no body.
async fn preflight_no_content(req: axum::extract::Request, next: Next) -> Response {
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut res = next.run(req).await;
    if preflight && res.status() == StatusCode::OK {
        *res.status_mut() = StatusCode::NO_CONTENT;
    }
    res
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

fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_owned());
    tracing::error!(panic = %message, "a request handler panicked");
    ApiError::internal().into_response()
}
