//! Annotations: a record table, a (project, id) and a (task, id) index, and the task counters
//! they keep right in the same transaction.

use std::ops::Bound;

use redb::{Database, ReadOnlyTable, ReadableTable, Table, WriteTransaction};

use super::counts;
use super::projects::maximum_annotations;
use super::tables::{
    ANNOTATIONS, ANNOTATIONS_BY_PROJECT, ANNOTATIONS_BY_TASK, During, IdKind, OUTBOX, PROJECTS,
    RecordTable, TASKS, allocate_id, decode, encode_into, get_record, put_record, read, write,
};
use crate::model::{
    Annotation, AnnotationEvent, AnnotationId, AnnotationPatch, NewAnnotation, OutboxEntry,
    ProjectId, Task, TaskId, now,
};
use crate::state::records::{CounterChange, count_annotation, new_record};
use crate::state::{StateError, StateResult};

const WHAT: &str = "annotation";
const TASK: &str = "task";

/// The three annotation tables, opened once per write transaction.
pub(super) struct AnnotationTables<'t> {
    records: RecordTable<'t>,
    by_project: Table<'t, (u64, u64), ()>,
    by_task: Table<'t, (u64, u64), ()>,
}

impl<'t> AnnotationTables<'t> {
    pub(super) fn open(txn: &'t WriteTransaction, operation: &'static str) -> StateResult<Self> {
        Ok(AnnotationTables {
            records: txn.open_table(ANNOTATIONS).during(operation)?,
            by_project: txn.open_table(ANNOTATIONS_BY_PROJECT).during(operation)?,
            by_task: txn.open_table(ANNOTATIONS_BY_TASK).during(operation)?,
        })
    }

    /// Stores `annotation` (new or changed) and its index entries; `buf` is scratch space.
    pub(super) fn put(
        &mut self,
        annotation: &Annotation,
        buf: &mut Vec<u8>,
        operation: &'static str,
    ) -> StateResult<()> {
        encode_into(WHAT, annotation, buf)?;
        self.records
            .insert(annotation.id, buf.as_slice())
            .during(operation)?;
        self.by_project
            .insert((annotation.project, annotation.id), ())
            .during(operation)?;
        self.by_task
            .insert((annotation.task, annotation.id), ())
            .during(operation)?;
        Ok(())
    }

    fn get(&self, id: AnnotationId, operation: &'static str) -> StateResult<Option<Annotation>> {
        get_record(&self.records, WHAT, operation, id)
    }

    fn remove(&mut self, annotation: &Annotation, operation: &'static str) -> StateResult<()> {
        self.records.remove(annotation.id).during(operation)?;
        self.by_project
            .remove((annotation.project, annotation.id))
            .during(operation)?;
        self.by_task
            .remove((annotation.task, annotation.id))
            .during(operation)?;
        Ok(())
    }
}

/// Creates an annotation in `txn`, with its outbox event.
pub(super) fn create_in(
    txn: &WriteTransaction,
    task_id: TaskId,
    new: NewAnnotation,
) -> StateResult<Annotation> {
    const OP: &str = "create_annotation";
    let mut tasks = txn.open_table(TASKS).during(OP)?;
    let mut task: Task = get_record(&tasks, TASK, OP, task_id)?.ok_or(StateError::NotFound {
        what: TASK,
        id: task_id,
    })?;
    let id = allocate_id(txn, IdKind::Annotation, OP)?;
    let annotation = new_record(id, &task, new);
    AnnotationTables::open(txn, OP)?.put(&annotation, &mut Vec::new(), OP)?;
    let maximum = maximum_annotations(&txn.open_table(PROJECTS).during(OP)?, task.project, OP)?;
    let counted_before = task.total_annotations;
    count_annotation(
        &mut task,
        annotation.was_cancelled,
        CounterChange::Added,
        maximum,
    );
    task.updated_at = annotation.created_at;
    put_record(&mut tasks, TASK, OP, task_id, &task)?;
    let shift = counts::moved(counted_before, task.total_annotations);
    counts::shift_totals(txn, task.project, shift, 0, OP)?;
    announce(txn, &annotation, false, OP)?;
    Ok(annotation)
}

