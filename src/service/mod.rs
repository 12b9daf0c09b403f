//! What Vireo does, independent of HTTP: users, sessions, channels and videos.
//!
//! Each operation validates its input, then makes its whole change in one redb write transaction
//! (enqueueing any follow-up job in that same transaction), then updates derived in-memory state
//! (the video catalogue). The HTTP API and the admin socket both call these functions, so the
//! rules live in one place.

pub mod actors;
pub mod backoff;
pub mod blocklist;
pub mod catalog;
pub mod channels;
pub mod chores;
pub mod credentials;
pub mod deliveries;
pub mod delivery_hosts;
pub mod file_facts;
pub mod finder;
pub mod following;
pub mod follows;
pub mod images;
pub mod indexing;
pub mod keys;
pub mod ladder;
pub mod listing;
pub mod manage;
pub mod media_files;
pub mod outbox;
pub mod pipeline;
pub mod processing;
pub mod progress;
pub mod rates;
pub mod remote_actors;
pub mod remote_videos;
pub mod rights;
pub mod search;
pub mod seen;
pub mod sessions;
pub mod settings;
pub mod transcoding;
pub mod upload_limits;
pub mod uploads;
pub mod urls;
pub mod usage;
pub mod user_admin;
pub mod users;
pub mod validate;
pub mod videos;
pub mod views;
pub mod visibility;
pub mod wake;
pub mod work;

use std::sync::Arc;

use crate::config::Config;
use crate::store::{Store, StoreError};

/// Why an operation was refused or failed. `http::error` maps each to a status and stable code.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("{0}")]
    Conflict(String),
    /// Never allowed, whoever asks (removing the root user, …).
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Forbidden(String),
    /// Not allowed without logging in (or as this user): logging in may help.
    #[error("{0}")]
    Unauthorized(String),
    /// A change to one's own password or e-mail gave a wrong current password.
    #[error("currentPassword is invalid.")]
    CurrentPasswordInvalid,
    /// The uploader's total or daily quota would be exceeded.
    #[error("{0}")]
    QuotaReached(String),
    /// The file is larger than the instance accepts.
    #[error("{0}")]
    FileTooLarge(String),
    /// The bytes are not media Vireo can take (wrong container, unsupported codec, over limits).
    #[error("{0}")]
    UnsupportedMedia(String),
    /// The client announced a type of file Vireo does not take (an upload's
    /// `X-Upload-Content-Type`, a form part's `Content-Type`), refused before any byte is read.
    #[error("{0}")]
    UnsupportedType(String),
    /// Too much at once from one user (uploads in progress, video waiting to be processed):
    /// try again later.
    #[error("{message}")]
    Throttled {
        message: String,
        retry_after_secs: u64,
    },
    /// Temporarily unable to answer (the search index is being built).
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Something that should not fail did, while doing `context`; `cause` says why. Both are
    /// logged at the edge and never shown to a client.
    #[error("{context}: {cause}")]
    Internal {
        context: String,
        cause: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}

impl ServiceError {
    /// An internal failure while doing `context`, keeping its cause.
    pub fn internal(
        context: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        ServiceError::Internal {
            context: context.into(),
            cause: source.into(),
        }
    }

    /// The data directory is held by a running server.
    pub fn is_store_in_use(&self) -> bool {
        matches!(self, ServiceError::Store(StoreError::InUse { .. }))
    }

    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        ServiceError::Invalid {
            field,
            message: message.into(),
        }
    }
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// Everything the services need: the store, the configuration and derived state.
#[derive(Debug)]
pub struct Core {
    pub store: Store,
    /// The configuration: the file's, with what administrators changed at run time over it.
    /// Read it through `config()`.
    pub settings: settings::Settings,
    pub catalog: catalog::Catalog,
    /// Rung after a commit that enqueued a job.
    pub jobs_wake: wake::Wake,
    /// Rung after a commit that enqueued a delivery to another server.
    pub deliveries_wake: tokio::sync::Notify,
    /// Videos being processed and how far they have got.
    pub progress: progress::Progress,
    /// Login throttling and the slots password hashes run in.
    pub credentials: credentials::Credentials,
    /// Uploads a request is writing now (one at a time each).
    pub uploads_writing: std::sync::Arc<uploads::InFlight>,
    /// Single-request uploads being received, counted against their users' quotas.
    pub receiving: upload_limits::Receiving,
    /// Viewers being watched, and views counted but not yet stored.
    pub views: views::Views,
    /// The full-text index (derived from the store).
    pub search: crate::search::Search,
    /// The media jobs running now, and each account's share of the workers.
    pub work: work::Work,
    /// Set when the server stops: long jobs (the AV1 ladder) give up between two pictures and
    /// resume at the next start.
    pub stopping: std::sync::atomic::AtomicBool,
}

impl Core {
    /// Open the store in the configured data directory and rebuild derived state from it. A
    /// search index that must be rebuilt is left not ready (`search.is_ready()`); the server
    /// rebuilds it in the background (`search::rebuild_in_background`), `vireo reindex` at once.
    pub fn open(config: Config) -> Result<Arc<Core>> {
        let store = Store::open(&config.database_path())?;
        store.write(actors::reserve_instance_actor)?;
        let catalog = catalog::Catalog::load(&store)?;
        let (search, fresh) = crate::search::Search::open(&config.storage.data_dir.join("search"))
            .map_err(|e| ServiceError::internal("opening the search index", e))?;
        if fresh {
            // Before any job thread can claim one: the rebuild will cover them.
            self::search::drop_queued_updates(&store)?;
        }
        let credentials = credentials::Credentials::new(&config);
        let settings = settings::Settings::open(config, &store)?;
        Ok(Arc::new(Core {
            store,
            settings,
            catalog,
            jobs_wake: wake::Wake::default(),
            deliveries_wake: tokio::sync::Notify::new(),
            progress: progress::Progress::default(),
            receiving: upload_limits::Receiving::default(),
            uploads_writing: std::sync::Arc::new(uploads::InFlight::default()),
            credentials,
            views: views::Views::default(),
            search,
            work: work::Work::default(),
            stopping: std::sync::atomic::AtomicBool::new(false),
        }))
    }
}

impl Core {
    /// The configuration in force now. Take it once per operation: settings an administrator
    /// changes meanwhile apply to the next one.
    pub fn config(&self) -> Arc<Config> {
        self.settings.current()
    }

    /// A number that changes with every committed write: what was read at one value is still
    /// true while it stays the same (the anonymous list cache keys on it).
    pub fn generation(&self) -> u64 {
        self.store.generation()
    }
}

/// redb's own errors reach services through `StoreError`, so `?` works on table operations.
macro_rules! via_store_error {
    ($target:ty: $($source:ty),*) => {$(
        impl From<$source> for $target {
            fn from(e: $source) -> Self {
                <$target>::from($crate::store::StoreError::from(e))
            }
        }
    )*};
}
pub(crate) use via_store_error;

via_store_error!(ServiceError: redb::TableError, redb::StorageError, crate::store::CodecError);
