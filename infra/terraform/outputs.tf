output "api_url" {
  description = "Base URL of the Label Studio-compatible API."
  value       = aws_apigatewayv2_api.http.api_endpoint
}

output "state_table_name" {
  value = aws_dynamodb_table.state.name
}
