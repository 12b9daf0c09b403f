//! Every redb table Vireo keeps, in one place, so the whole schema can be read at a glance.
//!
//! Values named `&[u8]` hold a versioned record (see `codec`); keys are chosen so that the lookups
//! the API makes are single point reads or ordered range scans.

use redb::TableDefinition;

/// Instance-wide singletons: schema version, the local OAuth client, instance identity.
pub const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// Monotonic id counters, one per entity kind (PeerTube exposes integer ids).
pub const SEQUENCES: TableDefinition<&str, u64> = TableDefinition::new("sequences");

/// User id → `User`.
pub const USERS: TableDefinition<u64, &[u8]> = TableDefinition::new("users");
/// Lower-cased username → user id (usernames are unique without regard to case).
pub const USERS_BY_NAME: TableDefinition<&str, u64> = TableDefinition::new("users_by_name");
/// Lower-cased e-mail → user id.
pub const USERS_BY_EMAIL: TableDefinition<&str, u64> = TableDefinition::new("users_by_email");

/// Account id → `Account` (the Person actor of a user).
pub const ACCOUNTS: TableDefinition<u64, &[u8]> = TableDefinition::new("accounts");
/// Channel id → `Channel` (a Group actor owned by an account).
pub const CHANNELS: TableDefinition<u64, &[u8]> = TableDefinition::new("channels");
/// Lower-cased actor name → `ActorRef`. Accounts and channels share one namespace, as in PeerTube,
/// so `/accounts/x` and `/video-channels/x` can never name two different things.
pub const ACTORS_BY_NAME: TableDefinition<&str, &[u8]> = TableDefinition::new("actors_by_name");
/// Local actor (`instance`, `account/{id}`, `channel/{id}`) → `ActorKey`: its RSA keypair,
/// made the first time the actor is served or signs, and kept for good (peers cache it).
pub const ACTOR_KEYS: TableDefinition<&str, &[u8]> = TableDefinition::new("actor_keys");
/// Remote actor id → `RemoteActor`: the actors of other servers as last fetched.
pub const REMOTE_ACTORS: TableDefinition<&str, &[u8]> = TableDefinition::new("remote_actors");
/// (local actor slot, as in `ACTOR_KEYS`; follower actor id) → `Follower`.
pub const FOLLOWERS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("followers");
/// `Follow` activity id → (local actor slot, follower actor id), for the `Undo` that names it.
pub const FOLLOWS_BY_ACTIVITY: TableDefinition<&str, (&str, &str)> =
    TableDefinition::new("follows_by_activity");
/// Followed actor id → `Following`: the remote actors the instance follows or asked to.
pub const FOLLOWING: TableDefinition<&str, &[u8]> = TableDefinition::new("following");
/// `BlockTarget::key` (`host/…`, `account/…`, `actor/…`) → `Block`: the instance's blocklist.
pub const BLOCKLIST: TableDefinition<&str, &[u8]> = TableDefinition::new("blocklist");
/// (user id, `BlockTarget::key`) → `Block`: what each user blocked for itself ("my
/// blocklist"): its lists leave those accounts' and servers' videos out.
pub const USER_BLOCKS: TableDefinition<(u64, &str), &[u8]> = TableDefinition::new("user_blocks");
/// Chore id → `QueuedChore`: federation chores waiting for the worker (follows to find and
/// send, answers and undos to build).
pub const CHORES: TableDefinition<u64, &[u8]> = TableDefinition::new("federation_chores");
/// (unix ms due, chore id) → (): `CHORES` in the order they may run, so that a claim reads
/// the due ones only (a followed server's outbox queues thousands).
pub const CHORES_DUE: TableDefinition<(i64, u64), ()> =
    TableDefinition::new("federation_chores_due");
