//! The listing bench's S3 stand-in (`common/listing_server.rs`), checked with the real AWS SDK:
//! every key exactly once and in byte order across pages, common prefixes at a delimiter,
//! `StartAfter`, HeadObject/GetObject, the request counts, and many lists served at once.

#[path = "common/listing_server.rs"]
mod listing_server;
#[path = "common/listing_xml.rs"]
mod listing_xml;
#[path = "common/synthetic_bucket.rs"]
mod synthetic_bucket;

use std::time::{Duration, Instant};

use listing_server::ListingServer;
use synthetic_bucket::{Layout, SyntheticBucket};

/// What a paginated listing returned: keys and common prefixes, in the order they came.
#[derive(Debug, Default)]
struct Listed {
    keys: Vec<String>,
    prefixes: Vec<String>,
    pages: usize,
}

async fn list_all(
    client: &aws_sdk_s3::Client,
    prefix: &str,
    delimiter: Option<&str>,
    start_after: Option<&str>,
    max_keys: i32,
) -> Listed {
    let mut pages = client
        .list_objects_v2()
        .bucket("bench")
        .prefix(prefix)
        .set_delimiter(delimiter.map(str::to_owned))
        .set_start_after(start_after.map(str::to_owned))
        .max_keys(max_keys)
        .into_paginator()
        .send();
    let mut listed = Listed::default();
    while let Some(page) = pages.next().await {
        let page = page.expect("a page");
        let keys = page.contents().iter().map(|o| o.key().unwrap().to_owned());
        let prefixes = page.common_prefixes().iter();
        let prefixes = prefixes.map(|p| p.prefix().unwrap().to_owned());
        let (before_keys, before_prefixes) = (listed.keys.len(), listed.prefixes.len());
        listed.keys.extend(keys);
        listed.prefixes.extend(prefixes);
        let count = listed.keys.len() - before_keys + listed.prefixes.len() - before_prefixes;
        assert_eq!(page.key_count(), Some(count as i32), "KeyCount");
        assert!(count <= max_keys as usize, "a page of {count} > {max_keys}");
        listed.pages += 1;
    }
    listed
}

async fn serve(layout: Layout) -> (ListingServer, SyntheticBucket) {
    let bucket = SyntheticBucket::new("bench", "data/", layout);
    let server = ListingServer::start(vec![bucket.clone()], Duration::ZERO).await;
    (server, bucket)
}

fn under(bucket: &SyntheticBucket, prefix: &str) -> Vec<String> {
    bucket.keys().filter(|k| k.starts_with(prefix)).collect()
}

#[tokio::test]
async fn a_flat_prefix_lists_every_key_once_in_order() {
    let (server, bucket) = serve(Layout::Flat { keys: 2_345 }).await;
    let client = server.sdk_client();
    let all: Vec<String> = bucket.keys().collect();
    let listed = list_all(&client, "data/", None, None, 1000).await;
    assert_eq!((listed.keys.len(), listed.pages), (2_345, 3));
    assert_eq!(listed.keys, all);
    let slashed = list_all(&client, "data/", Some("/"), None, 7).await;
    assert_eq!(slashed.keys, all, "no common prefix in a flat prefix");
    assert!(slashed.prefixes.is_empty());
    let narrow = list_all(&client, "data/k000001", None, None, 30).await;
    assert_eq!(narrow.keys, under(&bucket, "data/k000001"));
    assert_eq!(narrow.keys.len(), 100);
    let listed = server.served();
    assert_eq!((listed.list, listed.head, listed.get), (3 + 335 + 4, 0, 0));
}

