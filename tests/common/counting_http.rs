//! An HTTP client for the AWS SDK (`SdkConfig`'s `http_client`) that counts what the clients
//! built on it ask for, without touching the code that makes the requests: each request's
//! operation (its `X-Amz-Target`: DynamoDB and this SQS SDK both speak the AWS JSON protocol,
//! e.g. `DynamoDB_20120810.TransactWriteItems`, `AmazonSQS.SendMessageBatch`), DynamoDB's
//! request units from the request and response bodies (`dynamo_units`), SQS messages and
//! billed requests, and how long at least one request was in flight.
//!
//! Every attempt counts, retries too, and failed ones: each is a request the service bills.
//! Responses are read whole before the SDK sees them (the JSON protocol's bodies are small).

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::{ByteStream, SdkBody};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use serde_json::Value;

use crate::dynamo_units;

/// SQS bills each started 64 KB of a request's payload as one request.
const SQS_CHUNK: usize = 64 * 1024;

/// What the requests through one [`Ledger`] added up to.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    /// Requests by operation (`X-Amz-Target`), every attempt.
    pub requests: BTreeMap<String, u64>,
    /// SQS messages by operation: in the request (sent, deleted) or the response (received).
    pub messages: BTreeMap<String, u64>,
    /// SQS requests as billed (a request is one per started 64 KB of its message bodies).
    pub billed: BTreeMap<String, u64>,
    /// ReceiveMessage calls that returned no message.
    pub empty_receives: u64,
    pub write_units: f64,
    pub read_units: f64,
    /// Writes counted at the minimum unit because their item's size is not in the request.
    pub estimated_writes: u64,
    /// Write units by partition key, and by item (partition key, sort key).
    pub partition_writes: HashMap<String, f64>,
    pub item_writes: HashMap<(String, String), f64>,
}

impl Tally {
    /// Requests of operations whose target ends with `.{operation}`, summed over `operations`.
    pub fn requests_of(&self, operations: &[&str]) -> u64 {
        sum_of(&self.requests, operations)
    }

    pub fn messages_of(&self, operations: &[&str]) -> u64 {
        sum_of(&self.messages, operations)
    }

    pub fn billed_of(&self, operations: &[&str]) -> u64 {
        sum_of(&self.billed, operations)
    }

    /// Requests to one service: targets starting with `prefix` (`DynamoDB`, `AmazonSQS`).
    pub fn requests_to(&self, prefix: &str) -> u64 {
        let service = self.requests.iter().filter(|(t, _)| t.starts_with(prefix));
        service.map(|(_, n)| n).sum()
    }
}

fn sum_of(counts: &BTreeMap<String, u64>, operations: &[&str]) -> u64 {
    let wanted = |target: &str| {
        let operation = target.rsplit('.').next().unwrap_or_default();
        operations.contains(&operation)
    };
    counts
        .iter()
        .filter(|(t, _)| wanted(t))
        .map(|(_, n)| n)
        .sum()
}

/// Requests finished so far and the time at least one was in flight: a caller that reads this
/// before and after some work learns how much of that work was waiting on these services.
#[derive(Clone, Copy, Debug, Default)]
pub struct Activity {
    pub requests: u64,
    pub waiting: Duration,
}

#[derive(Debug, Default)]
struct State {
    tally: Tally,
    activity: Activity,
    in_flight: usize,
    busy_since: Option<Instant>,
}

/// Where a [`counting_client`] records; clones share it.
#[derive(Clone, Debug, Default)]
pub struct Ledger(Arc<Mutex<State>>);

impl Ledger {
    /// What was counted since the last `take`, and a fresh start.
    pub fn take(&self) -> Tally {
        std::mem::take(&mut self.lock().tally)
    }

