//! Tasks and their dedupe links. A new task, its index item, its link and its imported
//! annotations are written in one transaction whose link put is conditional, so two workers
//! racing on the same `(storage, key, row)` create one task, and a crash leaves no half.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};

use super::counts::{CountsShift, project_counts};
use super::links::{link_key, link_keys};
use super::records::maximum_annotations;
use super::sharded::{self, index_key};
use super::table::{Item, Table, doc_item, key, n, number, padded, s, store_error, text};
use crate::model::{Annotation, CreateOutcome, JobId, NewTask, ProjectId, Task, TaskId, now};
use crate::state::StateResult;
use crate::state::records::{CounterChange, count_annotation, from_import, new_record};

/// DynamoDB's most actions per transaction.
const MAX_ACTIONS: usize = 100;
/// DynamoDB's item limit, 400 KB, read as decimal: under both AWS's own (409,600 bytes) and
/// moto's (405,000).
const MAX_ITEM_BYTES: usize = 400_000;
/// Room in an item for everything but the new task's JSON: keys, version, the task's ids,
/// counters, timestamps and source (whose key may be 1,024 bytes long).
const RECORD_OVERHEAD: usize = 4 * 1024;
/// The longest task this store keeps; see [`crate::state::StateStore::max_task_bytes`].
pub const MAX_TASK_BYTES: usize = MAX_ITEM_BYTES - RECORD_OVERHEAD;
/// The most bytes of records one transaction writes: DynamoDB takes 4 MB, less the index and
/// link items and the counter update.
const MAX_TRANSACTION_BYTES: usize = 3_500_000;
const OPERATION: &str = "create_tasks";

fn count_link(outcome: &mut CreateOutcome, link_job: u64, job: Option<JobId>) {
    if job.is_some_and(|j| j == link_job) {
        outcome.created_earlier_by_job += 1;
    } else {
        outcome.existed += 1;
    }
}

/// A task ready to write: its record, imported annotations and link.
struct Prepared {
    task: Task,
    annotations: Vec<Annotation>,
    link: Option<(String, String)>,
}

impl Prepared {
    fn actions(&self) -> usize {
        2 + usize::from(self.link.is_some()) + 3 * self.annotations.len()
    }

    /// About the bytes its records take (their JSON documents and overhead).
    fn bytes(&self) -> usize {
        json_len(&self.task) + self.annotations.iter().map(json_len).sum::<usize>()
    }
}

pub async fn create_tasks(
    table: &Table,
    project: ProjectId,
    job: Option<JobId>,
    tasks: Vec<NewTask>,
) -> StateResult<CreateOutcome> {
    let mut outcome = CreateOutcome::default();
    let mut seen = HashSet::new();
    let mut fresh = Vec::with_capacity(tasks.len());
    for task in tasks {
        let link = task.source.as_ref().map(link_key);
        if let Some(link) = &link
            && !seen.insert(link.clone())
        {
            count_link(&mut outcome, job.unwrap_or(0), job);
            continue;
        }
        fresh.push((task, link));
    }
    let links: Vec<Item> = fresh
        .iter()
        .filter_map(|(task, _)| task.source.as_ref())
        .flat_map(link_keys)
        .map(|(pk, sk)| key(&pk, &sk))
        .collect();
    let existing: HashMap<(String, String), u64> = table
        .batch_get(links, OPERATION)
        .await?
        .iter()
        .map(|i| {
            (
                (
                    text(i, "pk").unwrap_or_default().to_owned(),
                    text(i, "sk").unwrap_or_default().to_owned(),
                ),
                number(i, "job"),
            )
        })
        .collect();
    let found = |task: &NewTask| {
        let keys = task.source.as_ref().map(link_keys).unwrap_or_default();
        keys.iter().find_map(|link| existing.get(link).copied())
    };
    fresh.retain(|(task, _)| match found(task) {
        Some(link_job) => {
            count_link(&mut outcome, link_job, job);
            false
        }
        None => true,
    });
    let prepared = prepare(table, project, fresh).await?;
    for chunk in chunks(prepared) {
        write_chunk(table, project, job, chunk, &mut outcome).await?;
    }
    Ok(outcome)
}

