//! Accounts: the public identity (ActivityPub Person) of a local user or of a remote actor.

use serde::{Deserialize, Serialize};

use super::Record;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub id: u64,
    /// The actor's preferred username (unique on its host).
    pub name: String,
    pub display_name: String,
    pub description: Option<String>,
    /// The local user behind it; `None` for remote accounts.
    pub user_id: Option<u64>,
    /// `None` for local accounts, else the remote host.
    pub host: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    /// A remote actor's id (its URL on its server); `None` for local ones.
    #[serde(default)]
    pub url: Option<String>,
}

impl Account {
    /// How this instance's pages and API name it: `name` when local, `name@host` when remote.
    pub fn handle(&self) -> String {
        match &self.host {
            Some(host) => format!("{}@{host}", self.name),
            None => self.name.clone(),
        }
    }
}

impl Record for Account {
    const KIND: &'static str = "account";
    const VERSION: u8 = 1;
}

/// Which actor an entry in the shared name index points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "camelCase")]
pub enum ActorRef {
    Account(u64),
    Channel(u64),
    /// The instance's own `Application` actor, which follows other instances (its name is
    /// `peertube` unless a user had taken it before federation existed: see `service::actors`).
    Instance,
}

impl Record for ActorRef {
    const KIND: &'static str = "actor name";
    const VERSION: u8 = 1;
}
