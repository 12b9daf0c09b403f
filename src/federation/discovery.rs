//! How other servers find this instance and its actors:
//! - WebFinger (RFC 7033), `GET /.well-known/webfinger?resource=acct:name@host`: a local account
//!   or channel, by handle or by its actor URL, as Mastodon and PeerTube look them up before
//!   following; the `self` link is the actor's id (`/accounts/{name}`, `/video-channels/{name}`).
//! - NodeInfo 2.0 and 2.1 (`/.well-known/nodeinfo`, then `/nodeinfo/2.0.json` or
//!   `/nodeinfo/2.1.json`): the software, its protocols and the instance's usage, which crawlers
//!   and peers read.
//! - host-meta (RFC 6415), `/.well-known/host-meta`: where WebFinger is, for older clients.
//!
//! All are public documents: answered to anyone, with `Access-Control-Allow-Origin: *` (the
//! application's CORS layer) so browser clients on other sites may read them.

use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::blocking;
use crate::service::actors::{self, Local};
use crate::service::urls::{self, Urls};
use crate::service::usage;

/// The media types of the documents served here.
const JRD: &str = "application/jrd+json; charset=utf-8";
const XRD: &str = "application/xrd+xml; charset=utf-8";
const ACTIVITY_JSON: &str = "application/activity+json";
const NODEINFO_SCHEMA: &str = "http://nodeinfo.diaspora.software/ns/schema/";
/// The media types of NodeInfo 2.0 and 2.1, as the schema's `profile` names them.
const NODEINFO_20: &str =
    "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/2.0#\"; charset=utf-8";
const NODEINFO_21: &str =
    "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/2.1#\"; charset=utf-8";

#[derive(Debug, Deserialize)]
pub struct WebfingerQuery {
    resource: Option<String>,
}

/// `GET /.well-known/webfinger`.
pub async fn webfinger(
    State(state): State<AppState>,
    Query(q): Query<WebfingerQuery>,
) -> ApiResult<Response> {
    let resource = q
        .resource
        .filter(|r| !r.trim().is_empty())
        .ok_or_else(|| ApiError::invalid_param("query", "resource", "Should have a resource"))?;
    let core = state.core.clone();
    let config = core.config();
    let urls = Urls::new(&config);
    let host = config.public_host();
    let handle = handle_of(&resource, &urls).ok_or_else(|| {
        ApiError::invalid_param(
            "query",
            "resource",
            "Should be acct:name@host or the URL of an account or channel",
        )
    })?;
    let found = blocking(move || Ok(actors::local_by_handle(&core, &handle)?)).await?;
    let actor = found.ok_or_else(|| ApiError::not_found("Actor"))?;
    let doc = jrd(&actor, &host, &urls);
    Ok((
        [(header::CONTENT_TYPE, HeaderValue::from_static(JRD))],
        doc.to_string(),
    )
        .into_response())
}

/// The handle a WebFinger resource names: `acct:name@host` (or without `acct:`, as some clients
/// send it), or this instance's URL of an account or channel. `None` when it is neither.
fn handle_of(resource: &str, urls: &Urls) -> Option<String> {
    let resource = resource.trim();
    if let Some(path) = resource
        .strip_prefix(urls.base())
        .filter(|p| p.starts_with('/'))
    {
        let name = path
            .strip_prefix("/accounts/")
            .or_else(|| path.strip_prefix("/video-channels/"))?;
        return (!name.is_empty() && !name.contains('/')).then(|| name.to_owned());
    }
    if resource.contains("://") {
        return None;
    }
    let handle = resource.strip_prefix("acct:").unwrap_or(resource);
    let handle = handle.strip_prefix('@').unwrap_or(handle);
    let (name, host) = handle.split_once('@')?;
    (!name.is_empty() && !host.is_empty()).then(|| handle.to_owned())
}

/// The JSON Resource Descriptor of a local actor.
fn jrd(actor: &Local, host: &str, urls: &Urls) -> Value {
    let (name, id, page) = match actor {
        Local::Account(a) => (
            &a.name,
            urls.absolute(&urls::account_actor(&a.name)),
            urls.absolute(&urls::account_page(&a.name)),
        ),
        Local::Channel(c) => (
            &c.name,
            urls.absolute(&urls::channel_actor(&c.name)),
            urls.absolute(&urls::channel_page(&c.name)),
        ),
        Local::Instance(name) => (
            name,
            urls.absolute(&urls::account_actor(name)),
            urls.absolute(urls::INSTANCE_PAGE),
        ),
    };
    json!({
        "subject": format!("acct:{name}@{host}"),
        "aliases": [id, page],
        "links": [
            {"rel": "self", "type": ACTIVITY_JSON, "href": id},
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": page},
            {"rel": SUBSCRIBE_REL, "template": urls.absolute(&format!("{}?uri={{uri}}", urls::AUTHORIZE_INTERACTION))}
        ]
    })
}

