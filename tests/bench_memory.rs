//! The memory benchmark: each input synced in Tasks mode by a fresh local process, whose peak
//! RSS (VmHWM) is printed with the time, the tasks created and the errors counted.
//!
//! `cargo bench -p labelsync-tests --bench memory` (`BENCH_MEMORY_MB` scales the two 200 MB
//! inputs, `BENCH_MEMORY_ONLY=<name>` runs one input).

mod common;

use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use common::Server;
use serde_json::{Value, json};

const MB: usize = 1_000_000;

/// One input: a name and a writer for its file.
struct Input {
    name: &'static str,
    file: &'static str,
    write: fn(&Path, usize),
}

fn main() {
    let big = std::env::var("BENCH_MEMORY_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
        * MB;
    let only = std::env::var("BENCH_MEMORY_ONLY").ok();
    let inputs = [
        Input {
            name: "json-array",
            file: "tasks.json",
            write: write_array,
        },
        Input {
            name: "jsonl",
            file: "tasks.jsonl",
            write: write_lines,
        },
        Input {
            name: "object-50mb",
            file: "object.json",
            write: |path, _| write_object(path, 50 * MB),
        },
        Input {
            name: "object-4mb",
            file: "object.json",
            write: |path, _| write_object(path, 4 * MB),
        },
        Input {
            name: "ones-4mb",
            file: "ones.json",
            write: |path, _| write_ones(path, 4 * MB),
        },
        Input {
            name: "bad-lines",
            file: "bad.jsonl",
            write: |path, _| write_bad_lines(path, 2_000_000),
        },
    ];
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    for input in inputs {
        if only.as_deref().is_some_and(|name| name != input.name) {
            continue;
        }
        runtime.block_on(measure(&input, big));
    }
}

async fn measure(input: &Input, size: usize) {
    let server = Server::start();
    let project = server.project().await;
    let dir = server.dir(input.name);
    let path = dir.join(input.file);
    (input.write)(&path, size);
    let bytes = std::fs::metadata(&path).expect("input written").len();
    let storage = server.local_import(project, &dir, json!({})).await;
    let storage_path = format!("/api/storages/localfiles/{}", storage["id"]);
    let started = Instant::now();
    let done: Value = server.sync(&storage_path).await;
    let secs = started.elapsed().as_secs_f64();
    let peak = server
        .peak_rss_kib()
        .map_or("unavailable".to_owned(), |kib| {
            format!("{:.1} MiB", kib as f64 / 1024.0)
        });
    let first_error = done["traceback"]
        .as_str()
        .and_then(|t| t.lines().next())
        .unwrap_or("")
        .chars()
        .take(160)
        .collect::<String>();
    println!(
        "{:<12} {:>6.1} MB: peak RSS {peak}, {} in {secs:.1} s, {} tasks, {} errors {first_error}",
        input.name,
        bytes as f64 / MB as f64,
        done["status"],
        done["last_sync_count"],
        done["meta"]["tasks_failed_validation"],
    );
}

/// A task of about 500 bytes.
fn task(n: usize) -> Value {
    json!({
        "text": format!("item {n}: {}", "lorem ipsum dolor sit amet ".repeat(16)),
        "n": n,
        "tags": ["a", "b", "c"],
        "source": {"batch": n / 1000, "ok": true},
    })
}

fn write_array(path: &Path, size: usize) {
    let mut out = BufWriter::new(std::fs::File::create(path).expect("create"));
    out.write_all(b"[\n").expect("write");
    let mut written = 2;
    let mut n = 0;
    while written < size {
        let item = serde_json::to_vec(&task(n)).expect("json");
        if n > 0 {
            out.write_all(b",\n").expect("write");
        }
        out.write_all(&item).expect("write");
        written += item.len() + 2;
        n += 1;
    }
    out.write_all(b"\n]\n").expect("write");
    out.flush().expect("flush");
}

fn write_lines(path: &Path, size: usize) {
    let mut out = BufWriter::new(std::fs::File::create(path).expect("create"));
    let mut written = 0;
    let mut n = 0;
    while written < size {
        let item = serde_json::to_vec(&task(n)).expect("json");
        out.write_all(&item).expect("write");
        out.write_all(b"\n").expect("write");
        written += item.len() + 1;
        n += 1;
    }
    out.flush().expect("flush");
}

/// One pretty-printed task of about `size` bytes whose data holds many small records.
fn write_object(path: &Path, size: usize) {
    let record = |n: usize| json!({"id": n, "label": format!("r{n}"), "score": 0.5, "ok": true});
    let object = |count: usize| {
        let records: Vec<Value> = (0..count).map(record).collect();
        json!({"data": {"text": "one large task", "records": records}})
    };
    let sample = serde_json::to_vec_pretty(&object(1000))
        .expect("json")
        .len();
    let file = std::fs::File::create(path).expect("create");
    let count = size * 1000 / sample;
    serde_json::to_writer_pretty(BufWriter::new(file), &object(count)).expect("write");
}

/// One task whose data is a long array of `1`s: the most values per byte.
fn write_ones(path: &Path, size: usize) {
    let mut out = BufWriter::new(std::fs::File::create(path).expect("create"));
    out.write_all(b"{\"data\": {\"v\": [1").expect("write");
    for _ in 0..size / 2 {
        out.write_all(b",1").expect("write");
    }
    out.write_all(b"]}}\n").expect("write");
    out.flush().expect("flush");
}

/// One good line, then `lines` lines that are not JSON.
fn write_bad_lines(path: &Path, lines: usize) {
    let mut out = BufWriter::new(std::fs::File::create(path).expect("create"));
    out.write_all(b"{\"n\": 0}\n").expect("write");
    for _ in 0..lines {
        out.write_all(b"x\n").expect("write");
    }
    out.flush().expect("flush");
}
