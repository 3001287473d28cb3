# sp500-etl-job: the same pipeline on Glue (Spark), with its own daily trigger. Only the
# schedule chosen by var.scheduler is enabled, so one run a day happens either way.

locals {
  glue_script     = coalesce(var.glue_script, "${path.module}/../../etl_service/aws/glue/glue_job.py")
  glue_script_key = "${local.artifacts_prefix}glue_job.py"
  glue_arguments = merge(
    {
      "--job-language"                     = "python"
      "--datalake-formats"                 = "iceberg"
      "--enable-glue-datacatalog"          = "true"
      "--enable-continuous-cloudwatch-log" = "true"
      "--enable-metrics"                   = "true"
      # The run's settings, as ETL_* names: the Glue job script sets them before it reads
      # its Settings, so the job is configured like the container.
      "--ETL_LAKE_URI"           = local.lake_uri
      "--ETL_CATALOG__TYPE"      = "glue"
      "--ETL_CATALOG__NAMESPACE" = var.namespace
      "--ETL_ENGINE"             = "spark"
      # The lake only: the database and Snowflake credentials are injected into the task,
      # and the job role cannot read them.
      "--ETL_SINKS" = jsonencode(["lake"])
    },
    var.glue_python_modules == "" ? {} : { "--additional-python-modules" = var.glue_python_modules },
  )
}

resource "aws_s3_object" "glue_script" {
  count  = fileexists(local.glue_script) ? 1 : 0
  bucket = aws_s3_bucket.lake.id
  key    = local.glue_script_key
  source = local.glue_script
  etag   = filemd5(local.glue_script)
}

resource "aws_glue_job" "etl" {
  name              = "${var.name}-job"
  description       = "The etl-service pipeline on Glue (Spark), writing the Iceberg lake."
  role_arn          = aws_iam_role.etl.arn
  glue_version      = var.glue_version
  worker_type       = var.glue_worker_type
  number_of_workers = var.glue_workers
  timeout           = 120 # minutes
  max_retries       = 0   # a failed run is looked at, not repeated blindly

  command {
    name            = "glueetl"
    python_version  = "3"
    script_location = "s3://${aws_s3_bucket.lake.id}/${local.glue_script_key}"
  }

  execution_property {
    max_concurrent_runs = 1
  }

  default_arguments = local.glue_arguments
}

resource "aws_glue_trigger" "daily" {
  name     = "${var.name}-daily"
  type     = "SCHEDULED"
  schedule = var.schedule_expression
  enabled  = var.scheduler == "glue"

  actions {
    job_name = aws_glue_job.etl.name
  }
}
