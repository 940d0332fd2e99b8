//! The Lambda shapes of the handlers: SQS events with partial batch failures, and the HTTP API
//! through `lambda_http`. Function crates only build the context and call these.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_runtime::LambdaEvent;

use crate::context::Context;
use crate::dispatch::batch::{BatchRecord, handle_batch};
use crate::dispatch::{Handler, handle_any};

/// One SQS event of any queue: see [`sqs_handler_for`].
pub async fn sqs_handler(
    ctx: &Context,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    sqs_handler_for(ctx, handle_any, event).await
}

/// One SQS event: every record handled by `handler`; the failed ones reported for
/// redelivery (`ReportBatchItemFailures`), so the others are not delivered again.
pub async fn sqs_handler_for(
    ctx: &Context,
    handler: Handler,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    let records = event
        .payload
        .records
        .into_iter()
        .filter_map(|r| {
            let receive_count = r
                .attributes
                .get("ApproximateReceiveCount")
                .and_then(|n| n.parse().ok())
                .unwrap_or(1);
            Some(BatchRecord {
                message_id: r.message_id?,
                body: r.body?,
                receive_count,
            })
        })
        .collect();
    let failed = handle_batch(ctx, handler, records).await;
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|id| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failure
        })
        .collect();
    Ok(response)
}

/// Log lines as JSON (CloudWatch Logs Insights reads their fields), each written during an
/// invocation with its request id: the runtime runs every invocation in a span that holds
/// `requestId`, and each line carries its current span.
pub fn log_subscriber<W>(writer: W) -> impl tracing::Subscriber + Send + Sync + 'static
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_env_filter(filter)
        .with_writer(writer)
        .finish()
}

fn init_logging() {
    let _ = tracing::subscriber::set_global_default(log_subscriber(std::io::stdout));
}

/// The function's context, with its metrics on (EMF lines named by the function).
async fn function_context() -> Result<Context, lambda_runtime::Error> {
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default();
    let ctx = crate::aws::context_from_env().await?;
    Ok(ctx.with_metrics(crate::metrics::Metrics::emf(&function)))
}

/// The whole of an SQS-triggered function (`sync-fanout`, `task-ingest`, `annotation-export`):
/// the context built once, then every event of its queue handled with `handler`.
pub async fn run_sqs_function(handler: Handler) -> Result<(), lambda_runtime::Error> {
    init_logging();
    let ctx = function_context().await?;
    let ctx = &ctx;
    lambda_runtime::run(lambda_runtime::service_fn(move |event| {
        sqs_handler_for(ctx, handler, event)
    }))
    .await
}

/// A router as a Lambda HTTP service: slashes optional, `lambda_http`'s request body made
/// axum's.
#[cfg(feature = "api")]
fn http_service(
    router: axum::Router,
) -> impl tower::Service<
    lambda_http::Request,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future = impl Send,
> + Clone
+ Send
+ 'static {
    tower::ServiceExt::map_request(
        crate::api::optional_slashes(router),
        |request: lambda_http::Request| request.map(axum::body::Body::new),
    )
}

/// `storage-api`: the same Router as the local process, through API Gateway (buffered
/// responses: JSON, well under Lambda's 6 MB).
#[cfg(feature = "api")]
pub async fn run_http_function() -> Result<(), lambda_runtime::Error> {
    init_logging();
    let ctx = function_context().await?;
    let token = crate::aws::api_token_from_env()?;
    lambda_http::run(http_service(crate::api::router(ctx, token))).await
}

/// `uri-resolve`'s service: the media routes, whose responses Lambda streams
/// ([`run_media_function`]).
#[cfg(feature = "api")]
pub fn media_service(
    ctx: Context,
    token: crate::api::ApiToken,
) -> lambda_http::StreamAdapter<
    'static,
    impl tower::Service<
        lambda_http::Request,
        Response = axum::response::Response,
        Error = std::convert::Infallible,
        Future = impl Send,
    > + Clone
    + Send
    + 'static,
    axum::body::Body,
> {
    lambda_http::StreamAdapter::from(http_service(crate::api::media_router(ctx, token)))
}

/// `uri-resolve`: the media routes behind a Function URL in `RESPONSE_STREAM` mode, so a
/// proxied object of any size leaves as it is read, with or without `Range` (a buffered
/// response stops at 6 MB).
#[cfg(feature = "api")]
pub async fn run_media_function() -> Result<(), lambda_runtime::Error> {
    init_logging();
    let ctx = function_context().await?;
    let token = crate::aws::api_token_from_env()?;
    lambda_runtime::run(media_service(ctx, token)).await
}
