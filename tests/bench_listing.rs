//! The listing bench: a synthetic bucket on the S3 listing stand-in (`common/listing_server.rs`,
//! each page after a network-like delay), listed bare by the SDK (1,000-key pages, one after
//! another), then synced in Files mode through the real local process. Prints, for keys spread
//! over prefixes and for one flat prefix: bare listing time, sync time, their ratio, tasks
//! created, the requests the stand-in served per 1,000 tasks by kind, the most lists it served
//! at once, and the server's peak RSS. Asserts nothing about time.
//!
//! `cargo bench -p labelsync-tests --bench listing` (no emulator needed). Variables:
//! `BENCH_LISTING_KEYS` (50,000), `BENCH_LISTING_PREFIXES` (50), `BENCH_LIST_LATENCY_MS` (100),
//! `BENCH_LISTING_ONLY` (`prefixes` or `flat`). Issue 13's sizes:
//! `BENCH_LISTING_KEYS=1000000 BENCH_LISTING_PREFIXES=1000`.

mod common;
#[path = "common/listing_server.rs"]
mod listing_server;
#[path = "common/listing_xml.rs"]
mod listing_xml;
#[path = "common/synthetic_bucket.rs"]
mod synthetic_bucket;

use std::time::{Duration, Instant};

use common::{Server, env_count};
use listing_server::{ListingServer, Served, latency_from_env};
use serde_json::{Value, json};
use synthetic_bucket::{Layout, SyntheticBucket};

/// One bucket to list and sync; `recursive` is the storage's `recursive_scan`.
struct Scenario {
    bucket: SyntheticBucket,
    recursive: bool,
}

/// What one scenario measured.
struct Figures {
    listed: usize,
    bare_secs: f64,
    sync_secs: f64,
    tasks: u64,
    served: Served,
    peak_rss_kib: Option<u64>,
}

fn scenarios() -> Vec<Scenario> {
    let keys = env_count("BENCH_LISTING_KEYS", 50_000);
    let prefixes = env_count("BENCH_LISTING_PREFIXES", 50).max(1);
    let only = std::env::var("BENCH_LISTING_ONLY").unwrap_or_default();
    let per_prefix = keys.div_ceil(prefixes);
    let spread = Layout::Prefixes {
        prefixes,
        per_prefix,
    };
    let all = [
        ("prefixes", spread, true),
        ("flat", Layout::Flat { keys }, false),
    ];
    all.into_iter()
        .filter(|(name, ..)| only.is_empty() || only == *name)
        .map(|(name, layout, recursive)| Scenario {
            bucket: SyntheticBucket::new(name, "data/", layout),
            recursive,
        })
        .collect()
}

/// Keys under `data/` and seconds, listed as a bare client would: 1,000-key pages in sequence.
async fn bare_listing(client: &aws_sdk_s3::Client, bucket: &str) -> (usize, f64) {
    let started = Instant::now();
    let list = client.list_objects_v2().bucket(bucket).prefix("data/");
    let mut pages = list.max_keys(1000).into_paginator().send();
    let mut keys = 0;
    while let Some(page) = pages.next().await {
        keys += page.expect("a listing page").contents().len();
    }
    (keys, started.elapsed().as_secs_f64())
}

/// Creates the S3 source storage on the stand-in; returns its API path.
async fn storage(server: &Server, project: u64, stand_in: &str, scenario: &Scenario) -> String {
    let body = json!({"project": project, "bucket": scenario.bucket.name, "prefix": "data",
        "use_blob_urls": true, "recursive_scan": scenario.recursive, "s3_endpoint": stand_in,
        "region_name": "us-east-1", "aws_access_key_id": "test", "aws_secret_access_key": "test"});
    let (status, storage) = server.post_json("/api/storages/s3", body).await;
    assert_eq!(status, 201, "{storage}");
    format!("/api/storages/s3/{}", storage["id"])
}

/// Starts a sync and polls until its status is final; returns the storage and the seconds.
async fn timed_sync(server: &Server, path: &str, keys: usize) -> (Value, f64) {
    let deadline = Duration::from_secs(600 + keys as u64 / 100);
    let started = Instant::now();
    let (status, body) = server.post_json(&format!("{path}/sync"), json!({})).await;
    assert_eq!(status, 200, "{body}");
    loop {
        let (_, storage) = server.get_json(path).await;
        let status = storage["status"].as_str().unwrap_or_default();
        if matches!(status, "completed" | "completed_with_errors" | "failed") {
            return (storage, started.elapsed().as_secs_f64());
        }
        assert!(started.elapsed() < deadline, "sync unfinished: {storage}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The project's task count, as the task list totals it.
async fn task_total(server: &Server, project: u64) -> u64 {
    let path = format!("/api/tasks?project={project}&page=1&page_size=1");
    let (status, body) = server.get_json(&path).await;
    assert_eq!(status, 200, "{body}");
    body["total"].as_u64().expect("total")
}

async fn run(scenario: &Scenario, stand_in: &ListingServer) -> Figures {
    let client = stand_in.sdk_client();
    let (listed, bare_secs) = bare_listing(&client, &scenario.bucket.name).await;
    let server = Server::start_with(&[("LABELSYNC_ALLOW_PRIVATE_ENDPOINTS", "true")]);
    let project = server.project().await;
    let path = storage(&server, project, &stand_in.endpoint, scenario).await;
    stand_in.reset_counts();
    let (done, sync_secs) = timed_sync(&server, &path, listed).await;
    let served = stand_in.served();
    assert_eq!(done["status"], "completed", "{done}");
    Figures {
        listed,
        bare_secs,
        sync_secs,
        tasks: task_total(&server, project).await,
        served,
        peak_rss_kib: server.peak_rss_kib(),
    }
}

fn report(scenario: &Scenario, figures: &Figures) {
    let per_1000 = |n: u64| n as f64 * 1000.0 / figures.tasks.max(1) as f64;
    let served = &figures.served;
    let rss = figures.peak_rss_kib.map_or(0.0, |k| k as f64 / 1024.0);
    println!(
        "listing {} ({:?}): {} keys | bare listing {:.2} s | sync {:.2} s, {:.0} tasks/s, {:.2}x the listing | {} tasks",
        scenario.bucket.name,
        scenario.bucket.layout,
        figures.listed,
        figures.bare_secs,
        figures.sync_secs,
        figures.tasks as f64 / figures.sync_secs,
        figures.sync_secs / figures.bare_secs,
        figures.tasks,
    );
    println!(
        "  per 1,000 tasks: {:.2} list, {:.2} head, {:.2} get, {:.2} other | at most {} lists at once | server peak RSS {rss:.1} MiB",
        per_1000(served.list),
        per_1000(served.head),
        per_1000(served.get),
        per_1000(served.other),
        served.peak_concurrent_lists,
    );
}

#[tokio::main]
async fn main() {
    let scenarios = scenarios();
    let latency = latency_from_env();
    let buckets = scenarios.iter().map(|s| s.bucket.clone()).collect();
    let stand_in = ListingServer::start(buckets, latency).await;
    println!("listing stand-in: {latency:?} a list page");
    for scenario in &scenarios {
        let figures = run(scenario, &stand_in).await;
        report(scenario, &figures);
    }
}
