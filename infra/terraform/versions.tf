# The same stack as infra/template.yaml, for teams that deploy with Terraform.
# Build the functions first: cargo lambda build --release --output-format zip
terraform {
  required_version = ">= 1.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

provider "aws" {
  region = var.region
}
