//! Users: creation with their account and default channel, lookup, listing, updates, deletion.

use redb::{ReadableTable, WriteTransaction};

use super::{Core, Result, ServiceError, actors, channels, validate};
use crate::model::account::{Account, ActorRef};
use crate::model::channel::Channel;
use crate::model::now_ms;
use crate::model::user::{Role, User};
use crate::store::{Tx, next_id, records, tables};

/// The first administrator's name. Root stays an administrator and can be neither blocked nor
/// removed, whoever asks (PeerTube's rule): an instance always keeps one way in.
pub const ROOT: &str = "root";

/// What is needed to create a user. The password arrives already hashed (hashing is slow and
/// runs outside the write transaction).
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub email: String,
    pub password_hash: String,
    pub role: Role,
    pub video_quota: i64,
    pub video_quota_daily: i64,
    pub display_name: Option<String>,
    /// Name of the default channel; `{username}_channel` when not given.
    pub channel_name: Option<String>,
    pub channel_display_name: Option<String>,
    pub email_verified: bool,
}

/// Validate everything about a new user that does not need the store.
pub fn validate_new(u: &NewUser) -> Result<()> {
    validate::username(&u.username)?;
    validate::email(&u.email)?;
    validate::quota("videoQuota", u.video_quota)?;
    validate::quota("videoQuotaDaily", u.video_quota_daily)?;
    if let Some(d) = &u.display_name {
        validate::name("displayName", d, 1, 120)?;
    }
    if let Some(c) = &u.channel_name {
        validate::actor_name("channel.name", c)?;
    }
    if let Some(d) = &u.channel_display_name {
        validate::name("channel.displayName", d, 1, 120)?;
    }
    Ok(())
}

/// Create a user, its account and its default channel in one transaction.
pub fn create(core: &Core, u: NewUser) -> Result<(User, Account, Channel)> {
    validate_new(&u)?;
    core.store.write(|tx| create_in(tx, &u))
}

/// Create a user as `create` does, unless the instance already has `max_users`: the count is
/// checked in the transaction that creates the user, so two sign-ups at once cannot both pass
/// the limit.
pub fn create_within(core: &Core, u: NewUser, max_users: u64) -> Result<(User, Account, Channel)> {
    validate_new(&u)?;
    core.store.write(|tx| {
        if count(tx)? >= max_users {
            return Err(ServiceError::Forbidden(
                "User registration is not allowed".into(),
            ));
        }
        create_in(tx, &u)
    })
}

pub(crate) fn create_in(tx: &WriteTransaction, u: &NewUser) -> Result<(User, Account, Channel)> {
    let now = now_ms();
    let name_key = u.username.to_lowercase();
    let email_key = u.email.to_lowercase();
    if tx
        .open_table(tables::USERS_BY_NAME)?
        .get(name_key.as_str())?
        .is_some()
        || actors::actor_exists(tx, &name_key)?
    {
        return Err(ServiceError::Conflict(
            "User with this username or email already exists.".into(),
        ));
    }
    if tx
        .open_table(tables::USERS_BY_EMAIL)?
        .get(email_key.as_str())?
        .is_some()
    {
        return Err(ServiceError::Conflict(
            "User with this username or email already exists.".into(),
        ));
    }
    let user_id = next_id(tx, "users")?;
    let account_id = next_id(tx, "accounts")?;
    let account = Account {
        id: account_id,
        name: u.username.clone(),
        display_name: u.display_name.clone().unwrap_or_else(|| u.username.clone()),
        description: None,
        user_id: Some(user_id),
        host: None,
        created_at_ms: now,
        updated_at_ms: now,
        url: None,
    };
    let user = User {
        id: user_id,
        username: u.username.clone(),
        email: u.email.clone(),
        password_hash: u.password_hash.clone(),
        role: u.role,
        account_id,
        video_quota: u.video_quota,
        video_quota_daily: u.video_quota_daily,
        blocked: false,
        blocked_reason: None,
        email_verified: u.email_verified,
        nsfw_policy: "do_not_list".into(),
        auto_play_video: true,
        p2p_enabled: true,
        video_languages: None,
        created_at_ms: now,
        last_login_ms: None,
    };
    records::put(tx, tables::ACCOUNTS, account_id, &account)?;
    actors::set_actor_name(tx, &account.name, ActorRef::Account(account_id))?;
    records::put(tx, tables::USERS, user_id, &user)?;
    tx.open_table(tables::USERS_BY_NAME)?
        .insert(name_key.as_str(), user_id)?;
    tx.open_table(tables::USERS_BY_EMAIL)?
        .insert(email_key.as_str(), user_id)?;
    let channel = channels::create_in(
        tx,
        &account,
        channels::NewChannel {
            name: u
                .channel_name
                .clone()
                .unwrap_or_else(|| format!("{}_channel", u.username)),
            display_name: u
                .channel_display_name
                .clone()
                .unwrap_or_else(|| format!("Main {} channel", u.username)),
            description: None,
            support: None,
        },
    )?;
    Ok((user, account, channel))
}

