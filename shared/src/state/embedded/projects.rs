//! Projects: one record table (deleting one: [`super::project_deletion`]).

use redb::{Database, ReadableTable};

use super::tables::{
    During, IdKind, PROJECTS, allocate_id, decode, get_record, put_record, read, write,
};
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
