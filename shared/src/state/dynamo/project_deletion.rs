//! Deleting a project: its storages, then its tasks (each as `delete_task` deletes it), then
//! the project, so a call that was cut short can be made again.

use futures::{StreamExt, TryStreamExt};

use super::{DynamoState, records, tasks};
use crate::model::ProjectId;
use crate::state::{StateResult, StateStore};

/// Task ids read per pass.
const TASKS_PER_PASS: usize = 500;
/// Tasks deleted at once (each is a few requests and one transaction).
const CONCURRENT_DELETES: usize = 16;

pub async fn delete_project(state: &DynamoState, id: ProjectId) -> StateResult<bool> {
    if state.get_project(id).await?.is_none() {
        return Ok(false);
    }
    records::delete_storages_of_project(&state.table, id).await?;
    loop {
        let ids = tasks::task_ids(&state.table, id, TASKS_PER_PASS).await?;
        if ids.is_empty() {
            break;
        }
        futures::stream::iter(ids)
            .map(|task| state.delete_task(task))
            .buffer_unordered(CONCURRENT_DELETES)
            .try_collect::<Vec<bool>>()
            .await?;
    }
    records::delete_project_record(&state.table, id).await?;
    Ok(true)
}
