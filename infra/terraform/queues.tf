locals {
  # Visibility timeouts exceed the consuming function's timeout, as Lambda requires.
  queues = {
    sync   = { visibility_timeout = 360 }
    ingest = { visibility_timeout = 900 }
    export = { visibility_timeout = 360 }
  }
}

resource "aws_sqs_queue" "dead_letter" {
  for_each                  = local.queues
  name                      = "${var.name}-${each.key}-dlq"
  message_retention_seconds = 1209600
}

resource "aws_sqs_queue" "work" {
  for_each                   = local.queues
  name                       = "${var.name}-${each.key}"
  visibility_timeout_seconds = each.value.visibility_timeout
  # The 256 KiB labelsync cuts its messages to (queue::MAX_BODY_BYTES).
  max_message_size = 262144
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letter[each.key].arn
    maxReceiveCount     = var.max_receives
  })
}
