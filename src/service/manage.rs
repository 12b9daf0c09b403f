//! Changes people make to content through an edge, with their right to make them checked
//! first (`visibility`): a video's metadata and images, a video's deletion, a channel's
//! update and deletion. The API, the web UI and the admin socket all come through here.

use super::images::{self, Kind};
use super::videos::{self, VideoUpdate};
use super::{Core, Result, channels, visibility};
use crate::media::thumbnail::Images;
use crate::model::channel::Channel;
use crate::model::user::User;
use crate::model::video::Video;

/// Change the metadata and images of video `key` as its owner or a moderator. The images are
/// already made (`images::from_form_files`), so a bad one refused the change before this.
pub fn update_video(
    core: &Core,
    me: &User,
    key: &str,
    up: VideoUpdate,
    made: &[(Kind, Images)],
) -> Result<Video> {
    let (v, owner) = visibility::video_to_manage(core, me, key)?;
    let updated = videos::update(core, v.id, up, Some(owner.id))?;
    for (kind, images) in made {
        images::store(core, v.id, images, &[*kind], false)?;
    }
    Ok(updated)
}

/// Delete video `key` as its owner or a moderator.
pub fn delete_video(core: &Core, me: &User, key: &str) -> Result<()> {
    let (v, _) = visibility::video_to_manage(core, me, key)?;
    videos::delete(core, v.id)
}

/// Change channel `handle` as its owner or a moderator.
pub fn update_channel(
    core: &Core,
    me: &User,
    handle: &str,
    up: channels::ChannelUpdate,
) -> Result<Channel> {
    let c = visibility::channel_to_manage(core, me, handle)?;
    channels::update(core, c.id, up)
}

/// Delete channel `handle` as its owner or a moderator.
pub fn delete_channel(core: &Core, me: &User, handle: &str) -> Result<()> {
    let c = visibility::channel_to_manage(core, me, handle)?;
    channels::delete(core, c.id)
}
