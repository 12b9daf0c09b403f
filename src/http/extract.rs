//! Request extractors that turn every malformed input into an `ApiError`: JSON and form bodies,
//! query strings with repeated keys, bearer-token authentication and the client address.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use super::strict::{self, Origin, Refusal};
use crate::http::AppState;
use crate::model::user::User;
use crate::service::sessions::{self, TokenProblem};

/// A body of the fields of `T`, read as PeerTube reads its bodies: JSON, or the same fields as
/// `application/x-www-form-urlencoded` (PeerTube mounts both parsers on every route); no
/// `Content-Type` reads as no fields, which the type's own checks then judge. The body and every
/// nested object must be objects, and `null` is refused where a field cannot be cleared
/// (`strict`). Rejections become PeerTube-shaped 400s naming the field.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        read_body(req, state, false).await.map(ApiJson)
    }
}

/// For the routes whose body is the whole document (`PUT /config/custom`): the body read as
/// `ApiJson` reads it, kept untyped so the route can check parts it does not take, then parsed
/// with `parse`. A request with no body at all is refused rather than read as no fields.
#[derive(Debug)]
pub struct RequiredBody {
    pub value: serde_json::Value,
    pub origin: Origin,
}

impl RequiredBody {
    /// The body as `T`, under the same rules as `ApiJson`.
    pub fn parse<T: DeserializeOwned>(self) -> Result<T, ApiError> {
        strict::from_value(self.value, self.origin).map_err(refused_field)
    }
}

impl<S: Send + Sync> FromRequest<S> for RequiredBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let (value, origin) = read_value(req, state, true).await?;
        Ok(RequiredBody { value, origin })
    }
}

async fn read_body<T: DeserializeOwned, S: Send + Sync>(
    req: Request,
    state: &S,
    required: bool,
) -> Result<T, ApiError> {
    let (value, origin) = read_value(req, state, required).await?;
    strict::from_value(value, origin).map_err(refused_field)
}

async fn read_value<S: Send + Sync>(
    req: Request,
    state: &S,
    required: bool,
) -> Result<(serde_json::Value, Origin), ApiError> {
    let kind = BodyKind::of(req.headers())?;
    let bytes = axum::body::Bytes::from_request(req, state)
        .await
        .map_err(|e| body_rejection(e.status(), e.body_text()))?;
    if required && bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("This request needs a body"));
    }
    body_value(kind, &bytes)
}

/// The body formats every PeerTube route reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    /// No `Content-Type`: PeerTube's parsers leave the body empty.
    Absent,
    Json,
    Form,
}

impl BodyKind {
    fn of(headers: &HeaderMap) -> Result<BodyKind, ApiError> {
        let Some(value) = headers.get(header::CONTENT_TYPE) else {
            return Ok(BodyKind::Absent);
        };
        let essence = value
            .to_str()
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if essence == "application/json"
            || (essence.starts_with("application/") && essence.ends_with("+json"))
        {
            Ok(BodyKind::Json)
        } else if essence == "application/x-www-form-urlencoded" {
            Ok(BodyKind::Form)
        } else {
            Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "The body must be application/json or application/x-www-form-urlencoded",
            ))
        }
    }
}

/// The body as an untyped value, and how its scalars are to be read.
fn body_value(kind: BodyKind, bytes: &[u8]) -> Result<(serde_json::Value, Origin), ApiError> {
    let empty = || serde_json::Value::Object(serde_json::Map::new());
    match kind {
        BodyKind::Absent => Ok((empty(), Origin::Json)),
        BodyKind::Json if bytes.iter().all(u8::is_ascii_whitespace) => Ok((empty(), Origin::Json)),
        BodyKind::Json => serde_json::from_slice(bytes)
            .map(|v| (v, Origin::Json))
            .map_err(|e| ApiError::bad_request(format!("The body is not valid JSON: {e}"))),
        BodyKind::Form => {
            let pairs = serde_urlencoded::from_bytes::<Vec<(String, String)>>(bytes)
                .map_err(|_| ApiError::bad_request("The form body is not valid"))?;
            strict::form_object(pairs)
                .map(|v| (v, Origin::Form))
                .map_err(refused_field)
        }
    }
}

