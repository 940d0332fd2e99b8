//! Tasks: a record table, the (project, id) index, a per-project count, and the dedupe links
//! `(storage, key, row) -> (task, job)` that `create_tasks` checks and writes.

use std::ops::Bound;

use chrono::{DateTime, Utc};
use redb::{Database, ReadableTable, Table, WriteTransaction};

use super::annotations::AnnotationTables;
use super::counts;
use super::projects::maximum_annotations;
use super::tables::{
    During, IdBlock, IdKind, LAST_IDS, LINKS, NO_JOB, PROJECTS, RecordTable, TASK_COUNTS, TASKS,
    TASKS_BY_PROJECT, encode_into, get_record, read, write,
};
use crate::model::{CreateOutcome, JobId, NewTask, ProjectId, Task, TaskId, now};
use crate::state::StateResult;
use crate::state::records::{CounterChange, count_annotation, from_import, new_record};

const WHAT: &str = "task";
const CREATE: &str = "create_tasks";

type LinkTable<'t> = Table<'t, (u64, &'static str, Option<u64>), (u64, u64)>;

/// Everything `create_tasks` writes, each table opened once for the whole call.
struct TaskWriter<'t> {
    project: ProjectId,
    job: u64,
    now: DateTime<Utc>,
    maximum_annotations: u64,
    records: RecordTable<'t>,
    by_project: Table<'t, (u64, u64), ()>,
    links: LinkTable<'t>,
    annotations: AnnotationTables<'t>,
    task_ids: IdBlock,
    annotation_ids: IdBlock,
    created: u64,
    /// The created tasks' `total_annotations` and `total_predictions`, summed.
    counted_annotations: u64,
    counted_predictions: u64,
    buf: Vec<u8>,
    annotation_buf: Vec<u8>,
}

pub(super) fn create(
    db: &Database,
    project: ProjectId,
    job: Option<JobId>,
    tasks: Vec<NewTask>,
) -> StateResult<CreateOutcome> {
    write(db, CREATE, |txn| {
        let mut writer = TaskWriter::open(txn, project, job)?;
        let mut outcome = CreateOutcome::default();
        for new in tasks {
            writer.create_one(new, &mut outcome)?;
        }
        writer.finish(txn)?;
        Ok(outcome)
    })
}

impl<'t> TaskWriter<'t> {
    fn open(
        txn: &'t WriteTransaction,
        project: ProjectId,
        job: Option<JobId>,
    ) -> StateResult<Self> {
        let ids = txn.open_table(LAST_IDS).during(CREATE)?;
        let projects = txn.open_table(PROJECTS).during(CREATE)?;
        Ok(TaskWriter {
            project,
            job: job.unwrap_or(NO_JOB),
            now: now(),
            maximum_annotations: maximum_annotations(&projects, project, CREATE)?,
            records: txn.open_table(TASKS).during(CREATE)?,
            by_project: txn.open_table(TASKS_BY_PROJECT).during(CREATE)?,
            links: txn.open_table(LINKS).during(CREATE)?,
            annotations: AnnotationTables::open(txn, CREATE)?,
            task_ids: IdBlock::load(&ids, IdKind::Task, CREATE)?,
            annotation_ids: IdBlock::load(&ids, IdKind::Annotation, CREATE)?,
            created: 0,
            counted_annotations: 0,
            counted_predictions: 0,
            buf: Vec::with_capacity(512),
            annotation_buf: Vec::new(),
        })
    }

    /// Creates `new` unless its source is linked already; counts what happened in `outcome`.
    fn create_one(&mut self, new: NewTask, outcome: &mut CreateOutcome) -> StateResult<()> {
        let id = match &new.source {
            Some(source) => {
                let link_key = (source.link_scope(), source.key.as_str(), source.row_index);
                let linked = self.links.get(link_key).during(CREATE)?.map(|v| v.value());
                if let Some((_, link_job)) = linked {
                    if self.job != NO_JOB && link_job == self.job {
                        outcome.created_earlier_by_job += 1;
                    } else {
                        outcome.existed += 1;
                    }
                    return Ok(());
                }
                let id = self.task_ids.next();
                self.links.insert(link_key, (id, self.job)).during(CREATE)?;
                id
            }
            None => self.task_ids.next(),
        };
        let mut task = Task {
            id,
            project: self.project,
            data: new.data,
            meta: new.meta,
            allow_skip: new.allow_skip,
            inner_id: id,
            total_predictions: new.predictions.len() as u64,
            predictions: new.predictions,
            total_annotations: 0,
            cancelled_annotations: 0,
            is_labeled: false,
            source: new.source,
            created_at: self.now,
            updated_at: self.now,
        };
        for imported in &new.annotations {
            self.add_annotation(&mut task, imported)?;
        }
        encode_into(WHAT, &task, &mut self.buf)?;
        self.records
            .insert(id, self.buf.as_slice())
            .during(CREATE)?;
        self.by_project
            .insert((self.project, id), ())
            .during(CREATE)?;
        self.created += 1;
        self.counted_annotations += task.total_annotations;
        self.counted_predictions += task.total_predictions;
        outcome.created += 1;
        Ok(())
    }

