//! A project's counters (`tasks`, `annotations` not cancelled, `predictions`): items
//! `PROJECT#<p>` / `COUNTS#<shard>` that writes shift in their own transactions, summed on
//! read ([`super::sharded`]).

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};

use super::sharded;
use super::table::{Item, Table, key, store_error};
use crate::model::{ProjectCounts, ProjectId};
use crate::state::StateResult;

/// The project's counter items, `PROJECT#<p>` / `COUNTS#<shard>` (and `COUNTS`, from before
/// the counters were sharded).
pub fn counts_keys(project: ProjectId) -> Vec<Item> {
    sharded::counter_keys(&format!("PROJECT#{project}"))
}

/// The sum of the project's counter items (each shard's total may be negative: a task counted
/// in on one shard can be counted out on another).
pub async fn project_counts(table: &Table, project: ProjectId) -> StateResult<ProjectCounts> {
    let items = table
        .batch_get(counts_keys(project), "project_counts")
        .await?;
    let sum = |name: &str| -> u64 {
        let total: i64 = items.iter().map(|i| signed_number(i, name)).sum();
        total.max(0) as u64
    };
    Ok(ProjectCounts {
        tasks: sum("tasks"),
        annotations: sum("annotations"),
        predictions: sum("predictions"),
    })
}

fn signed_number(item: &Item, name: &str) -> i64 {
    match item.get(name) {
        Some(AttributeValue::N(n)) => n.parse().unwrap_or(0),
        _ => 0,
    }
}

/// Amounts to add to a project's counters (negative ones subtract).
pub struct CountsShift {
    pub tasks: i64,
    pub annotations: i64,
    pub predictions: i64,
    /// The id the update is made for (a task's, an annotation's): it picks the counter shard.
    pub shard_by: u64,
}

impl CountsShift {
    /// The counters' update, as an action of a transaction.
    pub fn action(
        &self,
        table: &Table,
        project: ProjectId,
        operation: &'static str,
    ) -> StateResult<TransactWriteItem> {
        let signed = |v: i64| AttributeValue::N(v.to_string());
        let update = Update::builder()
            .table_name(&table.name)
            .set_key(Some(key(
                &format!("PROJECT#{project}"),
                &sharded::counter_sort_key(self.shard_by),
            )))
            .update_expression("ADD tasks :t, annotations :a, predictions :p")
            .expression_attribute_values(":t", signed(self.tasks))
            .expression_attribute_values(":a", signed(self.annotations))
            .expression_attribute_values(":p", signed(self.predictions))
            .build()
            .map_err(|e| store_error(operation, e))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Applies the shift on its own (outside a transaction).
    pub async fn apply(
        &self,
        table: &Table,
        project: ProjectId,
        operation: &'static str,
    ) -> StateResult<()> {
        let action = self.action(table, project, operation)?;
        table
            .client
            .transact_write_items()
            .transact_items(action)
            .send()
            .await
            .map_err(|e| store_error(operation, e))?;
        Ok(())
    }
}
