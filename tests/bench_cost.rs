//! The cost bench: a bucket of N objects synced through the serverless path, its first sync
//! and then a re-sync of the unchanged bucket, each priced per 1,000 objects and per million
//! at AWS's us-east-1 list prices.
//!
//! The path is the deployed one, on moto: the Lambda handlers (`sync-fanout`, `task-ingest`)
//! fed real SQS batches by a loop that plays Lambda's event source mapping (batch sizes from
//! `infra/template.yaml`), state in DynamoDB, the storage listing moto's S3 (Files mode, 1,000
//! keys a page). Counting changes no production code:
//! - DynamoDB and SQS: the functions' `SdkConfig` carries a counting HTTP client
//!   (`common/counting_http.rs`) that reads each request's operation and body: DynamoDB request
//!   units (`common/dynamo_units.rs`), SQS messages and billed 64 KB chunks. The event-source
//!   loop's own receives and deletes go through a second counting client.
//! - S3: the storage builds its own client from its settings, so its requests are counted
//!   where they land, by moto's request recorder (every request naming the bucket).
//! - Lambda: one invocation a batch handed to a handler (and one `storage-api` invocation that
//!   starts the sync); durations measured around each handler call, times each function's
//!   `MemorySize` from the template.
//!
//! `cargo bench -p labelsync-tests --bench cost` (`BENCH_COST_OBJECTS`, default 2,000: moto's
//! DynamoDB copies its tables on every transaction, so large buckets take long).

mod common;
#[path = "common/aws.rs"]
mod common_aws;
#[path = "common/counting_http.rs"]
mod counting_http;
#[path = "common/dynamo_units.rs"]
mod dynamo_units;
#[path = "common/emulators.rs"]
mod emulators;
#[path = "common/serverless.rs"]
mod serverless;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use counting_http::{Activity, Ledger, Tally, counting_client};
use labelsync::aws::{AwsSettings, context};
use labelsync::config::Settings;
use labelsync::context::Context;
use labelsync::jobs::start::start_sync;
use labelsync::model::{StorageRecord, SyncStatus};
use labelsync::queue::sqs::{QueueUrls, create_queues};
use labelsync::state::dynamo::create_table;

/// us-east-1 list prices in USD as AWS publishes them, checked on 2026-12-02 against stored
/// copies of public pages only (no live web here); "as published, not verified here" unless an
/// AWS page is named as the check:
/// - DynamoDB on-demand (aws.amazon.com/dynamodb/pricing/on-demand/), since the 2024-11-01 cut:
///   $0.625 per million write request units, $0.125 per million read request units (third-party
///   summaries of that page agree).
/// - SQS standard queues (aws.amazon.com/sqs/pricing/): $0.40 per million requests, each
///   started 64 KB of a request's payload one request (third-party summaries agree).
/// - S3 Standard (aws.amazon.com/s3/pricing/): PUT, COPY, POST, LIST $0.005 per 1,000; GET,
///   HEAD $0.0004 per 1,000 (third-party summaries agree).
/// - Lambda x86 (aws.amazon.com/lambda/pricing/): $0.20 per million requests, $0.0000166667 per
///   GB-second (checked: AWS's whitepaper "How AWS Pricing Works" gives $0.20 and $0.00001667).
mod price {
    pub const DYNAMODB_WRITE_UNIT: f64 = 0.625 / 1e6;
    pub const DYNAMODB_READ_UNIT: f64 = 0.125 / 1e6;
    pub const SQS_REQUEST: f64 = 0.40 / 1e6;
    pub const S3_LIST_OR_PUT: f64 = 0.005 / 1e3;
    pub const S3_GET_OR_HEAD: f64 = 0.0004 / 1e3;
    pub const LAMBDA_REQUEST: f64 = 0.20 / 1e6;
    pub const LAMBDA_GB_SECOND: f64 = 0.000_016_666_7;
}

/// What a DynamoDB or SQS request is taken to cost in time on AWS, in the duration estimate:
/// both answer in single-digit milliseconds in-region; 10 ms, counted as if every request
/// waited alone (requests in flight together count each).
const AWS_REQUEST_TIME: Duration = Duration::from_millis(10);

/// Seconds a received batch stays hidden: longer than any invocation on moto, so nothing is
/// delivered twice while its handler runs (which would count as cost that real Lambda, whose
/// queues hide messages longer than the function's timeout, would not have).
const VISIBILITY_SECS: i32 = 900;

