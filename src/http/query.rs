//! The query parameters every edge parses the same way, as PeerTube spells them: `start` and
//! `count` (`page`), `sort` against a route's keys (`sort`), and the filters of a video list
//! (`video_query`) and of a search (`video_search`) — parsed here, with what they may show decided by
//! `service::visibility::reach`.

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Params;
use crate::model::parse_iso8601;
use crate::model::user::User;
use crate::model::video::Privacy;
use crate::service::Core;
use crate::service::catalog::{Filter, SortKey};
use crate::service::listing::{Page, VideoQuery};
use crate::service::search::Order;
use crate::service::visibility::{self, Wanted};

/// PeerTube's largest page.
pub const MAX_COUNT: usize = 100;
pub const DEFAULT_COUNT: usize = 15;

/// `start` ≥ 0; `count` 0‥100 where 0 or absent means 15 (PeerTube's rule).
pub fn page(p: &Params) -> Result<Page, ApiError> {
    // Any count of digits is a valid start; one past every list (however large) is its end.
    let start = match p.get("start") {
        None => 0,
        Some(s) if is_natural(s) => s.parse::<usize>().unwrap_or(usize::MAX),
        Some(_) => {
            return Err(ApiError::invalid_param(
                "query",
                "start",
                "Should have a number start",
            ));
        }
    };
    let count = match p.get("count") {
        None => DEFAULT_COUNT,
        Some(s) => match s.parse::<usize>() {
            Ok(0) => DEFAULT_COUNT,
            Ok(n) if n <= MAX_COUNT => n,
            _ => {
                return Err(ApiError::invalid_param(
                    "query",
                    "count",
                    format!("Should have a number count (max: {MAX_COUNT})"),
                ));
            }
        },
    };
    Ok(Page { start, count })
}

/// Digits only: a natural number of any size.
fn is_natural(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// An id-list filter (`categoryOneOf`, `licenceOneOf`): any integers, as PeerTube checks only
/// that; an integer no id can be matches nothing.
fn id_filter(p: &Params, name: &str) -> ApiResult<Option<Vec<u32>>> {
    let values = p.all(name);
    if values.is_empty() {
        return Ok(None);
    }
    values
        .into_iter()
        .map(|v| {
            let digits = v.strip_prefix('-').unwrap_or(v);
            if is_natural(digits) {
                Ok(v.parse::<u32>().ok())
            } else {
                Err(ApiError::invalid_param(
                    "query",
                    name,
                    format!("Should have a valid {name}"),
                ))
            }
        })
        .collect::<ApiResult<Vec<Option<u32>>>>()
        .map(|ids| Some(ids.into_iter().flatten().collect()))
}

/// Parse `sort` (`key` or `-key`) against the keys a route allows; `default` when absent.
pub fn sort<K: Copy>(
    p: &Params,
    allowed: &[(&str, K)],
    default: (K, bool),
) -> Result<(K, bool), ApiError> {
    let Some(raw) = p.get("sort") else {
        return Ok(default);
    };
    let (descending, name) = match raw.strip_prefix('-') {
        Some(n) => (true, n),
        None => (false, raw),
    };
    allowed
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, key)| (*key, descending))
        .ok_or_else(|| {
            ApiError::invalid_param("query", "sort", "Should have a correct sortable column")
        })
}

/// The sort keys of video lists.
pub const VIDEO_SORTS: &[(&str, SortKey)] = &[
    ("name", SortKey::Name),
    ("duration", SortKey::Duration),
    ("createdAt", SortKey::CreatedAt),
    ("publishedAt", SortKey::PublishedAt),
    ("originallyPublishedAt", SortKey::PublishedAt),
    ("views", SortKey::Views),
    ("likes", SortKey::Likes),
    // Vireo keeps no per-day view history yet: trending and hot rank by views, best by likes.
    ("trending", SortKey::Views),
    ("hot", SortKey::Views),
    ("best", SortKey::Likes),
    ("match", SortKey::PublishedAt),
    ("localVideoFilesSize", SortKey::FilesSize),
    ("comments", SortKey::Comments),
];

