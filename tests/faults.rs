//! The fault suite: the local process, in this test's runtime, with chosen storages behind the
//! failure-injecting backend (failing calls, failing keys, hangs, garbage), and a real process
//! killed with SIGKILL. For each fault: the job ends, the storage says why, and nothing is lost
//! or doubled after recovery.

mod common;
#[path = "common/faults.rs"]
mod faults;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Server, write};
use faults::Faults;
use labelsync::backends::ObjectStore;
use labelsync::backends::failure::{FailingStore, Fault, Operation, Rule};
use labelsync::connectors::localfiles::backend::LocalBackend;
use serde_json::{Value, json};

/// Small pages and batches, two deliveries per message, one-second visibility and a short
/// stale limit, so every fault plays out in seconds.
const FAST: &[(&str, &str)] = &[
    ("LABELSYNC_LIST_PAGE_SIZE", "10"),
    ("LABELSYNC_INGEST_BATCH_SIZE", "5"),
    ("LABELSYNC_QUEUE_MAX_RECEIVES", "2"),
    ("LABELSYNC_VISIBILITY_TIMEOUT_SECS", "1"),
    ("LABELSYNC_JOB_STALE_SECS", "3"),
];

async fn server_with(faults: &Arc<Faults>) -> Server {
    Server::in_process(FAST, faults.layer()).await
}

/// `count` files `f000.png`… in a fresh directory `name` below the document root.
fn files(server: &Server, name: &str, count: usize) -> std::path::PathBuf {
    let dir = server.dir(name);
    for i in 0..count {
        write(&dir.join(format!("f{i:03}.png")), "png");
    }
    dir
}

async fn import(server: &Server, project: u64, dir: &Path, title: &str, fields: Value) -> String {
    let mut fields = fields;
    common::merge(&mut fields, json!({"title": title}));
    let storage = server.local_import(project, dir, fields).await;
    format!("/api/storages/localfiles/{}", storage["id"])
}

/// A listing that fails on every delivery once wedged the storage `in_progress` for good, and
/// `POST …/sync` returned the wedged job. Now the job fails naming the page and the error, and
/// the next sync starts anew.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_that_keeps_failing_fails_its_job_and_the_next_sync_starts_anew() {
    let faults = Faults::new();
    faults.on("flaky", Rule::always(Operation::List, Fault::Error));
    let server = server_with(&faults).await;
    let project = server.project().await;
    let dir = files(&server, "in", 12);
    let storage = import(
        &server,
        project,
        &dir,
        "flaky",
        json!({"use_blob_urls": true}),
    )
    .await;

    let failed = server.sync(&storage).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    let traceback = failed["traceback"].as_str().unwrap_or_default();
    assert!(
        traceback.contains("listing page 0") && traceback.contains("injected"),
        "the traceback does not name the page and the error: {traceback}"
    );

    faults.clear("flaky");
    let again = server.sync(&storage).await;
    common::assert_synced(&again, "completed", 12);
    assert_eq!(server.tasks(project).await.len(), 12);
}

/// One object that cannot be read (a service error on every delivery) and one that reads as
/// garbage are errors of their keys; the other objects' tasks are created, and the job ends
/// `completed_with_errors` with the count in `meta`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_and_garbled_objects_are_errors_of_their_keys_and_the_rest_are_imported() {
    let faults = Faults::new();
    faults.on(
        "tasks",
        Rule::always(Operation::Get, Fault::Error).on_keys("b.json"),
    );
    faults.on(
        "tasks",
        Rule::always(Operation::Get, Fault::Garbage("{\"data\": [[[".into())).on_keys("d.json"),
    );
    let server = server_with(&faults).await;
    let project = server.project().await;
    let dir = server.dir("tasks");
    for name in ["a", "b", "c", "d", "e", "f", "g"] {
        let tasks = json!([{"image": format!("{name}1")}, {"image": format!("{name}2")}]);
        write(&dir.join(format!("{name}.json")), tasks.to_string());
    }
    let storage = import(&server, project, &dir, "tasks", json!({})).await;

    let synced = server.sync(&storage).await;
    assert_eq!(synced["status"], "completed_with_errors", "{synced}");
    assert_eq!(synced["last_sync_count"], 10, "{synced}");
    assert_eq!(synced["meta"]["tasks_failed_validation"], 2, "{synced}");
    let traceback = synced["traceback"].as_str().unwrap_or_default();
    assert!(
        traceback.contains("b.json") && traceback.contains("d.json"),
        "the traceback does not name both keys: {traceback}"
    );
    assert_eq!(server.tasks(project).await.len(), 10);
    assert!(
        faults.injected("tasks") >= 3,
        "b.json failed twice, d.json was garbled"
    );
}