pub fn get(tx: &impl Tx, id: u64) -> Result<Option<User>> {
    Ok(records::get(tx, tables::USERS, id)?)
}

pub fn require(tx: &impl Tx, id: u64) -> Result<User> {
    get(tx, id)?.ok_or(ServiceError::NotFound("user"))
}

/// Find a user by username or e-mail, case-insensitively (PeerTube accepts both at login).
pub fn find_by_login(tx: &impl Tx, login: &str) -> Result<Option<User>> {
    let key = login.to_lowercase();
    let table = if key.contains('@') {
        tables::USERS_BY_EMAIL
    } else {
        tables::USERS_BY_NAME
    };
    let id = tx.table(table)?.get(key.as_str())?.map(|v| v.value());
    match id {
        Some(id) => get(tx, id),
        None => Ok(None),
    }
}

/// A user by username or e-mail, read on its own.
pub fn by_login(core: &Core, login: &str) -> Result<User> {
    find_by_login(&core.store.read()?, login)?.ok_or(ServiceError::NotFound("user"))
}

pub fn count(tx: &impl Tx) -> Result<u64> {
    Ok(redb::ReadableTableMetadata::len(&tx.table(tables::USERS)?)?)
}

/// How many users the instance has.
pub fn total(core: &Core) -> Result<u64> {
    count(&core.store.read()?)
}

/// A user by id, read on its own.
pub fn by_id(core: &Core, id: u64) -> Result<User> {
    require(&core.store.read()?, id)
}

/// Sort orders of `GET /api/v1/users`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserSort {
    Id,
    Username,
    CreatedAt,
    Role,
    /// Never-logged-in users first (ascending).
    LastLoginDate,
    /// Bytes of video stored (the quota used).
    VideoQuotaUsed,
}

#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    pub start: usize,
    pub count: usize,
    pub sort: Option<(UserSort, bool)>,
    pub search: Option<String>,
    pub blocked: Option<bool>,
}

/// One page of users and the number matching; `quota_used` gives an account's stored bytes.
fn list(
    tx: &impl Tx,
    q: &UserQuery,
    quota_used: impl Fn(u64) -> u64,
) -> Result<(usize, Vec<User>)> {
    let mut users: Vec<User> = records::all(tx, tables::USERS)?;
    if let Some(search) = q.search.as_deref().map(str::to_lowercase) {
        users.retain(|u| {
            u.username.to_lowercase().contains(&search) || u.email.to_lowercase().contains(&search)
        });
    }
    if let Some(b) = q.blocked {
        users.retain(|u| u.blocked == b);
    }
    let (key, descending) = q.sort.unwrap_or((UserSort::Id, true));
    users.sort_by(|a, b| {
        let o = match key {
            UserSort::Id => a.id.cmp(&b.id),
            UserSort::Username => a.username.cmp(&b.username),
            UserSort::CreatedAt => a.created_at_ms.cmp(&b.created_at_ms).then(a.id.cmp(&b.id)),
            UserSort::Role => a.role.cmp(&b.role).then(a.id.cmp(&b.id)),
            UserSort::LastLoginDate => a.last_login_ms.cmp(&b.last_login_ms).then(a.id.cmp(&b.id)),
            UserSort::VideoQuotaUsed => quota_used(a.account_id)
                .cmp(&quota_used(b.account_id))
                .then(a.id.cmp(&b.id)),
        };
        if descending { o.reverse() } else { o }
    });
    let total = users.len();
    let page = users.into_iter().skip(q.start).take(q.count).collect();
    Ok((total, page))
}

