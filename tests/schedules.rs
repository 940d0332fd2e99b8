//! Scheduled syncs through the running process: `sync_interval_minutes` on a source storage
//! makes the process sync it with no `POST …/sync`; bad values are refused with Label
//! Studio's error shape; `null` turns the schedule off.

mod common;

use std::time::{Duration, Instant};

use common::{Server, write};
use serde_json::json;

#[tokio::test]
async fn a_scheduled_storage_syncs_by_itself() {
    let server = Server::start_with(&[("LABELSYNC_SCHEDULE_TICK_SECS", "1")]);
    let project = server.project().await;
    let dir = server.dir("in");
    for i in 0..5 {
        write(&dir.join(format!("{i}.png")), "png");
    }
    let fields = json!({"use_blob_urls": true, "sync_interval_minutes": 60});
    let storage = server.local_import(project, &dir, fields).await;
    assert_eq!(storage["sync_interval_minutes"], 60, "{storage}");
    let path = format!("/api/storages/localfiles/{}", storage["id"]);

    let deadline = Instant::now() + Duration::from_secs(60);
    let synced = loop {
        let (_, body) = server.get_json(&path).await;
        if body["status"] == "completed" {
            break body;
        }
        assert!(
            Instant::now() < deadline,
            "never synced by schedule: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    common::assert_synced(&synced, "completed", 5);
    // The next sync is an hour away: another tick starts nothing.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (_, later) = server.get_json(&path).await;
    assert_eq!(later["last_sync_job"], synced["last_sync_job"], "{later}");

    for bad in [json!("hourly"), json!(-1), json!(43_201), json!(1.5)] {
        let (status, body) = server
            .patch_json(&path, json!({"sync_interval_minutes": bad}))
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(
            body["validation_errors"]["sync_interval_minutes"].is_array(),
            "{body}"
        );
    }
    let (status, off) = server
        .patch_json(&path, json!({"sync_interval_minutes": null}))
        .await;
    assert_eq!(status, 200, "{off}");
    assert_eq!(off["sync_interval_minutes"], serde_json::Value::Null);
}
