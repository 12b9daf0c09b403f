//! Where Vireo's data is kept and how it survives a crash: one redb file in the data directory.
//!
//! Every logical change is one write transaction (`Store::write`), committed with redb's default
//! immediate durability, so after `kill -9` the file holds either all of a change or none of it.
//! The modules beside this one are typed accessors over the tables in `tables`; services compose
//! them inside one transaction.

pub mod codec;
pub mod jobs;
pub mod records;
pub mod tables;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use redb::{
    Database, ReadOnlyTable, ReadTransaction, ReadableDatabase, Table, TableDefinition,
    WriteTransaction,
};

pub use codec::{CodecError, Record};

/// The schema generation this build writes into `meta`.
pub const SCHEMA_VERSION: u64 = 1;

/// What can go wrong below the service layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database {path} is in use by another Vireo process")]
    InUse { path: PathBuf },
    #[error("database error: {0}")]
    Database(#[from] redb::DatabaseError),
    #[error("transaction error: {0}")]
    Transaction(#[from] redb::TransactionError),
    #[error("table error: {0}")]
    Table(#[from] redb::TableError),
    #[error("storage error: {0}")]
    Storage(#[from] redb::StorageError),
    #[error("commit error: {0}")]
    Commit(#[from] redb::CommitError),
    #[error(transparent)]
    Codec(#[from] CodecError),
    #[error("the data was written by a newer Vireo (schema {found}, this build knows {supported})")]
    NewerSchema { found: u64, supported: u64 },
    #[error("{0}")]
    Corrupt(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The open database.
#[derive(Debug)]
pub struct Store {
    db: Database,
    path: PathBuf,
    /// Bumped after every commit: derived caches compare it to know whether they are stale.
    generation: AtomicU64,
}

impl Store {
    /// Open (or create) the store at `path`, creating every table and checking the schema version.
    pub fn open(path: &Path) -> Result<Self> {
        let db = match Database::create(path) {
            Ok(db) => db,
            Err(redb::DatabaseError::DatabaseAlreadyOpen) => {
                return Err(StoreError::InUse {
                    path: path.to_owned(),
                });
            }
            Err(e) => return Err(e.into()),
        };
        let store = Store {
            db,
            path: path.to_owned(),
            generation: AtomicU64::new(0),
        };
        store.write(|tx| {
            create_tables(tx)?;
            check_schema(tx)?;
            index_chores(tx)?;
            index_deliveries(tx)
        })?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Run `f` in one write transaction and commit it if `f` succeeds; on error nothing is kept.
    pub fn write<T, E>(&self, f: impl FnOnce(&WriteTransaction) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let tx = self.db.begin_write().map_err(StoreError::from)?;
        let out = f(&tx)?;
        tx.commit().map_err(StoreError::from)?;
        self.generation.fetch_add(1, Ordering::Release);
        Ok(out)
    }

    /// How many transactions have committed since the store was opened. A value derived from the
    /// store at generation `g` is current while `generation()` is still `g`.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// A consistent read-only snapshot.
    pub fn read(&self) -> Result<ReadTransaction> {
        Ok(self.db.begin_read()?)
    }

    /// Cheap liveness probe used by `/readyz`: a read transaction and one point read.
    pub fn ping(&self) -> Result<()> {
        let tx = self.read()?;
        let meta = tx.table(tables::META)?;
        redb::ReadableTable::get(&meta, "schema_version")?;
        Ok(())
    }
}

/// Tables readable from either kind of transaction, so accessors serve reads and writes alike.
pub trait Tx {
    type Table<'a, K: redb::Key + 'static, V: redb::Value + 'static>: redb::ReadableTable<K, V>
    where
        Self: 'a;
    fn table<'a, K: redb::Key + 'static, V: redb::Value + 'static>(
        &'a self,
        def: TableDefinition<K, V>,
    ) -> Result<Self::Table<'a, K, V>>;
}

impl Tx for ReadTransaction {
    type Table<'a, K: redb::Key + 'static, V: redb::Value + 'static> = ReadOnlyTable<K, V>;
    fn table<K: redb::Key + 'static, V: redb::Value + 'static>(
        &self,
        def: TableDefinition<K, V>,
    ) -> Result<ReadOnlyTable<K, V>> {
        Ok(self.open_table(def)?)
    }
}

impl Tx for WriteTransaction {
    type Table<'a, K: redb::Key + 'static, V: redb::Value + 'static> = Table<'a, K, V>;
    fn table<'a, K: redb::Key + 'static, V: redb::Value + 'static>(
        &'a self,
        def: TableDefinition<K, V>,
    ) -> Result<Table<'a, K, V>> {
        Ok(self.open_table(def)?)
    }
}

fn create_tables(tx: &WriteTransaction) -> Result<()> {
    use tables::*;
    tx.open_table(META)?;
    tx.open_table(SEQUENCES)?;
    tx.open_table(USERS)?;
    tx.open_table(USERS_BY_NAME)?;
    tx.open_table(USERS_BY_EMAIL)?;
    tx.open_table(ACCOUNTS)?;
    tx.open_table(CHANNELS)?;
    tx.open_table(ACTORS_BY_NAME)?;
    tx.open_table(ACTOR_KEYS)?;
    tx.open_table(REMOTE_ACTORS)?;
    tx.open_table(FOLLOWERS)?;
    tx.open_table(FOLLOWING)?;
    tx.open_table(CHORES)?;
    tx.open_table(CHORES_DUE)?;
    tx.open_table(BLOCKLIST)?;
    tx.open_table(USER_BLOCKS)?;
    tx.open_table(DELIVERY_HOSTS)?;
    tx.open_table(FOLLOWS_BY_ACTIVITY)?;
    tx.open_table(SEEN_ACTIVITIES)?;
    tx.open_table(SEEN_BY_TIME)?;
    tx.open_table(DELIVERIES)?;
    tx.open_table(OUTBOX)?;
    tx.open_table(VIDEO_RATES)?;
    tx.open_table(RATES_BY_ACTIVITY)?;
    tx.open_table(ACCOUNT_RATES)?;
    tx.open_table(DELIVERIES_DUE)?;
    tx.open_table(CHANNELS_BY_ACCOUNT)?;
    tx.open_table(VIDEOS)?;
    tx.open_table(VIDEOS_BY_UUID)?;
    tx.open_table(VIDEOS_BY_URL)?;
    tx.open_table(REMOTE_OWNERS)?;
    tx.open_table(REMOTE_HANDLES)?;
    tx.open_table(VIDEO_SOURCES)?;
    tx.open_table(VIDEO_MEDIA)?;
    tx.open_table(TOKENS)?;
    tx.open_table(REFRESH_TOKENS)?;
    tx.open_table(USER_TOKENS)?;
    tx.open_table(UPLOADS)?;
    tx.open_table(JOBS)?;
    tx.open_table(JOBS_PENDING)?;
    Ok(())
}

/// Fill `CHORES_DUE` from `CHORES` when chores are queued but none is indexed: a store written
/// before the index existed. Later writes keep the two equal in the same transaction.
fn index_chores(tx: &WriteTransaction) -> Result<()> {
    use redb::ReadableTableMetadata;
    if !tx.open_table(tables::CHORES_DUE)?.is_empty()?
        || tx.open_table(tables::CHORES)?.is_empty()?
    {
        return Ok(());
    }
    let queued: Vec<crate::model::federation::QueuedChore> = records::all(tx, tables::CHORES)?;
    let mut due = tx.open_table(tables::CHORES_DUE)?;
    for c in queued {
        due.insert((c.next_at_ms, c.id), ())?;
    }
    Ok(())
}

/// Fill `DELIVERIES_DUE` from `DELIVERIES` when deliveries are queued but none is indexed: a
/// store written when the due order did not name each delivery's host (its table, without the
/// hosts, is dropped).
fn index_deliveries(tx: &WriteTransaction) -> Result<()> {
    use redb::ReadableTableMetadata;
    const WITHOUT_HOSTS: redb::TableDefinition<(i64, u64), ()> =
        redb::TableDefinition::new("deliveries_due");
    tx.delete_table(WITHOUT_HOSTS)?;
    if !tx.open_table(tables::DELIVERIES_DUE)?.is_empty()?
        || tx.open_table(tables::DELIVERIES)?.is_empty()?
    {
        return Ok(());
    }
    let queued: Vec<crate::model::federation::Delivery> = records::all(tx, tables::DELIVERIES)?;
    let mut due = tx.open_table(tables::DELIVERIES_DUE)?;
    for d in queued {
        due.insert((d.next_at_ms, d.id), d.host().unwrap_or_default().as_str())?;
    }
    Ok(())
}

fn check_schema(tx: &WriteTransaction) -> Result<()> {
    let mut meta = tx.open_table(tables::META)?;
    let found = match redb::ReadableTable::get(&meta, "schema_version")? {
        Some(v) => {
            let bytes: [u8; 8] = v
                .value()
                .try_into()
                .map_err(|_| StoreError::Corrupt("schema_version is not 8 bytes".into()))?;
            Some(u64::from_be_bytes(bytes))
        }
        None => None,
    };
    match found {
        Some(v) if v > SCHEMA_VERSION => Err(StoreError::NewerSchema {
            found: v,
            supported: SCHEMA_VERSION,
        }),
        Some(_) => Ok(()),
        None => {
            meta.insert("schema_version", SCHEMA_VERSION.to_be_bytes().as_slice())?;
            Ok(())
        }
    }
}

/// Allocate the next id of a kind inside the caller's transaction (ids start at 1).
pub fn next_id(tx: &WriteTransaction, kind: &str) -> Result<u64> {
    let mut seq = tx.open_table(tables::SEQUENCES)?;
    let next = redb::ReadableTable::get(&seq, kind)?
        .map(|v| v.value())
        .unwrap_or(0)
        + 1;
    seq.insert(kind, next)?;
    Ok(next)
}
