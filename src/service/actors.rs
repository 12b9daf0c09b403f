//! The one name index of local accounts and channels (`actors_by_name`), as PeerTube has it: a
//! name is never both an account and a channel, and the names of deleted actors stay taken,
//! since remote servers may still hold the old actor. Users and channels both register their
//! names here; federation will resolve `acct:` handles through it. The lookups of accounts and
//! channels by id and by handle are here too.

use redb::{ReadableTable, WriteTransaction};

use super::{Core, Result, ServiceError};
use crate::model::account::{Account, ActorRef};
use crate::model::channel::Channel;
use crate::store::{Tx, codec, records, tables};

/// Whether a name is taken by an account or a channel (present or deleted).
pub fn actor_exists(tx: &impl Tx, name: &str) -> Result<bool> {
    let t = tx.table(tables::ACTORS_BY_NAME)?;
    Ok(t.get(name.to_lowercase().as_str())?.is_some())
}

/// Register `name` for `actor`.
pub fn set_actor_name(tx: &WriteTransaction, name: &str, actor: ActorRef) -> Result<()> {
    tx.open_table(tables::ACTORS_BY_NAME)?.insert(
        name.to_lowercase().as_str(),
        codec::encode(&actor).as_slice(),
    )?;
    Ok(())
}

/// Which actor a (local) name belongs to.
pub fn resolve_actor(tx: &impl Tx, name: &str) -> Result<Option<ActorRef>> {
    let t = tx.table(tables::ACTORS_BY_NAME)?;
    let v = t.get(name.to_lowercase().as_str())?;
    match v {
        Some(v) => Ok(Some(codec::decode(v.value())?)),
        None => Ok(None),
    }
}

/// An account by id.
pub fn account(tx: &impl Tx, id: u64) -> Result<Account> {
    records::get(tx, tables::ACCOUNTS, id)?.ok_or(ServiceError::NotFound("account"))
}

/// The name part of a handle that names a local actor; `None` for other hosts.
pub fn local_name<'a>(handle: &'a str, local_host: &str) -> Option<&'a str> {
    match handle.split_once('@') {
        None => Some(handle),
        Some((name, host)) if host.eq_ignore_ascii_case(local_host) => Some(name),
        Some(_) => None,
    }
}

/// Find a local channel by handle (`name` or `name@this-host`).
pub fn find_channel(tx: &impl Tx, handle: &str, local_host: &str) -> Result<Option<Channel>> {
    match local_name(handle, local_host).map(|n| resolve_actor(tx, n)) {
        Some(Ok(Some(ActorRef::Channel(id)))) => Ok(records::get(tx, tables::CHANNELS, id)?),
        Some(Ok(_)) | None => Ok(None),
        Some(Err(e)) => Err(e),
    }
}

/// A local channel by handle (`name` or `name@host`).
pub fn channel_by_handle(core: &Core, handle: &str) -> Result<Channel> {
    match local_by_handle(core, handle)? {
        Some(Local::Channel(c)) => Ok(c),
        _ => Err(ServiceError::NotFound("video channel")),
    }
}

/// A local account by handle (`name` or `name@host`).
pub fn account_by_handle(core: &Core, handle: &str) -> Result<Account> {
    match local_by_handle(core, handle)? {
        Some(Local::Account(a)) => Ok(a),
        _ => Err(ServiceError::NotFound("account")),
    }
}

/// Every local account, oldest first.
pub fn all_accounts(core: &Core) -> Result<Vec<Account>> {
    let mut all: Vec<Account> = records::all(&core.store.read()?, tables::ACCOUNTS)?;
    all.sort_by_key(|a| (a.created_at_ms, a.id));
    Ok(all)
}

/// The channel a video is in and the account that owns the channel.
pub fn owner_of(tx: &impl Tx, channel_id: u64) -> Result<(Channel, Account)> {
    let c: Channel = records::get(tx, tables::CHANNELS, channel_id)?
        .ok_or(ServiceError::NotFound("video channel"))?;
    let a = account(tx, c.account_id)?;
    Ok((c, a))
}

/// An account by id, read on its own.
pub fn account_by_id(core: &Core, id: u64) -> Result<Account> {
    account(&core.store.read()?, id)
}

/// A local actor, as discovery (WebFinger) finds it by name.
#[derive(Debug, Clone)]
pub enum Local {
    Account(Account),
    Channel(Channel),
}

/// The local account or channel a handle (`name` or `name@this-host`) names, if it exists;
/// `None` for another host's handle and for the names of deleted actors, which stay taken.
pub fn local_by_handle(core: &Core, handle: &str) -> Result<Option<Local>> {
    let Some(name) = local_name(handle, &core.config().public_host()) else {
        return Ok(None);
    };
    let tx = core.store.read()?;
    Ok(match resolve_actor(&tx, name)? {
        Some(ActorRef::Account(id)) => {
            records::get::<Account>(&tx, tables::ACCOUNTS, id)?.map(Local::Account)
        }
        Some(ActorRef::Channel(id)) => {
            records::get::<Channel>(&tx, tables::CHANNELS, id)?.map(Local::Channel)
        }
        None => None,
    })
}
