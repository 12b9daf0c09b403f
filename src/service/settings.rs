//! The instance settings an administrator may change while Vireo runs (the instance's name and
//! texts, sign-up, new users' quotas, the AV1 ladder), layered over the configuration file.
//!
//! The file and `VIREO_*` variables stay the base layer. What an administrator changes is kept in
//! redb (`meta/settings`) as only the keys that differ from the file, so a setting never touched
//! at run time still follows the file after the next restart, and "restore" simply forgets the
//! stored keys. Every reader takes the whole effective `Config` through `Core::config()`, so no
//! code can read a file value that a stored one has replaced.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};

use serde_json::Value;

use super::rights;
use super::{Core, Result, ServiceError};
use crate::config::Config;
use crate::model::user::User;
use crate::store::{Store, codec::Record, records};

/// The settings that may be changed at run time, as `section.key`. Everything else (addresses,
/// paths, limits the server is sized for, encoder tuning) needs the file and a restart.
pub const EDITABLE: &[&str] = &[
    "instance.name",
    "instance.short_description",
    "instance.description",
    "instance.terms",
    "instance.default_nsfw_policy",
    "signup.enabled",
    "signup.limit",
    "signup.minimum_age",
    "user.video_quota",
    "user.video_quota_daily",
    "uploads.max_concurrent_per_user",
    "jobs.max_queued_secs_per_user",
    "transcoding.enabled",
    "transcoding.resolutions",
    "transcoding.web_videos",
    "federation.instance_followers",
    "federation.followers_manual_approval",
];

const META_KEY: &str = "settings";

/// The stored layer: `section.key` → value, for the keys that differ from the file.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Stored(pub BTreeMap<String, Value>);

impl Record for Stored {
    const KIND: &'static str = "settings";
    const VERSION: u8 = 1;
}

/// The file's configuration, the effective one, and which keys the store overrides.
#[derive(Debug)]
pub struct Settings {
    file: Config,
    live: RwLock<Live>,
    /// Held across a change, so two administrators saving at once cannot interleave their
    /// store write and their swap of the live configuration.
    changing: Mutex<()>,
}

#[derive(Debug, Clone)]
struct Live {
    config: Arc<Config>,
    stored: Stored,
    /// Why the stored settings could not be applied at start, if they could not.
    problem: Option<String>,
}

impl Settings {
    /// The file's configuration with the stored settings applied. Stored settings that no longer
    /// make a valid configuration (say the file changed under them) are kept in the store but
    /// not applied, and `problem()` says why, so nothing is lost and Vireo still starts.
    pub fn open(file: Config, store: &Store) -> Result<Settings> {
        let stored: Stored = records::get_meta(&store.read()?, META_KEY)?.unwrap_or_default();
        let (config, problem) = match apply(&file, &stored) {
            Ok(c) => (c, None),
            Err(e) => {
                tracing::error!(error = %e, "the settings changed at run time are not applied");
                (file.clone(), Some(e.to_string()))
            }
        };
        Ok(Settings {
            file,
            live: RwLock::new(Live {
                config: Arc::new(config),
                stored,
                problem,
            }),
            changing: Mutex::new(()),
        })
    }

    /// The configuration in force.
    pub fn current(&self) -> Arc<Config> {
        self.read().config.clone()
    }

    /// The configuration from the file and environment alone.
    pub fn file(&self) -> &Config {
        &self.file
    }

    /// Whether `key` (`section.key`) is set at run time rather than by the file.
    pub fn is_overridden(&self, key: &str) -> bool {
        self.read().stored.0.contains_key(key)
    }

    /// Why the stored settings are not in force, when they could not be applied at start.
    pub fn problem(&self) -> Option<String> {
        self.read().problem.clone()
    }

    /// Change the editable settings with `edit`, check the result as the file is checked, and
    /// store what now differs from the file. Changes to other settings are dropped: `edit` sees
    /// the whole configuration only so that it can be written plainly.
    pub fn change(&self, store: &Store, edit: impl FnOnce(&mut Config)) -> Result<Arc<Config>> {
        let _one_at_a_time = self.changing.lock().unwrap_or_else(|p| p.into_inner());
        let mut next = (*self.current()).clone();
        edit(&mut next);
        let stored = difference(&self.file, &next)?;
        let config = apply(&self.file, &stored)
            .map_err(|e| ServiceError::invalid("settings", e.to_string()))?;
        self.commit(store, stored, config)
    }

