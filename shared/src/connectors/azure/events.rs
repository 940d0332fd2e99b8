//! Azure Event Grid's blob events, in the Event Grid schema (an array of events with
//! `eventType`) or as CloudEvents (`type`): `Microsoft.Storage.BlobCreated` and `BlobDeleted`.
//! The container and blob come from `subject`,
//! `/blobServices/default/containers/<container>/blobs/<blob>`.

use serde_json::Value;

use crate::model::{ObjectChange, ObjectEvent};

/// Event Grid's subscription handshake: the code to echo, if `body` is one.
pub fn validation_code(body: &Value) -> Option<&str> {
    let first = body.as_array()?.first()?;
    (first.get("eventType")?.as_str()? == "Microsoft.EventGrid.SubscriptionValidationEvent")
        .then(|| first.pointer("/data/validationCode")?.as_str())
        .flatten()
}

/// The blob events in `body`, with locations under `scheme` (`azure-blob`, `azure-spi`).
pub fn object_events(body: &Value, scheme: &str) -> Vec<ObjectEvent> {
    let events: Vec<&Value> = match body {
        Value::Array(events) => events.iter().collect(),
        single @ Value::Object(_) => vec![single],
        _ => Vec::new(),
    };
    events
        .into_iter()
        .filter_map(|event| blob_event(event, scheme))
        .collect()
}

fn blob_event(event: &Value, scheme: &str) -> Option<ObjectEvent> {
    let kind = event
        .get("eventType")
        .or_else(|| event.get("type"))
        .and_then(Value::as_str)?;
    let change = match kind {
        "Microsoft.Storage.BlobCreated" => ObjectChange::Created,
        "Microsoft.Storage.BlobDeleted" => ObjectChange::Removed,
        _ => return None,
    };
    let subject = event.get("subject").and_then(Value::as_str)?;
    let rest = subject.strip_prefix("/blobServices/default/containers/")?;
    let (container, blob) = rest.split_once("/blobs/")?;
    Some(ObjectEvent {
        location: format!("{scheme}://{container}/"),
        key: blob.to_owned(),
        change,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The shape of Microsoft's documented `BlobCreated` example (Event Grid schema).
    fn created(blob: &str) -> Value {
        json!({
            "topic": "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct",
            "subject": format!("/blobServices/default/containers/media/blobs/{blob}"),
            "eventType": "Microsoft.Storage.BlobCreated",
            "eventTime": "2026-12-01T00:00:00.0000000Z",
            "id": "831e1650-001e-001b-66ab-eeb76e069631",
            "data": {"api": "PutBlockList", "contentType": "image/jpeg", "contentLength": 524288,
                     "blobType": "BlockBlob",
                     "url": format!("https://acct.blob.core.windows.net/media/{blob}"),
                     "sequencer": "00000000000004420000000000028963"},
            "dataVersion": "", "metadataVersion": "1"
        })
    }

    #[test]
    fn event_grid_and_cloud_events_are_read() {
        let mut deleted = created("images/old.jpg");
        deleted["eventType"] = json!("Microsoft.Storage.BlobDeleted");
        let events = object_events(&json!([created("images/a b.jpg"), deleted]), "azure-blob");
        assert_eq!(events.len(), 2);
        assert_eq!(
            (
                events[0].location.as_str(),
                events[0].key.as_str(),
                events[0].change
            ),
            (
                "azure-blob://media/",
                "images/a b.jpg",
                ObjectChange::Created
            )
        );
        assert_eq!(events[1].change, ObjectChange::Removed);
        let cloud = json!({"specversion": "1.0", "type": "Microsoft.Storage.BlobCreated",
            "source": "/subscriptions/0000/storageAccounts/acct", "id": "1",
            "subject": "/blobServices/default/containers/media/blobs/x.png", "data": {}});
        assert_eq!(
            object_events(&cloud, "azure-spi")[0].location,
            "azure-spi://media/"
        );
    }

    #[test]
    fn the_subscription_handshake_is_recognised() {
        let handshake = json!([{"id": "2d1781af", "topic": "/subscriptions/0000",
            "subject": "", "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
            "data": {"validationCode": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6",
                     "validationUrl": "https://rp-eastus2.eventgrid.azure.net/validate"}}]);
        assert_eq!(
            validation_code(&handshake),
            Some("512d38b6-c7b8-40c8-89fe-f46f9e9622b6")
        );
        assert!(object_events(&handshake, "azure-blob").is_empty());
        assert_eq!(validation_code(&json!([created("a")])), None);
    }
}
