//! What the instance reports about itself to other servers (NodeInfo's `usage`, `openRegistrations`):
//! how many users it has and how many were active lately, how many local videos it shows.
//! Counted from the stored users and the in-memory catalogue on each request; NodeInfo is fetched
//! rarely (crawlers, a peer's first contact), and a scan of the users is cheap beside a network
//! round trip.

use super::{Core, Result};
use crate::model::user::User;
use crate::model::video::Privacy;
use crate::store::{records, tables};

/// A month and half a year, as NodeInfo's `activeMonth` and `activeHalfyear` count them.
const MONTH_MS: i64 = 30 * 24 * 3600 * 1000;
const HALF_YEAR_MS: i64 = 180 * 24 * 3600 * 1000;

/// The instance's figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    pub users: u64,
    /// Users who logged in within the last 30 days.
    pub active_month: u64,
    /// Users who logged in within the last 180 days.
    pub active_half_year: u64,
    /// Local videos anyone may find: published and public.
    pub local_videos: u64,
    pub open_registrations: bool,
}

/// The figures now.
pub fn usage(core: &Core) -> Result<Usage> {
    let users: Vec<User> = records::all(&core.store.read()?, tables::USERS)?;
    let now = crate::model::now_ms();
    let active_within = |span: i64| {
        users
            .iter()
            .filter(|u| u.last_login_ms.is_some_and(|t| now - t <= span))
            .count() as u64
    };
    let local_videos = core
        .catalog
        .ids_where(|r| r.is_local && r.privacy == Privacy::Public && r.is_listable_state())
        .len() as u64;
    Ok(Usage {
        users: users.len() as u64,
        active_month: active_within(MONTH_MS),
        active_half_year: active_within(HALF_YEAR_MS),
        local_videos,
        open_registrations: core.config().signup.enabled,
    })
}
