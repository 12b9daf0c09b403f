//! What makes a type a stored record: the name it is known by in errors and the version of its
//! shape. `store::codec` writes that version before the JSON and, on read, hands an older
//! version's JSON to `migrate`, so upgrades need no offline step.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A type stored as a redb value.
pub trait Record: Serialize + DeserializeOwned {
    /// Name used in error messages.
    const KIND: &'static str;
    /// The version written by this build.
    const VERSION: u8;

    /// Turn an older version's JSON into the current type; `None` when that version cannot be
    /// read. The default reads nothing older.
    fn migrate(_found: u8, _value: serde_json::Value) -> Option<Self> {
        None
    }
}