/// A video list's parameters (`GET /videos` and the lists under channels, accounts and search),
/// with what `viewer` may see applied.
pub fn video_query(core: &Core, p: &Params, viewer: Option<&User>) -> ApiResult<VideoQuery> {
    if p.has("filter") {
        return Err(ApiError::bad_request(
            "\"filter\" query parameter is not supported anymore by PeerTube. Please use \"isLocal\" and \"include\" instead",
        ));
    }
    let include: u32 = match p.get("include") {
        None => 0,
        Some(v) => v.parse().map_err(|_| {
            ApiError::invalid_param("query", "include", "Should have a valid include")
        })?,
    };
    let privacy_one_of = p
        .ints::<u8>("privacyOneOf")?
        .map(|ids| {
            ids.into_iter()
                .map(|i| {
                    Privacy::try_from(i).map_err(|_| {
                        ApiError::invalid_param(
                            "query",
                            "privacyOneOf",
                            "Should have a valid privacy",
                        )
                    })
                })
                .collect::<ApiResult<Vec<_>>>()
        })
        .transpose()?;
    let nsfw = match p.get("nsfw") {
        Some("true") => Some(Some(true)),
        Some("false") => Some(Some(false)),
        Some("both") => Some(None),
        Some(_) => {
            return Err(ApiError::invalid_param(
                "query",
                "nsfw",
                "Should have a valid nsfw",
            ));
        }
        None => None,
    };
    let wanted = Wanted {
        include,
        privacy_one_of,
        nsfw,
        auto_tags: p.has("autoTagOneOf"),
        exclude_watched: p.bool("excludeAlreadyWatched")?.is_some(),
    };
    let reach = visibility::reach(core, viewer, wanted)?;
    let filter = Filter {
        privacy_one_of: Some(reach.privacy_one_of),
        listable_only: reach.listable_only,
        nsfw: reach.nsfw,
        is_local: p.bool("isLocal")?,
        category_one_of: id_filter(p, "categoryOneOf")?,
        licence_one_of: id_filter(p, "licenceOneOf")?,
        language_one_of: p.strings("languageOneOf"),
        tags_one_of: p.strings("tagsOneOf").map(lower),
        tags_all_of: p.strings("tagsAllOf").map(lower),
        name_contains: p
            .get("search")
            .filter(|s| !s.is_empty())
            .map(str::to_lowercase),
        has_hls: p.bool("hasHLSFiles")?,
        has_web_videos: p.bool("hasWebVideoFiles")?,
        exclude_accounts: reach.hidden_accounts,
        ..Filter::default()
    };
    // Every parameter is checked, even where the answer is already known to be empty.
    let live_only = p.bool("isLive")? == Some(true);
    Ok(VideoQuery {
        filter,
        sort: sort(p, VIDEO_SORTS, (SortKey::PublishedAt, true))?,
        page: page(p)?,
        skip_count: p.bool("skipCount")?.unwrap_or(false),
        nothing: reach.nothing || live_only,
        with_state: !reach.listable_only,
    })
}

/// A video search's parameters (`GET /search/videos` and the web UI's search page): the list
/// filters, the search-only ones, the words as typed, and the order.
pub struct VideoSearch {
    pub query: VideoQuery,
    pub text: String,
    pub order: Order,
}

pub fn video_search(core: &Core, p: &Params, viewer: Option<&User>) -> ApiResult<VideoSearch> {
    let mut query = video_query(core, p, viewer)?;
    search_filters(core, p, &mut query)?;
    let order = order(p, &query);
    let text = take_search_text(&mut query, p);
    Ok(VideoSearch { query, text, order })
}

/// The search-only filters: duration and date bounds, `host` and `searchTarget`.
fn search_filters(core: &Core, p: &Params, q: &mut VideoQuery) -> ApiResult<()> {
    // Any integer, as PeerTube checks: a negative bound is below every duration.
    let seconds = |name: &str| -> ApiResult<Option<i64>> {
        match p.get(name) {
            None => Ok(None),
            Some(v) => {
                let digits = v.strip_prefix('-').unwrap_or(v);
                if !is_natural(digits) {
                    return Err(ApiError::invalid_param(
                        "query",
                        name,
                        format!("Should have a valid {name}"),
                    ));
                }
                let huge = if v.starts_with('-') {
                    i64::MIN
                } else {
                    i64::MAX
                };
                Ok(Some(v.parse().unwrap_or(huge)))
            }
        }
    };
    let date = |name: &str| -> ApiResult<Option<i64>> {
        match p.get(name) {
            None => Ok(None),
            Some(v) => parse_iso8601(v).map(Some).ok_or_else(|| {
                ApiError::invalid_param("query", name, format!("Should have a valid {name}"))
            }),
        }
    };
    let f = &mut q.filter;
    // A minimum below zero bounds nothing; a maximum below zero lets nothing through.
    f.duration_min = seconds("durationMin")?.map(|s| u64::try_from(s).unwrap_or(0));
    match seconds("durationMax")? {
        Some(max) if max < 0 => q.nothing = true,
        max => f.duration_max = max.and_then(|s| u64::try_from(s).ok()),
    }
    f.published_from_ms = date("startDate")?;
    f.published_until_ms = date("endDate")?;
    f.originally_published_from_ms = date("originallyPublishedStartDate")?;
    f.originally_published_until_ms = date("originallyPublishedEndDate")?;
    search_target(p)?;
    match p.get("host").filter(|h| !h.is_empty()) {
        None => {}
        Some(h) if h.eq_ignore_ascii_case(&core.config().public_host()) => f.is_local = Some(true),
        // Vireo knows no remote videos until federation lands, so another host has none.
        Some(_) => q.nothing = true,
    }
    Ok(())
}

