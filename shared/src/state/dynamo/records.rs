//! Projects, storages and annotations on the table.

use std::sync::atomic::{AtomicU64, Ordering};

use super::counts::{CountsShift, counts_keys};
use super::sharded::index_key;
use super::table::{Item, Table, decode, doc_item, key, padded, text};
use crate::model::{
    Annotation, AnnotationEvent, AnnotationId, AnnotationPatch, NewAnnotation, NewProject,
    NewStorage, OutboxEntry, Project, ProjectId, StorageId, StorageRecord, StorageRole, Task,
    TaskId, now,
};
use crate::state::records::{CounterChange, count_annotation, new_record};
use crate::state::{StateError, StateResult, StorageUpdate};

pub async fn create_project(table: &Table, new: NewProject) -> StateResult<Project> {
    let id = table.allocate("project", 1, "create_project").await?;
    let project = new.into_record(id, now());
    put_project(table, &project).await?;
    Ok(project)
}

pub async fn put_project(table: &Table, project: &Project) -> StateResult<()> {
    table
        .put(
            doc_item("PROJECTS", &padded(project.id), project, 1, "project")?,
            "put_project",
        )
        .await
}

pub async fn get_project(table: &Table, id: ProjectId) -> StateResult<Option<Project>> {
    Ok(table
        .get_doc("PROJECTS", &padded(id), "project", "get_project")
        .await?
        .map(|(p, _)| p))
}

pub async fn list_projects(table: &Table) -> StateResult<Vec<Project>> {
    table
        .query_keys("PROJECTS", None, usize::MAX, "list_projects")
        .await?
        .iter()
        .map(|i| decode(i, "project"))
        .collect()
}

/// Deletes the project's record and counters (its storages and tasks are gone already).
pub async fn delete_project_record(table: &Table, id: ProjectId) -> StateResult<()> {
    let mut deletes = counts_keys(id);
    deletes.push(key("PROJECTS", &padded(id)));
    table.transact(Vec::new(), deletes, "delete_project").await
}

/// Deletes every storage of the project, both roles.
pub async fn delete_storages_of_project(table: &Table, project: ProjectId) -> StateResult<()> {
    for role in [StorageRole::Import, StorageRole::Export] {
        for storage in list_storages(table, project, role).await? {
            delete_storage(table, storage.id).await?;
        }
    }
    Ok(())
}

fn storage_pk(id: StorageId) -> String {
    format!("STORAGE#{id}")
}

fn storage_index(project: ProjectId, role: StorageRole) -> String {
    let role = match role {
        StorageRole::Import => "import",
        StorageRole::Export => "export",
    };
    format!("PROJECT#{project}#STORAGES#{role}")
}

/// The partition of a location's index entries: hashed, as a location may be longer than a key.
fn location_index(location: &str) -> String {
    format!("LOCATION#{:016x}", crate::model::fnv1a(location))
}

/// The location index entry of a source storage.
fn location_entry(record: &StorageRecord) -> Option<(String, String)> {
    let location = record.location.as_deref()?;
    (record.role == StorageRole::Import).then(|| (location_index(location), padded(record.id)))
}

/// The partition of the scheduled storages' index entries.
const SCHEDULED: &str = "SCHEDULED";

/// The schedule index entry of a scheduled source storage.
fn schedule_entry(record: &StorageRecord) -> Option<(String, String)> {
    (record.role == StorageRole::Import && record.schedule.every_minutes.is_some())
        .then(|| (SCHEDULED.to_owned(), padded(record.id)))
}

/// Moves a storage's index entries by location and schedule (a crash in between leaves a
/// stale entry, which the readers skip, or none, which the next update writes).
async fn relocate(
    table: &Table,
    before: Option<&StorageRecord>,
    after: Option<&StorageRecord>,
) -> StateResult<()> {
    let locations = (
        before.and_then(location_entry),
        after.and_then(location_entry),
    );
    move_entry(table, locations).await?;
    let schedules = (
        before.and_then(schedule_entry),
        after.and_then(schedule_entry),
    );
    move_entry(table, schedules).await
}

type Entry = Option<(String, String)>;

async fn move_entry(table: &Table, (old, new): (Entry, Entry)) -> StateResult<()> {
    if old == new {
        return Ok(());
    }
    if let Some((pk, sk)) = old {
        table.delete(&pk, &sk, "update_storage").await?;
    }
    if let Some((pk, sk)) = new {
        table.put(key(&pk, &sk), "update_storage").await?;
    }
    Ok(())
}

pub async fn scheduled_storages(table: &Table) -> StateResult<Vec<StorageRecord>> {
    let indexed: Vec<StorageRecord> = table
        .indexed_docs(
            SCHEDULED,
            "STORAGE",
            None,
            usize::MAX,
            "storage",
            "scheduled_storages",
        )
        .await?;
    Ok(indexed
        .into_iter()
        .filter(|s| schedule_entry(s).is_some())
        .collect())
}