/// Changes an administrator or moderator may make to a user (`PUT /api/v1/users/{id}`).
#[derive(Debug, Clone, Default)]
pub struct AdminUpdate {
    pub email: Option<String>,
    pub email_verified: Option<bool>,
    pub video_quota: Option<i64>,
    pub video_quota_daily: Option<i64>,
    pub role: Option<Role>,
    pub password_hash: Option<String>,
    pub blocked: Option<(bool, Option<String>)>,
}

/// Apply `AdminUpdate` to user `id`. Revokes the user's sessions when the password changes or the
/// user is blocked.
pub fn update(core: &Core, id: u64, up: AdminUpdate) -> Result<User> {
    if let Some(e) = &up.email {
        validate::email(e)?;
    }
    if let Some(q) = up.video_quota {
        validate::quota("videoQuota", q)?;
    }
    if let Some(q) = up.video_quota_daily {
        validate::quota("videoQuotaDaily", q)?;
    }
    core.store.write(|tx| {
        let mut user = require(tx, id)?;
        check_root_rules(&user, &up)?;
        if let Some(email) = &up.email {
            change_email(tx, &mut user, email)?;
        }
        if let Some(v) = up.email_verified {
            user.email_verified = v;
        }
        if let Some(q) = up.video_quota {
            user.video_quota = q;
        }
        if let Some(q) = up.video_quota_daily {
            user.video_quota_daily = q;
        }
        if let Some(r) = up.role {
            user.role = r;
        }
        let mut revoke = false;
        if let Some(h) = &up.password_hash {
            user.password_hash = h.clone();
            revoke = true;
        }
        if let Some((blocked, reason)) = &up.blocked {
            user.blocked = *blocked;
            user.blocked_reason = if *blocked { reason.clone() } else { None };
            revoke |= *blocked;
        }
        records::put(tx, tables::USERS, id, &user)?;
        if revoke {
            super::sessions::revoke_all_in(tx, id)?;
        }
        Ok(user)
    })
}

fn check_root_rules(user: &User, up: &AdminUpdate) -> Result<()> {
    if user.username != ROOT {
        return Ok(());
    }
    if up.role.is_some_and(|r| r != Role::Administrator) {
        return Err(ServiceError::Refused("Cannot change root role.".into()));
    }
    if up.blocked.as_ref().is_some_and(|(b, _)| *b) {
        return Err(ServiceError::Refused("Cannot block the root user".into()));
    }
    Ok(())
}

fn change_email(tx: &WriteTransaction, user: &mut User, email: &str) -> Result<()> {
    let new_key = email.to_lowercase();
    let old_key = user.email.to_lowercase();
    if new_key == old_key {
        user.email = email.to_owned();
        return Ok(());
    }
    let mut by_email = tx.open_table(tables::USERS_BY_EMAIL)?;
    if by_email.get(new_key.as_str())?.is_some() {
        return Err(ServiceError::Conflict(
            "User with this email already exists.".into(),
        ));
    }
    by_email.remove(old_key.as_str())?;
    by_email.insert(new_key.as_str(), user.id)?;
    user.email = email.to_owned();
    Ok(())
}

/// Changes a user may make to themself (`PUT /api/v1/users/me`).
#[derive(Debug, Clone, Default)]
pub struct SelfUpdate {
    pub display_name: Option<String>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<String>>,
    pub nsfw_policy: Option<String>,
    pub auto_play_video: Option<bool>,
    pub p2p_enabled: Option<bool>,
    /// `Some(None)` goes back to every language.
    pub video_languages: Option<Option<Vec<String>>>,
    pub email: Option<String>,
    pub password_hash: Option<String>,
    /// The access token of the session the change is made in: a new password ends the others.
    pub keep_session: Option<String>,
}

