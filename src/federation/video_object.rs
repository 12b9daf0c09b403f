//! Reading another server's `Video` object (PeerTube's shape, which Vireo also sends) into the
//! `Video` record a remote video is kept as. Pure (no I/O), so the fuzz target runs it on any
//! bytes. Everything is bounded and checked: the object must be the one fetched, on its own
//! host, attributed to a channel and an account of that host, published, and playable (an HLS
//! playlist or an MP4); text is cut to PeerTube's limits, unknown codes are dropped.

use serde_json::Value;

use super::activity::id_of;
use super::signatures::host_header;
use crate::model::video::{
    CommentsPolicy, Privacy, RemoteFile, RemotePlaylist, RemoteVideo, Video, VideoState,
};
use crate::model::{now_ms, parse_iso8601, vocab};

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";
/// PeerTube's bounds on what a video says.
const MAX_NAME: usize = 120;
const MAX_DESCRIPTION: usize = 10_000;
const MAX_SUPPORT: usize = 1000;
const MAX_TAGS: usize = 5;
const MAX_TAG: usize = 30;
const MAX_URL: usize = 2000;
/// Files listed per video (PeerTube lists one per resolution, a handful).
const MAX_FILES: usize = 32;
/// Ten days: longer is no video anyone made (and keeps the arithmetic far from overflow).
const MAX_DURATION_SECS: u64 = 10 * 24 * 3600;

