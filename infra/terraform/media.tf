# uri-resolve behind a Function URL that streams its responses (API Gateway buffers, and a
# buffered Lambda response stops at 6 MB): a proxied object of any size leaves as it is read.
# The function checks the token or the media URL's signature itself.
resource "aws_lambda_function" "media" {
  function_name    = "${var.name}-uri-resolve"
  role             = aws_iam_role.function["uri-resolve"].arn
  filename         = "${var.lambda_dir}/uri-resolve/bootstrap.zip"
  source_code_hash = filebase64sha256("${var.lambda_dir}/uri-resolve/bootstrap.zip")
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = ["x86_64"]
  memory_size      = local.functions["uri-resolve"].memory
  timeout          = local.functions["uri-resolve"].timeout

  environment {
    variables = merge(local.environment, {
      LABELSYNC_API_TOKEN = var.api_token
    })
  }
  depends_on = [aws_cloudwatch_log_group.function]
}

resource "aws_lambda_function_url" "media" {
  function_name      = aws_lambda_function.media.function_name
  authorization_type = "NONE"
  invoke_mode        = "RESPONSE_STREAM"
}
