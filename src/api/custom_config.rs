//! `GET`, `PUT` and `DELETE /api/v1/config/custom`: the settings an administrator changes while
//! Vireo runs, in the shape of PeerTube's custom configuration, so PeerTube's admin clients can
//! read and write them.
//!
//! A PUT carries PeerTube's whole document. Vireo takes the parts it has (`service::settings`
//! lists them: the instance's texts, sign-up, new users' quotas, the AV1 ladder) and ignores
//! the rest, which PeerTube's clients always send; the answer shows what is in force, so a
//! client sees that a feature Vireo lacks stayed off. DELETE forgets the run-time changes and
//! the configuration file's values apply again.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::Config;
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Auth, RequiredJson, blocking};
use crate::service::settings::{self, PEERTUBE_RUNGS};

/// The settings in PeerTube's custom configuration document. The parts Vireo has no setting for
/// say what Vireo does (HLS always on, no live, no imports).
pub fn document(c: &Config, admin_email: &str) -> Value {
    let i = &c.instance;
    let t = &c.transcoding;
    json!({
        "instance": {
            "name": i.name,
            "shortDescription": i.short_description,
            "description": i.description,
            "terms": i.terms,
            "codeOfConduct": "", "creationReason": "", "moderationInformation": "",
            "administrator": "", "maintenanceLifetime": "", "businessModel": "",
            "hardwareInformation": "", "languages": [], "categories": [],
            "isNSFW": false,
            "defaultNSFWPolicy": i.default_nsfw_policy,
            "serverCountry": "",
            "support": {"text": ""},
            "social": {"blueskyLink": "", "mastodonLink": "", "xLink": "", "externalLink": ""},
            "defaultClientRoute": "/videos/trending",
            "customizations": {"javascript": "", "css": ""}
        },
        "theme": {"default": "default"},
        "services": {"twitter": {"username": ""}},
        "cache": {"previews": {"size": 0}, "captions": {"size": 0}, "torrents": {"size": 0},
                  "storyboards": {"size": 0}},
        "signup": {
            "enabled": c.signup.enabled,
            "limit": c.signup.limit,
            "requiresApproval": false,
            "requiresEmailVerification": false,
            "minimumAge": c.signup.minimum_age
        },
        "admin": {"email": admin_email},
        "contactForm": {"enabled": false},
        "user": {
            "history": {"videos": {"enabled": false}},
            "videoQuota": c.user.video_quota,
            "videoQuotaDaily": c.user.video_quota_daily
        },
        "videoChannels": {"maxPerUser": crate::service::channels::MAX_PER_ACCOUNT},
        "transcoding": {
            "enabled": t.enabled,
            "originalFile": {"keep": true},
            "allowAdditionalExtensions": false,
            "allowAudioFiles": false,
            "remoteRunners": {"enabled": false},
            "threads": 0,
            "concurrency": c.jobs.workers,
            "profile": "default",
            "resolutions": rungs(&t.resolutions),
            "alwaysTranscodeOriginalResolution": false,
            "webVideos": {"enabled": t.web_videos},
            "hls": {"enabled": true, "splitAudioAndVideo": false}
        },
        "live": {"enabled": false},
        "videoStudio": {"enabled": false},
        "import": {"videos": {"http": {"enabled": false}, "torrent": {"enabled": false}},
                   "videoChannelSynchronization": {"enabled": false}},
        "autoBlacklist": {"videos": {"ofUsers": {"enabled": false}}},
        "followers": {"instance": {"enabled": false, "manualApproval": false}},
        "storyboard": {"enabled": false},
        "defaults": {"publish": {"downloadEnabled": true, "commentsPolicy": 1, "privacy": 1}}
    })
}

/// PeerTube's `{"240p": true, …}` for a ladder; a rung PeerTube does not list (540) is added.
fn rungs(resolutions: &[u32]) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("0p".into(), Value::Bool(false));
    let mut all: Vec<u32> = PEERTUBE_RUNGS.to_vec();
    all.extend(resolutions.iter().filter(|r| !PEERTUBE_RUNGS.contains(r)));
    all.sort_unstable();
    for r in all {
        m.insert(format!("{r}p"), Value::Bool(resolutions.contains(&r)));
    }
    Value::Object(m)
}

/// The parts of a PUT that Vireo has settings for; everything else is ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CustomBody {
    instance: InstanceBody,
    signup: SignupBody,
    user: UserBody,
    transcoding: TranscodingBody,
    admin: AdminBody,
}

