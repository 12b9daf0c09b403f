//! Turning local video changes (`service::outbox` events) into deliveries: the activity is built
//! now, from the video as it is, and queued for the inboxes of everyone who follows its account,
//! its channel or the instance, one delivery per inbox (a server's shared inbox when it has one,
//! so a server hears once however many of its users follow). A `Create` also goes out as the
//! channel's `Announce` to the channel's followers (what Mastodon users following a channel
//! see) and as the instance's `Announce` to the instance's followers (what a PeerTube instance
//! that follows this one lists a video by).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::videos::{self, Loaded};
use crate::model::account::ActorRef;
use crate::model::federation::{OutboxEvent, VideoNews};
use crate::model::now_ms;
use crate::service::outbox::{self, Outgoing};
use crate::service::urls::Urls;
use crate::service::{Core, ServiceError, actors, follows, remote_actors};

/// Events fanned out per pass.
const BATCH: usize = 16;

/// Fan out the pending events; how many.
pub async fn run(core: &Arc<Core>) -> Result<usize, ServiceError> {
    let c = core.clone();
    tokio::task::spawn_blocking(move || {
        let events = outbox::pending(&c, BATCH)?;
        for event in &events {
            let outgoing = outgoing_of(&c, event)?;
            outbox::fan_out(&c, event.id, &outgoing, now_ms())?;
            tracing::debug!(video = %event.uuid, news = ?event.news, deliveries = outgoing.len(), "fanned out");
        }
        Ok(events.len())
    })
    .await
    .map_err(|e| ServiceError::internal("fanning out", e))?
}

/// The deliveries an event makes.
fn outgoing_of(core: &Core, event: &OutboxEvent) -> Result<Vec<Outgoing>, ServiceError> {
    let urls = Urls::new(&core.config());
    let account = ActorRef::Account(event.account_id);
    let channel = ActorRef::Channel(event.channel_id);
    let everyone = inboxes(core, &[account, channel, ActorRef::Instance])?;
    let activities = match event.news {
        VideoNews::Delete => {
            let Ok(owner) = actors::account_by_id(core, event.account_id) else {
                // The account went with the video; its own deletion is another story.
                return Ok(Vec::new());
            };
            vec![(
                account,
                videos::delete(&urls, &event.uuid, &owner),
                everyone,
            )]
        }
        VideoNews::Create | VideoNews::Update => {
            let Some(loaded) = current(core, event)? else {
                // No longer federated: a later event says so.
                return Ok(Vec::new());
            };
            if event.news == VideoNews::Create {
                let announce = videos::announce(&urls, &loaded);
                let instance = instance_actor(core, &urls)?;
                let shared = videos::instance_announce(&urls, &loaded, &instance);
                vec![
                    (account, videos::create(&urls, &loaded), everyone),
                    (channel, announce, inboxes(core, &[channel])?),
                    (
                        ActorRef::Instance,
                        shared,
                        inboxes(core, &[ActorRef::Instance])?,
                    ),
                ]
            } else {
                vec![(account, videos::update(&urls, &loaded), everyone)]
            }
        }
    };
    Ok(activities
        .into_iter()
        .flat_map(|(signer, activity, inboxes)| {
            let text = activity.to_string();
            inboxes.into_iter().map(move |inbox| Outgoing {
                signer,
                inbox,
                activity: text.clone(),
            })
        })
        .collect())
}

/// The instance actor's id.
fn instance_actor(core: &Core, urls: &Urls) -> Result<String, ServiceError> {
    let name = actors::instance_actor_name(&core.store.read()?)?;
    Ok(urls.absolute(&crate::service::urls::account_actor(&name)))
}

/// The video as it is now, if still federated (and still the same video).
fn current(core: &Core, event: &OutboxEvent) -> Result<Option<Loaded>, ServiceError> {
    Ok(videos::find(core, &event.uuid.to_string())?.filter(|l| l.owned.video.id == event.video_id))
}

/// One inbox per follower of any of `of`, the shared inbox where there is one.
fn inboxes(core: &Core, of: &[ActorRef]) -> Result<Vec<String>, ServiceError> {
    let mut by_inbox = BTreeMap::new();
    for actor in of {
        let followers = follows::audience(core, *actor)?;
        for follower in followers {
            if let Some(remote) = remote_actors::get(core, &follower)? {
                let inbox = remote.shared_inbox.unwrap_or(remote.inbox);
                by_inbox.insert(inbox, ());
            }
        }
    }
    Ok(by_inbox.into_keys().collect())
}
