//! DynamoDB request units of one request, from its JSON body and its response's: what
//! on-demand DynamoDB would bill for it. Item sizes follow "DynamoDB item sizes and formats"
//! (docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html):
//! attribute names plus values, a number is 1 byte per two significant digits plus 1, a list
//! or map 3 bytes plus 1 a element. A write is 1 unit a started KB of the item written (2 in
//! a transaction); a strongly consistent read 1 unit a started 4 KB (half for an eventually
//! consistent one, 2 in a transaction), a Query or Scan rounding the sum of what it returned.
//!
//! What the bodies cannot tell: an update or delete is billed on the size of the item as it
//! was (or becomes), which only the table knows; those count 1 unit (the minimum) and are
//! counted as estimated, so a report can say how many there were.

#![allow(dead_code)]

use serde_json::{Map, Value};

/// One item written: its key and the units it cost.
#[derive(Clone, Debug, PartialEq)]
pub struct Write {
    pub pk: String,
    pub sk: String,
    pub units: f64,
    /// The size was not in the request (update, delete): `units` is the minimum.
    pub estimated: bool,
}

/// The size DynamoDB counts for an item (or key): its attribute names and values.
pub fn item_bytes(item: &Map<String, Value>) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_bytes(value))
        .sum()
}

/// The size of one attribute value in DynamoDB JSON (`{"S": "…"}`, `{"N": "12"}`, …).
fn value_bytes(value: &Value) -> usize {
    let Some((kind, inner)) = value.as_object().and_then(|v| v.iter().next()) else {
        return 0;
    };
    let text = || inner.as_str().unwrap_or_default();
    let each = || inner.as_array().into_iter().flatten();
    match kind.as_str() {
        "S" => text().len(),
        "N" => number_bytes(text()),
        "B" => base64_len(text()),
        "BOOL" | "NULL" => 1,
        "SS" => each().map(|s| s.as_str().unwrap_or_default().len()).sum(),
        "NS" => each()
            .map(|s| number_bytes(s.as_str().unwrap_or_default()))
            .sum(),
        "BS" => each()
            .map(|s| base64_len(s.as_str().unwrap_or_default()))
            .sum(),
        "L" => 3 + each().map(|v| 1 + value_bytes(v)).sum::<usize>(),
        "M" => {
            let fields = inner.as_object().into_iter().flatten();
            3 + fields
                .map(|(name, v)| 1 + name.len() + value_bytes(v))
                .sum::<usize>()
        }
        _ => 0,
    }
}

/// 1 byte per two significant digits, plus 1 (leading and trailing zeroes do not count).
fn number_bytes(text: &str) -> usize {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len();
    significant.div_ceil(2) + 1
}

fn base64_len(text: &str) -> usize {
    let padding = text.chars().rev().take_while(|c| *c == '=').count();
    (text.len() * 3 / 4).saturating_sub(padding)
}

/// Units of a standard write of an item of `bytes`: one a started KB, at least one.
pub fn write_units(bytes: usize) -> f64 {
    bytes.div_ceil(1024).max(1) as f64
}

/// Units of a strongly consistent read of `bytes`: one a started 4 KB, at least one.
pub fn read_units(bytes: usize) -> f64 {
    bytes.div_ceil(4096).max(1) as f64
}

fn text_of(item: &Map<String, Value>, name: &str) -> String {
    let value = item.get(name).and_then(|v| v.get("S"));
    value.and_then(Value::as_str).unwrap_or_default().to_owned()
}

fn object<'a>(value: &'a Value, name: &str) -> Option<&'a Map<String, Value>> {
    value.get(name).and_then(Value::as_object)
}

/// A put of `item` (its size is in the request), `factor` 2 in a transaction.
fn put(item: &Map<String, Value>, factor: f64) -> Write {
    Write {
        pk: text_of(item, "pk"),
        sk: text_of(item, "sk"),
        units: write_units(item_bytes(item)) * factor,
        estimated: false,
    }
}

