//! One parsed item (a JSON value, a JSONL line, a Parquet row) to a task to create.

use serde_json::{Map, Value};

use crate::model::NewTask;

/// One task read from an object, with its place in the object (the dedupe key's row part).
#[derive(Clone, Debug, PartialEq)]
pub struct TaskItem {
    /// Index of the array item, non-empty JSONL line or Parquet row (0-based); `None` when the
    /// object is a single JSON object.
    pub row_index: Option<u64>,
    /// The Parquet row group; `None` for JSON.
    pub row_group: Option<u64>,
    /// The task, with `source: None` (the caller knows the storage).
    pub task: NewTask,
}

/// Turns one parsed item into a task, following Label Studio's `add_task`.
///
/// An object with an object `data` is *wrapped*: the task data is `data`, `meta` is kept when it
/// is an object (Label Studio drops it; we keep it on purpose), `predictions` and `annotations`
/// come from the top level. Any other object is *bare*: the whole object is the task data.
/// `allow_skip` is read from the top level in both cases. Non-empty `predictions` or
/// `annotations` without a `data` key, and items that are not objects, are errors.
pub fn task_from_value(value: Value) -> Result<NewTask, String> {
    let Value::Object(mut item) = value else {
        return Err(format!(
            "a task must be a JSON object, not {}",
            kind_of(&value)
        ));
    };
    let allow_skip = allow_skip(&item)?;
    let predictions = record_list(&item, "predictions")?;
    let annotations = record_list(&item, "annotations")?;
    let mut task = if matches!(item.get("data"), Some(Value::Object(_))) {
        let meta = match item.remove("meta") {
            Some(meta @ Value::Object(_)) => meta,
            _ => Value::Object(Map::new()),
        };
        let data = item.remove("data").unwrap_or_default();
        NewTask {
            meta,
            ..NewTask::from_data(data)
        }
    } else {
        NewTask::from_data(Value::Object(item))
    };
    task.allow_skip = allow_skip;
    task.predictions = predictions;
    task.annotations = annotations;
    Ok(task)
}

/// `allow_skip` at the top level: a boolean, or absent/null for the default `true`.
fn allow_skip(item: &Map<String, Value>) -> Result<bool, String> {
    match item.get("allow_skip") {
        None | Some(Value::Null) => Ok(true),
        Some(Value::Bool(allow)) => Ok(*allow),
        Some(other) => Err(format!(
            "\"allow_skip\" must be true or false, not {}",
            kind_of(other)
        )),
    }
}

/// `predictions` or `annotations`: empty when absent or falsy (as Label Studio's `or []`),
/// an error when present without `data` or when not an array.
fn record_list(item: &Map<String, Value>, field: &str) -> Result<Vec<Value>, String> {
    let Some(value) = item.get(field).filter(|value| is_truthy(value)) else {
        return Ok(Vec::new());
    };
    if !item.contains_key("data") {
        return Err(format!(
            "If you use \"{field}\" field in the task, you must put \"data\" field in the task too"
        ));
    }
    match value {
        Value::Array(records) => Ok(records.clone()),
        other => Err(format!(
            "\"{field}\" must be an array, not {}",
            kind_of(other)
        )),
    }
}

/// Python truthiness of a JSON value.
fn is_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// "a number", "a string"...: for messages.
pub(crate) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn bare_object_is_the_data() {
        let task = task_from_value(json!({"text": "hi", "meta": {"m": 1}})).unwrap();
        assert_eq!(
            task,
            NewTask::from_data(json!({"text": "hi", "meta": {"m": 1}}))
        );
    }

    #[test]
    fn wrapped_object_keeps_data_meta_and_records_and_drops_the_rest() {
        let task = task_from_value(json!({
            "data": {"text": "hi"}, "meta": {"x": 1}, "id": 5, "allow_skip": false,
            "predictions": [{"result": []}], "annotations": [{"result": [], "was_cancelled": true}]
        }))
        .unwrap();
        assert_eq!(task.data, json!({"text": "hi"}));
        assert_eq!(task.meta, json!({"x": 1}));
        assert!(!task.allow_skip);
        assert_eq!(task.predictions, vec![json!({"result": []})]);
        assert_eq!(
            task.annotations,
            vec![json!({"result": [], "was_cancelled": true})]
        );
        assert_eq!(task.source, None);
    }

    #[test]
    fn meta_that_is_not_an_object_is_dropped() {
        let task = task_from_value(json!({"data": {"a": 1}, "meta": "note"})).unwrap();
        assert_eq!(task.meta, json!({}));
    }

    #[test]
    fn data_that_is_not_an_object_makes_a_bare_task() {
        let task = task_from_value(json!({"data": "x", "allow_skip": false})).unwrap();
        assert_eq!(task.data, json!({"data": "x", "allow_skip": false}));
        assert!(!task.allow_skip);
    }

    #[test]
    fn predictions_or_annotations_without_data_are_errors() {
        let err =
            task_from_value(json!({"text": "x", "predictions": [{"result": []}]})).unwrap_err();
        assert_eq!(
            err,
            r#"If you use "predictions" field in the task, you must put "data" field in the task too"#
        );
        let err = task_from_value(json!({"text": "x", "annotations": [{}]})).unwrap_err();
        assert!(
            err.starts_with(r#"If you use "annotations" field"#),
            "{err}"
        );
    }

    #[test]
    fn empty_or_null_predictions_without_data_are_fine() {
        let task = task_from_value(json!({"text": "x", "predictions": [], "annotations": null}));
        assert_eq!(task.unwrap().predictions, Vec::<Value>::new());
    }

    #[test]
    fn non_objects_and_bad_fields_are_errors() {
        assert_eq!(
            task_from_value(json!(1)).unwrap_err(),
            "a task must be a JSON object, not a number"
        );
        assert!(
            task_from_value(json!("s"))
                .unwrap_err()
                .contains("not a string")
        );
        assert!(
            task_from_value(Value::Null)
                .unwrap_err()
                .contains("not null")
        );
        assert!(
            task_from_value(json!([{}]))
                .unwrap_err()
                .contains("not an array")
        );
        let err = task_from_value(json!({"data": {}, "allow_skip": "no"})).unwrap_err();
        assert_eq!(err, r#""allow_skip" must be true or false, not a string"#);
        let err = task_from_value(json!({"data": {}, "predictions": {"a": 1}})).unwrap_err();
        assert_eq!(err, r#""predictions" must be an array, not an object"#);
    }
}
