//! The S3 sync benchmark: a bucket of N objects in moto, synced in Files mode through the real
//! local process, beside the same bucket's bare paginated listing (ListObjectsV2, 1000 keys a
//! page). The ratio says what a sync costs beyond listing the bucket.
//!
//! `cargo bench -p labelsync-tests --bench s3` (needs `.venv-test` from `tests/run`).
//! `BENCH_S3_OBJECTS=10000,100000` (the default) sets the bucket sizes; filling moto runs at a
//! few hundred puts/s, so 100,000 objects take several minutes to prepare.

mod common;
#[path = "common/aws.rs"]
mod common_aws;
#[path = "common/emulators.rs"]
mod emulators;

use std::time::Instant;

use aws_sdk_s3::primitives::ByteStream;
use common::Server;
use futures::StreamExt;
use serde_json::{Value, json};

fn sizes() -> Vec<usize> {
    let text = std::env::var("BENCH_S3_OBJECTS").unwrap_or_else(|_| "10000,100000".into());
    text.split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect()
}

async fn s3() -> aws_sdk_s3::Client {
    let sdk = common_aws::moto_sdk().await;
    let config = aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true);
    aws_sdk_s3::Client::from_conf(config.build())
}

async fn fill(client: &aws_sdk_s3::Client, objects: usize) -> String {
    let bucket = emulators::unique("bench");
    client.create_bucket().bucket(&bucket).send().await.unwrap();
    let puts = (0..objects).map(|i| {
        let (client, bucket) = (client.clone(), bucket.clone());
        async move {
            let put = client
                .put_object()
                .bucket(bucket)
                .key(format!("img/{i:07}.jpg"));
            put.body(ByteStream::from_static(b"x")).send().await
        }
    });
    let failed = futures::stream::iter(puts)
        .buffer_unordered(32)
        .filter(|r| std::future::ready(r.is_err()))
        .count()
        .await;
    assert_eq!(failed, 0, "every put succeeded");
    bucket
}

/// Seconds to list every key under `img/` the way a bare client would.
async fn bare_listing(client: &aws_sdk_s3::Client, bucket: &str) -> (usize, f64) {
    let started = Instant::now();
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix("img/")
        .max_keys(1000)
        .into_paginator()
        .send();
    let mut keys = 0;
    while let Some(page) = pages.next().await {
        keys += page.unwrap().contents().len();
    }
    (keys, started.elapsed().as_secs_f64())
}

async fn timed_sync(server: &Server, path: &str) -> (u64, f64) {
    let started = Instant::now();
    let done: Value = server.sync(path).await;
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(done["status"], "completed", "{done}");
    (done["last_sync_count"].as_u64().unwrap_or(0), secs)
}

#[tokio::main]
async fn main() {
    let client = s3().await;
    let server = Server::start_with(&[("LABELSYNC_ALLOW_PRIVATE_ENDPOINTS", "true")]);
    let project = server.project().await;
    for objects in sizes() {
        let started = Instant::now();
        let bucket = fill(&client, objects).await;
        println!(
            "s3: put {objects} objects in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        let (listed, list_secs) = bare_listing(&client, &bucket).await;
        let body = json!({"project": project, "bucket": bucket, "prefix": "img", "use_blob_urls": true,
            "s3_endpoint": emulators::moto().endpoint, "region_name": "us-east-1",
            "aws_access_key_id": "test", "aws_secret_access_key": "test"});
        let (status, storage) = server.post_json("/api/storages/s3", body).await;
        assert_eq!(status, 201, "{storage}");
        let path = format!("/api/storages/s3/{}", storage["id"]);
        let (created, sync_secs) = timed_sync(&server, &path).await;
        let (_, resync_secs) = timed_sync(&server, &path).await;
        println!(
            "s3 {objects}: bare listing {listed} keys {list_secs:.2} s | sync {created} tasks {sync_secs:.2} s = {:.0} tasks/s, {:.2}x the listing | re-sync {resync_secs:.2} s, {:.2}x",
            created as f64 / sync_secs,
            sync_secs / list_secs,
            resync_secs / list_secs,
        );
    }
    if let Some(kib) = server.peak_rss_kib() {
        println!("server peak RSS: {:.1} MiB", kib as f64 / 1024.0);
    }
}
