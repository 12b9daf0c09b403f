//! `/authorize_interaction?uri=…`: where another server's "Follow from your server" sends a
//! user of this one (the page of the WebFinger subscribe template). Vireo follows for the whole
//! instance, so an administrator is offered the follow, through the Federation page's own form;
//! anyone else is told whom to ask.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::http::AppState;
use crate::http::hosts;
use crate::service::rights;
use crate::service::urls;
use crate::web::page::{Chrome, PageError, respond};
use crate::web::pages::upload::login_first;
use crate::web::session::Visitor;

#[derive(Debug, Deserialize)]
pub struct InteractionQuery {
    uri: Option<String>,
}

#[derive(Template)]
#[template(path = "authorize_interaction.html")]
struct InteractionPage {
    chrome: Chrome,
    /// What to follow (`name@host`, or a host), when the URI names something Vireo follows.
    target: Option<String>,
    uri: String,
    can_follow: bool,
}

pub async fn authorize(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<InteractionQuery>,
) -> Result<Response, PageError> {
    let uri = q.uri.unwrap_or_default();
    let encoded: String = url::form_urlencoded::byte_serialize(uri.as_bytes()).collect();
    let here = format!("{}?uri={encoded}", urls::AUTHORIZE_INTERACTION);
    let Some(me) = visitor.user.clone() else {
        return Ok(login_first(&visitor, &here));
    };
    let t = InteractionPage {
        chrome: Chrome::new(&state, &visitor, "Follow".to_owned(), &here),
        target: target_of(uri.trim()),
        can_follow: rights::can_manage_server_follows(&me),
        uri,
    };
    Ok(respond(&visitor, StatusCode::OK, &t))
}

/// What `uri` names to follow: an account or channel as `name@host` (from `acct:name@host`, a
/// handle, or its URL on a PeerTube or Vireo server), or a server alone (its address with no
/// path).
fn target_of(uri: &str) -> Option<String> {
    if !uri.contains("://") {
        let handle = uri.strip_prefix("acct:").unwrap_or(uri);
        return hosts::handle(handle).map(|(name, host)| format!("{name}@{host}"));
    }
    let url = url::Url::parse(uri).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = hosts::host(&url[url::Position::BeforeHost..url::Position::AfterPort])?;
    let segments: Vec<&str> = url.path_segments()?.filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        [] => Some(host),
        ["accounts" | "a" | "video-channels" | "c", name] => {
            hosts::handle(&format!("{name}@{host}")).map(|(n, h)| format!("{n}@{h}"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_name_handles_and_hosts() {
        let cases = [
            ("acct:alice@videos.example", Some("alice@videos.example")),
            ("alice@videos.example", Some("alice@videos.example")),
            (
                "https://videos.example/video-channels/cooking",
                Some("cooking@videos.example"),
            ),
            (
                "https://videos.example/c/cooking",
                Some("cooking@videos.example"),
            ),
            (
                "http://127.0.0.1:9000/accounts/root",
                Some("root@127.0.0.1:9000"),
            ),
            ("https://videos.example/", Some("videos.example")),
            ("https://videos.example/videos/watch/1", None),
            ("javascript:alert(1)", None),
            ("ftp://videos.example/accounts/a", None),
            ("", None),
        ];
        for (uri, want) in cases {
            assert_eq!(target_of(uri).as_deref(), want, "{uri}");
        }
    }
}
