//! What a search finds, as PeerTube answers it: a term that is the URL of a video or channel
//! of this instance, or a channel handle, finds that one; no words list by the filters alone;
//! anything else asks the full-text index (`search`). The edges parse their parameters into a
//! `VideoQuery` first, so the filters and what the viewer may see are already applied.

use std::collections::HashSet;

use super::channels::{self, ChannelSort};
use super::listing::{self, Page, VideoQuery};
use super::search::{self, Found, Order};
use super::{Core, Result, actors, videos};
use crate::model::channel::Channel;
use crate::model::video::{Video, parse_short_uuid};

/// A page of video search results.
pub struct Results {
    pub total: usize,
    pub videos: Vec<Video>,
    /// The index's answer (for highlights); `None` when no full-text search ran.
    pub found: Option<Found>,
}

/// Search videos for `text` (as typed) within `q`'s filters, in `order`. Call it off the
/// async runtime.
pub fn videos(core: &Core, q: &VideoQuery, text: &str, order: Order) -> Result<Results> {
    let results = |total, videos, found| Results {
        total,
        videos,
        found,
    };
    if q.nothing {
        return Ok(results(0, Vec::new(), None));
    }
    if let Some(path) = local_path(core, text) {
        let found = video_at(core, &path)?;
        let rows = core.catalog.snapshot();
        let visible: Vec<Video> = found
            .into_iter()
            .filter(|v| rows.get(v.id).is_some_and(|r| q.filter.matches(r)))
            .collect();
        return Ok(results(visible.len(), visible, None));
    }
    if text.trim().is_empty() {
        let (total, list) = listing::page(core, q)?;
        return Ok(results(total, list, None));
    }
    let found = search::search(core, text, &q.filter, order, q.page.start, q.page.count)?;
    let list = load(core, &found)?;
    Ok(results(found.total, list, Some(found)))
}

/// The titles of the best visible matches for what has been typed so far (the last word as a
/// prefix), for a search box's drop-down: built from visible videos only, so a private title's
/// words never show.
pub fn suggestions(
    core: &Core,
    q: &VideoQuery,
    text: &str,
    count: usize,
) -> Result<(Vec<Video>, Option<Found>)> {
    if text.trim().is_empty() || q.nothing {
        return Ok((Vec::new(), None));
    }
    let found = search::search(core, text, &q.filter, Order::Relevance, 0, count)?;
    let list = load(core, &found)?;
    Ok((list, Some(found)))
}

/// Channels whose name or display name contains the words, or the channel a local handle
/// (`name`, `name@host`, `@name@host`) or URL (`/c/name`, `/video-channels/name`) names;
/// `handles` narrows to those handles.
pub fn channels(
    core: &Core,
    text: &str,
    handles: Option<&[String]>,
    sort: (ChannelSort, bool),
    page: Page,
) -> Result<(usize, Vec<Channel>)> {
    let host = core.config().public_host();
    let named = if let Some(path) = local_path(core, text) {
        ["/c/", "/video-channels/"]
            .iter()
            .find_map(|p| path.strip_prefix(p))
            .map(|rest| rest.split('/').next().unwrap_or(rest).to_owned())
    } else if text.contains('@') && !text.contains(char::is_whitespace) {
        Some(text.trim_start_matches('@').to_owned())
    } else {
        None
    };
    let (mut total, mut found) = match named {
        Some(handle) => {
            let one: Vec<_> = actors::find_channel(&core.store.read()?, &handle, &host)?
                .into_iter()
                .collect();
            (one.len(), one)
        }
        None => {
            let words = (!text.is_empty()).then_some(text);
            let all = Page {
                start: 0,
                count: usize::MAX,
            };
            // Narrowing by handles needs the whole match list before paging.
            let window = if handles.is_some() { all } else { page };
            channels::list(core, None, words, sort, window)?
        }
    };
    if let Some(handles) = handles {
        let wanted: HashSet<&str> = handles
            .iter()
            .filter_map(|h| actors::local_name(h.trim_start_matches('@'), &host))
            .collect();
        found.retain(|c| wanted.contains(c.name.as_str()));
        total = found.len();
        found = found
            .into_iter()
            .skip(page.start)
            .take(page.count)
            .collect();
    }
    Ok((total, found))
}

/// The path of a URL of this instance, if `text` is one.
fn local_path(core: &Core, text: &str) -> Option<String> {
    let url = url::Url::parse(text.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let authority = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str()?),
        None => url.host_str()?.to_owned(),
    };
    authority
        .eq_ignore_ascii_case(&core.config().public_host())
        .then(|| url.path().to_owned())
}

/// The video a local watch, short or embed URL names.
fn video_at(core: &Core, path: &str) -> Result<Option<Video>> {
    let id = ["/w/", "/videos/watch/", "/videos/embed/", "/api/v1/videos/"]
        .iter()
        .find_map(|prefix| path.strip_prefix(prefix))
        .map(|rest| rest.trim_end_matches('/'));
    let Some(id) = id.filter(|id| id.len() == 36 || parse_short_uuid(id).is_some()) else {
        return Ok(None);
    };
    videos::find(&core.store.read()?, id)
}

/// The videos of a page of results, in order (any deleted meanwhile left out).
fn load(core: &Core, found: &Found) -> Result<Vec<Video>> {
    let tx = core.store.read()?;
    let mut list = Vec::with_capacity(found.ids.len());
    for id in &found.ids {
        if let Some(v) = videos::get(&tx, *id)? {
            list.push(v);
        }
    }
    Ok(list)
}
