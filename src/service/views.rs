//! Counting views. The player reports where it is while it plays (`POST /videos/{id}/views`,
//! every few seconds, and once after a seek); a viewer's watch time grows by the forward steps
//! between two reports that the wall time between them allows, so a script cannot claim an hour
//! in one request. A view counts once the viewer has watched 30 seconds, or half of a shorter
//! video, and one viewer (one address) counts at most once per video per hour, as PeerTube
//! counts them.
//!
//! Viewers are tracked in memory only: they are short-lived and would cost a disk write per
//! report. Counted views are buffered and added to the videos in one store transaction every
//! few seconds (`flush`) and at shutdown, so a burst of viewers costs one commit, not one each.
//! A remote video's views are also sent to its origin (a `View` chore, in the same commit).
//! A federated local video's new count is sent to the servers that follow it as an `Update` of
//! the video (an outbox event, in the same commit), as PeerTube's origins send theirs: at once
//! for the first new views, then at most once per `VIEWS_UPDATE_EVERY` per video, so a popular
//! video costs its followers a fetch every few minutes, not one per view.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::catalog::{Change, Row};
use super::{Core, Result, channels, chores, outbox, videos};
use crate::model::federation::Chore;
use crate::model::now_ms;
use crate::store::{records, tables};

/// A viewer counts again for the same video after this long.
pub const VIEW_LIFETIME: Duration = Duration::from_secs(3600);
/// Watching this long counts a view (or half the video, when it is shorter than twice this).
const ENOUGH_WATCHING_SECS: f64 = 30.0;
/// At most this many viewers are tracked (about 100 bytes each); past it, new viewers are not
/// counted until old ones expire, rather than forgetting counted ones (which would count twice).
const MAX_VIEWERS: usize = 200_000;
/// A federated local video's views reach its followers' copies at most this often.
const VIEWS_UPDATE_EVERY: Duration = Duration::from_secs(300);
/// A report may move the position this much faster than the wall clock (playback at 2×, and
/// reports that leave late), plus a second of slack.
const FASTEST_PLAYBACK: f64 = 2.0;

/// One viewer of one video: who (a hash of their address) and which video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ViewerKey {
    pub video_id: u64,
    pub viewer: u64,
}

#[derive(Debug, Clone)]
struct Viewer {
    position: f64,
    seen: Instant,
    watched: f64,
    counted: Option<Instant>,
}

/// What the player reported.
#[derive(Debug, Clone, Copy)]
pub struct Report {
    /// Where playback is, in seconds.
    pub position: f64,
    /// The viewer jumped there: the step from the last position is not watching.
    pub seek: bool,
}

#[derive(Debug, Default)]
pub struct Views {
    /// Keyed per process: viewers are told apart without keeping their addresses.
    hasher: std::hash::RandomState,
    viewers: Mutex<HashMap<ViewerKey, Viewer>>,
    /// Views counted and not yet in the store, by video.
    pending: Mutex<HashMap<u64, u64>>,
    /// When each federated local video's count was last sent to its followers, and the videos
    /// whose newer views wait for their next turn.
    sent: Mutex<Sent>,
}

#[derive(Debug, Default)]
struct Sent {
    at: HashMap<u64, Instant>,
    owed: HashSet<u64>,
}

impl Sent {
    /// Whether video `id`'s new count goes out now; if not, it is owed for a later flush.
    fn turn(&mut self, id: u64, now: Instant) -> bool {
        let due = self.is_due(id, now);
        if due {
            self.at.insert(id, now);
            self.owed.remove(&id);
        } else {
            self.owed.insert(id);
        }
        due
    }

    /// The owed videos whose turn has come.
    fn due(&self, now: Instant) -> Vec<u64> {
        self.owed
            .iter()
            .copied()
            .filter(|id| self.is_due(*id, now))
            .collect()
    }

    /// Whether video `id` has had no turn within the last `VIEWS_UPDATE_EVERY`.
    fn is_due(&self, id: u64, now: Instant) -> bool {
        self.at
            .get(&id)
            .is_none_or(|at| now.duration_since(*at) >= VIEWS_UPDATE_EVERY)
    }

    /// Forget turns long past (their videos' next views go out at once anyway).
    fn expire(&mut self, now: Instant) {
        self.at
            .retain(|_, at| now.duration_since(*at) < VIEWS_UPDATE_EVERY);
    }
}

