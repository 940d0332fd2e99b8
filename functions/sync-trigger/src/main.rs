//! `sync-trigger`: object notifications (S3 event records, and S3 events EventBridge routes to
//! the same queue) become tasks without a listing. SQS-triggered; reports partial batch failures.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    labelsync::lambda::run_sqs_function(labelsync::dispatch::handle_trigger).await
}
