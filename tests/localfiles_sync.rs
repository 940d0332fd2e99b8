//! Import syncs of local-files storages through the running process: Files and Tasks modes,
//! filters, dedupe on re-sync, errors that name the file and line, and progress fields.

mod common;

use std::sync::Arc;

use common::{Server, write};
use serde_json::{Value, json};

fn storage_path(storage: &Value) -> String {
    format!("/api/storages/localfiles/{}", storage["id"])
}

fn sorted_filenames(tasks: &[Value]) -> Vec<String> {
    let mut names: Vec<String> = tasks
        .iter()
        .map(|t| t["storage_filename"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn files_mode_makes_one_task_per_file_and_never_twice() {
    let server = Server::start();
    let ds = server.dir("ds");
    for name in [
        "image1.jpg",
        "sub/image1.jpg",
        "sub/image2.jpg",
        "sub/deeper/image2.jpg",
        "notes.txt",
    ] {
        write(&ds.join(name), name);
    }
    let project = server.project().await;
    let storage = server
        .local_import(
            project,
            &ds,
            json!({"use_blob_urls": true, "regex_filter": "image"}),
        )
        .await;
    assert_eq!(
        (
            storage["status"].as_str(),
            storage["recursive_scan"].as_bool()
        ),
        (Some("initialized"), Some(false))
    );

    let done = server.sync(&storage_path(&storage)).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(
        done["last_sync_count"], 1,
        "non-recursive sees only image1.jpg"
    );
    for key in [
        "attempts",
        "time_queued",
        "time_in_progress",
        "time_completed",
        "duration",
        "tasks_existed",
    ] {
        assert!(done["meta"].get(key).is_some(), "meta lacks {key}: {done}");
    }
    let tasks = server.tasks(project).await;
    assert_eq!(tasks.len(), 1);
    // Signed for this task as it is read (see media_urls.rs).
    let image = tasks[0]["data"]["image"].as_str().unwrap_or_default();
    let unsigned = format!(
        "/data/local-files/?d=ds/image1.jpg&task={}&exp=",
        tasks[0]["id"]
    );
    assert!(
        image.starts_with(&unsigned) && image.contains("&sig="),
        "{}",
        tasks[0]["data"]
    );
    assert_eq!(
        tasks[0]["storage_filename"],
        ds.join("image1.jpg").to_str().unwrap()
    );

    let (status, _) = server
        .patch_json(&storage_path(&storage), json!({"recursive_scan": true}))
        .await;
    assert_eq!(status, 200);
    let again = server.sync(&storage_path(&storage)).await;
    assert_eq!(
        (
            again["last_sync_count"].as_u64(),
            again["meta"]["tasks_existed"].as_u64()
        ),
        (Some(3), Some(1)),
        "{again}"
    );
    assert_eq!(again["meta"]["attempts"], 2);
    let third = server.sync(&storage_path(&storage)).await;
    assert_eq!(
        (
            third["last_sync_count"].as_u64(),
            third["meta"]["tasks_existed"].as_u64()
        ),
        (Some(0), Some(4)),
        "{third}"
    );
    let tasks = server.tasks(project).await;
    assert_eq!(
        tasks.len(),
        4,
        "regex keeps notes.txt out, dedupe keeps duplicates out"
    );

    let served = server
        .get("/data/local-files/?d=ds/sub/deeper/image2.jpg")
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(served.text().await.unwrap(), "sub/deeper/image2.jpg");
}

#[tokio::test]
async fn tasks_mode_reads_json_arrays_jsonl_and_wrapped_items() {
    let server = Server::start();
    let ds = server.dir("tasks");
    write(&ds.join("one.json"), r#"{"text": "single"}"#);
    write(&ds.join("pretty.json"), "{\n  \"text\": \"pretty\"\n}\n");
    write(
        &ds.join("list.json"),
        r#"[{"text": "a"}, {"data": {"text": "b"}, "allow_skip": false, "meta": {"m": 1}}]"#,
    );
    write(
        &ds.join("lines.jsonl"),
        "{\"text\": \"l1\"}\r\n\n{\"text\": \"l2\"}\n",
    );
    write(
        &ds.join("wrapped.ndjson"),
        r#"{"data": {"text": "w"}, "predictions": [{"result": []}], "annotations": [{"result": [{"type": "choices"}]}]}"#,
    );
    write(&ds.join("noext"), r#"{"text": "no extension"}"#);
    let project = server.project().await;
    let storage = server.local_import(project, &ds, json!({})).await;
    assert_eq!(storage["use_blob_urls"], false, "Tasks mode is the default");

    let done = server.sync(&storage_path(&storage)).await;
    common::assert_synced(&done, "completed", 8);
    let tasks = server.tasks(project).await;
    let mut texts: Vec<&str> = tasks
        .iter()
        .map(|t| t["data"]["text"].as_str().unwrap())
        .collect();
    texts.sort();
    assert_eq!(
        texts,
        [
            "a",
            "b",
            "l1",
            "l2",
            "no extension",
            "pretty",
            "single",
            "w"
        ]
    );
    let b = tasks.iter().find(|t| t["data"]["text"] == "b").unwrap();
    assert_eq!(
        (b["allow_skip"].as_bool(), &b["meta"]),
        (Some(false), &json!({"m": 1}))
    );
    let w = tasks.iter().find(|t| t["data"]["text"] == "w").unwrap();
    assert_eq!(
        (
            w["total_predictions"].as_u64(),
            w["total_annotations"].as_u64()
        ),
        (Some(1), Some(1)),
        "{w}"
    );
    assert_eq!(w["annotations"][0]["result"][0]["type"], "choices");

    let again = server.sync(&storage_path(&storage)).await;
    assert_eq!(
        (
            again["last_sync_count"].as_u64(),
            again["meta"]["tasks_existed"].as_u64()
        ),
        (Some(0), Some(8)),
        "{again}"
    );
    assert_eq!(server.tasks(project).await.len(), 8);
}

#[tokio::test]
async fn tasks_mode_reads_parquet_rows_with_nested_columns() {
    use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray, StructArray};
    let server = Server::start();
    let ds = server.dir("pq");
    let text: ArrayRef = Arc::new(StringArray::from(vec!["x", "y", "z"]));
    let n: ArrayRef = Arc::new(Int64Array::from(vec![1, 2, 3]));
    let nested = StructArray::try_from(vec![("n", n.clone())]).unwrap();
    let batch = RecordBatch::try_from_iter(vec![
        ("text", text),
        ("n", n),
        ("inner", Arc::new(nested) as ArrayRef),
    ])
    .unwrap();
    let mut bytes = Vec::new();
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(2))
        .build();
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(&mut bytes, batch.schema(), Some(props)).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    write(&ds.join("rows.parquet"), &bytes);
    let project = server.project().await;
    let storage = server.local_import(project, &ds, json!({})).await;
    let done = server.sync(&storage_path(&storage)).await;
    common::assert_synced(&done, "completed", 3);
    let mut tasks = server.tasks(project).await;
    tasks.sort_by_key(|t| t["data"]["n"].as_i64());
    assert_eq!(
        tasks[2]["data"],
        json!({"text": "z", "n": 3, "inner": {"n": 3}})
    );
}

#[tokio::test]
async fn bad_objects_are_reported_by_file_and_line_and_the_rest_is_imported() {
    let server = Server::start();
    let ds = server.dir("bad");
    write(&ds.join("good.json"), r#"[{"text": "ok"}]"#);
    write(&ds.join("broken.json"), "{broken");
    write(
        &ds.join("lines.jsonl"),
        "{\"text\": \"1\"}\n{\"text\": \"2\"}\n{oops\n{\"text\": \"4\"}\n",
    );
    write(
        &ds.join("preds.json"),
        r#"{"text": "x", "predictions": [{"result": []}]}"#,
    );
    write(&ds.join("photo.jpg"), "not json");
    let project = server.project().await;
    let storage = server.local_import(project, &ds, json!({})).await;
    let done = server.sync(&storage_path(&storage)).await;
    assert_eq!(done["status"], "completed_with_errors", "{done}");
    assert_eq!(
        done["last_sync_count"], 4,
        "good.json + 3 good lines: {done}"
    );
    let traceback = done["traceback"].as_str().unwrap();
    assert!(
        traceback.contains("lines.jsonl") && traceback.contains("line 3"),
        "{traceback}"
    );
    assert!(traceback.contains("broken.json"), "{traceback}");
    assert!(
        traceback.contains("preds.json") && traceback.contains("\"data\" field"),
        "{traceback}"
    );
    assert!(
        traceback.contains("photo.jpg") && traceback.contains("use_blob_urls"),
        "{traceback}"
    );
    assert_eq!(done["meta"]["tasks_failed_validation"], 4, "{done}");

    // Fixing the bad line completes the file on the next sync (Label Studio never would).
    write(
        &ds.join("lines.jsonl"),
        "{\"text\": \"1\"}\n{\"text\": \"2\"}\n{\"text\": \"3\"}\n{\"text\": \"4\"}\n",
    );
    std::fs::remove_file(ds.join("broken.json")).unwrap();
    std::fs::remove_file(ds.join("preds.json")).unwrap();
    std::fs::remove_file(ds.join("photo.jpg")).unwrap();
    let fixed = server.sync(&storage_path(&storage)).await;
    common::assert_synced(&fixed, "completed", 1);
    assert!(
        fixed["traceback"].is_null(),
        "a clean sync clears the old traceback: {fixed}"
    );
    let texts: Vec<Value> = server
        .tasks(project)
        .await
        .iter()
        .map(|t| t["data"]["text"].clone())
        .collect();
    assert_eq!(texts.len(), 5, "{texts:?}");
}

#[tokio::test]
async fn unsynchronizable_and_deleted_storages() {
    let server = Server::start();
    let ds = server.dir("ds");
    write(&ds.join("a.png"), "a");
    let project = server.project().await;
    let storage = server
        .local_import(project, &ds, json!({"use_blob_urls": true}))
        .await;
    let path = storage_path(&storage);
    server.sync(&path).await;
    let (status, _) = server
        .patch_json(&path, json!({"synchronizable": false}))
        .await;
    assert_eq!(status, 200);
    let (status, body) = server.post_json(&format!("{path}/sync"), json!({})).await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"message": format!("Storage {} is not synchronizable", storage["id"])})
        )
    );
    let deleted = server.delete(&path).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(server.get_json(&path).await.0, 404);
    let tasks = server.tasks(project).await;
    assert_eq!(tasks.len(), 1, "tasks outlive their storage");
    assert!(tasks[0]["storage_filename"].is_null());
}

