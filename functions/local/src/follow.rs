//! Local directories that follow themselves: every source storage that names a directory to
//! follow (`Storage::followed_directory`) is watched (inotify, through `notify`), and a file
//! written into it (closed after writing, or moved in) is imported as an object event would
//! be: one object, the same links, nothing twice. A file deleted or moved out is a removed
//! object: its tasks follow the storage's `removed_objects` policy.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use labelsync::context::Context;
use labelsync::model::{ObjectChange, StorageId, StorageRecord, StorageRole};
use labelsync::sync::ingest::ingest_one_object;
use labelsync::sync::removed::remove_object;
use notify::event::{AccessKind, AccessMode, ModifyKind, RemoveKind, RenameMode};
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

/// How often the watched directories are brought in line with the storages.
const REFRESH: Duration = Duration::from_secs(2);

/// A file of a storage written or removed.
type Written = (StorageId, ObjectChange, PathBuf);

/// One watch: the directory, whether it is watched recursively, and the watcher.
type Watch = (PathBuf, bool, RecommendedWatcher);

/// Runs until aborted.
pub async fn follow_directories(ctx: Context) {
    let (sender, mut written) = unbounded_channel::<Written>();
    let mut watches: HashMap<StorageId, Watch> = HashMap::new();
    let mut refresh = tokio::time::interval(REFRESH);
    loop {
        tokio::select! {
            _ = refresh.tick() => refresh_watches(&ctx, &mut watches, &sender).await,
            Some((storage, change, path)) = written.recv() => {
                follow_file(&ctx, storage, change, &path).await;
            }
        }
    }
}

/// Watches every followed directory, and stops watching those no longer followed.
async fn refresh_watches(
    ctx: &Context,
    watches: &mut HashMap<StorageId, Watch>,
    sender: &UnboundedSender<Written>,
) {
    let wanted = match followed(ctx).await {
        Ok(wanted) => wanted,
        Err(e) => {
            tracing::warn!(error = %e, "listing the followed directories failed");
            return;
        }
    };
    watches.retain(|id, (dir, recursive, _)| wanted.get(id) == Some(&(dir.clone(), *recursive)));
    for (id, (dir, recursive)) in wanted {
        if watches.contains_key(&id) {
            continue;
        }
        match watch(id, &dir, recursive, sender.clone()) {
            Ok(watcher) => {
                watches.insert(id, (dir, recursive, watcher));
            }
            Err(e) => tracing::warn!(storage = id, error = %e, "cannot follow the directory"),
        }
    }
}

/// The source storages that follow a directory: id → (directory, recursive).
async fn followed(
    ctx: &Context,
) -> Result<HashMap<StorageId, (PathBuf, bool)>, labelsync::state::StateError> {
    let mut out = HashMap::new();
    for project in ctx.state.list_projects().await? {
        for record in ctx
            .state
            .list_storages(project.id, StorageRole::Import)
            .await?
        {
            let Ok(bound) = ctx.storage(&record) else {
                continue;
            };
            if let Some(dir) = bound.followed_directory() {
                out.insert(record.id, (dir.to_owned(), bound.source().recursive));
            }
        }
    }
    Ok(out)
}

fn watch(
    id: StorageId,
    dir: &Path,
    recursive: bool,
    sender: UnboundedSender<Written>,
) -> notify::Result<RecommendedWatcher> {
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else {
            return;
        };
        if let Some(change) = change_of(event.kind) {
            for path in event.paths {
                let _ = sender.send((id, change, path));
            }
        }
    })?;
    let mode = if recursive {
        RecursiveMode::Recursive
    } else {
        RecursiveMode::NonRecursive
    };
    watcher.watch(dir, mode)?;
    Ok(watcher)
}

/// A file whose content is complete (closed after writing, or moved in), or a file gone
/// (deleted, or moved out).
fn change_of(kind: EventKind) -> Option<ObjectChange> {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write))
        | EventKind::Modify(ModifyKind::Name(RenameMode::To)) => Some(ObjectChange::Created),
        EventKind::Remove(RemoveKind::File | RemoveKind::Any)
        | EventKind::Modify(ModifyKind::Name(RenameMode::From)) => Some(ObjectChange::Removed),
        _ => None,
    }
}

async fn follow_file(ctx: &Context, storage: StorageId, change: ObjectChange, path: &Path) {
    let Ok(Some(record)) = ctx.state.get_storage(storage).await else {
        return;
    };
    let Ok(bound) = ctx.storage(&record) else {
        return;
    };
    let Some(key) = bound
        .followed_directory()
        .and_then(|dir| path.strip_prefix(dir).ok())
        .and_then(Path::to_str)
        .map(str::to_owned)
    else {
        return;
    };
    if !bound.source().covers(&key) {
        return;
    }
    match change {
        ObjectChange::Created => import_file(ctx, &record, &key).await,
        ObjectChange::Removed => remove_file(ctx, &record, &key).await,
    }
}

async fn import_file(ctx: &Context, record: &StorageRecord, key: &str) {
    let storage = record.id;
    match ingest_one_object(ctx, record, key).await {
        Ok(outcome) => tracing::info!(
            storage,
            key,
            created = outcome.created,
            "a followed file was imported"
        ),
        Err(e) => tracing::warn!(storage, key, error = %e, "a followed file could not be imported"),
    }
}

async fn remove_file(ctx: &Context, record: &StorageRecord, key: &str) {
    let storage = record.id;
    match remove_object(ctx, record, key).await {
        Ok(removed) => tracing::info!(
            storage,
            key,
            deleted = removed.deleted,
            flagged = removed.flagged,
            "a followed file was removed"
        ),
        Err(e) => tracing::warn!(storage, key, error = %e, "a removed file's tasks stay"),
    }
}