/// An update or delete of the item at `key`: the item's size is unknown here.
fn keyed(key: &Map<String, Value>, factor: f64) -> Write {
    Write {
        pk: text_of(key, "pk"),
        sk: text_of(key, "sk"),
        units: factor,
        estimated: true,
    }
}

/// The items a write operation (`PutItem`, `TransactWriteItems`, …) writes, with their units.
pub fn writes(operation: &str, request: &Value) -> Vec<Write> {
    match operation {
        "PutItem" => object(request, "Item")
            .map(|i| put(i, 1.0))
            .into_iter()
            .collect(),
        "UpdateItem" | "DeleteItem" => object(request, "Key")
            .map(|k| keyed(k, 1.0))
            .into_iter()
            .collect(),
        "BatchWriteItem" => batch_writes(request),
        "TransactWriteItems" => transact_writes(request),
        _ => Vec::new(),
    }
}

fn batch_writes(request: &Value) -> Vec<Write> {
    let tables = object(request, "RequestItems").into_iter().flatten();
    let requests = tables.flat_map(|(_, r)| r.as_array().into_iter().flatten());
    requests
        .filter_map(|r| match (r.get("PutRequest"), r.get("DeleteRequest")) {
            (Some(p), _) => object(p, "Item").map(|i| put(i, 1.0)),
            (_, Some(d)) => object(d, "Key").map(|k| keyed(k, 1.0)),
            _ => None,
        })
        .collect()
}

fn transact_writes(request: &Value) -> Vec<Write> {
    let actions = request.get("TransactItems").and_then(Value::as_array);
    let action = |a: &Value| {
        if let Some(item) = a.get("Put").and_then(|p| object(p, "Item")) {
            return Some(put(item, 2.0));
        }
        let keyed_action = ["Update", "Delete", "ConditionCheck"]
            .iter()
            .find_map(|name| a.get(*name).and_then(|x| object(x, "Key")));
        keyed_action.map(|key| keyed(key, 2.0))
    };
    actions.into_iter().flatten().filter_map(action).collect()
}

/// 1 for a strongly consistent read (what `ConsistentRead: true` asks), else 0.5.
fn consistency(request: &Value) -> f64 {
    if request.get("ConsistentRead").and_then(Value::as_bool) == Some(true) {
        1.0
    } else {
        0.5
    }
}

fn items_of(value: Option<&Value>) -> impl Iterator<Item = &Map<String, Value>> {
    let items = value.and_then(Value::as_array).into_iter().flatten();
    items.filter_map(Value::as_object)
}

/// Read units of a read operation, from its request (consistency, keys asked for) and its
/// response (the items returned): a missing item still costs the minimum.
pub fn reads(operation: &str, request: &Value, response: &Value) -> f64 {
    match operation {
        "GetItem" => {
            let bytes = object(response, "Item").map_or(0, item_bytes);
            read_units(bytes) * consistency(request)
        }
        "Query" | "Scan" => {
            let bytes: usize = items_of(response.get("Items")).map(item_bytes).sum();
            read_units(bytes) * consistency(request)
        }
        "BatchGetItem" => batch_reads(request, response),
        "TransactGetItems" => {
            let found = response.get("Responses").and_then(Value::as_array);
            let items = found.into_iter().flatten().map(|r| object(r, "Item"));
            items
                .map(|i| read_units(i.map_or(0, item_bytes)) * 2.0)
                .sum()
        }
        _ => 0.0,
    }
}

fn batch_reads(request: &Value, response: &Value) -> f64 {
    let mut units = 0.0;
    for (table, asked) in object(request, "RequestItems").into_iter().flatten() {
        let keys = asked
            .get("Keys")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        let found: Vec<_> =
            items_of(response.get("Responses").and_then(|r| r.get(table))).collect();
        let unprocessed = response
            .get("UnprocessedKeys")
            .and_then(|u| u.get(table))
            .and_then(|t| t.get("Keys"))
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        let missing = keys.saturating_sub(found.len() + unprocessed);
        let found_units: f64 = found.iter().map(|i| read_units(item_bytes(i))).sum();
        units += (found_units + missing as f64) * consistency(asked);
    }
    units
}