/// With two targets, one broken, an annotation once reached neither: the loop over targets
/// stopped at the first error and both showed `completed`. Now the healthy target has it at
/// once, the broken one shows `failed` with the annotation and the error, and a sync of the
/// broken target after repair writes what it missed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_target_does_not_stop_a_healthy_one_and_says_why() {
    let faults = Faults::new();
    faults.on("broken", Rule::always(Operation::Put, Fault::Error));
    let server = server_with(&faults).await;
    let project = server.project().await;
    let dir = files(&server, "in", 1);
    let storage = import(&server, project, &dir, "in", json!({"use_blob_urls": true})).await;
    server.sync(&storage).await;
    let task = server.tasks(project).await[0]["id"].as_u64().unwrap();
    // The broken target is created first, so a loop over targets meets it first.
    let mut targets = Vec::new();
    for title in ["broken", "healthy"] {
        let fields = json!({"title": title});
        let target = server
            .local_export(project, &server.dir(title), fields)
            .await;
        targets.push(format!("/api/storages/export/localfiles/{}", target["id"]));
    }

    let id = server.annotate(task).await["id"].as_u64().unwrap();
    let exported = |target: &str| server.root.join(target).join(id.to_string());
    wait_until("the healthy target has the annotation", || {
        exported("healthy").exists()
    })
    .await;

    // While the export is retried the target shows `failed`; once it is given up (after
    // LABELSYNC_QUEUE_MAX_RECEIVES deliveries), `completed_with_errors` with the annotation in
    // `meta.export_lost`. Polling may miss the first, never the second.
    let lost = |s: &Value| {
        s["meta"]["export_lost"]
            .as_array()
            .is_some_and(|l| l.contains(&json!(id)))
    };
    let broken = poll_storage(&server, &targets[0], lost).await;
    assert_eq!(broken["status"], "completed_with_errors", "{broken}");
    let traceback = broken["traceback"].as_str().unwrap_or_default();
    assert!(
        traceback.contains(&format!("annotation {id}")) && traceback.contains("injected"),
        "{broken}"
    );
    assert!(!exported("broken").exists());

    faults.clear("broken");
    let repaired = server.sync(&targets[0]).await;
    assert_eq!(repaired["status"], "completed", "{repaired}");
    assert!(
        exported("broken").exists(),
        "the repaired target got what it missed"
    );
}

/// A listing call that never answers leaves no message to fail; the job is failed once it has
/// made no progress for `LABELSYNC_JOB_STALE_SECS`, and a new sync completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_listing_is_failed_as_stale_and_a_new_sync_completes() {
    let faults = Faults::new();
    faults.on("hangs", Rule::always(Operation::List, Fault::Hang).nth(1));
    let server = server_with(&faults).await;
    let project = server.project().await;
    let dir = files(&server, "in", 7);
    let storage = import(
        &server,
        project,
        &dir,
        "hangs",
        json!({"use_blob_urls": true}),
    )
    .await;

    let stale = server.sync(&storage).await;
    assert_eq!(stale["status"], "failed", "{stale}");
    let traceback = stale["traceback"].as_str().unwrap_or_default();
    assert!(traceback.contains("no progress"), "{traceback}");

    let again = server.sync(&storage).await;
    common::assert_synced(&again, "completed", 7);
    faults.clear("hangs");
}