/// `admin.email` is shown as the root user's address and changed where that user's is; what
/// is sent must still be an address, as PeerTube checks.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct AdminBody {
    email: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct InstanceBody {
    name: Option<String>,
    short_description: Option<String>,
    description: Option<String>,
    terms: Option<String>,
    #[serde(rename = "defaultNSFWPolicy")]
    default_nsfw_policy: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct SignupBody {
    enabled: Option<bool>,
    limit: Option<i64>,
    minimum_age: Option<u32>,
    requires_approval: Option<bool>,
    requires_email_verification: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct UserBody {
    video_quota: Option<i64>,
    video_quota_daily: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct TranscodingBody {
    enabled: Option<bool>,
    resolutions: Option<BTreeMap<String, bool>>,
    web_videos: Option<Enabled>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Enabled {
    enabled: Option<bool>,
}

/// The ladder a PUT's `resolutions` names, or why it names none Vireo can make.
fn ladder(resolutions: &BTreeMap<String, bool>) -> ApiResult<Vec<u32>> {
    let bad = |m: String| ApiError::invalid_param("body", "transcoding.resolutions", m);
    let mut out = Vec::new();
    for (key, on) in resolutions {
        let height = key
            .strip_suffix('p')
            .and_then(|n| n.parse::<u32>().ok())
            .ok_or_else(|| bad(format!("{key:?} is not a height such as \"720p\"")))?;
        match (height, on) {
            (_, false) => {}
            (0, true) => {
                return Err(bad(
                    "Vireo makes no audio-only file (0p); leave it false".into()
                ));
            }
            (h, true) => out.push(h),
        }
    }
    out.sort_unstable_by(|a, b| b.cmp(a));
    Ok(out)
}

/// Reject what PeerTube offers and Vireo cannot do, rather than ignore a hoster's wish for it.
fn refuse_missing_features(b: &CustomBody) -> ApiResult<()> {
    let missing = [
        (b.signup.requires_approval, "signup.requiresApproval"),
        (
            b.signup.requires_email_verification,
            "signup.requiresEmailVerification",
        ),
    ];
    for (wanted, field) in missing {
        if wanted == Some(true) {
            return Err(ApiError::invalid_param(
                "body",
                field,
                "Vireo has no sign-up approval or e-mail; leave it false",
            ));
        }
    }
    Ok(())
}

/// `body` applied to `c`. Values are checked afterwards, with the configuration file's rules.
fn apply_body(c: &mut Config, b: CustomBody, ladder: Option<Vec<u32>>) {
    let set = |slot: &mut String, v: Option<String>| {
        if let Some(v) = v {
            *slot = v;
        }
    };
    set(
        &mut c.instance.name,
        b.instance.name.map(|n| n.trim().to_owned()),
    );
    set(
        &mut c.instance.short_description,
        b.instance.short_description,
    );
    set(&mut c.instance.description, b.instance.description);
    set(&mut c.instance.terms, b.instance.terms);
    set(
        &mut c.instance.default_nsfw_policy,
        b.instance.default_nsfw_policy,
    );
    c.signup.enabled = b.signup.enabled.unwrap_or(c.signup.enabled);
    c.signup.limit = b.signup.limit.unwrap_or(c.signup.limit);
    c.signup.minimum_age = b.signup.minimum_age.unwrap_or(c.signup.minimum_age);
    c.user.video_quota = b.user.video_quota.unwrap_or(c.user.video_quota);
    c.user.video_quota_daily = b.user.video_quota_daily.unwrap_or(c.user.video_quota_daily);
    c.transcoding.enabled = b.transcoding.enabled.unwrap_or(c.transcoding.enabled);
    if let Some(l) = ladder {
        c.transcoding.resolutions = l;
    }
    if let Some(on) = b.transcoding.web_videos.and_then(|w| w.enabled) {
        c.transcoding.web_videos = on;
    }
}

pub async fn get(State(state): State<AppState>, Auth(me): Auth) -> ApiResult<Response> {
    let config = settings::read_as(&state.core, &me)?;
    let email = settings::administrator_email(&state.core)?;
    Ok(axum::Json(document(&config, &email)).into_response())
}

pub async fn put(
    State(state): State<AppState>,
    Auth(me): Auth,
    RequiredJson(body): RequiredJson<CustomBody>,
) -> ApiResult<Response> {
    refuse_missing_features(&body)?;
    if let Some(email) = &body.admin.email {
        crate::service::validate::email(email)?;
    }
    let ladder = body
        .transcoding
        .resolutions
        .as_ref()
        .map(ladder)
        .transpose()?;
    let core = state.core.clone();
    let config = blocking(move || {
        Ok(settings::change_as(&core, &me, move |c| {
            apply_body(c, body, ladder)
        })?)
    })
    .await?;
    let email = settings::administrator_email(&state.core)?;
    Ok(axum::Json(document(&config, &email)).into_response())
}

pub async fn delete(State(state): State<AppState>, Auth(me): Auth) -> ApiResult<Response> {
    let core = state.core.clone();
    let config = blocking(move || Ok(settings::restore_file_as(&core, &me)?)).await?;
    let email = settings::administrator_email(&state.core)?;
    Ok(axum::Json(document(&config, &email)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rungs_round_trip_through_peertube_keys() {
        let doc = rungs(&[1080, 540, 240]);
        assert_eq!(doc["720p"], false);
        assert_eq!(doc["540p"], true);
        assert_eq!(doc["0p"], false);
        let back: BTreeMap<String, bool> = serde_json::from_value(doc).unwrap();
        assert_eq!(ladder(&back).unwrap(), vec![1080, 540, 240]);
    }

    #[test]
    fn bad_rungs_are_named() {
        let m = |k: &str| BTreeMap::from([(k.to_owned(), true)]);
        assert!(ladder(&m("0p")).is_err());
        assert!(ladder(&m("tall")).is_err());
        assert!(ladder(&m("-5p")).is_err());
        assert_eq!(ladder(&m("360p")).unwrap(), vec![360]);
    }
}
