//! Blocklists, PeerTube's two kinds. The instance's (`BLOCKLIST`, the "server blocklist"):
//! servers and accounts a moderator blocked. A blocked server's and a blocked remote actor's
//! activities are refused at the inbox, nothing is fetched from or delivered to a blocked
//! server, and what they published here is deleted; a blocked local account's videos leave the
//! public lists and search (moderators still see them by asking, PeerTube's `include` flag for
//! blocked owners). Each user's own (`USER_BLOCKS`, "my blocklist", PeerTube's mutes): the
//! servers and accounts whose videos that user's lists leave out; nothing else changes.

use redb::ReadableTable;

use super::{Core, Result, ServiceError, actors, remote_actors, remote_videos, rights};
use crate::model::account::{Account, ActorRef};
use crate::model::federation::{Block, BlockTarget, RemoteActor};
use crate::model::user::User;
use crate::store::{self, Tx, codec, tables};

/// What a blocked account is: one of this instance, or a remote actor Vireo knows.
#[derive(Debug, Clone)]
pub enum BlockedAccount {
    Local(Account),
    Remote(RemoteActor),
}

/// One entry as listed, with what it names.
#[derive(Debug, Clone)]
pub struct Listed<T> {
    pub block: Block,
    pub what: T,
}

/// Whose blocklist: the instance's, or one user's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Instance,
    User(u64),
}

/// May `me` manage the blocklist of `scope`? The instance's: moderators and administrators, as
/// PeerTube's `MANAGE_SERVERS_BLOCKLIST` and `MANAGE_ACCOUNTS_BLOCKLIST` rights; a user's: that
/// user.
fn check(me: &User, scope: Scope) -> Result<()> {
    let allowed = match scope {
        Scope::Instance => rights::can_moderate_content(me),
        Scope::User(id) => id == me.id,
    };
    match allowed {
        true => Ok(()),
        false => Err(ServiceError::Forbidden(
            "Only moderators may manage the instance's blocklist.".into(),
        )),
    }
}

/// Block `host` (lower-cased, with a port when not the default) in `scope`, as `me`.
pub fn block_host(core: &Core, me: &User, scope: Scope, host: &str) -> Result<()> {
    check(me, scope)?;
    if host.eq_ignore_ascii_case(&core.config().public_host()) {
        return Err(ServiceError::Conflict(
            "You cannot block your own server.".into(),
        ));
    }
    let target = BlockTarget::Host {
        host: host.to_ascii_lowercase(),
    };
    add(
        core,
        me,
        scope,
        target.clone(),
        "This server is already blocked.",
    )?;
    forget(core, scope, &target)
}

/// What a server or remote actor the instance blocked published goes (after the block is
/// stored, so no new copy arrives meanwhile). A user's own block only hides.
fn forget(core: &Core, scope: Scope, target: &BlockTarget) -> Result<()> {
    if scope != Scope::Instance {
        return Ok(());
    }
    let forgotten = remote_videos::forget_blocked(core, target)?;
    tracing::info!(target = %target.key(), forgotten, "blocked");
    Ok(())
}

/// Unblock `host` in `scope`, as `me`.
pub fn unblock_host(core: &Core, me: &User, scope: Scope, host: &str) -> Result<()> {
    check(me, scope)?;
    let target = BlockTarget::Host {
        host: host.to_ascii_lowercase(),
    };
    remove(core, scope, &target, "Server block")
}

/// The account `name` or `name@host` names: a local one, or a remote actor Vireo has seen.
pub fn find_account(core: &Core, handle: &str) -> Result<Option<BlockedAccount>> {
    if let Ok(found) = actors::account_by_handle(core, handle) {
        // The record standing for a remote account (one whose videos are kept here) is
        // blocked as the remote actor it stands for.
        let Some(url) = found.url.as_deref().filter(|_| found.host.is_some()) else {
            return Ok(Some(BlockedAccount::Local(found)));
        };
        if let Some(actor) = remote_actors::find(&core.store.read()?, url)? {
            return Ok(Some(BlockedAccount::Remote(actor)));
        }
    }
    let Some((name, host)) = handle.strip_prefix('@').unwrap_or(handle).split_once('@') else {
        return Ok(None);
    };
    let tx = core.store.read()?;
    let t = tx.table(tables::REMOTE_ACTORS)?;
    for entry in t.iter()? {
        let (_, v) = entry?;
        let actor: RemoteActor = codec::decode(v.value())?;
        if actor.preferred_username.eq_ignore_ascii_case(name)
            && actor.host.eq_ignore_ascii_case(host)
            && actor.kind != "Group"
        {
            return Ok(Some(BlockedAccount::Remote(actor)));
        }
    }
    Ok(None)
}

