//! The instance's blocklist (`BLOCKLIST`), PeerTube's "server blocklist": servers and accounts
//! a moderator blocked. A blocked server's and a blocked remote actor's activities are refused
//! at the inbox, and nothing is fetched from or delivered to a blocked server; a blocked local
//! account's videos leave the public lists and search (moderators still see them by asking,
//! PeerTube's `include` flag for blocked owners).

use redb::ReadableTable;

use super::{Core, Result, ServiceError, actors, remote_actors, remote_videos, rights};
use crate::model::account::Account;
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

/// May `me` manage the instance's blocklist? Moderators and administrators, as PeerTube's
/// `MANAGE_SERVERS_BLOCKLIST` and `MANAGE_ACCOUNTS_BLOCKLIST` rights.
fn check(me: &User) -> Result<()> {
    match rights::can_moderate_content(me) {
        true => Ok(()),
        false => Err(ServiceError::Forbidden(
            "Only moderators may manage the instance's blocklist.".into(),
        )),
    }
}

/// Block `host` (lower-cased, with a port when not the default), as `me`.
pub fn block_host(core: &Core, me: &User, host: &str) -> Result<()> {
    check(me)?;
    if host.eq_ignore_ascii_case(&core.config().public_host()) {
        return Err(ServiceError::Conflict(
            "You cannot block your own server.".into(),
        ));
    }
    let target = BlockTarget::Host {
        host: host.to_ascii_lowercase(),
    };
    add(core, me, target.clone(), "This server is already blocked.")?;
    forget(core, &target)
}

/// What a blocked server or remote actor published goes (after the block is stored, so no
/// new copy arrives meanwhile).
fn forget(core: &Core, target: &BlockTarget) -> Result<()> {
    let forgotten = remote_videos::forget_blocked(core, target)?;
    tracing::info!(target = %target.key(), forgotten, "blocked");
    Ok(())
}

/// Unblock `host`, as `me`.
pub fn unblock_host(core: &Core, me: &User, host: &str) -> Result<()> {
    check(me)?;
    let target = BlockTarget::Host {
        host: host.to_ascii_lowercase(),
    };
    remove(core, &target, "Server block")
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

/// Block the account `handle` names, as `me`; not oneself.
pub fn block_account(core: &Core, me: &User, handle: &str) -> Result<()> {
    check(me)?;
    let account = find_account(core, handle)?.ok_or(ServiceError::NotFound("Account"))?;
    if matches!(&account, BlockedAccount::Local(a) if a.id == me.account_id) {
        return Err(ServiceError::Conflict("You cannot block yourself.".into()));
    }
    let target = account_target(&account);
    add(core, me, target.clone(), "This account is already blocked.")?;
    forget(core, &target)
}

/// Unblock the account `handle` names, as `me`.
pub fn unblock_account(core: &Core, me: &User, handle: &str) -> Result<()> {
    check(me)?;
    let account = find_account(core, handle)?.ok_or(ServiceError::NotFound("Account"))?;
    remove(core, &account_target(&account), "Account block")
}

fn add(core: &Core, me: &User, target: BlockTarget, already: &str) -> Result<()> {
    let key = target.key();
    core.store.write(|tx| {
        let mut t = tx.open_table(tables::BLOCKLIST)?;
        if t.get(key.as_str())?.is_some() {
            return Err(ServiceError::Conflict(already.into()));
        }
        let block = Block {
            id: store::next_id(tx, "block")?,
            target,
            by_user: me.id,
            created_at_ms: crate::model::now_ms(),
        };
        t.insert(key.as_str(), codec::encode(&block).as_slice())?;
        Ok(())
    })
}

fn remove(core: &Core, target: &BlockTarget, what: &'static str) -> Result<()> {
    let key = target.key();
    core.store.write(|tx| {
        let mut t = tx.open_table(tables::BLOCKLIST)?;
        let removed = t.remove(key.as_str())?.is_some();
        match removed {
            true => Ok(()),
            false => Err(ServiceError::NotFound(what)),
        }
    })
}

fn all(tx: &impl Tx) -> Result<Vec<Block>> {
    let t = tx.table(tables::BLOCKLIST)?;
    let mut out = Vec::new();
    for entry in t.iter()? {
        let (_, v) = entry?;
        out.push(codec::decode(v.value())?);
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

/// A page of the blocked servers, as `me`.
pub fn hosts(core: &Core, me: &User, page: BlockPage) -> Result<(usize, Vec<Listed<String>>)> {
    check(me)?;
    let rows = all(&core.store.read()?)?
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

/// A page of the blocked accounts, as `me` (an account no longer known is left out).
pub fn accounts(
    core: &Core,
    me: &User,
    page: BlockPage,
) -> Result<(usize, Vec<Listed<BlockedAccount>>)> {
    check(me)?;
    let tx = core.store.read()?;
    let mut rows = Vec::new();
    for block in all(&tx)? {
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
    Ok(all(&core.store.read()?)?
        .into_iter()
        .filter_map(|b| match b.target {
            BlockTarget::LocalAccount { id } => Some(id),
            _ => None,
        })
        .collect())
}
