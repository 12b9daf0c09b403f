//! Video channels: a Group actor owned by an account; every video belongs to one channel.

use serde::{Deserialize, Serialize};

use super::Record;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Channel {
    pub id: u64,
    pub name: String,
    pub display_name: String,
    pub description: Option<String>,
    pub support: Option<String>,
    pub account_id: u64,
    pub host: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    /// A remote actor's id (its URL on its server); `None` for local ones.
    #[serde(default)]
    pub url: Option<String>,
}

impl Channel {
    /// How this instance's pages and API name it: `name` when local, `name@host` when remote.
    pub fn handle(&self) -> String {
        match &self.host {
            Some(host) => format!("{}@{host}", self.name),
            None => self.name.clone(),
        }
    }
}

impl Record for Channel {
    const KIND: &'static str = "channel";
    const VERSION: u8 = 1;
}