/// Deleting a storage mid-sync stops its import (its messages become no-ops), and its tasks keep
/// their links: the same directory added again imports only what is new, with no duplicate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_storage_stops_its_sync_and_adding_it_again_doubles_nothing() {
    let faults = Faults::new();
    // The third listing page hangs until the test lets it fail.
    faults.on("doomed", Rule::always(Operation::List, Fault::Hang).nth(3));
    let server = server_with(&faults).await;
    let project = server.project().await;
    let dir = files(&server, "in", 60);
    let storage = import(
        &server,
        project,
        &dir,
        "doomed",
        json!({"use_blob_urls": true}),
    )
    .await;
    let (status, body) = server
        .post_json(&format!("{storage}/sync"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    wait_until("two pages are imported", || faults.injected("doomed") == 1).await;
    let deleted = server.delete(&storage).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    // The two pages listed before the hang are imported; nothing after them.
    task_count_reaches(&server, project, 20).await;
    faults.clear("doomed");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = server.tasks(project).await.len();
    assert_eq!(after, 20, "the deleted storage's sync went on");

    let again = import(
        &server,
        project,
        &dir,
        "again",
        json!({"use_blob_urls": true}),
    )
    .await;
    let synced = server.sync(&again).await;
    common::assert_synced(&synced, "completed", 40);
    assert_eq!(synced["meta"]["tasks_existed"], 20, "{synced}");
    assert_eq!(server.tasks(project).await.len(), 60, "no task was doubled");
}

/// `kill -9` while annotation creates are in flight: every annotation that answered 201, and
/// every one the store kept although its answer never left, is exported after the restart.
/// The annotation and its export outbox entry commit together; before, the export message
/// was a second commit, and a crash between the two lost the export.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_annotation_kept_through_kill_9_is_exported_after_restart() {
    const ACKNOWLEDGED_BEFORE_KILL: usize = 300;
    let mut server = Server::start();
    let (_, task, out) = server.task_with_local_target().await;

    let (acknowledged, mut receiver) = tokio::sync::mpsc::unbounded_channel();
    let url = server.url(&format!("/api/tasks/{task}/annotations"));
    let clients = tokio::spawn(create_annotations_until_refused(url, acknowledged));
    let mut ids = Vec::new();
    while ids.len() < ACKNOWLEDGED_BEFORE_KILL {
        ids.push(receiver.recv().await.expect("creates go on until the kill"));
    }
    server.kill();
    clients.await.unwrap();
    while let Ok(id) = receiver.try_recv() {
        ids.push(id);
    }

    server.restart();
    let (status, stored) = server
        .get_json(&format!("/api/tasks/{task}/annotations"))
        .await;
    assert_eq!(status, 200, "{stored}");
    let stored: Vec<u64> = stored
        .as_array()
        .expect("annotation list")
        .iter()
        .filter_map(|a| a["id"].as_u64())
        .collect();
    assert!(
        ids.iter().all(|id| stored.contains(id)),
        "an annotation answered 201 is gone"
    );
    let pending = stored
        .iter()
        .filter(|id| !out.join(id.to_string()).exists())
        .count();
    wait_until("every stored annotation is exported", || {
        stored.iter().all(|id| out.join(id.to_string()).exists())
    })
    .await;
    eprintln!(
        "{} acknowledged, {} stored, {pending} exports pending at the restart",
        ids.len(),
        stored.len()
    );
}

/// Sixteen clients creating annotations at `url` until the server stops answering; each id
/// answered 201 is sent to `acknowledged`.
async fn create_annotations_until_refused(
    url: String,
    acknowledged: tokio::sync::mpsc::UnboundedSender<u64>,
) {
    let http = reqwest::Client::new();
    let client = |_| {
        let (http, url, acknowledged) = (http.clone(), url.clone(), acknowledged.clone());
        async move {
            loop {
                let body = json!({"result": [{"type": "choices", "value": {"choices": ["a"]}}]});
                let sent = http
                    .post(&url)
                    .header("Authorization", format!("Token {}", common::TOKEN))
                    .json(&body)
                    .send()
                    .await;
                let Ok(response) = sent else { return };
                if response.status() != 201 {
                    return;
                }
                let Ok(body) = response.json::<Value>().await else {
                    return;
                };
                let _ = acknowledged.send(body["id"].as_u64().unwrap_or_default());
            }
        }
    };
    futures::future::join_all((0..16).map(client)).await;
}

/// Polls `what` every 20 ms, 60 s at most.
async fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn poll_storage(server: &Server, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, storage) = server.get_json(path).await;
        assert_eq!(status, 200, "{storage}");
        if done(&storage) {
            return storage;
        }
        assert!(
            Instant::now() < deadline,
            "{path} never got there: {storage}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits (60 s at most) until the project has `count` tasks.
async fn task_count_reaches(server: &Server, project: u64, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = server.tasks(project).await.len();
        if now == count {
            return;
        }
        assert!(Instant::now() < deadline, "{now} tasks, never {count}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The decorator itself, over a real directory: each rule takes exactly the calls it names.
#[tokio::test]
async fn the_failing_store_fails_the_nth_call_a_key_hangs_and_garbles() {
    let dir = tempfile::tempdir().unwrap();
    let inner = Arc::new(LocalBackend::new(dir.path().to_owned()));
    inner.put("a.json", "{}".into()).await.unwrap();
    inner.put("b.json", "{}".into()).await.unwrap();
    let store = Arc::new(FailingStore::new(inner));
    store.add(Rule::always(Operation::Head, Fault::Error).nth(2));
    store.head("a.json").await.unwrap();
    assert!(store.head("a.json").await.is_err());
    store.head("a.json").await.unwrap();
    store.add(Rule::always(Operation::Get, Fault::Garbage("]]".into())).on_keys("b."));
    let garbled = store
        .get("b.json", None)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&garbled[..], b"]]");
    let fine = store
        .get("a.json", None)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&fine[..], b"{}");
    store.add(Rule::always(Operation::Put, Fault::Hang));
    let hung = tokio::spawn({
        let store = store.clone();
        async move { store.put("c.json", "{}".into()).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!hung.is_finished());
    store.clear();
    assert!(hung.await.unwrap().is_err());
    store.put("c.json", "{}".into()).await.unwrap();
    assert_eq!(store.injected.load(std::sync::atomic::Ordering::SeqCst), 3);
}
