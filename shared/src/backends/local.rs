//! A directory as a backend. Keys are `/`-separated paths relative to the root; nothing outside
//! the root is reachable (no `..`, no absolute keys, no symlinks followed out of it).
//!
//! Listing walks the tree depth-first with siblings sorted by name (directories as `name/`),
//! which yields keys in global byte order, and resumes after a continuation key by descending
//! along it instead of re-walking what came before. Sorted directory listings are cached (by path
//! and modification time) so that paging through a 100,000-file directory reads it once.

use std::collections::VecDeque;
use std::fs::Metadata;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::{
    BackendError, ByteRange, GetResult, ListPage, ListRequest, ObjectMeta, ObjectStore,
    served_range,
};

/// Directories whose sorted listing is kept.
const CACHED_DIRECTORIES: usize = 4;
/// Read buffer of streamed gets.
const READ_CHUNK: usize = 64 * 1024;

/// A directory tree as an object store.
#[derive(Debug, Clone)]
pub struct LocalBackend {
    root: PathBuf,
    cache: Arc<Mutex<DirCache>>,
}

impl LocalBackend {
    pub fn new(root: PathBuf) -> Self {
        LocalBackend {
            root,
            cache: Arc::default(),
        }
    }

    /// The file a key names, refusing keys that could leave the root.
    fn path_of(&self, key: &str) -> Result<PathBuf, BackendError> {
        let invalid = |reason| BackendError::InvalidKey {
            key: key.to_owned(),
            reason,
        };
        if key.is_empty() || key.contains('\0') || key.contains('\\') {
            return Err(invalid("empty, or contains NUL or a backslash"));
        }
        if key
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
        {
            return Err(invalid("absolute, or has empty, `.` or `..` components"));
        }
        Ok(self.root.join(key))
    }
}

fn io_error(operation: &'static str, key: &str, source: std::io::Error) -> BackendError {
    match source.kind() {
        std::io::ErrorKind::NotFound => BackendError::NotFound {
            key: key.to_owned(),
        },
        std::io::ErrorKind::PermissionDenied => BackendError::PermissionDenied {
            what: key.to_owned(),
            detail: source.to_string(),
        },
        _ => BackendError::Io {
            operation,
            key: key.to_owned(),
            source,
        },
    }
}

fn join_error(operation: &'static str, error: tokio::task::JoinError) -> BackendError {
    BackendError::Service {
        operation,
        source: Box::new(error),
    }
}

fn meta_of(key: &str, metadata: &Metadata) -> ObjectMeta {
    let modified = metadata.modified().ok();
    let mtime_ns = modified
        .and_then(|m| m.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    ObjectMeta {
        key: key.to_owned(),
        size: metadata.len(),
        last_modified: modified.map(DateTime::<Utc>::from),
        etag: Some(format!("{mtime_ns:x}-{:x}", metadata.len())),
    }
}

/// A regular file that is not a symlink, or `NotFound`.
async fn file_metadata(path: &Path, key: &str) -> Result<Metadata, BackendError> {
    let metadata = tokio::fs::symlink_metadata(path)
        .await
        .map_err(|e| io_error("head", key, e))?;
    if !metadata.is_file() {
        return Err(BackendError::NotFound {
            key: key.to_owned(),
        });
    }
    Ok(metadata)
}

#[async_trait]
impl ObjectStore for LocalBackend {
    async fn list_page(&self, request: ListRequest<'_>) -> Result<ListPage, BackendError> {
        let walk = Walk {
            root: self.root.clone(),
            prefix: request.prefix.to_owned(),
            recursive: request.recursive,
            after: request.continuation.map(str::to_owned),
            max_keys: request.max_keys.max(1),
            cache: self.cache.clone(),
        };
        tokio::task::spawn_blocking(move || walk.run())
            .await
            .map_err(|e| join_error("list", e))?
    }

    async fn head(&self, key: &str) -> Result<ObjectMeta, BackendError> {
        let path = self.path_of(key)?;
        Ok(meta_of(key, &file_metadata(&path, key).await?))
    }

    async fn get(&self, key: &str, range: Option<ByteRange>) -> Result<GetResult, BackendError> {
        let path = self.path_of(key)?;
        let meta = meta_of(key, &file_metadata(&path, key).await?);
        let size = meta.size;
        let served = served_range(key, size, range)?;
        let mut file = tokio::fs::File::open(&path)
            .await
            .map_err(|e| io_error("open", key, e))?;
        if served.start > 0 {
            file.seek(std::io::SeekFrom::Start(served.start))
                .await
                .map_err(|e| io_error("seek", key, e))?;
        }
        let owned_key = key.to_owned();
        let reader = tokio_util::io::ReaderStream::with_capacity(
            file.take(served.end - served.start),
            READ_CHUNK,
        );
        let body = reader
            .map(move |chunk| chunk.map_err(|e| io_error("read", &owned_key, e)))
            .boxed();
        Ok(GetResult {
            meta,
            range: served,
            body,
        })
    }

    async fn put(&self, key: &str, body: Bytes) -> Result<(), BackendError> {
        let path = self.path_of(key)?;
        let owned_key = key.to_owned();
        tokio::task::spawn_blocking(move || {
            write_atomically(&path, &body).map_err(|e| io_error("put", &owned_key, e))
        })
        .await
        .map_err(|e| join_error("put", e))?
    }

    async fn delete(&self, key: &str) -> Result<(), BackendError> {
        let path = self.path_of(key)?;
        match tokio::fs::remove_file(&path).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_error("delete", key, e)),
            _ => Ok(()),
        }
    }
}