/// A field `strict` refused, as PeerTube's invalid-parameter answer.
pub fn refused_field(refusal: Refusal) -> ApiError {
    if refusal.path.is_empty() {
        ApiError::bad_request(format!("The body must be an object: {}", refusal.message))
    } else {
        ApiError::invalid_param("body", &refusal.path, refusal.message)
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
    /// Text fields where the text `null` means JSON's `null` (PeerTube's `toValueOrNull`).
    const NULLABLE: &'static [&'static str] = &[];
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

/// Most bytes of one multipart text field: PeerTube's longest text field (a description, 10 000
/// characters) at up to four bytes a character, with room to spare. Past it the field is refused
/// while it streams, never read whole.
pub const MAX_TEXT_FIELD_BYTES: usize = 64 * 1024;
/// Most bytes of all text fields of one multipart body together.
pub const MAX_TEXT_BYTES: usize = 256 * 1024;
/// Most parts in one multipart body: PeerTube's video form has about 25 fields (five tags).
pub const MAX_PARTS: usize = 64;

/// The bounds every multipart body is read under: a number of parts, and bytes of text in each
/// field and in all. File parts are bounded by whoever reads them (`read_file_field`, the
/// upload's stream to disk).
#[derive(Debug)]
pub struct FormBudget {
    parts_left: usize,
    text_left: usize,
}

impl Default for FormBudget {
    fn default() -> Self {
        FormBudget {
            parts_left: MAX_PARTS,
            text_left: MAX_TEXT_BYTES,
        }
    }
}

impl FormBudget {
    /// Count one more part.
    pub fn part(&mut self) -> Result<(), ApiError> {
        self.parts_left = self.parts_left.checked_sub(1).ok_or_else(|| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("A form may have at most {MAX_PARTS} parts"),
            )
        })?;
        Ok(())
    }

    /// Read a text field chunk by chunk, refusing it as soon as it passes its bound.
    pub async fn text(
        &mut self,
        name: &str,
        mut field: axum::extract::multipart::Field<'_>,
    ) -> Result<String, ApiError> {
        let mut buf = Vec::new();
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|e| body_rejection(e.status(), e.body_text()))?
        {
            if buf.len() + chunk.len() > MAX_TEXT_FIELD_BYTES || chunk.len() > self.text_left {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    format!("The field {name} is too long"),
                ));
            }
            self.text_left -= chunk.len();
            buf.extend_from_slice(&chunk);
        }
        String::from_utf8(buf)
            .map_err(|_| ApiError::invalid_param("body", name, format!("{name} is not UTF-8 text")))
    }
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
        let mut files: FileFields = Vec::new();
        let mut budget = FormBudget::default();
        while let Some(field) = form
            .next_field()
            .await
            .map_err(|e| body_rejection(e.status(), e.body_text()))?
        {
            budget.part()?;
            let raw_name = field.name().unwrap_or_default().to_owned();
            if field.file_name().is_some() {
                if !T::FILES.contains(&raw_name.as_str()) {
                    return Err(ApiError::invalid_param(
                        "body",
                        &raw_name,
                        "This file field is not accepted here",
                    ));
                }
                if files.iter().any(|(n, _)| *n == raw_name) {
                    return Err(ApiError::invalid_param(
                        "body",
                        &raw_name,
                        "This file field may be sent once",
                    ));
                }
                let bytes = read_file_field(&raw_name, field).await?;
                files.push((raw_name, bytes));
                continue;
            }
            let text = budget.text(&raw_name, field).await?;
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
        strict::from_value(serde_json::Value::Object(map), Origin::Form)
            .map(|v| JsonOrMultipart(v, files))
            .map_err(refused_field)
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
    } else if T::NULLABLE.contains(&name) && text == "null" {
        Ok(serde_json::Value::Null)
    } else {
        Ok(serde_json::Value::String(text))
    }
}

/// A `multipart/form-data` body read field by field; a missing or malformed one is refused
/// with a PeerTube-shaped 400 (axum's own rejection is plain text).
#[derive(Debug)]
pub struct ApiMultipart(pub axum::extract::Multipart);

