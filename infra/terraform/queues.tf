locals {
  # Visibility timeouts exceed the consuming function's timeout, as Lambda requires.
  queues = {
    sync   = { visibility_timeout = 360 }
    ingest = { visibility_timeout = 900 }
    export = { visibility_timeout = 360 }
    events = { visibility_timeout = 360 }
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

# Object notifications reach the events queue from S3 (a bucket's notification configuration
# names this queue) and from EventBridge (the rule below, for buckets that send to EventBridge).
data "aws_iam_policy_document" "events_queue" {
  statement {
    sid       = "S3Notifications"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.work["events"].arn]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
  statement {
    sid       = "EventBridge"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.work["events"].arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.object_events.arn, aws_cloudwatch_event_rule.schedule.arn]
    }
  }
}

data "aws_caller_identity" "current" {}

resource "aws_sqs_queue_policy" "events" {
  queue_url = aws_sqs_queue.work["events"].id
  policy    = data.aws_iam_policy_document.events_queue.json
}

resource "aws_cloudwatch_event_rule" "object_events" {
  name = "${var.name}-object-events"
  event_pattern = jsonencode({
    source      = ["aws.s3"]
    detail-type = ["Object Created", "Object Deleted"]
  })
}

resource "aws_cloudwatch_event_target" "object_events" {
  rule = aws_cloudwatch_event_rule.object_events.name
  arn  = aws_sqs_queue.work["events"].arn
}

# Once a minute sync-trigger starts the scheduled syncs that are due (sync_interval_minutes).
locals {
  schedule = "rate(1 minute)"
}

resource "aws_cloudwatch_event_rule" "schedule" {
  name                = "${var.name}-schedule"
  schedule_expression = local.schedule
}

resource "aws_cloudwatch_event_target" "schedule" {
  rule = aws_cloudwatch_event_rule.schedule.name
  arn  = aws_sqs_queue.work["events"].arn
}
