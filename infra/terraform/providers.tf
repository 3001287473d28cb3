locals {
  # A local AWS (moto in `make infra`) answers every service on one endpoint and cannot
  # validate credentials against STS or the instance metadata service.
  local_aws = var.aws_endpoint_url != null
}

provider "aws" {
  region = var.aws_region

  skip_credentials_validation = local.local_aws
  skip_metadata_api_check     = local.local_aws
  s3_use_path_style           = local.local_aws

  endpoints {
    ec2            = var.aws_endpoint_url
    ecr            = var.aws_endpoint_url
    ecs            = var.aws_endpoint_url
    glue           = var.aws_endpoint_url
    iam            = var.aws_endpoint_url
    lakeformation  = var.aws_endpoint_url
    logs           = var.aws_endpoint_url
    rds            = var.aws_endpoint_url
    s3             = var.aws_endpoint_url
    scheduler      = var.aws_endpoint_url
    secretsmanager = var.aws_endpoint_url
    sts            = var.aws_endpoint_url
  }

  default_tags {
    tags = merge({ "app" = "etl-service", "managed-by" = "terraform" }, var.tags)
  }
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}