/// A Lambda function as the template deploys it.
#[derive(Clone, Copy, Debug)]
struct Function {
    name: &'static str,
    memory_mb: u32,
    /// The SQS event source's `BatchSize` (0 for a function not fed by a queue).
    batch: i32,
}

/// `key: <number>` inside the block that starts at the line `header` (its deeper-indented
/// lines): a resource's property, or a Globals one.
fn template_number(template: &str, header: &str, key: &str) -> Option<u32> {
    let mut lines = template.lines().skip_while(|l| l.trim_end() != header);
    lines.next()?;
    let inside =
        |l: &&str| l.trim().is_empty() || l.starts_with("   ") || l.trim().starts_with('#');
    lines.take_while(inside).find_map(|l| {
        l.trim()
            .strip_prefix(key)?
            .strip_prefix(':')?
            .trim()
            .parse()
            .ok()
    })
}

/// The function deployed as `resource` in `infra/template.yaml`: its memory (its own or the
/// Globals') and its queue's batch size.
fn function(template: &str, resource: &str, name: &'static str) -> Function {
    let header = format!("  {resource}:");
    let memory = template_number(template, &header, "MemorySize")
        .or_else(|| template_number(template, "  Function:", "MemorySize"))
        .expect("a MemorySize in the template");
    let batch = template_number(template, &header, "BatchSize").unwrap_or(0);
    Function {
        name,
        memory_mb: memory,
        batch: batch as i32,
    }
}

/// The functions a sync runs through: the API that starts it, then a queue each.
struct Functions {
    api: Function,
    fanout: Function,
    ingest: Function,
    export: Function,
}

fn functions() -> Functions {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/template.yaml");
    let template = std::fs::read_to_string(path).expect("infra/template.yaml");
    Functions {
        api: function(&template, "StorageApiFunction", "storage-api"),
        fanout: function(&template, "SyncFanoutFunction", "sync-fanout"),
        ingest: function(&template, "TaskIngestFunction", "task-ingest"),
        export: function(&template, "AnnotationExportFunction", "annotation-export"),
    }
}

/// One Lambda invocation: which function, how long its handler ran, and how much of that it
/// waited on (counted) DynamoDB and SQS requests.
struct Invocation {
    function: Function,
    wall: Duration,
    waiting: Duration,
    requests: u64,
}

impl Invocation {
    fn new(function: Function, wall: Duration, before: Activity, after: Activity) -> Self {
        Invocation {
            function,
            wall,
            waiting: after.waiting.saturating_sub(before.waiting),
            requests: after.requests - before.requests,
        }
    }

    /// GB-seconds Lambda bills for `duration` (rounded up to the millisecond).
    fn gb_seconds(&self, duration: Duration) -> f64 {
        let ms = duration.as_micros().div_ceil(1000) as f64;
        ms / 1000.0 * f64::from(self.function.memory_mb) / 1024.0
    }

    /// As measured here, moto's time in every request included.
    fn measured_gb_seconds(&self) -> f64 {
        self.gb_seconds(self.wall)
    }

    /// The measured time with what the handler spent waiting on moto's DynamoDB and SQS
    /// replaced by [`AWS_REQUEST_TIME`] a request. (S3 listing stays as moto took it.)
    fn estimated_gb_seconds(&self) -> f64 {
        let own = self.wall.saturating_sub(self.waiting);
        let requests = u32::try_from(self.requests).unwrap_or(u32::MAX);
        self.gb_seconds(own + AWS_REQUEST_TIME * requests)
    }
}

/// The bench's world: the functions' context on moto, its counting ledger, and the poller.
struct Bench {
    ctx: Context,
    urls: QueueUrls,
    functions: Functions,
    /// The functions' own DynamoDB and SQS requests.
    ledger: Ledger,
    /// The event source mapping's: the loop's receives and deletes (and its queue checks).
    poller: aws_sdk_sqs::Client,
    poller_ledger: Ledger,
    s3: aws_sdk_s3::Client,
}

/// moto's SDK configuration with a client counting into `ledger`.
async fn counting_sdk(ledger: &Ledger) -> aws_config::SdkConfig {
    let sdk = common_aws::moto_sdk().await;
    let client = counting_client(ledger.clone());
    sdk.to_builder().http_client(client).build()
}

