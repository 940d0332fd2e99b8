//! Removing the task of an object that is gone: deleted unless annotated, never together with
//! an annotation saved meanwhile.

use super::table::Table;
use crate::model::{Task, TaskId, TaskRemoval};
use crate::state::StateResult;
use crate::state::records::{flag_object_removed, is_annotated};

/// Reads the task, checks that it has no annotations and deletes it only if its record has
/// not changed since (creating an annotation changes it, in the annotation's transaction); an
/// annotated task is flagged instead.
pub async fn remove_unlabeled(table: &Table, id: TaskId) -> StateResult<TaskRemoval> {
    const OP: &str = "remove_unlabeled_task";
    let pk = format!("TASK#{id}");
    loop {
        let Some((task, version)) = table.get_doc::<Task>(&pk, "META", "task", OP).await? else {
            return Ok(TaskRemoval::Gone);
        };
        let annotations = format!("TASK#{id}#ANNOTATIONS");
        let annotated = is_annotated(&task)
            || !table
                .query_keys(&annotations, None, 1, OP)
                .await?
                .is_empty();
        if annotated {
            let flag = |t: &mut Task| flag_object_removed(t);
            table.update_doc(&pk, "META", "task", OP, &flag).await?;
            return Ok(TaskRemoval::Flagged);
        }
        if super::tasks::delete_record(table, &task, Some(version)).await? {
            return Ok(TaskRemoval::Deleted);
        }
    }
}
