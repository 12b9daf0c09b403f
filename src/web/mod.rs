//! The built-in web UI: server-rendered pages (askama templates in `web/templates/`), the
//! player and the other static assets (`web/static/`, embedded with rust-embed), the cookie
//! session that lets a browser log in, and the sharing endpoints (embed, oEmbed).
//!
//! Pages call the same service functions as the API (`service::visibility`, `listing`,
//! `finder`, `manage`, `user_admin`) and parse lists with the same `http::query`, so a page never
//! shows what the API would refuse, and filters mean the same in both. No page imports `api/`.

pub mod assets;
pub mod cards;
pub mod error;
pub mod format;
pub mod headers;
pub mod markdown;
pub mod page;
pub mod pages;
pub mod session;

use axum::Router;
use axum::routing::get;
use tower_http::compression::CompressionLayer;

use crate::http::AppState;

/// Every page route, and the assets.
pub fn router() -> Router<AppState> {
    use pages::{
        about, account, actors, admin, browse, federation, feeds, interaction, library, login,
        oembed, search, settings, upload, watch,
    };
    let pages = Router::new()
        .route("/", get(browse::home))
        .route("/about/instance", get(about::instance))
        .route("/videos/recently-added", get(browse::home))
        .route("/videos/trending", get(browse::trending))
        .route("/videos/local", get(browse::local))
        .route("/w/{id}", get(watch::watch))
        .route("/videos/watch/{id}", get(watch::watch))
        .route("/videos/embed/{id}", get(watch::embed))
        .route("/search", get(search::search))
        .route("/videos/upload", get(upload::show))
        .route("/my-library/videos", get(library::my_videos))
        .route(
            "/my-account/settings",
            get(account::show).post(account::save_profile),
        )
        .route(
            "/my-account/password",
            axum::routing::post(account::change_password),
        )
        .route(
            "/videos/update/{id}",
            get(library::edit)
                .post(library::save)
                // The form may carry a thumbnail.
                .layer(axum::extract::DefaultBodyLimit::max(
                    crate::http::extract::MAX_FILE_FIELD_BYTES + (1 << 20),
                )),
        )
        .route(
            "/videos/update/{id}/delete",
            axum::routing::post(library::delete),
        )
        .route("/c/{name}", get(actors::channel))
        .route("/c/{name}/videos", get(actors::channel))
        .route("/video-channels/{name}", get(actors::channel))
        .route("/a/{name}", get(actors::account))
        .route("/a/{name}/videos", get(actors::account))
        .route("/accounts/{name}", get(actors::account))
        .route(
            crate::service::urls::AUTHORIZE_INTERACTION,
            get(interaction::authorize),
        )
        .route("/login", get(login::show).post(login::submit))
        .route("/logout", axum::routing::post(login::logout))
        .route("/signup", get(login::signup).post(login::signup_submit))
        .route("/admin/users", get(admin::list).post(admin::create))
        .route("/admin/users/{id}/block", axum::routing::post(admin::block))
        .route(
            "/admin/users/{id}/unblock",
            axum::routing::post(admin::unblock),
        )
        .route("/admin/settings", get(settings::show).post(settings::save))
        .route(
            "/admin/federation",
            get(federation::show).post(federation::act),
        )
        .route(
            "/admin/settings/restore",
            axum::routing::post(settings::restore),
        )
        .route("/services/oembed", get(oembed::oembed))
        .route("/feeds/videos.xml", get(feeds::videos))
        // Pages are small HTML compressed per request; assets are compressed once, at start.
        .layer(CompressionLayer::new());
    pages.route("/assets/{name}", get(assets::serve))
}
