//! A project's counters: its tasks (`TASK_COUNTS`) and the annotations and predictions of its
//! tasks (`PROJECT_TOTALS`), each changed in the transaction that changes what it counts.

use std::collections::HashMap;

use redb::{Database, ReadableTable, TableHandle, WriteTransaction};

use super::tables::{During, PROJECT_TOTALS, TASK_COUNTS, TASKS, decode, read};
use crate::model::{ProjectCounts, ProjectId, Task};
use crate::state::StateResult;

/// Adds `annotations` and `predictions` (either may be negative) to the project's totals.
pub(super) fn shift_totals(
    txn: &WriteTransaction,
    project: ProjectId,
    annotations: i64,
    predictions: i64,
    operation: &'static str,
) -> StateResult<()> {
    if annotations == 0 && predictions == 0 {
        return Ok(());
    }
    let mut totals = txn.open_table(PROJECT_TOTALS).during(operation)?;
    let (before_annotations, before_predictions) = totals
        .get(project)
        .during(operation)?
        .map_or((0, 0), |v| v.value());
    let after = (
        before_annotations.saturating_add_signed(annotations),
        before_predictions.saturating_add_signed(predictions),
    );
    totals.insert(project, after).during(operation)?;
    Ok(())
}

/// How far a task's `total_annotations` moved, as a shift of its project's total.
pub(super) fn moved(before: u64, after: u64) -> i64 {
    after as i64 - before as i64
}

pub(super) fn of_project(db: &Database, project: ProjectId) -> StateResult<ProjectCounts> {
    const OP: &str = "project_counts";
    read(db, OP, |txn| {
        let tasks = txn.open_table(TASK_COUNTS).during(OP)?;
        let totals = txn.open_table(PROJECT_TOTALS).during(OP)?;
        let (annotations, predictions) = totals
            .get(project)
            .during(OP)?
            .map_or((0, 0), |v| v.value());
        Ok(ProjectCounts {
            tasks: tasks.get(project).during(OP)?.map_or(0, |v| v.value()),
            annotations,
            predictions,
        })
    })
}

/// Forgets the counters of a project being deleted.
pub(super) fn remove(
    txn: &WriteTransaction,
    project: ProjectId,
    operation: &'static str,
) -> StateResult<()> {
    txn.open_table(TASK_COUNTS)
        .during(operation)?
        .remove(project)
        .during(operation)?;
    txn.open_table(PROJECT_TOTALS)
        .during(operation)?
        .remove(project)
        .during(operation)?;
    Ok(())
}

/// Whether the file already has the totals table (files from before it had none).
pub(super) fn totals_exist(txn: &WriteTransaction, operation: &'static str) -> StateResult<bool> {
    let mut tables = txn.list_tables().during(operation)?;
    Ok(tables.any(|table| table.name() == PROJECT_TOTALS.name()))
}

/// Fills the totals table of a file written before it existed, from every task (once).
pub(super) fn backfill(txn: &WriteTransaction, operation: &'static str) -> StateResult<()> {
    let mut sums: HashMap<ProjectId, (u64, u64)> = HashMap::new();
    for entry in txn
        .open_table(TASKS)
        .during(operation)?
        .iter()
        .during(operation)?
    {
        let (_, bytes) = entry.during(operation)?;
        let task: Task = decode("task", bytes.value())?;
        let sum = sums.entry(task.project).or_default();
        *sum = (
            sum.0 + task.total_annotations,
            sum.1 + task.total_predictions,
        );
    }
    let mut totals = txn.open_table(PROJECT_TOTALS).during(operation)?;
    for (project, sum) in sums {
        totals.insert(project, sum).during(operation)?;
    }
    Ok(())
}
