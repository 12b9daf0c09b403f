//! What federation keeps: remote actors as last fetched, the remote followers of local actors,
//! the remote actors the instance follows, the federation chores waiting to run, and the
//! activities waiting to be delivered.

use serde::{Deserialize, Serialize};

use super::Record;
use super::account::ActorRef;

/// A remote actor (a Person, Group, Application, Service or Organization of another server), as
/// its document said when last fetched: what signature checks and deliveries need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteActor {
    /// Its id (URL).
    pub id: String,
    /// `Person`, `Group`, `Application`, `Service` or `Organization`.
    pub kind: String,
    pub preferred_username: String,
    pub name: Option<String>,
    /// Its host (with a port that is not the default).
    pub host: String,
    pub inbox: String,
    pub shared_inbox: Option<String>,
    /// Its outbox, read when the instance starts following it.
    #[serde(default)]
    pub outbox: Option<String>,
    pub key_id: String,
    pub public_key_pem: String,
    pub fetched_at_ms: i64,
    /// Its number here, given when first kept (PeerTube's API shows actors with integer ids).
    #[serde(default)]
    pub number: u64,
}

impl Record for RemoteActor {
    const KIND: &'static str = "remote actor";
    const VERSION: u8 = 1;
}

/// Where a follow stands, as PeerTube names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FollowState {
    /// Asked, not yet answered (or held for an administrator's approval).
    Pending,
    Accepted,
    Rejected,
}

impl FollowState {
    /// The name PeerTube's API gives it.
    pub fn as_str(self) -> &'static str {
        match self {
            FollowState::Pending => "pending",
            FollowState::Accepted => "accepted",
            FollowState::Rejected => "rejected",
        }
    }
}

/// Followers kept before follows could wait for approval were all accepted.
fn accepted() -> FollowState {
    FollowState::Accepted
}

/// A remote actor that follows a local one. Follows of accounts and channels are accepted at
/// once (every local actor is public, as on PeerTube); follows of the instance wait for an
/// administrator when `federation.followers_manual_approval` is on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Follower {
    /// The follower's actor id.
    pub actor: String,
    /// The local actor followed.
    pub following: ActorRef,
    /// The id of the `Follow` activity, which an `Undo` names.
    pub activity_id: String,
    pub created_at_ms: i64,
    #[serde(default = "accepted")]
    pub state: FollowState,
    /// The follow's number here (for the API); 0 for follows kept before it had one.
    #[serde(default)]
    pub id: u64,
    #[serde(default)]
    pub updated_at_ms: i64,
}

impl Record for Follower {
    const KIND: &'static str = "follower";
    const VERSION: u8 = 1;
}

/// A remote actor the instance follows (or asked to follow): PeerTube's "following".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Following {
    pub id: u64,
    /// The followed actor's id.
    pub target: String,
    /// Its `preferredUsername` and host, by which the API names it (`name@host`).
    pub name: String,
    pub host: String,
    /// The id of the `Follow` sent, which its `Accept` or `Reject` and our `Undo` name.
    pub follow_id: String,
    pub state: FollowState,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl Record for Following {
    const KIND: &'static str = "following";
    const VERSION: u8 = 1;
}

/// A federation chore that needs the network or an activity built: queued in the transaction
/// of the change that asks for it (an administrator's follow, unfollow or answer to a follower,
/// a follow received), and run by the federation worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum Chore {
    /// Find the actor (a host's instance actor when `name` is `None`), fetch it, and follow it.
    Follow { host: String, name: Option<String> },
    /// Tell `target` (at `inbox`) that the instance no longer follows it (`Undo` of `follow_id`).
    Unfollow {
        target: String,
        inbox: String,
        follow_id: String,
    },
    /// Answer `follower`'s `Follow` (`follow_id`) of the local actor `following`: `Accept` or
    /// `Reject`, to the follower's own inbox.
    Answer {
        following: ActorRef,
        follower: String,
        inbox: String,
        follow_id: String,
        accept: bool,
    },
    /// Fetch the remote video at `url` and keep it, or update it. `via` is the followed actor
    /// it came through (`None`: its origin changed it, and only a known video is updated).
    Ingest { url: String, via: Option<String> },
    /// Read a page of a followed actor's outbox (`url`; its root first) and fetch each video
    /// it lists, `via` that actor; then the next page, while `pages_left` is not 0.
    Crawl {
        url: String,
        via: String,
        pages_left: u32,
    },
    /// Tell the origin of the remote video at `video` (its URL) that it was watched `count`
    /// times here: one `View` each, from the instance actor, as PeerTube sends them.
    View { video: String, count: u32 },
    /// Tell the origin of the remote video at `video` that local account `by` rated it
    /// `rate` (or, with `undo`, took that rate back).
    Rate {
        video: String,
        by: ActorRef,
        rate: SentRate,
        undo: bool,
    },
}

