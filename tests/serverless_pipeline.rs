//! The serverless path against real emulator servers (moto: S3, DynamoDB, SQS): the handlers
//! the Lambda functions run, fed by an event-source loop that receives real SQS messages the
//! way Lambda's event source mapping does (batches of up to 10, `ReportBatchItemFailures`,
//! failed records left for redelivery, the rest deleted).
//!
//! Size: moto deep-copies every table on each TransactWriteItems call (its rollback), so a
//! 10,000-task sync through moto's DynamoDB ran over 20 minutes here (moto grew to 3 GB) before
//! it was stopped. The DynamoDB tests therefore sync 200 objects in 4 listing pages and 10
//! ingest batches, which exercises the same paths; the 10,000-object bucket runs through real
//! S3 and SQS with the embedded state store.

#[path = "common/aws.rs"]
mod common_aws;
#[path = "common/emulators.rs"]
mod emulators;
#[path = "common/serverless.rs"]
mod serverless;

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use futures::StreamExt;
use labelsync::aws::{AwsSettings, context};
use labelsync::config::Settings;
use labelsync::context::Context;
use labelsync::dispatch::Handler;
use labelsync::embedded_db::EmbeddedDb;
use labelsync::jobs::start::start_sync;
use labelsync::model::{NewStorage, StorageRole, SyncStatus};
use labelsync::queue::sqs::{QueueUrls, SqsQueue, create_queues};
use labelsync::state::dynamo::create_table;
use labelsync::state::embedded::EmbeddedState;
use serde_json::json;

