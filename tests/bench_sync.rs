//! The sync benchmark: N files (Files mode) and an N-line JSONL (Tasks mode) synced through the
//! real local process; prints tasks/s, the re-sync time and the server's peak RSS.
//!
//! `cargo bench -p labelsync-tests --bench sync` (N = 100,000; `BENCH_FILES`, `BENCH_LINES`
//! change it).

mod common;

use std::io::Write;
use std::time::Instant;

use common::{Server, env_count};
use serde_json::{Value, json};

#[tokio::main]
async fn main() {
    let files = env_count("BENCH_FILES", 100_000);
    let lines = env_count("BENCH_LINES", 100_000);
    let server = Server::start();
    let project = server.project().await;

    let started = Instant::now();
    let dir = server.dir("files");
    for i in 0..files {
        std::fs::write(dir.join(format!("image-{i:07}.jpg")), b"x").expect("write file");
    }
    println!(
        "made {files} files in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let storage = server
        .local_import(project, &dir, json!({"use_blob_urls": true}))
        .await;
    let path = format!("/api/storages/localfiles/{}", storage["id"]);
    let (created, secs) = timed_sync(&server, &path).await;
    println!(
        "files mode: {created} tasks in {secs:.2} s = {:.0} tasks/s",
        created as f64 / secs
    );
    let (again, resync_secs) = timed_sync(&server, &path).await;
    println!(
        "re-sync of {files} files: {again} new tasks in {resync_secs:.2} s ({:.0} keys/s)",
        files as f64 / resync_secs
    );

    let jsonl_dir = server.dir("jsonl");
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(jsonl_dir.join("tasks.jsonl")).expect("create jsonl"),
    );
    for i in 0..lines {
        writeln!(out, r#"{{"text": "line {i}", "meta_n": {i}}}"#).expect("write line");
    }
    out.flush().expect("flush");
    drop(out);
    let storage = server.local_import(project, &jsonl_dir, json!({})).await;
    let path = format!("/api/storages/localfiles/{}", storage["id"]);
    let (created, secs) = timed_sync(&server, &path).await;
    println!(
        "jsonl tasks mode: {created} tasks in {secs:.2} s = {:.0} tasks/s",
        created as f64 / secs
    );
    let (_, resync_secs) = timed_sync(&server, &path).await;
    println!("re-sync of the {lines}-line jsonl: {resync_secs:.2} s");
    match server.peak_rss_kib() {
        Some(kib) => println!("server peak RSS: {:.1} MiB", kib as f64 / 1024.0),
        None => println!("server peak RSS: unavailable (no /proc)"),
    }
}

async fn timed_sync(server: &Server, path: &str) -> (u64, f64) {
    let started = Instant::now();
    let done: Value = server.sync(path).await;
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(done["status"], "completed", "{done}");
    (done["last_sync_count"].as_u64().unwrap_or(0), secs)
}
