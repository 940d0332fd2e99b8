//! The cost bench's counting (`common/counting_http.rs`, `common/dynamo_units.rs`), checked:
//! DynamoDB's item-size and unit rules on bodies written out by hand, and the counting client
//! under the real AWS SDK against moto (the targets it sees, the units of a real request, the
//! SQS messages and the responses it passes on unchanged).

#[path = "common/aws.rs"]
mod common_aws;
#[path = "common/counting_http.rs"]
mod counting_http;
#[path = "common/dynamo_units.rs"]
mod dynamo_units;
#[path = "common/emulators.rs"]
mod emulators;

use aws_sdk_dynamodb::types::AttributeValue;
use counting_http::{Ledger, counting_client};
use dynamo_units::{item_bytes, reads, writes};
use serde_json::json;

#[test]
fn sizes_follow_the_documented_rules() {
    let item = json!({"pk": {"S": "TASK#1"}, "n": {"N": "00123.4500"}, "ok": {"BOOL": true},
        "m": {"M": {"a": {"S": "xy"}}}, "l": {"L": [{"S": "z"}]}});
    // pk 2+6; n 1+(12345, 5 significant digits: 3 bytes, +1); ok 2+1; m 1+(3 + 1+1+2);
    // l 1+(3 + 1+1).
    assert_eq!(item_bytes(item.as_object().unwrap()), 8 + 5 + 3 + 8 + 6);
}

#[test]
fn a_transaction_doubles_each_item_rounded_up_to_a_kb() {
    let big = "x".repeat(1500);
    let request = json!({"TransactItems": [
        {"Put": {"Item": {"pk": {"S": "A"}, "sk": {"S": "1"}, "doc": {"S": big}}}},
        {"Update": {"Key": {"pk": {"S": "C"}, "sk": {"S": "n"}}}},
    ]});
    let written = writes("TransactWriteItems", &request);
    let units: Vec<(f64, bool)> = written.iter().map(|w| (w.units, w.estimated)).collect();
    assert_eq!(units, [(4.0, false), (2.0, true)]);
    assert_eq!((written[0].pk.as_str(), written[0].sk.as_str()), ("A", "1"));
}

#[test]
fn reads_charge_found_items_by_size_and_missing_ones_the_minimum() {
    let request = json!({"RequestItems": {"t": {"ConsistentRead": true,
        "Keys": [{"pk": {"S": "a"}}, {"pk": {"S": "b"}}, {"pk": {"S": "c"}}]}}});
    let response = json!({"Responses": {"t": [{"doc": {"S": "x".repeat(5000)}}]}});
    assert_eq!(reads("BatchGetItem", &request, &response), 2.0 + 2.0);
    let two_items =
        json!({"Items": [{"d": {"S": "x".repeat(3000)}}, {"d": {"S": "x".repeat(3000)}}]});
    let eventually = json!({});
    assert_eq!(
        reads("Query", &eventually, &two_items),
        1.0,
        "the sum rounded, halved"
    );
    assert_eq!(
        reads("GetItem", &json!({"ConsistentRead": true}), &json!({})),
        1.0
    );
}

/// moto's SDK configuration with a client counting into `ledger`.
async fn counting_sdk(ledger: &Ledger) -> aws_config::SdkConfig {
    let sdk = common_aws::moto_sdk().await;
    sdk.to_builder()
        .http_client(counting_client(ledger.clone()))
        .build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_counting_client_sees_dynamodb_units_and_passes_responses_on() {
    let ledger = Ledger::default();
    let client = aws_sdk_dynamodb::Client::new(&counting_sdk(&ledger).await);
    let table = emulators::unique("counted");
    labelsync::state::dynamo::create_table(&client, &table)
        .await
        .unwrap();
    ledger.take();
    let doc = "d".repeat(2000);
    client
        .put_item()
        .table_name(&table)
        .item("pk", AttributeValue::S("P".into()))
        .item("sk", AttributeValue::S("S".into()))
        .item("doc", AttributeValue::S(doc.clone()))
        .send()
        .await
        .unwrap();
    let got = client
        .get_item()
        .table_name(&table)
        .key("pk", AttributeValue::S("P".into()))
        .key("sk", AttributeValue::S("S".into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    let item = got
        .item
        .expect("the item, read through the counting client");
    assert_eq!(item["doc"].as_s().unwrap(), &doc);
    let tally = ledger.take();
    let targets: Vec<&str> = tally.requests.keys().map(String::as_str).collect();
    assert_eq!(
        targets,
        ["DynamoDB_20120810.GetItem", "DynamoDB_20120810.PutItem"]
    );
    // pk 2+1, sk 2+1, doc 3+2000: 2,009 bytes, two started KB; read as one 4 KB unit.
    assert_eq!((tally.write_units, tally.read_units), (2.0, 1.0));
    assert_eq!(tally.partition_writes.get("P"), Some(&2.0));
    assert_eq!(ledger.activity().requests, 3, "create table, put, get");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_counting_client_counts_sqs_messages_and_empty_receives() {
    let ledger = Ledger::default();
    let sqs = aws_sdk_sqs::Client::new(&counting_sdk(&ledger).await);
    let url = sqs
        .create_queue()
        .queue_name(emulators::unique("counted"))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    ledger.take();
    let entry = |id: &str| {
        aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
            .id(id)
            .message_body("x".repeat(40_000))
            .build()
            .unwrap()
    };
    let send = sqs.send_message_batch().queue_url(&url);
    send.entries(entry("a"))
        .entries(entry("b"))
        .send()
        .await
        .unwrap();
    let received = sqs
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    assert_eq!(
        received.messages().len(),
        2,
        "the response reached the SDK whole"
    );
    sqs.purge_queue().queue_url(&url).send().await.unwrap();
    sqs.receive_message().queue_url(&url).send().await.unwrap();
    let tally = ledger.take();
    assert_eq!(tally.requests_of(&["SendMessageBatch"]), 1);
    assert_eq!(tally.messages_of(&["SendMessageBatch"]), 2);
    assert_eq!(
        tally.billed_of(&["SendMessageBatch"]),
        2,
        "80,000 bytes: two 64 KB chunks"
    );
    assert_eq!(tally.requests_of(&["ReceiveMessage"]), 2);
    assert_eq!(tally.empty_receives, 1);
    assert_eq!(tally.requests_to("AmazonSQS"), 4);
}
