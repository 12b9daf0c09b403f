//! Video channels: creation, lookup by handle, listing, updates and deletion.

use redb::{ReadableTable, WriteTransaction};

use super::listing::Page;
use super::{Core, Result, ServiceError, actors, validate};
use crate::model::account::{Account, ActorRef};
use crate::model::channel::Channel;
use crate::model::now_ms;
use crate::store::{Tx, next_id, records, tables};

#[derive(Debug, Clone)]
pub struct NewChannel {
    pub name: String,
    pub display_name: String,
    pub description: Option<String>,
    pub support: Option<String>,
}

fn validate_new(c: &NewChannel) -> Result<()> {
    validate::actor_name("name", &c.name)?;
    validate::name("displayName", &c.display_name, 1, 120)?;
    if let Some(d) = &c.description {
        validate::text("description", d, 3, 1000)?;
    }
    if let Some(s) = &c.support {
        validate::text("support", s, 3, 1000)?;
    }
    Ok(())
}

/// Create a channel owned by `account_id`.
pub fn create(core: &Core, account_id: u64, c: NewChannel) -> Result<Channel> {
    validate_new(&c)?;
    core.store.write(|tx| {
        let account: Account = records::get(tx, tables::ACCOUNTS, account_id)?
            .ok_or(ServiceError::NotFound("account"))?;
        let max = core.config().user.max_channels;
        if of_account(tx, account_id)?.len() >= max {
            return Err(ServiceError::invalid(
                "name",
                format!("You cannot create more than {max} channels"),
            ));
        }
        create_in(tx, &account, c.clone())
    })
}

pub(crate) fn create_in(
    tx: &WriteTransaction,
    account: &Account,
    c: NewChannel,
) -> Result<Channel> {
    validate_new(&c)?;
    if actors::actor_exists(tx, &c.name)? {
        return Err(ServiceError::Conflict(
            "Another actor (account/channel) with this name on this instance already exists or has already existed."
                .into(),
        ));
    }
    let now = now_ms();
    let id = next_id(tx, "channels")?;
    let channel = Channel {
        id,
        name: c.name,
        display_name: c.display_name,
        description: c.description,
        support: c.support,
        account_id: account.id,
        host: None,
        created_at_ms: now,
        updated_at_ms: now,
        url: None,
    };
    records::put(tx, tables::CHANNELS, id, &channel)?;
    actors::set_actor_name(tx, &channel.name, ActorRef::Channel(id))?;
    tx.open_table(tables::CHANNELS_BY_ACCOUNT)?
        .insert((account.id, id), ())?;
    Ok(channel)
}

pub fn get(tx: &impl Tx, id: u64) -> Result<Option<Channel>> {
    Ok(records::get(tx, tables::CHANNELS, id)?)
}

