//! `GET /api/v1/config` and `/config/about`: what clients learn about this instance before
//! logging in (name, signup, quotas, accepted files, enabled features).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::http::AppState;
use crate::http::error::ApiResult;
use crate::http::extract::blocking;
use crate::service::users;

/// The PeerTube release whose API Vireo's responses follow; clients gate features on it.
pub const PEERTUBE_API_VERSION: &str = "7.0.0";

pub async fn config(State(state): State<AppState>) -> ApiResult<Response> {
    let core = state.core.clone();
    let user_count = blocking(move || Ok(users::total(&core)?)).await?;
    let c = &state.core.config();
    let signup_open =
        c.signup.enabled && (c.signup.limit < 0 || user_count < c.signup.limit.unsigned_abs());
    let enabled_resolutions = match c.transcoding.enabled {
        true => {
            let mut r = c.transcoding.resolutions.clone();
            r.sort_unstable();
            r
        }
        false => Vec::new(),
    };
    let body = json!({
        "client": {
            "header": {"hideInstanceName": false},
            "videos": {
                "miniature": {"preferAuthorDisplayName": false},
                "resumableUpload": {"maxChunkSize": 0}
            },
            "menu": {"login": {"redirectOnSingleExternalAuth": false}}
        },
        "defaults": {
            "publish": {"downloadEnabled": true, "commentsPolicy": 1, "privacy": 1, "licence": null},
            "p2p": {"webapp": {"enabled": false}, "embed": {"enabled": false}}
        },
        // `/config/custom` edits the settings `service::settings` lists.
        "webadmin": {"configuration": {"edition": {"allowed": true}}},
        "instance": {
            "name": c.instance.name,
            "shortDescription": c.instance.short_description,
            "isNSFW": false,
            "defaultNSFWPolicy": c.instance.default_nsfw_policy,
            "defaultClientRoute": "/videos/trending",
            "serverCountry": "",
            "support": {"text": ""},
            "social": {"blueskyLink": "", "mastodonLink": "", "xLink": "", "externalLink": ""},
            "customizations": {"javascript": "", "css": ""},
            "defaultLanguage": "en",
            "avatars": [],
            "banners": []
        },
        "search": {
            "remoteUri": {"users": false, "anonymous": false},
            "searchIndex": {"enabled": false, "url": "", "disableLocalSearch": false, "isDefaultSearch": false}
        },
        "plugin": {"registered": [], "registeredExternalAuths": [], "registeredIdAndPassAuths": []},
        "theme": {"registered": [], "builtIn": [], "default": "default"},
        "email": {"enabled": false},
        "contactForm": {"enabled": false},
        "serverVersion": PEERTUBE_API_VERSION,
        "serverCommit": concat!("vireo-", env!("CARGO_PKG_VERSION")),
        "transcoding": {
            "remoteRunners": {"enabled": false},
            "hls": {"enabled": true},
            "web_videos": {"enabled": true},
            // The ladder's rungs; PeerTube's clients show them as the instance's resolutions.
            "enabledResolutions": enabled_resolutions,
            "profile": "default",
            "availableProfiles": ["default"]
        },
        "live": {
            "enabled": false, "allowReplay": false, "latencySetting": {"enabled": false},
            "maxDuration": -1, "maxInstanceLives": 0, "maxUserLives": 0,
            "transcoding": {"enabled": false, "remoteRunners": {"enabled": false},
                            "enabledResolutions": [], "profile": "default", "availableProfiles": ["default"]},
            "rtmp": {"port": 1935}
        },
        "videoStudio": {"enabled": false, "remoteRunners": {"enabled": false}},
        "videoFile": {"update": {"enabled": false}},
        "videoTranscription": {"enabled": false, "remoteRunners": {"enabled": false}},
        "import": {
            "videos": {"http": {"enabled": false}, "torrent": {"enabled": false}},
            "videoChannelSynchronization": {"enabled": false},
            "users": {"enabled": false}
        },
        "export": {"users": {"enabled": false, "exportExpiration": 0, "maxUserVideoQuota": 0}},
        "autoBlacklist": {"videos": {"ofUsers": {"enabled": false}}},
        "avatar": {"file": {"size": {"max": 4_194_304}, "extensions": [".png", ".jpeg", ".jpg", ".gif", ".webp"]}},
        "banner": {"file": {"size": {"max": 4_194_304}, "extensions": [".png", ".jpeg", ".jpg", ".gif", ".webp"]}},
        "video": {
            "image": {"extensions": [".png", ".jpg", ".jpeg", ".webp"], "size": {"max": 8_388_608}},
            "file": {"extensions": [".mp4", ".mov", ".m4v", ".mkv", ".webm"]}
        },
        "videoCaption": {"file": {"size": {"max": 20_971_520}, "extensions": [".vtt", ".srt"]}},
        "user": {"videoQuota": c.user.video_quota, "videoQuotaDaily": c.user.video_quota_daily},
        "videoChannels": {"maxPerUser": c.user.max_channels},
        "trending": {"videos": {"intervalDays": 7, "algorithms": {"enabled": ["most-viewed"], "default": "most-viewed"}}},
        "tracker": {"enabled": false},
        "followings": {"instance": {"autoFollowIndex": {"indexUrl": ""}}},
        "federation": {"enabled": c.federation.enabled},
        "broadcastMessage": {"enabled": false, "message": "", "level": "info", "dismissable": false},
        "homepage": {"enabled": false},
        "openTelemetry": {"metrics": {"enabled": false, "playbackStatsInterval": 15000}},
        "views": {"videos": {"remote": {"maxAge": -1}, "local": {"maxAge": -1},
                             "watchingInterval": {"anonymous": 5000, "users": 5000}}},
        "storyboards": {"enabled": false, "remoteRunners": {"enabled": false}},
        "webrtc": {"stunServers": []},
        "signup": {
            "allowed": signup_open,
            "allowedForCurrentIP": signup_open,
            "minimumAge": c.signup.minimum_age,
            "requiresApproval": false,
            "requiresEmailVerification": false
        }
    });
    Ok(axum::Json(body).into_response())
}

pub async fn about(State(state): State<AppState>) -> Response {
    let i = &state.core.config().instance;
    axum::Json(json!({
        "instance": {
            "name": i.name,
            "shortDescription": i.short_description,
            "description": i.description,
            "terms": i.terms,
            "codeOfConduct": "",
            "hardwareInformation": "",
            "creationReason": "",
            "moderationInformation": "",
            "administrator": "",
            "maintenanceLifetime": "",
            "businessModel": "",
            "languages": [],
            "categories": [],
            "banners": [],
            "avatars": []
        }
    }))
    .into_response()
}