/// `searchTarget`: `local` or `search-index`. No external search index is configured
/// (`/api/v1/config` says so), so both search this instance, as PeerTube does then.
pub fn search_target(p: &Params) -> ApiResult<()> {
    match p.get("searchTarget") {
        None | Some("local" | "search-index") => Ok(()),
        Some(_) => Err(ApiError::invalid_param(
            "query",
            "searchTarget",
            "Should have a valid search target",
        )),
    }
}

/// `-match` (or no sort) orders by relevance; anything else by that column.
fn order(p: &Params, q: &VideoQuery) -> Order {
    match p.get("sort") {
        None | Some("" | "match" | "-match") => Order::Relevance,
        Some(_) => Order::By(q.sort.0, q.sort.1),
    }
}

/// The search words as typed, taken out of the list filter, whose copy is lowercased (that
/// would break a short UUID in a URL) and means substring matching, not full-text search.
pub fn take_search_text(q: &mut VideoQuery, params: &Params) -> String {
    q.filter.name_contains = None;
    params.get("search").unwrap_or_default().to_owned()
}

fn lower(v: Vec<String>) -> Vec<String> {
    v.into_iter().map(|s| s.to_lowercase()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(q: &[(&str, &str)]) -> Params {
        Params::from_pairs(
            q.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        )
    }

    #[test]
    fn pagination_follows_peertube() {
        assert_eq!(
            page(&params(&[])).unwrap(),
            Page {
                start: 0,
                count: 15
            }
        );
        assert_eq!(page(&params(&[("count", "0")])).unwrap().count, 15);
        assert_eq!(
            page(&params(&[("count", "100"), ("start", "5")])).unwrap(),
            Page {
                start: 5,
                count: 100
            }
        );
        for bad in [
            ("count", ""),
            ("start", ""),
            ("count", "101"),
            ("count", "-1"),
            ("count", "x"),
            ("start", "-3"),
            ("start", "1e99"),
            ("start", "+1"),
        ] {
            let e = page(&params(&[bad])).unwrap_err();
            assert_eq!(e.status, 400, "{bad:?}");
            assert!(e.detail.contains(bad.0));
        }
    }

    #[test]
    fn any_natural_start_and_any_integer_id_is_valid() {
        let huge = "20285751731191687413760";
        assert_eq!(page(&params(&[("start", huge)])).unwrap().start, usize::MAX);
        let ids = id_filter(
            &params(&[("licenceOneOf", "-1"), ("licenceOneOf", "3")]),
            "licenceOneOf",
        );
        assert_eq!(ids.unwrap(), Some(vec![3]));
        let none = id_filter(&params(&[("categoryOneOf", huge)]), "categoryOneOf");
        assert_eq!(none.unwrap(), Some(vec![]));
        assert!(id_filter(&params(&[("categoryOneOf", "x")]), "categoryOneOf").is_err());
    }

    #[test]
    fn sort_keys_are_checked() {
        let allowed = [("name", 1), ("createdAt", 2)];
        assert_eq!(
            sort(&params(&[("sort", "-createdAt")]), &allowed, (1, false)).unwrap(),
            (2, true)
        );
        assert_eq!(
            sort(&params(&[]), &allowed, (1, false)).unwrap(),
            (1, false)
        );
        assert!(sort(&params(&[("sort", "password")]), &allowed, (1, false)).is_err());
    }
}