    /// Forget every setting changed at run time: the file's values are in force again.
    pub fn restore_file(&self, store: &Store) -> Result<Arc<Config>> {
        let _one_at_a_time = self.changing.lock().unwrap_or_else(|p| p.into_inner());
        self.commit(store, Stored::default(), self.file.clone())
    }

    /// Store `stored` and put `config` in force. The swap happens inside the write transaction,
    /// before it commits: anything derived from the store's commit generation (the list cache)
    /// then never pairs the new generation with the old settings. A failed write puts the old
    /// settings back.
    fn commit(&self, store: &Store, stored: Stored, config: Config) -> Result<Arc<Config>> {
        let config = Arc::new(config);
        let before = self.read().clone();
        let result = store.write(|tx| {
            records::put_meta(tx, META_KEY, &stored)?;
            *self.write() = Live {
                config: config.clone(),
                stored: stored.clone(),
                problem: None,
            };
            Ok::<_, ServiceError>(())
        });
        if let Err(e) = result {
            *self.write() = before;
            return Err(e);
        }
        Ok(config)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Live> {
        self.live.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Live> {
        self.live.write().unwrap_or_else(|p| p.into_inner())
    }
}

/// The value at `section.key` in a serialised configuration.
fn at<'a>(config: &'a Value, key: &str) -> Option<&'a Value> {
    let (section, name) = key.split_once('.')?;
    config.get(section)?.get(name)
}

/// The editable keys whose value in `next` differs from the file's.
fn difference(file: &Config, next: &Config) -> Result<Stored> {
    let internal = |e: serde_json::Error| ServiceError::internal("encoding the settings", e);
    let file = serde_json::to_value(file).map_err(internal)?;
    let next = serde_json::to_value(next).map_err(internal)?;
    let mut out = BTreeMap::new();
    for key in EDITABLE {
        if let Some(v) = at(&next, key).filter(|v| at(&file, key) != Some(*v)) {
            out.insert((*key).to_owned(), v.clone());
        }
    }
    Ok(Stored(out))
}

/// Why stored settings cannot be applied to a file configuration.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("{0} cannot be changed at run time")]
    NotEditable(String),
    #[error("stored setting {key}: {source}")]
    Value {
        key: String,
        #[source]
        source: serde_json::Error,
    },
    #[error(transparent)]
    Invalid(#[from] crate::config::ConfigError),
}

/// `file` with the stored keys replaced, checked as a loaded file is.
fn apply(file: &Config, stored: &Stored) -> Result<Config, ApplyError> {
    let mut value = serde_json::to_value(file).map_err(|source| ApplyError::Value {
        key: String::new(),
        source,
    })?;
    for (key, v) in &stored.0 {
        let slot = match key.split_once('.') {
            Some((section, name)) if EDITABLE.contains(&key.as_str()) => value
                .get_mut(section)
                .and_then(|s| s.get_mut(name))
                .ok_or_else(|| ApplyError::NotEditable(key.clone()))?,
            _ => return Err(ApplyError::NotEditable(key.clone())),
        };
        *slot = v.clone();
    }
    let config: Config = serde_json::from_value(value).map_err(|source| ApplyError::Value {
        key: stored.0.keys().cloned().collect::<Vec<_>>().join(", "),
        source,
    })?;
    config.validate()?;
    Ok(config)
}

/// The heights PeerTube's clients offer as ladder rungs (PeerTube's `0p` audio-only file aside).
pub const PEERTUBE_RUNGS: &[u32] = &[144, 240, 360, 480, 720, 1080, 1440, 2160];

fn check_administrator(me: &User) -> Result<()> {
    match rights::can_manage_configuration(me) {
        true => Ok(()),
        false => Err(ServiceError::Forbidden(
            "Only administrators may change the instance's configuration.".into(),
        )),
    }
}