impl Views {
    /// The key of the viewer at `address` watching `video_id`.
    pub fn viewer(&self, video_id: u64, address: std::net::IpAddr) -> ViewerKey {
        use std::hash::BuildHasher;
        ViewerKey {
            video_id,
            viewer: self.hasher.hash_one(address),
        }
    }

    /// Take a report of a video `duration_secs` long; true when it counted a view.
    pub fn report(&self, key: ViewerKey, duration_secs: f64, r: Report, now: Instant) -> bool {
        let mut viewers = self.viewers.lock().unwrap_or_else(|p| p.into_inner());
        if viewers.len() >= MAX_VIEWERS && !viewers.contains_key(&key) {
            expire(&mut viewers, now);
            if viewers.len() >= MAX_VIEWERS {
                return false;
            }
        }
        let v = viewers.entry(key).or_insert(Viewer {
            position: r.position,
            seen: now,
            watched: 0.0,
            counted: None,
        });
        if v.counted
            .is_some_and(|at| now.duration_since(at) >= VIEW_LIFETIME)
        {
            v.counted = None;
            v.watched = 0.0;
        }
        let step = r.position - v.position;
        let allowed = now.duration_since(v.seen).as_secs_f64() * FASTEST_PLAYBACK + 1.0;
        if !r.seek && step > 0.0 && step <= allowed {
            v.watched += step;
        }
        v.position = r.position;
        v.seen = now;
        let enough = ENOUGH_WATCHING_SECS.min(duration_secs / 2.0);
        if v.counted.is_some() || v.watched < enough {
            return false;
        }
        v.counted = Some(now);
        drop(viewers);
        *self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key.video_id)
            .or_default() += 1;
        true
    }

    /// Count a view another server reports (an ActivityPub `View`), stored with the next flush.
    pub fn add_remote(&self, video_id: u64) {
        *self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(video_id)
            .or_default() += 1;
    }

    /// Forget viewers gone for longer than a view's lifetime.
    pub fn expire(&self, now: Instant) {
        expire(
            &mut self.viewers.lock().unwrap_or_else(|p| p.into_inner()),
            now,
        );
    }

    fn take_pending(&self) -> HashMap<u64, u64> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn put_back(&self, counts: HashMap<u64, u64>) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        for (id, n) in counts {
            *pending.entry(id).or_default() += n;
        }
    }
}

fn expire(viewers: &mut HashMap<ViewerKey, Viewer>, now: Instant) {
    viewers.retain(|_, v| {
        let last = v.counted.map_or(v.seen, |c| c.max(v.seen));
        now.duration_since(last) < VIEW_LIFETIME
    });
}

/// Add the views counted since the last flush to their videos, in one transaction; the number
/// of views written. Views of videos deleted meanwhile are dropped; on a store error they are
/// kept for the next flush.
pub fn flush(core: &Core) -> Result<u64> {
    let counts = core.views.take_pending();
    let now = Instant::now();
    let owed = {
        let mut sent = core.views.sent.lock().unwrap_or_else(|p| p.into_inner());
        sent.expire(now);
        sent.due(now)
    };
    if counts.is_empty() && owed.is_empty() {
        return Ok(0);
    }
    let mut told = false;
    let written = core.catalog.write(|| {
        core.store.write(|tx| {
            let mut changes = Vec::new();
            let mut written = 0;
            for id in owed.iter().filter(|id| !counts.contains_key(id)) {
                if let Some(video) = videos::get(tx, *id)? {
                    told |= send_count(core, tx, &video, now)?;
                }
            }
            for (&id, &n) in &counts {
                let Some(mut video) = videos::get(tx, id)? else {
                    continue;
                };
                video.views = video.views.saturating_add(n);
                records::put(tx, tables::VIDEOS, id, &video)?;
                told |= send_count(core, tx, &video, now)?;
                // A remote video's views count on its origin too (which sends its own count
                // back with its next Update).
                if let Some(remote) = &video.remote {
                    let count = u32::try_from(n).unwrap_or(u32::MAX);
                    let chore = Chore::View {
                        video: remote.url.clone(),
                        count,
                    };
                    chores::enqueue(tx, chore, now_ms())?;
                    told = true;
                }
                let account = channels::get(tx, video.channel_id)?.map_or(0, |c| c.account_id);
                changes.push(Change::Upsert(Row::new(&video, account)));
                written += n;
            }
            Ok((written, changes))
        })
    });
    if written.is_err() {
        core.views.put_back(counts);
    }
    if told {
        core.deliveries_wake.notify_one();
    }
    written
}

