//! Users as people manage them, with PeerTube's rules on who may do what: administrators and
//! moderators create, change, block and remove users ranked below them (`rights`);
//! anyone may sign up while the instance allows it; a user changes their own profile, and
//! their password or e-mail with the current password. Passwords are hashed in a hashing
//! slot (`credentials`) before the change's transaction. The API, the web UI and the admin
//! pages all come through here.

use std::net::IpAddr;
use std::sync::Arc;

use super::rights;
use super::users::{self, AdminUpdate, NewUser, SelfUpdate};
use super::{Core, Result, ServiceError, credentials, validate};
use crate::model::account::Account;
use crate::model::channel::Channel;
use crate::model::user::{Role, User};

/// A user an administrator or moderator creates.
#[derive(Debug, Clone)]
pub struct CreateUser {
    pub username: String,
    pub password: String,
    pub email: String,
    pub role: Role,
    /// The instance's default when `None`.
    pub video_quota: Option<i64>,
    pub video_quota_daily: Option<i64>,
    pub channel_name: Option<String>,
}

fn no_right(me: &User) -> ServiceError {
    ServiceError::Forbidden(format!(
        "User {} does not have right to access to /api/v1/users.",
        me.username
    ))
}

/// May `me` list and manage users at all?
pub fn check_manager(me: &User) -> Result<()> {
    match rights::can_manage_users(me) {
        true => Ok(()),
        false => Err(no_right(me)),
    }
}

/// Create a user as an administrator or moderator.
pub async fn create(core: &Arc<Core>, me: &User, new: CreateUser) -> Result<(User, Account)> {
    check_manager(me)?;
    if !rights::can_grant_role(me, new.role) {
        return Err(ServiceError::Forbidden(
            "You can only create users with the User role".into(),
        ));
    }
    validate::password(&new.password)?;
    if new.channel_name.as_deref() == Some(new.username.as_str()) {
        return Err(ServiceError::invalid(
            "channelName",
            "Channel name cannot be the same as user username.",
        ));
    }
    let defaults = core.config().user.clone();
    let user = NewUser {
        username: new.username,
        email: new.email,
        password_hash: String::new(),
        role: new.role,
        video_quota: new.video_quota.unwrap_or(defaults.video_quota),
        video_quota_daily: new.video_quota_daily.unwrap_or(defaults.video_quota_daily),
        display_name: None,
        channel_display_name: new.channel_name.clone(),
        channel_name: new.channel_name,
        email_verified: false,
    };
    users::validate_new(&user)?;
    let password_hash = credentials::hash(core, new.password).await?;
    let core = core.clone();
    let (user, account, _) = off_runtime(move || {
        users::create(
            &core,
            NewUser {
                password_hash,
                ..user
            },
        )
    })
    .await?;
    Ok((user, account))
}

/// User `id` if `me` may manage them (`rights::can_manage_user`).
pub fn managed(core: &Core, me: &User, id: u64) -> Result<User> {
    check_manager(me)?;
    let target = users::by_id(core, id)?;
    if !rights::can_manage_user(me, &target) {
        return Err(ServiceError::Forbidden(
            "Moderators can only manage users with the user role".into(),
        ));
    }
    Ok(target)
}

/// How many videos `target` has, for the statistics a moderator may see of a user
/// (`withStats`); `None` for anyone else.
pub fn videos_count_for(core: &Core, me: &User, target: &User) -> Option<u64> {
    rights::can_manage_users(me).then(|| {
        let account = target.account_id;
        core.catalog.ids_where(|r| r.account_id == account).len() as u64
    })
}

/// What an administrator or moderator changes about a user; the password in clear.
#[derive(Debug, Clone, Default)]
pub struct ChangeUser {
    pub email: Option<String>,
    pub email_verified: Option<bool>,
    pub video_quota: Option<i64>,
    pub video_quota_daily: Option<i64>,
    pub role: Option<Role>,
    pub password: Option<String>,
}

