//! `POST /api/v1/videos/{id}/views`: the player's reports of where it is, as PeerTube's player
//! sends them (`{"currentTime": 12.5}`, with `"viewEvent": "seek"` after a jump). Answered 204;
//! `service::views` decides when a report counts a view.

use std::time::Instant;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, ClientIp, MaybeAuth};
use crate::model::video::VideoState;
use crate::service::views::Report;
use crate::service::visibility;

/// The report. PeerTube's player also sends a `sessionId`, ignored: viewers are told apart by
/// address, as PeerTube counts views, so a script cannot count more by inventing sessions.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ViewBody {
    current_time: f64,
    view_event: Option<String>,
}

pub async fn report(
    State(state): State<AppState>,
    MaybeAuth(viewer): MaybeAuth,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ViewBody>,
) -> ApiResult<Response> {
    let video = visibility::load_visible(&state.core, &id, viewer.as_ref())?.video;
    let duration = video.duration as f64;
    let t = body.current_time;
    if !t.is_finite() || t < 0.0 || t > duration + 1.0 {
        return Err(ApiError::invalid_param(
            "body",
            "currentTime",
            "must be a position within the video, in seconds",
        ));
    }
    let seek = match body.view_event.as_deref() {
        None => false,
        Some("seek") => true,
        Some(_) => {
            return Err(ApiError::invalid_param(
                "body",
                "viewEvent",
                "must be \"seek\" when given",
            ));
        }
    };
    if video.state == VideoState::Published && duration > 0.0 {
        let key = state.core.views.viewer(video.id, ip);
        let report = Report { position: t, seek };
        state
            .core
            .views
            .report(key, duration, report, Instant::now());
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
