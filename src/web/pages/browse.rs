//! The home page and its tabs: recently added, trending, local videos (PeerTube's
//! `/videos/recently-added`, `/videos/trending`, `/videos/local`), a page of cards each.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::http::AppState;
use crate::http::extract::{Params, blocking};
use crate::http::query;
use crate::service::listing;
use crate::web::cards::{self, Card, Pager};
use crate::web::page::{Chrome, PageError, respond};
use crate::web::session::Visitor;

pub const PER_PAGE: usize = 24;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Recent,
    Trending,
    Local,
}

impl Tab {
    fn path(self) -> &'static str {
        match self {
            Tab::Recent => "/videos/recently-added",
            Tab::Trending => "/videos/trending",
            Tab::Local => "/videos/local",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Tab::Recent => "Recently added",
            Tab::Trending => "Trending",
            Tab::Local => "Local videos",
        }
    }

    /// The list query this tab runs (PeerTube's web client asks the same of its API).
    fn params(self, page: usize) -> Vec<(String, String)> {
        let sort = match self {
            Tab::Trending => "-trending",
            Tab::Recent | Tab::Local => "-publishedAt",
        };
        let mut p = vec![
            ("sort".to_owned(), sort.to_owned()),
            ("start".to_owned(), ((page - 1) * PER_PAGE).to_string()),
            ("count".to_owned(), PER_PAGE.to_string()),
        ];
        if self == Tab::Local {
            p.push(("isLocal".to_owned(), "true".to_owned()));
        }
        p
    }
}

pub struct TabLink {
    pub href: &'static str,
    pub title: &'static str,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "browse.html")]
struct BrowsePage {
    chrome: Chrome,
    tabs: Vec<TabLink>,
    heading: &'static str,
    cards: Vec<Card>,
    pager: Pager,
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    page: Option<String>,
}

async fn show(
    state: AppState,
    visitor: Visitor,
    tab: Tab,
    q: PageQuery,
) -> Result<Response, PageError> {
    let page = cards::page_number(q.page.as_deref());
    let core = state.core.clone();
    let viewer = visitor.user.clone();
    let (total, list) = blocking(move || {
        let params = Params::from_pairs(tab.params(page));
        let query = query::video_query(&core, &params, viewer.as_ref())?;
        let (total, videos) = listing::page(&core, &query)?;
        Ok((total, cards::cards(&core, &videos)?))
    })
    .await?;
    let here = tab.path();
    let t = BrowsePage {
        chrome: Chrome::new(&state, &visitor, tab.title(), here),
        tabs: [Tab::Recent, Tab::Trending, Tab::Local]
            .into_iter()
            .map(|t| TabLink {
                href: t.path(),
                title: t.title(),
                current: t == tab,
            })
            .collect(),
        heading: tab.title(),
        cards: list,
        pager: cards::pager(page, PER_PAGE, total, |n| format!("{here}?page={n}")),
    };
    Ok(respond(&visitor, StatusCode::OK, &t))
}

pub async fn home(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<PageQuery>,
) -> Result<Response, PageError> {
    show(state, visitor, Tab::Recent, q).await
}

pub async fn trending(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<PageQuery>,
) -> Result<Response, PageError> {
    show(state, visitor, Tab::Trending, q).await
}

pub async fn local(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<PageQuery>,
) -> Result<Response, PageError> {
    show(state, visitor, Tab::Local, q).await
}
