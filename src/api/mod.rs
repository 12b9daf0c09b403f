//! The PeerTube-compatible REST API under `/api/v1`: routes, extractors, the error type, and the
//! JSON views. Handlers parse and authorize; `service` does the work.

pub mod blocklist;
pub mod channels;
pub mod config;
pub mod custom_config;

pub mod media;
pub mod oauth;
pub mod pagination;
pub mod rates;
pub mod search;
pub mod server_follows;
pub mod transcoding;
pub mod uploads;
pub mod users;
pub mod video_views;
pub mod videos;
pub mod views;

use axum::Router;
use axum::routing::{delete, get, post, put};

use crate::http::AppState;

/// Every `/api/v1` route.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/oauth-clients/local", get(oauth::local_client))
        .route("/users/token", post(oauth::token))
        .route("/users/revoke-token", post(oauth::revoke))
        .route("/users/register", post(users::register))
        .route("/users/me", get(users::me).put(users::update_me))
        .route("/users/me/video-quota-used", get(users::quota_used))
        .route("/users/me/videos", get(videos::mine))
        .route("/users/me/videos/{id}/rating", get(rates::mine))
        .route("/users", get(users::list).post(users::create))
        .route(
            "/users/{id}",
            get(users::get).put(users::update).delete(users::delete),
        )
        .route("/users/{id}/block", post(users::block))
        .route("/users/{id}/unblock", post(users::unblock))
        .route("/accounts", get(channels::accounts))
        .route("/accounts/{name}", get(channels::account))
        .route(
            "/accounts/{name}/video-channels",
            get(channels::account_channels),
        )
        .route("/accounts/{name}/videos", get(channels::account_videos))
        .route("/accounts/{name}/ratings", get(rates::of_account))
        .route(
            "/video-channels",
            get(channels::list).post(channels::create),
        )
        .route(
            "/video-channels/{handle}",
            get(channels::get)
                .put(channels::update)
                .delete(channels::delete),
        )
        .route(
            "/video-channels/{handle}/videos",
            get(channels::channel_videos),
        )
        .route("/videos", get(videos::list))
        .route("/search/videos", get(search::videos))
        .route("/search/video-channels", get(search::channels))
        .route("/search/suggestions", get(search::suggestions))
        .route("/videos/categories", get(videos::categories))
        .route("/videos/licences", get(videos::licences))
        .route("/videos/languages", get(videos::languages))
        .route("/videos/privacies", get(videos::privacies))
        .route(
            "/videos/{id}",
            get(videos::get)
                .put(videos::update)
                .delete(videos::delete)
                // An update may carry a thumbnail and a preview image.
                .layer(axum::extract::DefaultBodyLimit::max(
                    2 * crate::http::extract::MAX_FILE_FIELD_BYTES + (1 << 20),
                )),
        )
        .route("/videos/{id}/description", get(videos::description))
        .route(
            "/videos/{id}/metadata/{file_id}",
            get(videos::file_metadata),
        )
        .route("/videos/{id}/views", post(video_views::report))
        .route("/videos/{id}/rate", put(rates::rate))
        .route("/videos/{id}/storyboards", get(videos::storyboards))
        .route("/videos/{id}/transcoding", post(transcoding::create))
        .route("/videos/{id}/hls", delete(transcoding::delete_hls))
        .route(
            "/videos/{id}/web-videos",
            delete(transcoding::delete_web_videos),
        )
        .route(
            "/server/following",
            get(server_follows::following_list).post(server_follows::follow),
        )
        .route(
            "/server/following/{target}",
            delete(server_follows::unfollow),
        )
        .route("/server/followers", get(server_follows::followers_list))
        .route(
            "/server/blocklist/servers",
            get(|s, a, p| blocklist::servers(s, a, p, false))
                .post(|s, a, b| blocklist::block_server(s, a, b, false)),
        )
        .route(
            "/server/blocklist/servers/{host}",
            delete(|s, a, h| blocklist::unblock_server(s, a, h, false)),
        )
        .route(
            "/server/blocklist/accounts",
            get(|s, a, p| blocklist::accounts(s, a, p, false))
                .post(|s, a, b| blocklist::block_account(s, a, b, false)),
        )
        .route(
            "/server/blocklist/accounts/{name}",
            delete(|s, a, n| blocklist::unblock_account(s, a, n, false)),
        )
        .route(
            "/users/me/blocklist/servers",
            get(|s, a, p| blocklist::servers(s, a, p, true))
                .post(|s, a, b| blocklist::block_server(s, a, b, true)),
        )
        .route(
            "/users/me/blocklist/servers/{host}",
            delete(|s, a, h| blocklist::unblock_server(s, a, h, true)),
        )
        .route(
            "/users/me/blocklist/accounts",
            get(|s, a, p| blocklist::accounts(s, a, p, true))
                .post(|s, a, b| blocklist::block_account(s, a, b, true)),
        )
        .route(
            "/users/me/blocklist/accounts/{name}",
            delete(|s, a, n| blocklist::unblock_account(s, a, n, true)),
        )
        .route("/blocklist/status", get(blocklist::status))
        .route("/server/followers/{handle}", delete(server_follows::remove))
        .route(
            "/server/followers/{handle}/accept",
            post(server_follows::accept),
        )
        .route(
            "/server/followers/{handle}/reject",
            post(server_follows::reject),
        )
        .route("/config", get(config::config))
        .route("/config/about", get(config::about))
        .route(
            "/config/custom",
            get(custom_config::get)
                .put(custom_config::put)
                .delete(custom_config::delete),
        )
        .fallback(not_found)
}

/// The upload routes, which take no request timeout: a file streams for as long as it takes.
/// Their bodies are still bounded: the multipart upload reads each text field and image under
/// `extract::FormBudget` and streams only the file to disk (under the size limit and quota), a
/// resumable chunk streams to disk up to its `Content-Range`, and the resumable start's JSON has
/// the usual `max_body` limit. A body that stops arriving for `body_idle` ends the request.
pub fn upload_router(max_body: usize, body_idle: std::time::Duration) -> Router<AppState> {
    use axum::extract::DefaultBodyLimit;
    Router::new()
        .route(
            "/videos/upload",
            post(uploads::upload).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/videos/upload-resumable",
            post(uploads::start)
                .put(uploads::chunk)
                .delete(uploads::cancel),
        )
        .layer(DefaultBodyLimit::max(max_body))
        // tower-http's idle timer restarts at every frame of the body; its body type is mapped
        // back to axum's for the routes.
        .layer(tower_http::map_request_body::MapRequestBodyLayer::new(
            axum::body::Body::new,
        ))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(body_idle))
}

async fn not_found() -> crate::http::error::ApiError {
    crate::http::error::ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        "not_found",
        "This API endpoint does not exist",
    )
}
