//! The dedupe links read by object: which tasks a key made, every link of a namespace (for
//! the sweep after a sync), and removing a task whose object is gone.

use std::ops::Bound;

use redb::Database;

use super::tables::{During, LINKS, TASKS, get_record, put_record, read, write};
use crate::model::{LinkPage, LinkedTask, Task, TaskId, TaskRemoval};
use crate::state::StateResult;
use crate::state::records::{flag_object_removed, is_annotated};

pub(super) fn object_tasks(db: &Database, scope: u64, key: &str) -> StateResult<Vec<TaskId>> {
    const OP: &str = "object_tasks";
    read(db, OP, |txn| {
        let links = txn.open_table(LINKS).during(OP)?;
        let range = (scope, key, None)..=(scope, key, Some(u64::MAX));
        let mut tasks = Vec::new();
        for entry in links.range(range).during(OP)? {
            tasks.push(entry.during(OP)?.1.value().0);
        }
        tasks.sort_unstable();
        Ok(tasks)
    })
}

pub(super) fn linked_keys(
    db: &Database,
    scope: u64,
    keys: Vec<String>,
) -> StateResult<Vec<String>> {
    const OP: &str = "linked_keys";
    read(db, OP, |txn| {
        let links = txn.open_table(LINKS).during(OP)?;
        let mut linked = Vec::new();
        for key in keys {
            if links.get((scope, key.as_str(), None)).during(OP)?.is_some() {
                linked.push(key);
            }
        }
        Ok(linked)
    })
}

/// Links in `(key, row)` order; the cursor is the last link's `(key, row)` as JSON.
pub(super) fn linked_tasks(
    db: &Database,
    scope: u64,
    cursor: Option<String>,
    limit: usize,
) -> StateResult<LinkPage> {
    const OP: &str = "linked_tasks";
    let after: Option<(String, Option<u64>)> = cursor.and_then(|c| serde_json::from_str(&c).ok());
    read(db, OP, |txn| {
        let links = txn.open_table(LINKS).during(OP)?;
        let start = match &after {
            Some((key, row)) => Bound::Excluded((scope, key.as_str(), *row)),
            None => Bound::Included((scope, "", None)),
        };
        let mut page = LinkPage::default();
        let mut last = None;
        for entry in links.range((start, Bound::Unbounded)).during(OP)? {
            let (link, value) = entry.during(OP)?;
            let (link_scope, key, row) = link.value();
            if link_scope != scope || page.links.len() == limit {
                break;
            }
            page.links.push(LinkedTask {
                key: key.to_owned(),
                task: value.value().0,
            });
            last = Some((key.to_owned(), row));
        }
        if page.links.len() == limit {
            page.next = last.map(|l| serde_json::json!(l).to_string());
        }
        Ok(page)
    })
}

pub(super) fn remove_unlabeled(db: &Database, id: TaskId) -> StateResult<TaskRemoval> {
    const OP: &str = "remove_unlabeled_task";
    write(db, OP, |txn| {
        let mut records = txn.open_table(TASKS).during(OP)?;
        let Some(mut task) = get_record::<Task>(&records, "task", OP, id)? else {
            return Ok(TaskRemoval::Gone);
        };
        if is_annotated(&task) {
            if flag_object_removed(&mut task) {
                put_record(&mut records, "task", OP, id, &task)?;
            }
            return Ok(TaskRemoval::Flagged);
        }
        drop(records);
        super::tasks::delete_in(txn, id, OP)?;
        Ok(TaskRemoval::Deleted)
    })
}
