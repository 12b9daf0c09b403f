//! The one name index of local accounts and channels (`actors_by_name`), as PeerTube has it: a
//! name is never both an account and a channel, and the names of deleted actors stay taken,
//! since remote servers may still hold the old actor. Users and channels both register their
//! names here; federation will resolve `acct:` handles through it. The lookups of accounts and
//! channels by id and by handle are here too, and the two indexes of the records that stand
//! for remote actors (by URL and by `name@host`).

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

/// A channel by handle: a local one (`name` or `name@this-host`), or a remote one this
/// instance keeps (`name@host`).
pub fn channel_by_handle(core: &Core, handle: &str) -> Result<Channel> {
    match local_by_handle(core, handle)? {
        Some(Local::Channel(c)) => Ok(c),
        Some(_) => Err(ServiceError::NotFound("video channel")),
        None => match remote_record(core, handle)? {
            Some(ActorRef::Channel(id)) => records::get(&core.store.read()?, tables::CHANNELS, id)?
                .ok_or(ServiceError::NotFound("video channel")),
            _ => Err(ServiceError::NotFound("video channel")),
        },
    }
}

/// An account by handle, local or remote, as `channel_by_handle`.
pub fn account_by_handle(core: &Core, handle: &str) -> Result<Account> {
    match local_by_handle(core, handle)? {
        Some(Local::Account(a)) => Ok(a),
        Some(_) => Err(ServiceError::NotFound("account")),
        None => match remote_record(core, handle)? {
            Some(ActorRef::Account(id)) => account(&core.store.read()?, id),
            _ => Err(ServiceError::NotFound("account")),
        },
    }
}

/// The record standing for the remote actor a `name@host` handle names.
fn remote_record(core: &Core, handle: &str) -> Result<Option<ActorRef>> {
    match handle.split_once('@') {
        Some((name, host)) => remote_by_handle(&core.store.read()?, name, host),
        None => Ok(None),
    }
}

/// The account or channel that stands for the remote actor at `url` here (remote videos'
/// owners; `service::remote_videos` makes them).
pub fn remote_by_url(tx: &impl Tx, url: &str) -> Result<Option<ActorRef>> {
    let t = tx.table(tables::REMOTE_OWNERS)?;
    let v = t.get(url)?;
    Ok(match v {
        Some(v) => Some(codec::decode(v.value())?),
        None => None,
    })
}

/// The remote account or channel named `name@host`.
pub fn remote_by_handle(tx: &impl Tx, name: &str, host: &str) -> Result<Option<ActorRef>> {
    let t = tx.table(tables::REMOTE_HANDLES)?;
    let v = t.get(remote_handle_key(name, host).as_str())?;
    Ok(match v {
        Some(v) => Some(codec::decode(v.value())?),
        None => None,
    })
}

/// Register `record` as standing for the remote actor at `url`, named `name@host`.
pub fn set_remote(
    tx: &WriteTransaction,
    url: &str,
    name: &str,
    host: &str,
    record: ActorRef,
) -> Result<()> {
    let bytes = codec::encode(&record);
    tx.open_table(tables::REMOTE_OWNERS)?
        .insert(url, bytes.as_slice())?;
    tx.open_table(tables::REMOTE_HANDLES)?
        .insert(remote_handle_key(name, host).as_str(), bytes.as_slice())?;
    Ok(())
}

fn remote_handle_key(name: &str, host: &str) -> String {
    format!("{name}@{host}").to_lowercase()
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

/// The key of a local actor in the tables kept per actor (`FOLLOWERS`, `ACTOR_KEYS`).
pub fn slot(actor: ActorRef) -> String {
    match actor {
        ActorRef::Instance => "instance".to_owned(),
        ActorRef::Account(id) => format!("account/{id}"),
        ActorRef::Channel(id) => format!("channel/{id}"),
    }
}

/// The actor a `slot` names; `None` for anything else (a remote actor's URL).
pub fn parse_slot(slot: &str) -> Option<ActorRef> {
    match slot.split_once('/') {
        None if slot == "instance" => Some(ActorRef::Instance),
        Some(("account", id)) => id.parse().ok().map(ActorRef::Account),
        Some(("channel", id)) => id.parse().ok().map(ActorRef::Channel),
        _ => None,
    }
}

/// A local actor, as discovery (WebFinger) finds it by name.
#[derive(Debug, Clone)]
pub enum Local {
    Account(Account),
    Channel(Channel),
    /// The instance actor, by its name.
    Instance(String),
}

impl Local {
    /// Which entry of the name index this is (what its key is kept under).
    pub fn actor_ref(&self) -> ActorRef {
        match self {
            Local::Account(a) => ActorRef::Account(a.id),
            Local::Channel(c) => ActorRef::Channel(c.id),
            Local::Instance(_) => ActorRef::Instance,
        }
    }
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
        Some(ActorRef::Instance) => Some(Local::Instance(instance_actor_name(&tx)?)),
        None => None,
    })
}

/// Where the instance actor's name is kept in `META`.
const INSTANCE_ACTOR_KEY: &str = "instance_actor_name";

