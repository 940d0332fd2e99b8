//! Target storages through the running process: every annotation written as LS export JSON,
//! rewritten on update, deleted only with `can_delete_objects`, and re-exported by a sync.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{Server, write};
use serde_json::{Value, json};

/// Waits until `check` holds for the file's content (`None` = missing), 30 s at most.
async fn eventually(path: &Path, check: impl Fn(Option<Value>) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let content = std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        if check(content) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} never reached the expected state",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn imported_task(server: &Server, project: u64) -> u64 {
    let ds = server.dir("in");
    write(&ds.join("a.png"), "png");
    let storage = server
        .local_import(project, &ds, json!({"use_blob_urls": true}))
        .await;
    server
        .sync(&format!("/api/storages/localfiles/{}", storage["id"]))
        .await;
    server.tasks(project).await[0]["id"].as_u64().unwrap()
}

#[tokio::test]
async fn annotations_are_written_rewritten_and_deleted() {
    let server = Server::start();
    let project = server.project().await;
    let task = imported_task(&server, project).await;
    let out = server.dir("out");
    let keep = server.dir("keep");
    let (status, target) = server
        .post_json(
            "/api/storages/export/localfiles",
            json!({"project": project, "path": out, "can_delete_objects": true}),
        )
        .await;
    assert_eq!(status, 201, "{target}");
    server
        .post_json(
            "/api/storages/export/localfiles",
            json!({"project": project, "path": keep}),
        )
        .await;

    let result = json!([{"from_name": "c", "to_name": "img", "type": "choices", "value": {"choices": ["a"]}}]);
    let (status, annotation) = server
        .post_json(
            &format!("/api/tasks/{task}/annotations"),
            json!({"result": result, "lead_time": 2.5}),
        )
        .await;
    assert_eq!(status, 201, "{annotation}");
    let id = annotation["id"].as_u64().unwrap();
    let file = out.join(id.to_string());
    eventually(&file, |c| c.is_some_and(|c| c["result"] == result)).await;
    let doc: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(
        (doc["id"].as_u64(), doc["task"]["id"].as_u64()),
        (Some(id), Some(task))
    );
    assert_eq!(
        doc["task"]["data"]["$undefined$"], "/data/local-files/?d=in/a.png",
        "exports hold raw task data"
    );
    assert!(
        std::fs::read_to_string(&file).unwrap().contains("\n  \""),
        "local files are pretty-printed"
    );

    let (_, task_json) = server.get_json(&format!("/api/tasks/{task}")).await;
    assert_eq!(
        (
            task_json["total_annotations"].as_u64(),
            task_json["is_labeled"].as_bool()
        ),
        (Some(1), Some(true))
    );

    let changed = json!([{"type": "choices", "value": {"choices": ["b"]}}]);
    let (status, _) = server
        .patch_json(
            &format!("/api/annotations/{id}"),
            json!({"result": changed}),
        )
        .await;
    assert_eq!(status, 200);
    eventually(&file, |c| c.is_some_and(|c| c["result"] == changed)).await;
    eventually(&keep.join(id.to_string()), |c| {
        c.is_some_and(|c| c["result"] == changed)
    })
    .await;

    assert_eq!(
        server
            .delete(&format!("/api/annotations/{id}"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    eventually(&file, |c| c.is_none()).await;
    // Give the same export worker time to have handled the other storage, then check it kept its copy.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        keep.join(id.to_string()).exists(),
        "without can_delete_objects the object stays"
    );
    let (_, task_json) = server.get_json(&format!("/api/tasks/{task}")).await;
    assert_eq!(task_json["total_annotations"], 0);
}

#[tokio::test]
async fn creating_or_syncing_a_target_exports_every_annotation() {
    let server = Server::start();
    let project = server.project().await;
    let task = imported_task(&server, project).await;
    let mut ids = Vec::new();
    for i in 0..150 {
        let (_, a) = server
            .post_json(
                &format!("/api/tasks/{task}/annotations"),
                json!({"result": [{"i": i}]}),
            )
            .await;
        ids.push(a["id"].as_u64().unwrap());
    }
    let out = server.dir("late");
    let (_, target) = server
        .post_json(
            "/api/storages/export/localfiles",
            json!({"project": project, "path": out}),
        )
        .await;
    let path = format!("/api/storages/export/localfiles/{}", target["id"]);
    let done = server.wait_final(&path).await;
    common::assert_synced(&done, "completed", 150);
    assert_eq!(done["meta"]["total_annotations"], 150);
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 150);

    std::fs::remove_file(out.join(ids[7].to_string())).unwrap();
    let again = server.sync(&path).await;
    assert_eq!(again["last_sync_count"], 150, "{again}");
    assert!(out.join(ids[7].to_string()).exists());
}
