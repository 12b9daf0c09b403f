//! The one error type at the HTTP edge: every failure becomes PeerTube's problem document
//! (`application/problem+json`) with a stable machine-readable `code`.
//!
//! The client sees a safe `detail`; internal causes (storage errors, panics) are logged with
//! the request and never sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::service::ServiceError;
use crate::service::sessions::GrantError;

const DOCS_ERR: &str = "https://docs.joinpeertube.org/api-rest-reference.html#section/Errors/";

/// Codes PeerTube itself defines; they get PeerTube's `type` URL. Vireo's own codes for the
/// generic cases (`not_found`, `bad_request`, …) get `about:blank` and a `title`.
const PEERTUBE_CODES: &[&str] = &[
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unsupported_grant_type",
    "unauthorized_client",
    "access_denied",
    "invalid_token",
    "unauthorized_request",
    "insufficient_scope",
    "quota_reached",
    "max_file_size_reached",
];

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    pub invalid_params: Option<Box<Map<String, Value>>>,
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            detail: detail.into(),
            invalid_params: None,
            retry_after_secs: None,
        }
    }

    /// What a person should read: the reasons of the invalid parameters when there are some
    /// (the detail only names the fields), else the detail.
    pub fn explanation(&self) -> String {
        let reasons: Vec<&str> = self
            .invalid_params
            .iter()
            .flat_map(|p| p.values())
            .filter_map(|p| p["msg"].as_str())
            .collect();
        match reasons.is_empty() {
            true => self.detail.clone(),
            false => reasons.join(" "),
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", detail)
    }

    /// A parameter failed validation: PeerTube's "Incorrect request parameters" shape.
    pub fn invalid_param(location: &str, field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut params = Map::new();
        params.insert(
            field.to_owned(),
            json!({"type": "field", "msg": message, "path": field, "location": location}),
        );
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_params",
            detail: format!("Incorrect request parameters: {field}"),
            invalid_params: Some(Box::new(params)),
            retry_after_secs: None,
        }
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", detail)
    }

    pub fn unauthorized(code: &'static str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, "Token is invalid")
    }

    /// An internal failure while doing `context`: the cause is logged, the client gets the
    /// generic 500.
    pub fn internal_from(context: &str, cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "{context}");
        Self::internal()
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "An internal error occurred; it has been logged.",
        )
    }

    pub fn too_many(retry_after_secs: u64) -> Self {
        ApiError {
            retry_after_secs: Some(retry_after_secs.max(1)),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                "Too many failed login attempts, please try again later.",
            )
        }
    }

    fn body(&self) -> Value {
        let mut m = Map::new();
        if PEERTUBE_CODES.contains(&self.code) {
            m.insert(
                "type".into(),
                Value::from(format!("{DOCS_ERR}{}", self.code)),
            );
        } else {
            m.insert("type".into(), Value::from("about:blank"));
            m.insert(
                "title".into(),
                Value::from(self.status.canonical_reason().unwrap_or("Error")),
            );
        }
        m.insert("detail".into(), Value::from(self.detail.clone()));
        m.insert("status".into(), Value::from(self.status.as_u16()));
        if let Some(p) = &self.invalid_params {
            m.insert("invalid-params".into(), Value::Object((**p).clone()));
        }
        m.insert("code".into(), Value::from(self.code));
        m.insert("error".into(), Value::from(self.detail.clone()));
        Value::Object(m)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.body()).unwrap_or_default();
        let mut res = (self.status, body).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json; charset=utf-8"),
        );
        if let Some(secs) = self.retry_after_secs
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        res
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound(what) => {
                let mut s = what.to_owned();
                if let Some(first) = s.get_mut(0..1) {
                    first.make_ascii_uppercase();
                }
                ApiError::not_found(&s)
            }
            ServiceError::Invalid { field, message } => {
                ApiError::invalid_param("body", field, message)
            }
            ServiceError::Conflict(m) => ApiError::conflict(m),
            ServiceError::Refused(m) => ApiError::bad_request(m),
            ServiceError::Forbidden(m) => ApiError::forbidden(m),
            ServiceError::Unauthorized(m) => {
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized_request", m)
            }
            e @ ServiceError::CurrentPasswordInvalid => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "current_password_is_invalid",
                e.to_string(),
            ),
            ServiceError::QuotaReached(m) => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "quota_reached", m)
            }
            ServiceError::FileTooLarge(m) => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "max_file_size_reached", m)
            }
            ServiceError::UnsupportedMedia(m) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unsupported_media", m)
            }
            ServiceError::UnsupportedType(m) => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                m,
            ),
            ServiceError::Throttled {
                message,
                retry_after_secs,
            } => ApiError {
                retry_after_secs: Some(retry_after_secs),
                ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", message)
            },
            ServiceError::Unavailable(m) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable", m)
            }
            e @ (ServiceError::Store(_) | ServiceError::Internal { .. }) => {
                tracing::error!(error = %e, "internal error");
                ApiError::internal()
            }
        }
    }
}

impl From<GrantError> for ApiError {
    fn from(e: GrantError) -> Self {
        let code = match &e {
            GrantError::BadCredentials
            | GrantError::BadRefreshToken
            | GrantError::ExpiredRefreshToken => "invalid_grant",
            GrantError::Blocked => "access_denied",
            GrantError::Service(_) | GrantError::Throttled(_) => "",
        };
        match e {
            GrantError::Service(s) => s.into(),
            GrantError::Throttled(secs) => ApiError::too_many(secs),
            other => ApiError::new(StatusCode::BAD_REQUEST, code, other.to_string()),
        }
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peertube_codes_get_a_type_url_others_a_title() {
        let b = ApiError::new(StatusCode::BAD_REQUEST, "invalid_grant", "x").body();
        assert_eq!(b["type"], format!("{DOCS_ERR}invalid_grant"));
        assert!(b.get("title").is_none());
        assert_eq!(
            (b["status"].as_u64(), b["code"].as_str()),
            (Some(400), Some("invalid_grant"))
        );
        let b = ApiError::not_found("Video").body();
        assert_eq!(b["type"], "about:blank");
        assert_eq!(b["title"], "Not Found");
        assert_eq!(b["detail"], "Video not found");
        assert_eq!(b["error"], b["detail"]);
    }
}
