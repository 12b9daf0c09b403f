//! `/services/oembed`: the oEmbed answer for a watch-page URL of this instance, so sites that
//! embed links (forums, chat, blogs) show the player. Only public and unlisted videos are
//! described: others answer as the API does to an anonymous visitor.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::blocking;
use crate::model::video::Privacy;
use crate::service::urls::{self, Urls};
use crate::service::visibility;

#[derive(Debug, Deserialize)]
pub struct OembedQuery {
    url: Option<String>,
    format: Option<String>,
    maxwidth: Option<String>,
    maxheight: Option<String>,
}

#[derive(Debug, Serialize)]
struct Oembed {
    #[serde(rename = "type")]
    kind: &'static str,
    version: &'static str,
    html: String,
    width: u32,
    height: u32,
    title: String,
    author_name: String,
    author_url: String,
    provider_name: String,
    provider_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    thumbnail_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thumbnail_width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thumbnail_height: Option<u32>,
}

/// The video id in a watch, short or embed URL of this instance.
fn video_key(base: &str, url: &str) -> Option<String> {
    let rest = url.strip_prefix(base)?;
    let path = rest.split(['?', '#']).next()?;
    ["/w/", "/videos/watch/", "/videos/embed/"]
        .iter()
        .find_map(|p| path.strip_prefix(p))
        .map(|id| id.trim_end_matches('/').to_owned())
        .filter(|id| !id.is_empty() && id.len() <= 64 && !id.contains('/'))
}

/// The size of the player: 560×315 unless the consumer asks for smaller.
fn size(maxwidth: Option<&str>, maxheight: Option<&str>) -> (u32, u32) {
    let bound = |v: Option<&str>, d: u32| {
        v.and_then(|s| s.parse::<u32>().ok())
            .filter(|&n| n > 0)
            .map_or(d, |n| n.min(d))
    };
    let w = bound(maxwidth, 560);
    let h = bound(maxheight, 315);
    // Keep 16:9 inside both bounds.
    if w * 9 > h * 16 {
        (h * 16 / 9, h)
    } else {
        (w, w * 9 / 16)
    }
}

pub async fn oembed(
    State(state): State<AppState>,
    Query(q): Query<OembedQuery>,
) -> ApiResult<Response> {
    match q.format.as_deref() {
        None | Some("" | "json") => {}
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::NOT_IMPLEMENTED,
                "not_implemented",
                "Only the json format is served",
            ));
        }
    }
    let u = Urls::new(&state.core.config());
    let base = u.base().to_owned();
    let url = q.url.as_deref().unwrap_or("");
    let key = video_key(&base, url)
        .ok_or_else(|| ApiError::invalid_param("query", "url", "Should have a valid url"))?;
    let core = state.core.clone();
    let owned = blocking(move || Ok(visibility::load_visible(&core, &key, None)?)).await?;
    let (video, channel) = (owned.video, owned.channel);
    if !matches!(video.privacy, Privacy::Public | Privacy::Unlisted) {
        return Err(ApiError::not_found("Video"));
    }
    let (width, height) = size(q.maxwidth.as_deref(), q.maxheight.as_deref());
    let embed = u.absolute(&urls::embed(&video.uuid));
    let mut title = String::new();
    let _ = pulldown_cmark_escape::escape_html(&mut title, &video.name);
    let body = Oembed {
        kind: "video",
        version: "1.0",
        html: format!(
            "<iframe width=\"{width}\" height=\"{height}\" sandbox=\"allow-same-origin allow-scripts allow-popups\" title=\"{title}\" src=\"{embed}\" frameborder=\"0\" allowfullscreen></iframe>"
        ),
        width,
        height,
        title: video.name.clone(),
        author_name: channel.display_name.clone(),
        author_url: u.absolute(&urls::channel_page(&channel.name)),
        provider_name: state.core.config().instance.name.clone(),
        provider_url: base.clone(),
        thumbnail_url: video
            .preview
            .as_ref()
            .map(|n| u.absolute(&urls::preview(n))),
        thumbnail_width: video.preview.as_ref().map(|_| 850),
        thumbnail_height: video.preview.as_ref().map(|_| 480),
    };
    Ok(axum::Json(body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_instances_video_urls_have_a_key() {
        let b = "https://v.example";
        assert_eq!(
            video_key(b, "https://v.example/w/abc").as_deref(),
            Some("abc")
        );
        assert_eq!(
            video_key(b, "https://v.example/videos/watch/abc/?start=3").as_deref(),
            Some("abc")
        );
        assert_eq!(
            video_key(b, "https://v.example/videos/embed/abc#x").as_deref(),
            Some("abc")
        );
        for bad in [
            "https://other.example/w/abc",
            "https://v.example/c/abc",
            "https://v.example/w/",
            "https://v.example/w/a/b",
        ] {
            assert_eq!(video_key(b, bad), None, "{bad}");
        }
    }

    #[test]
    fn sizes_stay_16_9_inside_the_bounds() {
        assert_eq!(size(None, None), (560, 315));
        assert_eq!(size(Some("320"), None), (320, 180));
        assert_eq!(size(None, Some("180")), (320, 180));
        assert_eq!(size(Some("9999"), Some("0")), (560, 315));
    }
}
