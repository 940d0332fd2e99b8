//! A project's counters: its tasks (`TASK_COUNTS`) and the annotations and predictions of its
//! tasks (`PROJECT_TOTALS`), each changed in the transaction that changes what it counts.

use redb::{Database, ReadableTable, WriteTransaction};

use super::tables::{During, PROJECT_TOTALS, TASK_COUNTS, read};
use crate::model::{ProjectCounts, ProjectId};
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
