//! Deleting a project takes everything in it: its storages, then its tasks (with their
//! annotations and links) a pass at a time, then the project and its counters.

use redb::{Database, ReadableTable, WriteTransaction};

use super::tables::{During, PROJECTS, TASKS_BY_PROJECT, write};
use super::{counts, projects, storages, tasks};
use crate::model::ProjectId;
use crate::state::StateResult;

/// Tasks deleted per transaction when a project is deleted.
const TASKS_PER_PASS: usize = 500;

pub(super) fn delete(db: &Database, id: ProjectId) -> StateResult<bool> {
    const OP: &str = "delete_project";
    if projects::get(db, id)?.is_none() {
        return Ok(false);
    }
    write(db, OP, |txn| storages::delete_of_project(txn, id, OP))?;
    while !write(db, OP, |txn| delete_pass(txn, id, OP))? {}
    Ok(true)
}

/// Deletes up to [`TASKS_PER_PASS`] tasks of the project, or, when none is left, the project
/// and its counters; `true` once the project is gone.
fn delete_pass(
    txn: &WriteTransaction,
    id: ProjectId,
    operation: &'static str,
) -> StateResult<bool> {
    let task_ids: Vec<u64> = {
        let index = txn.open_table(TASKS_BY_PROJECT).during(operation)?;
        let entries = index.range((id, 0)..=(id, u64::MAX)).during(operation)?;
        entries
            .take(TASKS_PER_PASS)
            .map(|entry| entry.during(operation).map(|(key, _)| key.value().1))
            .collect::<StateResult<_>>()?
    };
    if task_ids.is_empty() {
        txn.open_table(PROJECTS)
            .during(operation)?
            .remove(id)
            .during(operation)?;
        counts::remove(txn, id, operation)?;
        return Ok(true);
    }
    for task in task_ids {
        tasks::delete_in(txn, task, operation)?;
    }
    Ok(false)
}
