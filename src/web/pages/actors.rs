//! Channel pages (`/c/{name}`, `/video-channels/{name}`) and account pages (`/a/{name}`,
//! `/accounts/{name}`): who they are, their description, and a page of their videos.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::http::AppState;
use crate::http::error::ApiResult;
use crate::http::extract::{Params, blocking};
use crate::http::query;
use crate::service::listing::{self, VideoQuery};
use crate::service::{Core, actors, channels, urls};
use crate::web::cards::{self, Card, Pager};
use crate::web::markdown;
use crate::web::page::{Chrome, PageError, respond};
use crate::web::session::Visitor;

const PER_PAGE: usize = 24;

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    page: Option<String>,
    /// Why "Follow from your server" did not go on (`/remote-follow` sends the visitor back).
    follow_error: Option<String>,
}

/// The "Follow from your server" form of a local channel or account.
struct RemoteFollow {
    action: &'static str,
    /// The local actor's handle, the form's hidden field.
    actor: String,
    error: Option<&'static str>,
}

/// What a `follow_error` code says.
fn follow_error(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "handle" => "Give your account as name@server, for example alice@mastodon.example.",
        "blocked" => "This server does not talk to that server.",
        "none" => "Your server offers no remote follow: search for this handle there instead.",
        _ => "Your server could not be reached: search for this handle there instead.",
    })
}

/// A link to another actor (a channel's owner, an account's channels).
pub struct ActorLink {
    pub href: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "actor.html")]
struct ActorPage {
    chrome: Chrome,
    kind: &'static str,
    display_name: String,
    handle: String,
    description_html: String,
    related_heading: &'static str,
    related: Vec<ActorLink>,
    total: String,
    cards: Vec<Card>,
    pager: Pager,
    here: String,
    /// This actor's feed.
    feed: String,
    remote_follow: Option<RemoteFollow>,
}

/// Which actor a page shows.
enum Whose {
    Channel(String),
    Account(String),
}

/// The actor a page is about, as the page shows it.
struct Who {
    kind: &'static str,
    display_name: String,
    handle: String,
    description: Option<String>,
    related_heading: &'static str,
    related: Vec<ActorLink>,
    /// The page's path and its feed's.
    here: String,
    feed: String,
    /// A local actor's name (remote ones are followed on their own server).
    local_name: Option<String>,
}

/// Find the actor, narrowing `query` to its videos.
fn who(core: &Core, whose: &Whose, query: &mut VideoQuery) -> ApiResult<Who> {
    let host = core.config().public_host();
    Ok(match whose {
        Whose::Channel(name) => {
            let c = actors::channel_by_handle(core, name)?;
            let owner = actors::account_by_id(core, c.account_id)?;
            query.filter.channel_id = Some(c.id);
            Who {
                kind: "Channel",
                display_name: c.display_name.clone(),
                handle: format!("@{}@{}", c.name, c.host.as_deref().unwrap_or(&host)),
                description: c.description.clone(),
                related_heading: "Owned by",
                related: vec![ActorLink {
                    href: urls::account_page(&owner.handle()),
                    name: owner.display_name.clone(),
                }],
                here: urls::channel_page(&c.handle()),
                feed: format!("/feeds/videos.xml?videoChannelName={}", c.handle()),
                local_name: c.host.is_none().then(|| c.name.clone()),
            }
        }
        Whose::Account(name) => {
            let a = actors::account_by_handle(core, name)?;
            query.filter.account_id = Some(a.id);
            let related = channels::of(core, a.id)?
                .into_iter()
                .map(|c| ActorLink {
                    href: urls::channel_page(&c.handle()),
                    name: c.display_name,
                })
                .collect();
            Who {
                kind: "Account",
                display_name: a.display_name.clone(),
                handle: format!("@{}@{}", a.name, a.host.as_deref().unwrap_or(&host)),
                description: a.description.clone(),
                related_heading: "Channels",
                related,
                here: urls::account_page(&a.handle()),
                feed: format!("/feeds/videos.xml?accountName={}", a.handle()),
                local_name: a.host.is_none().then(|| a.name.clone()),
            }
        }
    })
}

async fn show(
    state: AppState,
    visitor: Visitor,
    whose: Whose,
    q: PageQuery,
) -> Result<Response, PageError> {
    let page = cards::page_number(q.page.as_deref());
    let error = follow_error(q.follow_error.as_deref());
    let core = state.core.clone();
    let viewer = visitor.user.clone();
    let mut t = blocking(move || {
        let params = Params::from_pairs(vec![
            ("sort".to_owned(), "-publishedAt".to_owned()),
            ("start".to_owned(), ((page - 1) * PER_PAGE).to_string()),
            ("count".to_owned(), PER_PAGE.to_string()),
        ]);
        let mut query = query::video_query(&core, &params, viewer.as_ref())?;
        let who = who(&core, &whose, &mut query)?;
        let (total, videos) = listing::page(&core, &query)?;
        let here = who.here.clone();
        Ok(ActorPage {
            chrome: Chrome::empty(),
            kind: who.kind,
            display_name: who.display_name,
            handle: who.handle,
            description_html: markdown::to_html(who.description.as_deref().unwrap_or("")),
            related_heading: who.related_heading,
            related: who.related,
            total: match total {
                1 => "1 video".to_owned(),
                n => format!("{n} videos"),
            },
            cards: cards::cards(&core, &videos)?,
            pager: cards::pager(page, PER_PAGE, total, move |n| format!("{here}?page={n}")),
            here: who.here,
            feed: who.feed,
            remote_follow: who.local_name.map(|actor| RemoteFollow {
                action: urls::REMOTE_FOLLOW,
                actor,
                error,
            }),
        })
    })
    .await?;
    t.chrome = Chrome::new(&state, &visitor, t.display_name.clone(), &t.here);
    t.chrome.feed = t.feed.clone();
    Ok(respond(&visitor, StatusCode::OK, &t))
}

pub async fn channel(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(name): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response, PageError> {
    show(state, visitor, Whose::Channel(name), q).await
}

pub async fn account(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(name): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response, PageError> {
    show(state, visitor, Whose::Account(name), q).await
}
