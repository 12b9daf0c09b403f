//! The search page (`/search`): the words, PeerTube's filters (sort, published date, duration,
//! tag), and a page of results from the same search the API runs.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::http::AppState;
use crate::http::extract::{Params, blocking};
use crate::http::query;
use crate::service::finder;
use crate::web::cards::{self, Card, Pager};
use crate::web::page::{Chrome, PageError, respond};
use crate::web::session::Visitor;

const PER_PAGE: usize = 20;

#[derive(Debug, Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    search: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    duration: String,
    #[serde(default, rename = "tagsOneOf")]
    tag: String,
    page: Option<String>,
}

/// One choice of a filter: its value, its words, and whether it is the one in force.
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

fn choices(options: &[(&'static str, &'static str)], current: &str) -> Vec<Choice> {
    let known = options.iter().any(|(v, _)| *v == current);
    options
        .iter()
        .enumerate()
        .map(|(i, &(value, label))| Choice {
            value,
            label,
            selected: value == current || (!known && i == 0),
        })
        .collect()
}

const SORTS: &[(&str, &str)] = &[
    ("-match", "Best match"),
    ("-publishedAt", "Newest"),
    ("-views", "Most viewed"),
];
const DATES: &[(&str, &str)] = &[
    ("", "Any time"),
    ("today", "Today"),
    ("week", "This week"),
    ("month", "This month"),
    ("year", "This year"),
];
const DURATIONS: &[(&str, &str)] = &[
    ("", "Any length"),
    ("short", "Under 4 minutes"),
    ("medium", "4 to 10 minutes"),
    ("long", "Over 10 minutes"),
];

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    chrome: Chrome,
    words: String,
    tag: String,
    sorts: Vec<Choice>,
    dates: Vec<Choice>,
    durations: Vec<Choice>,
    total: String,
    cards: Vec<Card>,
    pager: Pager,
    searched: bool,
}

/// The API parameters the page's choices stand for.
fn api_params(q: &SearchQuery, page: usize, now_ms: i64) -> Vec<(String, String)> {
    let mut p = vec![
        ("search".to_owned(), q.search.chars().take(500).collect()),
        ("start".to_owned(), ((page - 1) * PER_PAGE).to_string()),
        ("count".to_owned(), PER_PAGE.to_string()),
    ];
    let sort = SORTS
        .iter()
        .find(|(v, _)| *v == q.sort)
        .map_or("-match", |(v, _)| v);
    p.push(("sort".to_owned(), sort.to_owned()));
    let day = 86_400_000;
    let since = match q.date.as_str() {
        "today" => Some(day),
        "week" => Some(7 * day),
        "month" => Some(30 * day),
        "year" => Some(365 * day),
        _ => None,
    };
    if let Some(span) = since {
        p.push(("startDate".to_owned(), crate::model::iso8601(now_ms - span)));
    }
    match q.duration.as_str() {
        "short" => p.push(("durationMax".to_owned(), "240".to_owned())),
        "medium" => {
            p.push(("durationMin".to_owned(), "240".to_owned()));
            p.push(("durationMax".to_owned(), "600".to_owned()));
        }
        "long" => p.push(("durationMin".to_owned(), "600".to_owned())),
        _ => {}
    }
    if !q.tag.is_empty() {
        p.push(("tagsOneOf".to_owned(), q.tag.chars().take(100).collect()));
    }
    p
}

/// This page's URL with another page number.
fn link(q: &SearchQuery, page: usize) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    s.append_pair("search", &q.search);
    for (k, v) in [
        ("sort", &q.sort),
        ("date", &q.date),
        ("duration", &q.duration),
        ("tagsOneOf", &q.tag),
    ] {
        if !v.is_empty() {
            s.append_pair(k, v);
        }
    }
    s.append_pair("page", &page.to_string());
    format!("/search?{}", s.finish())
}

pub async fn search(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<SearchQuery>,
) -> Result<Response, PageError> {
    let page = cards::page_number(q.page.as_deref());
    let searched = !q.search.trim().is_empty() || !q.tag.is_empty();
    let params = Params::from_pairs(api_params(&q, page, crate::model::now_ms()));
    let core = state.core.clone();
    let viewer = visitor.user.clone();
    let (total, list) = if searched {
        blocking(move || {
            let s = query::video_search(&core, &params, viewer.as_ref())?;
            let r = finder::videos(&core, &s.query, &s.text, s.order)?;
            Ok((r.total, cards::cards(&core, &r.videos)?))
        })
        .await?
    } else {
        (0, Vec::new())
    };
    let mut chrome = Chrome::new(&state, &visitor, search_title(&q), "/search");
    chrome.search = q.search.clone();
    let t = SearchPage {
        chrome,
        words: q.search.clone(),
        tag: q.tag.clone(),
        sorts: choices(SORTS, &q.sort),
        dates: choices(DATES, &q.date),
        durations: choices(DURATIONS, &q.duration),
        total: match total {
            1 => "1 result".to_owned(),
            n => format!("{n} results"),
        },
        cards: list,
        pager: cards::pager(page, PER_PAGE, total, |n| link(&q, n)),
        searched,
    };
    Ok(respond(&visitor, StatusCode::OK, &t))
}

fn search_title(q: &SearchQuery) -> String {
    if q.search.trim().is_empty() {
        "Search".to_owned()
    } else {
        format!("{} - Search", q.search.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(sort: &str, date: &str, duration: &str) -> SearchQuery {
        SearchQuery {
            search: "cats".into(),
            sort: sort.into(),
            date: date.into(),
            duration: duration.into(),
            ..SearchQuery::default()
        }
    }

    fn get<'a>(p: &'a [(String, String)], k: &str) -> Option<&'a str> {
        p.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }

    #[test]
    fn choices_become_api_parameters() {
        let p = api_params(&q("-views", "week", "medium"), 2, 10 * 86_400_000);
        assert_eq!(get(&p, "sort"), Some("-views"));
        assert_eq!(get(&p, "start"), Some("20"));
        assert_eq!(get(&p, "startDate"), Some("1970-01-04T00:00:00.000Z"));
        assert_eq!(get(&p, "durationMin"), Some("240"));
        assert_eq!(get(&p, "durationMax"), Some("600"));
        let p = api_params(&q("<script>", "bogus", "bogus"), 1, 0);
        assert_eq!(get(&p, "sort"), Some("-match"));
        assert_eq!(get(&p, "startDate"), None);
        assert_eq!(get(&p, "durationMin"), None);
    }

    #[test]
    fn unknown_choices_select_the_first() {
        let c = choices(SORTS, "nonsense");
        assert!(c[0].selected && !c[1].selected);
        let c = choices(SORTS, "-views");
        assert!(!c[0].selected && c[2].selected);
    }

    #[test]
    fn page_links_keep_the_filters() {
        let l = link(&q("-views", "", "long"), 3);
        assert_eq!(l, "/search?search=cats&sort=-views&duration=long&page=3");
    }
}
