//! S3's object notifications: the records S3 sends to an SQS queue (or SNS, or Lambda), and the
//! `aws.s3` events EventBridge delivers. Anything else reads as no events.

use percent_encoding::percent_decode_str;
use serde_json::Value;

use crate::model::{ObjectChange, ObjectEvent};

/// The object events in one notification body.
pub fn object_events(body: &Value) -> Vec<ObjectEvent> {
    if let Some(records) = body.get("Records").and_then(Value::as_array) {
        return records.iter().filter_map(notification_record).collect();
    }
    event_bridge(body).into_iter().collect()
}

/// One record of an S3 notification (`s3:TestEvent` bodies have no records). Its key is
/// URL-encoded, with `+` for a space.
fn notification_record(record: &Value) -> Option<ObjectEvent> {
    if record.get("eventSource").and_then(Value::as_str) != Some("aws:s3") {
        return None;
    }
    let name = record.get("eventName").and_then(Value::as_str)?;
    let change = if name.starts_with("ObjectCreated:") {
        ObjectChange::Created
    } else if name.starts_with("ObjectRemoved:") {
        ObjectChange::Removed
    } else {
        return None;
    };
    let s3 = record.get("s3")?;
    let bucket = s3.pointer("/bucket/name").and_then(Value::as_str)?;
    let encoded = s3.pointer("/object/key").and_then(Value::as_str)?;
    let key = percent_decode_str(&encoded.replace('+', " "))
        .decode_utf8()
        .ok()?
        .into_owned();
    Some(event(bucket, key, change))
}

/// An EventBridge `Object Created` / `Object Deleted` event from `aws.s3`. Its key is used as
/// sent (moto sends it unencoded; see the README).
fn event_bridge(body: &Value) -> Option<ObjectEvent> {
    if body.get("source").and_then(Value::as_str) != Some("aws.s3") {
        return None;
    }
    let change = match body.get("detail-type").and_then(Value::as_str)? {
        "Object Created" => ObjectChange::Created,
        "Object Deleted" => ObjectChange::Removed,
        _ => return None,
    };
    let detail = body.get("detail")?;
    let bucket = detail.pointer("/bucket/name").and_then(Value::as_str)?;
    let key = detail.pointer("/object/key").and_then(Value::as_str)?;
    Some(event(bucket, key.to_owned(), change))
}

fn event(bucket: &str, key: String, change: ObjectChange) -> ObjectEvent {
    ObjectEvent {
        location: format!("s3://{bucket}/"),
        key,
        change,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The shape of AWS's documented example record, with an encoded key.
    fn record(name: &str, key: &str) -> Value {
        json!({
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
            "eventTime": "2026-12-01T00:00:00.000Z", "eventName": name,
            "s3": {"s3SchemaVersion": "1.0", "configurationId": "labelsync",
                   "bucket": {"name": "media", "arn": "arn:aws:s3:::media"},
                   "object": {"key": key, "size": 1024, "sequencer": "0A1B2C3D4E5F678901"}}
        })
    }

    #[test]
    fn notification_records_are_decoded_and_classified() {
        let body = json!({"Records": [
            record("ObjectCreated:Put", "images/my+cat%C3%A9+%2B1.jpg"),
            record("ObjectRemoved:Delete", "images/a.jpg"),
            record("ObjectRestore:Completed", "images/b.jpg"),
        ]});
        let events = object_events(&body);
        assert_eq!(
            events,
            [
                event(
                    "media",
                    "images/my caté +1.jpg".into(),
                    ObjectChange::Created
                ),
                event("media", "images/a.jpg".into(), ObjectChange::Removed),
            ]
        );
        assert_eq!(events[0].location, "s3://media/");
    }

    #[test]
    fn test_events_and_other_bodies_hold_no_events() {
        let test_event = json!({"Service": "Amazon S3", "Event": "s3:TestEvent",
            "Time": "2026-12-01T00:00:00.000Z", "Bucket": "media", "RequestId": "R", "HostId": "H"});
        assert!(object_events(&test_event).is_empty());
        assert!(object_events(&json!({"Records": [{"eventSource": "aws:sqs"}]})).is_empty());
        assert!(object_events(&json!("text")).is_empty());
    }

    #[test]
    fn event_bridge_events_are_read() {
        let created = json!({"version": "0", "id": "e", "detail-type": "Object Created",
            "source": "aws.s3", "account": "123456789012", "time": "2026-12-01T00:00:00Z",
            "region": "us-east-1", "resources": ["arn:aws:s3:::media"],
            "detail": {"version": "0", "bucket": {"name": "media"},
                       "object": {"key": "images/a b.jpg", "size": 5, "sequencer": "00617F"},
                       "request-id": "R", "requester": "123456789012", "reason": "PutObject"}});
        assert_eq!(
            object_events(&created),
            [event(
                "media",
                "images/a b.jpg".into(),
                ObjectChange::Created
            )]
        );
        let mut deleted = created.clone();
        deleted["detail-type"] = json!("Object Deleted");
        assert_eq!(object_events(&deleted)[0].change, ObjectChange::Removed);
        deleted["detail-type"] = json!("Object Restore Completed");
        assert!(object_events(&deleted).is_empty());
    }
}