/// Writes to a temporary file beside the target, then renames it over the target.
fn write_atomically(path: &Path, body: &[u8]) -> std::io::Result<()> {
    let parent = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = parent.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    std::fs::write(&temporary, body)?;
    std::fs::rename(&temporary, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temporary);
    })
}

/// One directory's entries, sorted by their sort name (`name`, or `name/` for directories).
#[derive(Debug)]
struct DirListing {
    path: PathBuf,
    modified: Option<SystemTime>,
    entries: Arc<Vec<(String, bool)>>,
}

/// The last few directory listings.
#[derive(Debug, Default)]
struct DirCache {
    listings: VecDeque<DirListing>,
}

impl DirCache {
    /// The sorted entries of `dir`, from the cache while the directory's mtime is unchanged.
    /// (Directory mtimes tick at the file system's timestamp granularity; a file created in the
    /// same tick as the listing may show up one listing late.)
    fn entries(cache: &Mutex<DirCache>, dir: &Path) -> std::io::Result<Arc<Vec<(String, bool)>>> {
        let modified = std::fs::metadata(dir)?.modified().ok();
        let lock = || {
            cache
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        };
        if let Some(cached) = lock()
            .listings
            .iter()
            .find(|l| l.path == dir && modified.is_some() && l.modified == modified)
        {
            return Ok(cached.entries.clone());
        }
        let entries = Arc::new(read_sorted(dir)?);
        let mut guard = lock();
        guard.listings.retain(|l| l.path != dir);
        if guard.listings.len() == CACHED_DIRECTORIES {
            guard.listings.pop_front();
        }
        guard.listings.push_back(DirListing {
            path: dir.to_owned(),
            modified,
            entries: entries.clone(),
        });
        Ok(entries)
    }
}

/// Regular files and directories of `dir` (symlinks and others skipped), sorted so that a
/// depth-first walk gives keys in byte order.
fn read_sorted(dir: &Path) -> std::io::Result<Vec<(String, bool)>> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let file_type = entry.file_type()?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if name.starts_with('.') && name.ends_with(".tmp") {
            continue;
        }
        if file_type.is_dir() {
            entries.push((format!("{name}/"), true));
        } else if file_type.is_file() {
            entries.push((name, false));
        }
    }
    entries.sort_unstable();
    Ok(entries)
}

/// One page of a listing, computed on a blocking thread.
struct Walk {
    root: PathBuf,
    prefix: String,
    recursive: bool,
    after: Option<String>,
    max_keys: usize,
    cache: Arc<Mutex<DirCache>>,
}

