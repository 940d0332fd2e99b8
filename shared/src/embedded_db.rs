//! The embedded store file: one `redb` database that holds both the embedded state and the
//! embedded queue, so that a crash loses nothing that was acknowledged.

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The store's page cache: enough for the hot index pages; bounds the process's memory
/// whatever the size of the store.
const CACHE_BYTES: usize = 32 * 1024 * 1024;

/// File name of the store inside the data directory.
pub const STORE_FILE: &str = "labelsync.redb";

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedDbError {
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the embedded store {path} (is another labelsync using it?): {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: redb::DatabaseError,
    },
}

/// The opened store file, shared by [`crate::state::embedded`] and [`crate::queue::embedded`].
#[derive(Debug)]
pub struct EmbeddedDb {
    database: redb::Database,
    path: PathBuf,
}

impl EmbeddedDb {
    /// Opens (or creates) `<data_dir>/labelsync.redb`.
    pub fn open(data_dir: &Path) -> Result<Arc<Self>, EmbeddedDbError> {
        std::fs::create_dir_all(data_dir).map_err(|source| EmbeddedDbError::DataDir {
            path: data_dir.to_owned(),
            source,
        })?;
        let path = data_dir.join(STORE_FILE);
        let database = redb::Builder::new()
            .set_cache_size(CACHE_BYTES)
            .create(&path)
            .map_err(|source| EmbeddedDbError::Open {
                path: path.clone(),
                source,
            })?;
        Ok(Arc::new(EmbeddedDb { database, path }))
    }

    pub fn database(&self) -> &redb::Database {
        &self.database
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}
