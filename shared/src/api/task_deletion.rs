//! Task deletion, as Label Studio has it: one task, or every task of a project. A deleted task's
//! annotations go with it (target storages that delete objects remove theirs), and so does its
//! link, so the next sync may import its object again.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::access::Caller;
use super::error::{ApiError, ApiResult};
use super::projects::get_project;
use super::tasks::visible_task;
use crate::context::Context;
use crate::export::announce;

/// Tasks deleted between two outbox relays when a whole project is emptied.
const TASKS_PER_PASS: usize = 500;

/// `DELETE /api/tasks/<id>`: 204, or 404 for a task the caller cannot see.
pub async fn delete_one(
    State(ctx): State<Context>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<u64>,
) -> ApiResult<StatusCode> {
    visible_task(&ctx, &caller, id).await?;
    if !ctx.state.delete_task(id).await? {
        return Err(ApiError::not_found(format!("Task {id}")));
    }
    announce(&ctx).await;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/projects/<id>/tasks`: every task of the project (Label Studio's "delete all
/// tasks"); 204.
pub async fn delete_all_of_project(
    State(ctx): State<Context>,
    Extension(caller): Extension<Caller>,
    Path(project): Path<u64>,
) -> ApiResult<StatusCode> {
    get_project(&ctx, &caller, project).await?;
    loop {
        let tasks = ctx.state.list_tasks(project, None, TASKS_PER_PASS).await?;
        if tasks.is_empty() {
            return Ok(StatusCode::NO_CONTENT);
        }
        for task in tasks {
            ctx.state.delete_task(task.id).await?;
        }
        announce(&ctx).await;
    }
}
