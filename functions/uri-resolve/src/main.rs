//! `uri-resolve`: `/tasks/<id>/resolve/` and `/projects/<id>/resolve/` — storage URIs to 303
//! pre-signed redirects or ranged proxy streams within Lambda's response limit.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    labelsync::lambda::run_media_function().await
}
