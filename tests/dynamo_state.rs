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
