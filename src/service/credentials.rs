//! Where passwords are checked and hashed: logins (the OAuth password grant and the login form),
//! the current password a password or e-mail change needs, new passwords, registrations.
//!
//! Every check is counted by the throttle (`auth::throttle`) *before* argon2 runs, and at most
//! `auth.max_concurrent_hashes` hashes run at once: each costs ~20 ms of CPU and 19 MiB, so 200
//! logins at once would otherwise take 4 GB. Others wait for a slot a moment, then are refused as
//! busy (429) without being counted as a guess.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::sessions::{self, GrantError, Issued};
use super::{Core, Result, ServiceError, users};
use crate::auth::password;
use crate::auth::throttle::{Attempt, Limits, Subject, Throttle};
use crate::config::Config;
use crate::model::user::User;

/// The throttle and the hashing slots, each with its argon2 working memory.
#[derive(Debug)]
pub struct Credentials {
    throttle: Throttle,
    hashing: Arc<Semaphore>,
    /// The working memory of idle slots (made when first needed, then kept: at most one per
    /// slot).
    memories: Mutex<Vec<password::Memory>>,
}

/// How long a password check waits for a free hashing slot before it is refused as busy.
const HASH_QUEUE_WAIT: Duration = Duration::from_secs(10);

/// Longest login name and password looked at; longer ones are wrong without a hash.
const MAX_LOGIN_BYTES: usize = 400;
const MAX_PASSWORD_BYTES: usize = 1024;

impl Credentials {
    pub fn new(config: &Config) -> Credentials {
        let auth = &config.auth;
        let slots = match auth.max_concurrent_hashes {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        };
        Credentials {
            throttle: Throttle::new(Limits {
                window: Duration::from_secs(auth.login_window_secs),
                per_account_address: auth.login_max_failures as usize,
                per_account: auth.login_max_failures_per_account as usize,
                per_address: auth.login_max_failures_per_address as usize,
                signups_per_address: auth.signups_per_address as usize,
            }),
            hashing: Arc::new(Semaphore::new(slots)),
            memories: Mutex::new(Vec::new()),
        }
    }

    /// A hashing slot, waiting for one at most `HASH_QUEUE_WAIT`.
    async fn slot(&self) -> Result<Slot<'_>> {
        match tokio::time::timeout(HASH_QUEUE_WAIT, self.hashing.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(Slot {
                _permit: permit,
                memory: self
                    .memories
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .pop(),
                home: &self.memories,
            }),
            _ => Err(ServiceError::Throttled {
                message: "The server is busy checking passwords; please try again in a moment."
                    .into(),
                retry_after_secs: 5,
            }),
        }
    }
}

/// A hashing slot and its working memory, given back when the slot is.
struct Slot<'a> {
    _permit: OwnedSemaphorePermit,
    memory: Option<password::Memory>,
    home: &'a Mutex<Vec<password::Memory>>,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if let Some(memory) = self.memory.take() {
            self.home
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(memory);
        }
    }
}

impl Slot<'_> {
    /// Run `work` with this slot's memory on the blocking pool, and take the memory back.
    async fn run<T: Send + 'static>(
        &mut self,
        work: impl FnOnce(&mut password::Memory) -> T + Send + 'static,
    ) -> Result<T> {
        let mut memory = self.memory.take().unwrap_or_default();
        let (memory, result) = off_runtime(move || {
            let result = work(&mut memory);
            (memory, result)
        })
        .await?;
        self.memory = Some(memory);
        Ok(result)
    }
}

fn too_many(wait: Duration) -> GrantError {
    GrantError::Throttled(wait.as_secs().max(1))
}

/// Run argon2 work on the blocking pool.
async fn off_runtime<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ServiceError::internal("a password check stopped", e))
}

