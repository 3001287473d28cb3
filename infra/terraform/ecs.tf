# The run as a Fargate task: the cluster, the task definition, its security group, and the
# daily schedule. `etl-service ecs run-task` starts the same task definition by hand.

locals {
  container = "etl-service"
  image     = coalesce(var.image, "${aws_ecr_repository.etl.repository_url}:${var.image_tag}")
  iam_auth  = coalesce(var.database_iam_auth, var.create_rds)
  environment = merge(
    {
      ETL_LAKE_URI           = local.lake_uri
      ETL_CATALOG__TYPE      = "glue"
      ETL_CATALOG__NAMESPACE = var.namespace
      ETL_AWS_REGION         = local.region
      ETL_SINKS              = jsonencode(var.sinks)
      ETL_DATABASE__IAM_AUTH = tostring(local.iam_auth)
      ETL_RUN_LOCK_TIMEOUT_S = "600" # a manual run and the scheduled one queue, not fail
    },
    var.environment,
  )
}

resource "aws_ecs_cluster" "etl" {
  name = var.name
  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_security_group" "task" {
  name        = "${var.name}-task"
  description = "The etl-service task: no inbound; HTTPS out (sources, AWS APIs, Snowflake)."
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_egress_rule" "task_https" {
  security_group_id = aws_security_group.task.id
  description       = "Sources, AWS APIs and Snowflake"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "task_database" {
  count                        = var.create_rds ? 1 : 0
  security_group_id            = aws_security_group.task.id
  description                  = "The RDS database"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.database[0].id
}

resource "aws_ecs_task_definition" "etl" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.task_cpu
  memory                   = var.task_memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.etl.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  # The root filesystem is read-only; the run writes its data dir and temp files here.
  volume {
    name = "data"
  }
  volume {
    name = "tmp"
  }

  container_definitions = jsonencode([{
    name      = local.container
    image     = local.image
    essential = true
    command   = ["run"]
    memory    = var.task_memory
    user      = "10001"
    # ECS sends SIGTERM, then SIGKILL after this: time to mark the run failed and unlock.
    stopTimeout            = 120
    readonlyRootFilesystem = true
    environment            = [for k in sort(keys(local.environment)) : { name = k, value = local.environment[k] }]
    secrets                = [for k in sort(keys(local.injected_secrets)) : { name = k, valueFrom = local.injected_secrets[k] }]
    mountPoints = [
      { sourceVolume = "data", containerPath = "/var/lib/etl", readOnly = false },
      { sourceVolume = "tmp", containerPath = "/tmp", readOnly = false },
    ]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.etl.name
        awslogs-region        = local.region
        awslogs-stream-prefix = "etl"
      }
    }
  }])
}

resource "aws_scheduler_schedule" "daily" {
  name                         = "${var.name}-daily"
  description                  = "The daily etl-service run on Fargate."
  schedule_expression          = var.schedule_expression
  schedule_expression_timezone = var.schedule_timezone
  state                        = var.scheduler == "ecs" ? "ENABLED" : "DISABLED"

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_ecs_cluster.etl.arn
    role_arn = aws_iam_role.scheduler.arn

    ecs_parameters {
      # Without a revision: each run starts the newest revision of the family.
      task_definition_arn = aws_ecs_task_definition.etl.arn_without_revision
      launch_type         = "FARGATE"
      task_count          = 1
      network_configuration {
        subnets          = var.subnet_ids
        security_groups  = [aws_security_group.task.id]
        assign_public_ip = var.assign_public_ip
      }
    }

    retry_policy {
      # Retries a refused RunTask call, not a failed run (the run lock makes that safe).
      maximum_retry_attempts       = 3
      maximum_event_age_in_seconds = 3600
    }
  }
}
