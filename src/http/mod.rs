//! The HTTP glue every edge shares (`api/` for PeerTube's JSON, `web/` for pages, and next
//! `federation/`): the state handlers reach (`AppState`), the extractors that turn requests into
//! typed input or refuse them (`extract`), the one error type at the edge (`error`), who a
//! request is from, by bearer token or session cookie (`session`), reading bodies under
//! PeerTube's rules (`strict`), serving files (`files`), and
//! the anonymous list cache (`cache`). No rule lives here: the edges call `service/` for those.

pub mod cache;
pub mod error;
pub mod extract;
pub mod files;
pub mod hosts;
pub mod query;
pub mod session;
pub mod strict;
pub mod video_form;

use std::sync::Arc;

use crate::service::Core;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub core: Arc<Core>,
    pub list_cache: Arc<cache::ListCache>,
    /// Reused buffers for small byte ranges read in one go (`files`).
    pub range_reads: Arc<files::RangeBuffers>,
}

impl AppState {
    pub fn new(core: Arc<Core>) -> AppState {
        let list_cache = cache::ListCache::new(core.config().server.list_cache_entries);
        AppState {
            core,
            list_cache: Arc::new(list_cache),
            range_reads: Arc::new(files::RangeBuffers::default()),
        }
    }
}
