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
        let data_dir_error = |source| EmbeddedDbError::DataDir {
            path: data_dir.to_owned(),
            source,
        };
        private_dir(data_dir).map_err(data_dir_error)?;
        let path = data_dir.join(STORE_FILE);
        private_file(&path).map_err(data_dir_error)?;
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

/// Creates `dir` (and its parents) readable by this user only, and narrows an existing one:
/// the store holds storage secrets.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

/// Creates `path` empty with mode 0600 if it does not exist, and narrows it if it does.
pub fn private_file(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn the_data_directory_and_store_are_private() {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("data");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let db = EmbeddedDb::open(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(db.path()), 0o600);
    }
}
