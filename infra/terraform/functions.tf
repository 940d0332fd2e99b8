locals {
  # What each function may touch: table access, queues it sends to, the queue it consumes.
  functions = {
    storage-api = {
      memory = 256, timeout = 60, table_write = true, sends = ["sync", "export"], consumes = null, batch = 0
    }
    uri-resolve = {
      memory = 512, timeout = 30, table_write = false, sends = [], consumes = null, batch = 0
    }
    sync-fanout = {
      memory = 256, timeout = 300, table_write = true, sends = ["sync", "ingest"], consumes = "sync", batch = 1
    }
    task-ingest = {
      memory = 512, timeout = 840, table_write = true, sends = [], consumes = "ingest", batch = 10
    }
    annotation-export = {
      memory = 256, timeout = 300, table_write = true, sends = ["export"], consumes = "export", batch = 10
    }
    sync-trigger = {
      memory = 512, timeout = 300, table_write = true, sends = [], consumes = "events", batch = 10
    }
  }
  environment = {
    RUST_LOG                   = "info"
    LABELSYNC_TABLE            = aws_dynamodb_table.state.name
    LABELSYNC_SYNC_QUEUE_URL   = aws_sqs_queue.work["sync"].url
    LABELSYNC_INGEST_QUEUE_URL = aws_sqs_queue.work["ingest"].url
    LABELSYNC_EXPORT_QUEUE_URL = aws_sqs_queue.work["export"].url
    LABELSYNC_SYNC_DLQ_URL     = aws_sqs_queue.dead_letter["sync"].url
    LABELSYNC_INGEST_DLQ_URL   = aws_sqs_queue.dead_letter["ingest"].url
    LABELSYNC_EXPORT_DLQ_URL   = aws_sqs_queue.dead_letter["export"].url
    # A message's last delivery records its failure instead of leaving it to the DLQ.
    LABELSYNC_QUEUE_MAX_RECEIVES = tostring(var.max_receives)
  }
  consumers = { for name, f in local.functions : name => f if f.consumes != null }
}

resource "aws_cloudwatch_log_group" "function" {
  for_each          = local.functions
  name              = "/aws/lambda/${var.name}-${each.key}"
  retention_in_days = var.log_retention_days
}

# Every function but uri-resolve, whose Function URL storage-api names (media.tf).
resource "aws_lambda_function" "function" {
  for_each         = { for name, f in local.functions : name => f if name != "uri-resolve" }
  function_name    = "${var.name}-${each.key}"
  role             = aws_iam_role.function[each.key].arn
  filename         = "${var.lambda_dir}/${each.key}/bootstrap.zip"
  source_code_hash = filebase64sha256("${var.lambda_dir}/${each.key}/bootstrap.zip")
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = ["x86_64"]
  memory_size      = each.value.memory
  timeout          = each.value.timeout

  environment {
    variables = merge(local.environment, {
      LABELSYNC_API_TOKEN     = var.api_token
      LABELSYNC_EVENTS_SECRET = var.events_secret
      LABELSYNC_MEDIA_URL     = aws_lambda_function_url.media.function_url
    })
  }
  depends_on = [aws_cloudwatch_log_group.function]
}

resource "aws_lambda_event_source_mapping" "queue" {
  for_each                = local.consumers
  event_source_arn        = aws_sqs_queue.work[each.value.consumes].arn
  function_name           = aws_lambda_function.function[each.key].arn
  batch_size              = each.value.batch
  function_response_types = ["ReportBatchItemFailures"]
}
