//! PeerTube's OAuth2 endpoints: the local client, the token grants and revocation.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Auth, ClientIp, blocking};
use crate::service::credentials;
use crate::service::sessions::{self, Issued};

pub async fn local_client(State(state): State<AppState>) -> ApiResult<Response> {
    let core = state.core.clone();
    let client = blocking(move || Ok(sessions::local_client(&core)?)).await?;
    Ok(axum::Json(json!({
        "client_id": client.client_id,
        "client_secret": client.client_secret,
    }))
    .into_response())
}

#[derive(Debug, Deserialize)]
struct TokenForm {
    client_id: Option<String>,
    client_secret: Option<String>,
    grant_type: Option<String>,
    username: Option<String>,
    password: Option<String>,
    refresh_token: Option<String>,
}

#[derive(Debug, Serialize)]
struct TokenResponse {
    token_type: &'static str,
    access_token: String,
    refresh_token: String,
    expires_in: i64,
    refresh_token_expires_in: i64,
}

fn oauth_error(code: &'static str, detail: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, detail)
}

fn missing(name: &str) -> ApiError {
    oauth_error("invalid_request", &format!("Missing parameter: `{name}`"))
}

/// `POST /api/v1/users/token`: password and refresh-token grants, form-encoded as OAuth2 requires.
pub async fn token(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_type {
        return Err(oauth_error(
            "invalid_request",
            "Invalid request: content must be application/x-www-form-urlencoded",
        ));
    }
    let form: TokenForm = serde_urlencoded::from_bytes(&body)
        .map_err(|_| oauth_error("invalid_request", "Invalid request: malformed form body"))?;
    let (Some(id), Some(secret_given)) = (&form.client_id, &form.client_secret) else {
        return Err(oauth_error(
            "invalid_client",
            "Invalid client: cannot retrieve client credentials",
        ));
    };
    let core = state.core.clone();
    let (id, secret_given) = (id.clone(), secret_given.clone());
    let known = blocking(move || Ok(sessions::is_local_client(&core, &id, &secret_given)?)).await?;
    if !known {
        return Err(oauth_error(
            "invalid_client",
            "Invalid client: client is invalid",
        ));
    }
    let issued = match form.grant_type.as_deref() {
        None => return Err(missing("grant_type")),
        Some("password") => password_grant(&state, ip, form).await?,
        Some("refresh_token") => {
            let refresh = form.refresh_token.ok_or_else(|| missing("refresh_token"))?;
            let core = state.core.clone();
            blocking(move || Ok(sessions::refresh(&core, &refresh)?.1)).await?
        }
        Some(_) => {
            return Err(oauth_error(
                "unsupported_grant_type",
                "Unsupported grant type: `grant_type` is invalid",
            ));
        }
    };
    let body = TokenResponse {
        token_type: "Bearer",
        access_token: issued.access_token,
        refresh_token: issued.refresh_token,
        expires_in: issued.expires_in,
        refresh_token_expires_in: issued.refresh_token_expires_in,
    };
    Ok((
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::PRAGMA, "no-cache"),
        ],
        axum::Json(body),
    )
        .into_response())
}

async fn password_grant(
    state: &AppState,
    ip: std::net::IpAddr,
    form: TokenForm,
) -> ApiResult<Issued> {
    let username = form.username.ok_or_else(|| missing("username"))?;
    let password = form.password.ok_or_else(|| missing("password"))?;
    Ok(credentials::log_in(&state.core, ip, &username, password).await?)
}

/// `POST /api/v1/users/revoke-token`: end the session of the token used to call it.
pub async fn revoke(
    State(state): State<AppState>,
    Auth(_): Auth,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' ').map(|(_, t)| t.trim().to_owned()))
        .unwrap_or_default();
    let core = state.core.clone();
    blocking(move || Ok(sessions::revoke(&core, &token)?)).await?;
    Ok(axum::Json(json!({"success": true})).into_response())
}
