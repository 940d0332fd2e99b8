//! The hostile servers of the security suite ([`hostile`]) do what those tests rely on: each
//! listens on the loopback address it is given, answers as described and records what it saw.
//! Driven with reqwest and raw TCP, plus labelsync's own Databricks and Redis clients where the
//! suite will use them, so the wire shapes are the ones those clients speak.

#[path = "common/hostile.rs"]
mod hostile;

use std::time::{Duration, Instant};

use hostile::{CannedResponse, EndlessDirectories, FakeRedis, Recorder, Redirector};
use labelsync::backends::{ListRequest, ObjectStore};
use labelsync::connectors::databricks::backend::{DatabricksBackend, VolumeTarget};
use labelsync::connectors::redis::backend::{RedisBackend, RedisTarget};
use labelsync::egress::{EgressPolicy, Guard};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
}

/// Waits (5 s at most) until `count()` reaches `n`: the servers count a connection when their
/// accept loop gets to it, a moment after the client's connect returns.
async fn wait_for(n: usize, count: impl Fn() -> usize) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while count() < n {
        assert!(Instant::now() < deadline, "{} of {n} seen", count());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn recorder_records_requests_and_counts_silent_connections() {
    let recorder = Recorder::start("127.0.0.2:0").await;
    assert!(
        recorder.url().starts_with("http://127.0.0.2:"),
        "{}",
        recorder.url()
    );

    let silent = TcpStream::connect(recorder.addr()).await.unwrap();
    wait_for(1, || recorder.connections()).await;
    assert!(recorder.requests().is_empty());

    let response = reqwest::Client::new()
        .post(format!("{}/steal/me?x=1", recorder.url()))
        .header("Authorization", "Bearer s3cret")
        .header("X-Extra", "yes")
        .body("payload")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "{}");
    drop(silent);

    let requests = recorder.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path_and_query, "/steal/me?x=1");
    assert_eq!(request.header("x-extra"), Some("yes"));
    assert_eq!(request.body, b"payload");
    assert_eq!(recorder.authorization_headers(), ["Bearer s3cret"]);
    assert_eq!(recorder.connections(), 2);
}

#[tokio::test]
async fn recorder_gives_its_canned_response() {
    let canned =
        CannedResponse::json(401, json!({"error": "no"})).header("WWW-Authenticate", "Bearer");
    let recorder = Recorder::start_with("127.0.0.3:0", canned).await;
    let response = reqwest::get(format!("{}/anything", recorder.url()))
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({"error": "no"}));
    assert!(recorder.authorization_headers().is_empty());
}