/// Ids allocated in two blocks (tasks, annotations), records built.
async fn prepare(
    table: &Table,
    project: ProjectId,
    fresh: Vec<(NewTask, Option<(String, String)>)>,
) -> StateResult<Vec<Prepared>> {
    if fresh.is_empty() {
        return Ok(Vec::new());
    }
    let maximum = maximum_annotations(table, project).await?;
    let mut task_id = table
        .allocate("task", fresh.len() as u64, OPERATION)
        .await?;
    let annotation_count: usize = fresh.iter().map(|(t, _)| t.annotations.len()).sum();
    let mut annotation_id = if annotation_count > 0 {
        table
            .allocate("annotation", annotation_count as u64, OPERATION)
            .await?
    } else {
        0
    };
    let created_at = now();
    let mut out = Vec::with_capacity(fresh.len());
    for (new, link) in fresh {
        let mut task = Task {
            id: task_id,
            project,
            data: new.data,
            meta: new.meta,
            allow_skip: new.allow_skip,
            inner_id: task_id,
            total_predictions: new.predictions.len() as u64,
            predictions: new.predictions,
            total_annotations: 0,
            cancelled_annotations: 0,
            is_labeled: false,
            source: new.source,
            created_at,
            updated_at: created_at,
        };
        task_id += 1;
        let mut annotations = Vec::with_capacity(new.annotations.len());
        for imported in &new.annotations {
            let annotation = new_record(annotation_id, &task, from_import(imported));
            annotation_id += 1;
            count_annotation(
                &mut task,
                annotation.was_cancelled,
                CounterChange::Added,
                maximum,
            );
            annotations.push(annotation);
        }
        out.push(Prepared {
            task,
            annotations,
            link,
        });
    }
    Ok(out)
}

fn json_len<T: serde::Serialize>(value: &T) -> usize {
    serde_json::to_vec(value).map_or(MAX_ITEM_BYTES, |json| json.len()) + RECORD_OVERHEAD
}

/// Groups tasks so each group fits one transaction (with the counter update), in actions and
/// in bytes.
fn chunks(prepared: Vec<Prepared>) -> Vec<Vec<Prepared>> {
    let mut out: Vec<Vec<Prepared>> = Vec::new();
    let (mut actions, mut bytes) = (0, 0);
    for task in prepared {
        let (needed, size) = (task.actions(), task.bytes());
        let full = actions + needed > MAX_ACTIONS - 1 || bytes + size > MAX_TRANSACTION_BYTES;
        if out.is_empty() || full {
            out.push(Vec::new());
            (actions, bytes) = (0, 0);
        }
        actions += needed;
        bytes += size;
        if let Some(chunk) = out.last_mut() {
            chunk.push(task);
        }
    }
    out
}

fn put(table: &Table, item: Item, condition: Option<&str>) -> StateResult<TransactWriteItem> {
    let put = Put::builder()
        .table_name(&table.name)
        .set_item(Some(item))
        .set_condition_expression(condition.map(str::to_owned));
    Ok(TransactWriteItem::builder()
        .put(put.build().map_err(|e| store_error(OPERATION, e))?)
        .build())
}

/// The transaction of a chunk, and which task each link action belongs to.
fn transaction(
    table: &Table,
    project: ProjectId,
    job: Option<JobId>,
    chunk: &[Prepared],
) -> StateResult<(Vec<TransactWriteItem>, Vec<Option<usize>>)> {
    let mut actions = Vec::new();
    let mut owners = Vec::new();
    for (index, prepared) in chunk.iter().enumerate() {
        let task = &prepared.task;
        if let Some((pk, sk)) = &prepared.link {
            let mut link = key(pk, sk);
            link.insert("task".into(), n(task.id));
            if let Some(source) = &task.source {
                link.insert("key".into(), s(source.key.as_str()));
            }
            link.insert("job".into(), n(job.unwrap_or(0)));
            actions.push(put(table, link, Some("attribute_not_exists(pk)"))?);
            owners.push(Some(index));
        }
        actions.push(put(
            table,
            doc_item(&format!("TASK#{}", task.id), "META", task, 1, "task")?,
            None,
        )?);
        actions.push(put(
            table,
            index_key(&format!("PROJECT#{project}#TASKS"), task.id),
            None,
        )?);
        owners.extend([None, None]);
        for annotation in &prepared.annotations {
            actions.push(put(
                table,
                doc_item(
                    &format!("ANNOTATION#{}", annotation.id),
                    "META",
                    annotation,
                    1,
                    "annotation",
                )?,
                None,
            )?);
            actions.push(put(
                table,
                index_key(&format!("PROJECT#{project}#ANNOTATIONS"), annotation.id),
                None,
            )?);
            actions.push(put(
                table,
                key(
                    &format!("TASK#{}#ANNOTATIONS", task.id),
                    &padded(annotation.id),
                ),
                None,
            )?);
            owners.extend([None, None, None]);
        }
    }
    let annotations: u64 = chunk.iter().map(|p| p.task.total_annotations).sum();
    let predictions: u64 = chunk.iter().map(|p| p.task.total_predictions).sum();
    let shift = CountsShift {
        tasks: chunk.len() as i64,
        annotations: annotations as i64,
        predictions: predictions as i64,
        shard_by: chunk.first().map_or(0, |p| p.task.id),
    };
    actions.push(shift.action(table, project, OPERATION)?);
    owners.push(None);
    Ok((actions, owners))
}