/// The WebFinger link to where a user of this server follows a remote actor (the "remote
/// follow" template, with `{uri}` for the actor), as Mastodon and PeerTube publish it.
pub const SUBSCRIBE_REL: &str = "http://ostatus.org/schema/1.0/subscribe";

/// The NodeInfo link to the instance actor, by which PeerTube finds whom to follow on a host.
pub const APPLICATION_REL: &str = "https://www.w3.org/ns/activitystreams#Application";

/// `GET /.well-known/nodeinfo`: where the NodeInfo documents are, and the instance actor.
pub async fn nodeinfo_links(State(state): State<AppState>) -> ApiResult<Response> {
    let urls = Urls::new(&state.core.config());
    let core = state.core.clone();
    let instance = blocking(move || {
        let tx = core
            .store
            .read()
            .map_err(crate::service::ServiceError::from)?;
        Ok(actors::instance_actor_name(&tx)?)
    })
    .await?;
    let mut links: Vec<Value> = ["2.0", "2.1"]
        .iter()
        .map(|v| {
            json!({
                "rel": format!("{NODEINFO_SCHEMA}{v}"),
                "href": urls.absolute(&format!("/nodeinfo/{v}.json")),
            })
        })
        .collect();
    links.push(json!({
        "rel": APPLICATION_REL,
        "href": urls.absolute(&urls::account_actor(&instance)),
    }));
    Ok(axum::Json(json!({ "links": links })).into_response())
}

/// `GET /nodeinfo/2.0.json` and `/nodeinfo/2.1.json`.
pub async fn nodeinfo(
    State(state): State<AppState>,
    axum::extract::Path(document): axum::extract::Path<String>,
) -> ApiResult<Response> {
    let (version, content_type) = match document.as_str() {
        "2.0.json" | "2.0" => ("2.0", NODEINFO_20),
        "2.1.json" | "2.1" => ("2.1", NODEINFO_21),
        _ => return Err(ApiError::not_found("NodeInfo version")),
    };
    let core = state.core.clone();
    let usage = blocking(move || Ok(usage::usage(&core)?)).await?;
    let config = state.core.config();
    let software = json!({"name": "vireo", "version": env!("CARGO_PKG_VERSION")});
    let doc = json!({
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": ["atom1.0", "rss2.0"]},
        "openRegistrations": usage.open_registrations,
        "usage": {
            "users": {
                "total": usage.users,
                "activeMonth": usage.active_month,
                "activeHalfyear": usage.active_half_year
            },
            "localPosts": usage.local_videos,
            "localComments": 0
        },
        "metadata": {
            "nodeName": config.instance.name,
            "nodeDescription": config.instance.short_description
        }
    });
    Ok((
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        doc.to_string(),
    )
        .into_response())
}

/// `GET /.well-known/host-meta`: the WebFinger template, as XRD.
pub async fn host_meta(State(state): State<AppState>) -> Response {
    let urls = Urls::new(&state.core.config());
    let template = format!("{}/.well-known/webfinger?resource={{uri}}", urls.base());
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">\n  \
         <Link rel=\"lrdd\" type=\"application/jrd+json\" template=\"{}\"/>\n\
         </XRD>\n",
        quick_xml::escape::escape(template.as_str())
    );
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(XRD))],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn urls() -> Urls {
        let mut c = Config::default();
        c.server.public_url = "https://videos.example".into();
        Urls::new(&c)
    }

    #[test]
    fn resources_name_handles_or_actor_urls_of_this_instance() {
        let u = urls();
        let h = |r: &str| handle_of(r, &u);
        assert_eq!(
            h("acct:bob@videos.example").as_deref(),
            Some("bob@videos.example")
        );
        assert_eq!(
            h("bob@videos.example").as_deref(),
            Some("bob@videos.example")
        );
        assert_eq!(
            h("@bob@videos.example").as_deref(),
            Some("bob@videos.example")
        );
        assert_eq!(
            h("acct:bob@elsewhere.example").as_deref(),
            Some("bob@elsewhere.example")
        );
        assert_eq!(
            h("https://videos.example/accounts/bob").as_deref(),
            Some("bob")
        );
        assert_eq!(
            h("https://videos.example/video-channels/bob_channel").as_deref(),
            Some("bob_channel")
        );
        for bad in [
            "acct:bob",
            "acct:@videos.example",
            "https://other.example/accounts/bob",
            "https://videos.example/w/abc",
            "https://videos.example/accounts/bob/videos",
            "bob",
        ] {
            assert_eq!(h(bad), None, "{bad}");
        }
    }
}
