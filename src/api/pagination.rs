//! `start`/`count`/`sort` as PeerTube parses them, and the `{"total", "data"}` envelope.

use serde::Serialize;

use super::error::ApiError;
use super::extract::Params;

/// PeerTube's largest page.
pub const MAX_COUNT: usize = 100;
pub const DEFAULT_COUNT: usize = 15;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub start: usize,
    pub count: usize,
}

impl Page {
    /// `start` ≥ 0; `count` 0‥100 where 0 or absent means 15 (PeerTube's rule).
    pub fn parse(p: &Params) -> Result<Page, ApiError> {
        let start = match p.get("start") {
            None | Some("") => 0,
            Some(s) => s.parse::<usize>().map_err(|_| {
                ApiError::invalid_param("query", "start", "Should have a number start")
            })?,
        };
        let count = match p.get("count") {
            None | Some("") => DEFAULT_COUNT,
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
}

/// Parse `sort` (`key` or `-key`) against the keys a route allows; `default` when absent.
pub fn parse_sort<K: Copy>(
    p: &Params,
    allowed: &[(&str, K)],
    default: (K, bool),
) -> Result<(K, bool), ApiError> {
    let Some(raw) = p.get("sort").filter(|s| !s.is_empty()) else {
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

/// PeerTube's list envelope.
#[derive(Debug, Serialize)]
pub struct ListResponse<T: Serialize> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<usize>,
    pub data: Vec<T>,
}

impl<T: Serialize> ListResponse<T> {
    pub fn new(total: usize, data: Vec<T>) -> Self {
        ListResponse {
            total: Some(total),
            data,
        }
    }
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
            Page::parse(&params(&[])).unwrap(),
            Page {
                start: 0,
                count: 15
            }
        );
        assert_eq!(Page::parse(&params(&[("count", "0")])).unwrap().count, 15);
        assert_eq!(
            Page::parse(&params(&[("count", "100"), ("start", "5")])).unwrap(),
            Page {
                start: 5,
                count: 100
            }
        );
        for bad in [
            ("count", "101"),
            ("count", "-1"),
            ("count", "x"),
            ("start", "-3"),
            ("start", "1e99"),
        ] {
            let e = Page::parse(&params(&[bad])).unwrap_err();
            assert_eq!(e.status, 400, "{bad:?}");
            assert!(e.detail.contains(bad.0));
        }
    }

    #[test]
    fn sort_keys_are_checked() {
        let allowed = [("name", 1), ("createdAt", 2)];
        assert_eq!(
            parse_sort(&params(&[("sort", "-createdAt")]), &allowed, (1, false)).unwrap(),
            (2, true)
        );
        assert_eq!(
            parse_sort(&params(&[]), &allowed, (1, false)).unwrap(),
            (1, false)
        );
        assert!(parse_sort(&params(&[("sort", "password")]), &allowed, (1, false)).is_err());
    }
}