#[tokio::test]
async fn prefixes_fold_into_common_prefixes_at_the_delimiter() {
    let layout = Layout::Prefixes {
        prefixes: 7,
        per_prefix: 13,
    };
    let (server, bucket) = serve(layout).await;
    let client = server.sdk_client();
    let folded = list_all(&client, "data/", Some("/"), None, 3).await;
    let expected: Vec<String> = (0..7).map(|p| format!("data/p{p:05}/")).collect();
    assert_eq!(folded.prefixes, expected, "each prefix once, across pages");
    assert!(folded.keys.is_empty());
    assert_eq!(folded.pages, 3);
    let one = list_all(&client, "data/p00003/", Some("/"), None, 5).await;
    assert_eq!(one.keys, under(&bucket, "data/p00003/"));
    assert_eq!(one.keys.len(), 13);
    let every = list_all(&client, "data/", None, None, 10).await;
    assert_eq!(every.keys, bucket.keys().collect::<Vec<_>>());
    let root = list_all(&client, "", Some("/"), None, 1000).await;
    assert_eq!(root.prefixes, ["data/"]);
}

#[tokio::test]
async fn start_after_resumes_strictly_after_the_key() {
    let layout = Layout::Prefixes {
        prefixes: 4,
        per_prefix: 25,
    };
    let (server, bucket) = serve(layout).await;
    let client = server.sdk_client();
    let all: Vec<String> = bucket.keys().collect();
    let after = list_all(&client, "data/", None, Some(&all[41]), 9).await;
    assert_eq!(after.keys, all[42..]);
    let between = format!("{}z", all[41]);
    let after = list_all(&client, "data/", None, Some(&between), 1000).await;
    assert_eq!(after.keys, all[42..], "a start-after that is no key");
    let after = list_all(&client, "data/", Some("/"), Some("data/p00001/"), 1).await;
    assert_eq!(
        after.prefixes,
        ["data/p00001/", "data/p00002/", "data/p00003/"]
    );
    let before = list_all(&client, "data/", None, Some("a"), 1000).await;
    assert_eq!(before.keys, all);
    let past = list_all(&client, "data/", None, Some("data/q"), 1000).await;
    assert!(past.keys.is_empty() && past.pages == 1, "{past:?}");
}

#[tokio::test]
async fn objects_answer_head_and_get() {
    let (server, bucket) = serve(Layout::Flat { keys: 10 }).await;
    let client = server.sdk_client();
    let key = bucket.key(3);
    let head = client.head_object().bucket("bench").key(&key);
    let head = head.send().await.expect("HeadObject");
    assert_eq!(head.content_length(), Some(bucket.size(3) as i64));
    assert_eq!(head.e_tag(), Some(bucket.etag(3).as_str()));
    let got = client.get_object().bucket("bench").key(&key).send().await;
    let body = got.expect("GetObject").body.collect().await.unwrap();
    assert_eq!(body.into_bytes().len() as u64, bucket.size(3));
    let missing = client.head_object().bucket("bench").key("data/nope").send();
    let missing = missing.await.unwrap_err().into_service_error();
    assert!(missing.is_not_found(), "{missing:?}");
    let served = server.served();
    assert_eq!((served.list, served.head, served.get), (0, 2, 1));
}

#[tokio::test]
async fn many_lists_are_served_at_once_each_after_the_latency() {
    let bucket = SyntheticBucket::new("bench", "data/", Layout::Flat { keys: 100 });
    let latency = Duration::from_millis(800);
    let server = ListingServer::start(vec![bucket], latency).await;
    let calls = (0..16).map(|_| {
        let client = server.sdk_client();
        tokio::spawn(async move {
            let started = Instant::now();
            let list = client.list_objects_v2().bucket("bench").max_keys(10);
            let page = list.send().await.expect("a page");
            (page.key_count(), started.elapsed())
        })
    });
    for call in futures::future::join_all(calls).await {
        let (count, elapsed) = call.unwrap();
        assert_eq!(count, Some(10));
        assert!(elapsed >= latency, "answered after {elapsed:?}");
    }
    assert_eq!(server.served().peak_concurrent_lists, 16);
    server.reset_counts();
    assert_eq!(server.served(), listing_server::Served::default());
}
