//! The annotation benchmark: a fresh local process with one local-files target storage takes
//! annotation creates from concurrent clients; prints creates/s (each a 201, durable with its
//! export queued), the time until every annotation is exported, and the peak RSS.
//!
//! `cargo bench -p labelsync-tests --bench annotations` (`BENCH_ANNOTATIONS` creates, default
//! 5,000; `BENCH_CLIENTS` concurrent clients, default 8).

mod common;

use std::time::{Duration, Instant};

use common::{Server, env_count};
use futures::StreamExt;
use serde_json::json;

#[tokio::main]
async fn main() {
    let total = env_count("BENCH_ANNOTATIONS", 5000);
    let clients = env_count("BENCH_CLIENTS", 8);
    let server = Server::start_with(&[("RUST_LOG", "error")]);
    let (_, task, out) = server.task_with_local_target().await;

    let started = Instant::now();
    let creates = (0..total).map(|_| {
        server.post(
            &format!("/api/tasks/{task}/annotations"),
            json!({"result": [{"type": "choices", "value": {"choices": ["a"]}}]}),
        )
    });
    let ids: Vec<u64> = futures::stream::iter(creates)
        .map(|request| async move {
            let response = request.send().await.expect("the server answers");
            assert_eq!(response.status(), 201);
            let body: serde_json::Value = response.json().await.expect("JSON");
            body["id"].as_u64().expect("annotation id")
        })
        .buffer_unordered(clients)
        .collect()
        .await;
    let created = started.elapsed();
    while !ids.iter().all(|id| out.join(id.to_string()).exists()) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let exported = started.elapsed();
    let rate = total as f64 / created.as_secs_f64();
    let peak = server.peak_rss_kib().unwrap_or(0) as f64 / 1024.0;
    println!(
        "{total} annotation creates, {clients} clients, export to local files on: {rate:.0} creates/s ({:.2} s); all exported after {:.2} s; peak RSS {peak:.1} MiB",
        created.as_secs_f64(),
        exported.as_secs_f64()
    );
}
