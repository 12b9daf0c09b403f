//! One `Config` for the whole process, layered: built-in defaults < `vireo.toml` < `VIREO_*`
//! environment < command-line flags.
//!
//! Every setting has a default, a TOML key (`section.key`) and an environment name
//! (`VIREO_SECTION__KEY`); any setting may instead be read from a file named by
//! `VIREO_SECTION__KEY_FILE`, for secrets. `packaging/vireo.example.toml` is generated from
//! `Config::default()` and `DOCS` by `vireo config example`; a test fails when it is stale.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::auth::address::TrustedProxies;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Invalid(String),
    #[error("configuration file {path}: {source}")]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Figment(Box<figment::Error>),
}

impl From<figment::Error> for ConfigError {
    fn from(e: figment::Error) -> Self {
        ConfigError::Figment(Box::new(e))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: Server,
    pub storage: Storage,
    pub instance: Instance,
    pub signup: Signup,
    pub user: UserDefaults,
    pub uploads: Uploads,
    pub media: Media,
    pub jobs: Jobs,
    pub transcoding: Transcoding,
    pub auth: Auth,
    pub federation: Federation,
    pub log: Log,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Server {
    pub listen: String,
    pub public_url: String,
    pub request_timeout_secs: u64,
    pub max_body_bytes: usize,
    pub list_cache_entries: usize,
    /// Reverse proxies (addresses or CIDR networks) whose forwarding header is believed.
    pub trusted_proxies: Vec<String>,
    /// The header those proxies write: `x-forwarded-for` or `forwarded` (RFC 7239).
    pub forwarded_header: String,
    pub header_timeout_secs: u64,
    pub max_connections: usize,
    pub max_connections_per_address: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Storage {
    pub data_dir: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Instance {
    pub name: String,
    pub short_description: String,
    pub description: String,
    pub terms: String,
    pub default_nsfw_policy: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Signup {
    pub enabled: bool,
    pub limit: i64,
    pub minimum_age: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UserDefaults {
    pub video_quota: i64,
    pub video_quota_daily: i64,
    pub max_channels: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Uploads {
    pub max_file_bytes: u64,
    pub resumable_expiry_hours: u64,
    pub body_idle_timeout_secs: u64,
    pub max_concurrent_per_user: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Media {
    pub max_width: u32,
    pub max_height: u32,
    pub max_duration_secs: u64,
    pub max_frames: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Jobs {
    pub workers: usize,
    pub nice: i32,
    pub max_queued_secs_per_user: i64,
    pub time_slice_secs: u64,
    pub budget_secs_per_video_sec: u64,
    pub budget_base_secs: u64,
    pub max_memory_mb: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Transcoding {
    pub enabled: bool,
    pub resolutions: Vec<u32>,
    pub speed: u8,
    pub quantizer: u16,
    pub fine_partitions: bool,
    pub fine_partitions_up_to: u32,
    pub web_videos: bool,
}

impl Media {
    pub fn limits(&self) -> crate::media::probe::Limits {
        crate::media::probe::Limits {
            max_width: self.max_width,
            max_height: self.max_height,
            max_duration_secs: self.max_duration_secs,
            max_frames: self.max_frames,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Auth {
    pub access_token_lifetime_secs: i64,
    pub refresh_token_lifetime_secs: i64,
    pub session_max_lifetime_secs: i64,
    pub login_max_failures: u32,
    pub login_max_failures_per_account: u32,
    pub login_max_failures_per_address: u32,
    pub login_window_secs: u64,
    pub signups_per_address: u32,
    pub max_concurrent_hashes: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Federation {
    pub enabled: bool,
    pub allow_private_addresses: bool,
    pub max_activity_bytes: usize,
    pub fetch_timeout_secs: u64,
    pub max_fetch_bytes: usize,
    pub delivery_concurrency: usize,
    pub delivery_give_up_hours: u64,
    pub delivery_first_retry_secs: u64,
    pub instance_followers: bool,
    pub followers_manual_approval: bool,
    pub remote_refresh_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Log {
    pub format: LogFormat,
    pub level: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            server: Server {
                listen: "127.0.0.1:9000".into(),
                public_url: String::new(),
                request_timeout_secs: 30,
                max_body_bytes: 1024 * 1024,
                list_cache_entries: 1024,
                trusted_proxies: Vec::new(),
                forwarded_header: "x-forwarded-for".into(),
                header_timeout_secs: 15,
                max_connections: 8192,
                max_connections_per_address: 256,
            },
            storage: Storage {
                data_dir: PathBuf::from("./vireo-data"),
            },
            instance: Instance {
                name: "Vireo".into(),
                short_description: "A Vireo video instance.".into(),
                description: String::new(),
                terms: String::new(),
                default_nsfw_policy: "do_not_list".into(),
            },
            signup: Signup {
                enabled: false,
                limit: -1,
                minimum_age: 16,
            },
            user: UserDefaults {
                video_quota: -1,
                video_quota_daily: -1,
                max_channels: 20,
            },
            uploads: Uploads {
                max_file_bytes: 8 * 1024 * 1024 * 1024,
                resumable_expiry_hours: 24 * 7,
                body_idle_timeout_secs: 60,
                max_concurrent_per_user: 4,
            },
            // Sized for the 2-core machine Vireo targets, where the default ladder encodes at
            // about a third of real time: four hours of video is half a day of work. The frame
            // limit is that duration at 60 fps, the ladder's highest rate.
            media: Media {
                max_width: 7680,
                max_height: 4320,
                max_duration_secs: 4 * 3600,
                max_frames: 4 * 3600 * 60,
            },
            jobs: Jobs {
                workers: 1,
                nice: 10,
                max_queued_secs_per_user: 4 * 3600,
                time_slice_secs: 120,
                budget_secs_per_video_sec: 30,
                budget_base_secs: 300,
                max_memory_mb: 4096,
            },
            // Why these: ARCHITECTURE.md, "The AV1 ladder".
            transcoding: Transcoding {
                enabled: true,
                resolutions: vec![1080, 720, 480, 360, 240],
                speed: 10,
                quantizer: 110,
                fine_partitions: false,
                fine_partitions_up_to: 0,
                web_videos: true,
            },
            auth: Auth {
                access_token_lifetime_secs: 24 * 3600,
                refresh_token_lifetime_secs: 14 * 24 * 3600,
                session_max_lifetime_secs: 30 * 24 * 3600,
                login_max_failures: 10,
                login_max_failures_per_account: 100,
                login_max_failures_per_address: 30,
                login_window_secs: 300,
                signups_per_address: 5,
                max_concurrent_hashes: 0,
            },
            // Fetch bounds as PeerTube's (7 s, about 3 MB); retries over a week, as Mastodon.
            federation: Federation {
                enabled: true,
                allow_private_addresses: false,
                max_activity_bytes: 1024 * 1024,
                fetch_timeout_secs: 10,
                max_fetch_bytes: 3 * 1024 * 1024,
                delivery_concurrency: 8,
                delivery_give_up_hours: 7 * 24,
                delivery_first_retry_secs: 30,
                instance_followers: true,
                followers_manual_approval: false,
                // PeerTube refreshes a remote video seen after two days.
                remote_refresh_secs: 2 * 24 * 3600,
            },
            log: Log {
                format: LogFormat::Pretty,
                level: "info".into(),
            },
        }
    }
}

impl Default for Server {
    fn default() -> Self {
        Config::default().server
    }
}
impl Default for Storage {
    fn default() -> Self {
        Config::default().storage
    }
}
impl Default for Instance {
    fn default() -> Self {
        Config::default().instance
    }
}
impl Default for Signup {
    fn default() -> Self {
        Config::default().signup
    }
}
impl Default for UserDefaults {
    fn default() -> Self {
        Config::default().user
    }
}
impl Default for Uploads {
    fn default() -> Self {
        Config::default().uploads
    }
}
impl Default for Media {
    fn default() -> Self {
        Config::default().media
    }
}
impl Default for Jobs {
    fn default() -> Self {
        Config::default().jobs
    }
}
impl Default for Transcoding {
    fn default() -> Self {
        Config::default().transcoding
    }
}
impl Default for Auth {
    fn default() -> Self {
        Config::default().auth
    }
}
impl Default for Federation {
    fn default() -> Self {
        Config::default().federation
    }
}
impl Default for Log {
    fn default() -> Self {
        Config::default().log
    }
}

/// What every setting does; also the comments of the generated example file.
pub const DOCS: &[(&str, &str)] = &[
    ("server", "The HTTP listener."),
    ("server.listen", "Address and port to listen on."),
    (
        "server.public_url",
        "URL users and peers reach this instance at; empty means http://<listen>.",
    ),
    (
        "server.request_timeout_secs",
        "A request that takes longer is answered 408 and dropped.",
    ),
    (
        "server.max_body_bytes",
        "Largest JSON or form body accepted (uploads have their own limit).",
    ),
    (
        "server.list_cache_entries",
        "Rendered public video lists kept for anonymous visitors (any write empties it); 0 disables.",
    ),
    (
        "server.trusted_proxies",
        "Reverse proxies you run, as addresses or networks (\"127.0.0.1\", \"10.0.0.0/8\", \"fd00::/8\"). A request from one of them is from the rightmost address in its forwarding header that is not one of them (what login throttling and view counting go by); their connections are not capped per address. Empty: headers are ignored.",
    ),
    (
        "server.forwarded_header",
        "The header your proxies write the client's address in: \"x-forwarded-for\" or \"forwarded\" (RFC 7239). Use the one they overwrite or append to, never one a client could send past them.",
    ),
    (
        "server.header_timeout_secs",
        "A connection whose request head (the first, or the next one on a kept-alive connection) has not arrived this long after connecting or after the last answer is closed.",
    ),
    (
        "server.max_connections",
        "Most client connections open at once (lowered to fit the open-file limit). Past it, the oldest connection that has sent no request yet is closed to make room; with none, the new one is refused.",
    ),
    (
        "server.max_connections_per_address",
        "Most connections open at once from one IPv4 address or IPv6 /64, with the same rule; 0 for no cap.",
    ),
    ("storage", "Where data lives."),
    (
        "storage.data_dir",
        "Directory for the database, media and the admin socket; created with mode 0700.",
    ),
    (
        "instance",
        "How the instance presents itself (GET /api/v1/config).",
    ),
    ("instance.name", "Instance name."),
    ("instance.short_description", "One-line description."),
    ("instance.description", "Longer description (Markdown)."),
    ("instance.terms", "Terms of service (Markdown)."),
    (
        "instance.default_nsfw_policy",
        "What anonymous visitors see of NSFW videos: display, blur or do_not_list.",
    ),
    (
        "signup",
        "Self-registration through POST /api/v1/users/register.",
    ),
    ("signup.enabled", "Allow anyone to register."),
    (
        "signup.limit",
        "Maximum number of users registration may reach; -1 for no limit.",
    ),
    (
        "signup.minimum_age",
        "Minimum age shown to people who register.",
    ),
    ("user", "Defaults for new users."),
    (
        "user.video_quota",
        "Total upload quota in bytes; -1 for unlimited.",
    ),
    (
        "user.video_quota_daily",
        "Upload quota per 24 hours in bytes; -1 for unlimited.",
    ),
    (
        "user.max_channels",
        "Most channels one user may own (PeerTube's video_channels.max_per_user).",
    ),
    ("uploads", "Video uploads."),
    (
        "uploads.max_file_bytes",
        "Largest video file accepted, in bytes.",
    ),
    (
        "uploads.resumable_expiry_hours",
        "An unfinished resumable upload untouched this long is deleted.",
    ),
    (
        "uploads.body_idle_timeout_secs",
        "An upload request whose body sends nothing for this long is ended (a resumable upload keeps what arrived).",
    ),
    (
        "uploads.max_concurrent_per_user",
        "Uploads one user may have in progress at once: single-request uploads being received, and resumable uploads touched in the last hour.",
    ),
    (
        "media",
        "Limits on uploaded media, checked from the file's headers before any decoding.",
    ),
    (
        "media.max_width",
        "Widest video accepted, in pixels (portrait videos are checked turned).",
    ),
    ("media.max_height", "Tallest video accepted, in pixels."),
    (
        "media.max_duration_secs",
        "Longest video accepted, in seconds.",
    ),
    ("media.max_frames", "Most video frames accepted."),
    (
        "jobs",
        "Background work (processing uploads), on threads apart from the HTTP server.",
    ),
    (
        "jobs.workers",
        "Jobs run at once (1 to 16); each processes one video.",
    ),
    (
        "jobs.nice",
        "Niceness of job threads (0 to 19): higher yields the CPU to the HTTP server first.",
    ),
    (
        "jobs.max_queued_secs_per_user",
        "Seconds of one user's video that may wait for (or be in) processing; a new upload past it is refused until some are ready. -1 for no limit.",
    ),
    (
        "jobs.budget_secs_per_video_sec",
        "A media job may run jobs.budget_base_secs plus this many seconds per second of its video (the default ladder takes about 3 on two cores); past it the job fails, saying so.",
    ),
    (
        "jobs.max_memory_mb",
        "A media job gives up, saying so, when the server's resident memory passes this while it runs (the default ladder of a 1080p upload needs a few hundred MB).",
    ),
    (
        "jobs.budget_base_secs",
        "The part of a media job's time budget that does not grow with the video's duration.",
    ),
    (
        "jobs.time_slice_secs",
        "A media job that has run this long gives its worker up when another user, who has used the workers less, has a job waiting; it resumes later where it stopped.",
    ),
    (
        "transcoding",
        "The AV1 ladder every H.264 or VP9 upload gets (an H.264 one after its remuxed copy is published).",
    ),
    (
        "transcoding.enabled",
        "Encode the AV1 renditions (the remuxed upload plays either way).",
    ),
    (
        "transcoding.resolutions",
        "Rungs by their shorter side (144 to 4320); none above the source's own. A source smaller than every rung, or an empty list, gets one rung at the source's own size (as PeerTube transcodes the original resolution when no resolution is chosen).",
    ),
    (
        "transcoding.speed",
        "rav1e speed preset, 0 (slowest, smallest) to 10 (fastest).",
    ),
    (
        "transcoding.quantizer",
        "rav1e base quantizer, 0 (best) to 255 (smallest).",
    ),
    (
        "transcoding.fine_partitions",
        "At speed 10, let rav1e split blocks down to 16x16 (speed 9's range): about 13-15 % fewer bytes at equal quality for 2.2x the encoding time (benches/README.md).",
    ),
    (
        "transcoding.fine_partitions_up_to",
        "The same, only for rungs whose shorter side is at most this (0: none); the small rungs lose most with 32x32 blocks and cost least (benches/README.md).",
    ),
    (
        "transcoding.web_videos",
        "Also write each rung as a progressive MP4 (PeerTube's web videos: downloads and players without HLS); it doubles the disk the rungs take.",
    ),
    ("auth", "Sessions and login protection."),
    (
        "auth.access_token_lifetime_secs",
        "Lifetime of an OAuth access token.",
    ),
    (
        "auth.refresh_token_lifetime_secs",
        "Lifetime of an OAuth refresh token.",
    ),
    (
        "auth.session_max_lifetime_secs",
        "A session ends this long after its login, however often its refresh token is used.",
    ),
    (
        "auth.login_max_failures",
        "Wrong passwords allowed per account and client address within the window (logins and the current-password checks of password and e-mail changes; an account is one, whether named by username or e-mail).",
    ),
    (
        "auth.login_max_failures_per_account",
        "Wrong passwords allowed per account from all addresses within the window; past it, only addresses that logged in to the account in the last 30 days may try.",
    ),
    (
        "auth.login_max_failures_per_address",
        "Wrong passwords allowed per client address over all accounts within the window.",
    ),
    (
        "auth.login_window_secs",
        "Length of the failed-login window.",
    ),
    (
        "auth.signups_per_address",
        "Registrations one client address may attempt within the window.",
    ),
    (
        "auth.max_concurrent_hashes",
        "Password hashes (about 20 ms and 19 MiB each) computed at once; others wait briefly, then get 429. 0 means one per CPU core.",
    ),
    (
        "federation",
        "ActivityPub: how this instance talks to other servers.",
    ),
    (
        "federation.enabled",
        "Talk to other servers. Off: nothing is fetched from or sent to them (follows and deliveries wait in the queue until it is on again) and the inbox refuses activities with 403.",
    ),
    (
        "federation.allow_private_addresses",
        "Let federation reach loopback, private and link-local addresses, over plain http and on any port. For tests and labs only: off, only public https hosts are fetched or delivered to.",
    ),
    (
        "federation.max_activity_bytes",
        "Largest activity an inbox accepts (413 above).",
    ),
    (
        "federation.fetch_timeout_secs",
        "How long a fetch of a remote actor or object, or a delivery, may take.",
    ),
    (
        "federation.max_fetch_bytes",
        "Largest remote document read; a larger one is refused.",
    ),
    (
        "federation.delivery_concurrency",
        "Deliveries to other servers in flight at once (one per server at a time); the federation chores (fetching a followed server's videos, say) get as many slots of their own.",
    ),
    (
        "federation.delivery_give_up_hours",
        "A delivery still failing after this long is dropped (retries back off exponentially).",
    ),
    (
        "federation.delivery_first_retry_secs",
        "How long after a failed delivery it is tried again; the wait doubles each time, to 12 hours at most.",
    ),
    (
        "federation.instance_followers",
        "Let other instances follow this instance (PeerTube's followers.instance.enabled); off, their follows are rejected. Follows of accounts and channels are always accepted.",
    ),
    (
        "federation.remote_refresh_secs",
        "A remote video shown this long after it was last fetched is fetched again from its origin (an edit or deletion it did not send is caught up).",
    ),
    (
        "federation.followers_manual_approval",
        "Hold other instances' follows of this instance until an administrator accepts them (PeerTube's followers.instance.manualApproval). Follows of accounts and channels are always accepted.",
    ),
    ("log", "Logging (RUST_LOG, when set, overrides the level)."),
    ("log.format", "pretty for people, json for log collectors."),
    (
        "log.level",
        "Default level: error, warn, info, debug or trace.",
    ),
];

/// Overrides from command-line flags, the last and strongest layer.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub listen: Option<String>,
    pub public_url: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub log_format: Option<LogFormat>,
}

/// Environment variables that are not settings but are read by name elsewhere.
const ENV_NOT_SETTINGS: &[&str] = &[
    "initial_admin_password",
    "initial_admin_password_file",
    "config",
    "admin_password",
];

impl Config {
    /// Build the configuration from every layer. `file` is `--config`; without it `vireo.toml` in
    /// the working directory is read when present.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) => {
                if !path.is_file() {
                    return Err(ConfigError::File {
                        path: path.to_owned(),
                        source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
                    });
                }
                fig = fig.merge(Toml::file_exact(path));
            }
            None if Path::new("vireo.toml").is_file() => {
                fig = fig.merge(Toml::file_exact("vireo.toml"));
            }
            None => {}
        }
        fig = fig.merge(
            Env::prefixed("VIREO_")
                .ignore(ENV_NOT_SETTINGS)
                // `…_FILE` names a file holding the value; read by `secret_files` below.
                .filter(|k| !k.as_str().to_ascii_lowercase().ends_with("_file"))
                .split("__"),
        );
        for (key, value) in secret_files()? {
            fig = fig.merge(Serialized::default(&key, value));
        }
        if let Some(v) = &overrides.listen {
            fig = fig.merge(Serialized::default("server.listen", v));
        }
        if let Some(v) = &overrides.public_url {
            fig = fig.merge(Serialized::default("server.public_url", v));
        }
        if let Some(v) = &overrides.data_dir {
            fig = fig.merge(Serialized::default("storage.data_dir", v));
        }
        if let Some(v) = overrides.log_format {
            fig = fig.merge(Serialized::default("log.format", v));
        }
        let config: Config = fig.extract()?;
        config.validate()?;
        Ok(config)
    }

    /// Checks the types alone cannot express.
    /// The parsed `server.trusted_proxies`.
    pub fn trusted_proxies(&self) -> Result<TrustedProxies, String> {
        TrustedProxies::parse(&self.server.trusted_proxies)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        if self.listen_addr().is_err() {
            return bad(format!(
                "server.listen = {:?} is not an address such as 127.0.0.1:9000",
                self.server.listen
            ));
        }
        let url = &self.server.public_url;
        if !url.is_empty() && !url.starts_with("http://") && !url.starts_with("https://") {
            return bad(format!(
                "server.public_url = {:?} must start with http:// or https://",
                self.server.public_url
            ));
        }
        if let Err(e) = self.trusted_proxies() {
            return bad(format!("server.trusted_proxies: {e}"));
        }
        if !["x-forwarded-for", "forwarded"].contains(&self.server.forwarded_header.as_str()) {
            return bad("server.forwarded_header must be x-forwarded-for or forwarded".into());
        }
        if self.user.max_channels == 0 {
            return bad("user.max_channels must be 1 or more".into());
        }
        if !["display", "blur", "do_not_list"].contains(&self.instance.default_nsfw_policy.as_str())
        {
            return bad("instance.default_nsfw_policy must be display, blur or do_not_list".into());
        }
        if self.auth.access_token_lifetime_secs <= 0
            || self.auth.refresh_token_lifetime_secs <= 0
            || self.auth.session_max_lifetime_secs <= 0
        {
            return bad("auth token and session lifetimes must be positive".into());
        }
        let a = &self.auth;
        if [
            a.login_max_failures,
            a.login_max_failures_per_account,
            a.login_max_failures_per_address,
            a.signups_per_address,
        ]
        .contains(&0)
            || a.login_window_secs == 0
        {
            return bad("the auth.login_* and auth.signups_per_address limits must be > 0".into());
        }
        if self.server.request_timeout_secs == 0 || self.server.max_body_bytes == 0 {
            return bad("server.request_timeout_secs and server.max_body_bytes must be > 0".into());
        }
        if self.uploads.body_idle_timeout_secs == 0 || self.uploads.max_concurrent_per_user == 0 {
            return bad(
                "uploads.body_idle_timeout_secs and uploads.max_concurrent_per_user must be > 0"
                    .into(),
            );
        }
        if self.server.header_timeout_secs == 0 || self.server.max_connections == 0 {
            return bad("server.header_timeout_secs and server.max_connections must be > 0".into());
        }
        self.validate_instance()?;
        self.validate_federation()?;
        if self.signup.limit < -1 || self.user.video_quota < -1 || self.user.video_quota_daily < -1
        {
            return bad(
                "signup.limit, user.video_quota and user.video_quota_daily must be -1 (no limit) or more".into(),
            );
        }
        if self.signup.minimum_age > 120 {
            return bad("signup.minimum_age must be 0 to 120".into());
        }
        if self.jobs.time_slice_secs == 0 {
            return bad("jobs.time_slice_secs must be > 0".into());
        }
        if self.jobs.max_queued_secs_per_user < -1 {
            return bad("jobs.max_queued_secs_per_user must be -1 (no limit) or more".into());
        }
        if !(1..=16).contains(&self.jobs.workers) || !(0..=19).contains(&self.jobs.nice) {
            return bad("jobs.workers must be 1 to 16 and jobs.nice 0 to 19".into());
        }
        self.validate_transcoding()
    }

    /// The instance's texts appear in every page's title and in federation: bounded, and the
    /// name on one line.
    fn validate_federation(&self) -> Result<(), ConfigError> {
        let f = &self.federation;
        if f.max_activity_bytes < 1024
            || f.max_fetch_bytes < 1024
            || f.fetch_timeout_secs == 0
            || f.delivery_concurrency == 0
            || f.delivery_give_up_hours == 0
            || f.delivery_first_retry_secs == 0
            || f.remote_refresh_secs == 0
        {
            return Err(ConfigError::Invalid(
                "federation: the byte limits must be at least 1024, the others above 0".into(),
            ));
        }
        Ok(())
    }

    fn validate_instance(&self) -> Result<(), ConfigError> {
        let i = &self.instance;
        let bad = |m: &str| Err(ConfigError::Invalid(m.into()));
        let chars = |s: &str| s.chars().count();
        if i.name.trim().is_empty() || chars(&i.name) > 120 || i.name.chars().any(char::is_control)
        {
            return bad("instance.name must be 1 to 120 characters on one line");
        }
        if chars(&i.short_description) > 250 || i.short_description.chars().any(char::is_control) {
            return bad("instance.short_description must be at most 250 characters on one line");
        }
        if chars(&i.description) > 100_000 || chars(&i.terms) > 100_000 {
            return bad(
                "instance.description and instance.terms must be at most 100 000 characters",
            );
        }
        // As every text of Vireo's: tabs and line breaks, but no other control character.
        let controls = |s: &str| {
            s.chars()
                .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        };
        if controls(&i.description) || controls(&i.terms) {
            return bad(
                "instance.description and instance.terms must not hold control characters other than tabs and line breaks",
            );
        }
        Ok(())
    }

    fn validate_transcoding(&self) -> Result<(), ConfigError> {
        let t = &self.transcoding;
        let bad = |m: &str| Err(ConfigError::Invalid(m.into()));
        if t.resolutions.iter().any(|r| !(144..=4320).contains(r)) {
            return bad("transcoding.resolutions must each be 144 to 4320");
        }
        if t.speed > 10 || t.quantizer > 255 {
            return bad("transcoding.speed must be 0 to 10 and transcoding.quantizer 0 to 255");
        }
        Ok(())
    }

    pub fn listen_addr(&self) -> Result<SocketAddr, std::net::AddrParseError> {
        self.server.listen.parse()
    }

    /// The public base URL without a trailing slash.
    pub fn public_url(&self) -> String {
        if self.server.public_url.is_empty() {
            format!("http://{}", self.server.listen)
        } else {
            self.server.public_url.trim_end_matches('/').to_owned()
        }
    }

    /// Host (and port) part of the public URL, as PeerTube reports `host` fields.
    pub fn public_host(&self) -> String {
        let url = self.public_url();
        let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(&url);
        rest.split('/').next().unwrap_or(rest).to_owned()
    }

    pub fn database_path(&self) -> PathBuf {
        self.storage.data_dir.join("vireo.redb")
    }

    pub fn admin_socket_path(&self) -> PathBuf {
        self.storage.data_dir.join("admin.sock")
    }

    /// The annotated example configuration: every key, its default and what it does.
    pub fn example_toml() -> String {
        let mut out = String::from(
            "# Vireo configuration: every setting with its default.\n\
             # Generated by `vireo config example`; do not edit by hand.\n\
             # Each key may also be set as VIREO_SECTION__KEY (or VIREO_SECTION__KEY_FILE).\n",
        );
        let value = toml::Value::try_from(Config::default())
            .unwrap_or_else(|_| toml::Value::Table(toml::map::Map::new()));
        let Some(sections) = value.as_table() else {
            return out;
        };
        for (section, body) in sections {
            out.push('\n');
            push_doc(&mut out, section);
            out.push_str(&format!("[{section}]\n"));
            for (key, v) in body.as_table().into_iter().flatten() {
                push_doc(&mut out, &format!("{section}.{key}"));
                out.push_str(&format!("{key} = {v}\n"));
            }
        }
        out
    }
}

fn push_doc(out: &mut String, key: &str) {
    if let Some((_, doc)) = DOCS.iter().find(|(k, _)| *k == key) {
        out.push_str(&format!("# {doc}\n"));
    }
}

/// `VIREO_SECTION__KEY_FILE=/path` → (`section.key`, contents of /path without the final newline).
fn secret_files() -> Result<Vec<(String, String)>, ConfigError> {
    let mut out = Vec::new();
    for (name, path) in std::env::vars() {
        let Some(rest) = name.strip_prefix("VIREO_") else {
            continue;
        };
        let Some(setting) = rest.strip_suffix("_FILE") else {
            continue;
        };
        if !setting.contains("__") {
            continue;
        }
        let key = setting.to_lowercase().replace("__", ".");
        let contents = std::fs::read_to_string(&path).map_err(|source| ConfigError::File {
            path: PathBuf::from(&path),
            source,
        })?;
        out.push((key, contents.trim_end_matches(['\n', '\r']).to_owned()));
    }
    Ok(out)
}

/// Read a bootstrap secret from `NAME` or from the file named by `NAME_FILE`.
pub fn env_secret(name: &str) -> Result<Option<String>, ConfigError> {
    if let Ok(v) = std::env::var(name) {
        return Ok(Some(v));
    }
    match std::env::var(format!("{name}_FILE")) {
        Ok(path) => std::fs::read_to_string(&path)
            .map(|s| Some(s.trim_end_matches(['\n', '\r']).to_owned()))
            .map_err(|source| ConfigError::File {
                path: PathBuf::from(path),
                source,
            }),
        Err(_) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_file_is_current() {
        let committed = include_str!("../packaging/vireo.example.toml");
        assert_eq!(
            committed,
            Config::example_toml(),
            "packaging/vireo.example.toml is stale: run `cargo run -- config example > packaging/vireo.example.toml`"
        );
    }

    #[test]
    fn every_setting_is_documented_and_example_parses_back() {
        let value = toml::Value::try_from(Config::default()).unwrap();
        for (section, body) in value.as_table().unwrap() {
            assert!(
                DOCS.iter().any(|(k, _)| k == section),
                "{section} undocumented"
            );
            for key in body.as_table().unwrap().keys() {
                let full = format!("{section}.{key}");
                assert!(DOCS.iter().any(|(k, _)| *k == full), "{full} undocumented");
            }
        }
        let parsed: Config = toml::from_str(&Config::example_toml()).unwrap();
        assert_eq!(parsed, Config::default());
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn layers_apply_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "custom.toml",
                "[server]\nlisten = \"127.0.0.1:7000\"\n[instance]\nname = \"File\"\n",
            )?;
            jail.set_env("VIREO_INSTANCE__NAME", "Env");
            let c = Config::load(Some(Path::new("custom.toml")), &Overrides::default())
                .map_err(|e| e.to_string())?;
            assert_eq!(c.server.listen, "127.0.0.1:7000");
            assert_eq!(c.instance.name, "Env");
            let flags = Overrides {
                listen: Some("127.0.0.1:7001".into()),
                ..Overrides::default()
            };
            let c =
                Config::load(Some(Path::new("custom.toml")), &flags).map_err(|e| e.to_string())?;
            assert_eq!(c.server.listen, "127.0.0.1:7001");
            jail.create_file("name.txt", "From file\n")?;
            jail.set_env("VIREO_INSTANCE__NAME_FILE", "name.txt");
            jail.set_env("VIREO_INITIAL_ADMIN_PASSWORD", "not a setting");
            let c = Config::load(None, &Overrides::default()).map_err(|e| e.to_string())?;
            assert_eq!(c.instance.name, "From file");
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn bad_values_are_named() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("bad.toml", "[server]\nlisten = \"nowhere\"\n")?;
            let e = Config::load(Some(Path::new("bad.toml")), &Overrides::default()).unwrap_err();
            assert!(e.to_string().contains("server.listen"), "{e}");
            jail.create_file("typo.toml", "[server]\nlistne = \"127.0.0.1:1\"\n")?;
            let e = Config::load(Some(Path::new("typo.toml")), &Overrides::default()).unwrap_err();
            assert!(e.to_string().contains("listne"), "{e}");
            Ok(())
        });
    }
}