/// Two tests of one check: the state in DynamoDB on moto, and in the embedded store.
macro_rules! in_both_stores {
    ($check:ident, $in_dynamodb:ident, $in_embedded:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $in_dynamodb() {
            $check(&aws().await).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $in_embedded() {
            let dir = tempfile::tempdir().unwrap();
            $check(&aws_with(Some(dir.path()), SMALL).await).await;
        }
    };
}

/// Objects in the sync test's bucket (see the module docs for why not 10,000);
/// `LABELSYNC_PIPELINE_OBJECTS` sets another size.
fn objects() -> usize {
    std::env::var("LABELSYNC_PIPELINE_OBJECTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200)
}

/// Deliveries before a message is dead-lettered, as the queues and the handlers both know it
/// (`MaxReceives` in the SAM template sets both).
const MAX_RECEIVES: u32 = 3;

struct Aws {
    s3: aws_sdk_s3::Client,
    sqs: aws_sdk_sqs::Client,
    urls: QueueUrls,
    ctx: Context,
}

/// Listing and ingest sizes for a test: small ones make a small bucket span many messages.
struct Sizes {
    page: &'static str,
    batch: &'static str,
}

const SMALL: Sizes = Sizes {
    page: "50",
    batch: "20",
};

async fn aws() -> Aws {
    aws_with(None, SMALL).await
}

/// S3 and SQS on moto; the state in DynamoDB on moto, or in an embedded store in `embedded_dir`.
async fn aws_with(embedded_dir: Option<&std::path::Path>, sizes: Sizes) -> Aws {
    let sdk = common_aws::moto_sdk().await;
    let s3 = common_aws::moto_s3(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let table = emulators::unique("state");
    create_table(&aws_sdk_dynamodb::Client::new(&sdk), &table)
        .await
        .expect("create table");
    let urls = create_queues(&sqs, &emulators::unique("q"), MAX_RECEIVES)
        .await
        .expect("create queues");
    let env = |name: &str| match name {
        "LABELSYNC_ALLOW_PRIVATE_ENDPOINTS" => Some("true".to_owned()),
        "LABELSYNC_VISIBILITY_TIMEOUT_SECS" => Some("2".to_owned()),
        "LABELSYNC_QUEUE_MAX_RECEIVES" => Some(MAX_RECEIVES.to_string()),
        "LABELSYNC_LIST_PAGE_SIZE" => Some(sizes.page.to_owned()),
        "LABELSYNC_INGEST_BATCH_SIZE" => Some(sizes.batch.to_owned()),
        _ => None,
    };
    let settings =
        Settings::from_env(&env, std::path::Path::new("/nonexistent")).expect("settings");
    let aws_settings = AwsSettings {
        table,
        queues: urls.clone(),
    };
    let ctx = match embedded_dir {
        None => context(&sdk, aws_settings, settings),
        Some(dir) => {
            let db = EmbeddedDb::open(dir).expect("open the embedded store");
            let state = EmbeddedState::new(db).expect("embedded state");
            let queue = SqsQueue::new(sqs.clone(), urls.clone());
            Context::new(Arc::new(state), Arc::new(queue), settings)
        }
    };
    Aws { s3, sqs, urls, ctx }
}

/// One poll of a queue as Lambda's event source mapping does it; returns how many records came.
/// `times` > 1 hands the same batch to the handler again before settling (at-least-once).
async fn poll_once(aws: &Aws, url: &str, times: usize) -> usize {
    poll_once_with(aws, url, times, labelsync::dispatch::handle_any).await
}

/// [`poll_once`] with the handler of one function.
async fn poll_once_with(aws: &Aws, url: &str, times: usize, handler: Handler) -> usize {
    serverless::poll_once(&aws.sqs, &aws.ctx, url, handler, times).await
}

/// Polls every queue until none holds a message, visible or in flight. Returns how many
/// records were received in all.
async fn drain(aws: &Aws, times: usize) -> usize {
    let urls = [&*aws.urls.sync, &*aws.urls.ingest, &*aws.urls.export];
    serverless::drain(&aws.sqs, &urls, async |url| {
        poll_once(aws, url, times).await
    })
    .await
}

async fn bucket_with(aws: &Aws, objects: usize) -> String {
    let keys = (0..objects).map(|i| format!("images/img{i:05}.jpg"));
    bucket_of(
        aws,
        keys.map(|key| (key.clone(), key.into_bytes())).collect(),
    )
    .await
}

async fn bucket_of(aws: &Aws, objects: Vec<(String, Vec<u8>)>) -> String {
    let bucket = emulators::unique("bucket");
    aws.s3
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("create bucket");
    let puts = objects.into_iter().map(|(key, body)| {
        let (s3, bucket) = (aws.s3.clone(), bucket.clone());
        async move {
            s3.put_object()
                .bucket(&bucket)
                .key(&key)
                .body(ByteStream::from(body))
                .send()
                .await
        }
    });
    let results: Vec<_> = futures::stream::iter(puts)
        .buffer_unordered(16)
        .collect()
        .await;
    assert!(results.iter().all(Result::is_ok), "every put succeeded");
    bucket
}

async fn s3_storage(aws: &Aws, bucket: &str) -> (u64, labelsync::model::StorageRecord) {
    s3_storage_with(aws, bucket, json!({})).await
}

/// An S3 source storage on `bucket` under `images`, with `extra` settings over the defaults.
async fn s3_storage_with(
    aws: &Aws,
    bucket: &str,
    extra: serde_json::Value,
) -> (u64, labelsync::model::StorageRecord) {
    serverless::s3_storage(&aws.ctx, bucket, extra).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bucket_syncs_exactly_once_with_every_message_handled_twice() {
    let aws = aws().await;
    let bucket = bucket_with(&aws, objects()).await;
    let (project, storage) = s3_storage(&aws, &bucket).await;
    start_sync(&aws.ctx, &storage).await.expect("start sync");
    drain(&aws, 2).await;
    let storage = storage_now(&aws, storage.id).await;
    assert_eq!(storage.status, SyncStatus::Completed, "{storage:?}");
    assert_eq!(storage.last_sync_count, Some(objects() as u64));
    assert_eq!(
        aws.ctx.state.count_tasks(project).await.unwrap(),
        objects() as u64
    );
}

/// Keys spread over the whole range a first page's last key suggests (`images/00000.jpg` …
/// `images/99999.jpg`), so a sync splits its listing into key ranges that each hold keys.
fn spread_keys(objects: usize) -> Vec<String> {
    let mut keys: Vec<String> = (0..objects)
        .map(|i| format!("images/{:05}.jpg", i * 99_991 / objects))
        .collect();
    keys.dedup();
    keys
}

/// A listing split into key ranges listed at once (S3 `StartAfter` on moto), with every
/// message handled twice: every key becomes exactly one task, and the job counts its parts.
async fn a_listing_in_key_ranges_syncs_exactly_once(aws: &Aws) {
    let keys = spread_keys(objects());
    let objects = keys.iter().map(|k| (k.clone(), k.clone().into_bytes()));
    let bucket = bucket_of(aws, objects.collect()).await;
    let (project, storage) = s3_storage(aws, &bucket).await;
    let synced = sync_delivering(aws, &storage, 2).await;
    assert_eq!(synced.status, SyncStatus::Completed, "{synced:?}");
    assert_eq!(synced.last_sync_count, Some(keys.len() as u64));
    let job = synced.last_sync_job.expect("a job");
    let job = aws.ctx.state.get_job(job).await.unwrap().expect("the job");
    assert!(job.parts_total > 1, "the listing never split: {job:?}");
    assert_eq!(job.parts_listed, job.parts_total, "{job:?}");
    assert_eq!(task_keys(aws, project).await, keys, "each key once");
}

in_both_stores!(
    a_listing_in_key_ranges_syncs_exactly_once,
    a_listing_in_key_ranges_syncs_exactly_once_in_dynamodb,
    a_listing_in_key_ranges_syncs_exactly_once_in_the_embedded_store
);

/// The 10,000-object bucket: real S3 listing pages and real SQS messages, each handled
/// twice, with the state in the embedded store (which passes the same state conformance suite
/// as DynamoDB; through moto's DynamoDB this size takes over 20 minutes, see the module docs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_objects_through_real_sqs_sync_exactly_once() {
    const TEN_THOUSAND: usize = 10_000;
    let dir = tempfile::tempdir().unwrap();
    let sizes = Sizes {
        page: "1000",
        batch: "100",
    };
    let aws = aws_with(Some(dir.path()), sizes).await;
    let bucket = bucket_with(&aws, TEN_THOUSAND).await;
    let (project, storage) = s3_storage(&aws, &bucket).await;
    start_sync(&aws.ctx, &storage).await.expect("start sync");
    let received = drain(&aws, 2).await;
    // 10 listing pages and 100 ingest batches; a visibility timeout may redeliver a few, but a
    // redelivered page must not duplicate the pages after it (that once grew to thousands).
    assert!(
        (110..=220).contains(&received),
        "{received} records received"
    );
    let state = &aws.ctx.state;
    let storage = state.get_storage(storage.id).await.unwrap().unwrap();
    assert_eq!(storage.status, SyncStatus::Completed, "{storage:?}");
    assert_eq!(storage.last_sync_count, Some(TEN_THOUSAND as u64));
    assert_eq!(
        state.count_tasks(project).await.unwrap(),
        TEN_THOUSAND as u64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_half_of_which_fails_redelivers_only_the_failed_half() {
    let aws = aws().await;
    let bucket = bucket_with(&aws, 5).await;
    let (project, good) = s3_storage(&aws, &bucket).await;
    // A storage whose endpoint refuses connections: its messages fail and must come again.
    let mut broken_settings = good.settings.clone();
    broken_settings.insert("s3_endpoint".into(), json!("http://127.0.0.1:9"));
    let broken = aws
        .ctx
        .state
        .create_storage(NewStorage {
            role: StorageRole::Import,
            storage_type: "s3".into(),
            project,
            title: None,
            description: None,
            synchronizable: true,
            settings: broken_settings,
            links: labelsync::model::LinkScope::Location,
            location: None,
            schedule: Default::default(),
            removed_objects: Default::default(),
        })
        .await
        .unwrap();
    start_sync(&aws.ctx, &good).await.unwrap();
    start_sync(&aws.ctx, &broken).await.unwrap();
    // Both first pages sit in one batch: the good one succeeds, the broken one is reported.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(poll_once(&aws, &aws.urls.sync, 1).await, 2);
    drain_one_queue(&aws, &aws.urls.ingest).await;
    let good = aws.ctx.state.get_storage(good.id).await.unwrap().unwrap();
    assert_eq!(
        (good.status, good.last_sync_count),
        (SyncStatus::Completed, Some(5))
    );
    // The failed message comes back after its visibility timeout, with a higher receive count.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let again = aws
        .sqs
        .receive_message()
        .queue_url(&aws.urls.sync)
        .message_system_attribute_names(
            aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount,
        )
        .wait_time_seconds(1)
        .send()
        .await
        .unwrap();
    let messages = again.messages.unwrap_or_default();
    assert_eq!(
        messages.len(),
        1,
        "only the failed record is delivered again"
    );
    assert!(
        messages[0]
            .body
            .as_deref()
            .unwrap_or_default()
            .contains(&format!("\"storage\":{}", broken.id))
    );
    let count = messages[0]
        .attributes
        .as_ref()
        .and_then(|a| {
            a.get(&aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount)
        })
        .cloned();
    assert_eq!(count.as_deref(), Some("2"));
}

/// Starts a sync, handles every message once, and returns the storage as it then is.
async fn sync_to_end(
    aws: &Aws,
    storage: &labelsync::model::StorageRecord,
) -> labelsync::model::StorageRecord {
    sync_delivering(aws, storage, 1).await
}

/// A sync run to its end with every message handed to its handler `times` times.
async fn sync_delivering(
    aws: &Aws,
    storage: &labelsync::model::StorageRecord,
    times: usize,
) -> labelsync::model::StorageRecord {
    start_sync(&aws.ctx, storage).await.expect("start sync");
    drain(aws, times).await;
    storage_now(aws, storage.id).await
}

/// The storage as the state store has it now.
async fn storage_now(aws: &Aws, id: u64) -> labelsync::model::StorageRecord {
    let storage = aws.ctx.state.get_storage(id).await.unwrap();
    storage.expect("the storage")
}

async fn drain_one_queue(aws: &Aws, url: &str) {
    while poll_once(aws, url, 1).await > 0 {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resync_creates_nothing_and_counts_what_existed() {
    let aws = aws().await;
    let bucket = bucket_with(&aws, 7).await;
    let (project, storage) = s3_storage(&aws, &bucket).await;
    let storage = sync_to_end(&aws, &storage).await;
    assert_eq!(storage.last_sync_count, Some(7), "{storage:?}");
    start_sync(&aws.ctx, &storage).await.expect("start sync");
    // The page's keys all have tasks: the re-sync sends no ingest message.
    assert_eq!(drain(&aws, 1).await, 1, "one listing page, nothing else");
    let again = storage_now(&aws, storage.id).await;
    assert_eq!(
        (again.status, again.last_sync_count),
        (SyncStatus::Completed, Some(0)),
        "{again:?}"
    );
    assert_eq!(again.meta.get("tasks_existed"), Some(&json!(7)));
    assert_eq!(aws.ctx.state.count_tasks(project).await.unwrap(), 7);
}

/// A listing page of 1,000 keys of 1,000 bytes (S3 allows 1,024) once made one ingest message
/// of over 1 MB, which SQS (moto too) refuses, so the page failed on every delivery. Batches are
/// now cut to fit a message: every key becomes a task.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_of_the_longest_keys_is_cut_into_messages_sqs_takes() {
    const KEYS: usize = 1000;
    let dir = tempfile::tempdir().unwrap();
    let sizes = Sizes {
        page: "1000",
        batch: "1000",
    };
    let aws = aws_with(Some(dir.path()), sizes).await;
    let long = "d".repeat(980);
    let keys = (0..KEYS).map(|i| format!("images/{long}{i:05}.jpg"));
    let bucket = bucket_of(&aws, keys.map(|key| (key, b"x".to_vec())).collect()).await;
    let (project, storage) = s3_storage(&aws, &bucket).await;
    start_sync(&aws.ctx, &storage).await.expect("start sync");
    let received = drain(&aws, 1).await;
    let storage = storage_now(&aws, storage.id).await;
    assert_eq!(
        (storage.status, storage.last_sync_count),
        (SyncStatus::Completed, Some(KEYS as u64)),
        "{storage:?}"
    );
    assert!(
        // One page and at least four ingest messages: 1 MB of keys in 256 KiB messages.
        received >= 5,
        "{received} messages: the page was not cut by size"
    );
    assert_eq!(
        aws.ctx.state.count_tasks(project).await.unwrap(),
        KEYS as u64
    );
}

/// DynamoDB keeps items up to 400 KB (moto checks it too). A task over that once failed its
/// whole write, and with it every task of its chunk, on every delivery; now it alone is an
/// error of its key, and the tasks beside it are created.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_over_the_item_limit_is_an_error_of_its_key_and_the_rest_are_created() {
    let aws = aws().await;
    let tasks = json!([
        {"text": "small one"},
        {"text": "x".repeat(450_000)},
        {"text": "small two"},
    ]);
    let object = (
        "images/tasks.json".to_owned(),
        tasks.to_string().into_bytes(),
    );
    let bucket = bucket_of(&aws, vec![object]).await;
    let (project, storage) = s3_storage_with(&aws, &bucket, json!({"use_blob_urls": false})).await;
    start_sync(&aws.ctx, &storage).await.expect("start sync");
    drain(&aws, 1).await;
    let storage = storage_now(&aws, storage.id).await;
    assert_eq!(
        (storage.status, storage.last_sync_count),
        (SyncStatus::CompletedWithErrors, Some(2)),
        "{storage:?}"
    );
    let traceback = storage.traceback.unwrap_or_default();
    assert!(
        traceback.contains("images/tasks.json") && traceback.contains("item 1"),
        "the error does not name the key and item: {traceback}"
    );
    assert_eq!(aws.ctx.state.count_tasks(project).await.unwrap(), 2);
}

/// A queue for the bucket's notifications, as the deployed `EventsQueue`, and the bucket's
/// notification configuration naming it (object created and removed).
async fn notify_queue(aws: &Aws, bucket: &str) -> String {
    let created = aws
        .sqs
        .create_queue()
        .queue_name(emulators::unique("events"))
        .send()
        .await
        .expect("create the events queue");
    let url = created.queue_url.expect("queue url");
    let arn = aws
        .sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("queue attributes")
        .attributes
        .and_then(|a| {
            a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                .cloned()
        })
        .expect("queue arn");
    let events = ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"];
    common_aws::notify_queue(&aws.s3, bucket, &arn, &events).await;
    url
}

async fn put(aws: &Aws, bucket: &str, key: &str) {
    common_aws::put_png(&aws.s3, bucket, key).await;
}

/// The source keys of the project's tasks, sorted.
async fn task_keys(aws: &Aws, project: u64) -> Vec<String> {
    let tasks = aws.ctx.state.list_tasks(project, None, 1000).await.unwrap();
    let mut keys: Vec<String> = tasks
        .into_iter()
        .filter_map(|t| t.source.map(|s| s.key))
        .collect();
    keys.sort();
    keys
}

/// Polls the events queue through `sync-trigger`'s handler until it is empty, each batch
/// handled twice (at-least-once delivery).
async fn drain_events(aws: &Aws, url: &str) {
    while poll_once_with(aws, url, 2, labelsync::dispatch::handle_trigger).await > 0 {}
}

/// S3's own notifications through a real SQS queue, each delivered twice: created objects under
/// the prefix become tasks (keys decoded), others do not; a removed object keeps its task
/// (Label Studio's policy); a full sync afterwards creates nothing. An EventBridge-shaped
/// event goes through the same handler, and a late "created" event for an object deleted
/// since makes no task.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_events_become_tasks_without_listing_and_a_sync_after_them_adds_nothing() {
    let aws = aws().await;
    let bucket = bucket_of(&aws, Vec::new()).await;
    let events = notify_queue(&aws, &bucket).await;
    let (project, storage) = s3_storage(&aws, &bucket).await;
    for key in ["images/a b.jpg", "images/deep/c+d.jpg", "other/e.jpg"] {
        put(&aws, &bucket, key).await;
    }
    drain_events(&aws, &events).await;
    assert_eq!(
        task_keys(&aws, project).await,
        ["images/a b.jpg", "images/deep/c+d.jpg"],
        "one task per created object under the prefix, each once"
    );

    aws.s3
        .delete_object()
        .bucket(&bucket)
        .key("images/a b.jpg")
        .send()
        .await
        .expect("delete");
    drain_events(&aws, &events).await;
    assert_eq!(
        task_keys(&aws, project).await.len(),
        2,
        "removed objects keep their tasks"
    );

    put(&aws, &bucket, "images/f.jpg").await;
    let bridge = |key: &str, what: &str| {
        json!({"version": "0", "id": "6a7e8feb", "detail-type": what, "source": "aws.s3",
            "account": "123456789012", "time": "2026-12-01T00:00:00Z", "region": "us-east-1",
            "resources": [format!("arn:aws:s3:::{bucket}")],
            "detail": {"version": "0", "bucket": {"name": bucket},
                       "object": {"key": key, "size": 3, "sequencer": "00617F0829"},
                       "request-id": "N4N7GDK58NMKJ12R", "requester": "123456789012",
                       "reason": "PutObject"}})
        .to_string()
    };
    for body in [
        bridge("images/f.jpg", "Object Created"),
        bridge("images/gone.jpg", "Object Created"),
    ] {
        labelsync::dispatch::handle_trigger(&aws.ctx, &body)
            .await
            .expect("an EventBridge event");
    }
    assert_eq!(
        task_keys(&aws, project).await,
        ["images/a b.jpg", "images/deep/c+d.jpg", "images/f.jpg"]
    );

    let synced = sync_to_end(&aws, &storage).await;
    assert_eq!(
        (synced.status, synced.last_sync_count),
        (SyncStatus::Completed, Some(0)),
        "{synced:?}"
    );
    assert_eq!(synced.meta.get("tasks_existed"), Some(&json!(2)));
    assert_eq!(task_keys(&aws, project).await.len(), 3);
}

/// Under `removed_objects: delete_unlabeled`, through S3's notifications (each delivered
/// twice): a removed object's task goes, an annotated one stays flagged, a "removed" event
/// for an object that exists (a put overtook it) removes nothing; an object deleted with no
/// event (a lost notification) goes at the end of the next full sync, whose `meta` counts it.
async fn removed_objects_delete_unlabeled_tasks(aws: &Aws) {
    let bucket = bucket_of(aws, Vec::new()).await;
    let events = notify_queue(aws, &bucket).await;
    let (project, storage) = s3_storage(aws, &bucket).await;
    let policy = |s: &mut labelsync::model::StorageRecord| {
        s.removed_objects = labelsync::model::RemovedObjects::DeleteUnlabeled;
    };
    let storage = aws
        .ctx
        .state
        .update_storage(storage.id, &policy)
        .await
        .unwrap()
        .unwrap();
    for name in ["a", "b", "c", "d", "e"] {
        put(aws, &bucket, &format!("images/{name}.jpg")).await;
    }
    drain_events(aws, &events).await;
    assert_eq!(task_keys(aws, project).await.len(), 5);
    let task_of = |key: &'static str| async move {
        let tasks = aws.ctx.state.list_tasks(project, None, 1000).await.unwrap();
        let task = tasks
            .into_iter()
            .find(|t| t.source.as_ref().is_some_and(|s| s.key == key));
        task.expect("the object's task").id
    };
    let annotated = [task_of("images/b.jpg").await, task_of("images/e.jpg").await];
    for task in annotated {
        let annotation = labelsync::model::NewAnnotation::default();
        aws.ctx
            .state
            .create_annotation(task, annotation)
            .await
            .unwrap();
    }

    for key in ["images/a.jpg", "images/b.jpg"] {
        aws.s3
            .delete_object()
            .bucket(&bucket)
            .key(key)
            .send()
            .await
            .expect("delete");
    }
    drain_events(aws, &events).await;
    let removed_late = json!({"version": "0", "id": "7b8f9a", "detail-type": "Object Deleted",
        "source": "aws.s3", "account": "123456789012", "time": "2026-12-01T00:00:00Z",
        "region": "us-east-1", "resources": [format!("arn:aws:s3:::{bucket}")],
        "detail": {"version": "0", "bucket": {"name": bucket},
                   "object": {"key": "images/c.jpg", "sequencer": "00617F0828"},
                   "request-id": "N4N7GDK58NMKJ12S", "requester": "123456789012",
                   "reason": "DeleteObject", "deletion-type": "Permanently Deleted"}});
    labelsync::dispatch::handle_trigger(&aws.ctx, &removed_late.to_string())
        .await
        .expect("an EventBridge event");
    assert_eq!(
        task_keys(aws, project).await,
        [
            "images/b.jpg",
            "images/c.jpg",
            "images/d.jpg",
            "images/e.jpg"
        ],
        "a.jpg's task went; b.jpg is annotated; c.jpg exists"
    );
    let flagged = aws.ctx.state.get_task(annotated[0]).await.unwrap().unwrap();
    assert!(
        flagged.meta.get("object_removed_at").is_some(),
        "{:?}",
        flagged.meta
    );

    for key in ["images/d.jpg", "images/e.jpg"] {
        aws.s3
            .delete_object()
            .bucket(&bucket)
            .key(key)
            .send()
            .await
            .expect("delete");
    }
    aws.sqs
        .purge_queue()
        .queue_url(&events)
        .send()
        .await
        .expect("lose the notifications");
    let synced = sync_to_end(aws, &storage).await;
    assert_eq!(synced.status, SyncStatus::Completed, "{synced:?}");
    assert_eq!(
        (
            synced.meta.get("tasks_removed"),
            synced.meta.get("tasks_flagged_removed")
        ),
        (Some(&json!(1)), Some(&json!(2))),
        "d.jpg's task removed; b.jpg and e.jpg flagged: {:?}",
        synced.meta
    );
    assert_eq!(
        task_keys(aws, project).await,
        ["images/b.jpg", "images/c.jpg", "images/e.jpg"]
    );
    let resynced = sync_to_end(aws, &storage).await;
    assert_eq!(resynced.meta.get("tasks_removed"), Some(&json!(0)));
    assert_eq!(resynced.last_sync_count, Some(0), "nothing imported twice");
}

in_both_stores!(
    removed_objects_delete_unlabeled_tasks,
    removed_objects_delete_unlabeled_tasks_in_dynamodb,
    removed_objects_delete_unlabeled_tasks_in_the_embedded_store
);

/// Eight scheduler passes at once start exactly one sync of the due storage, none of the
/// storage that is syncing already nor of the one without a schedule, and a pass right after
/// starts nothing (the next sync is an interval away).
async fn scheduler_starts_each_due_sync_once(aws: &Aws) {
    let bucket = bucket_with(aws, 3).await;
    let mut storages = Vec::new();
    for _ in 0..3 {
        storages.push(s3_storage(aws, &bucket).await.1);
    }
    let state = &aws.ctx.state;
    let every = |minutes: Option<u32>| {
        move |s: &mut labelsync::model::StorageRecord| {
            s.schedule = labelsync::model::SyncSchedule::every(minutes)
        }
    };
    state
        .update_storage(storages[0].id, &every(Some(5)))
        .await
        .unwrap();
    state
        .update_storage(storages[1].id, &every(Some(5)))
        .await
        .unwrap();
    start_sync(&aws.ctx, &storages[1])
        .await
        .expect("a running sync");
    let passes = (0..8).map(|_| labelsync::triggers::schedule::start_due_syncs(&aws.ctx));
    let started: Vec<u64> = futures::future::join_all(passes)
        .await
        .into_iter()
        .flat_map(|pass| pass.expect("a scheduler pass"))
        .collect();
    assert_eq!(
        started,
        [storages[0].id],
        "one sync, of the idle due storage"
    );
    let again = labelsync::triggers::schedule::start_due_syncs(&aws.ctx)
        .await
        .unwrap();
    assert!(again.is_empty(), "{again:?}");
    let first = state.get_storage(storages[0].id).await.unwrap().unwrap();
    assert_eq!(first.status, SyncStatus::Queued);
}

in_both_stores!(
    scheduler_starts_each_due_sync_once,
    the_scheduler_starts_each_due_sync_once_in_dynamodb,
    the_scheduler_starts_each_due_sync_once_in_the_embedded_store
);

/// `uri-resolve` as Lambda runs it: a Function URL event (API Gateway's v2 payload) asks for a
/// 20 MB object without `Range`, and the streaming adapter the function runs under returns it
/// whole, in chunks as it is read. (A buffered Lambda response stops at 6 MB, which is why the
/// function streams.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uri_resolve_streams_a_20_mb_object_whole_without_range() {
    let aws = aws().await;
    let bucket = bucket_of(&aws, Vec::new()).await;
    let object: Vec<u8> = (0..20 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let body = ByteStream::from(object.clone());
    let put = aws
        .s3
        .put_object()
        .bucket(&bucket)
        .key("images/big.bin")
        .body(body);
    put.send().await.expect("put the object");
    let (project, _) = s3_storage_with(&aws, &bucket, json!({"presign": false})).await;
    let uri = format!("s3://{bucket}/images/big.bin");
    let task = labelsync::model::NewTask::from_data(json!({ "video": uri }));
    aws.ctx
        .state
        .create_tasks(project, None, vec![task])
        .await
        .unwrap();
    let task = aws.ctx.state.list_tasks(project, None, 1).await.unwrap()[0].id;

    let token = labelsync::api::ApiToken("lambda-media-token".into());
    let mut service = labelsync::lambda::media_service(aws.ctx.clone(), token);
    let path = format!("/tasks/{task}/resolve/");
    let query = format!("fileuri={}", labelsync::resolve::uri::encode_fileuri(&uri));
    let event: lambda_http::request::LambdaRequest =
        serde_json::from_value(function_url_event(&path, &query)).expect("an HTTP event");
    let event = lambda_runtime::LambdaEvent::new(event, lambda_runtime::Context::default());
    let response = tower::Service::call(&mut service, event).await.unwrap();

    assert_eq!(response.metadata_prelude.status_code, 200);
    let length = response.metadata_prelude.headers.get("content-length");
    assert_eq!(length.and_then(|v| v.to_str().ok()), Some("20971520"));
    let chunks: Vec<_> = response.stream.collect().await;
    let mut received = Vec::with_capacity(object.len());
    for chunk in &chunks {
        received.extend_from_slice(chunk.as_ref().expect("a chunk"));
    }
    assert!(
        received == object,
        "{} bytes arrived, not the object",
        received.len()
    );
    let largest = chunks.iter().flatten().map(|c| c.len()).max().unwrap_or(0);
    assert!(
        chunks.len() > 1 && largest < 6 * 1024 * 1024,
        "{} chunks",
        chunks.len()
    );
}

/// A Lambda Function URL request (API Gateway's HTTP payload, version 2.0) with the token.
fn function_url_event(path: &str, query: &str) -> serde_json::Value {
    json!({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
        "headers": {"authorization": "Token lambda-media-token",
                    "host": "abcdefg.lambda-url.us-east-1.on.aws"},
        "requestContext": {"accountId": "123456789012", "apiId": "abcdefg",
            "domainName": "abcdefg.lambda-url.us-east-1.on.aws", "domainPrefix": "abcdefg",
            "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": "labelsync-test"},
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "routeKey": "$default",
            "stage": "$default", "time": "01/Dec/2026:00:00:00 +0000", "timeEpoch": 1795996800000_u64},
        "isBase64Encoded": false
    })
}

/// The pipeline's embedded-metric-format lines (what a Lambda function writes to its log
/// stream): a sync's ingest batches count every task it created, once (each message is
/// delivered twice), and its end reports its duration.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_the_tasks_a_sync_created_and_its_duration() {
    let aws = aws().await;
    let lines = Arc::new(std::sync::Mutex::new(Vec::<serde_json::Value>::new()));
    let kept = Arc::clone(&lines);
    let sink: labelsync::metrics::Sink = Arc::new(move |line: &str| {
        kept.lock()
            .unwrap()
            .push(serde_json::from_str(line).expect("a JSON line"));
    });
    let aws = Aws {
        ctx: aws
            .ctx
            .clone()
            .with_metrics(labelsync::metrics::Metrics::to(sink, "pipeline")),
        ..aws
    };
    let bucket = bucket_with(&aws, 23).await;
    let (_, storage) = s3_storage(&aws, &bucket).await;
    let synced = sync_delivering(&aws, &storage, 2).await;
    assert_eq!(synced.last_sync_count, Some(23), "{synced:?}");

    let lines = lines.lock().unwrap();
    let sum = |name: &str| -> f64 { lines.iter().filter_map(|l| l[name].as_f64()).sum() };
    assert_eq!(sum("TasksCreated"), 23.0, "{lines:?}");
    let durations: Vec<f64> = lines
        .iter()
        .filter_map(|l| l["SyncDuration"].as_f64())
        .collect();
    assert_eq!(durations.len(), 1, "{lines:?}");
    assert!(durations[0] >= 0.0 && durations[0] < 600.0, "{durations:?}");
    assert!(lines.iter().all(|l| l["Function"] == "pipeline"));
}
