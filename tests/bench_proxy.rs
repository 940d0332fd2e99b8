//! The proxied-read benchmark: one 64 KiB object in a moto bucket, an S3 source storage that
//! streams it through labelsync (`presign: false`), and 300 reads of its media URL from task
//! data (signed, no header) over ONE kept-alive connection, then 300 reads of the same object
//! straight from moto, also over one connection. Prints p50, p95 and p99 of each and the
//! ratios the goals name: proxied p99 / proxied p50 (goal ≤ 2), proxied p50 / direct p50
//! (goal ≤ 1.25).
//!
//! `cargo bench -p labelsync-tests --bench proxy` (`BENCH_PROXY_READS`, default 300;
//! `BENCH_PROXY_KIB`, default 64).

mod common;
#[path = "common/aws.rs"]
mod common_aws;
#[path = "common/emulators.rs"]
mod emulators;

use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use common::{Server, env_count};
use serde_json::json;

#[tokio::main]
async fn main() {
    let reads = env_count("BENCH_PROXY_READS", 300);
    let size = env_count("BENCH_PROXY_KIB", 64) * 1024;
    let server = Server::start_with(&[("LABELSYNC_ALLOW_PRIVATE_ENDPOINTS", "true")]);
    let bucket = emulators::unique("bench-proxy");
    let s3 = common_aws::moto_s3(&common_aws::moto_sdk().await);
    s3.create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("bucket");
    let body = ByteStream::from(vec![7u8; size]);
    s3.put_object()
        .bucket(&bucket)
        .key("frame.jpg")
        .body(body)
        .send()
        .await
        .expect("put");
    let media = media_url(&server, &bucket).await;

    let one_connection = || {
        reqwest::Client::builder()
            .http1_only()
            .pool_max_idle_per_host(1)
            .build()
            .unwrap()
    };
    let proxied = timed_reads(&one_connection(), &server.url(&media), reads, size).await;
    // Straight from moto: a pre-signed URL of the object, over the same kind of connection.
    let presigning =
        aws_sdk_s3::presigning::PresigningConfig::expires_in(Duration::from_secs(3600));
    let direct_url = s3
        .get_object()
        .bucket(&bucket)
        .key("frame.jpg")
        .presigned(presigning.expect("a presigning config"))
        .await
        .expect("a pre-signed URL");
    let direct = timed_reads(&one_connection(), direct_url.uri(), reads, size).await;
    let sdk = sdk_reads(&s3, &bucket, reads, size).await;
    let (p, d) = (Quantiles::of(proxied), Quantiles::of(direct));
    println!(
        "{reads} reads of a {} KiB object over one kept-alive connection",
        size / 1024
    );
    println!("  proxied by labelsync: {p}");
    println!("  straight from moto:   {d}");
    let sdk = Quantiles::of(sdk);
    println!("  moto through the AWS SDK, as labelsync reads it: {sdk}");
    println!(
        "  proxied p99 / p50 = {:.2} (goal <= 2); proxied p50 / direct p50 = {:.2} (goal <= 1.25)",
        p.p99 / p.p50,
        p.p50 / d.p50
    );
}

/// A synced storage's task, and the (signed) media URL in its data.
async fn media_url(server: &Server, bucket: &str) -> String {
    let project = server.project().await;
    let (status, storage) = server
        .post_json(
            "/api/storages/s3",
            json!({"project": project, "bucket": bucket, "use_blob_urls": true, "presign": false,
                   "s3_endpoint": emulators::moto().endpoint, "region_name": "us-east-1",
                   "aws_access_key_id": "test", "aws_secret_access_key": "test"}),
        )
        .await;
    assert_eq!(status, 201, "{storage}");
    server
        .sync(&format!("/api/storages/s3/{}", storage["id"]))
        .await;
    let task = server.tasks(project).await.remove(0);
    task["data"]["image"]
        .as_str()
        .expect("a media URL")
        .to_owned()
}

/// Reads `url` `reads` times, one after another, after one untimed read; each read's time to
/// its last byte.
async fn timed_reads(
    client: &reqwest::Client,
    url: &str,
    reads: usize,
    size: usize,
) -> Vec<Duration> {
    let read = || async {
        let response = client.get(url).send().await.expect("a response");
        assert_eq!(response.status(), 200, "{url}");
        let body = response.bytes().await.expect("a body");
        assert_eq!(body.len(), size);
    };
    read().await;
    let mut times = Vec::with_capacity(reads);
    for _ in 0..reads {
        let start = Instant::now();
        read().await;
        times.push(start.elapsed());
    }
    times
}

/// The same reads through the AWS SDK's GetObject (what labelsync does for each proxied read).
async fn sdk_reads(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    reads: usize,
    size: usize,
) -> Vec<Duration> {
    let mut times = Vec::with_capacity(reads);
    for _ in 0..=reads {
        let start = Instant::now();
        let object = s3
            .get_object()
            .bucket(bucket)
            .key("frame.jpg")
            .send()
            .await
            .expect("get");
        let body = object.body.collect().await.expect("a body").into_bytes();
        assert_eq!(body.len(), size);
        times.push(start.elapsed());
    }
    times.remove(0);
    times
}

struct Quantiles {
    p50: f64,
    p95: f64,
    p99: f64,
}

impl Quantiles {
    fn of(mut times: Vec<Duration>) -> Self {
        times.sort();
        let at = |q: f64| {
            let index = ((times.len() as f64 * q) as usize).min(times.len() - 1);
            times[index].as_secs_f64() * 1000.0
        };
        Quantiles {
            p50: at(0.5),
            p95: at(0.95),
            p99: at(0.99),
        }
    }
}

impl std::fmt::Display for Quantiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms",
            self.p50, self.p95, self.p99
        )
    }
}