fn account_target(account: &BlockedAccount) -> BlockTarget {
    match account {
        BlockedAccount::Local(a) => BlockTarget::LocalAccount { id: a.id },
        BlockedAccount::Remote(r) => BlockTarget::RemoteActor { id: r.id.clone() },
    }
}

/// Block the account `handle` names in `scope`, as `me`; not oneself.
pub fn block_account(core: &Core, me: &User, scope: Scope, handle: &str) -> Result<()> {
    check(me, scope)?;
    let account = find_account(core, handle)?.ok_or(ServiceError::NotFound("Account"))?;
    if matches!(&account, BlockedAccount::Local(a) if a.id == me.account_id) {
        return Err(ServiceError::Conflict("You cannot block yourself.".into()));
    }
    let target = account_target(&account);
    add(
        core,
        me,
        scope,
        target.clone(),
        "This account is already blocked.",
    )?;
    forget(core, scope, &target)
}

/// Unblock the account `handle` names in `scope`, as `me`.
pub fn unblock_account(core: &Core, me: &User, scope: Scope, handle: &str) -> Result<()> {
    check(me, scope)?;
    let account = find_account(core, handle)?.ok_or(ServiceError::NotFound("Account"))?;
    remove(core, scope, &account_target(&account), "Account block")
}

fn add(core: &Core, me: &User, scope: Scope, target: BlockTarget, already: &str) -> Result<()> {
    let key = target.key();
    core.store.write(|tx| {
        if stored(tx, scope, &key)? {
            return Err(ServiceError::Conflict(already.into()));
        }
        let block = Block {
            id: store::next_id(tx, "block")?,
            target,
            by_user: me.id,
            created_at_ms: crate::model::now_ms(),
        };
        let bytes = codec::encode(&block);
        match scope {
            Scope::Instance => {
                tx.open_table(tables::BLOCKLIST)?
                    .insert(key.as_str(), bytes.as_slice())?;
            }
            Scope::User(user) => {
                tx.open_table(tables::USER_BLOCKS)?
                    .insert((user, key.as_str()), bytes.as_slice())?;
            }
        }
        Ok(())
    })
}

/// Whether `key` is on the blocklist of `scope`.
fn stored(tx: &impl Tx, scope: Scope, key: &str) -> Result<bool> {
    Ok(match scope {
        Scope::Instance => tx.table(tables::BLOCKLIST)?.get(key)?.is_some(),
        Scope::User(user) => tx.table(tables::USER_BLOCKS)?.get((user, key))?.is_some(),
    })
}

fn remove(core: &Core, scope: Scope, target: &BlockTarget, what: &'static str) -> Result<()> {
    let key = target.key();
    core.store.write(|tx| {
        let removed = match scope {
            Scope::Instance => tx
                .open_table(tables::BLOCKLIST)?
                .remove(key.as_str())?
                .is_some(),
            Scope::User(user) => tx
                .open_table(tables::USER_BLOCKS)?
                .remove((user, key.as_str()))?
                .is_some(),
        };
        match removed {
            true => Ok(()),
            false => Err(ServiceError::NotFound(what)),
        }
    })
}

fn all(tx: &impl Tx, scope: Scope) -> Result<Vec<Block>> {
    let mut out = Vec::new();
    match scope {
        Scope::Instance => {
            for entry in tx.table(tables::BLOCKLIST)?.iter()? {
                out.push(codec::decode(entry?.1.value())?);
            }
        }
        Scope::User(user) => {
            let t = tx.table(tables::USER_BLOCKS)?;
            for entry in t.range((user, "")..(user.saturating_add(1), ""))? {
                out.push(codec::decode(entry?.1.value())?);
            }
        }
    }
    Ok(out)
}

/// A page of a blocklist: which entries, oldest or newest first.
#[derive(Debug, Clone, Copy)]
pub struct BlockPage {
    pub start: usize,
    pub count: usize,
    pub newest_first: bool,
}

/// Sorted by date, then `start`/`count`; with the total.
fn paged<T>(mut rows: Vec<Listed<T>>, page: BlockPage) -> (usize, Vec<Listed<T>>) {
    rows.sort_by_key(|l| (l.block.created_at_ms, l.block.id));
    if page.newest_first {
        rows.reverse();
    }
    let (start, count) = (page.start, page.count);
    let total = rows.len();
    (total, rows.into_iter().skip(start).take(count).collect())
}

/// A page of the servers blocked in `scope`, as `me`.
pub fn hosts(
    core: &Core,
    me: &User,
    scope: Scope,
    page: BlockPage,
) -> Result<(usize, Vec<Listed<String>>)> {
    check(me, scope)?;
    let rows = all(&core.store.read()?, scope)?
        .into_iter()
        .filter_map(|block| match &block.target {
            BlockTarget::Host { host } => Some(Listed {
                what: host.clone(),
                block,
            }),
            _ => None,
        })
        .collect();
    Ok(paged(rows, page))
}