/// Puts the change's event in the outbox, in the change's own transaction.
fn announce(
    txn: &WriteTransaction,
    annotation: &Annotation,
    deleted: bool,
    operation: &'static str,
) -> StateResult<()> {
    let id = allocate_id(txn, IdKind::OutboxEvent, operation)?;
    let event = AnnotationEvent::of(annotation, deleted);
    put_record(
        &mut txn.open_table(OUTBOX).during(operation)?,
        "outbox event",
        operation,
        id,
        &event,
    )
}

pub(super) fn get(db: &Database, id: AnnotationId) -> StateResult<Option<Annotation>> {
    const OP: &str = "get_annotation";
    read(db, OP, |txn| {
        get_record(&txn.open_table(ANNOTATIONS).during(OP)?, WHAT, OP, id)
    })
}

/// Applies `patch` in `txn`, with the outbox event; `None` if there is no such annotation.
pub(super) fn update_in(
    txn: &WriteTransaction,
    id: AnnotationId,
    patch: AnnotationPatch,
) -> StateResult<Option<Annotation>> {
    const OP: &str = "update_annotation";
    let mut tables = AnnotationTables::open(txn, OP)?;
    let Some(mut annotation) = tables.get(id, OP)? else {
        return Ok(None);
    };
    let was_cancelled = annotation.was_cancelled;
    patch.apply(&mut annotation);
    annotation.updated_at = now();
    tables.put(&annotation, &mut Vec::new(), OP)?;
    drop(tables);
    if annotation.was_cancelled != was_cancelled {
        recount_task(txn, &annotation, Some(was_cancelled), OP)?;
    }
    announce(txn, &annotation, false, OP)?;
    Ok(Some(annotation))
}

/// Deletes the annotation in `txn`, with the outbox event; `None` if there was none.
pub(super) fn delete_in(
    txn: &WriteTransaction,
    id: AnnotationId,
) -> StateResult<Option<Annotation>> {
    const OP: &str = "delete_annotation";
    let mut tables = AnnotationTables::open(txn, OP)?;
    let Some(annotation) = tables.get(id, OP)? else {
        return Ok(None);
    };
    tables.remove(&annotation, OP)?;
    drop(tables);
    recount_task(txn, &annotation, None, OP)?;
    announce(txn, &annotation, true, OP)?;
    Ok(Some(annotation))
}

/// Deletes every annotation of `task` in `txn`, each with its outbox event; the task's counters
/// are left alone (the task is being deleted).
pub(super) fn delete_of_task(
    txn: &WriteTransaction,
    task: TaskId,
    operation: &'static str,
) -> StateResult<()> {
    let ids: Vec<AnnotationId> = {
        let index = txn.open_table(ANNOTATIONS_BY_TASK).during(operation)?;
        let entries = index
            .range((task, 0)..=(task, u64::MAX))
            .during(operation)?;
        entries
            .map(|entry| entry.during(operation).map(|(key, _)| key.value().1))
            .collect::<StateResult<_>>()?
    };
    let mut tables = AnnotationTables::open(txn, operation)?;
    let mut removed = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(annotation) = tables.get(id, operation)? {
            tables.remove(&annotation, operation)?;
            removed.push(annotation);
        }
    }
    drop(tables);
    removed
        .iter()
        .try_for_each(|annotation| announce(txn, annotation, true, operation))
}

/// Up to `limit` outbox entries, oldest first.
pub(super) fn outbox(db: &Database, limit: usize) -> StateResult<Vec<OutboxEntry>> {
    const OP: &str = "outbox";
    read(db, OP, |txn| {
        let table = txn.open_table(OUTBOX).during(OP)?;
        let mut entries = Vec::new();
        for entry in table.iter().during(OP)?.take(limit) {
            let (id, bytes) = entry.during(OP)?;
            let event: AnnotationEvent = decode("outbox event", bytes.value())?;
            entries.push(OutboxEntry {
                id: id.value().to_string(),
                event,
            });
        }
        Ok(entries)
    })
}

