//! `/api/tasks`: tasks as the labeling UI receives them, storage URIs rewritten to resolve
//! URLs and `storage_filename` shown.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Value, json};

use super::access::Caller;
use super::error::{ApiError, ApiResult};
use super::projects::get_project;
use crate::connectors::Storage;
use crate::context::Context;
use crate::model::{Annotation, Project, StorageRole, Task, iso_time};
use crate::resolve::rewrite::{MediaLinks, rename_undefined, rewrite_uris};
use crate::resolve::signing::MediaSigner;

/// The most tasks one page returns.
const MAX_PAGE_SIZE: usize = 1000;

#[derive(Deserialize)]
pub struct TaskQuery {
    project: Option<u64>,
    page: Option<usize>,
    page_size: Option<usize>,
    /// Cursor: tasks with ids after this one (cheaper than `page` for deep pages).
    after: Option<u64>,
}

/// The project's import storages by id, bound, for URI rewriting and `storage_filename`.
pub struct TaskView {
    project: Project,
    storages: HashMap<u64, Arc<dyn Storage>>,
}

impl TaskView {
    pub async fn load(ctx: &Context, project: Project) -> ApiResult<Self> {
        let records = ctx
            .state
            .list_storages(project.id, StorageRole::Import)
            .await?;
        let storages = records
            .iter()
            .filter_map(|r| Some((r.id, ctx.storage(r).ok()?)))
            .collect();
        Ok(TaskView { project, storages })
    }

    fn serves(&self, uri: &str) -> bool {
        self.storages.values().any(|s| s.resolve_key(uri).is_some())
    }

    fn storage_filename(&self, task: &Task) -> Option<String> {
        let source = task.source.as_ref()?;
        let storage = self.storages.get(&source.storage)?;
        Some(storage.storage_filename(&source.key))
    }

    /// One task's JSON.
    pub fn task_json(&self, ctx: &Context, task: &Task, annotations: &[Annotation]) -> Value {
        let mut fields = task.ls_fields();
        let mut data = task.data.clone();
        rename_undefined(&mut data, &self.project.label_config);
        let links = MediaLinks {
            task: task.id,
            hostname: ctx
                .settings
                .media
                .base_url
                .as_deref()
                .unwrap_or(&ctx.settings.hostname),
            signing: MediaSigner::new(&ctx.settings.media).map(|s| {
                let expires = s.expiry();
                (s, expires)
            }),
        };
        rewrite_uris(&mut data, &links, &|uri| self.serves(uri));
        fields.insert("data".into(), data);
        fields.insert("predictions".into(), Value::Array(task.predictions.clone()));
        fields.insert(
            "annotations".into(),
            Value::Array(annotations.iter().map(annotation_json).collect()),
        );
        fields.insert(
            "storage_filename".into(),
            json!(self.storage_filename(task)),
        );
        Value::Object(fields)
    }
}

pub fn annotation_json(a: &Annotation) -> Value {
    json!({
        "id": a.id, "task": a.task, "project": a.project, "result": a.result,
        "was_cancelled": a.was_cancelled, "ground_truth": a.ground_truth, "lead_time": a.lead_time,
        "completed_by": a.completed_by, "created_at": iso_time(&a.created_at), "updated_at": iso_time(&a.updated_at),
    })
}

/// `GET /api/tasks?project=&page=&page_size=` (or `&after=`): `{tasks, total, …}`.
pub async fn list(
    State(ctx): State<Context>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<TaskQuery>,
) -> ApiResult<Json<Value>> {
    let project_id = q
        .project
        .ok_or_else(|| ApiError::validation("project", "This field is required."))?;
    list_project_tasks(&ctx, &caller, project_id, q).await
}

/// `GET /api/projects/<id>/tasks`.
pub async fn list_of_project(
    State(ctx): State<Context>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<u64>,
    Query(q): Query<TaskQuery>,
) -> ApiResult<Json<Value>> {
    list_project_tasks(&ctx, &caller, id, q).await
}

async fn list_project_tasks(
    ctx: &Context,
    caller: &Caller,
    project_id: u64,
    q: TaskQuery,
) -> ApiResult<Json<Value>> {
    let view = TaskView::load(ctx, get_project(ctx, caller, project_id).await?).await?;
    let page_size = q.page_size.unwrap_or(100).clamp(1, MAX_PAGE_SIZE);
    let tasks = match q.after {
        Some(after) => {
            ctx.state
                .list_tasks(project_id, Some(after), page_size)
                .await?
        }
        None => nth_page(ctx, project_id, q.page.unwrap_or(1).max(1), page_size).await?,
    };
    let mut out = Vec::with_capacity(tasks.len());
    for task in &tasks {
        let annotations = ctx.state.list_task_annotations(task.id).await?;
        out.push(view.task_json(ctx, task, &annotations));
    }
    // As Label Studio: totals over every task the list pages through, not over this page.
    let counts = ctx.state.project_counts(project_id).await?;
    Ok(Json(json!({
        "tasks": out,
        "total": counts.tasks,
        "total_annotations": counts.annotations,
        "total_predictions": counts.predictions,
    })))
}

/// Page `page` (1-based) by walking the id cursor; deep pages cost their offset.
async fn nth_page(
    ctx: &Context,
    project: u64,
    page: usize,
    page_size: usize,
) -> ApiResult<Vec<Task>> {
    let mut after = None;
    for _ in 1..page {
        let skipped = ctx.state.list_tasks(project, after, page_size).await?;
        match skipped.last() {
            Some(last) if skipped.len() == page_size => after = Some(last.id),
            _ => return Ok(Vec::new()),
        }
    }
    Ok(ctx.state.list_tasks(project, after, page_size).await?)
}

/// A task the caller may see, 404 otherwise.
pub async fn visible_task(ctx: &Context, caller: &Caller, id: u64) -> ApiResult<Task> {
    let task = ctx.state.get_task(id).await?;
    match task {
        Some(task) if caller.sees(task.project) => Ok(task),
        _ => Err(ApiError::not_found(format!("Task {id}"))),
    }
}

/// `GET /api/tasks/<id>`.
pub async fn get_one(
    State(ctx): State<Context>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<u64>,
) -> ApiResult<Json<Value>> {
    let task = visible_task(&ctx, &caller, id).await?;
    let view = TaskView::load(&ctx, get_project(&ctx, &caller, task.project).await?).await?;
    let annotations = ctx.state.list_task_annotations(id).await?;
    Ok(Json(view.task_json(&ctx, &task, &annotations)))
}
