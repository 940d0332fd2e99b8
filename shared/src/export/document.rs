//! The exported JSON of one annotation (spec §5.3: Label Studio's one-annotation-per-object
//! format, with the task nested).

use serde_json::{Value, json};

use crate::model::{Annotation, Task, iso_time, now};

/// Label Studio's `StorageAnnotationSerializer` output for `annotation` of `task`.
pub fn annotation_document(annotation: &Annotation, task: &Task) -> Value {
    let completed_by = annotation
        .completed_by
        .map(|id| json!({"id": id, "first_name": "", "last_name": "", "email": ""}))
        .unwrap_or(Value::Null);
    json!({
        "id": annotation.id,
        "result": annotation.result,
        "created_username": "",
        "created_ago": created_ago(annotation),
        "completed_by": completed_by,
        "task": Value::Object(task.ls_fields()),
        "was_cancelled": annotation.was_cancelled,
        "ground_truth": annotation.ground_truth,
        "created_at": iso_time(&annotation.created_at),
        "updated_at": iso_time(&annotation.updated_at),
        "draft_created_at": null,
        "lead_time": annotation.lead_time,
        "import_id": null,
        "last_action": null,
        "bulk_created": false,
        "project": annotation.project,
        "updated_by": annotation.completed_by,
        "parent_prediction": null,
        "parent_annotation": null,
        "last_created_by": null,
    })
}

/// Django's `timesince` in its coarsest unit, as Label Studio shows it (`0\u{a0}minutes`).
fn created_ago(annotation: &Annotation) -> String {
    let minutes = (now() - annotation.created_at).num_minutes().max(0);
    let (count, unit) = match minutes {
        m if m < 60 => (m, "minute"),
        m if m < 60 * 24 => (m / 60, "hour"),
        m => (m / (60 * 24), "day"),
    };
    let plural = if count == 1 { "" } else { "s" };
    format!("{count}\u{a0}{unit}{plural}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::now;

    #[test]
    fn document_has_label_studio_fields_and_nested_task() {
        let t = now();
        let task = Task {
            id: 7,
            project: 1,
            data: json!({"image": "x.png"}),
            meta: json!({}),
            allow_skip: true,
            inner_id: 7,
            predictions: vec![],
            total_annotations: 1,
            cancelled_annotations: 0,
            total_predictions: 0,
            is_labeled: true,
            source: None,
            created_at: t,
            updated_at: t,
        };
        let a = Annotation {
            id: 3,
            task: 7,
            project: 1,
            result: json!([{"type": "choices"}]),
            was_cancelled: false,
            ground_truth: false,
            lead_time: Some(1.5),
            completed_by: Some(1),
            created_at: t,
            updated_at: t,
        };
        let doc = annotation_document(&a, &task);
        assert_eq!(doc["id"], 3);
        assert_eq!(doc["task"]["id"], 7);
        assert_eq!(doc["task"]["data"]["image"], "x.png");
        assert_eq!(doc["completed_by"]["id"], 1);
        assert_eq!(doc["created_ago"], "0\u{a0}minutes");
        assert!(doc.get("prediction").is_none() && doc.get("result_count").is_none());
    }
}
