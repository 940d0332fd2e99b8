//! `task-ingest`: turns a batch of keys into tasks (Files mode, or parsed JSON/JSONL/Parquet objects).
//! SQS-triggered; reports partial batch failures.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    labelsync::lambda::run_sqs_function(labelsync::dispatch::handle_ingest).await
}