/// The names the instance actor may take, in order. PeerTube's is `peertube`, and older
/// PeerTube finds another instance only through WebFinger of `peertube@host`, so Vireo takes it
/// too; the others are for an instance where a user took `peertube` before federation existed
/// (the newest PeerTube finds the actor through NodeInfo instead).
const INSTANCE_ACTOR_NAMES: [&str; 3] = ["peertube", "vireo_instance", "vireo_instance_actor"];

/// The instance actor's name (`peertube` unless it was taken).
pub fn instance_actor_name(tx: &impl Tx) -> Result<String> {
    let meta = tx.table(tables::META)?;
    let name = meta.get(INSTANCE_ACTOR_KEY)?;
    match name {
        Some(v) => String::from_utf8(v.value().to_vec())
            .map_err(|_| ServiceError::internal("reading the instance actor's name", "not UTF-8")),
        None => Ok(INSTANCE_ACTOR_NAMES[0].to_owned()),
    }
}

/// Reserve the instance actor's name in the actor index, once (at start): from then on no user
/// or channel can take it.
pub fn reserve_instance_actor(tx: &WriteTransaction) -> Result<()> {
    if tx
        .open_table(tables::META)?
        .get(INSTANCE_ACTOR_KEY)?
        .is_some()
    {
        return Ok(());
    }
    let mut name = None;
    for candidate in INSTANCE_ACTOR_NAMES {
        if !actor_exists(tx, candidate)? {
            name = Some(candidate.to_owned());
            break;
        }
    }
    // All three taken by users: a numbered name is free for certain, since the index is finite.
    let name = match name {
        Some(n) => n,
        None => first_free_numbered(tx)?,
    };
    set_actor_name(tx, &name, ActorRef::Instance)?;
    tx.open_table(tables::META)?
        .insert(INSTANCE_ACTOR_KEY, name.as_bytes())?;
    Ok(())
}

fn first_free_numbered(tx: &WriteTransaction) -> Result<String> {
    let mut n: u64 = 2;
    loop {
        let name = format!("vireo_instance_{n}");
        if !actor_exists(tx, &name)? {
            return Ok(name);
        }
        n += 1;
    }
}

/// The local actor an index entry points at (`None` for a deleted account or channel).
pub fn local_by_ref(core: &Core, actor: ActorRef) -> Result<Option<Local>> {
    let tx = core.store.read()?;
    Ok(match actor {
        ActorRef::Account(id) => {
            records::get::<Account>(&tx, tables::ACCOUNTS, id)?.map(Local::Account)
        }
        ActorRef::Channel(id) => {
            records::get::<Channel>(&tx, tables::CHANNELS, id)?.map(Local::Channel)
        }
        ActorRef::Instance => Some(Local::Instance(instance_actor_name(&tx)?)),
    })
}

/// The local actor a URL of this instance names (`/accounts/{name}`, `/video-channels/{name}`,
/// absolute, as activities name them).
pub fn local_by_url(core: &Core, url: &str) -> Result<Option<Local>> {
    let base = core.config().public_url();
    let Some(path) = url.strip_prefix(base.as_str()) else {
        return Ok(None);
    };
    let (channel, name) = if let Some(n) = path.strip_prefix("/accounts/") {
        (false, n)
    } else if let Some(n) = path.strip_prefix("/video-channels/") {
        (true, n)
    } else {
        return Ok(None);
    };
    if name.is_empty() || name.contains(['/', '?', '#', '@']) {
        return Ok(None);
    }
    Ok(match local_by_handle(core, name)? {
        Some(Local::Channel(c)) if channel => Some(Local::Channel(c)),
        Some(l @ (Local::Account(_) | Local::Instance(_))) if !channel => Some(l),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("vireo.redb")).unwrap();
        (dir, store)
    }

    #[test]
    fn the_instance_actor_is_peertube_and_keeps_its_name() {
        let (_dir, store) = store();
        store.write(reserve_instance_actor).unwrap();
        store.write(reserve_instance_actor).unwrap();
        let tx = store.read().unwrap();
        assert_eq!(instance_actor_name(&tx).unwrap(), "peertube");
        assert_eq!(
            resolve_actor(&tx, "PeerTube").unwrap(),
            Some(ActorRef::Instance)
        );
    }

    #[test]
    fn a_user_named_peertube_before_federation_keeps_the_name() {
        let (_dir, store) = store();
        store
            .write(|tx| {
                for (i, name) in ["peertube", "vireo_instance"].iter().enumerate() {
                    set_actor_name(tx, name, ActorRef::Account(i as u64 + 1))?;
                }
                Ok::<_, ServiceError>(())
            })
            .unwrap();
        store.write(reserve_instance_actor).unwrap();
        let tx = store.read().unwrap();
        assert_eq!(instance_actor_name(&tx).unwrap(), "vireo_instance_actor");
        assert_eq!(
            resolve_actor(&tx, "peertube").unwrap(),
            Some(ActorRef::Account(1))
        );
        assert_eq!(
            resolve_actor(&tx, "vireo_instance_actor").unwrap(),
            Some(ActorRef::Instance)
        );
    }
}
