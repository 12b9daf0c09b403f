//! `/feeds/videos.xml`, as PeerTube serves it: the newest public videos of the instance, or of
//! one channel (`videoChannelName`, `videoChannelId`) or account (`accountName`, `accountId`),
//! as RSS 2.0 (the default, with the video file as enclosure) or Atom (`format=atom`). Written
//! with the `rss` and `atom_syndication` crates.

use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Params, blocking};
use crate::http::query;
use crate::model::channel::Channel;
use crate::model::video::{Video, VideoMedia};
use crate::service::urls::{self, Urls};
use crate::service::{Core, actors, channels, listing, videos};
use crate::web::markdown;

/// PeerTube's feeds carry the 20 newest videos.
const ITEMS: usize = 20;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedQuery {
    format: Option<String>,
    video_channel_name: Option<String>,
    video_channel_id: Option<String>,
    account_name: Option<String>,
    account_id: Option<String>,
}

/// Whose videos a feed lists, with its title and page.
struct Scope {
    title: String,
    description: String,
    link: String,
    channel_id: Option<u64>,
    account_id: Option<u64>,
}

/// One video of a feed, as both formats need it.
struct Item {
    title: String,
    link: String,
    published_ms: i64,
    updated_ms: i64,
    html: String,
    author: String,
    enclosure: Option<(String, u64)>,
}

fn id_param(v: &str, name: &str) -> ApiResult<u64> {
    v.parse()
        .map_err(|_| ApiError::invalid_param("query", name, format!("Should have a valid {name}")))
}

fn scope(core: &Core, q: &FeedQuery) -> ApiResult<Scope> {
    let u = Urls::new(&core.config());
    let channel = match (&q.video_channel_name, &q.video_channel_id) {
        (Some(name), _) => Some(actors::channel_by_handle(core, name)?),
        (None, Some(id)) => Some(channels::by_id(core, id_param(id, "videoChannelId")?)?),
        (None, None) => None,
    };
    if let Some(c) = channel {
        return Ok(Scope {
            title: c.display_name.clone(),
            description: c.description.clone().unwrap_or_default(),
            link: u.absolute(&urls::channel_page(&c.name)),
            channel_id: Some(c.id),
            account_id: None,
        });
    }
    let account = match (&q.account_name, &q.account_id) {
        (Some(name), _) => Some(actors::account_by_handle(core, name)?),
        (None, Some(id)) => Some(actors::account_by_id(core, id_param(id, "accountId")?)?),
        (None, None) => None,
    };
    Ok(match account {
        Some(a) => Scope {
            title: a.display_name.clone(),
            description: a.description.clone().unwrap_or_default(),
            link: u.absolute(&urls::account_page(&a.name)),
            channel_id: None,
            account_id: Some(a.id),
        },
        None => Scope {
            title: core.config().instance.name.clone(),
            description: core.config().instance.short_description.clone(),
            link: u.base().to_owned(),
            channel_id: None,
            account_id: None,
        },
    })
}

/// The largest progressive file of a video: the enclosure podcast readers download.
fn enclosure(u: &Urls, media: &VideoMedia) -> Option<(String, u64)> {
    media
        .web_videos
        .iter()
        .max_by_key(|f| f.height)
        .map(|f| (u.absolute(&urls::web_video(&f.file)), f.size))
}

fn item(u: &Urls, v: &Video, channel: &Channel, media: &VideoMedia) -> Item {
    let link = u.absolute(&urls::watch(&v.uuid));
    let mut html = String::new();
    if let Some(t) = &v.preview {
        // The preview image, then the description: what feed readers show as the entry.
        let image = u.absolute(&urls::preview(t));
        html.push_str(&format!(
            "<p><a href=\"{link}\"><img src=\"{image}\" alt=\"\"></a></p>"
        ));
    }
    html.push_str(&markdown::to_html(v.description.as_deref().unwrap_or("")));
    Item {
        title: v.name.clone(),
        link,
        published_ms: v.published_at_ms,
        updated_ms: v.updated_at_ms,
        html,
        author: channel.display_name.clone(),
        enclosure: enclosure(u, media),
    }
}

fn items(core: &Core, scope: &Scope) -> ApiResult<Vec<Item>> {
    let params = Params::from_pairs(vec![
        ("sort".to_owned(), "-publishedAt".to_owned()),
        ("count".to_owned(), ITEMS.to_string()),
    ]);
    let mut q = query::video_query(core, &params, None)?;
    q.filter.channel_id = scope.channel_id;
    q.filter.account_id = scope.account_id;
    let (_, list) = listing::page(core, &q)?;
    let owners = listing::owners(core, &list)?;
    let u = Urls::new(&core.config());
    let mut out = Vec::with_capacity(list.len());
    for v in &list {
        let Some((c, _)) = owners.get(&v.channel_id) else {
            continue;
        };
        let media = videos::files_of(core, v.id)?.media;
        out.push(item(&u, v, c, &media));
    }
    Ok(out)
}

