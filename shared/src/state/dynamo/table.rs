//! The single DynamoDB table: keys, JSON documents with an optimistic `version`, id counters,
//! and the error mapping. Every record is one item `{pk, sk, doc, version}`; indexes are items
//! whose sort key is a zero-padded id, so a Query returns ids in order.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, KeysAndAttributes,
    ScalarAttributeType,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::state::{StateError, StateResult};

pub type Item = HashMap<String, AttributeValue>;

/// Most keys one BatchGetItem reads.
const BATCH_GET: usize = 100;

pub fn store_error<E: std::error::Error + Send + Sync + 'static>(
    operation: &'static str,
    error: E,
) -> StateError {
    StateError::Store {
        operation,
        source: Box::new(error),
    }
}

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn n(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A zero-padded id: sort keys compare like numbers.
pub fn padded(id: u64) -> String {
    format!("{id:020}")
}

pub fn key(pk: &str, sk: &str) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

pub fn number(item: &Item, name: &str) -> u64 {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

pub fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

/// A record item: its key, the JSON document and its version.
pub fn doc_item<T: Serialize>(
    pk: &str,
    sk: &str,
    value: &T,
    version: u64,
    what: &'static str,
) -> StateResult<Item> {
    let doc =
        serde_json::to_string(value).map_err(|source| StateError::Corrupt { what, source })?;
    let mut item = key(pk, sk);
    item.insert("doc".into(), s(doc));
    item.insert("version".into(), n(version));
    Ok(item)
}

pub fn decode<T: DeserializeOwned>(item: &Item, what: &'static str) -> StateResult<T> {
    serde_json::from_str(text(item, "doc").unwrap_or("null"))
        .map_err(|source| StateError::Corrupt { what, source })
}

/// The table operations records are built from.
#[derive(Clone, Debug)]
pub struct Table {
    pub client: Client,
    pub name: String,
}

impl Table {
    pub async fn get(
        &self,
        pk: &str,
        sk: &str,
        operation: &'static str,
    ) -> StateResult<Option<Item>> {
        let got = self
            .client
            .get_item()
            .table_name(&self.name)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error(operation, e))?;
        Ok(got.item)
    }

    pub async fn get_doc<T: DeserializeOwned>(
        &self,
        pk: &str,
        sk: &str,
        what: &'static str,
        operation: &'static str,
    ) -> StateResult<Option<(T, u64)>> {
        match self.get(pk, sk, operation).await? {
            Some(item) => Ok(Some((decode(&item, what)?, number(&item, "version")))),
            None => Ok(None),
        }
    }

    pub async fn put(&self, item: Item, operation: &'static str) -> StateResult<()> {
        self.client
            .put_item()
            .table_name(&self.name)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| store_error(operation, e))?;
        Ok(())
    }

    /// Puts and deletes items in one transaction: all happen or none does.
    pub async fn transact(
        &self,
        puts: Vec<Item>,
        deletes: Vec<Item>,
        operation: &'static str,
    ) -> StateResult<()> {
        use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};
        let mut actions = Vec::with_capacity(puts.len() + deletes.len());
        for item in puts {
            let put = Put::builder()
                .table_name(&self.name)
                .set_item(Some(item))
                .build()
                .map_err(|e| store_error(operation, e))?;
            actions.push(TransactWriteItem::builder().put(put).build());
        }
        for item in deletes {
            let delete = Delete::builder()
                .table_name(&self.name)
                .set_key(Some(item))
                .build()
                .map_err(|e| store_error(operation, e))?;
            actions.push(TransactWriteItem::builder().delete(delete).build());
        }
        self.client
            .transact_write_items()
            .set_transact_items(Some(actions))
            .send()
            .await
            .map_err(|e| store_error(operation, e))?;
        Ok(())
    }

    /// Puts items and moves the record at `record` to its next version, in one transaction:
    /// a change that readers of the record must notice (a task's new annotation, which a
    /// removal checks for). `false`, and nothing written, if the record does not exist.
    pub async fn transact_touching(
        &self,
        puts: Vec<Item>,
        record: Item,
        operation: &'static str,
    ) -> StateResult<bool> {
        use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
        let mut actions = Vec::with_capacity(puts.len() + 1);
        for item in puts {
            let put = Put::builder().table_name(&self.name).set_item(Some(item));
            let put = put.build().map_err(|e| store_error(operation, e))?;
            actions.push(TransactWriteItem::builder().put(put).build());
        }
        let touch = Update::builder()
            .table_name(&self.name)
            .set_key(Some(record))
            .update_expression("ADD version :one")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":one", n(1))
            .build()
            .map_err(|e| store_error(operation, e))?;
        actions.push(TransactWriteItem::builder().update(touch).build());
        self.transact_if(actions, operation).await
    }

    /// Runs a transaction whose conditions may fail: `false` when one did (nothing written).
    pub async fn transact_if(
        &self,
        actions: Vec<aws_sdk_dynamodb::types::TransactWriteItem>,
        operation: &'static str,
    ) -> StateResult<bool> {
        let sent = self
            .client
            .transact_write_items()
            .set_transact_items(Some(actions))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(true),
            Err(e) if is_condition_failure(&e) => Ok(false),
            Err(e) => Err(store_error(operation, e)),
        }
    }

    pub async fn delete(&self, pk: &str, sk: &str, operation: &'static str) -> StateResult<()> {
        self.client
            .delete_item()
            .table_name(&self.name)
            .set_key(Some(key(pk, sk)))
            .send()
            .await
            .map_err(|e| store_error(operation, e))?;
        Ok(())
    }

    /// Deletes an item; `true` if it existed. Exactly one of several concurrent callers
    /// sees `true`, as the answer comes from the delete itself.
    pub async fn delete_existing(
        &self,
        pk: &str,
        sk: &str,
        operation: &'static str,
    ) -> StateResult<bool> {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.name)
            .set_key(Some(key(pk, sk)))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| store_error(operation, e))?;
        Ok(deleted.attributes.is_some_and(|old| !old.is_empty()))
    }

    /// Reserves `count` ids of `kind`; returns the first.
    pub async fn allocate(
        &self,
        kind: &str,
        count: u64,
        operation: &'static str,
    ) -> StateResult<u64> {
        let updated = self
            .client
            .update_item()
            .table_name(&self.name)
            .set_key(Some(key("COUNTER", kind)))
            .update_expression("ADD #n :count")
            .expression_attribute_names("#n", "n")
            .expression_attribute_values(":count", n(count))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| store_error(operation, e))?;
        let last = updated
            .attributes
            .as_ref()
            .map_or(count, |a| number(a, "n"));
        Ok(last + 1 - count)
    }

    /// Sort keys of a partition after `after`, in order, at most `limit` (all with `usize::MAX`).
    pub async fn query_keys(
        &self,
        pk: &str,
        after: Option<&str>,
        limit: usize,
        operation: &'static str,
    ) -> StateResult<Vec<Item>> {
        let mut out = Vec::new();
        let mut start: Option<Item> = after.map(|a| key(pk, a));
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.name)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(pk))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .limit(limit.saturating_sub(out.len()).clamp(1, 1000) as i32)
                .send()
                .await
                .map_err(|e| store_error(operation, e))?;
            out.extend(page.items.unwrap_or_default());
            start = page.last_evaluated_key;
            if start.is_none() || out.len() >= limit {
                out.truncate(limit);
                return Ok(out);
            }
        }
    }

    /// The items at these keys, in the keys' order, skipping missing ones.
    pub async fn batch_get(
        &self,
        keys: Vec<Item>,
        operation: &'static str,
    ) -> StateResult<Vec<Item>> {
        let mut found: Vec<Item> = Vec::new();
        for chunk in keys.chunks(BATCH_GET) {
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.to_vec()))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| store_error(operation, e))?,
            );
            while let Some(request) = pending.take() {
                let got = self
                    .client
                    .batch_get_item()
                    .request_items(&self.name, request)
                    .send()
                    .await
                    .map_err(|e| store_error(operation, e))?;
                found.extend(
                    got.responses
                        .and_then(|mut r| r.remove(&self.name))
                        .unwrap_or_default(),
                );
                pending = got
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.name))
                    .filter(|k| !k.keys.is_empty());
            }
        }
        let position = |item: &Item| {
            keys.iter()
                .position(|k| k.get("pk") == item.get("pk") && k.get("sk") == item.get("sk"))
        };
        found.sort_by_key(|item| position(item));
        Ok(found)
    }

    /// The documents an index partition points at (`TARGET#<id>`/`META`), in id order.
    pub async fn indexed_docs<T: DeserializeOwned>(
        &self,
        index_pk: &str,
        target: &str,
        after: Option<u64>,
        limit: usize,
        what: &'static str,
        operation: &'static str,
    ) -> StateResult<Vec<T>> {
        let after = after.map(padded);
        let ids = self
            .query_keys(index_pk, after.as_deref(), limit, operation)
            .await?;
        let ids = ids
            .iter()
            .filter_map(|i| text(i, "sk")?.parse().ok())
            .collect::<Vec<u64>>();
        self.docs_of(target, &ids, what, operation).await
    }

    /// The documents `<target>#<id>` / `META` of `ids`, in their order (missing ones, deleted
    /// meanwhile, skipped).
    pub async fn docs_of<T: DeserializeOwned>(
        &self,
        target: &str,
        ids: &[u64],
        what: &'static str,
        operation: &'static str,
    ) -> StateResult<Vec<T>> {
        let keys = ids
            .iter()
            .map(|id| key(&format!("{target}#{id}"), "META"))
            .collect();
        self.batch_get(keys, operation)
            .await?
            .iter()
            .map(|i| decode(i, what))
            .collect()
    }
}

