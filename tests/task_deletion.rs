//! Task deletion through the running process: one task, or all of a project's. Annotations go
//! with their task (a target storage that deletes objects removes theirs), and so do links: the
//! next sync imports the deleted tasks' objects again, and only those.

mod common;

use std::time::{Duration, Instant};

use common::{Server, assert_synced, write};
use serde_json::json;

#[tokio::test]
async fn deleted_tasks_take_their_annotations_and_exports_and_import_again() {
    let server = Server::start();
    let project = server.project().await;
    let dir = server.dir("in");
    for name in ["a", "b", "c"] {
        write(&dir.join(format!("{name}.png")), "png");
    }
    let storage = server
        .local_import(project, &dir, json!({"use_blob_urls": true}))
        .await;
    let storage = format!("/api/storages/localfiles/{}", storage["id"]);
    assert_synced(&server.sync(&storage).await, "completed", 3);
    let out = server.dir("out");
    let deletes = json!({"can_delete_objects": true});
    server.local_export(project, &out, deletes).await;
    let task = server.tasks(project).await[0]["id"].as_u64().unwrap();
    let annotation = server.annotate(task).await;
    let exported = out.join(annotation["id"].to_string());
    wait_until(|| exported.exists()).await;

    let deleted = server
        .delete(&format!("/api/tasks/{task}"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let (status, _) = server.get_json(&format!("/api/tasks/{task}")).await;
    assert_eq!(status, 404);
    let (status, _) = server
        .get_json(&format!("/api/annotations/{}", annotation["id"]))
        .await;
    assert_eq!(status, 404, "the annotation went with its task");
    wait_until(|| !exported.exists()).await;
    let missing = server.delete("/api/tasks/999999").send().await.unwrap();
    assert_eq!(missing.status(), 404);

    let again = server.sync(&storage).await;
    assert_synced(&again, "completed", 1);
    assert_eq!(again["meta"]["tasks_existed"], 2, "{again}");

    let emptied = server
        .delete(&format!("/api/projects/{project}/tasks"))
        .send()
        .await
        .unwrap();
    assert_eq!(emptied.status(), 204);
    assert!(server.tasks(project).await.is_empty());
    assert_synced(&server.sync(&storage).await, "completed", 3);
    assert_eq!(server.tasks(project).await.len(), 3);
}

async fn wait_until(check: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(Instant::now() < deadline, "timed out");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