/// A page of the accounts blocked in `scope`, as `me` (an account no longer known is left
/// out).
pub fn accounts(
    core: &Core,
    me: &User,
    scope: Scope,
    page: BlockPage,
) -> Result<(usize, Vec<Listed<BlockedAccount>>)> {
    check(me, scope)?;
    let tx = core.store.read()?;
    let mut rows = Vec::new();
    for block in all(&tx, scope)? {
        let what = match &block.target {
            BlockTarget::LocalAccount { id } => {
                actors::account(&tx, *id).ok().map(BlockedAccount::Local)
            }
            BlockTarget::RemoteActor { id } => {
                remote_actors::find(&tx, id)?.map(BlockedAccount::Remote)
            }
            BlockTarget::Host { .. } => None,
        };
        if let Some(what) = what {
            rows.push(Listed { block, what });
        }
    }
    Ok(paged(rows, page))
}

/// Whether `host` is blocked.
pub fn is_host_blocked(core: &Core, host: &str) -> Result<bool> {
    let key = BlockTarget::Host {
        host: host.to_ascii_lowercase(),
    }
    .key();
    let tx = core.store.read()?;
    let t = tx.table(tables::BLOCKLIST)?;
    let blocked = t.get(key.as_str())?.is_some();
    Ok(blocked)
}

/// Whether the remote actor `id` on `host` is blocked, itself or its server.
pub fn is_actor_blocked(core: &Core, id: &str, host: &str) -> Result<bool> {
    let key = BlockTarget::RemoteActor { id: id.to_owned() }.key();
    let blocked = {
        let tx = core.store.read()?;
        let t = tx.table(tables::BLOCKLIST)?;
        t.get(key.as_str())?.is_some()
    };
    Ok(blocked || is_host_blocked(core, host)?)
}

/// The local accounts whose videos the public lists leave out.
pub fn hidden_accounts(core: &Core) -> Result<Vec<u64>> {
    Ok(all(&core.store.read()?, Scope::Instance)?
        .into_iter()
        .filter_map(|b| match b.target {
            BlockTarget::LocalAccount { id } => Some(id),
            _ => None,
        })
        .collect())
}

/// The accounts (local, and the records standing for remote ones) whose videos user `user`'s
/// lists leave out: those it blocked, and those on the servers it blocked.
///
/// A blocked server's accounts are found by scanning the remote handles: a user's server
/// blocks are few, and the scan costs a millisecond per few thousand remote actors.
pub fn muted_accounts(core: &Core, user: u64) -> Result<Vec<u64>> {
    let tx = core.store.read()?;
    let blocks = all(&tx, Scope::User(user))?;
    let mut muted = Vec::new();
    let mut hosts = Vec::new();
    for block in blocks {
        match block.target {
            BlockTarget::LocalAccount { id } => muted.push(id),
            BlockTarget::RemoteActor { id } => {
                if let Some(ActorRef::Account(a)) = actors::remote_by_url(&tx, &id)? {
                    muted.push(a);
                }
            }
            BlockTarget::Host { host } => hosts.push(format!("@{host}")),
        }
    }
    if !hosts.is_empty() {
        for entry in tx.table(tables::REMOTE_HANDLES)?.iter()? {
            let (k, v) = entry?;
            let handle = k.value().to_ascii_lowercase();
            if hosts.iter().any(|h| handle.ends_with(h.as_str()))
                && let ActorRef::Account(a) = codec::decode(v.value())?
            {
                muted.push(a);
            }
        }
    }
    Ok(muted)
}

/// Whether user `user` blocked the account `handle` names (itself or its server), and whether
/// it blocked `host`: PeerTube's `blockedByUser`.
pub fn user_blocks(core: &Core, user: u64, account: &BlockedAccount) -> Result<bool> {
    let tx = core.store.read()?;
    let scope = Scope::User(user);
    let host = match account {
        BlockedAccount::Local(_) => None,
        BlockedAccount::Remote(r) => Some(r.host.clone()),
    };
    let on_host = match host {
        Some(host) => stored(&tx, scope, &BlockTarget::Host { host }.key())?,
        None => false,
    };
    Ok(on_host || stored(&tx, scope, &account_target(account).key())?)
}

/// Whether user `user` blocked server `host`.
pub fn user_blocks_host(core: &Core, user: u64, host: &str) -> Result<bool> {
    let key = BlockTarget::Host {
        host: host.to_ascii_lowercase(),
    }
    .key();
    stored(&core.store.read()?, Scope::User(user), &key)
}