/// Change user `id` as one who may manage them.
pub async fn change(core: &Arc<Core>, me: &User, id: u64, up: ChangeUser) -> Result<()> {
    let target = managed(core, me, id)?;
    if let Some(r) = up.role {
        if target.username == users::ROOT && r != Role::Administrator {
            return Err(ServiceError::Refused("Cannot change root role.".into()));
        }
        if !rights::can_grant_role(me, r) {
            return Err(ServiceError::Forbidden("You cannot give this role".into()));
        }
    }
    if let Some(p) = &up.password {
        validate::password(p)?;
    }
    let password_hash = match up.password {
        Some(p) => Some(credentials::hash(core, p).await?),
        None => None,
    };
    let core = core.clone();
    off_runtime(move || {
        let change = AdminUpdate {
            email: up.email,
            email_verified: up.email_verified,
            video_quota: up.video_quota,
            video_quota_daily: up.video_quota_daily,
            role: up.role,
            password_hash,
            blocked: None,
        };
        users::update(&core, target.id, change).map(drop)
    })
    .await
}

/// Remove user `id` as one who may manage them (never oneself here, never root).
pub fn remove(core: &Core, me: &User, id: u64) -> Result<()> {
    if id == me.id && rights::can_manage_users(me) {
        return Err(ServiceError::Refused(
            if me.username == users::ROOT {
                "Cannot remove the root user"
            } else {
                "You cannot delete your own account here"
            }
            .into(),
        ));
    }
    let target = managed(core, me, id)?;
    users::delete(core, target.id)
}

/// Block (with an optional reason) or unblock user `id` as one who may manage them. Blocking
/// ends the user's sessions.
pub fn set_blocked(
    core: &Core,
    me: &User,
    id: u64,
    blocked: bool,
    reason: Option<String>,
) -> Result<()> {
    let target = managed(core, me, id)?;
    // Administrators manage themselves, but a block would lock them out at once.
    if blocked && target.id == me.id {
        return Err(ServiceError::Refused("You cannot block yourself".into()));
    }
    if let Some(r) = &reason {
        validate::name("reason", r, 3, 250)?;
    }
    let up = AdminUpdate {
        blocked: Some((blocked, reason)),
        ..AdminUpdate::default()
    };
    users::update(core, target.id, up).map(drop)
}

/// A self-registration.
#[derive(Debug, Clone)]
pub struct SignUp {
    pub username: String,
    pub password: String,
    pub email: String,
    pub display_name: Option<String>,
    /// The first channel's name and display name.
    pub channel: Option<(String, String)>,
}

/// Create an account by self-registration from `ip`, under the instance's sign-up rules: open
/// or not, the most users it takes (checked in the creating transaction), and the per-address
/// throttle, counted before the password is hashed.
pub async fn sign_up(core: &Arc<Core>, new: SignUp, ip: IpAddr) -> Result<()> {
    let signup = core.config().signup.clone();
    if !signup.enabled {
        return Err(ServiceError::Forbidden(
            "User registration is not allowed".into(),
        ));
    }
    validate::password(&new.password)?;
    if let Some((name, _)) = &new.channel
        && *name == new.username
    {
        return Err(ServiceError::invalid(
            "channel.name",
            "Channel name cannot be the same as user username.",
        ));
    }
    let defaults = core.config().user.clone();
    let (channel_name, channel_display_name) = new.channel.unzip();
    let user = NewUser {
        username: new.username,
        email: new.email,
        password_hash: String::new(),
        role: Role::User,
        video_quota: defaults.video_quota,
        video_quota_daily: defaults.video_quota_daily,
        display_name: new.display_name,
        channel_name,
        channel_display_name,
        email_verified: false,
    };
    users::validate_new(&user)?;
    // A negative limit means none.
    let max_users = u64::try_from(signup.limit).ok();
    if max_users.is_some_and(|max| users::total(core).is_ok_and(|n| n >= max)) {
        // Refused early, before a hashing slot is spent; checked again when creating.
        return Err(ServiceError::Forbidden(
            "User registration is not allowed".into(),
        ));
    }
    credentials::begin_signup(core, ip)?;
    let password_hash = credentials::hash(core, new.password).await?;
    let core = core.clone();
    off_runtime(move || {
        let user = NewUser {
            password_hash,
            ..user
        };
        match max_users {
            Some(max) => users::create_within(&core, user, max),
            None => users::create(&core, user),
        }
        .map(drop)
    })
    .await
}

/// Who changes their own account: from which address (for the password throttle), and in
/// which session (the one a password change keeps).
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    pub ip: IpAddr,
    pub session: Option<&'a str>,
}

