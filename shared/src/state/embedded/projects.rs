//! Projects: one record table; deleting one takes everything in it.

use redb::{Database, ReadableTable, WriteTransaction};

use super::tables::{
    During, IdKind, PROJECTS, TASKS_BY_PROJECT, allocate_id, decode, get_record, put_record, read,
    write,
};
use super::{counts, storages, tasks};
use crate::model::{NewProject, Project, ProjectId, now};
use crate::state::StateResult;

const WHAT: &str = "project";

pub(super) fn create(db: &Database, new: NewProject) -> StateResult<Project> {
    const OP: &str = "create_project";
    write(db, OP, |txn| {
        let id = allocate_id(txn, IdKind::Project, OP)?;
        let project = new.into_record(id, now());
        put_record(
            &mut txn.open_table(PROJECTS).during(OP)?,
            WHAT,
            OP,
            id,
            &project,
        )?;
        Ok(project)
    })
}

pub(super) fn get(db: &Database, id: ProjectId) -> StateResult<Option<Project>> {
    const OP: &str = "get_project";
    read(db, OP, |txn| {
        get_record(&txn.open_table(PROJECTS).during(OP)?, WHAT, OP, id)
    })
}

pub(super) fn list(db: &Database) -> StateResult<Vec<Project>> {
    const OP: &str = "list_projects";
    read(db, OP, |txn| {
        let table = txn.open_table(PROJECTS).during(OP)?;
        let mut projects = Vec::new();
        for entry in table.iter().during(OP)? {
            let (_, bytes) = entry.during(OP)?;
            projects.push(decode(WHAT, bytes.value())?);
        }
        Ok(projects)
    })
}

pub(super) fn put(db: &Database, project: &Project) -> StateResult<()> {
    const OP: &str = "put_project";
    write(db, OP, |txn| {
        put_record(
            &mut txn.open_table(PROJECTS).during(OP)?,
            WHAT,
            OP,
            project.id,
            project,
        )
    })
}

/// How many annotations make a task of `project` labeled: its `maximum_annotations`, at
/// least 1 (also for a project that is gone).
pub(super) fn maximum_annotations(
    projects: &impl ReadableTable<u64, &'static [u8]>,
    project: ProjectId,
    operation: &'static str,
) -> StateResult<u64> {
    let stored: Option<Project> = get_record(projects, WHAT, operation, project)?;
    Ok(stored.map_or(1, |p| p.maximum_annotations.max(1)))
}

/// Tasks deleted per transaction when a project is deleted.
const TASKS_PER_PASS: usize = 500;

pub(super) fn delete(db: &Database, id: ProjectId) -> StateResult<bool> {
    const OP: &str = "delete_project";
    if get(db, id)?.is_none() {
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
