//! `sync-fanout`: lists one page of a source storage per `sync` message and fans out its ingest batches.
//! SQS-triggered; reports partial batch failures.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    labelsync::lambda::run_sqs_function(labelsync::dispatch::handle_sync).await
}