pub async fn storages_at(table: &Table, location: &str) -> StateResult<Vec<StorageRecord>> {
    let indexed: Vec<StorageRecord> = table
        .indexed_docs(
            &location_index(location),
            "STORAGE",
            None,
            usize::MAX,
            "storage",
            "storages_at",
        )
        .await?;
    Ok(indexed
        .into_iter()
        .filter(|s| s.location.as_deref() == Some(location) && s.role == StorageRole::Import)
        .collect())
}

pub async fn create_storage(table: &Table, new: NewStorage) -> StateResult<StorageRecord> {
    let id = table.allocate("storage", 1, "create_storage").await?;
    let record = new.into_record(id, now());
    table
        .put(
            doc_item(&storage_pk(id), "META", &record, 1, "storage")?,
            "create_storage",
        )
        .await?;
    table
        .put(
            key(&storage_index(record.project, record.role), &padded(id)),
            "create_storage",
        )
        .await?;
    relocate(table, None, Some(&record)).await?;
    Ok(record)
}

pub async fn get_storage(table: &Table, id: StorageId) -> StateResult<Option<StorageRecord>> {
    Ok(table
        .get_doc(&storage_pk(id), "META", "storage", "get_storage")
        .await?
        .map(|(s, _)| s))
}

pub async fn list_storages(
    table: &Table,
    project: ProjectId,
    role: StorageRole,
) -> StateResult<Vec<StorageRecord>> {
    table
        .indexed_docs(
            &storage_index(project, role),
            "STORAGE",
            None,
            usize::MAX,
            "storage",
            "list_storages",
        )
        .await
}

pub async fn update_storage(
    table: &Table,
    id: StorageId,
    update: StorageUpdate<'_>,
) -> StateResult<Option<StorageRecord>> {
    let change = |s: &mut StorageRecord| {
        update(s);
        true
    };
    let before = get_storage(table, id).await?;
    let after = table
        .update_doc(
            &storage_pk(id),
            "META",
            "storage",
            "update_storage",
            &change,
        )
        .await?;
    relocate(table, before.as_ref(), after.as_ref()).await?;
    Ok(after)
}

pub async fn delete_storage(table: &Table, id: StorageId) -> StateResult<bool> {
    let Some(record) = get_storage(table, id).await? else {
        return Ok(false);
    };
    relocate(table, Some(&record), None).await?;
    table
        .delete(
            &storage_index(record.project, record.role),
            &padded(id),
            "delete_storage",
        )
        .await?;
    table
        .delete(&storage_pk(id), "META", "delete_storage")
        .await?;
    Ok(true)
}

/// Annotations deleted per transaction: three deletes and an outbox put each.
const DELETES_PER_TRANSACTION: usize = 24;

/// Deletes these annotations of a task being deleted, each with its outbox event; the task's
/// counters are left alone.
pub async fn delete_annotations_of_task(
    table: &Table,
    annotations: &[Annotation],
) -> StateResult<()> {
    for chunk in annotations.chunks(DELETES_PER_TRANSACTION) {
        let mut puts = Vec::with_capacity(chunk.len());
        let mut deletes = Vec::with_capacity(3 * chunk.len());
        for annotation in chunk {
            puts.push(outbox_item(annotation, true)?);
            deletes.push(key(&annotation_pk(annotation.id), "META"));
            deletes.extend(annotation_index_keys(annotation));
        }
        table.transact(puts, deletes, "delete_task").await?;
    }
    Ok(())
}

fn annotation_pk(id: AnnotationId) -> String {
    format!("ANNOTATION#{id}")
}

/// An annotation's index items: in its project's (sharded) index and in its task's.
fn annotation_index_keys(annotation: &Annotation) -> [Item; 2] {
    let project = format!("PROJECT#{}#ANNOTATIONS", annotation.project);
    [
        index_key(&project, annotation.id),
        key(
            &format!("TASK#{}#ANNOTATIONS", annotation.task),
            &padded(annotation.id),
        ),
    ]
}

/// The items of an annotation: its document and its index entries.
fn annotation_items(annotation: &Annotation) -> StateResult<Vec<Item>> {
    let mut items = vec![doc_item(
        &annotation_pk(annotation.id),
        "META",
        annotation,
        1,
        "annotation",
    )?];
    items.extend(annotation_index_keys(annotation));
    Ok(items)
}

/// The outbox partition: one item per annotation change, written in the change's transaction.
const OUTBOX: &str = "OUTBOX";

/// The outbox item announcing a change; its sort key orders the outbox by time.
fn outbox_item(annotation: &Annotation, deleted: bool) -> StateResult<Item> {
    let sk = format!(
        "{:020}#{}",
        now().timestamp_micros(),
        uuid::Uuid::new_v4().simple()
    );
    let event = AnnotationEvent::of(annotation, deleted);
    doc_item(OUTBOX, &sk, &event, 1, "outbox event")
}