/// Check a login (username or e-mail) and password from `ip`, under the throttle.
pub async fn login(
    core: &Arc<Core>,
    ip: IpAddr,
    login: &str,
    password: String,
) -> Result<User, GrantError> {
    if login.len() > MAX_LOGIN_BYTES || password.len() > MAX_PASSWORD_BYTES {
        return Err(GrantError::BadCredentials);
    }
    let user = users::find_by_login(&core.store.read()?, login)?;
    let subject = match &user {
        Some(u) => Subject::User(u.id),
        None => Subject::Unknown(login.to_lowercase()),
    };
    let attempt = core
        .credentials
        .throttle
        .begin(subject, ip)
        .map_err(too_many)?;
    let (attempt, result) = checked_by_slot(core, attempt, move |memory| {
        verify_login(user, &password, memory)
    })
    .await?;
    match result {
        // The password was right: not a guess, even for a blocked user.
        Ok(_) | Err(GrantError::Blocked) => core.credentials.throttle.succeeded(attempt),
        Err(_) => drop(attempt),
    }
    result
}

/// Check a username and password from `ip` under the login throttle, and open a session: the
/// OAuth password grant, and the web UI's login form.
pub async fn log_in(
    core: &Arc<Core>,
    ip: IpAddr,
    login: &str,
    password: String,
) -> Result<Issued, GrantError> {
    let user = self::login(core, ip, login, password).await?;
    let core = core.clone();
    off_runtime(move || {
        users::touch_login(&core, user.id)?;
        sessions::issue(&core, user.id)
    })
    .await?
    .map_err(GrantError::from)
}

/// Run `check` in a hashing slot; a check refused as busy is not counted.
async fn checked_by_slot<T: Send + 'static>(
    core: &Arc<Core>,
    attempt: Attempt,
    check: impl FnOnce(&mut password::Memory) -> T + Send + 'static,
) -> Result<(Attempt, T)> {
    let mut slot = match core.credentials.slot().await {
        Ok(slot) => slot,
        Err(e) => {
            core.credentials.throttle.abandon(attempt);
            return Err(e);
        }
    };
    let result = slot.run(check).await?;
    Ok((attempt, result))
}

fn verify_login(
    user: Option<User>,
    password: &str,
    memory: &mut password::Memory,
) -> Result<User, GrantError> {
    match user {
        Some(u) if password::verify_with(password, &u.password_hash, memory) => {
            if u.blocked {
                Err(GrantError::Blocked)
            } else {
                Ok(u)
            }
        }
        Some(_) => Err(GrantError::BadCredentials),
        None => {
            // Spend the same time as a real check so response timing does not reveal which
            // usernames exist.
            let _ = password::verify_with(password, dummy_hash(), memory);
            Err(GrantError::BadCredentials)
        }
    }
}

/// A real argon2id hash of a random string, computed once, verified against when the user does
/// not exist.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        let random = crate::auth::secret::random_hex::<16>().unwrap_or_default();
        password::hash(&random).unwrap_or_default()
    })
}

/// Whether `password` is `user`'s current one (a password or e-mail change needs it), under
/// the same throttle as logins.
pub async fn check_current(
    core: &Arc<Core>,
    ip: IpAddr,
    user: &User,
    password: String,
) -> Result<bool> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Ok(false);
    }
    let attempt = core
        .credentials
        .throttle
        .begin(Subject::User(user.id), ip)
        .map_err(|wait| ServiceError::Throttled {
            message: "Too many wrong passwords, please try again later.".into(),
            retry_after_secs: wait.as_secs().max(1),
        })?;
    let hash = user.password_hash.clone();
    let (attempt, right) = checked_by_slot(core, attempt, move |memory| {
        password::verify_with(&password, &hash, memory)
    })
    .await?;
    if right {
        core.credentials.throttle.succeeded(attempt);
    }
    Ok(right)
}

/// Hash a new password in a hashing slot.
pub async fn hash(core: &Arc<Core>, password: String) -> Result<String> {
    let mut slot = core.credentials.slot().await?;
    let hashed = slot
        .run(move |memory| password::hash_with(&password, memory))
        .await?;
    hashed.map_err(|e| ServiceError::internal("hashing a password", e.to_string()))
}

/// Count a registration from `ip` before its password is hashed.
pub fn begin_signup(core: &Core, ip: IpAddr) -> Result<()> {
    core.credentials
        .throttle
        .begin_signup(ip)
        .map_err(|wait| ServiceError::Throttled {
            message: "Too many registrations from this address, please try again later.".into(),
            retry_after_secs: wait.as_secs().max(1),
        })
}
