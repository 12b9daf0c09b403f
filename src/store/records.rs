//! Typed get/put/scan over tables keyed by integer id whose values are versioned records.

use redb::{ReadableTable, TableDefinition, WriteTransaction};

use super::{Record, Result, Tx, codec};

/// An id-keyed table of records.
pub type IdTable = TableDefinition<'static, u64, &'static [u8]>;

/// Read one record by id.
pub fn get<T: Record>(tx: &impl Tx, def: IdTable, id: u64) -> Result<Option<T>> {
    let table = tx.table(def)?;
    let value = table.get(id)?;
    match value {
        Some(v) => Ok(Some(codec::decode(v.value())?)),
        None => Ok(None),
    }
}

/// Insert or replace one record.
pub fn put<T: Record>(tx: &WriteTransaction, def: IdTable, id: u64, record: &T) -> Result<()> {
    let mut table = tx.open_table(def)?;
    table.insert(id, codec::encode(record).as_slice())?;
    Ok(())
}

/// Remove one record; returns whether it existed.
pub fn remove(tx: &WriteTransaction, def: IdTable, id: u64) -> Result<bool> {
    let mut table = tx.open_table(def)?;
    let existed = table.remove(id)?.is_some();
    Ok(existed)
}

/// Every record of a table in id order. Used for small tables and for rebuilding derived state.
pub fn all<T: Record>(tx: &impl Tx, def: IdTable) -> Result<Vec<T>> {
    let table = tx.table(def)?;
    let mut out = Vec::new();
    for entry in table.range::<u64>(..)? {
        let (_, v) = entry?;
        out.push(codec::decode(v.value())?);
    }
    Ok(out)
}

/// A named singleton record in `meta`.
pub fn get_meta<T: Record>(tx: &impl Tx, key: &str) -> Result<Option<T>> {
    let table = tx.table(super::tables::META)?;
    let value = table.get(key)?;
    match value {
        Some(v) => Ok(Some(codec::decode(v.value())?)),
        None => Ok(None),
    }
}

/// Store a named singleton record in `meta`.
pub fn put_meta<T: Record>(tx: &WriteTransaction, key: &str, record: &T) -> Result<()> {
    let mut table = tx.open_table(super::tables::META)?;
    table.insert(key, codec::encode(record).as_slice())?;
    Ok(())
}
