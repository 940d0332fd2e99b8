//! The object-event benchmark: a moto bucket notifies an SQS queue; the local process consumes
//! it (`LABELSYNC_EVENTS_QUEUE_URL`); 1,000 objects are put and each one's time from its put
//! returning to its task showing in the API is measured. Prints p50, p95 and max, and the list
//! calls moto saw meanwhile (counted by moto's request recorder; the goal is none).
//!
//! `cargo bench -p labelsync-tests --bench events` (`BENCH_EVENTS` objects, default 1,000).

mod common;
#[path = "common/aws.rs"]
mod common_aws;
#[path = "common/emulators.rs"]
mod emulators;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::{Server, env_count};
use futures::StreamExt;
use serde_json::json;

#[tokio::main]
async fn main() {
    let objects = env_count("BENCH_EVENTS", 1000);
    let sdk = common_aws::moto_sdk().await;
    let s3 = common_aws::moto_s3(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let bucket = emulators::unique("bench-events");
    s3.create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("bucket");
    common_aws::put_png(&s3, &bucket, "images/seed.png").await;
    let url = sqs
        .create_queue()
        .queue_name(emulators::unique("events"))
        .send()
        .await
        .expect("queue")
        .queue_url
        .expect("queue url");
    let queue = url.rsplit('/').next().expect("queue name");
    let arn = format!("arn:aws:sqs:us-east-1:123456789012:{queue}");
    common_aws::notify_queue(&s3, &bucket, &arn, &["s3:ObjectCreated:*"]).await;
    let moto = &emulators::moto().endpoint;
    let mut env = common_aws::events_queue_env(&url);
    env.push(("RUST_LOG", "error".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = Server::start_with(&env);
    let project = server.project().await;
    let fields = json!({"project": project, "bucket": bucket, "prefix": "images",
        "use_blob_urls": true, "s3_endpoint": moto, "region_name": "us-east-1",
        "aws_access_key_id": "test", "aws_secret_access_key": "test"});
    let (status, storage) = server.post_json("/api/storages/s3", fields).await;
    assert_eq!(status, 201, "{storage}");
    let http = reqwest::Client::new();
    common_aws::moto_recorder(&http, "reset-recording").await;
    common_aws::moto_recorder(&http, "start-recording").await;

    let started = Instant::now();
    let keys: Vec<String> = (0..objects).map(|i| format!("images/{i:05}.png")).collect();
    let puts = keys.iter().map(|key| {
        let (s3, bucket) = (s3.clone(), bucket.clone());
        async move {
            common_aws::put_png(&s3, &bucket, key).await;
            (key.clone(), started.elapsed())
        }
    });
    let put_at: HashMap<String, Duration> = futures::stream::iter(puts)
        .buffer_unordered(8)
        .collect()
        .await;
    let puts_took = started.elapsed();
    let mut seen_at: HashMap<String, Duration> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(300);
    while seen_at.len() < objects && Instant::now() < deadline {
        for task in server.tasks(project).await {
            let key = task["storage_filename"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            seen_at.entry(key).or_insert_with(|| started.elapsed());
        }
        // Each poll reads every task: often enough for the figures, not so often as to load
        // the server (latencies are rounded up to the next poll).
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    common_aws::moto_recorder(&http, "stop-recording").await;
    let recording = common_aws::moto_recording(&http).await;
    let lists = recording
        .lines()
        .filter(|line| {
            line.contains("\"GET\"") && line.contains(&bucket) && line.contains("list-type")
        })
        .count();
    let mut latencies: Vec<Duration> = keys
        .iter()
        .filter_map(|k| Some(seen_at.get(k)?.saturating_sub(*put_at.get(k)?)))
        .collect();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    println!(
        "{} of {objects} objects became tasks through S3 notifications (the puts took {:.1} s); put to task: p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms; list calls: {lists} of {} requests moto recorded",
        latencies.len(),
        puts_took.as_secs_f64(),
        at(0.5).as_secs_f64() * 1000.0,
        at(0.95).as_secs_f64() * 1000.0,
        at(1.0).as_secs_f64() * 1000.0,
        recording.lines().count(),
    );
}