    fn add_annotation(&mut self, task: &mut Task, imported: &serde_json::Value) -> StateResult<()> {
        let annotation = new_record(self.annotation_ids.next(), task, from_import(imported));
        self.annotations
            .put(&annotation, &mut self.annotation_buf, CREATE)?;
        let cancelled = annotation.was_cancelled;
        count_annotation(
            task,
            cancelled,
            CounterChange::Added,
            self.maximum_annotations,
        );
        Ok(())
    }

    /// Stores the ids handed out and the project's new task count.
    fn finish(self, txn: &WriteTransaction) -> StateResult<()> {
        let mut ids = txn.open_table(LAST_IDS).during(CREATE)?;
        self.task_ids.save(&mut ids, CREATE)?;
        self.annotation_ids.save(&mut ids, CREATE)?;
        if self.created > 0 {
            let mut counts = txn.open_table(TASK_COUNTS).during(CREATE)?;
            let before = counts
                .get(self.project)
                .during(CREATE)?
                .map_or(0, |v| v.value());
            counts
                .insert(self.project, before + self.created)
                .during(CREATE)?;
        }
        counts::shift_totals(
            txn,
            self.project,
            self.counted_annotations as i64,
            self.counted_predictions as i64,
            CREATE,
        )
    }
}

pub(super) fn get(db: &Database, id: TaskId) -> StateResult<Option<Task>> {
    const OP: &str = "get_task";
    read(db, OP, |txn| {
        get_record(&txn.open_table(TASKS).during(OP)?, WHAT, OP, id)
    })
}

pub(super) fn list(
    db: &Database,
    project: ProjectId,
    after: Option<TaskId>,
    limit: usize,
) -> StateResult<Vec<Task>> {
    const OP: &str = "list_tasks";
    read(db, OP, |txn| {
        let index = txn.open_table(TASKS_BY_PROJECT).during(OP)?;
        let records = txn.open_table(TASKS).during(OP)?;
        let range = (
            Bound::Excluded((project, after.unwrap_or(0))),
            Bound::Included((project, u64::MAX)),
        );
        let mut tasks = Vec::new();
        for entry in index.range(range).during(OP)?.take(limit) {
            let (key, _) = entry.during(OP)?;
            let (_, id) = key.value();
            if let Some(task) = get_record(&records, WHAT, OP, id)? {
                tasks.push(task);
            }
        }
        Ok(tasks)
    })
}

pub(super) fn count(db: &Database, project: ProjectId) -> StateResult<u64> {
    const OP: &str = "count_tasks";
    read(db, OP, |txn| {
        let counts = txn.open_table(TASK_COUNTS).during(OP)?;
        Ok(counts.get(project).during(OP)?.map_or(0, |v| v.value()))
    })
}

/// Deletes the task, its annotations and its link (only if the link still names this task).
pub(super) fn delete(db: &Database, id: TaskId) -> StateResult<bool> {
    const OP: &str = "delete_task";
    write(db, OP, |txn| delete_in(txn, id, OP))
}

/// [`delete`] in `txn`: the task counted out of its project, its link and annotations gone.
pub(super) fn delete_in(
    txn: &WriteTransaction,
    id: TaskId,
    operation: &'static str,
) -> StateResult<bool> {
    let mut records = txn.open_table(TASKS).during(operation)?;
    let Some(task) = get_record::<Task>(&records, WHAT, operation, id)? else {
        return Ok(false);
    };
    records.remove(id).during(operation)?;
    drop(records);
    txn.open_table(TASKS_BY_PROJECT)
        .during(operation)?
        .remove((task.project, id))
        .during(operation)?;
    let mut counts = txn.open_table(TASK_COUNTS).during(operation)?;
    let before = counts
        .get(task.project)
        .during(operation)?
        .map_or(0, |v| v.value());
    counts
        .insert(task.project, before.saturating_sub(1))
        .during(operation)?;
    drop(counts);
    counts::shift_totals(
        txn,
        task.project,
        -(task.total_annotations as i64),
        -(task.total_predictions as i64),
        operation,
    )?;
    if let Some(source) = &task.source {
        let mut links = txn.open_table(LINKS).during(operation)?;
        let link = (source.link_scope(), source.key.as_str(), source.row_index);
        let linked = links.get(link).during(operation)?.map(|v| v.value().0);
        if linked == Some(id) {
            links.remove(link).during(operation)?;
        }
    }
    super::annotations::delete_of_task(txn, id, operation)?;
    Ok(true)
}
