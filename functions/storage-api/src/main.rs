//! `storage-api`: the Label Studio storage API (storages, projects, tasks, annotations, local
//! files) behind API Gateway, on DynamoDB and SQS.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    labelsync::lambda::run_http_function().await
}
