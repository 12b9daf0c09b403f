//! The upload page (`/videos/upload`): pick or drop a file, give it a title, channel and
//! privacy; `web/static/upload.js` sends it with PeerTube's resumable protocol (progress that
//! survives a reload), then follows processing until the video is watchable.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::http::AppState;
use crate::http::extract::blocking;
use crate::model::video::Privacy;
use crate::service::channels;
use crate::web::assets;
use crate::web::page::{Chrome, PageError, respond};
use crate::web::pages::login::see_other;
use crate::web::session::Visitor;

pub struct ChannelOption {
    pub id: u64,
    pub name: String,
}

pub struct PrivacyOption {
    pub id: u8,
    pub label: &'static str,
}

#[derive(Template)]
#[template(path = "upload.html")]
struct UploadPage {
    chrome: Chrome,
    channels: Vec<ChannelOption>,
    privacies: Vec<PrivacyOption>,
    max_bytes: u64,
    max_size: String,
    upload_js: &'static str,
}

/// The privacies an uploader may choose (password protection is not supported yet).
pub fn privacy_options() -> Vec<PrivacyOption> {
    [
        Privacy::Public,
        Privacy::Unlisted,
        Privacy::Private,
        Privacy::Internal,
    ]
    .into_iter()
    .map(|p| PrivacyOption {
        id: p.id(),
        label: p.label(),
    })
    .collect()
}

/// `1073741824` → `1 GiB`.
pub fn size(bytes: u64) -> String {
    const UNITS: &[&str] = &["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 || v >= 10.0 || v.fract() == 0.0 {
        format!("{v:.0} {}", UNITS[unit])
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// Pages only a logged-in visitor may see send others to the login form, then back.
pub fn login_first(visitor: &Visitor, here: &str) -> Response {
    let next: String = url::form_urlencoded::byte_serialize(here.as_bytes()).collect();
    see_other(visitor, &format!("/login?next={next}"))
}

pub async fn show(State(state): State<AppState>, visitor: Visitor) -> Result<Response, PageError> {
    let Some(user) = visitor.user.clone() else {
        return Ok(login_first(&visitor, "/videos/upload"));
    };
    let core = state.core.clone();
    let account_id = user.account_id;
    let list = blocking(move || Ok(channels::of(&core, account_id)?)).await?;
    let max_bytes = state.core.config().uploads.max_file_bytes;
    let t = UploadPage {
        chrome: Chrome::new(&state, &visitor, "Upload a video", "/videos/upload"),
        channels: list
            .into_iter()
            .map(|c| ChannelOption {
                id: c.id,
                name: c.display_name,
            })
            .collect(),
        privacies: privacy_options(),
        max_bytes,
        max_size: size(max_bytes),
        upload_js: assets::url("upload.js"),
    };
    Ok(respond(&visitor, StatusCode::OK, &t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_binary_units() {
        assert_eq!(size(512), "512 bytes");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(size(8 * 1024 * 1024 * 1024), "8 GiB");
        assert_eq!(size(25 * 1024 * 1024), "25 MiB");
    }
}
