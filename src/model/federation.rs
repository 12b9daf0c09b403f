//! What federation keeps: remote actors as last fetched, the remote followers of local actors,
//! and the activities waiting to be delivered.

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
    pub key_id: String,
    pub public_key_pem: String,
    pub fetched_at_ms: i64,
}

impl Record for RemoteActor {
    const KIND: &'static str = "remote actor";
    const VERSION: u8 = 1;
}

/// A remote actor that follows a local one (accepted: Vireo accepts every follow of a public
/// account or channel, as PeerTube does).
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
}

impl Record for Follower {
    const KIND: &'static str = "follower";
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

/// A remote actor's like or dislike of a local video.
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