/// What a user changes about themself; passwords in clear.
#[derive(Debug, Clone, Default)]
pub struct ChangeMe {
    pub display_name: Option<String>,
    /// `Some(None)` clears it.
    pub description: Option<Option<String>>,
    pub nsfw_policy: Option<String>,
    pub p2p_enabled: Option<bool>,
    pub auto_play_video: Option<bool>,
    /// `Some(None)` goes back to every language.
    pub video_languages: Option<Option<Vec<String>>>,
    /// Checked against the instance's themes; with one theme there is nothing to store.
    pub theme: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
    pub current_password: Option<String>,
}

/// Change one's own profile, settings or password. A new password or e-mail needs the current
/// password (checked under the login throttle); a new password ends every other session.
pub async fn change_me(
    core: &Arc<Core>,
    me: &User,
    up: ChangeMe,
    caller: Caller<'_>,
) -> Result<()> {
    if up.password.is_some() || up.email.is_some() {
        let Some(current) = up.current_password.clone() else {
            return Err(ServiceError::invalid(
                "currentPassword",
                "currentPassword parameter is missing",
            ));
        };
        if !credentials::check_current(core, caller.ip, me, current).await? {
            return Err(ServiceError::CurrentPasswordInvalid);
        }
    }
    if let Some(p) = &up.password {
        validate::password(p)?;
    }
    if let Some(Some(languages)) = &up.video_languages {
        validate::languages("videoLanguages", languages)?;
    }
    if let Some(theme) = &up.theme {
        validate::theme(theme)?;
    }
    let password_hash = match up.password {
        Some(p) => Some(credentials::hash(core, p).await?),
        None => None,
    };
    let core = core.clone();
    let id = me.id;
    let keep_session = caller.session.map(str::to_owned);
    off_runtime(move || {
        let change = SelfUpdate {
            display_name: up.display_name,
            description: up.description,
            nsfw_policy: up.nsfw_policy,
            auto_play_video: up.auto_play_video,
            p2p_enabled: up.p2p_enabled,
            video_languages: up.video_languages,
            email: up.email,
            password_hash,
            keep_session,
        };
        users::update_me(&core, id, change).map(drop)
    })
    .await
}

/// A user the instance's operator creates (`vireo admin user create`): trusted, since it needs
/// the data directory; the password is generated when not given and then returned, to be shown
/// once. Blocking (argon2, the commit).
pub fn operator_create(
    core: &Core,
    username: String,
    email: String,
    password: Option<String>,
    role: Role,
) -> Result<(User, Channel, Option<String>)> {
    let (password, generated) = match password {
        Some(p) => (p, false),
        None => (random_password()?, true),
    };
    let new = NewUser {
        username,
        email,
        password_hash: hash_now(&password)?,
        role,
        video_quota: core.config().user.video_quota,
        video_quota_daily: core.config().user.video_quota_daily,
        display_name: None,
        channel_name: None,
        channel_display_name: None,
        email_verified: true,
    };
    let (user, _, channel) = users::create(core, new)?;
    Ok((user, channel, generated.then_some(password)))
}

/// Set a user's password as the operator (`vireo admin user passwd`); their sessions end.
/// Blocking (argon2, the commit).
pub fn operator_set_password(core: &Core, login: &str, password: &str) -> Result<User> {
    let user = users::by_login(core, login)?;
    let up = AdminUpdate {
        password_hash: Some(hash_now(password)?),
        ..AdminUpdate::default()
    };
    users::update(core, user.id, up)
}

/// Set a user's role as the operator (`vireo admin user role`); root stays an administrator.
pub fn operator_set_role(core: &Core, login: &str, role: Role) -> Result<User> {
    let user = users::by_login(core, login)?;
    let up = AdminUpdate {
        role: Some(role),
        ..AdminUpdate::default()
    };
    users::update(core, user.id, up)
}

fn random_password() -> Result<String> {
    crate::auth::secret::random_password()
        .map_err(|e| ServiceError::internal("making a password", e.to_string()))
}

/// Hash a password on this thread (the operator's commands run off the async runtime).
fn hash_now(password: &str) -> Result<String> {
    validate::password(password)?;
    crate::auth::password::hash(password)
        .map_err(|e| ServiceError::internal("hashing a password", e.to_string()))
}

/// Run a store write off the async runtime.
async fn off_runtime<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ServiceError::internal("a user change stopped", e))?
}
