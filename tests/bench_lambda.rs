//! What each Lambda function costs before it handles anything: the size of its bootstrap and
//! its init time, measured locally as Lambda measures it (process start until the function asks
//! the Runtime API for its first event).
//!
//! Build the functions first, as the test command does:
//! `cargo lambda build --release`, then `cargo bench -p labelsync-tests --bench lambda`
//! (`BENCH_LAMBDA_RUNS` starts per function, default 20; `BENCH_LAMBDA_DIR` the directory of
//! the `<function>/bootstrap` files, default `target/lambda`). Prints figures, asserts nothing.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

const FUNCTIONS: [&str; 5] = [
    "storage-api",
    "uri-resolve",
    "sync-fanout",
    "task-ingest",
    "annotation-export",
];

/// The environment the SAM template gives the functions, with stand-in values: nothing is
/// called before the first event, so nothing needs to exist.
const ENV: [(&str, &str); 13] = [
    ("LABELSYNC_TABLE", "labelsync-bench"),
    ("LABELSYNC_SYNC_QUEUE_URL", "http://127.0.0.1:9/q/sync"),
    ("LABELSYNC_INGEST_QUEUE_URL", "http://127.0.0.1:9/q/ingest"),
    ("LABELSYNC_EXPORT_QUEUE_URL", "http://127.0.0.1:9/q/export"),
    ("LABELSYNC_API_TOKEN", "bench-token"),
    ("AWS_REGION", "us-east-1"),
    ("AWS_ACCESS_KEY_ID", "AKIABENCH"),
    ("AWS_SECRET_ACCESS_KEY", "bench"),
    ("AWS_LAMBDA_FUNCTION_NAME", "bench"),
    ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512"),
    ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
    ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench"),
    ("AWS_LAMBDA_LOG_STREAM_NAME", "bench"),
];

/// Milliseconds from spawning `bootstrap` to its first `GET …/invocation/next`.
async fn init_time(bootstrap: &PathBuf) -> Duration {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let api = listener.local_addr().expect("address").to_string();
    let started = Instant::now();
    let mut child = Command::new(bootstrap)
        .envs(ENV)
        .env("AWS_LAMBDA_RUNTIME_API", &api)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the bootstrap");
    let (mut stream, _) = tokio::time::timeout(Duration::from_secs(30), listener.accept())
        .await
        .expect("the function asks for an event within 30 s")
        .expect("accept");
    let mut request = [0u8; 256];
    let read = stream.read(&mut request).await.expect("read the request");
    let elapsed = started.elapsed();
    let text = String::from_utf8_lossy(&request[..read]);
    assert!(text.contains("/runtime/invocation/next"), "{text}");
    let _ = child.kill();
    let _ = child.wait();
    elapsed
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

#[tokio::main]
async fn main() {
    let runs: usize = std::env::var("BENCH_LAMBDA_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let dir = std::env::var("BENCH_LAMBDA_DIR").map_or_else(
        |_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/lambda"),
        PathBuf::from,
    );
    println!("| function | bootstrap size | init time (median of {runs}) | min | max |");
    println!("|---|---|---|---|---|");
    for function in FUNCTIONS {
        let bootstrap = dir.join(function).join("bootstrap");
        let Ok(metadata) = std::fs::metadata(&bootstrap) else {
            println!("| {function} | not built: run `cargo lambda build --release` | | | |");
            continue;
        };
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            times.push(init_time(&bootstrap).await);
        }
        let (min, max) = (times.iter().min().copied(), times.iter().max().copied());
        println!(
            "| {function} | {:.1} MiB | {:.1} ms | {:.1} ms | {:.1} ms |",
            metadata.len() as f64 / (1024.0 * 1024.0),
            median(times).as_secs_f64() * 1000.0,
            min.unwrap_or_default().as_secs_f64() * 1000.0,
            max.unwrap_or_default().as_secs_f64() * 1000.0,
        );
    }
}
