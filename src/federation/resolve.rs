//! Finding the actor a follow names: a host's instance actor (through NodeInfo's
//! `…#Application` link, else WebFinger's `peertube@host`, as PeerTube finds it), or an actor
//! by handle (`name@host`, through WebFinger). Only the actor's URL is found here; the fetcher
//! then fetches and checks the actor itself.
//!
//! Other servers are reached with this instance's own scheme, as PeerTube does: https in
//! production; plain http only in a lab, where `federation.allow_private_addresses` lets the
//! client use it at all.

use serde_json::Value;

use super::client::{self, FetchError};
use super::discovery::{APPLICATION_REL, SUBSCRIBE_REL};
use crate::config::Config;

/// The name of a PeerTube instance's actor, which WebFinger finds on every PeerTube host.
const PEERTUBE_INSTANCE: &str = "peertube";
const ACCEPT_JRD: &str = "application/jrd+json, application/json";
const ACCEPT_JSON: &str = "application/json";

/// Why no actor was found.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("{0} is not a host Vireo can reach")]
    BadHost(String),
    #[error("{0} names no ActivityPub actor")]
    NoActor(String),
    #[error("{0}'s server offers no remote follow")]
    NoRemoteFollow(String),
}

/// The URL of the actor to follow: `name@host`'s, or `host`'s instance actor.
pub async fn actor_url(
    config: &Config,
    host: &str,
    name: Option<&str>,
) -> Result<url::Url, ResolveError> {
    match name {
        Some(name) => webfinger(config, host, name).await,
        None => match from_nodeinfo(config, host).await {
            Ok(url) => Ok(url),
            Err(e) => {
                tracing::debug!(host, error = %e, "no instance actor in NodeInfo; asking WebFinger");
                webfinger(config, host, PEERTUBE_INSTANCE).await
            }
        },
    }
}

/// `scheme://host/path` for another server.
fn on_host(config: &Config, host: &str, path: &str) -> Result<url::Url, ResolveError> {
    let scheme = url::Url::parse(&config.public_url())
        .map(|u| u.scheme().to_owned())
        .unwrap_or_else(|_| "https".to_owned());
    let bad = || ResolveError::BadHost(host.to_owned());
    if host.is_empty() || host.contains(['/', '?', '#', '@']) {
        return Err(bad());
    }
    let url = url::Url::parse(&format!("{scheme}://{host}{path}")).map_err(|_| bad())?;
    Ok(url)
}

async fn from_nodeinfo(config: &Config, host: &str) -> Result<url::Url, ResolveError> {
    let url = on_host(config, host, "/.well-known/nodeinfo")?;
    let doc = client::get_json_as(config, &url, Default::default(), ACCEPT_JSON).await?;
    link_href(&doc, |l| l["rel"] == APPLICATION_REL)
        .ok_or_else(|| ResolveError::NoActor(host.to_owned()))
}

async fn webfinger(config: &Config, host: &str, name: &str) -> Result<url::Url, ResolveError> {
    let handle = format!("{name}@{host}");
    let mut url = on_host(config, host, "/.well-known/webfinger")?;
    url.query_pairs_mut()
        .append_pair("resource", &format!("acct:{handle}"));
    let doc = client::get_json_as(config, &url, Default::default(), ACCEPT_JRD).await?;
    link_href(&doc, |l| {
        l["rel"] == "self"
            && l["type"].as_str().is_some_and(|t| {
                t.starts_with("application/activity+json") || t.starts_with("application/ld+json")
            })
    })
    .ok_or(ResolveError::NoActor(handle))
}

/// Where the user `name@host` follows a remote actor: its server's "remote follow" template
/// (WebFinger's subscribe link, `{uri}` standing for the actor), filled in with `actor`.
pub async fn remote_follow_url(
    config: &Config,
    host: &str,
    name: &str,
    actor: &str,
) -> Result<url::Url, ResolveError> {
    let handle = format!("{name}@{host}");
    let mut url = on_host(config, host, "/.well-known/webfinger")?;
    url.query_pairs_mut()
        .append_pair("resource", &format!("acct:{handle}"));
    let doc = client::get_json_as(config, &url, Default::default(), ACCEPT_JRD).await?;
    let template = doc["links"]
        .as_array()
        .and_then(|links| links.iter().find(|l| l["rel"] == SUBSCRIBE_REL))
        .and_then(|l| l["template"].as_str())
        .filter(|t| t.contains("{uri}"))
        .ok_or_else(|| ResolveError::NoRemoteFollow(handle.clone()))?;
    let encoded: String = url::form_urlencoded::byte_serialize(actor.as_bytes()).collect();
    let filled = url::Url::parse(&template.replace("{uri}", &encoded))
        .map_err(|_| ResolveError::NoRemoteFollow(handle.clone()))?;
    // The browser is sent there: only to a web page, never `javascript:` or the like.
    match filled.scheme() {
        "http" | "https" => Ok(filled),
        _ => Err(ResolveError::NoRemoteFollow(handle)),
    }
}

/// The `href` of the first link of `doc` that `wanted` picks, as an http(s) URL.
fn link_href(doc: &Value, wanted: impl Fn(&Value) -> bool) -> Option<url::Url> {
    let href = doc["links"].as_array()?.iter().find(|l| wanted(l))?["href"].as_str()?;
    let url = url::Url::parse(href).ok()?;
    matches!(url.scheme(), "http" | "https").then_some(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn links_are_picked_by_rel_and_type() {
        let jrd = json!({"links": [
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": "https://a.example/@x"},
            {"rel": "self", "type": "application/activity+json", "href": "https://a.example/users/x"}
        ]});
        let self_link = link_href(&jrd, |l| l["rel"] == "self").unwrap();
        assert_eq!(self_link.as_str(), "https://a.example/users/x");
        let not_http = json!({"links": [{"rel": "self", "href": "javascript:alert(1)"}]});
        assert!(link_href(&not_http, |l| l["rel"] == "self").is_none());
        assert!(link_href(&json!({"links": "x"}), |_| true).is_none());
    }

    #[test]
    fn hosts_that_are_not_hosts_are_refused() {
        let config = Config::default();
        for bad in ["", "a.example/path", "user@a.example", "a.example?x", "a b"] {
            assert!(on_host(&config, bad, "/x").is_err(), "{bad}");
        }
        assert_eq!(
            on_host(&config, "a.example:8443", "/x").unwrap().as_str(),
            "http://a.example:8443/x"
        );
    }
}
