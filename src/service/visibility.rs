//! Who may see and who may change what, as PeerTube decides it: a video by its privacy, a
//! download by the video's setting, the lists a viewer may ask for, and the owner-or-moderator
//! rule for changing a video or a channel. Every edge (the API, the web UI, federation next)
//! asks here, so a rule is written once.

use super::rights;
use super::{Core, Result, ServiceError, actors, videos};
use crate::model::account::Account;
use crate::model::channel::Channel;
use crate::model::user::User;
use crate::model::video::{Privacy, Video};

/// A video with the channel and account that own it.
#[derive(Debug, Clone)]
pub struct Owned {
    pub video: Video,
    pub channel: Channel,
    pub account: Account,
}

/// May `viewer` see this video at all? Private: owner and moderators; internal: any user.
pub fn can_view(v: &Video, owner: &Account, viewer: Option<&User>) -> bool {
    match v.privacy {
        Privacy::Public | Privacy::Unlisted | Privacy::PasswordProtected => true,
        Privacy::Internal => viewer.is_some(),
        Privacy::Private => viewer.is_some_and(|u| owns_or_moderates(u, owner.id)),
    }
}

fn owns_or_moderates(u: &User, account_id: u64) -> bool {
    u.account_id == account_id || rights::can_moderate_content(u)
}

/// The video `key` names (id, UUID or short UUID), if `viewer` may see it. PeerTube answers a
/// user who may not see it with 403 and an anonymous visitor with 401 (logging in may help).
pub fn load_visible(core: &Core, key: &str, viewer: Option<&User>) -> Result<Owned> {
    let tx = core.store.read()?;
    let video = videos::find(&tx, key)?.ok_or(ServiceError::NotFound("video"))?;
    let (channel, account) = actors::owner_of(&tx, video.channel_id)?;
    if !can_view(&video, &account, viewer) {
        return Err(match viewer {
            Some(_) => ServiceError::Forbidden("Cannot get this private video".into()),
            None => ServiceError::Unauthorized("Token is invalid".into()),
        });
    }
    Ok(Owned {
        video,
        channel,
        account,
    })
}

/// The video `key` names, for serving its files to `viewer`: as `load_visible`, but a request
/// with no credentials is refused with 403, as PeerTube's static file routes do (a file is
/// fetched by a player or a download, which cannot be sent to a login page).
pub fn load_files_of(core: &Core, key: &str, viewer: Option<&User>) -> Result<Owned> {
    load_visible(core, key, viewer).map_err(|e| match e {
        ServiceError::Unauthorized(_) => ServiceError::Forbidden(
            "No credentials: send a bearer token or the web session's cookie".into(),
        ),
        other => other,
    })
}

/// May `viewer` download the video's files? When its owner turned downloads off, only the owner
/// and moderators may (the player streams either way).
pub fn check_download(owned: &Owned, viewer: Option<&User>) -> Result<()> {
    if owned.video.download_enabled
        || viewer.is_some_and(|u| owns_or_moderates(u, owned.account.id))
    {
        return Ok(());
    }
    Err(ServiceError::Forbidden("Video download is disabled".into()))
}

/// The video `key` names and its owner's account, if `me` may change it: its owner, or a
/// moderator.
pub fn video_to_manage(core: &Core, me: &User, key: &str) -> Result<(Video, Account)> {
    let tx = core.store.read()?;
    let v = videos::find(&tx, key)?.ok_or(ServiceError::NotFound("video"))?;
    let (_, a) = actors::owner_of(&tx, v.channel_id)?;
    if !owns_or_moderates(me, a.id) {
        return Err(ServiceError::Forbidden(
            "Cannot manage a video of another user.".into(),
        ));
    }
    Ok((v, a))
}

/// The channel `handle` names, if `me` owns it or may moderate content. As in PeerTube (its
/// `MANAGE_ANY_VIDEO_CHANNEL` right), moderators manage anyone's channels as they manage
/// anyone's videos: roles rank people (`rights::can_manage_user`), not their content.
pub fn channel_to_manage(core: &Core, me: &User, handle: &str) -> Result<Channel> {
    let c = actors::channel_by_handle(core, handle)?;
    if !owns_or_moderates(me, c.account_id) {
        return Err(ServiceError::Forbidden(
            "Cannot manage a video channel of another user".into(),
        ));
    }
    Ok(c)
}

