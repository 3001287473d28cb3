terraform {
  required_version = ">= 1.6"

  # State in terraform.tfstate here; for a team, replace this with an "s3" backend block.
  # The infra check points it elsewhere: init -backend-config=path=... (its own data dir).
  backend "local" {}

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0" # the version in the provider mirror (terraform.tfrc); bump both
    }
  }
}
