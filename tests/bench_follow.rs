//! The followed-directory benchmark: a local-files storage with `follow_directory` and
//! `removed_objects: delete_unlabeled`; files are written one at a time, each timed from its
//! write (closed) to its task showing in the API, then deleted one at a time, each timed to its
//! task's disappearance. Prints p50, p95 and max of both.
//!
//! `cargo bench -p labelsync-tests --bench follow` (`BENCH_FOLLOW` files, default 200).

mod common;

use std::time::{Duration, Instant};

use common::{Server, env_count, write};
use serde_json::json;

#[tokio::main]
async fn main() {
    let files = env_count("BENCH_FOLLOW", 200);
    let server = Server::start();
    let project = server.project().await;
    let dir = server.dir("followed");
    let fields = json!({"use_blob_urls": true, "follow_directory": true,
        "removed_objects": "delete_unlabeled"});
    server.local_import(project, &dir, fields).await;
    // A first file, written until the watch is on (it starts within seconds); not timed.
    let deadline = Instant::now() + Duration::from_secs(60);
    while server.tasks(project).await.is_empty() {
        assert!(Instant::now() < deadline, "the directory is not followed");
        write(&dir.join("warm-up.png"), "png");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let mut written = Vec::with_capacity(files);
    for i in 0..files {
        let start = Instant::now();
        write(&dir.join(format!("f{i:05}.png")), "png");
        until_tasks(&server, project, i + 2).await;
        written.push(start.elapsed());
    }
    let mut removed = Vec::with_capacity(files);
    for i in 0..files {
        let start = Instant::now();
        std::fs::remove_file(dir.join(format!("f{i:05}.png"))).expect("remove");
        until_tasks(&server, project, files - i).await;
        removed.push(start.elapsed());
    }
    println!(
        "{files} files in a followed directory: write to task {}; delete to task gone {}",
        summary(&mut written),
        summary(&mut removed)
    );
}

/// Polls the API until the project has exactly `count` tasks.
async fn until_tasks(server: &Server, project: u64, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while server.tasks(project).await.len() != count {
        assert!(Instant::now() < deadline, "never reached {count} tasks");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

fn summary(latencies: &mut [Duration]) -> String {
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        ms(at(0.5)),
        ms(at(0.95)),
        ms(at(1.0))
    )
}