/// Removes the outbox entries `ids` (unknown ones are ignored).
pub(super) fn clear_outbox(db: &Database, ids: &[String]) -> StateResult<()> {
    const OP: &str = "clear_outbox";
    write(db, OP, |txn| {
        let mut table = txn.open_table(OUTBOX).during(OP)?;
        for id in ids.iter().filter_map(|id| id.parse::<u64>().ok()) {
            table.remove(id).during(OP)?;
        }
        Ok(())
    })
}

/// Brings the counters of `annotation`'s task up to date after a change: with
/// `previously_cancelled` the annotation was updated (count it out as it was, in as it is),
/// without it the annotation was deleted. A task that is gone is left alone.
fn recount_task(
    txn: &WriteTransaction,
    annotation: &Annotation,
    previously_cancelled: Option<bool>,
    operation: &'static str,
) -> StateResult<()> {
    let mut tasks = txn.open_table(TASKS).during(operation)?;
    let Some(mut task) = get_record::<Task>(&tasks, TASK, operation, annotation.task)? else {
        return Ok(());
    };
    let projects = txn.open_table(PROJECTS).during(operation)?;
    let maximum = maximum_annotations(&projects, task.project, operation)?;
    let counted_before = task.total_annotations;
    match previously_cancelled {
        Some(before) => {
            count_annotation(&mut task, before, CounterChange::Removed, maximum);
            count_annotation(
                &mut task,
                annotation.was_cancelled,
                CounterChange::Added,
                maximum,
            );
        }
        None => count_annotation(
            &mut task,
            annotation.was_cancelled,
            CounterChange::Removed,
            maximum,
        ),
    }
    task.updated_at = now();
    put_record(&mut tasks, TASK, operation, task.id, &task)?;
    let shift = counts::moved(counted_before, task.total_annotations);
    counts::shift_totals(txn, task.project, shift, 0, operation)
}

pub(super) fn list(
    db: &Database,
    project: ProjectId,
    after: Option<AnnotationId>,
    limit: usize,
) -> StateResult<Vec<Annotation>> {
    const OP: &str = "list_annotations";
    read(db, OP, |txn| {
        let index = txn.open_table(ANNOTATIONS_BY_PROJECT).during(OP)?;
        let records = txn.open_table(ANNOTATIONS).during(OP)?;
        let range = (
            Bound::Excluded((project, after.unwrap_or(0))),
            Bound::Included((project, u64::MAX)),
        );
        collect(&index, &records, range, limit, OP)
    })
}

pub(super) fn list_for_task(db: &Database, task: TaskId) -> StateResult<Vec<Annotation>> {
    const OP: &str = "list_task_annotations";
    read(db, OP, |txn| {
        let index = txn.open_table(ANNOTATIONS_BY_TASK).during(OP)?;
        let records = txn.open_table(ANNOTATIONS).during(OP)?;
        collect(
            &index,
            &records,
            (task, 0)..=(task, u64::MAX),
            usize::MAX,
            OP,
        )
    })
}

/// Reads up to `limit` annotations named by the `(owner, id)` index entries in `range`.
fn collect(
    index: &ReadOnlyTable<(u64, u64), ()>,
    records: &ReadOnlyTable<u64, &'static [u8]>,
    range: impl std::ops::RangeBounds<(u64, u64)>,
    limit: usize,
    operation: &'static str,
) -> StateResult<Vec<Annotation>> {
    let mut annotations = Vec::new();
    for entry in index.range(range).during(operation)?.take(limit) {
        let (key, _) = entry.during(operation)?;
        let (_, id) = key.value();
        if let Some(annotation) = get_record(records, WHAT, operation, id)? {
            annotations.push(annotation);
        }
    }
    Ok(annotations)
}