/// Activity id → unix ms received: the signed activities of the last two hours, so that one
/// replayed within its signature's lifetime is refused.
pub const SEEN_ACTIVITIES: TableDefinition<&str, i64> = TableDefinition::new("seen_activities");
/// (unix ms received, activity id) → (): `SEEN_ACTIVITIES` by age, to forget the old ones.
pub const SEEN_BY_TIME: TableDefinition<(i64, &str), ()> = TableDefinition::new("seen_by_time");
/// (video id, rater) → `Rate`: likes and dislikes, one per rater and video (the video's `likes`
/// and `dislikes` count them). The rater is a remote actor's id, or a local account's actor
/// slot (`account/{id}`, never a URL).
pub const VIDEO_RATES: TableDefinition<(u64, &str), &[u8]> = TableDefinition::new("video_rates");
/// (local account id, video id) → (): the videos a local account rated, for its list.
pub const ACCOUNT_RATES: TableDefinition<(u64, u64), ()> = TableDefinition::new("account_rates");
/// Rate activity id → (video id, actor id), for the `Undo` that names it.
pub const RATES_BY_ACTIVITY: TableDefinition<&str, (u64, &str)> =
    TableDefinition::new("rates_by_activity");
/// Event id → `OutboxEvent`: local video changes not yet turned into deliveries.
pub const OUTBOX: TableDefinition<u64, &[u8]> = TableDefinition::new("outbox");
/// Delivery id → `Delivery`: activities waiting to reach another server's inbox.
pub const DELIVERIES: TableDefinition<u64, &[u8]> = TableDefinition::new("deliveries");
/// Host (with a port when not the default) → `HostHealth`: the hosts whose deliveries fail.
pub const DELIVERY_HOSTS: TableDefinition<&str, &[u8]> = TableDefinition::new("delivery_hosts");
/// (unix ms due, delivery id) → its inbox's host (`""` when it has none): deliveries in the
/// order they may be tried; the host lets a claim pass over those for a host being sent to
/// without reading the activity.
pub const DELIVERIES_DUE: TableDefinition<(i64, u64), &str> =
    TableDefinition::new("deliveries_due_by_host");
/// (account id, channel id) → (): the channels an account owns, in creation order.
pub const CHANNELS_BY_ACCOUNT: TableDefinition<(u64, u64), ()> =
    TableDefinition::new("channels_by_account");

/// Video id → `Video`.
pub const VIDEOS: TableDefinition<u64, &[u8]> = TableDefinition::new("videos");
/// Video UUID → video id.
pub const VIDEOS_BY_UUID: TableDefinition<u128, u64> = TableDefinition::new("videos_by_uuid");

/// Video id → `VideoSource`: the uploaded original and what the probe learnt about it.
pub const VIDEO_SOURCES: TableDefinition<u64, &[u8]> = TableDefinition::new("video_sources");

/// Video id → `VideoMedia`: the playable renditions made from the source.
pub const VIDEO_MEDIA: TableDefinition<u64, &[u8]> = TableDefinition::new("video_media");

/// SHA-256 of an access token → `Token`. Tokens are never stored in clear.
pub const TOKENS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("tokens");
/// SHA-256 of a refresh token → SHA-256 of its access token.
pub const REFRESH_TOKENS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("refresh_tokens");
/// (user id, access token hash) → (): every session of a user, to revoke them all at once.
pub const USER_TOKENS: TableDefinition<(u64, &[u8]), ()> = TableDefinition::new("user_tokens");

/// Resumable upload id → `UploadSession`; its bytes are in `<data dir>/uploads/<id>.part`.
pub const UPLOADS: TableDefinition<&str, &[u8]> = TableDefinition::new("uploads");

/// A remote video's URL (its object id) → its video id.
pub const VIDEOS_BY_URL: TableDefinition<&str, u64> = TableDefinition::new("videos_by_url");
/// A remote actor's URL → the account or channel that stands for it here (`ActorRef`).
pub const REMOTE_OWNERS: TableDefinition<&str, &[u8]> = TableDefinition::new("remote_owners");
/// A remote account's or channel's handle, lowercase `name@host` → `ActorRef`.
pub const REMOTE_HANDLES: TableDefinition<&str, &[u8]> = TableDefinition::new("remote_handles");

/// Job id → `Job`.
pub const JOBS: TableDefinition<u64, &[u8]> = TableDefinition::new("jobs");
/// (run-after unix ms, job id) → (): pending jobs in the order they may run.
pub const JOBS_PENDING: TableDefinition<(i64, u64), ()> = TableDefinition::new("jobs_pending");