/// Up to `limit` outbox entries, oldest first.
pub async fn outbox(table: &Table, limit: usize) -> StateResult<Vec<OutboxEntry>> {
    let items = table.query_keys(OUTBOX, None, limit, "outbox").await?;
    items
        .iter()
        .map(|item| {
            Ok(OutboxEntry {
                id: text(item, "sk").unwrap_or_default().to_owned(),
                event: decode(item, "outbox event")?,
            })
        })
        .collect()
}

/// Removes outbox entries.
pub async fn clear_outbox(table: &Table, ids: &[String]) -> StateResult<()> {
    for id in ids {
        table.delete(OUTBOX, id, "clear_outbox").await?;
    }
    Ok(())
}

pub async fn get_annotation(table: &Table, id: AnnotationId) -> StateResult<Option<Annotation>> {
    Ok(table
        .get_doc(&annotation_pk(id), "META", "annotation", "get_annotation")
        .await?
        .map(|(a, _)| a))
}

pub async fn maximum_annotations(table: &Table, project: ProjectId) -> StateResult<u64> {
    Ok(get_project(table, project)
        .await?
        .map_or(1, |p| p.maximum_annotations)
        .max(1))
}

/// Counts an annotation out (`before`) and in (`after`) of its task's counters.
async fn recount(
    table: &Table,
    task: TaskId,
    before: Option<bool>,
    after: Option<bool>,
) -> StateResult<()> {
    let Some((current, _)) = table
        .get_doc::<Task>(&format!("TASK#{task}"), "META", "task", "recount")
        .await?
    else {
        return Ok(());
    };
    let maximum = maximum_annotations(table, current.project).await?;
    // The attempt that is written last is the one whose count before the change counts.
    let counted_before = AtomicU64::new(0);
    let change = |t: &mut Task| {
        counted_before.store(t.total_annotations, Ordering::Relaxed);
        if let Some(cancelled) = before {
            count_annotation(t, cancelled, CounterChange::Removed, maximum);
        }
        if let Some(cancelled) = after {
            count_annotation(t, cancelled, CounterChange::Added, maximum);
        }
        t.updated_at = now();
        true
    };
    let Some(updated) = table
        .update_doc(&format!("TASK#{task}"), "META", "task", "recount", &change)
        .await?
    else {
        return Ok(());
    };
    let shift = CountsShift {
        tasks: 0,
        annotations: updated.total_annotations as i64
            - counted_before.load(Ordering::Relaxed) as i64,
        predictions: 0,
        shard_by: task,
    };
    if shift.annotations != 0 {
        shift.apply(table, updated.project, "recount").await?;
    }
    Ok(())
}

pub async fn create_annotation(
    table: &Table,
    task: TaskId,
    new: NewAnnotation,
) -> StateResult<Annotation> {
    let Some((record, _)) = table
        .get_doc::<Task>(&format!("TASK#{task}"), "META", "task", "create_annotation")
        .await?
    else {
        return Err(StateError::NotFound {
            what: "task",
            id: task,
        });
    };
    let id = table.allocate("annotation", 1, "create_annotation").await?;
    let annotation = new_record(id, &record, new);
    let mut puts = annotation_items(&annotation)?;
    puts.push(outbox_item(&annotation, false)?);
    let task_record = key(&format!("TASK#{task}"), "META");
    if !table
        .transact_touching(puts, task_record, "create_annotation")
        .await?
    {
        // Deleted since it was read (its object was removed, say).
        return Err(StateError::NotFound {
            what: "task",
            id: task,
        });
    }
    recount(table, task, None, Some(annotation.was_cancelled)).await?;
    Ok(annotation)
}

pub async fn update_annotation(
    table: &Table,
    id: AnnotationId,
    patch: AnnotationPatch,
) -> StateResult<Option<Annotation>> {
    let Some(before) = get_annotation(table, id).await? else {
        return Ok(None);
    };
    let mut after = before.clone();
    patch.apply(&mut after);
    after.updated_at = now();
    let puts = vec![
        doc_item(&annotation_pk(id), "META", &after, 1, "annotation")?,
        outbox_item(&after, false)?,
    ];
    table
        .transact(puts, Vec::new(), "update_annotation")
        .await?;
    if before.was_cancelled != after.was_cancelled {
        recount(
            table,
            after.task,
            Some(before.was_cancelled),
            Some(after.was_cancelled),
        )
        .await?;
    }
    Ok(Some(after))
}

pub async fn delete_annotation(table: &Table, id: AnnotationId) -> StateResult<Option<Annotation>> {
    let Some(annotation) = get_annotation(table, id).await? else {
        return Ok(None);
    };
    let mut deletes: Vec<Item> = annotation_index_keys(&annotation).into();
    deletes.push(key(&annotation_pk(id), "META"));
    let puts = vec![outbox_item(&annotation, true)?];
    table.transact(puts, deletes, "delete_annotation").await?;
    recount(table, annotation.task, Some(annotation.was_cancelled), None).await?;
    Ok(Some(annotation))
}
