//! Request extractors that turn every malformed input into an `ApiError`: JSON and form bodies,
//! query strings with repeated keys, bearer-token authentication and the client address.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::app::AppState;
use crate::model::user::User;
use crate::service::sessions::{self, TokenProblem};

/// A JSON body; rejections become PeerTube-shaped 400s naming what was wrong.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(body_rejection(rejection.status(), rejection.body_text())),
        }
    }
}

/// How a body type reads PeerTube's multipart spelling of its fields: which text fields are
/// numbers, booleans or arrays (`tags[]`, `tags[0]`, …). Everything else stays a string.
pub trait MultipartFields {
    const NUMBERS: &'static [&'static str];
    const BOOLEANS: &'static [&'static str];
    const ARRAYS: &'static [&'static str];
    /// File fields accepted (each at most `MAX_FILE_FIELD_BYTES`); any other file is refused.
    const FILES: &'static [&'static str] = &[];
}

/// Largest file field `JsonOrMultipart` keeps in memory (images: 8 MiB, as PeerTube).
pub const MAX_FILE_FIELD_BYTES: usize = crate::service::images::MAX_IMAGE_BYTES;

/// The file fields of a multipart body: `(field name, bytes)`.
pub type FileFields = Vec<(String, axum::body::Bytes)>;

/// Read one file field, refusing it past `MAX_FILE_FIELD_BYTES`.
pub async fn read_file_field(
    name: &str,
    mut field: axum::extract::multipart::Field<'_>,
) -> Result<axum::body::Bytes, ApiError> {
    let mut buf = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| body_rejection(e.status(), e.body_text()))?
    {
        if buf.len() + chunk.len() > MAX_FILE_FIELD_BYTES {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "max_file_size_reached",
                format!("{name} must be at most {} MB", MAX_FILE_FIELD_BYTES >> 20),
            ));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.into())
}

/// A JSON body, or the same fields as `multipart/form-data` (PeerTube accepts both on updates).
/// Multipart text fields are turned into JSON values by the type's `MultipartFields`, so both
/// spellings go through one deserialisation and one set of checks.
#[derive(Debug)]
pub struct JsonOrMultipart<T>(pub T, pub FileFields);

impl<T, S> FromRequest<S> for JsonOrMultipart<T>
where
    T: DeserializeOwned + MultipartFields,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        if !multipart {
            return ApiJson::<T>::from_request(req, state)
                .await
                .map(|ApiJson(v)| JsonOrMultipart(v, Vec::new()));
        }
        let mut form = axum::extract::Multipart::from_request(req, state)
            .await
            .map_err(|e| body_rejection(e.status(), e.body_text()))?;
        let mut map = serde_json::Map::new();
        let mut files = Vec::new();
        while let Some(field) = form
            .next_field()
            .await
            .map_err(|e| body_rejection(e.status(), e.body_text()))?
        {
            let raw_name = field.name().unwrap_or_default().to_owned();
            if field.file_name().is_some() {
                if !T::FILES.contains(&raw_name.as_str()) {
                    return Err(ApiError::invalid_param(
                        "body",
                        &raw_name,
                        "This file field is not accepted here",
                    ));
                }
                let bytes = read_file_field(&raw_name, field).await?;
                files.push((raw_name, bytes));
                continue;
            }
            let text = field
                .text()
                .await
                .map_err(|e| body_rejection(e.status(), e.body_text()))?;
            let name = raw_name.split('[').next().unwrap_or_default().to_owned();
            let value = multipart_value::<T>(&name, text)?;
            if T::ARRAYS.contains(&name.as_str()) {
                let entry = map
                    .entry(name)
                    .or_insert_with(|| serde_json::Value::Array(Vec::new()));
                if let serde_json::Value::Array(items) = entry {
                    items.push(value);
                }
            } else {
                map.insert(name, value);
            }
        }
        serde_json::from_value(serde_json::Value::Object(map))
            .map(|v| JsonOrMultipart(v, files))
            .map_err(|e| ApiError::bad_request(format!("Invalid form fields: {e}")))
    }
}

pub fn multipart_value<T: MultipartFields>(
    name: &str,
    text: String,
) -> Result<serde_json::Value, ApiError> {
    let bad = || ApiError::invalid_param("body", name, format!("Should have a valid {name}"));
    if T::NUMBERS.contains(&name) {
        if text.is_empty() || text == "null" {
            return Ok(serde_json::Value::Null);
        }
        let n: i64 = text.parse().map_err(|_| bad())?;
        Ok(serde_json::Value::from(n))
    } else if T::BOOLEANS.contains(&name) {
        match text.as_str() {
            "true" | "1" => Ok(serde_json::Value::Bool(true)),
            "false" | "0" => Ok(serde_json::Value::Bool(false)),
            _ => Err(bad()),
        }
    } else {
        Ok(serde_json::Value::String(text))
    }
}

