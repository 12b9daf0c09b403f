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
use crate::http::extract::{Auth, RequiredBody, blocking};
use crate::http::strict::Origin;
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
        "videoChannels": {"maxPerUser": c.user.max_channels},
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
        "followers": {"instance": {"enabled": c.federation.instance_followers,
                                   "manualApproval": c.federation.followers_manual_approval}},
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
    followers: FollowersBody,
}

/// `followers.instance`: whether other instances' follows wait for an administrator.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct FollowersBody {
    instance: InstanceFollowersBody,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct InstanceFollowersBody {
    enabled: Option<bool>,
    manual_approval: Option<bool>,
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
    profile: Option<String>,
    /// Vireo's job workers are set in its file (`jobs.workers`); PeerTube's rule still applies.
    concurrency: Option<u64>,
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

/// Reject what PeerTube offers and Vireo cannot do, rather than ignore a hoster's wish for it,
/// and what PeerTube's own rules refuse in the parts Vireo has no setting for.
fn check_rules(b: &CustomBody) -> ApiResult<()> {
    let missing = [
        (b.signup.requires_approval, "signup.requiresApproval"),
        (
            b.signup.requires_email_verification,
            "signup.requiresEmailVerification",
        ),
    ];
    if b.transcoding.concurrency == Some(0) {
        return Err(ApiError::invalid_param(
            "body",
            "transcoding.concurrency",
            "should be 1 or more",
        ));
    }
    if b.transcoding
        .profile
        .as_deref()
        .is_some_and(|p| p != "default")
    {
        return Err(ApiError::invalid_param(
            "body",
            "transcoding.profile",
            "Vireo has one transcoding profile: default",
        ));
    }
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

/// PeerTube checks the type of every part of the document, also the parts Vireo has no setting
/// for; so does Vireo, against the document it answers: a part that is sent must be of the kind
/// (object, list, text, number, true or false) of the same part there. Parts the document does
/// not have are left alone, as PeerTube's clients send parts of newer versions. Where the document
/// has a whole number, a fraction is refused. A form body's
/// values are all text, so only its structure is checked.
fn check_shape(sent: &Value, shape: &Value, origin: Origin, path: &str) -> ApiResult<()> {
    let kind = |v: &Value| match v {
        Value::Null => "null",
        Value::Bool(_) => "true or false",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    };
    match (sent, shape) {
        (Value::Object(sent), Value::Object(shape)) => {
            for (key, value) in sent {
                if let Some(expected) = shape.get(key) {
                    let inner = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    check_shape(value, expected, origin, &inner)?;
                }
            }
            Ok(())
        }
        (_, Value::Null) => Ok(()),
        (Value::Number(n), Value::Number(whole)) if whole.is_f64() || !n.is_f64() => Ok(()),
        (Value::Number(_), Value::Number(_)) => Err(ApiError::invalid_param(
            "body",
            path,
            "should be a whole number",
        )),
        (Value::String(_), Value::Bool(_) | Value::Number(_)) if origin == Origin::Form => Ok(()),
        (sent, shape) if std::mem::discriminant(sent) == std::mem::discriminant(shape) => Ok(()),
        (sent, shape) => Err(ApiError::invalid_param(
            "body",
            if path.is_empty() { "body" } else { path },
            format!("should be {}, not {}", kind(shape), kind(sent)),
        )),
    }
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
    if let Some(enabled) = b.followers.instance.enabled {
        c.federation.instance_followers = enabled;
    }
    if let Some(manual) = b.followers.instance.manual_approval {
        c.federation.followers_manual_approval = manual;
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
    body: RequiredBody,
) -> ApiResult<Response> {
    let shape = document(&*settings::read_as(&state.core, &me)?, "");
    check_shape(&body.value, &shape, body.origin, "")?;
    let body: CustomBody = body.parse()?;
    check_rules(&body)?;
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
    fn parts_vireo_ignores_are_still_type_checked() {
        let shape = document(&Config::default(), "admin@example.org");
        let check = |body: Value| check_shape(&body, &shape, Origin::Json, "");
        assert!(check(json!({"followers": {"instance": {"manualApproval": false}}})).is_ok());
        assert!(check(json!({"followers": {"instance": {"manualApproval": "yes"}}})).is_err());
        assert!(check(json!({"cache": {"previews": {"size": "big"}}})).is_err());
        assert!(check(json!({"live": []})).is_err());
        assert!(check(json!({"transcoding": {"threads": 2.5}})).is_err());
        assert!(check(json!({"transcoding": {"threads": 2}})).is_ok());
        assert!(check(json!({"instance": {"languages": ["fr"]}})).is_ok());
        // Parts of newer PeerTube versions are left alone.
        assert!(check(json!({"newFeature": {"enabled": 3}})).is_ok());
        // A form's values are text.
        let form = json!({"signup": {"enabled": "true"}});
        assert!(check_shape(&form, &shape, Origin::Form, "").is_ok());
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
