//! The video form both edges read, in PeerTube's field names: the metadata of
//! `PUT /api/v1/videos/{id}` (JSON or multipart) and the web UI's edit form, with the multipart
//! typing of those fields (uploads use the same). Parsing only: the rules are in
//! `service::videos` and `service::manage`.

use serde::Deserialize;

use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::MultipartFields;
use crate::model::parse_iso8601;
use crate::model::video::{CommentsPolicy, Privacy};
use crate::service::videos::VideoUpdate;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateVideoBody {
    name: Option<String>,
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    description: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    support: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    category: Option<Option<u32>>,
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    licence: Option<Option<u32>>,
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    language: Option<Option<String>>,
    privacy: Option<u8>,
    nsfw: Option<bool>,
    /// `null` clears the tags, as PeerTube does.
    #[serde(default, deserialize_with = "crate::http::strict::null_as_default")]
    pub(crate) tags: Option<Vec<String>>,
    comments_enabled: Option<bool>,
    #[serde(default, deserialize_with = "crate::http::strict::null_as_absent")]
    comments_policy: Option<u8>,
    download_enabled: Option<bool>,
    wait_transcoding: Option<bool>,
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    originally_published_at: Option<Option<String>>,
    channel_id: Option<u64>,
}

/// How PeerTube's multipart video forms spell their typed fields (updates and uploads alike).
pub const VIDEO_NUMBER_FIELDS: &[&str] = &[
    "channelId",
    "category",
    "licence",
    "privacy",
    "commentsPolicy",
];
pub const VIDEO_BOOLEAN_FIELDS: &[&str] = &[
    "nsfw",
    "commentsEnabled",
    "downloadEnabled",
    "waitTranscoding",
];
pub const VIDEO_ARRAY_FIELDS: &[&str] = &["tags"];
/// The text fields a multipart video form may clear with the text `null`.
pub const VIDEO_NULLABLE_FIELDS: &[&str] = &[
    "description",
    "support",
    "language",
    "originallyPublishedAt",
];

impl MultipartFields for UpdateVideoBody {
    const NUMBERS: &'static [&'static str] = VIDEO_NUMBER_FIELDS;
    const BOOLEANS: &'static [&'static str] = VIDEO_BOOLEAN_FIELDS;
    const ARRAYS: &'static [&'static str] = VIDEO_ARRAY_FIELDS;
    const FILES: &'static [&'static str] = &["thumbnailfile", "previewfile"];
    const NULLABLE: &'static [&'static str] = VIDEO_NULLABLE_FIELDS;
}

/// PeerTube's two spellings of the comments setting: `commentsPolicy` wins over the older
/// `commentsEnabled` boolean.
pub fn comments_policy_id(policy: Option<u8>, enabled: Option<bool>) -> Option<u8> {
    match (policy, enabled) {
        (Some(p), _) => Some(p),
        (None, Some(true)) => Some(CommentsPolicy::Enabled.id()),
        (None, Some(false)) => Some(CommentsPolicy::Disabled.id()),
        (None, None) => None,
    }
}

/// `originallyPublishedAt` as Unix milliseconds.
pub fn published_date(s: &str) -> ApiResult<i64> {
    parse_iso8601(s).ok_or_else(|| {
        ApiError::invalid_param("body", "originallyPublishedAt", "Should have a valid date")
    })
}

impl UpdateVideoBody {
    /// The change this form asks for, its numbers and dates checked.
    pub fn into_update(self) -> ApiResult<VideoUpdate> {
        let b = self;
        let privacy = b
            .privacy
            .map(|p| {
                Privacy::try_from(p).map_err(|_| {
                    ApiError::invalid_param("body", "privacy", "Should have a valid privacy")
                })
            })
            .transpose()?;
        if privacy == Some(Privacy::PasswordProtected) {
            return Err(ApiError::invalid_param(
                "body",
                "privacy",
                "Password protected videos are not supported yet",
            ));
        }
        let comments_policy = comments_policy_id(b.comments_policy, b.comments_enabled)
            .map(|p| {
                CommentsPolicy::try_from(p).map_err(|_| {
                    ApiError::invalid_param(
                        "body",
                        "commentsPolicy",
                        "Should have a valid commentsPolicy",
                    )
                })
            })
            .transpose()?;
        let originally_published_at_ms = match b.originally_published_at {
            Some(Some(s)) => Some(Some(published_date(&s)?)),
            Some(None) => Some(None),
            None => None,
        };
        Ok(VideoUpdate {
            name: b.name,
            description: b.description,
            support: b.support,
            category: b.category,
            licence: b.licence,
            language: b.language,
            privacy,
            nsfw: b.nsfw,
            tags: b.tags,
            comments_policy,
            download_enabled: b.download_enabled,
            wait_transcoding: b.wait_transcoding,
            originally_published_at_ms,
            channel_id: b.channel_id,
        })
    }
}
