# --- where -------------------------------------------------------------------------------

variable "aws_region" {
  description = "The region of the whole stack."
  type        = string
  default     = "us-east-1"
}

variable "aws_endpoint_url" {
  description = "A local AWS endpoint (the moto server of `make infra`); null for AWS itself."
  type        = string
  default     = null
}

variable "name" {
  description = "Prefix of every resource name but the Lake Formation roles (see governance.tf.json)."
  type        = string
  default     = "sp500-etl"
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete a non-empty lake bucket and ECR repository."
  type        = bool
  default     = false
}

# --- the lake ----------------------------------------------------------------------------

variable "lake_bucket" {
  description = "The lake's S3 bucket (created here; give it a bucket of its own)."
  type        = string
}

variable "lake_prefix" {
  description = "The key prefix of the lake in the bucket: ETL_LAKE_URI is s3://<bucket>/<prefix>."
  type        = string
  default     = "lake"

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$", var.lake_prefix))
    error_message = "lake_prefix is a key prefix without leading or trailing '/', e.g. \"lake\"."
  }
}

variable "kms_key_arn" {
  description = "Default encryption of the bucket with this KMS key (SSE-KMS); null: SSE-S3."
  type        = string
  default     = null
}

variable "raw_infrequent_access_days" {
  description = "Days before raw payloads move to Standard-IA (ETL_BUCKET__RAW_INFREQUENT_ACCESS_DAYS)."
  type        = number
  default     = 30
}

variable "raw_archive_days" {
  description = "Days before raw payloads move to Glacier (ETL_BUCKET__RAW_ARCHIVE_DAYS)."
  type        = number
  default     = 90

  validation {
    condition     = var.raw_archive_days > var.raw_infrequent_access_days
    error_message = "raw_archive_days must come after raw_infrequent_access_days."
  }
}

variable "noncurrent_version_expiry_days" {
  description = "Days a replaced object version is kept (ETL_BUCKET__NONCURRENT_VERSION_EXPIRY_DAYS)."
  type        = number
  default     = 30
}

variable "namespace" {
  description = "The Glue database of the curated tables (ETL_CATALOG__NAMESPACE); <namespace>_processed holds the processed zone."
  type        = string
  default     = "sp500"
}

variable "lake_admin_arns" {
  description = "Lake Formation administrators besides the identity that applies this stack."
  type        = list(string)
  default     = []
}

variable "analyst_trusted_arns" {
  description = "Who may assume the analyst role; empty: principals of this account their own IAM policies allow."
  type        = list(string)
  default     = []
}

# --- the run -----------------------------------------------------------------------------

variable "scheduler" {
  description = "Which schedule runs the daily job: \"ecs\" (the container on Fargate) or \"glue\" (sp500-etl-job). Both exist; only this one is enabled."
  type        = string
  default     = "ecs"

  validation {
    condition     = contains(["ecs", "glue"], var.scheduler)
    error_message = "scheduler is \"ecs\" or \"glue\"."
  }
}

variable "schedule_expression" {
  description = "When the daily run starts (EventBridge Scheduler and Glue cron syntax)."
  type        = string
  default     = "cron(30 6 * * ? *)"
}

variable "schedule_timezone" {
  description = "The time zone of schedule_expression for the ECS schedule (the Glue trigger is always UTC)."
  type        = string
  default     = "UTC"
}

variable "sinks" {
  description = "ETL_SINKS of the scheduled run; with \"snowflake\" the Snowflake secret is injected."
  type        = list(string)
  default     = ["lake", "database"]
}

variable "environment" {
  description = "More ETL_* settings of the container (no secrets: they show in the task definition)."
  type        = map(string)
  default     = {}
}

# --- the container -----------------------------------------------------------------------

variable "image" {
  description = "The container image; null: <the ECR repository>:<image_tag>."
  type        = string
  default     = null
}

variable "image_tag" {
  description = "The tag of the image in the ECR repository (tags are immutable: use a version)."
  type        = string
  default     = "0.1.0"
}

variable "task_cpu" {
  description = "Fargate CPU units of the task."
  type        = number
  default     = 1024
}

variable "task_memory" {
  description = "Fargate memory (MiB) of the task."
  type        = number
  default     = 4096
}

variable "cpu_architecture" {
  description = "X86_64 or ARM64, as the image was built."
  type        = string
  default     = "X86_64"
}

variable "vpc_id" {
  description = "The VPC of the task (and of the database)."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets of the task and of the database (private, with a NAT or endpoints for S3, ECR, logs and Secrets Manager; two AZs for RDS)."
  type        = list(string)
}

variable "assign_public_ip" {
  description = "Give the task a public IP (only for subnets without a NAT)."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "How long CloudWatch keeps the run logs."
  type        = number
  default     = 90
}

# --- secrets -----------------------------------------------------------------------------

variable "database_url" {
  description = "ETL_DATABASE_URL when create_rds is false; null: put it in the database secret yourself."
  type        = string
  default     = null
  sensitive   = true
}

variable "snowflake_credentials" {
  description = "The Snowflake secret's value (account, user, password); null: put it yourself, keeping it out of the state."
  type = object({
    account  = string
    user     = string
    password = string
  })
  default   = null
  sensitive = true
}

variable "secret_recovery_window_days" {
  description = "Days a deleted secret can be restored (0: deleted at once)."
  type        = number
  default     = 7
}

# --- the database ------------------------------------------------------------------------

variable "create_rds" {
  description = "Create a PostgreSQL instance on RDS with IAM authentication for the run's database."
  type        = bool
  default     = false
}

variable "database_iam_auth" {
  description = "Connect with IAM auth tokens (ETL_DATABASE__IAM_AUTH); defaults to create_rds."
  type        = bool
  default     = null
}

variable "rds_instance_class" {
  description = "The RDS instance class."
  type        = string
  default     = "db.t4g.small"
}

variable "rds_engine_version" {
  description = "PostgreSQL major version on RDS."
  type        = string
  default     = "16"
}

variable "rds_allocated_storage_gb" {
  description = "Storage of the RDS instance (GiB)."
  type        = number
  default     = 20
}

variable "database_name" {
  description = "The database the run writes."
  type        = string
  default     = "etl"
}

variable "database_user" {
  description = "The login of the run, authenticated by IAM (create it once: see README, Deployment)."
  type        = string
  default     = "etl"
}

variable "rds_deletion_protection" {
  description = "Refuse to delete the RDS instance."
  type        = bool
  default     = true
}

# --- Glue --------------------------------------------------------------------------------

variable "glue_script" {
  description = "The Glue job script uploaded to the artifacts prefix; when the file is absent the job points at the key all the same."
  type        = string
  default     = null
}

variable "glue_python_modules" {
  description = "--additional-python-modules of the Glue job: the etl-service wheel (an s3:// URI) and its extras."
  type        = string
  default     = ""
}

variable "glue_version" {
  description = "The Glue version of sp500-etl-job."
  type        = string
  default     = "5.0"
}

variable "glue_worker_type" {
  description = "The Glue worker type."
  type        = string
  default     = "G.1X"
}

variable "glue_workers" {
  description = "The number of Glue workers."
  type        = number
  default     = 2
}