/// Writes a chunk; tasks whose link another writer claimed meanwhile are counted, not written.
async fn write_chunk(
    table: &Table,
    project: ProjectId,
    job: Option<JobId>,
    mut chunk: Vec<Prepared>,
    outcome: &mut CreateOutcome,
) -> StateResult<()> {
    let mut attempt = 0u32;
    while !chunk.is_empty() {
        let (actions, owners) = transaction(table, project, job, &chunk)?;
        let sent = table
            .client
            .transact_write_items()
            .set_transact_items(Some(actions))
            .send()
            .await;
        let error = match sent {
            Ok(_) => {
                outcome.created += chunk.len() as u64;
                return Ok(());
            }
            Err(e) => e,
        };
        let Some(canceled) = error.as_service_error().and_then(|e| match e {
            aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) => Some(c),
            _ => None,
        }) else {
            return Err(store_error(OPERATION, error));
        };
        let claimed: HashSet<usize> = canceled
            .cancellation_reasons()
            .iter()
            .enumerate()
            .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
            .filter_map(|(i, _)| owners.get(i).copied().flatten())
            .collect();
        for index in &claimed {
            if let Some((pk, sk)) = &chunk[*index].link {
                let link = table.get(pk, sk, OPERATION).await?;
                count_link(outcome, link.as_ref().map_or(0, |l| number(l, "job")), job);
            }
        }
        let mut index = 0;
        chunk.retain(|_| {
            index += 1;
            !claimed.contains(&(index - 1))
        });
        if claimed.is_empty() {
            // A conflict with a concurrent transaction: back off and try again.
            attempt += 1;
            tokio::time::sleep(Duration::from_millis(10 * u64::from(attempt.min(20)))).await;
        }
    }
    Ok(())
}

pub async fn get_task(table: &Table, id: TaskId) -> StateResult<Option<Task>> {
    Ok(table
        .get_doc(&format!("TASK#{id}"), "META", "task", "get_task")
        .await?
        .map(|(t, _)| t))
}

pub async fn list_tasks(
    table: &Table,
    project: ProjectId,
    after: Option<TaskId>,
    limit: usize,
) -> StateResult<Vec<Task>> {
    let index = format!("PROJECT#{project}#TASKS");
    sharded::docs(table, &index, "TASK", after, limit, "task", "list_tasks").await
}

pub async fn count_tasks(table: &Table, project: ProjectId) -> StateResult<u64> {
    Ok(project_counts(table, project).await?.tasks)
}

/// Up to `limit` task ids of the project, in id order.
pub async fn task_ids(table: &Table, project: ProjectId, limit: usize) -> StateResult<Vec<TaskId>> {
    let index = format!("PROJECT#{project}#TASKS");
    sharded::ids(table, &index, None, limit, "task_ids").await
}

/// Deletes the task, its index entry and its link, and counts it out, in one transaction;
/// `false` if it did not exist. Its annotations go first ([`super::records`]).
pub async fn delete_task(table: &Table, id: TaskId) -> StateResult<bool> {
    let Some(task) = get_task(table, id).await? else {
        return Ok(false);
    };
    delete_record(table, &task, None).await
}

/// Deletes a task read before; with `version`, only if its record is still at that version
/// (an annotation created since changed it): `false` if it was not.
pub async fn delete_record(table: &Table, task: &Task, version: Option<u64>) -> StateResult<bool> {
    const OP: &str = "delete_task";
    let record = key(&format!("TASK#{}", task.id), "META");
    let mut delete = Delete::builder()
        .table_name(&table.name)
        .set_key(Some(record));
    if let Some(version) = version {
        delete = delete
            .condition_expression("version = :v")
            .expression_attribute_values(":v", n(version));
    }
    let mut actions = vec![transact_delete(delete)?];
    let mut keys = vec![index_key(
        &format!("PROJECT#{}#TASKS", task.project),
        task.id,
    )];
    if let Some(source) = &task.source {
        keys.extend(link_keys(source).iter().map(|(pk, sk)| key(pk, sk)));
    }
    for item in keys {
        let delete = Delete::builder()
            .table_name(&table.name)
            .set_key(Some(item));
        actions.push(transact_delete(delete)?);
    }
    let shift = CountsShift {
        tasks: -1,
        annotations: -(task.total_annotations as i64),
        predictions: -(task.total_predictions as i64),
        shard_by: task.id,
    };
    actions.push(shift.action(table, task.project, OP)?);
    table.transact_if(actions, OP).await
}

fn transact_delete(
    delete: aws_sdk_dynamodb::types::builders::DeleteBuilder,
) -> StateResult<TransactWriteItem> {
    let delete = delete.build().map_err(|e| store_error("delete_task", e))?;
    Ok(TransactWriteItem::builder().delete(delete).build())
}
