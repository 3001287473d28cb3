output "lake_uri" {
  description = "ETL_LAKE_URI."
  value       = local.lake_uri
}

output "glue_databases" {
  description = "The Glue database of each lake zone."
  value       = { for zone, db in aws_glue_catalog_database.zone : zone => db.name }
}

output "glue_job" {
  description = "The Glue job (aws glue start-job-run --job-name ...)."
  value       = aws_glue_job.etl.name
}

output "ecr_repository_url" {
  description = "Push the image here: docker push <url>:<image_tag>."
  value       = aws_ecr_repository.etl.repository_url
}

output "log_group" {
  description = "The CloudWatch log group of the runs (streams etl/etl-service/<task id>)."
  value       = aws_cloudwatch_log_group.etl.name
}

output "schedule" {
  description = "The EventBridge Scheduler schedule of the daily run."
  value       = aws_scheduler_schedule.daily.name
}

output "database_secret_arn" {
  description = "The secret holding ETL_DATABASE_URL."
  value       = aws_secretsmanager_secret.database.arn
}

output "snowflake_secret_arn" {
  description = "The secret holding the Snowflake login (when the sinks name snowflake)."
  value       = one(aws_secretsmanager_secret.snowflake[*].arn)
}

output "database_endpoint" {
  description = "host:port of the RDS instance (when create_rds)."
  value       = var.create_rds ? aws_db_instance.etl[0].endpoint : null
}

output "master_user_secret_arn" {
  description = "The RDS-managed secret of the master user (for the one-time IAM login setup)."
  value       = var.create_rds ? aws_db_instance.etl[0].master_user_secret[0].secret_arn : null
}

output "roles" {
  description = "The ARNs of the roles."
  value = {
    etl       = aws_iam_role.etl.arn
    execution = aws_iam_role.execution.arn
    location  = aws_iam_role.location.arn
    analyst   = aws_iam_role.analyst.arn
    scheduler = aws_iam_role.scheduler.arn
  }
}

output "run_task_environment" {
  description = "The settings of `etl-service ecs run-task` for this stack (export them)."
  value = {
    ETL_AWS_REGION            = local.region
    ETL_ECS__CLUSTER          = aws_ecs_cluster.etl.name
    ETL_ECS__TASK_DEFINITION  = aws_ecs_task_definition.etl.family
    ETL_ECS__CONTAINER        = local.container
    ETL_ECS__SUBNETS          = jsonencode(var.subnet_ids)
    ETL_ECS__SECURITY_GROUPS  = jsonencode([aws_security_group.task.id])
    ETL_ECS__ASSIGN_PUBLIC_IP = tostring(var.assign_public_ip)
  }
}