fn rfc2822(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc2822)
                .ok()
        })
        .unwrap_or_default()
}

fn rss(scope: &Scope, items: Vec<Item>) -> String {
    let items = items
        .into_iter()
        .map(|i| rss::Item {
            title: Some(i.title),
            guid: Some(rss::Guid {
                value: i.link.clone(),
                permalink: true,
            }),
            link: Some(i.link),
            description: Some(i.html),
            author: None,
            dublin_core_ext: Some(rss::extension::dublincore::DublinCoreExtension {
                creators: vec![i.author],
                ..Default::default()
            }),
            pub_date: Some(rfc2822(i.published_ms)),
            enclosure: i.enclosure.map(|(url, size)| rss::Enclosure {
                url,
                length: size.to_string(),
                mime_type: "video/mp4".to_owned(),
            }),
            ..Default::default()
        })
        .collect();
    let channel = rss::Channel {
        title: scope.title.clone(),
        link: scope.link.clone(),
        description: scope.description.clone(),
        generator: Some("Vireo".to_owned()),
        items,
        namespaces: [(
            "dc".to_owned(),
            rss::extension::dublincore::NAMESPACE.to_owned(),
        )]
        .into_iter()
        .collect(),
        ..Default::default()
    };
    channel.to_string()
}

fn atom_time(ms: i64) -> Option<atom_syndication::FixedDateTime> {
    crate::model::iso8601(ms).parse().ok()
}

fn atom(scope: &Scope, self_url: &str, items: Vec<Item>) -> String {
    use atom_syndication::{Content, Entry, Feed, Link, Person, Text};
    let newest = items.iter().map(|i| i.updated_ms).max().unwrap_or(0);
    let entries = items
        .into_iter()
        .map(|i| Entry {
            title: Text::plain(i.title),
            id: i.link.clone(),
            updated: atom_time(i.updated_ms).unwrap_or_default(),
            published: atom_time(i.published_ms),
            authors: vec![Person {
                name: i.author,
                ..Default::default()
            }],
            links: std::iter::once(Link {
                href: i.link,
                rel: "alternate".to_owned(),
                mime_type: Some("text/html".to_owned()),
                ..Default::default()
            })
            .chain(i.enclosure.map(|(url, size)| Link {
                href: url,
                rel: "enclosure".to_owned(),
                mime_type: Some("video/mp4".to_owned()),
                length: Some(size.to_string()),
                ..Default::default()
            }))
            .collect(),
            content: Some(Content {
                value: Some(i.html),
                content_type: Some("html".to_owned()),
                ..Default::default()
            }),
            ..Default::default()
        })
        .collect();
    let feed = Feed {
        title: Text::plain(scope.title.clone()),
        id: scope.link.clone(),
        updated: atom_time(newest).unwrap_or_default(),
        subtitle: Some(Text::plain(scope.description.clone())).filter(|t| !t.value.is_empty()),
        links: vec![
            Link {
                href: scope.link.clone(),
                rel: "alternate".to_owned(),
                ..Default::default()
            },
            Link {
                href: self_url.to_owned(),
                rel: "self".to_owned(),
                ..Default::default()
            },
        ],
        entries,
        ..Default::default()
    };
    feed.to_string()
}

pub async fn videos(
    State(state): State<AppState>,
    Query(q): Query<FeedQuery>,
    uri: axum::http::Uri,
) -> ApiResult<Response> {
    let atom_format = match q.format.as_deref() {
        None | Some("" | "xml" | "rss" | "rss2") => false,
        Some("atom" | "atom1") => true,
        Some(_) => {
            return Err(ApiError::invalid_param(
                "query",
                "format",
                "Should have a valid format (rss or atom)",
            ));
        }
    };
    let core = state.core.clone();
    let self_url = format!(
        "{}{}",
        state.core.config().public_url(),
        uri.path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/feeds/videos.xml")
    );
    let body = blocking(move || {
        let scope = scope(&core, &q)?;
        let list = items(&core, &scope)?;
        Ok(if atom_format {
            atom(&scope, &self_url, list)
        } else {
            rss(&scope, list)
        })
    })
    .await?;
    let content_type = if atom_format {
        "application/atom+xml; charset=utf-8"
    } else {
        "application/rss+xml; charset=utf-8"
    };
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_rfc_2822_and_3339() {
        assert_eq!(rfc2822(0), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert!(atom_time(1_700_000_000_000).is_some());
    }
}