/// Why an object cannot be kept as a remote video.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VideoError {
    #[error("the object is not a Video")]
    NotAVideo,
    #[error("the video's {0} is missing or not valid")]
    Field(&'static str),
    #[error("the video's id is not the URL it was fetched from")]
    NotWhereFetched,
    #[error("the video's {0} is on another server than the video")]
    OtherHost(&'static str),
    #[error("the video is not published yet")]
    NotPublished,
    #[error("the video has no file a browser plays")]
    NothingToPlay,
}

/// A read video: the record to keep (ids not yet given) and whom it names.
#[derive(Debug, Clone, PartialEq)]
pub struct Read {
    pub video: Video,
    /// Its channel's and its account's actor ids.
    pub channel: String,
    pub account: String,
}

/// Read `doc`, fetched from `fetched`.
pub fn read(doc: &Value, fetched: &str) -> Result<Read, VideoError> {
    if doc["type"] != "Video" {
        return Err(VideoError::NotAVideo);
    }
    let id = id_of(&doc["id"]).ok_or(VideoError::Field("id"))?;
    if id != fetched {
        return Err(VideoError::NotWhereFetched);
    }
    let host = host_of(id).ok_or(VideoError::Field("id"))?;
    let (channel, account) = attributed(&doc["attributedTo"])?;
    for (what, url) in [("channel", &channel), ("account", &account)] {
        if host_of(url).as_deref() != Some(host.as_str()) {
            return Err(VideoError::OtherHost(what));
        }
    }
    if doc["state"].as_u64().is_some_and(|s| s != 1) {
        return Err(VideoError::NotPublished);
    }
    let uuid = doc["uuid"]
        .as_str()
        .and_then(|u| uuid::Uuid::parse_str(u).ok())
        .ok_or(VideoError::Field("uuid"))?;
    let name = clean(doc["name"].as_str().unwrap_or_default(), MAX_NAME);
    if name.chars().count() < 1 {
        return Err(VideoError::Field("name"));
    }
    let duration = doc["duration"]
        .as_str()
        .and_then(duration_secs)
        .ok_or(VideoError::Field("duration"))?;
    let (hls, web_videos) = files(&doc["url"]);
    if hls.is_none() && web_videos.is_empty() {
        return Err(VideoError::NothingToPlay);
    }
    let now = now_ms();
    let published = date(&doc["published"]).unwrap_or(now);
    let remote = RemoteVideo {
        url: id.to_owned(),
        hls,
        web_videos,
        image_url: largest_image(&doc["icon"]),
        via: Vec::new(),
        fetched_at_ms: now,
    };
    let video = Video {
        id: 0,
        uuid,
        name,
        description: text(&doc["content"], MAX_DESCRIPTION),
        support: text(&doc["support"], MAX_SUPPORT),
        channel_id: 0,
        category: code(&doc["category"]).filter(|c| vocab::category_label(*c).is_some()),
        licence: code(&doc["licence"]).filter(|c| vocab::licence_label(*c).is_some()),
        language: doc["language"]["identifier"]
            .as_str()
            .filter(|l| vocab::language_label(l).is_some())
            .map(str::to_owned),
        privacy: privacy(doc),
        nsfw: doc["sensitive"].as_bool().unwrap_or(false),
        tags: tags(&doc["tag"]),
        comments_policy: comments_policy(doc),
        download_enabled: doc["downloadEnabled"].as_bool().unwrap_or(true),
        wait_transcoding: doc["waitTranscoding"].as_bool().unwrap_or(false),
        state: VideoState::Published,
        duration,
        views: doc["views"].as_u64().unwrap_or(0),
        likes: 0,
        dislikes: 0,
        is_local: false,
        created_at_ms: published,
        updated_at_ms: date(&doc["updated"]).unwrap_or(published),
        published_at_ms: published,
        originally_published_at_ms: date(&doc["originallyPublishedAt"]),
        input_size: 0,
        state_reason: None,
        thumbnail: None,
        preview: None,
        aspect_ratio_e4: doc["aspectRatio"]
            .as_f64()
            .filter(|r| r.is_finite() && *r > 0.0 && *r < 100.0)
            .map(|r| (r * 10_000.0).round() as u32),
        remote: Some(remote),
    };
    Ok(Read {
        video,
        channel,
        account,
    })
}

/// The object's host, as signatures name hosts (with a port that is not the default).
fn host_of(url: &str) -> Option<String> {
    url::Url::parse(url).ok().and_then(|u| host_header(&u))
}

/// The channel (`Group`) and account (`Person`) in `attributedTo`.
fn attributed(v: &Value) -> Result<(String, String), VideoError> {
    let list: Vec<&Value> = match v {
        Value::Array(a) => a.iter().take(8).collect(),
        other => vec![other],
    };
    let find = |kind: &str| {
        list.iter()
            .find(|a| a["type"] == kind)
            .and_then(|a| id_of(a))
            .filter(|u| http_url(u))
            .map(str::to_owned)
    };
    let channel = find("Group").ok_or(VideoError::Field("channel (attributedTo Group)"))?;
    let account = find("Person").ok_or(VideoError::Field("account (attributedTo Person)"))?;
    Ok((channel, account))
}

/// ISO 8601 durations as PeerTube writes them (`PT1145S`), and the `H`/`M` forms others may.
/// Written by hand: one small grammar, where a crate would bring a date library's worth.
fn duration_secs(s: &str) -> Option<u64> {
    let mut rest = s.strip_prefix("PT").filter(|r| !r.is_empty())?;
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit() && c != '.')?;
        let number: f64 = rest[..digits].parse().ok()?;
        let unit = match rest[digits..].chars().next()? {
            'H' => 3600.0,
            'M' => 60.0,
            'S' => 1.0,
            _ => return None,
        };
        let add = number * unit;
        if !add.is_finite() || add > MAX_DURATION_SECS as f64 {
            return None;
        }
        total = total.checked_add(add.round() as u64)?;
        rest = &rest[digits + 1..];
    }
    (total <= MAX_DURATION_SECS).then_some(total)
}

/// The playable links of `url`: the HLS playlist (its MP4 renditions in its `tag`) and the
/// progressive MP4s, largest first.
fn files(url: &Value) -> (Option<RemotePlaylist>, Vec<RemoteFile>) {
    let links = url.as_array().map(Vec::as_slice).unwrap_or_default();
    let mut hls = None;
    let mut web = Vec::new();
    for link in links.iter().take(MAX_FILES) {
        match link["mediaType"].as_str() {
            Some("application/x-mpegURL") if hls.is_none() => {
                let Some(master) = href(link) else { continue };
                let tags = link["tag"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let mut files: Vec<RemoteFile> =
                    tags.iter().take(MAX_FILES).filter_map(mp4).collect();
                files.sort_by_key(|f| std::cmp::Reverse(f.height));
                let segments = tags
                    .iter()
                    .find(|t| t["name"] == "sha256" && t["mediaType"] == "application/json")
                    .and_then(href);
                hls = Some(RemotePlaylist {
                    url: master,
                    segments_sha256_url: segments,
                    files,
                });
            }
            Some("video/mp4") => web.extend(mp4(link)),
            _ => {}
        }
    }
    web.sort_by_key(|f| std::cmp::Reverse(f.height));
    (hls, web)
}

/// An MP4 link with its size and resolution.
fn mp4(link: &Value) -> Option<RemoteFile> {
    if link["mediaType"] != "video/mp4" {
        return None;
    }
    let dim = |k: &str| {
        link[k]
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n <= 16_384)
    };
    Some(RemoteFile {
        url: href(link)?,
        width: dim("width").unwrap_or(0),
        height: dim("height").unwrap_or(0),
        fps: link["fps"]
            .as_f64()
            .filter(|f| f.is_finite() && (0.0..=1000.0).contains(f))
            .unwrap_or(0.0),
        size: link["size"].as_u64().unwrap_or(0),
    })
}