/// What a video list asks for beyond plain filters: these widen what it shows, so who may ask
/// is checked (`reach`).
#[derive(Debug, Clone, Default)]
pub struct Wanted {
    /// PeerTube's `include` flags; any flag (unlisted, blocked, not yet published…) needs a
    /// moderator. Flag 1 (videos in every state) is the one Vireo acts on.
    pub include: u32,
    /// `privacyOneOf`: needs a moderator.
    pub privacy_one_of: Option<Vec<Privacy>>,
    /// `nsfw`: `Some(Some(b))` only sensitive or only not, `Some(None)` both, `None` the
    /// viewer's own policy (the instance's for visitors).
    pub nsfw: Option<Option<bool>>,
    /// `autoTagOneOf` was given: needs a moderator.
    pub auto_tags: bool,
    /// `excludeAlreadyWatched` was given: needs a logged-in viewer, whose history it reads.
    pub exclude_watched: bool,
}

/// What a list may show `viewer`, as filter fields: privacies, listable states only or not, and
/// sensitive content.
#[derive(Debug, Clone, PartialEq)]
pub struct Reach {
    pub privacy_one_of: Vec<Privacy>,
    pub listable_only: bool,
    pub nsfw: Option<bool>,
    /// Nothing can match: an `autoTagOneOf` filter, since Vireo has no automatic tagging
    /// policy, so no video carries an automatic tag.
    pub nothing: bool,
    /// The accounts whose videos the list leaves out: those the instance blocked, unless a
    /// moderator asks for them (`include` flag 4, PeerTube's `BLOCKED_OWNER`), and those the
    /// viewer blocked for itself.
    pub hidden_accounts: Vec<u64>,
}

/// PeerTube's `include` flag for videos whose owner is blocked.
const INCLUDE_BLOCKED_OWNER: u32 = 4;

/// Check that `viewer` may ask for `wanted` and give what the list may show: without a
/// choice, visitors see public videos and users public and internal ones.
pub fn reach(core: &Core, viewer: Option<&User>, wanted: Wanted) -> Result<Reach> {
    let moderator = viewer.is_some_and(rights::can_moderate_content);
    if wanted.exclude_watched && viewer.is_none() {
        return Err(ServiceError::invalid(
            "excludeAlreadyWatched",
            "Cannot use excludeAlreadyWatched parameter when auth token is not provided",
        ));
    }
    // With a token it excludes nothing: Vireo keeps no watch history (every user's
    // `videosHistoryEnabled` is false), as PeerTube for a user whose history is off.
    if (wanted.include != 0 || wanted.privacy_one_of.is_some() || wanted.auto_tags) && !moderator {
        return Err(ServiceError::Unauthorized(
            "You are not allowed to see all videos, specify a custom include or auto tags filter."
                .into(),
        ));
    }
    let privacy_one_of = match wanted.privacy_one_of {
        Some(p) => p,
        None if viewer.is_some() => vec![Privacy::Public, Privacy::Internal],
        None => vec![Privacy::Public],
    };
    let nsfw = match wanted.nsfw {
        Some(choice) => choice,
        None => {
            let hidden = match viewer {
                Some(u) => u.nsfw_policy == "do_not_list",
                None => core.config().instance.default_nsfw_policy == "do_not_list",
            };
            hidden.then_some(false)
        }
    };
    let mut hidden_accounts = if wanted.include & INCLUDE_BLOCKED_OWNER == 0 {
        super::blocklist::hidden_accounts(core)?
    } else {
        Vec::new()
    };
    // What the viewer blocked for itself is left out of its lists whatever it asks.
    if let Some(u) = viewer {
        hidden_accounts.extend(super::blocklist::muted_accounts(core, u.id)?);
    }
    Ok(Reach {
        privacy_one_of,
        listable_only: wanted.include & 1 == 0,
        nsfw,
        nothing: wanted.auto_tags,
        hidden_accounts,
    })
}
