//! Administrators' control of a video's files, as PeerTube's API has it: `POST
//! /videos/{id}/transcoding` (`{"transcodingType": "hls" | "web-video", "forceTranscoding"}`)
//! queues the work that completes them, `DELETE /videos/{id}/hls` and `DELETE
//! /videos/{id}/web-videos` remove one kind. Each answers 204.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, Auth, blocking};
use crate::model::user::User;
use crate::service::transcoding::{self, Kind};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TranscodingBody {
    transcoding_type: String,
    #[serde(default)]
    force_transcoding: bool,
}

pub async fn create(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TranscodingBody>,
) -> ApiResult<Response> {
    let video_id = transcoding::video_to_manage(&state.core, &me, &id)?;
    let kind = match body.transcoding_type.as_str() {
        "hls" => Kind::Hls,
        // `webtorrent` is PeerTube's older name for web videos, still accepted there.
        "web-video" | "webtorrent" => Kind::WebVideo,
        _ => {
            return Err(ApiError::invalid_param(
                "body",
                "transcodingType",
                "must be hls or web-video",
            ));
        }
    };
    let core = state.core.clone();
    let force = body.force_transcoding;
    blocking(move || Ok(transcoding::request(&core, video_id, kind, force)?)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn delete_hls(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    remove(state, &me, &id, Kind::Hls).await
}

pub async fn delete_web_videos(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    remove(state, &me, &id, Kind::WebVideo).await
}

async fn remove(state: AppState, me: &User, id: &str, kind: Kind) -> ApiResult<Response> {
    let video_id = transcoding::video_to_manage(&state.core, me, id)?;
    let core = state.core.clone();
    blocking(move || Ok(transcoding::remove(&core, video_id, kind)?)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
