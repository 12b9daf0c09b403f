//! Videos: the metadata of one video, and PeerTube's enumerations that describe it.

use serde::{Deserialize, Serialize};

use super::Record;

/// PeerTube's `VideoPrivacy` ids.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::FromRepr,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(into = "u8", try_from = "u8")]
#[repr(u8)]
pub enum Privacy {
    Public = 1,
    Unlisted = 2,
    Private = 3,
    Internal = 4,
    #[strum(serialize = "Password protected")]
    PasswordProtected = 5,
}
super::numeric_enum!(Privacy, "privacy");

impl Privacy {
    pub const ALL: &[Privacy] = <Privacy as strum::VariantArray>::VARIANTS;
}

/// PeerTube's `VideoState` ids (the subset a video can be in; ids are PeerTube's).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::FromRepr,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(into = "u8", try_from = "u8")]
#[repr(u8)]
pub enum VideoState {
    Published = 1,
    #[strum(serialize = "To transcode")]
    ToTranscode = 2,
    #[strum(serialize = "To import")]
    ToImport = 3,
    #[strum(serialize = "Waiting for livestream")]
    WaitingForLive = 4,
    #[strum(serialize = "Livestream ended")]
    LiveEnded = 5,
    #[strum(serialize = "To move to an external storage")]
    ToMoveToExternalStorage = 6,
    #[strum(serialize = "Transcoding failed")]
    TranscodingFailed = 7,
    #[strum(serialize = "External storage move failed")]
    ToMoveToExternalStorageFailed = 8,
    #[strum(serialize = "To edit")]
    ToEdit = 9,
}
super::numeric_enum!(VideoState, "video state");

impl VideoState {
    pub const ALL: &[VideoState] = <VideoState as strum::VariantArray>::VARIANTS;
}

/// PeerTube's `VideoCommentPolicy` ids.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::FromRepr, strum::IntoStaticStr,
)]
#[serde(into = "u8", try_from = "u8")]
#[repr(u8)]
pub enum CommentsPolicy {
    Enabled = 1,
    Disabled = 2,
    #[strum(serialize = "Requires approval")]
    RequiresApproval = 3,
}
super::numeric_enum!(CommentsPolicy, "comments policy");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Video {
    pub id: u64,
    pub uuid: uuid::Uuid,
    pub name: String,
    pub description: Option<String>,
    pub support: Option<String>,
    pub channel_id: u64,
    pub category: Option<u32>,
    pub licence: Option<u32>,
    pub language: Option<String>,
    pub privacy: Privacy,
    pub nsfw: bool,
    pub tags: Vec<String>,
    pub comments_policy: CommentsPolicy,
    pub download_enabled: bool,
    pub wait_transcoding: bool,
    pub state: VideoState,
    /// Seconds, as PeerTube reports it.
    pub duration: u64,
    pub views: u64,
    pub likes: u64,
    pub dislikes: u64,
    pub is_local: bool,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub published_at_ms: i64,
    pub originally_published_at_ms: Option<i64>,
    /// Bytes of the uploaded original (what counts against the uploader's quota); 0 when the
    /// video has no local file.
    #[serde(default)]
    pub input_size: u64,
    /// Why the video is in its state, for its owner: what failed, or what it waits for.
    #[serde(default)]
    pub state_reason: Option<String>,
    /// File names of the JPEG thumbnail and preview (`service::images`).
    #[serde(default)]
    pub thumbnail: Option<String>,
    #[serde(default)]
    pub preview: Option<String>,
    /// Display width over height, in ten-thousandths (PeerTube's `aspectRatio` has four
    /// decimals); known once the video has a playable file.
    #[serde(default)]
    pub aspect_ratio_e4: Option<u32>,
    /// Where a video of another server lives (`None` for local videos): it plays from there.
    #[serde(default)]
    pub remote: Option<RemoteVideo>,
}

impl Record for Video {
    const KIND: &'static str = "video";
    const VERSION: u8 = 1;
}

/// A video of another server, as its `Video` object said when last fetched: nothing of its
/// media is copied here (its thumbnail and preview excepted), so players fetch the origin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteVideo {
    /// The object's id, its URL on the origin (PeerTube's `video.url`).
    pub url: String,
    /// Its HLS master playlist and renditions, when it has them.
    pub hls: Option<RemotePlaylist>,
    /// Its progressive MP4s, largest first.
    #[serde(default)]
    pub web_videos: Vec<RemoteFile>,
    /// The origin's image the local thumbnail and preview are made from.
    pub image_url: Option<String>,
    /// The actors through which the instance has it (the announcers, and its channel and
    /// account when the instance follows them): it stays while the instance follows one.
    #[serde(default)]
    pub via: Vec<String>,
    pub fetched_at_ms: i64,
}

/// A remote video's HLS master playlist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemotePlaylist {
    pub url: String,
    pub segments_sha256_url: Option<String>,
    pub files: Vec<RemoteFile>,
}

/// One file of a remote video, as its object describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteFile {
    pub url: String,
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    pub size: u64,
}