#[tokio::test]
async fn redirector_lists_a_file_and_redirects_every_file() {
    let target = "http://127.0.0.9:1/internal";
    let redirector = Redirector::start("127.0.0.4:0", target).await;
    let http = no_redirects();

    let listing: Value = http
        .get(format!(
            "{}/api/2.0/fs/directories/Volumes/c/s/v?page_size=1000",
            redirector.url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listing["contents"][0]["path"], "/Volumes/c/s/v/a.txt");
    assert_eq!(listing["contents"][0]["file_size"], 10);

    for method in [reqwest::Method::GET, reqwest::Method::HEAD] {
        let url = format!("{}/api/2.0/fs/files/Volumes/c/s/v/a.txt", redirector.url());
        let response = http.request(method.clone(), url).send().await.unwrap();
        assert_eq!(response.status(), 302, "{method}");
        assert_eq!(response.headers()["location"], target, "{method}");
    }
    assert_eq!(redirector.requests().len(), 3);

    // labelsync's client reads the listing as the file it is.
    let page = databricks(&redirector.url())
        .list_page(ListRequest {
            prefix: "",
            recursive: true,
            continuation: None,
            start_after: None,
            max_keys: 10,
        })
        .await
        .unwrap();
    let listed: Vec<_> = page
        .objects
        .iter()
        .map(|o| (o.key.as_str(), o.size))
        .collect();
    assert_eq!(listed, [("a.txt", 10)]);
}

fn databricks(host: &str) -> DatabricksBackend {
    DatabricksBackend::new(&VolumeTarget {
        guard: Guard::new(EgressPolicy::allow_all()),
        host,
        token: "dapi-hostile",
        catalog: "c",
        schema: "s",
        volume: "v",
        timeout: Duration::from_secs(5),
        verify_tls: true,
    })
    .expect("client")
}

#[tokio::test]
async fn endless_directories_go_ever_deeper() {
    let server = EndlessDirectories::start("127.0.0.5:0").await;
    let http = reqwest::Client::new();
    let mut dir = "/Volumes/c/s/v".to_owned();
    for depth in 1..=5 {
        let url = format!(
            "{}/api/2.0/fs/directories{dir}?page_size=1000",
            server.url()
        );
        let page: Value = http.get(url).send().await.unwrap().json().await.unwrap();
        let child = &page["contents"][0];
        assert_eq!(page["contents"].as_array().unwrap().len(), 1);
        assert_eq!(
            (&child["name"], &child["is_directory"]),
            (&json!("d"), &json!(true))
        );
        assert!(page.get("next_page_token").is_none());
        let deeper = child["path"].as_str().unwrap().to_owned();
        assert_eq!(deeper, format!("{dir}/d"));
        dir = deeper;
        assert_eq!(server.listings(), depth);
    }
}

#[tokio::test]
async fn wide_directories_never_run_out_of_pages() {
    let server = EndlessDirectories::wide("127.0.0.6:0", 3).await;
    let http = reqwest::Client::new();
    let base = format!(
        "{}/api/2.0/fs/directories/Volumes/c/s/v?page_size=1000",
        server.url()
    );
    let mut names = std::collections::BTreeSet::new();
    let mut token: Option<String> = None;
    for _ in 0..4 {
        let url = match &token {
            Some(token) => format!("{base}&page_token={token}"),
            None => base.clone(),
        };
        let page: Value = http.get(url).send().await.unwrap().json().await.unwrap();
        let contents = page["contents"].as_array().unwrap();
        assert_eq!(contents.len(), 3);
        for entry in contents {
            assert_eq!(entry["is_directory"], false);
            assert!(names.insert(entry["name"].as_str().unwrap().to_owned()));
        }
        token = Some(
            page["next_page_token"]
                .as_str()
                .expect("another page")
                .to_owned(),
        );
    }
    assert_eq!((names.len(), server.listings()), (12, 4));
}

#[tokio::test]
async fn fake_redis_records_auth_and_answers_resp() {
    let redis = FakeRedis::start("127.0.0.7:0").await;
    assert!(redis.addr().ip().to_string() == "127.0.0.7");

    let mut stream = TcpStream::connect(redis.addr()).await.unwrap();
    let sent: &[u8] =
        b"*2\r\n$4\r\nAUTH\r\n$6\r\nsecret\r\nPING\r\n*2\r\n$4\r\nSCAN\r\n$1\r\n0\r\n\
                        *2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
    // In two writes, split inside a bulk string.
    stream.write_all(&sent[..10]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    stream.write_all(&sent[10..]).await.unwrap();
    let expected: &[u8] = b"+OK\r\n+PONG\r\n*2\r\n$1\r\n0\r\n*0\r\n$-1\r\n";
    let mut answer = vec![0; expected.len()];
    tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut answer))
        .await
        .expect("answers in time")
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&answer),
        String::from_utf8_lossy(expected)
    );
    assert_eq!(redis.received(), sent);
    assert_eq!(redis.commands()[0], ["AUTH", "secret"]);
    assert_eq!(redis.connections(), 1);

    // labelsync's client connects, authenticates and lists against it.
    let backend = RedisBackend::new(&RedisTarget {
        guard: Guard::new(EgressPolicy::allow_all()),
        host: "127.0.0.7",
        port: redis.addr().port(),
        password: Some("p@ss word"),
        db: 2,
    })
    .unwrap();
    backend.ping().await.expect("PING through the fake");
    let page = backend
        .list_page(ListRequest {
            prefix: "",
            recursive: true,
            continuation: None,
            start_after: None,
            max_keys: 10,
        })
        .await
        .expect("SCAN through the fake");
    assert!(page.objects.is_empty());
    let commands = redis.commands();
    assert!(
        commands.contains(&vec!["AUTH".to_owned(), "p@ss word".to_owned()]),
        "{commands:?}"
    );
    assert!(
        commands.contains(&vec!["SELECT".to_owned(), "2".to_owned()]),
        "{commands:?}"
    );
    let received = redis.received();
    assert!(received.windows(9).any(|w| w == b"p@ss word"));
}