fn href(link: &Value) -> Option<String> {
    link["href"]
        .as_str()
        .filter(|u| http_url(u))
        .map(str::to_owned)
}

fn http_url(s: &str) -> bool {
    s.len() <= MAX_URL && url::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

/// The widest image of `icon` (PeerTube lists the thumbnail and the preview).
fn largest_image(icon: &Value) -> Option<String> {
    let list: Vec<&Value> = match icon {
        Value::Array(a) => a.iter().take(8).collect(),
        Value::Object(_) => vec![icon],
        _ => Vec::new(),
    };
    list.into_iter()
        .filter_map(|i| {
            let url = match &i["url"] {
                Value::String(s) => Some(s.as_str()),
                other => other[0]["href"].as_str(),
            }?;
            http_url(url).then(|| (i["width"].as_u64().unwrap_or(0), url.to_owned()))
        })
        .max_by_key(|(w, _)| *w)
        .map(|(_, u)| u)
}

/// A `{"identifier": "15", "name": …}` code, as PeerTube sends categories and licences.
fn code(v: &Value) -> Option<u32> {
    match &v["identifier"] {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        _ => None,
    }
}

fn privacy(doc: &Value) -> Privacy {
    let public = |v: &Value| match v {
        Value::Array(a) => a.iter().any(|x| x == PUBLIC),
        other => other == PUBLIC,
    };
    if public(&doc["to"]) {
        Privacy::Public
    } else {
        Privacy::Unlisted
    }
}

fn comments_policy(doc: &Value) -> CommentsPolicy {
    let by_id = doc["commentsPolicy"]
        .as_u64()
        .and_then(|p| u8::try_from(p).ok())
        .and_then(|p| CommentsPolicy::try_from(p).ok());
    by_id.unwrap_or(match doc["commentsEnabled"].as_bool() {
        Some(false) => CommentsPolicy::Disabled,
        _ => CommentsPolicy::Enabled,
    })
}

fn tags(v: &Value) -> Vec<String> {
    let list = v.as_array().map(Vec::as_slice).unwrap_or_default();
    let mut out: Vec<String> = Vec::new();
    for t in list.iter().filter(|t| t["type"] == "Hashtag").take(64) {
        let name = clean(
            t["name"]
                .as_str()
                .unwrap_or_default()
                .trim_start_matches('#'),
            MAX_TAG,
        );
        if name.chars().count() >= 2 && !out.contains(&name) {
            out.push(name);
        }
        if out.len() == MAX_TAGS {
            break;
        }
    }
    out
}

fn date(v: &Value) -> Option<i64> {
    v.as_str().and_then(parse_iso8601)
}

fn text(v: &Value, max: usize) -> Option<String> {
    let s = v.as_str()?;
    let cut: String = s.chars().take(max).collect();
    (!cut.trim().is_empty()).then_some(cut)
}

/// One line of at most `max` characters, without control characters.
fn clean(s: &str, max: usize) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .take(max)
        .collect::<String>()
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::federation::fixture;

    const URL: &str = "https://tilvids.com/videos/watch/e7946124-7b72-4ad7-9d22-844a84bb2de1";

    #[test]
    fn a_real_peertube_video_is_read_with_its_fields() {
        let r = read(&fixture("peertube/objects/video.json"), URL).unwrap();
        let v = &r.video;
        assert_eq!(v.uuid.to_string(), "e7946124-7b72-4ad7-9d22-844a84bb2de1");
        assert!(v.name.starts_with("Mesa, Wayland & X.org in trouble"));
        assert_eq!(v.duration, 1145);
        assert_eq!((v.category, v.licence), (Some(15), Some(2)));
        assert_eq!(v.language.as_deref(), Some("en"));
        assert_eq!(v.privacy, Privacy::Public);
        assert_eq!(v.views, 360);
        assert!(!v.nsfw && v.download_enabled && !v.is_local);
        assert_eq!(v.comments_policy, CommentsPolicy::Enabled);
        assert_eq!(v.aspect_ratio_e4, Some(17_778));
        assert_eq!(
            v.published_at_ms,
            parse_iso8601("2025-02-01T11:59:45.094Z").unwrap()
        );
        assert_eq!(
            v.updated_at_ms,
            parse_iso8601("2025-02-04T09:00:50.396Z").unwrap()
        );
        assert!(v.description.as_deref().unwrap().starts_with("Head to"));
        assert!(v.support.as_deref().unwrap().contains("Patreon"));
        assert_eq!(
            r.channel,
            "https://tilvids.com/video-channels/thelinuxexperiment_channel"
        );
        assert_eq!(r.account, "https://tilvids.com/accounts/thelinuxexperiment");
        let remote = v.remote.as_ref().unwrap();
        assert_eq!(remote.url, URL);
        let hls = remote.hls.as_ref().unwrap();
        assert!(hls.url.ends_with("-master.m3u8"));
        assert!(
            hls.segments_sha256_url
                .as_deref()
                .unwrap()
                .ends_with("-segments-sha256.json")
        );
        let heights: Vec<u32> = hls.files.iter().map(|f| f.height).collect();
        assert_eq!(heights.first(), Some(&1080));
        assert!(heights.windows(2).all(|w| w[0] >= w[1]), "{heights:?}");
        let top = &hls.files[0];
        assert_eq!((top.width, top.fps, top.size), (1920, 60.0, 245_864_545));
        assert!(top.url.ends_with("-1080-fragmented.mp4"));
        assert!(remote.web_videos.is_empty());
        assert!(
            remote
                .image_url
                .as_deref()
                .unwrap()
                .contains("/lazy-static/previews/")
        );
    }

    #[test]
    fn objects_that_lie_or_cannot_play_are_refused() {
        let doc = fixture("peertube/objects/video.json");
        let refused = |change: &dyn Fn(&mut Value), url: &str| {
            let mut d = doc.clone();
            change(&mut d);
            read(&d, url).unwrap_err()
        };
        assert_eq!(
            refused(&|_| {}, "https://evil.example/v/1"),
            VideoError::NotWhereFetched
        );
        assert_eq!(
            refused(&|d| d["type"] = "Note".into(), URL),
            VideoError::NotAVideo
        );
        assert_eq!(
            refused(
                &|d| d["attributedTo"][1]["id"] = "https://evil.example/c/x".into(),
                URL
            ),
            VideoError::OtherHost("channel")
        );
        assert!(matches!(
            refused(&|d| d["attributedTo"] = Value::Null, URL),
            VideoError::Field(_)
        ));
        assert_eq!(
            refused(&|d| d["state"] = 2.into(), URL),
            VideoError::NotPublished
        );
        assert_eq!(
            refused(&|d| d["url"] = serde_json::json!([]), URL),
            VideoError::NothingToPlay
        );
        for (field, junk) in [
            ("uuid", Value::from("not-a-uuid")),
            ("name", Value::from("")),
            ("duration", Value::from("1145")),
            ("duration", Value::from("PT99999999999999999999S")),
        ] {
            assert!(
                matches!(
                    refused(&|d| d[field] = junk.clone(), URL),
                    VideoError::Field(_)
                ),
                "{field}"
            );
        }
        // An unknown category is dropped, not refused; a javascript: file is no file.
        let mut d = doc.clone();
        d["category"]["identifier"] = "9999".into();
        d["url"][1]["href"] = "javascript:alert(1)".into();
        d["url"][1]["tag"] = serde_json::json!([]);
        let r = read(&d, URL);
        assert_eq!(r.unwrap_err(), VideoError::NothingToPlay);
        let mut d = doc.clone();
        d["category"]["identifier"] = "9999".into();
        assert_eq!(read(&d, URL).unwrap().video.category, None);
    }

    #[test]
    fn durations_are_read_as_peertube_and_others_write_them() {
        assert_eq!(duration_secs("PT1145S"), Some(1145));
        assert_eq!(duration_secs("PT1H2M3S"), Some(3723));
        assert_eq!(duration_secs("PT0S"), Some(0));
        assert_eq!(duration_secs("PT2.6S"), Some(3));
        for bad in ["", "PT", "P1D", "PTxS", "PT5", "PT-5S", "1145"] {
            assert_eq!(duration_secs(bad), None, "{bad}");
        }
    }
}