/// A local user's like or dislike, as its activity names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SentRate {
    pub kind: RateKind,
    pub id: String,
}

/// A chore, as queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueuedChore {
    pub id: u64,
    pub chore: Chore,
    pub attempts: u32,
    pub created_at_ms: i64,
    pub next_at_ms: i64,
    pub last_error: Option<String>,
}

impl Record for QueuedChore {
    const KIND: &'static str = "federation chore";
    const VERSION: u8 = 1;
}

/// How a host Vireo delivers to has been failing (`service::delivery_hosts`); a host that
/// answers has no entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HostHealth {
    /// Failed deliveries in a row.
    pub failures: u32,
    pub failing_since_ms: i64,
    /// Its queued deliveries wait until then.
    pub resting_until_ms: i64,
    /// Failing for longer than deliveries are kept: nothing is sent to it any more.
    pub dead: bool,
}

impl Record for HostHealth {
    const KIND: &'static str = "host health";
    const VERSION: u8 = 1;
}

/// An activity to deliver to one inbox, signed by one local actor when it is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub id: u64,
    pub signer: ActorRef,
    pub inbox: String,
    /// The activity, serialised once: the bytes signed (their digest) are the bytes sent.
    pub activity: String,
    pub attempts: u32,
    pub created_at_ms: i64,
    pub next_at_ms: i64,
    pub last_error: Option<String>,
}

impl Delivery {
    /// The host its inbox is on: deliveries to one host go one at a time.
    pub fn host(&self) -> Option<String> {
        inbox_host(&self.inbox)
    }
}

/// The host (and port, when not the default) an inbox URL names.
pub fn inbox_host(inbox: &str) -> Option<String> {
    let url = url::Url::parse(inbox).ok()?;
    let host = url.host_str()?.to_ascii_lowercase();
    Some(match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    })
}

impl Record for Delivery {
    const KIND: &'static str = "delivery";
    const VERSION: u8 = 1;
}

/// What other servers must be told about a local video, recorded in the transaction of the
/// change; the federation worker turns it into deliveries to the followers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum VideoNews {
    /// It became public or unlisted and published: `Create` (and the channel's `Announce`).
    Create,
    /// It changed while federated: `Update`.
    Update,
    /// It was deleted, or stopped being federated: `Delete`.
    Delete,
}

/// One video change to federate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxEvent {
    pub id: u64,
    pub news: VideoNews,
    pub video_id: u64,
    pub uuid: uuid::Uuid,
    /// The owner and channel at the time (a deleted video's are gone by fan-out time).
    pub account_id: u64,
    pub channel_id: u64,
    pub created_at_ms: i64,
}

impl Record for OutboxEvent {
    const KIND: &'static str = "outbox event";
    const VERSION: u8 = 1;
}

/// A like or a dislike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RateKind {
    Like,
    Dislike,
}

/// A rate, as kept (`VIDEO_RATES`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rate {
    pub kind: RateKind,
    /// The `Like` or `Dislike` activity's id, which an `Undo` names.
    pub activity_id: String,
    pub created_at_ms: i64,
}

impl Record for Rate {
    const KIND: &'static str = "rate";
    const VERSION: u8 = 1;
}

/// What the instance blocks (PeerTube's server blocklist).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum BlockTarget {
    /// A whole server: nothing it sends is taken, nothing is sent to it.
    Host { host: String },
    /// A local account: its videos leave the public lists.
    LocalAccount { id: u64 },
    /// A remote actor: nothing it sends is taken.
    RemoteActor { id: String },
}

impl BlockTarget {
    /// Its key in `BLOCKLIST`.
    pub fn key(&self) -> String {
        match self {
            BlockTarget::Host { host } => format!("host/{host}"),
            BlockTarget::LocalAccount { id } => format!("account/{id}"),
            BlockTarget::RemoteActor { id } => format!("actor/{id}"),
        }
    }
}

/// One entry of the instance's blocklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Block {
    pub id: u64,
    pub target: BlockTarget,
    /// The moderator or administrator who blocked it.
    pub by_user: u64,
    pub created_at_ms: i64,
}

impl Record for Block {
    const KIND: &'static str = "block";
    const VERSION: u8 = 1;
}