/// Change the run-time settings as `me`, an administrator (the API and the settings page).
pub fn change_as(core: &Core, me: &User, edit: impl FnOnce(&mut Config)) -> Result<Arc<Config>> {
    check_administrator(me)?;
    let config = core.settings.change(&core.store, edit)?;
    tracing::info!(admin = %me.username, "instance settings changed");
    Ok(config)
}

/// Forget the run-time settings as `me`, an administrator: the file's values apply again.
pub fn restore_file_as(core: &Core, me: &User) -> Result<Arc<Config>> {
    check_administrator(me)?;
    let config = core.settings.restore_file(&core.store)?;
    tracing::info!(admin = %me.username, "instance settings restored from the file");
    Ok(config)
}

/// Read the settings document as `me`, who must be an administrator.
pub fn read_as(core: &Core, me: &User) -> Result<Arc<Config>> {
    check_administrator(me)?;
    Ok(core.config())
}

/// The administrator's address, shown in PeerTube's `admin.email`: the root user's e-mail
/// (the instance's first administrator, who cannot be removed), so it is changed where that
/// user's e-mail is.
pub fn administrator_email(core: &Core) -> Result<String> {
    let tx = core.store.read()?;
    Ok(super::users::find_by_login(&tx, super::users::ROOT)?
        .map(|u| u.email)
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.redb")).unwrap();
        (dir, store)
    }

    #[test]
    fn only_what_differs_from_the_file_is_stored_and_survives_a_reopen() {
        let (_dir, store) = store();
        let s = Settings::open(Config::default(), &store).unwrap();
        s.change(&store, |c| {
            c.instance.name = "Birds".into();
            c.signup.enabled = Config::default().signup.enabled; // unchanged: not stored
            c.server.listen = "0.0.0.0:1".into(); // not editable: dropped
        })
        .unwrap();
        assert_eq!(s.current().instance.name, "Birds");
        assert_eq!(s.current().server.listen, Config::default().server.listen);
        assert!(s.is_overridden("instance.name"));
        assert!(!s.is_overridden("signup.enabled"));

        let again = Settings::open(Config::default(), &store).unwrap();
        assert_eq!(again.current().instance.name, "Birds");
        // A key changed back to the file's value is forgotten.
        again
            .change(&store, |c| c.instance.name = "Vireo".into())
            .unwrap();
        assert!(!again.is_overridden("instance.name"));
    }

    #[test]
    fn an_invalid_change_is_refused_and_changes_nothing() {
        let (_dir, store) = store();
        let s = Settings::open(Config::default(), &store).unwrap();
        let e = s
            .change(&store, |c| {
                c.instance.name = "Kept?".into();
                c.transcoding.resolutions = vec![100];
            })
            .unwrap_err();
        assert!(e.to_string().contains("transcoding.resolutions"), "{e}");
        assert_eq!(s.current().instance.name, "Vireo");
        let stored: Option<Stored> = records::get_meta(&store.read().unwrap(), META_KEY).unwrap();
        assert_eq!(stored, None);
    }

    #[test]
    fn stored_settings_that_no_longer_apply_are_kept_but_not_used() {
        let (_dir, store) = store();
        let bad = Stored(BTreeMap::from([
            ("server.listen".to_owned(), Value::from("0.0.0.0:80")),
            ("instance.name".to_owned(), Value::from("X")),
        ]));
        store
            .write(|tx| records::put_meta(tx, META_KEY, &bad))
            .unwrap();
        let s = Settings::open(Config::default(), &store).unwrap();
        assert_eq!(*s.current(), Config::default());
        assert!(s.problem().unwrap().contains("server.listen"));
        let kept: Option<Stored> = records::get_meta(&store.read().unwrap(), META_KEY).unwrap();
        assert_eq!(kept, Some(bad));

        let wrong_type = Stored(BTreeMap::from([(
            "signup.enabled".to_owned(),
            Value::from("yes"),
        )]));
        store
            .write(|tx| records::put_meta(tx, META_KEY, &wrong_type))
            .unwrap();
        let s = Settings::open(Config::default(), &store).unwrap();
        assert!(s.problem().is_some());
        s.restore_file(&store).unwrap();
        assert_eq!(s.problem(), None);
        assert_eq!(
            Settings::open(Config::default(), &store).unwrap().problem(),
            None
        );
    }
}
