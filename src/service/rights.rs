//! Role rules: who may manage whom. Mirrors PeerTube: administrators manage every user,
//! themselves included (the root user's role and existence are guarded in `user_admin`);
//! moderators manage plain users only.

use crate::model::user::{Role, User};

/// May `actor` view, edit, block or delete `target`? (Blocking or deleting oneself is refused
/// by `user_admin`, whatever the role.)
pub fn can_manage_user(actor: &User, target: &User) -> bool {
    match actor.role {
        Role::Administrator => true,
        Role::Moderator => target.role == Role::User,
        Role::User => false,
    }
}

/// May `actor` create a user, or set a user's role, to `role`?
pub fn can_grant_role(actor: &User, role: Role) -> bool {
    match actor.role {
        Role::Administrator => true,
        Role::Moderator => role == Role::User,
        Role::User => false,
    }
}

/// May `actor` list and create users at all?
pub fn can_manage_users(actor: &User) -> bool {
    actor.role <= Role::Moderator
}

/// May `actor` change the instance's settings? Administrators only, as PeerTube's
/// `MANAGE_CONFIGURATION` right.
pub fn can_manage_configuration(actor: &User) -> bool {
    actor.role == Role::Administrator
}

/// May `actor` edit or delete content owned by another user (videos, channels)? Whoever the
/// owner is: PeerTube's moderators hold `UPDATE_ANY_VIDEO`, `REMOVE_ANY_VIDEO` and
/// `MANAGE_ANY_VIDEO_CHANNEL` with no rank check; ranks apply to managing users.
pub fn can_moderate_content(actor: &User) -> bool {
    actor.role <= Role::Moderator
}

/// May `actor` re-run transcoding and remove a video's renditions? Administrators only, as
/// PeerTube's `RUN_VIDEO_TRANSCODING` and `MANAGE_VIDEO_FILES` rights: it spends the server's
/// CPU and can take files offline.
pub fn can_manage_video_files(actor: &User) -> bool {
    actor.role == Role::Administrator
}

/// May `actor` follow other servers, and accept, reject or remove the instance's followers?
/// Administrators only, as PeerTube's `MANAGE_SERVER_FOLLOW` right.
pub fn can_manage_server_follows(actor: &User) -> bool {
    actor.role == Role::Administrator
}