pub fn update_me(core: &Core, id: u64, up: SelfUpdate) -> Result<User> {
    if let Some(d) = &up.display_name {
        validate::name("displayName", d, 1, 120)?;
    }
    if let Some(Some(d)) = &up.description {
        validate::text("description", d, 3, 1000)?;
    }
    if let Some(p) = &up.nsfw_policy {
        validate::nsfw_policy(p)?;
    }
    if let Some(e) = &up.email {
        validate::email(e)?;
    }
    core.store
        .write(|tx| {
            let mut user = require(tx, id)?;
            if let Some(p) = &up.nsfw_policy {
                user.nsfw_policy = p.clone();
            }
            if let Some(v) = up.auto_play_video {
                user.auto_play_video = v;
            }
            if let Some(v) = up.p2p_enabled {
                user.p2p_enabled = v;
            }
            if let Some(v) = &up.video_languages {
                user.video_languages = v.clone();
            }
            if let Some(e) = &up.email {
                change_email(tx, &mut user, e)?;
            }
            if let Some(h) = &up.password_hash {
                user.password_hash = h.clone();
                super::sessions::revoke_others_in(tx, id, up.keep_session.as_deref())?;
            }
            records::put(tx, tables::USERS, id, &user)?;
            if up.display_name.is_some() || up.description.is_some() {
                let mut account: Account = records::get(tx, tables::ACCOUNTS, user.account_id)?
                    .ok_or(ServiceError::NotFound("account"))?;
                if let Some(d) = &up.display_name {
                    account.display_name = d.clone();
                    super::indexing::enqueue_owner_reindex(
                        core,
                        tx,
                        super::indexing::Owner::Account(account.id),
                    )?;
                }
                if let Some(d) = &up.description {
                    account.description = d.clone();
                }
                account.updated_at_ms = now_ms();
                records::put(tx, tables::ACCOUNTS, account.id, &account)?;
            }
            Ok(user)
        })
        .inspect(|_| core.jobs_wake.notify())
}

/// Record a successful login.
pub fn touch_login(core: &Core, id: u64) -> Result<()> {
    core.store.write(|tx| {
        if let Some(mut u) = get(tx, id)? {
            u.last_login_ms = Some(now_ms());
            records::put(tx, tables::USERS, id, &u)?;
        }
        Ok(())
    })
}

/// Delete a user with its account, channels, videos and sessions, in one transaction.
pub fn delete(core: &Core, id: u64) -> Result<()> {
    core.catalog.write(|| {
        core.store.write(|tx| {
            let user = require(tx, id)?;
            if user.username == ROOT {
                return Err(ServiceError::Refused("Cannot remove the root user".into()));
            }
            // Its rates first: a video it rated may be one of its own, deleted below.
            let mut removed = super::rates::forget_account(tx, user.account_id)?;
            for channel in channels::of_account(tx, user.account_id)? {
                removed.extend(super::videos::delete_channel_videos_in(tx, channel.id)?);
                channels::remove_in(tx, &channel)?;
            }
            let account: Option<Account> = records::get(tx, tables::ACCOUNTS, user.account_id)?;
            // The account's name stays in the actor index: PeerTube never reuses an actor name,
            // since remote servers may still hold the old actor.
            if let Some(account) = account {
                records::remove(tx, tables::ACCOUNTS, account.id)?;
            }
            tx.open_table(tables::USERS_BY_NAME)?
                .remove(user.username.to_lowercase().as_str())?;
            tx.open_table(tables::USERS_BY_EMAIL)?
                .remove(user.email.to_lowercase().as_str())?;
            records::remove(tx, tables::USERS, id)?;
            super::sessions::revoke_all_in(tx, id)?;
            Ok(((), removed))
        })
    })?;
    core.jobs_wake.notify();
    Ok(())
}

/// One page of users, as `list` gives it, read on its own.
pub fn page(core: &Core, q: &UserQuery) -> Result<(usize, Vec<User>)> {
    list(&core.store.read()?, q, |account| {
        core.catalog.bytes_of_account(account, 0).0
    })
}
