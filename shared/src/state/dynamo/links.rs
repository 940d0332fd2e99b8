//! Dedupe links: one item per `(namespace, key, row)`, spread over [`LINK_SHARDS`] partitions
//! by key. Links of a location's namespace sort by key first (`<key>#<row>`), so the tasks of
//! one object are one range; storage namespaces keep their first layout (`<row>#<key>`), read
//! by key with a scan of the key's shard. Each link item holds its task and key.
//!
//! Links were once spread over [`LEGACY_LINK_SHARDS`] partitions. The shard of a key is its
//! hash modulo the shard count, and 8 divides 32, so a key's old partition is either its
//! partition now or one more to read ([`legacy_link_key`]): a link written then still
//! dedupes, is found and is deleted, with no migration.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::table::{Item, Table, key, number, s, store_error, text};
use crate::model::{LinkPage, LinkedTask, TaskId, TaskSource, fnv1a};
use crate::state::StateResult;

/// Link partitions per namespace, so one big storage does not make one hot partition: a link
/// is written in a transaction (2 write units), so at 10,000 tasks/s a shard takes 625 units/s,
/// under DynamoDB's 1,000 per partition.
const LINK_SHARDS: u64 = 32;
/// The link partitions per namespace of versions before 2026-12-02.
const LEGACY_LINK_SHARDS: u64 = 8;
/// Longest key kept verbatim in a sort key (DynamoDB allows 1024 bytes).
const MAX_SORT_KEY: usize = 900;

/// The link item key of a source.
pub fn link_key(source: &TaskSource) -> (String, String) {
    let scope = source.link_scope();
    let row = source
        .row_index
        .map_or_else(|| "-".to_owned(), |r| r.to_string());
    let sort = if is_key_first(scope) {
        format!("{}#{row}", key_part(&source.key))
    } else {
        let sort = format!("{row}#{}", source.key);
        if sort.len() > MAX_SORT_KEY {
            format!("{row}#{}", hashed(&source.key))
        } else {
            sort
        }
    };
    (partition(scope, &source.key, LINK_SHARDS), sort)
}

/// Where versions before 2026-12-02 wrote the link of `source`, when that is another item.
pub fn legacy_link_key(source: &TaskSource) -> Option<(String, String)> {
    let (pk, sort) = link_key(source);
    let legacy = partition(source.link_scope(), &source.key, LEGACY_LINK_SHARDS);
    (legacy != pk).then_some((legacy, sort))
}

/// The link item keys of a source: where links are written, then where an earlier version
/// may have written it.
pub fn link_keys(source: &TaskSource) -> Vec<(String, String)> {
    std::iter::once(link_key(source))
        .chain(legacy_link_key(source))
        .collect()
}

/// Namespaces of locations (the top bit set; see `StorageRecord::link_scope`) are key-first.
fn is_key_first(scope: u64) -> bool {
    scope >> 63 == 1
}

fn partition(scope: u64, key: &str, shards: u64) -> String {
    format!("LINKS#{scope}#{}", fnv1a(key) % shards)
}

/// The key as a sort key holds it: verbatim, or its hash and length when too long.
fn key_part(key: &str) -> String {
    if key.len() + 24 > MAX_SORT_KEY {
        hashed(key)
    } else {
        key.to_owned()
    }
}

fn hashed(key: &str) -> String {
    format!("H{:016x}-{}", fnv1a(key), key.len())
}