/// A form-urlencoded body (PeerTube's token endpoint).
#[derive(Debug)]
pub struct ApiForm<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiForm<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(ApiForm(v)),
            Err(rejection) => Err(body_rejection(rejection.status(), rejection.body_text())),
        }
    }
}

fn body_rejection(status: StatusCode, text: String) -> ApiError {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(status, "payload_too_large", "The request body is too large")
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(status, "unsupported_media_type", text),
        _ => ApiError::bad_request(text),
    }
}

/// The query string as ordered pairs, so repeated keys (`tagsOneOf=a&tagsOneOf=b`, or PeerTube's
/// `tagsOneOf[]=a`) are kept, with typed getters whose errors name the parameter.
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let q = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str::<Vec<(String, String)>>(q)
            .map(Params)
            .map_err(|_| ApiError::bad_request("The query string is not valid"))
    }
}

impl Params {
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        Params(pairs)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name` and `name[]`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name || k.strip_suffix("[]") == Some(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn has(&self, name: &str) -> bool {
        self.0
            .iter()
            .any(|(k, _)| k == name || k.strip_suffix("[]") == Some(name))
    }

    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None | Some("") => Ok(None),
            Some("true" | "1") => Ok(Some(true)),
            Some("false" | "0") => Ok(Some(false)),
            Some(_) => Err(ApiError::invalid_param(
                "query",
                name,
                format!("Should have a valid {name} boolean"),
            )),
        }
    }

    pub fn ints<T: std::str::FromStr>(&self, name: &str) -> Result<Option<Vec<T>>, ApiError> {
        let values = self.all(name);
        if values.is_empty() {
            return Ok(None);
        }
        values
            .into_iter()
            .map(|v| {
                v.parse().map_err(|_| {
                    ApiError::invalid_param("query", name, format!("Should have a valid {name}"))
                })
            })
            .collect::<Result<Vec<T>, _>>()
            .map(Some)
    }

    pub fn strings(&self, name: &str) -> Option<Vec<String>> {
        let v: Vec<String> = self.all(name).into_iter().map(str::to_owned).collect();
        if v.is_empty() { None } else { Some(v) }
    }
}

/// The authenticated user; requests without a valid bearer token are refused with 401.
#[derive(Debug, Clone)]
pub struct Auth(pub User);

/// The user when a bearer token is sent; `None` for anonymous requests. A token that is sent but
/// invalid is still refused, as PeerTube does.
#[derive(Debug, Clone)]
pub struct MaybeAuth(pub Option<User>);

impl FromRequestParts<AppState> for MaybeAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            // The web UI's own scripts and player authenticate with its session cookie.
            return Ok(MaybeAuth(crate::web::session::api_user(parts, state)));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| {
                let (scheme, token) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|t| !t.is_empty() && t.len() <= 200)
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Token is invalid",
                )
            })?;
        match sessions::authenticate(&state.core, token)? {
            Ok(user) => Ok(MaybeAuth(Some(user))),
            Err(TokenProblem::Unknown | TokenProblem::Expired | TokenProblem::Blocked) => {
                Err(ApiError::unauthorized("invalid_token"))
            }
        }
    }
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match MaybeAuth::from_request_parts(parts, state).await? {
            MaybeAuth(Some(user)) => Ok(Auth(user)),
            MaybeAuth(None) => Err(ApiError::unauthorized("unauthorized_request")),
        }
    }
}

/// The client's address: the socket peer, or the first `X-Forwarded-For` hop when configured.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if state.core.config().server.trust_forwarded_for
            && let Some(ip) = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .and_then(|v| v.trim().parse().ok())
        {
            return Ok(ClientIp(ip));
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::from([127, 0, 0, 1]));
        Ok(ClientIp(peer))
    }
}

/// `Option<Option<T>>` from JSON, for nullable fields of updates: absent → `None`,
/// `null` → `Some(None)`, a value → `Some(Some(v))`.
pub fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    serde::Deserialize::deserialize(d).map(Some)
}

/// Run blocking work (redb commits, argon2) off the async runtime.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
        tracing::error!(error = %e, "blocking task failed");
        Err(ApiError::internal())
    })
}