/// Send a federated local video's new view count to its followers (an `Update`), if its turn
/// has come; true when one was queued.
fn send_count(
    core: &Core,
    tx: &redb::WriteTransaction,
    video: &crate::model::video::Video,
    now: Instant,
) -> Result<bool> {
    if !outbox::is_federated(video) {
        return Ok(false);
    }
    let due = core
        .views
        .sent
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .turn(video.id, now);
    if !due {
        return Ok(false);
    }
    let account = channels::get(tx, video.channel_id)?.map_or(0, |c| c.account_id);
    outbox::video_changed(tx, true, video, false, account, now_ms())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: ViewerKey = ViewerKey {
        video_id: 7,
        viewer: 1,
    };

    fn at(r: f64) -> Report {
        Report {
            position: r,
            seek: false,
        }
    }

    #[test]
    fn a_video_s_count_goes_to_its_followers_at_once_then_once_per_turn() {
        let mut sent = Sent::default();
        let t0 = Instant::now();
        assert!(sent.turn(1, t0));
        // Newer views within the turn wait, owed; another video goes at once.
        assert!(!sent.turn(1, t0 + Duration::from_secs(10)));
        assert!(sent.turn(2, t0 + Duration::from_secs(10)));
        assert!(sent.due(t0 + Duration::from_secs(20)).is_empty());
        let later = t0 + VIEWS_UPDATE_EVERY;
        assert_eq!(sent.due(later), [1]);
        assert!(sent.turn(1, later));
        assert!(sent.due(later).is_empty());
        // Turns long past are forgotten: the next views go out at once.
        sent.expire(later + VIEWS_UPDATE_EVERY);
        assert!(sent.at.is_empty());
    }

    #[test]
    fn thirty_seconds_of_watching_count_once_per_hour() {
        let views = Views::default();
        let t0 = Instant::now();
        let secs = |s: u64| t0 + Duration::from_secs(s);
        let mut counted = 0;
        for s in (0..=40).step_by(5) {
            counted += u32::from(views.report(KEY, 600.0, at(s as f64), secs(s)));
        }
        assert_eq!(counted, 1);
        assert_eq!(views.take_pending(), HashMap::from([(7, 1)]));
        // Still watching, or back within the hour: no second view.
        assert!(!views.report(KEY, 600.0, at(100.0), secs(100)));
        // After the hour, another 30 s count again.
        let later = 3700;
        let mut again = false;
        for s in (0..=35).step_by(5) {
            again |= views.report(KEY, 600.0, at(s as f64), secs(later + s));
        }
        assert!(again);
    }

    #[test]
    fn seeks_and_impossible_jumps_are_not_watching() {
        let views = Views::default();
        let t0 = Instant::now();
        assert!(!views.report(KEY, 600.0, at(0.0), t0));
        // Claiming 500 s of progress after 5 s of wall time counts for nothing.
        assert!(!views.report(KEY, 600.0, at(500.0), t0 + Duration::from_secs(5)));
        // A seek forward is not watching either.
        let seek = Report {
            position: 560.0,
            seek: true,
        };
        assert!(!views.report(KEY, 600.0, seek, t0 + Duration::from_secs(40)));
        assert!(views.take_pending().is_empty());
    }

    #[test]
    fn half_of_a_short_video_is_enough() {
        let views = Views::default();
        let t0 = Instant::now();
        assert!(!views.report(KEY, 8.0, at(0.0), t0));
        assert!(!views.report(KEY, 8.0, at(3.0), t0 + Duration::from_secs(3)));
        assert!(views.report(KEY, 8.0, at(4.5), t0 + Duration::from_millis(4500)));
    }

    #[test]
    fn gone_viewers_expire_and_memory_stays_bounded() {
        let views = Views::default();
        let t0 = Instant::now();
        views.report(KEY, 600.0, at(0.0), t0);
        views.expire(t0 + VIEW_LIFETIME + Duration::from_secs(1));
        assert!(views.viewers.lock().unwrap().is_empty());
    }
}