#[tokio::test]
async fn a_large_flat_directory_syncs_across_many_pages() {
    let server = Server::start_with(&[
        ("LABELSYNC_LIST_PAGE_SIZE", "100"),
        ("LABELSYNC_INGEST_BATCH_SIZE", "30"),
    ]);
    let ds = server.dir("many");
    for i in 0..2500 {
        write(&ds.join(format!("img{i:05}.png")), "x");
    }
    let project = server.project().await;
    let storage = server
        .local_import(project, &ds, json!({"use_blob_urls": true}))
        .await;
    let done = server.sync(&storage_path(&storage)).await;
    common::assert_synced(&done, "completed", 2500);
    let tasks = server.tasks(project).await;
    assert_eq!(tasks.len(), 2500);
    let names = sorted_filenames(&tasks);
    let mut unique = names.clone();
    unique.dedup();
    assert_eq!(unique.len(), 2500, "every file exactly once");
}

/// A storage with `follow_directory` imports a file written into its directory without a sync
/// (inotify): only files its regex keeps, each once. The watch starts within a couple of
/// seconds of the storage's creation, so files are written until one is seen.
#[tokio::test]
async fn a_followed_directory_imports_new_files_without_a_sync() {
    let server = Server::start();
    let project = server.project().await;
    let dir = server.dir("follow");
    let fields =
        json!({"use_blob_urls": true, "regex_filter": r".*\.png", "follow_directory": true});
    let storage = server.local_import(project, &dir, fields).await;
    assert_eq!(storage["follow_directory"], true, "{storage}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut written = 0;
    while server.tasks(project).await.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "no file became a task"
        );
        write(&dir.join(format!("new-{written}.png")), "png");
        write(&dir.join(format!("skipped-{written}.txt")), "text");
        written += 1;
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let tasks = server.tasks(project).await;
    let names: Vec<&str> = tasks
        .iter()
        .filter_map(|t| t["storage_filename"].as_str())
        .collect();
    assert!(!names.is_empty() && names.len() <= written, "{names:?}");
    assert!(names.iter().all(|n| n.ends_with(".png")), "{names:?}");
    let synced = server
        .sync(&format!("/api/storages/localfiles/{}", storage["id"]))
        .await;
    assert_eq!(synced["meta"]["tasks_existed"], names.len(), "{synced}");
}