impl Walk {
    fn run(self) -> Result<ListPage, BackendError> {
        // The directory the prefix names, and the start of names within it.
        let (dir_part, name_start) = match self.prefix.rfind('/') {
            Some(i) => (&self.prefix[..=i], &self.prefix[i + 1..]),
            None => ("", self.prefix.as_str()),
        };
        let dir = if dir_part.is_empty() {
            self.root.clone()
        } else {
            self.root.join(dir_part.trim_end_matches('/'))
        };
        if !dir_part.is_empty() && dir_part.split('/').any(|c| c == ".." || c == ".") {
            return Err(BackendError::InvalidKey {
                key: self.prefix.clone(),
                reason: "prefix has `.` or `..` components",
            });
        }
        let mut page = ListPage::default();
        let mut more = false;
        match self.visit(&dir, dir_part, name_start, &mut page.objects, &mut more) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !dir_part.is_empty() => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(BackendError::NotFound {
                    key: self.root.to_string_lossy().into_owned(),
                });
            }
            Err(e) => return Err(io_error("list", &self.prefix, e)),
            Ok(()) => {}
        }
        if more {
            page.next = page.objects.last().map(|o| o.key.clone());
        }
        Ok(page)
    }

    /// Visits `dir` (whose keys start with `key_prefix`); only names starting with
    /// `name_start` (the prefix's last part, at the top level) are taken.
    fn visit(
        &self,
        dir: &Path,
        key_prefix: &str,
        name_start: &str,
        out: &mut Vec<ObjectMeta>,
        more: &mut bool,
    ) -> std::io::Result<()> {
        let entries = DirCache::entries(&self.cache, dir)?;
        let after = self.after.as_deref();
        let first = match after {
            // Skip siblings that sort before the continuation (and whole directories before it).
            Some(after) if after.starts_with(key_prefix) => {
                let rest = &after[key_prefix.len()..];
                entries.partition_point(|(name, is_dir)| {
                    if *is_dir {
                        name.as_str() < rest && !rest.starts_with(name.as_str())
                    } else {
                        name.as_str() <= rest
                    }
                })
            }
            _ => 0,
        };
        for (name, is_dir) in &entries[first..] {
            if *more {
                return Ok(());
            }
            if !name.starts_with(name_start) {
                continue;
            }
            let key = format!("{key_prefix}{name}");
            if *is_dir {
                if self.recursive {
                    self.visit(&dir.join(name.trim_end_matches('/')), &key, "", out, more)?;
                }
                continue;
            }
            if after.is_some_and(|a| key.as_str() <= a) {
                continue;
            }
            if out.len() == self.max_keys {
                *more = true;
                return Ok(());
            }
            match std::fs::symlink_metadata(dir.join(name)) {
                Ok(metadata) if metadata.is_file() => out.push(meta_of(&key, &metadata)),
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::conformance;

    #[tokio::test]
    async fn passes_the_conformance_suite() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBackend::new(dir.path().to_owned());
        conformance::run_all(&store, "suite/").await;
    }

    #[tokio::test]
    async fn keys_cannot_leave_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBackend::new(dir.path().join("inner"));
        for key in ["../x", "/etc/passwd", "a/../../x", "a/./b", "", "a\\b"] {
            assert!(
                matches!(
                    store.get(key, None).await,
                    Err(BackendError::InvalidKey { .. })
                ),
                "{key}"
            );
            assert!(
                matches!(
                    store.put(key, Bytes::new()).await,
                    Err(BackendError::InvalidKey { .. })
                ),
                "{key}"
            );
        }
    }

    #[tokio::test]
    async fn symlinks_are_neither_listed_nor_read() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(dir.path().join("secret"), "s").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret"), root.join("link")).unwrap();
        std::os::unix::fs::symlink(dir.path(), root.join("dirlink")).unwrap();
        let store = LocalBackend::new(root);
        let page = store
            .list_page(ListRequest {
                prefix: "",
                recursive: true,
                continuation: None,
                max_keys: 10,
            })
            .await
            .unwrap();
        assert!(page.objects.is_empty(), "{page:?}");
        assert!(matches!(
            store.get("link", None).await,
            Err(BackendError::NotFound { .. })
        ));
    }

    #[tokio::test]
    async fn a_large_directory_pages_in_order_and_sees_new_files() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..3000 {
            std::fs::write(dir.path().join(format!("f{i:05}")), "x").unwrap();
        }
        let store = LocalBackend::new(dir.path().to_owned());
        let mut keys = Vec::new();
        let mut next: Option<String> = None;
        let mut pages = 0;
        loop {
            let request = ListRequest {
                prefix: "",
                recursive: false,
                continuation: next.as_deref(),
                max_keys: 1000,
            };
            let page = store.list_page(request).await.unwrap();
            pages += 1;
            keys.extend(page.objects.into_iter().map(|o| o.key));
            next = page.next;
            if next.is_none() {
                break;
            }
        }
        assert_eq!((pages, keys.len()), (3, 3000));
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(dir.path().join("g-new"), "x").unwrap();
        let request = ListRequest {
            prefix: "g",
            recursive: false,
            continuation: None,
            max_keys: 10,
        };
        let page = store.list_page(request).await.unwrap();
        assert_eq!(page.objects.len(), 1, "the cache must not hide a new file");
    }

    #[tokio::test]
    async fn a_missing_root_is_not_found() {
        let store = LocalBackend::new(PathBuf::from("/definitely/not/here"));
        let request = ListRequest {
            prefix: "",
            recursive: true,
            continuation: None,
            max_keys: 10,
        };
        assert!(matches!(
            store.list_page(request).await,
            Err(BackendError::NotFound { .. })
        ));
    }
}