async fn bench() -> Bench {
    let ledger = Ledger::default();
    let sdk = counting_sdk(&ledger).await;
    let poller_ledger = Ledger::default();
    let poller = aws_sdk_sqs::Client::new(&counting_sdk(&poller_ledger).await);
    let table = emulators::unique("state");
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    create_table(&dynamodb, &table).await.expect("table");
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let urls = create_queues(&sqs, &emulators::unique("q"), 3)
        .await
        .expect("queues");
    let env = |name: &str| match name {
        "LABELSYNC_ALLOW_PRIVATE_ENDPOINTS" => Some("true".to_owned()),
        "LABELSYNC_LIST_PAGE_SIZE" => Some("1000".to_owned()),
        _ => None,
    };
    let settings = Settings::from_env(&env, std::path::Path::new("/nonexistent"));
    let queues = urls.clone();
    let ctx = context(
        &sdk,
        AwsSettings { table, queues },
        settings.expect("settings"),
    );
    let s3 = common_aws::moto_s3(&common_aws::moto_sdk().await);
    Bench {
        ctx,
        urls,
        functions: functions(),
        ledger,
        poller,
        poller_ledger,
        s3,
    }
}

impl Bench {
    /// The function a queue feeds.
    fn function_of(&self, url: &str) -> Function {
        let f = &self.functions;
        match url {
            u if u == self.urls.sync => f.fanout,
            u if u == self.urls.ingest => f.ingest,
            _ => f.export,
        }
    }

    /// One poll of `url` as the event source mapping makes it: a batch of the function's size,
    /// one timed invocation, then the deletes. Returns how many records came.
    async fn poll(&self, url: &str, invocations: &mut Vec<Invocation>) -> usize {
        let function = self.function_of(url);
        let Some(batch) =
            serverless::receive(&self.poller, url, function.batch, VISIBILITY_SECS).await
        else {
            return 0;
        };
        let before = self.ledger.activity();
        let started = Instant::now();
        let handler = labelsync::dispatch::handle_any;
        let failed = serverless::invoke(&self.ctx, handler, &batch.event).await;
        let wall = started.elapsed();
        invocations.push(Invocation::new(
            function,
            wall,
            before,
            self.ledger.activity(),
        ));
        serverless::settle(&self.poller, url, &batch, &failed).await;
        batch.len()
    }

    /// A sync from its start (the API's call, timed as one `storage-api` invocation) until
    /// every queue is empty; the invocations it took.
    async fn sync(&self, storage: &StorageRecord) -> Vec<Invocation> {
        let before = self.ledger.activity();
        let started = Instant::now();
        start_sync(&self.ctx, storage).await.expect("start sync");
        let api = Invocation::new(
            self.functions.api,
            started.elapsed(),
            before,
            self.ledger.activity(),
        );
        let mut invocations = vec![api];
        let urls = [&*self.urls.sync, &*self.urls.ingest, &*self.urls.export];
        let poll = async |url: &str| self.poll(url, &mut invocations).await;
        serverless::drain(&self.poller, &urls, poll).await;
        invocations
    }
}

/// S3 requests by price tier, counted from moto's recording of the phase.
#[derive(Debug, Default)]
struct S3Requests {
    list: u64,
    get: u64,
    head: u64,
    other: u64,
}

impl S3Requests {
    /// The recorded requests whose URL names `bucket` (path-style or virtual-hosted).
    fn of(recording: &[serde_json::Value], bucket: &str) -> S3Requests {
        let mut counted = S3Requests::default();
        for request in recording {
            let url = request["url"].as_str().unwrap_or_default();
            let in_bucket =
                url.contains(&format!("/{bucket}")) || url.contains(&format!("//{bucket}."));
            if !in_bucket {
                continue;
            }
            match request["method"].as_str().unwrap_or_default() {
                "GET" if url.contains("list-type=") => counted.list += 1,
                "GET" => counted.get += 1,
                "HEAD" => counted.head += 1,
                _ => counted.other += 1,
            }
        }
        counted
    }

    /// LIST (and any write) at the higher tier, GET and HEAD at the lower.
    fn dollars(&self) -> f64 {
        (self.list + self.other) as f64 * price::S3_LIST_OR_PUT
            + (self.get + self.head) as f64 * price::S3_GET_OR_HEAD
    }
}