/// `removed_objects`: under `delete_unlabeled` a sync after files were deleted removes the
/// task of the unannotated one and flags the annotated one (its `meta` counts both); under
/// `keep` (the default) tasks stay; a bad value is a field error.
#[tokio::test]
async fn removed_files_follow_the_storage_policy() {
    let server = Server::start();
    let project = server.project().await;
    let dir = server.dir("removed");
    for name in ["a.png", "b.png", "c.png"] {
        write(&dir.join(name), "png");
    }
    let (status, refused) = server
        .post_json(
            "/api/storages/localfiles",
            json!({"project": project, "path": dir, "removed_objects": "delete"}),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused["validation_errors"]["removed_objects"].is_array(),
        "{refused}"
    );
    let fields = json!({"use_blob_urls": true, "removed_objects": "delete_unlabeled"});
    let storage = server.local_import(project, &dir, fields).await;
    assert_eq!(storage["removed_objects"], "delete_unlabeled", "{storage}");
    let kept_project = server.project().await;
    let keeping = server
        .local_import(kept_project, &dir, json!({"use_blob_urls": true}))
        .await;
    assert_eq!(keeping["removed_objects"], "keep", "{keeping}");
    server.sync(&storage_path(&storage)).await;
    server.sync(&storage_path(&keeping)).await;
    let tasks = server.tasks(project).await;
    let b = tasks
        .iter()
        .find(|t| t["storage_filename"].as_str().unwrap().ends_with("b.png"));
    server
        .annotate(b.expect("b.png's task")["id"].as_u64().unwrap())
        .await;

    std::fs::remove_file(dir.join("a.png")).unwrap();
    std::fs::remove_file(dir.join("b.png")).unwrap();
    let synced = server.sync(&storage_path(&storage)).await;
    assert_eq!(synced["status"], "completed", "{synced}");
    assert_eq!(synced["meta"]["tasks_removed"], 1, "{synced}");
    assert_eq!(synced["meta"]["tasks_flagged_removed"], 1, "{synced}");
    let tasks = server.tasks(project).await;
    let names = sorted_filenames(&tasks);
    assert!(
        names[0].ends_with("b.png") && names[1].ends_with("c.png"),
        "{names:?}"
    );
    let flagged = tasks
        .iter()
        .find(|t| t["storage_filename"].as_str().unwrap().ends_with("b.png"));
    assert!(
        flagged.unwrap()["meta"]["object_removed_at"].is_string(),
        "{tasks:?}"
    );

    let kept = server.sync(&storage_path(&keeping)).await;
    assert!(kept["meta"].get("tasks_removed").is_none(), "{kept}");
    assert_eq!(
        server.tasks(kept_project).await.len(),
        3,
        "keep: every task stays"
    );
}

/// A followed directory under `delete_unlabeled`: a file deleted takes its task with it,
/// without a sync.
#[tokio::test]
async fn a_followed_directory_removes_the_task_of_a_deleted_file() {
    let server = Server::start();
    let project = server.project().await;
    let dir = server.dir("follow-removed");
    write(&dir.join("gone.png"), "png");
    write(&dir.join("stays.png"), "png");
    let fields = json!({"use_blob_urls": true, "follow_directory": true,
        "removed_objects": "delete_unlabeled"});
    let storage = server.local_import(project, &dir, fields).await;
    server.sync(&storage_path(&storage)).await;
    assert_eq!(server.tasks(project).await.len(), 2);
    // The watch starts within a couple of seconds of the storage's creation: a probe file
    // written until it becomes a task tells that it is on.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while server.tasks(project).await.len() < 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "the directory is not followed"
        );
        write(&dir.join("probe.png"), "png");
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    std::fs::remove_file(dir.join("gone.png")).unwrap();
    while server.tasks(project).await.len() != 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the deleted file's task stayed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let names = sorted_filenames(&server.tasks(project).await);
    assert!(
        names[0].ends_with("probe.png") && names[1].ends_with("stays.png"),
        "{names:?}"
    );
}