/// Creates the table (pk/sk strings, on demand); for tests and local development.
pub async fn create_table(client: &Client, name: &str) -> StateResult<()> {
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(|e| store_error("create_table", e))
    };
    let schema = |name: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .map_err(|e| store_error("create_table", e))
    };
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute("pk")?)
        .attribute_definitions(attribute("sk")?)
        .key_schema(schema("pk", KeyType::Hash)?)
        .key_schema(schema("sk", KeyType::Range)?)
        .send()
        .await
        .map_err(|e| store_error("create_table", e))?;
    Ok(())
}

impl Table {
    /// Puts a record item only if its stored version is `expected` (`None`: only if absent).
    /// `false` when another writer got there first.
    pub async fn put_if_version(
        &self,
        item: Item,
        expected: Option<u64>,
        operation: &'static str,
    ) -> StateResult<bool> {
        let request = self
            .client
            .put_item()
            .table_name(&self.name)
            .set_item(Some(item));
        let request = match expected {
            None => request.condition_expression("attribute_not_exists(pk)"),
            Some(version) => request
                .condition_expression("version = :v")
                .expression_attribute_values(":v", n(version)),
        };
        match request.send().await {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(store_error(operation, e)),
        }
    }

    /// Read, change, write back unless someone else wrote in between (then again). `change`
    /// returns `false` to leave the record as it is. `None` when the record does not exist.
    pub async fn update_doc<T: Serialize + DeserializeOwned>(
        &self,
        pk: &str,
        sk: &str,
        what: &'static str,
        operation: &'static str,
        change: &(dyn Fn(&mut T) -> bool + Send + Sync),
    ) -> StateResult<Option<T>> {
        loop {
            let Some((mut value, version)) = self.get_doc::<T>(pk, sk, what, operation).await?
            else {
                return Ok(None);
            };
            if !change(&mut value) {
                return Ok(Some(value));
            }
            let item = doc_item(pk, sk, &value, version + 1, what)?;
            if self.put_if_version(item, Some(version), operation).await? {
                return Ok(Some(value));
            }
        }
    }
}

/// Whether a transaction was cancelled because one of its conditions failed (not for a
/// conflict or a fault, which the caller reports or retries).
pub fn is_condition_failure<R>(
    error: &aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
        R,
    >,
) -> bool {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    match error.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => cancelled
            .cancellation_reasons()
            .iter()
            .any(|reason| reason.code() == Some("ConditionalCheckFailed")),
        _ => false,
    }
}
