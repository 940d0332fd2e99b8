//! Per-project indexes and counters spread over partitions. Every task and annotation of a
//! project has an index item, and ids only grow, so one partition key per project would take
//! every write of a sync at once: DynamoDB serves a partition 1,000 write units a second, and
//! splitting for heat does not help an increasing sort key. Index items and counter updates
//! go to one of [`SHARDS`] partitions by id; a listing merges them back into id order, and the
//! counters are the sum of their shards. Items written before the sharding (the bare
//! partition, the `COUNTS` item) are read too.

use std::collections::VecDeque;

use super::table::{Item, Table, key, padded, text};
use crate::state::StateResult;

/// Partitions per project index. An index item written in a transaction costs 2 write units:
/// a sync at 10,000 tasks a second writes 20,000 units a second to its project's task index,
/// 625 a shard.
pub const SHARDS: u64 = 32;

/// The index item of `id` in the index `base` (`PROJECT#<p>#TASKS`, say).
pub fn index_key(base: &str, id: u64) -> Item {
    key(&format!("{base}#{}", id % SHARDS), &padded(id))
}

/// The shard of a counter update made for `id`.
pub fn counter_sort_key(id: u64) -> String {
    format!("COUNTS#{}", id % SHARDS)
}

/// Every counter item of a project's counters partition `pk`: the shards and the old one.
pub fn counter_keys(pk: &str) -> Vec<Item> {
    let mut keys: Vec<Item> = (0..SHARDS)
        .map(|s| key(pk, &format!("COUNTS#{s}")))
        .collect();
    keys.push(key(pk, "COUNTS"));
    keys
}

/// Up to `limit` ids of the index `base` greater than `after`, in id order: a merge of the
/// shards, each read a page at a time as the merge needs it.
pub async fn ids(
    table: &Table,
    base: &str,
    after: Option<u64>,
    limit: usize,
    operation: &'static str,
) -> StateResult<Vec<u64>> {
    let page = (limit / SHARDS as usize).clamp(4, 1000);
    let mut shards: Vec<Shard> = (0..SHARDS)
        .map(|s| format!("{base}#{s}"))
        .chain([base.to_owned()])
        .map(|pk| Shard::new(pk, after))
        .collect();
    let mut out = Vec::with_capacity(limit);
    while out.len() < limit {
        // The shards that ran dry read their next pages at once (one round trip, not 33).
        let reads = shards
            .iter_mut()
            .filter(|s| s.needs_page())
            .map(|s| s.read_page(table, page, operation));
        futures::future::try_join_all(reads).await?;
        let next = shards
            .iter_mut()
            .filter(|s| !s.ids.is_empty())
            .min_by_key(|s| s.ids[0]);
        match next.and_then(|s| s.ids.pop_front()) {
            Some(id) => out.push(id),
            None => break,
        }
    }
    Ok(out)
}

/// One partition of a merge: the ids read and not yet taken, and where to read on.
struct Shard {
    pk: String,
    ids: VecDeque<u64>,
    after: Option<String>,
    done: bool,
}

impl Shard {
    fn new(pk: String, after: Option<u64>) -> Self {
        let after = after.map(padded);
        Shard {
            pk,
            ids: VecDeque::new(),
            after,
            done: false,
        }
    }

    fn needs_page(&self) -> bool {
        self.ids.is_empty() && !self.done
    }

    async fn read_page(&mut self, table: &Table, page: usize, op: &'static str) -> StateResult<()> {
        let items = table
            .query_keys(&self.pk, self.after.as_deref(), page, op)
            .await?;
        self.done = items.len() < page;
        let sorts: Vec<&str> = items.iter().filter_map(|i| text(i, "sk")).collect();
        self.after = sorts.last().map(|s| (*s).to_owned()).or(self.after.take());
        self.ids
            .extend(sorts.iter().filter_map(|s| s.parse::<u64>().ok()));
        Ok(())
    }
}

/// The documents `<target>#<id>` / `META` of an index's ids, in the ids' order (missing ones,
/// deleted meanwhile, are skipped).
pub async fn docs<T: serde::de::DeserializeOwned>(
    table: &Table,
    base: &str,
    target: &str,
    after: Option<u64>,
    limit: usize,
    what: &'static str,
    operation: &'static str,
) -> StateResult<Vec<T>> {
    let ids = ids(table, base, after, limit, operation).await?;
    table.docs_of(target, &ids, what, operation).await
}