/// The uploaded original of a local video: its file and what the probe read from its headers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VideoSource {
    /// The name the uploader's file had.
    pub filename: String,
    /// Path of the original relative to the video's media directory.
    pub file: String,
    pub size: u64,
    pub info: super::media::MediaInfo,
}

impl Record for VideoSource {
    const KIND: &'static str = "video source";
    const VERSION: u8 = 1;
}

/// The `.torrent` made for a served file (in `<data dir>/media/<uuid>/torrents/`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TorrentFile {
    pub file: String,
    /// Hex SHA-1 of the info dictionary, as magnet links name it.
    pub info_hash: String,
}

/// One HLS rendition of a video: a fragmented MP4 and its media playlist, in
/// `<data dir>/media/<uuid>/hls/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HlsRendition {
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    /// Bytes of the fragmented MP4.
    pub size: u64,
    /// RFC 6381 codecs of the rendition.
    pub codecs: String,
    pub file: String,
    pub playlist: String,
    #[serde(default)]
    pub torrent: Option<TorrentFile>,
    /// Bits per second of the busiest segment and on average, for the master playlist (0 in
    /// records written before they were kept: estimated from the size then).
    #[serde(default)]
    pub peak_bandwidth: u64,
    #[serde(default)]
    pub average_bandwidth: u64,
    /// A rung of the AV1 ladder, as opposed to the upload remuxed as it is.
    #[serde(default)]
    pub transcoded: bool,
}

/// One progressive ("web video") MP4 of a video, with `moov` first, in
/// `<data dir>/media/<uuid>/web-videos/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebVideo {
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    pub size: u64,
    pub has_audio: bool,
    pub file: String,
    pub torrent: Option<TorrentFile>,
    /// A rung of the ladder, as opposed to the upload remuxed as it is.
    #[serde(default)]
    pub transcoded: bool,
    /// The RFC 6381 codecs of a rung's file (empty for the remux, and in older records).
    #[serde(default)]
    pub codecs: String,
}

/// The playable files of a video. The master playlist is `hls/master.m3u8`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VideoMedia {
    pub hls: Vec<HlsRendition>,
    #[serde(default)]
    pub web_videos: Vec<WebVideo>,
    #[serde(default)]
    pub storyboard: Option<Storyboard>,
}

/// A video's storyboard: a JPEG grid of sprites in `<data dir>/media/<uuid>/images/`, laid out
/// as PeerTube's (`media::storyboard`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Storyboard {
    pub file: String,
    pub total_width: u32,
    pub total_height: u32,
    pub sprite_width: u32,
    pub sprite_height: u32,
    /// Seconds between two sprites.
    pub sprite_duration: u32,
}

impl Record for VideoMedia {
    const KIND: &'static str = "video media";
    const VERSION: u8 = 1;
}

/// The short id PeerTube shows in `/w/{shortUUID}` links: the UUID's 128-bit value written in
/// base 58 with the Flickr alphabet, left-padded to 22 characters. Written here because it is a
/// ten-line base conversion of one integer, not worth a dependency.
pub fn short_uuid(uuid: &uuid::Uuid) -> String {
    const ALPHABET: &[u8; 58] = b"123456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";
    let mut n = uuid.as_u128();
    let mut out = Vec::with_capacity(22);
    while n > 0 {
        out.push(ALPHABET[(n % 58) as usize]);
        n /= 58;
    }
    while out.len() < 22 {
        out.push(ALPHABET[0]);
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Inverse of `short_uuid`; `None` for anything that is not one.
pub fn parse_short_uuid(s: &str) -> Option<uuid::Uuid> {
    const ALPHABET: &str = "123456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";
    if s.is_empty() || s.len() > 22 {
        return None;
    }
    let mut n: u128 = 0;
    for c in s.chars() {
        let digit = ALPHABET.find(c)? as u128;
        n = n.checked_mul(58)?.checked_add(digit)?;
    }
    Some(uuid::Uuid::from_u128(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_uuid_matches_peertube() {
        // Pairs computed by the `short-uuid` npm package PeerTube uses (flickrBase58).
        let u = uuid::Uuid::parse_str("e7946124-7b72-4ad7-9d22-844a84bb2de1").unwrap();
        assert_eq!(short_uuid(&u), "uAAq412RqtKsMpaRE3bG5H");
        assert_eq!(
            short_uuid(&uuid::Uuid::from_u128(1)),
            "1111111111111111111112"
        );
        assert_eq!(parse_short_uuid("uAAq412RqtKsMpaRE3bG5H"), Some(u));
        assert_eq!(
            parse_short_uuid(&short_uuid(&uuid::Uuid::nil())),
            Some(uuid::Uuid::nil())
        );
        assert_eq!(parse_short_uuid("0OIl"), None);
    }

    #[test]
    fn enums_reject_unknown_ids() {
        assert!(Privacy::try_from(9).is_err());
        assert!(VideoState::try_from(0).is_err());
        assert_eq!(Privacy::try_from(3), Ok(Privacy::Private));
    }
}
