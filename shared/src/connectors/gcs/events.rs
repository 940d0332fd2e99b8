//! Google Cloud Storage's Pub/Sub notifications as a push subscription delivers them: a
//! `message` whose attributes name the event (`OBJECT_FINALIZE`, `OBJECT_DELETE`), the bucket
//! and the object.

use serde_json::Value;

use crate::model::{ObjectChange, ObjectEvent};

/// The object event in a push request body, if it is one.
pub fn object_events(body: &Value) -> Vec<ObjectEvent> {
    push_message(body).into_iter().collect()
}

fn push_message(body: &Value) -> Option<ObjectEvent> {
    let attributes = body.pointer("/message/attributes")?;
    let text = |name: &str| attributes.get(name).and_then(Value::as_str);
    let change = match text("eventType")? {
        "OBJECT_FINALIZE" => ObjectChange::Created,
        "OBJECT_DELETE" => ObjectChange::Removed,
        _ => return None,
    };
    Some(ObjectEvent {
        location: format!("gs://{}/", text("bucketId")?),
        key: text("objectId")?.to_owned(),
        change,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The shape of a push request for Google's documented notification attributes.
    fn push(event: &str, object: &str) -> Value {
        json!({
            "message": {
                "attributes": {"bucketId": "media", "objectId": object, "eventType": event,
                    "notificationConfig": "projects/_/buckets/media/notificationConfigs/1",
                    "payloadFormat": "JSON_API_V1", "objectGeneration": "1701000000000000"},
                "data": "eyJraW5kIjogInN0b3JhZ2Ujb2JqZWN0In0=",
                "messageId": "2070443601311540", "publishTime": "2026-12-01T00:00:00.000Z"
            },
            "subscription": "projects/p/subscriptions/labelsync"
        })
    }

    #[test]
    fn finalize_and_delete_are_read_and_the_rest_ignored() {
        let created = object_events(&push("OBJECT_FINALIZE", "images/a b.jpg"));
        assert_eq!(
            created,
            [ObjectEvent {
                location: "gs://media/".into(),
                key: "images/a b.jpg".into(),
                change: ObjectChange::Created
            }]
        );
        assert_eq!(
            object_events(&push("OBJECT_DELETE", "x"))[0].change,
            ObjectChange::Removed
        );
        assert!(object_events(&push("OBJECT_METADATA_UPDATE", "x")).is_empty());
        assert!(object_events(&json!({"Records": []})).is_empty());
    }
}