/// Requests moto recorded by `X-Amz-Target` (DynamoDB's and SQS's operations).
fn recorded_targets(recording: &[serde_json::Value]) -> BTreeMap<String, u64> {
    let target = |r: &serde_json::Value| {
        let headers = r["headers"].as_object()?;
        let found = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("x-amz-target"));
        found.and_then(|(_, v)| v.as_str()).map(str::to_owned)
    };
    let mut counts = BTreeMap::new();
    for found in recording.iter().filter_map(target) {
        *counts.entry(found).or_default() += 1;
    }
    counts
}

/// Everything one sync (first or re-sync) cost.
struct Phase {
    name: &'static str,
    objects: u64,
    created: u64,
    functions: Tally,
    poller: Tally,
    s3: S3Requests,
    invocations: Vec<Invocation>,
    /// DynamoDB and SQS requests moto recorded, to check the counting clients against.
    recorded: BTreeMap<String, u64>,
}

/// Runs one sync of `storage` with moto recording, and collects its counts.
async fn phase(bench: &Bench, name: &'static str, storage: u64, bucket: &str) -> Phase {
    let http = reqwest::Client::new();
    let storage = bench.ctx.state.get_storage(storage).await.unwrap().unwrap();
    bench.ledger.take();
    bench.poller_ledger.take();
    common_aws::moto_recorder(&http, "reset-recording").await;
    common_aws::moto_recorder(&http, "start-recording").await;
    let invocations = bench.sync(&storage).await;
    common_aws::moto_recorder(&http, "stop-recording").await;
    let recording: Vec<serde_json::Value> = common_aws::moto_recording(&http)
        .await
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    // Taken before the bench's own read of the result below.
    let (functions, poller) = (bench.ledger.take(), bench.poller_ledger.take());
    let synced = bench
        .ctx
        .state
        .get_storage(storage.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(synced.status, SyncStatus::Completed, "{synced:?}");
    let tasks_existed = synced.meta.get("tasks_existed").and_then(|v| v.as_u64());
    let created = synced.last_sync_count.unwrap_or(0);
    Phase {
        name,
        objects: created + tasks_existed.unwrap_or(0),
        created,
        functions,
        poller,
        s3: S3Requests::of(&recording, bucket),
        invocations,
        recorded: recorded_targets(&recording),
    }
}

impl Phase {
    /// `count` per 1,000 objects synced.
    fn per_k(&self, count: f64) -> f64 {
        count * 1000.0 / self.objects as f64
    }

    /// `dollars` per million objects synced.
    fn per_m(&self, dollars: f64) -> f64 {
        dollars * 1e6 / self.objects as f64
    }

    fn invocations_of(&self, function: &str) -> usize {
        self.invocations
            .iter()
            .filter(|i| i.function.name == function)
            .count()
    }

    /// What the functions' own SQS requests cost: their sends.
    fn sqs_sends(&self) -> u64 {
        self.functions
            .billed_of(&["SendMessage", "SendMessageBatch"])
    }

    /// What the event source mapping's requests cost: the receives that returned a batch, and
    /// the deletes (the loop's empty receives stand for Lambda's idle polling, which goes on
    /// whether or not anything syncs, so they are left out of a per-object figure).
    fn sqs_mapping(&self) -> u64 {
        let receives = self.poller.billed_of(&["ReceiveMessage"]) - self.poller.empty_receives;
        receives
            + self
                .poller
                .billed_of(&["DeleteMessage", "DeleteMessageBatch"])
    }

    fn gb_seconds(&self, of: fn(&Invocation) -> f64) -> f64 {
        self.invocations.iter().map(of).sum()
    }

    /// The busiest partition key and item by write units.
    fn busiest(&self) -> ((String, f64), (String, f64)) {
        let top = |pairs: Vec<(String, f64)>| {
            let max = pairs.into_iter().max_by(|a, b| a.1.total_cmp(&b.1));
            max.unwrap_or_default()
        };
        let partitions = self.functions.partition_writes.iter();
        let items = self.functions.item_writes.iter();
        (
            top(partitions.map(|(k, v)| (k.clone(), *v)).collect()),
            top(items
                .map(|((pk, sk), v)| (format!("{pk} / {sk}"), *v))
                .collect()),
        )
    }
}

/// `operation count, …` of the functions' requests to `service`, each per 1,000 objects.
fn operations(phase: &Phase, service: &str) -> String {
    let counts = phase.functions.requests.iter();
    let of_service = counts.filter(|(target, _)| target.starts_with(service));
    let each = of_service.map(|(target, n)| {
        let operation = target.rsplit('.').next().unwrap_or(target);
        format!("{operation} {:.2}", phase.per_k(*n as f64))
    });
    each.collect::<Vec<_>>().join(", ")
}

/// Write units by kind of partition (its key up to the first `#`: `TASK`, `LINKS`, …), each
/// per 1,000 objects, largest first.
fn writes_by_kind(p: &Phase) -> String {
    let mut kinds: BTreeMap<&str, f64> = BTreeMap::new();
    for (pk, units) in &p.functions.partition_writes {
        *kinds.entry(pk.split('#').next().unwrap_or(pk)).or_default() += units;
    }
    let mut kinds: Vec<_> = kinds.into_iter().collect();
    kinds.sort_by(|a, b| b.1.total_cmp(&a.1));
    let each = kinds
        .iter()
        .map(|(kind, units)| format!("{kind} {:.1}", p.per_k(*units)));
    each.collect::<Vec<_>>().join(", ")
}

fn print_requests(p: &Phase) {
    let lambda = |name| p.per_k(p.invocations_of(name) as f64);
    println!("  per 1,000 objects:");
    println!(
        "    S3        LIST {:.2}, GET {:.2}, HEAD {:.2}, other {:.2}",
        p.per_k(p.s3.list as f64),
        p.per_k(p.s3.get as f64),
        p.per_k(p.s3.head as f64),
        p.per_k(p.s3.other as f64)
    );
    println!(
        "    DynamoDB  {:.2} requests ({}); {:.1} WCU, {:.1} RCU ({} writes of unknown size counted at 1 unit)",
        p.per_k(p.functions.requests_to("DynamoDB") as f64),
        operations(p, "DynamoDB"),
        p.per_k(p.functions.write_units),
        p.per_k(p.functions.read_units),
        p.functions.estimated_writes
    );
    println!("              WCU by partition kind: {}", writes_by_kind(p));
    println!(
        "    SQS       functions: SendMessageBatch {:.2} calls, {:.2} messages, {:.2} billed requests",
        p.per_k(
            p.functions
                .requests_of(&["SendMessage", "SendMessageBatch"]) as f64
        ),
        p.per_k(
            p.functions
                .messages_of(&["SendMessage", "SendMessageBatch"]) as f64
        ),
        p.per_k(p.sqs_sends() as f64)
    );
    println!(
        "              event source mapping (this loop): ReceiveMessage {:.2} with a batch (+{} empty in all, left out as idle polling), DeleteMessage {:.2}",
        p.per_k((p.poller.requests_of(&["ReceiveMessage"]) - p.poller.empty_receives) as f64),
        p.poller.empty_receives,
        p.per_k(
            p.poller
                .requests_of(&["DeleteMessage", "DeleteMessageBatch"]) as f64
        )
    );
    println!(
        "    Lambda    invocations: storage-api {:.2}, sync-fanout {:.2}, task-ingest {:.2}, annotation-export {:.2}",
        lambda("storage-api"),
        lambda("sync-fanout"),
        lambda("task-ingest"),
        lambda("annotation-export")
    );
    println!(
        "              GB-s: {:.4} measured on moto, {:.4} estimated for AWS",
        p.per_k(p.gb_seconds(Invocation::measured_gb_seconds)),
        p.per_k(p.gb_seconds(Invocation::estimated_gb_seconds))
    );
}

fn print_hot_keys(p: &Phase) {
    let ((partition, partition_units), (item, item_units)) = p.busiest();
    let per_object = |units: f64| units / p.objects as f64;
    println!(
        "  busiest partition key: {partition}, {:.3} WCU per object: at 10,000 objects/s it takes {:.0} WCU/s (DynamoDB's per-partition limit is 1,000)",
        per_object(partition_units),
        per_object(partition_units) * 10_000.0
    );
    println!(
        "  busiest item: {item}, {:.3} WCU per object: {:.0} WCU/s at 10,000 objects/s",
        per_object(item_units),
        per_object(item_units) * 10_000.0
    );
}

fn print_prices(p: &Phase) {
    let dynamodb = p.functions.write_units * price::DYNAMODB_WRITE_UNIT
        + p.functions.read_units * price::DYNAMODB_READ_UNIT;
    let sends = p.sqs_sends() as f64 * price::SQS_REQUEST;
    let mapping = p.sqs_mapping() as f64 * price::SQS_REQUEST;
    let requests = p.invocations.len() as f64 * price::LAMBDA_REQUEST;
    let duration = |of| p.gb_seconds(of) * price::LAMBDA_GB_SECOND;
    let estimated = duration(Invocation::estimated_gb_seconds);
    let measured = duration(Invocation::measured_gb_seconds);
    let total = p.s3.dollars() + dynamodb + sends + mapping + requests + estimated;
    println!(
        "  $ per million objects: S3 {:.4}, DynamoDB {:.4}, SQS {:.4} (functions' sends {:.4}, event source mapping {:.4}), Lambda {:.4} (requests {:.4}, duration {:.4}; {:.4} at moto's durations); total {:.4}",
        p.per_m(p.s3.dollars()),
        p.per_m(dynamodb),
        p.per_m(sends + mapping),
        p.per_m(sends),
        p.per_m(mapping),
        p.per_m(requests + estimated),
        p.per_m(requests),
        p.per_m(estimated),
        p.per_m(measured),
        p.per_m(total)
    );
}

fn print_phase(p: &Phase) {
    println!(
        "{}: {} objects, {} tasks created, {} Lambda invocations",
        p.name,
        p.objects,
        p.created,
        p.invocations.len()
    );
    print_requests(p);
    print_hot_keys(p);
    print_prices(p);
    print_check(p);
}

/// The counting clients' requests beside moto's record of them, operation by operation.
fn print_check(p: &Phase) {
    let mut counted = p.functions.requests.clone();
    for (target, n) in &p.poller.requests {
        *counted.entry(target.clone()).or_default() += n;
    }
    let targets: std::collections::BTreeSet<&String> =
        counted.keys().chain(p.recorded.keys()).collect();
    let differing: Vec<String> = targets
        .into_iter()
        .filter(|t| counted.get(*t) != p.recorded.get(*t))
        .map(|t| {
            let (ours, moto) = (counted.get(t), p.recorded.get(t));
            format!(
                "{t} {} counted, {} recorded",
                ours.unwrap_or(&0),
                moto.unwrap_or(&0)
            )
        })
        .collect();
    let total: u64 = p.recorded.values().sum();
    match differing.is_empty() {
        true => println!("  check: moto recorded the same {total} DynamoDB and SQS requests"),
        false => println!(
            "  check: moto recorded {total}; differing: {}",
            differing.join("; ")
        ),
    }
}

fn print_notes(functions: &Functions) {
    let memory = |f: Function| format!("{} {} MB", f.name, f.memory_mb);
    println!(
        "notes: Lambda memory from infra/template.yaml: {}, {}, {}. moto answers DynamoDB far slower than AWS (it copies tables in every transaction), so measured GB-s are inflated; the estimate keeps each handler's own time and S3 listing as measured and counts {} ms a DynamoDB/SQS request. Lambda's event source mapping's receives and deletes are billed to the account as SQS requests (AWS Knowledge Center, \"Why are my Amazon SQS charges higher than expected?\"); they are priced as this loop makes them (a receive a batch, a DeleteMessage a record), and idle long polling is a per-hour cost left out.",
        memory(functions.api),
        memory(functions.fanout),
        memory(functions.ingest),
        AWS_REQUEST_TIME.as_millis()
    );
}

#[tokio::main]
async fn main() {
    let objects = common::env_count("BENCH_COST_OBJECTS", 2000);
    let bench = bench().await;
    let keys: Vec<(String, String)> = (0..objects)
        .map(|i| (format!("images/img{i:06}.jpg"), "x".to_owned()))
        .collect();
    let keys: Vec<(&str, &str)> = keys.iter().map(|(k, b)| (k.as_str(), b.as_str())).collect();
    let started = Instant::now();
    let bucket = common_aws::bucket_with_objects(&bench.s3, &keys).await;
    println!(
        "cost: put {objects} objects in moto in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let (_, storage) = serverless::s3_storage(&bench.ctx, &bucket, serde_json::json!({})).await;
    for name in ["first sync", "re-sync"] {
        let started = Instant::now();
        let phase = phase(&bench, name, storage.id, &bucket).await;
        print_phase(&phase);
        println!("  ({:.1} s on moto)", started.elapsed().as_secs_f64());
    }
    print_notes(&bench.functions);
}
