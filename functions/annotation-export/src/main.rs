//! `annotation-export`: writes annotations to target storages, deletes them where allowed, and runs export syncs.
//! SQS-triggered; reports partial batch failures.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    labelsync::lambda::run_sqs_function(labelsync::dispatch::handle_export).await
}
