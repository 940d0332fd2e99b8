output "api_url" {
  description = "Base URL of the Label Studio-compatible API."
  value       = aws_apigatewayv2_api.http.api_endpoint
}

output "state_table_name" {
  value = aws_dynamodb_table.state.name
}

output "events_queue_arn" {
  description = "Name this queue in a bucket's notification configuration (see the README)."
  value       = aws_sqs_queue.work["events"].arn
}

output "media_url" {
  description = "Base URL of the media routes (uri-resolve's streaming Function URL)."
  value       = aws_lambda_function_url.media.function_url
}