fn is_row(text: &str) -> bool {
    text == "-" || (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether the sort key `sort` is a link of `key`, in its namespace's layout.
fn links_key(sort: &str, key: &str, key_first: bool) -> bool {
    if key_first {
        sort.strip_prefix(key_part(key).as_str())
            .and_then(|rest| rest.strip_prefix('#'))
            .is_some_and(is_row)
    } else {
        sort.split_once('#')
            .is_some_and(|(row, rest)| is_row(row) && (rest == key || rest == hashed(key)))
    }
}

pub async fn object_tasks(table: &Table, scope: u64, key: &str) -> StateResult<Vec<TaskId>> {
    let key_first = is_key_first(scope);
    let prefix = key_first.then(|| format!("{}#", key_part(key)));
    let mut partitions = vec![partition(scope, key, LINK_SHARDS)];
    partitions.push(partition(scope, key, LEGACY_LINK_SHARDS));
    partitions.dedup();
    let mut tasks = Vec::new();
    for pk in partitions {
        let mut start = None;
        loop {
            let (items, next) = query(table, &pk, prefix.as_deref(), start, 1000).await?;
            let of_key =
                |item: &&Item| text(item, "sk").is_some_and(|sk| links_key(sk, key, key_first));
            tasks.extend(items.iter().filter(of_key).map(|item| number(item, "task")));
            match next {
                Some(next) => start = Some(next),
                None => break,
            }
        }
    }
    tasks.sort_unstable();
    tasks.dedup();
    Ok(tasks)
}

/// One batched read of every place each key's whole-object link may be.
pub async fn linked_keys(table: &Table, scope: u64, keys: Vec<String>) -> StateResult<Vec<String>> {
    let mut places: HashMap<(String, String), usize> = HashMap::new();
    for (i, key) in keys.iter().enumerate() {
        let source = TaskSource {
            storage: scope,
            key: key.clone(),
            row_index: None,
            row_group: None,
            scope: Some(scope),
        };
        places.extend(link_keys(&source).into_iter().map(|place| (place, i)));
    }
    let wanted = places.keys().map(|(pk, sk)| key(pk, sk)).collect();
    let found = table.batch_get(wanted, "linked_keys").await?;
    let mut linked = vec![false; keys.len()];
    for item in &found {
        let place = (text(item, "pk"), text(item, "sk"));
        if let (Some(pk), Some(sk)) = place
            && let Some(&i) = places.get(&(pk.to_owned(), sk.to_owned()))
        {
            linked[i] = true;
        }
    }
    let keys = keys.into_iter().zip(linked);
    Ok(keys
        .filter_map(|(key, linked)| linked.then_some(key))
        .collect())
}

/// Shard by shard; the cursor is `<shard>|<last sort key>`.
pub async fn linked_tasks(
    table: &Table,
    scope: u64,
    cursor: Option<String>,
    limit: usize,
) -> StateResult<LinkPage> {
    let (mut shard, mut after) = match cursor.as_deref().and_then(|c| c.split_once('|')) {
        Some((shard, sort)) => (
            shard.parse().unwrap_or(LINK_SHARDS),
            (!sort.is_empty()).then(|| sort.to_owned()),
        ),
        None => (0, None),
    };
    let mut page = LinkPage::default();
    while shard < LINK_SHARDS && page.links.len() < limit {
        let pk = format!("LINKS#{scope}#{shard}");
        let start = after.take().map(|sort| key(&pk, &sort));
        let want = limit - page.links.len();
        let (items, next) = query(table, &pk, None, start, want).await?;
        page.links.extend(items.iter().filter_map(linked_task));
        match next.as_ref().and_then(|n| text(n, "sk")) {
            Some(sort) => after = Some(sort.to_owned()),
            None => shard += 1,
        }
        if page.links.len() >= limit {
            let resume = after
                .clone()
                .map_or_else(|| format!("{shard}|"), |sort| format!("{shard}|{sort}"));
            page.next = (shard < LINK_SHARDS).then_some(resume);
        }
    }
    Ok(page)
}

/// A link item's task and key; links written before items held their key give it from the
/// sort key when they can.
fn linked_task(item: &Item) -> Option<LinkedTask> {
    let key = match text(item, "key") {
        Some(key) => key.to_owned(),
        None => {
            let (row, rest) = text(item, "sk")?.split_once('#')?;
            (is_row(row) && !rest.starts_with('H')).then(|| rest.to_owned())?
        }
    };
    Some(LinkedTask {
        key,
        task: number(item, "task"),
    })
}

/// One query page of a partition, optionally of sort keys beginning with `prefix`.
async fn query(
    table: &Table,
    pk: &str,
    prefix: Option<&str>,
    start: Option<Item>,
    limit: usize,
) -> StateResult<(Vec<Item>, Option<Item>)> {
    let condition = match prefix {
        Some(_) => "pk = :pk AND begins_with(sk, :prefix)",
        None => "pk = :pk",
    };
    let mut request = table
        .client
        .query()
        .table_name(&table.name)
        .key_condition_expression(condition)
        .expression_attribute_values(":pk", s(pk))
        .consistent_read(true)
        .set_exclusive_start_key(start)
        .limit(limit.clamp(1, 1000) as i32);
    if let Some(prefix) = prefix {
        request = request.expression_attribute_values(":prefix", AttributeValue::S(prefix.into()));
    }
    let page = request
        .send()
        .await
        .map_err(|e| store_error("linked_tasks", e))?;
    Ok((page.items.unwrap_or_default(), page.last_evaluated_key))
}
