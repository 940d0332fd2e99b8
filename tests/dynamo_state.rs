//! The DynamoDB state store against moto: the same conformance suite as the embedded store.

#[path = "common/aws.rs"]
mod common_aws;
#[path = "common/emulators.rs"]
mod emulators;

use std::sync::Arc;

use labelsync::model::NewProject;
use labelsync::state::StateStore;
use labelsync::state::conformance;
use labelsync::state::dynamo::{DynamoState, create_table};

async fn store() -> (aws_sdk_dynamodb::Client, String) {
    let client = aws_sdk_dynamodb::Client::new(&common_aws::moto_sdk().await);
    let table = emulators::unique("state");
    create_table(&client, &table).await.expect("create table");
    (client, table)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn passes_the_state_conformance_suite() {
    let (client, table) = store().await;
    conformance::run_all(Arc::new(DynamoState::new(client, table))).await;
}

#[tokio::test]
async fn two_stores_on_one_table_share_their_records() {
    let (client, table) = store().await;
    let first = DynamoState::new(client.clone(), table.clone());
    let second = DynamoState::new(client, table);
    let project = first
        .create_project(NewProject {
            title: "shared".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        second
            .get_project(project.id)
            .await
            .unwrap()
            .map(|p| p.title),
        Some("shared".to_owned())
    );
}

/// Links are spread over 32 partitions per namespace (8 before 2026-12-02, which at 10,000
/// tasks/s put 2,500 write units/s on each, over DynamoDB's 1,000 per partition). A link an
/// earlier version wrote in its 8-partition place still dedupes, is found by object, and goes
/// with its task. The item layout is spelled out here on purpose: it is what stored tables hold.
#[tokio::test]
async fn links_written_over_eight_partitions_still_dedupe_and_are_found() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use labelsync::model::{NewTask, TaskSource, fnv1a};

    let (client, table) = store().await;
    let store = DynamoState::new(client.clone(), table.clone());
    let project = store.create_project(NewProject::default()).await.unwrap();
    let scope = 1 << 63 | project.id << 8;
    let key = (0..)
        .map(|i| format!("legacy/{i}.jpg"))
        .find(|k| fnv1a(k) % 32 >= 8)
        .unwrap();
    let task = || {
        let mut task = NewTask::from_data(serde_json::json!({"image": key}));
        task.source = Some(TaskSource {
            storage: 1,
            key: key.clone(),
            row_index: None,
            row_group: None,
            scope: Some(scope),
        });
        task
    };
    let item_key = |shard: u64| {
        let s = |v: String| AttributeValue::S(v);
        std::collections::HashMap::from([
            ("pk".to_owned(), s(format!("LINKS#{scope}#{shard}"))),
            ("sk".to_owned(), s(format!("{key}#-"))),
        ])
    };
    let get = |shard| {
        let request = client.get_item().table_name(&table);
        request.set_key(Some(item_key(shard))).send()
    };
    let created = store.create_tasks(project.id, None, vec![task()]).await;
    assert_eq!(created.unwrap().created, 1);
    let (wide, legacy) = (fnv1a(&key) % 32, fnv1a(&key) % 8);
    let written = get(wide)
        .await
        .unwrap()
        .item
        .expect("the link, in its 32-way shard");

    // Move it where an earlier version wrote it.
    let delete = client.delete_item().table_name(&table);
    delete.set_key(Some(item_key(wide))).send().await.unwrap();
    let mut moved = written.clone();
    moved.extend(item_key(legacy));
    let put = client.put_item().table_name(&table).set_item(Some(moved));
    put.send().await.unwrap();

    let again = store
        .create_tasks(project.id, None, vec![task()])
        .await
        .unwrap();
    assert_eq!((again.created, again.existed), (0, 1), "{again:?}");
    assert_eq!(store.count_tasks(project.id).await.unwrap(), 1);
    let found = store.object_tasks(scope, &key).await.unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(store.delete_task(found[0]).await.unwrap());
    assert!(
        get(legacy).await.unwrap().item.is_none(),
        "the old link went with its task"
    );
}