    pub fn activity(&self) -> Activity {
        self.lock().activity
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn started(&self) {
        let mut state = self.lock();
        if state.in_flight == 0 {
            state.busy_since = Some(Instant::now());
        }
        state.in_flight += 1;
    }

    fn finished(&self, target: &str, request: &[u8], response: Option<&[u8]>) {
        let mut state = self.lock();
        state.in_flight -= 1;
        if state.in_flight == 0
            && let Some(since) = state.busy_since.take()
        {
            state.activity.waiting += since.elapsed();
        }
        state.activity.requests += 1;
        record(&mut state.tally, target, request, response);
    }
}

/// Counts one finished request into `tally`.
fn record(tally: &mut Tally, target: &str, request: &[u8], response: Option<&[u8]>) {
    *tally.requests.entry(target.to_owned()).or_default() += 1;
    let request: Value = serde_json::from_slice(request).unwrap_or(Value::Null);
    let response: Value = response
        .and_then(|r| serde_json::from_slice(r).ok())
        .unwrap_or(Value::Null);
    let (service, operation) = target.split_once('.').unwrap_or(("", target));
    if service.starts_with("DynamoDB") {
        record_dynamodb(tally, operation, &request, &response);
    } else if service == "AmazonSQS" {
        record_sqs(tally, target, operation, &request, &response);
    }
}

fn record_dynamodb(tally: &mut Tally, operation: &str, request: &Value, response: &Value) {
    for write in dynamo_units::writes(operation, request) {
        tally.write_units += write.units;
        tally.estimated_writes += u64::from(write.estimated);
        *tally.partition_writes.entry(write.pk.clone()).or_default() += write.units;
        *tally.item_writes.entry((write.pk, write.sk)).or_default() += write.units;
    }
    tally.read_units += dynamo_units::reads(operation, request, response);
}

/// Message bodies of a send (`MessageBody`, or each entry's) or of a receive's response.
fn bodies<'a>(operation: &str, request: &'a Value, response: &'a Value) -> Vec<&'a str> {
    let body = |v: &'a Value, name: &str| v.get(name).and_then(Value::as_str).unwrap_or_default();
    let each = |v: &'a Value, list: &str, name: &str| -> Vec<&'a str> {
        let items = v.get(list).and_then(Value::as_array).into_iter().flatten();
        items.map(|item| body(item, name)).collect()
    };
    match operation {
        "SendMessage" => vec![body(request, "MessageBody")],
        "SendMessageBatch" => each(request, "Entries", "MessageBody"),
        "ReceiveMessage" => each(response, "Messages", "Body"),
        _ => Vec::new(),
    }
}

fn record_sqs(tally: &mut Tally, target: &str, operation: &str, request: &Value, response: &Value) {
    let bodies = bodies(operation, request, response);
    let messages = match operation {
        "DeleteMessage" => 1,
        "DeleteMessageBatch" => {
            let entries = request.get("Entries").and_then(Value::as_array);
            entries.map_or(0, Vec::len)
        }
        _ => bodies.len(),
    };
    if operation == "ReceiveMessage" && messages == 0 {
        tally.empty_receives += 1;
    }
    let bytes: usize = bodies.iter().map(|b| b.len()).sum();
    *tally.messages.entry(target.to_owned()).or_default() += messages as u64;
    *tally.billed.entry(target.to_owned()).or_default() += bytes.div_ceil(SQS_CHUNK).max(1) as u64;
}

/// An SDK HTTP client (rustls with aws-lc-rs, as the SDK's default) counting into `ledger`.
pub fn counting_client(ledger: Ledger) -> SharedHttpClient {
    let inner = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .build_https();
    SharedHttpClient::new(CountingClient { inner, ledger })
}

#[derive(Debug)]
struct CountingClient {
    inner: SharedHttpClient,
    ledger: Ledger,
}

impl HttpClient for CountingClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let inner = self.inner.http_connector(settings, components);
        let ledger = self.ledger.clone();
        SharedHttpConnector::new(CountingConnector { inner, ledger })
    }
}

#[derive(Debug)]
struct CountingConnector {
    inner: SharedHttpConnector,
    ledger: Ledger,
}

impl HttpConnector for CountingConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let target = request.headers().get("x-amz-target").unwrap_or("other");
        let target = target.to_owned();
        let body = request.body().bytes().unwrap_or_default().to_vec();
        let ledger = self.ledger.clone();
        ledger.started();
        let sent = self.inner.call(request);
        HttpConnectorFuture::new(async move {
            let outcome = match sent.await {
                Ok(mut response) => {
                    let read = ByteStream::new(response.take_body()).collect().await;
                    let read = read.map_err(|e| ConnectorError::io(e.into()));
                    read.map(|bytes| (response, bytes.into_bytes()))
                }
                Err(error) => Err(error),
            };
            let answer = outcome.as_ref().ok().map(|(_, bytes)| bytes.as_ref());
            ledger.finished(&target, &body, answer);
            let (mut response, bytes) = outcome?;
            *response.body_mut() = SdkBody::from(bytes);
            Ok(response)
        })
    }
}
