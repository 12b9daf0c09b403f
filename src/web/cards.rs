//! Video cards, as every list page shows them: thumbnail, duration, title, channel, views and
//! age, each linking where a viewer expects.

use super::format;
use crate::http::error::ApiResult;
use crate::model::channel::Channel;
use crate::model::video::{Video, VideoState};
use crate::service::{Core, listing, urls};

#[derive(Debug, Clone)]
pub struct Card {
    pub href: String,
    pub title: String,
    pub thumbnail: Option<String>,
    pub duration: String,
    pub channel: String,
    pub channel_href: String,
    pub views: String,
    pub age: String,
    /// ISO 8601, for the `<time>` element.
    pub published: String,
    /// Shown on lists of one's own videos: the state when not published.
    pub state: Option<&'static str>,
}

/// The cards of `videos`, in order, reading each channel and account once.
pub fn cards(core: &Core, videos: &[Video]) -> ApiResult<Vec<Card>> {
    let now = crate::model::now_ms();
    let owners = listing::owners(core, videos)?;
    Ok(videos
        .iter()
        .filter_map(|v| Some(card(v, &owners.get(&v.channel_id)?.0, now)))
        .collect())
}

fn card(v: &Video, c: &Channel, now_ms: i64) -> Card {
    Card {
        href: urls::watch(&v.uuid),
        title: v.name.clone(),
        thumbnail: v.thumbnail.as_ref().map(|n| urls::thumbnail(n)),
        duration: format::duration(v.duration),
        channel: c.display_name.clone(),
        channel_href: urls::channel_page(&c.handle()),
        views: format::views(v.views),
        age: format::age(v.published_at_ms, now_ms),
        published: crate::model::iso8601(v.published_at_ms),
        state: (v.state != VideoState::Published).then(|| v.state.label()),
    }
}

/// "Newer/older" links of a paged list.
#[derive(Debug, Clone, Default)]
pub struct Pager {
    pub previous: Option<String>,
    pub next: Option<String>,
    pub summary: String,
}

/// Page `page` (from 1) of `total` items, `per_page` at a time; `link(n)` is page n's URL.
pub fn pager(page: usize, per_page: usize, total: usize, link: impl Fn(usize) -> String) -> Pager {
    let pages = total.div_ceil(per_page).max(1);
    Pager {
        previous: (page > 1).then(|| link(page - 1)),
        next: (page < pages).then(|| link(page + 1)),
        summary: if total == 0 {
            String::new()
        } else {
            format!("Page {page} of {pages}")
        },
    }
}

/// `?page=` as a number from 1 (anything else is page 1), and no further than a list can go.
pub fn page_number(raw: Option<&str>) -> usize {
    raw.and_then(|p| p.parse::<usize>().ok())
        .filter(|&p| p >= 1)
        .unwrap_or(1)
        .min(10_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pagers_link_only_where_there_is_a_page() {
        let p = pager(1, 24, 10, |n| format!("?page={n}"));
        assert_eq!((p.previous, p.next), (None, None));
        let p = pager(2, 24, 60, |n| format!("?page={n}"));
        assert_eq!(p.previous.as_deref(), Some("?page=1"));
        assert_eq!(p.next.as_deref(), Some("?page=3"));
        assert_eq!(p.summary, "Page 2 of 3");
        assert!(pager(1, 24, 0, |n| n.to_string()).summary.is_empty());
    }

    #[test]
    fn page_numbers_are_clamped() {
        assert_eq!(page_number(None), 1);
        assert_eq!(page_number(Some("0")), 1);
        assert_eq!(page_number(Some("x")), 1);
        assert_eq!(page_number(Some("3")), 3);
        assert_eq!(page_number(Some("99999999")), 10_000);
    }
}
