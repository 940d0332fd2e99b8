variable "region" {
  description = "AWS region of the stack."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Prefix of every resource name."
  type        = string
  default     = "labelsync"
}

variable "api_token" {
  description = "The token clients send in the Authorization header (Token <key>)."
  type        = string
  sensitive   = true
  validation {
    condition     = length(var.api_token) >= 20
    error_message = "api_token must be at least 20 characters."
  }
}

variable "max_receives" {
  description = "Deliveries of a queue message before it moves to its dead-letter queue."
  type        = number
  default     = 5
}

variable "lambda_dir" {
  description = "Where cargo lambda put the zips (<dir>/<function>/bootstrap.zip)."
  type        = string
  default     = "../../target/lambda"
}

variable "assumable_role_arns" {
  description = "IAM roles `s3s` storages may assume; narrow this to your customers' role ARNs."
  type        = list(string)
  default     = ["arn:aws:iam::*:role/*"]
}

variable "log_retention_days" {
  description = "How long function logs are kept."
  type        = number
  default     = 14
}

variable "events_secret" {
  description = "Secret that Event Grid and Pub/Sub push requests present at /api/object-events?secret= (empty: endpoint off; 20+ characters)."
  type        = string
  default     = ""
  sensitive   = true
}

variable "alarm_topic_arn" {
  description = "SNS topic the dead-letter alarms notify (empty: alarms without an action)."
  type        = string
  default     = ""
}