/// An account's channels, oldest first.
pub fn of_account(tx: &impl Tx, account_id: u64) -> Result<Vec<Channel>> {
    let table = tx.table(tables::CHANNELS_BY_ACCOUNT)?;
    let mut out = Vec::new();
    for entry in table.range((account_id, 0)..=(account_id, u64::MAX))? {
        let (key, _) = entry?;
        let (_, channel_id) = key.value();
        if let Some(c) = get(tx, channel_id)? {
            out.push(c);
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelSort {
    Id,
    Name,
    DisplayName,
    CreatedAt,
    UpdatedAt,
}

/// One page of channels (all channels, or one account's), and the number matching.
pub fn list(
    core: &Core,
    account_id: Option<u64>,
    search: Option<&str>,
    sort: (ChannelSort, bool),
    page: Page,
) -> Result<(usize, Vec<Channel>)> {
    let tx = core.store.read()?;
    let mut channels = match account_id {
        Some(a) => of_account(&tx, a)?,
        None => records::all(&tx, tables::CHANNELS)?,
    };
    if let Some(s) = search.map(str::to_lowercase) {
        channels.retain(|c| {
            c.name.to_lowercase().contains(&s) || c.display_name.to_lowercase().contains(&s)
        });
    }
    let (key, descending) = sort;
    channels.sort_by(|a, b| {
        let o = match key {
            ChannelSort::Id => a.id.cmp(&b.id),
            ChannelSort::Name => a.name.cmp(&b.name),
            ChannelSort::DisplayName => a
                .display_name
                .to_lowercase()
                .cmp(&b.display_name.to_lowercase())
                .then(a.id.cmp(&b.id)),
            ChannelSort::CreatedAt => a.created_at_ms.cmp(&b.created_at_ms),
            ChannelSort::UpdatedAt => a.updated_at_ms.cmp(&b.updated_at_ms),
        }
        .then(a.id.cmp(&b.id));
        if descending { o.reverse() } else { o }
    });
    let total = channels.len();
    Ok((
        total,
        channels
            .into_iter()
            .skip(page.start)
            .take(page.count)
            .collect(),
    ))
}

/// The accounts owning each channel, in the same order.
pub fn owners(core: &Core, list: &[Channel]) -> Result<Vec<Account>> {
    let tx = core.store.read()?;
    list.iter()
        .map(|c| super::actors::account(&tx, c.account_id))
        .collect()
}

/// An account's channels, oldest first, read on their own.
pub fn of(core: &Core, account_id: u64) -> Result<Vec<Channel>> {
    of_account(&core.store.read()?, account_id)
}

/// Fields of `PUT /api/v1/video-channels/{handle}`; `Some(None)` clears a nullable field.
#[derive(Debug, Clone, Default)]
pub struct ChannelUpdate {
    pub display_name: Option<String>,
    pub description: Option<Option<String>>,
    pub support: Option<Option<String>>,
    /// Give every video of the channel its (new) support text too.
    pub bulk_videos_support: bool,
}

pub fn update(core: &Core, id: u64, up: ChannelUpdate) -> Result<Channel> {
    if let Some(d) = &up.display_name {
        validate::name("displayName", d, 1, 120)?;
    }
    if let Some(Some(d)) = &up.description {
        validate::text("description", d, 3, 1000)?;
    }
    if let Some(Some(s)) = &up.support {
        validate::text("support", s, 3, 1000)?;
    }
    core.store
        .write(|tx| {
            let mut c = get(tx, id)?.ok_or(ServiceError::NotFound("video channel"))?;
            if let Some(d) = &up.display_name {
                c.display_name = d.clone();
            }
            if let Some(d) = &up.description {
                c.description = d.clone();
            }
            if let Some(s) = &up.support {
                c.support = s.clone();
            }
            c.updated_at_ms = now_ms();
            records::put(tx, tables::CHANNELS, id, &c)?;
            if up.bulk_videos_support {
                super::videos::set_channel_support_in(tx, id, &c.support)?;
            }
            if up.display_name.is_some() {
                super::indexing::enqueue_owner_reindex(
                    core,
                    tx,
                    super::indexing::Owner::Channel(id),
                )?;
            }
            Ok(c)
        })
        .inspect(|_| core.jobs_wake.notify())
}

/// Delete a channel and its videos. A user's last channel cannot go (PeerTube's rule: every user
/// keeps somewhere to upload to).
pub fn delete(core: &Core, id: u64) -> Result<()> {
    core.catalog.write(|| {
        core.store.write(|tx| {
            let c = get(tx, id)?.ok_or(ServiceError::NotFound("video channel"))?;
            if of_account(tx, c.account_id)?.len() <= 1 {
                return Err(ServiceError::Conflict(
                    "Cannot remove the last channel of this user".into(),
                ));
            }
            let removed = super::videos::delete_channel_videos_in(tx, id)?;
            remove_in(tx, &c)?;
            Ok(((), removed))
        })
    })?;
    core.jobs_wake.notify();
    Ok(())
}

/// Remove a channel's own rows. Its name stays reserved in the actor index, as PeerTube keeps
/// deleted actor names unavailable (remote servers may still cache the old actor).
pub(crate) fn remove_in(tx: &WriteTransaction, c: &Channel) -> Result<()> {
    records::remove(tx, tables::CHANNELS, c.id)?;
    tx.open_table(tables::CHANNELS_BY_ACCOUNT)?
        .remove((c.account_id, c.id))?;
    Ok(())
}

/// A channel by id, read on its own.
pub fn by_id(core: &Core, id: u64) -> Result<Channel> {
    get(&core.store.read()?, id)?.ok_or(ServiceError::NotFound("video channel"))
}
