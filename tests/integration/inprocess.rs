//! The router driven in-process, without a socket (`fn app() -> Router` with `oneshot`): the
//! same application the binary serves, for tests that need no process.

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use serde_json::Value;
use tower::ServiceExt;
use vireo::app::{AppState, app};
use vireo::config::Config;
use vireo::service::Core;

use crate::common::tempdir;

async fn call(router: &axum::Router, method: &str, uri: &str) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .unwrap();
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = to_bytes(res.into_body(), 1 << 20).await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn router_answers_without_a_socket() {
    let dir = tempdir();
    let mut config = Config::default();
    config.storage.data_dir = dir.path().to_owned();
    let core = Core::open(config).unwrap();
    let router = app(AppState::new(core));
    assert_eq!(call(&router, "GET", "/readyz").await.0, StatusCode::OK);
    let (status, body) = call(&router, "GET", "/api/v1/videos").await;
    assert_eq!((status, body["total"].as_u64()), (StatusCode::OK, Some(0)));
    let (status, body) = call(&router, "DELETE", "/api/v1/videos/categories").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["code"], "method_not_allowed");
    let (status, body) = call(&router, "GET", "/api/v1/nothing-here").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
}
