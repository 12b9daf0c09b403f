//! Likes and dislikes by the logged-in user, as PeerTube's API has them:
//! `PUT /videos/{id}/rate`, `GET /users/me/videos/{id}/rating` and
//! `GET /accounts/{name}/ratings`. `service::rates` keeps the rates and tells a remote video's
//! origin.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::pagination::ListResponse;
use super::views::{self, Ctx};
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{ApiJson, Auth, Params, blocking};
use crate::http::query;
use crate::model::federation::RateKind;
use crate::model::now_ms;
use crate::service::{listing, rates};

/// The body of `PUT /videos/{id}/rate`.
#[derive(Debug, Deserialize)]
pub struct RateBody {
    rating: String,
}

/// A rating as PeerTube names it: `like`, `dislike`, or `none` (no rate).
fn parse_rating(raw: &str) -> Option<Option<RateKind>> {
    match raw {
        "like" => Some(Some(RateKind::Like)),
        "dislike" => Some(Some(RateKind::Dislike)),
        "none" => Some(None),
        _ => None,
    }
}

fn rating_name(rate: Option<RateKind>) -> &'static str {
    match rate {
        Some(RateKind::Like) => "like",
        Some(RateKind::Dislike) => "dislike",
        None => "none",
    }
}

pub async fn rate(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RateBody>,
) -> ApiResult<Response> {
    let rating = parse_rating(&body.rating).ok_or_else(|| {
        ApiError::invalid_param("body", "rating", "Should have a valid rate type")
    })?;
    let core = state.core.clone();
    blocking(move || Ok(rates::rate_as(&core, &me, &id, rating, now_ms())?)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /users/me/videos/{id}/rating`.
#[derive(Serialize)]
struct MyRating {
    id: u64,
    rating: &'static str,
}

pub async fn mine(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let core = state.core.clone();
    let (id, rate) = blocking(move || Ok(rates::rating_of(&core, &me, &id)?)).await?;
    let rating = rating_name(rate);
    Ok(axum::Json(MyRating { id, rating }).into_response())
}

/// `GET /accounts/{name}/ratings`: `{video, rating}` items, newest first by default.
pub async fn of_account(
    State(state): State<AppState>,
    Auth(me): Auth,
    Path(name): Path<String>,
    params: Params,
) -> ApiResult<Response> {
    let page = query::page(&params)?;
    let (_, descending) = query::sort(&params, &[("createdAt", ())], ((), true))?;
    let kind = match params.get("rating") {
        None => None,
        Some(raw) => match parse_rating(raw) {
            Some(Some(kind)) => Some(kind),
            _ => {
                return Err(ApiError::invalid_param(
                    "query",
                    "rating",
                    "Should have a valid rate type",
                ));
            }
        },
    };
    let core = state.core.clone();
    let body = blocking(move || {
        let rated = rates::of_account(&core, &me, &name, kind, !descending)?;
        let total = rated.len();
        let shown: Vec<_> = rated
            .into_iter()
            .skip(page.start)
            .take(page.count)
            .collect();
        let videos: Vec<_> = shown.iter().map(|(v, _)| v.clone()).collect();
        let owners = listing::owners(&core, &videos)?;
        let ctx = Ctx::new(&core.config());
        let data: Vec<_> = shown
            .iter()
            .filter_map(|(v, r)| {
                let (c, a) = owners.get(&v.channel_id)?;
                Some(serde_json::json!({
                    "video": views::video(&ctx, v, a, c, false),
                    "rating": rating_name(Some(r.kind)),
                }))
            })
            .collect();
        Ok(ListResponse::new(total, data))
    })
    .await?;
    Ok(axum::Json(body).into_response())
}
