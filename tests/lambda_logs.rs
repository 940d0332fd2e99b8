//! A Lambda function's log lines, as the real `lambda_runtime` produces them: JSON, and each
//! line written during an invocation carries that invocation's request id. The runtime talks
//! to a stand-in of Lambda's Runtime API (the same HTTP protocol) that hands out two SQS events
//! and collects the responses; the handler is the `sync-trigger` one, on an embedded store.
//! (Its own binary: the runtime reads its configuration from the process environment.)

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use labelsync::config::Settings;
use labelsync::context::Context;
use labelsync::embedded_db::EmbeddedDb;
use labelsync::queue::embedded::EmbeddedQueue;
use labelsync::state::embedded::EmbeddedState;
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// The stand-in Runtime API: events to hand out, and where responses go.
#[derive(Clone)]
struct RuntimeApi {
    events: Arc<Mutex<Vec<(String, Value)>>>,
    responses: mpsc::UnboundedSender<String>,
}

async fn next_event(State(api): State<RuntimeApi>) -> (HeaderMap, String) {
    let next = api.events.lock().unwrap().pop();
    let Some((id, event)) = next else {
        // No more events: the runtime waits, as it would for traffic.
        std::future::pending::<()>().await;
        unreachable!();
    };
    let mut headers = HeaderMap::new();
    headers.insert("lambda-runtime-aws-request-id", id.parse().unwrap());
    headers.insert(
        "lambda-runtime-deadline-ms",
        "4102444800000".parse().unwrap(),
    );
    let arn = "arn:aws:lambda:us-east-1:123456789012:function:labelsync-sync-trigger";
    headers.insert("lambda-runtime-invoked-function-arn", arn.parse().unwrap());
    (headers, event.to_string())
}

async fn response(State(api): State<RuntimeApi>, Path(id): Path<String>) -> &'static str {
    let _ = api.responses.send(id);
    "{}"
}

fn sqs_event(body: &Value) -> Value {
    json!({"Records": [{"messageId": "m1", "receiptHandle": "r", "body": body.to_string(),
        "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
        "md5OfBody": "", "eventSource": "aws:sqs", "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:labelsync-events"}]})
}

fn object_created(bucket: &str) -> Value {
    json!({"version": "0", "id": "e1", "detail-type": "Object Created", "source": "aws.s3",
        "account": "123456789012", "time": "2026-12-01T00:00:00Z", "region": "us-east-1",
        "resources": [], "detail": {"bucket": {"name": bucket}, "object": {"key": "a.jpg"}}})
}

#[derive(Clone)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn every_log_line_of_an_invocation_is_json_with_its_request_id() {
    let (responses, mut answered) = mpsc::unbounded_channel();
    let events = vec![
        (
            "req-second".to_owned(),
            sqs_event(&object_created("bucket-b")),
        ),
        (
            "req-first".to_owned(),
            sqs_event(&object_created("bucket-a")),
        ),
    ];
    let api = RuntimeApi {
        events: Arc::new(Mutex::new(events)),
        responses,
    };
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next_event))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(response),
        )
        .with_state(api);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(listener, app).await });
    // SAFETY: this test binary has one test, which sets the variables before anything reads them.
    unsafe {
        std::env::set_var("AWS_LAMBDA_RUNTIME_API", &address);
        std::env::set_var("AWS_LAMBDA_FUNCTION_NAME", "labelsync-sync-trigger");
        std::env::set_var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512");
        std::env::set_var("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
        std::env::set_var("AWS_LAMBDA_LOG_STREAM_NAME", "stream");
        std::env::set_var(
            "AWS_LAMBDA_LOG_GROUP_NAME",
            "/aws/lambda/labelsync-sync-trigger",
        );
    }

    let logs = Arc::new(Mutex::new(Vec::new()));
    let writer = Capture(Arc::clone(&logs));
    // The test runs on one thread, so the thread's default subscriber sees every line.
    let _logging =
        tracing::subscriber::set_default(labelsync::lambda::log_subscriber(move || writer.clone()));
    let dir = tempfile::tempdir().unwrap();
    let db = EmbeddedDb::open(&dir.path().join("data")).unwrap();
    let state = Arc::new(EmbeddedState::new(db.clone()).unwrap());
    let queue = Arc::new(EmbeddedQueue::open(db, 5).unwrap());
    let settings = Settings::from_env(&|_: &str| None, dir.path()).unwrap();
    let ctx = Context::new(state, queue, settings);
    let ctx = &ctx;
    let runtime = lambda_runtime::run(lambda_runtime::service_fn(move |event| {
        labelsync::lambda::sqs_handler_for(ctx, labelsync::dispatch::handle_trigger, event)
    }));
    let both_answered = async {
        for expected in ["req-first", "req-second"] {
            assert_eq!(answered.recv().await.as_deref(), Some(expected));
        }
    };
    tokio::select! {
        stopped = runtime => panic!("the runtime stopped: {stopped:?}"),
        () = both_answered => {}
    }

    let text = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let handled: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "object events handled")
        .collect();
    assert_eq!(handled.len(), 2, "{text}");
    for (line, id) in handled.iter().zip(["req-first", "req-second"]) {
        assert_eq!(line["span"]["requestId"], id, "{line}");
        assert_eq!(line["level"], "INFO");
    }
}
