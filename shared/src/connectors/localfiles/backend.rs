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

use crate::backends::{
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
    /// A directory the root must still resolve strictly below, checked on every call.
    confined_to: Option<PathBuf>,
    cache: Arc<Mutex<DirCache>>,
}

impl LocalBackend {
    pub fn new(root: PathBuf) -> Self {
        LocalBackend {
            root,
            confined_to: None,
            cache: Arc::default(),
        }
    }

    /// Refuses every call once the root no longer resolves strictly below `outer`: a storage
    /// directory swapped for a symlink after the storage was created leads nowhere.
    pub fn confined_to(mut self, outer: PathBuf) -> Self {
        self.confined_to = Some(outer);
        self
    }

    fn check_confinement(&self) -> Result<(), BackendError> {
        let Some(outer) = &self.confined_to else {
            return Ok(());
        };
        match (self.root.canonicalize(), outer.canonicalize()) {
            (Ok(root), Ok(outer)) if root.starts_with(&outer) && root != outer => Ok(()),
            (Err(e), _) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            _ => Err(BackendError::PermissionDenied {
                what: self.root.to_string_lossy().into_owned(),
                detail: format!(
                    "it no longer resolves to a directory below {} (replaced by a symlink?)",
                    outer.display()
                ),
            }),
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
        self.check_confinement()?;
        let walk = Walk {
            root: self.root.clone(),
            prefix: request.prefix.to_owned(),
            recursive: request.recursive,
            after: request.resume_key().map(str::to_owned),
            max_keys: request.max_keys.max(1),
            cache: self.cache.clone(),
        };
        tokio::task::spawn_blocking(move || walk.run())
            .await
            .map_err(|e| join_error("list", e))?
    }

    /// The walk descends straight to the key to resume after.
    fn lists_after_key(&self) -> bool {
        true
    }

    async fn head(&self, key: &str) -> Result<ObjectMeta, BackendError> {
        self.check_confinement()?;
        let path = self.path_of(key)?;
        Ok(meta_of(key, &file_metadata(&path, key).await?))
    }

    async fn get(&self, key: &str, range: Option<ByteRange>) -> Result<GetResult, BackendError> {
        self.check_confinement()?;
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
        self.check_confinement()?;
        let path = self.path_of(key)?;
        let owned_key = key.to_owned();
        tokio::task::spawn_blocking(move || {
            write_atomically(&path, &body).map_err(|e| io_error("put", &owned_key, e))
        })
        .await
        .map_err(|e| join_error("put", e))?
    }

    async fn delete(&self, key: &str) -> Result<(), BackendError> {
        self.check_confinement()?;
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

/// One entry of a directory as the walk sees it.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    /// The sort name: the file name, `name/` for a directory; lossy when not UTF-8.
    name: String,
    is_dir: bool,
    /// The name is not UTF-8, so it cannot be a key: the walk reports it instead.
    unreadable: bool,
}

/// One directory's entries, sorted by their sort name.
#[derive(Debug)]
struct DirListing {
    path: PathBuf,
    modified: Option<SystemTime>,
    entries: Arc<Vec<Entry>>,
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
    fn entries(cache: &Mutex<DirCache>, dir: &Path) -> std::io::Result<Arc<Vec<Entry>>> {
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
fn read_sorted(dir: &Path) -> std::io::Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let file_type = entry.file_type()?;
        let file_name = entry.file_name();
        let (name, unreadable) = match file_name.to_str() {
            Some(name) => (name.to_owned(), false),
            None => (file_name.to_string_lossy().into_owned(), true),
        };
        if name.starts_with('.') && name.ends_with(".tmp") {
            continue;
        }
        let is_dir = file_type.is_dir();
        if is_dir || file_type.is_file() {
            let name = if is_dir { format!("{name}/") } else { name };
            entries.push(Entry {
                name,
                is_dir,
                unreadable,
            });
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
        match self.visit(&dir, dir_part, name_start, &mut page, &mut more) {
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
        page: &mut ListPage,
        more: &mut bool,
    ) -> std::io::Result<()> {
        let entries = DirCache::entries(&self.cache, dir)?;
        let after = self.after.as_deref();
        let first = match after {
            // Skip siblings that sort before the continuation (and whole directories before it).
            Some(after) if after.starts_with(key_prefix) => {
                let rest = &after[key_prefix.len()..];
                entries.partition_point(|entry| {
                    let name = entry.name.as_str();
                    if entry.is_dir {
                        name < rest && !rest.starts_with(name)
                    } else {
                        name <= rest
                    }
                })
            }
            _ => 0,
        };
        for entry in &entries[first..] {
            if *more {
                return Ok(());
            }
            let name = entry.name.as_str();
            if !name.starts_with(name_start) {
                continue;
            }
            let key = format!("{key_prefix}{name}");
            if entry.unreadable {
                // Reported once: on the page that passes it, like a key would be listed.
                if after.is_some_and(|a| key.as_str() <= a) {
                    continue;
                }
                if page.objects.len() == self.max_keys {
                    *more = true;
                    return Ok(());
                }
                page.skipped.push(format!(
                    "{key:?} was skipped: its name is not valid UTF-8, so it cannot be a task key; rename it"
                ));
                continue;
            }
            if entry.is_dir {
                if self.recursive {
                    self.visit(&dir.join(name.trim_end_matches('/')), &key, "", page, more)?;
                }
                continue;
            }
            if after.is_some_and(|a| key.as_str() <= a) {
                continue;
            }
            if page.objects.len() == self.max_keys {
                *more = true;
                return Ok(());
            }
            match std::fs::symlink_metadata(dir.join(name)) {
                Ok(metadata) if metadata.is_file() => page.objects.push(meta_of(&key, &metadata)),
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
                start_after: None,
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
    async fn a_root_swapped_for_a_symlink_out_of_its_confinement_is_refused() {
        let outer = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        std::fs::write(elsewhere.path().join("secret.txt"), "x").unwrap();
        let root = outer.path().join("storage");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(root.join("ok.txt"), "x").unwrap();
        let store = LocalBackend::new(root.clone()).confined_to(outer.path().to_owned());
        let request = ListRequest {
            prefix: "",
            recursive: true,
            continuation: None,
            start_after: None,
            max_keys: 10,
        };
        assert_eq!(store.list_page(request).await.unwrap().objects.len(), 1);
        std::fs::remove_dir_all(&root).unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), &root).unwrap();
        let refused = store.list_page(request).await.unwrap_err();
        assert!(
            matches!(refused, BackendError::PermissionDenied { .. }),
            "{refused}"
        );
        assert!(store.get("secret.txt", None).await.is_err());
    }

    #[tokio::test]
    async fn names_that_are_not_utf8_are_reported_once_not_dropped() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        for name in ["a", "c", "e"] {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        let odd = std::ffi::OsStr::from_bytes(b"d\xff");
        std::fs::write(dir.path().join(odd), "x").unwrap();
        let store = LocalBackend::new(dir.path().to_owned());
        let (mut keys, mut skipped, mut after) = (Vec::new(), Vec::new(), None::<String>);
        loop {
            let request = ListRequest {
                prefix: "",
                recursive: true,
                continuation: after.as_deref(),
                start_after: None,
                max_keys: 2,
            };
            let page = store.list_page(request).await.unwrap();
            keys.extend(page.objects.into_iter().map(|o| o.key));
            skipped.extend(page.skipped);
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        assert_eq!(keys, ["a", "c", "e"]);
        assert_eq!(skipped.len(), 1, "{skipped:?}");
        assert!(skipped[0].contains("not valid UTF-8"), "{skipped:?}");
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
                start_after: None,
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
            start_after: None,
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
            start_after: None,
            max_keys: 10,
        };
        assert!(matches!(
            store.list_page(request).await,
            Err(BackendError::NotFound { .. })
        ));
    }
}
