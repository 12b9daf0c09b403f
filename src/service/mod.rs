//! What Vireo does, independent of HTTP: users, sessions, channels and videos.
//!
//! Each operation validates its input, then makes its whole change in one redb write transaction
//! (enqueueing any follow-up job in that same transaction), then updates derived in-memory state
//! (the video catalogue). The HTTP API and the admin socket both call these functions, so the
//! rules live in one place.

pub mod catalog;
pub mod channels;
pub mod images;
pub mod ladder;
pub mod pipeline;
pub mod progress;
pub mod search;
pub mod sessions;
pub mod settings;
pub mod transcoding;
pub mod uploads;
pub mod users;
pub mod validate;
pub mod videos;
pub mod views;

use std::sync::Arc;

use crate::config::Config;
use crate::store::{Store, StoreError};

/// Why an operation was refused or failed. `api::error` maps each to a status and stable code.
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
    #[error("{0}")]
    Forbidden(String),
    /// The uploader's total or daily quota would be exceeded.
    #[error("{0}")]
    QuotaReached(String),
    /// The file is larger than the instance accepts.
    #[error("{0}")]
    FileTooLarge(String),
    /// The bytes are not media Vireo can take (wrong container, unsupported codec, over limits).
    #[error("{0}")]
    UnsupportedMedia(String),
    /// Temporarily unable to answer (the search index is being built).
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
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
    pub jobs_wake: crate::jobs::Wake,
    /// Videos being processed and how far they have got.
    pub progress: progress::Progress,
    /// Viewers being watched, and views counted but not yet stored.
    pub views: views::Views,
    /// The full-text index (derived from the store).
    pub search: crate::search::Search,
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
        let catalog = catalog::Catalog::load(&store)?;
        let (search, fresh) = crate::search::Search::open(&config.storage.data_dir.join("search"))
            .map_err(|e| ServiceError::Internal(e.to_string()))?;
        if fresh {
            // Before any job thread can claim one: the rebuild will cover them.
            self::search::drop_queued_updates(&store)?;
        }
        let settings = settings::Settings::open(config, &store)?;
        Ok(Arc::new(Core {
            store,
            settings,
            catalog,
            jobs_wake: crate::jobs::Wake::default(),
            progress: progress::Progress::default(),
            views: views::Views::default(),
            search,
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
