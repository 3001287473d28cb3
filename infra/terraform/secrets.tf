# The task's credentials, injected by ECS as environment variables at start (the execution
# role reads them; the values never appear in the task definition). Terraform writes a value
# only when it has one: the RDS URL (IAM auth, so no password), or the variables below, which
# then sit in the state. Otherwise put the values yourself (README, Deployment).

resource "aws_secretsmanager_secret" "database" {
  name                    = "${var.name}/database"
  description             = "ETL_DATABASE_URL of the run."
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret_version" "database" {
  count         = local.database_url_known ? 1 : 0
  secret_id     = aws_secretsmanager_secret.database.id
  secret_string = var.create_rds ? local.rds_database_url : var.database_url
}

resource "aws_secretsmanager_secret" "snowflake" {
  count                   = local.snowflake ? 1 : 0
  name                    = "${var.name}/snowflake"
  description             = "Snowflake login of the export: JSON with account, user and password."
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret_version" "snowflake" {
  # nonsensitive: whether a value was given is not secret, and for_each/count need it
  count         = local.snowflake && nonsensitive(var.snowflake_credentials != null) ? 1 : 0
  secret_id     = aws_secretsmanager_secret.snowflake[0].id
  secret_string = jsonencode(var.snowflake_credentials)
}

locals {
  snowflake          = contains(var.sinks, "snowflake")
  database_url_known = var.create_rds || nonsensitive(var.database_url != null)
  # name => valueFrom; a JSON key is addressed as <arn>:<key>:: (version stage, id: current)
  injected_secrets = merge(
    { ETL_DATABASE_URL = aws_secretsmanager_secret.database.arn },
    local.snowflake ? {
      ETL_SNOWFLAKE__ACCOUNT  = "${aws_secretsmanager_secret.snowflake[0].arn}:account::"
      ETL_SNOWFLAKE__USER     = "${aws_secretsmanager_secret.snowflake[0].arn}:user::"
      ETL_SNOWFLAKE__PASSWORD = "${aws_secretsmanager_secret.snowflake[0].arn}:password::"
    } : {},
  )
  injected_secret_arns = concat(
    [aws_secretsmanager_secret.database.arn],
    aws_secretsmanager_secret.snowflake[*].arn,
  )
}
