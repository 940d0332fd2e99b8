# A message in a dead-letter queue is work that did not happen: alarm on the first one.
resource "aws_cloudwatch_metric_alarm" "dead_letter" {
  for_each            = local.queues
  alarm_name          = "${var.name}-${each.key}-dead-letters"
  alarm_description   = "Messages in the ${each.key} dead-letter queue."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dead_letter[each.key].name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_topic_arn == "" ? [] : [var.alarm_topic_arn]
}