impl<S: Send + Sync> FromRequest<S> for ApiMultipart {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        axum::extract::Multipart::from_request(req, state)
            .await
            .map(ApiMultipart)
            .map_err(|e| body_rejection(e.status(), e.body_text()))
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

    /// A boolean parameter: `true` or `false`, as PeerTube's clients and spec write it; anything
    /// else, an empty value or `null` included, is refused rather than guessed.
    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
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
            return Ok(MaybeAuth(crate::http::session::api_user(parts, state)));
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

/// The access token a request is authenticated with (bearer, or the web session's cookie), if
/// any: the session a password change keeps.
#[derive(Debug, Clone)]
pub struct AccessToken(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for AccessToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.split_once(' ')?;
                scheme
                    .eq_ignore_ascii_case("bearer")
                    .then(|| token.trim().to_owned())
            });
        let token =
            bearer.or_else(|| crate::http::session::session_tokens(&parts.headers).map(|(a, _)| a));
        Ok(AccessToken(token))
    }
}

/// The client's address: the socket peer, or, when the peer is a trusted reverse proxy
/// (`server.trusted_proxies`), the rightmost address of its forwarding header that is not a
/// trusted proxy (`auth::address::TrustedProxies::client`).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::from([127, 0, 0, 1]));
        let config = state.core.config();
        // Validated at start-up: an entry that does not parse never gets here.
        let proxies = config.trusted_proxies().unwrap_or_default();
        if proxies.is_empty() || !proxies.contains(peer) {
            return Ok(ClientIp(peer));
        }
        let hops = forwarded_hops(&parts.headers, &config.server.forwarded_header);
        Ok(ClientIp(proxies.client(peer, &hops)))
    }
}

/// The addresses a forwarding header lists, client's side first (every copy of the header, in
/// order); `None` for an entry that is not an address (`unknown`, an obfuscated name, garbage).
pub fn forwarded_hops(headers: &HeaderMap, header: &str) -> Vec<Option<IpAddr>> {
    let values = headers
        .get_all(header)
        .iter()
        .map(|v| v.to_str().map_err(|_| ()));
    let mut hops = Vec::new();
    for value in values {
        let Ok(value) = value else {
            hops.push(None);
            continue;
        };
        if header == "forwarded" {
            hops.extend(rfc7239::parse(value).map(|node| {
                node.ok()
                    .and_then(|n| n.forwarded_for)
                    .and_then(|f| f.ip().copied())
            }));
        } else {
            hops.extend(value.split(',').map(|hop| address_of(hop.trim())));
        }
    }
    hops
}

/// An `X-Forwarded-For` entry: an address, maybe bracketed, maybe with a port.
fn address_of(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            hop.strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .and_then(|h| h.parse().ok())
        })
}

pub use super::strict::nullable;

/// Run blocking work (redb commits, argon2) off the async runtime.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
        tracing::error!(error = %e, "blocking task failed");
        Err(ApiError::internal())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarding_headers_list_their_hops_in_order() {
        let mut h = HeaderMap::new();
        h.append(
            "x-forwarded-for",
            "1.1.1.1, [2001:db8::1], 10.0.0.1:8080".parse().unwrap(),
        );
        h.append("x-forwarded-for", "unknown, 198.51.100.7".parse().unwrap());
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert_eq!(
            forwarded_hops(&h, "x-forwarded-for"),
            vec![
                ip("1.1.1.1"),
                ip("2001:db8::1"),
                ip("10.0.0.1"),
                None,
                ip("198.51.100.7")
            ]
        );
        let mut h = HeaderMap::new();
        h.append(
            "forwarded",
            "for=192.0.2.60;proto=http;by=203.0.113.43, for=\"[2001:db8:cafe::17]:4711\""
                .parse()
                .unwrap(),
        );
        h.append("forwarded", "for=_hidden, for=unknown".parse().unwrap());
        assert_eq!(
            forwarded_hops(&h, "forwarded"),
            vec![ip("192.0.2.60"), ip("2001:db8:cafe::17"), None, None]
        );
        assert!(forwarded_hops(&HeaderMap::new(), "forwarded").is_empty());
    }
}
