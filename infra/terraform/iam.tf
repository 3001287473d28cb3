# Least privilege: each role can do its one job on the resources of this stack only.
#   sp500-etl            the run itself (ECS task role and Glue job role): the lake prefix,
#                        its two Glue databases, Lake Formation data access, RDS IAM login
#   <name>-execution     ECS starting the task: pull the image, write its logs, read its secrets
#   sp500-lake-location  Lake Formation reading and writing the lake prefix for its grantees
#   sp500-analyst        reading the catalog; data access only through Lake Formation grants
#   <name>-scheduler     EventBridge Scheduler starting the task definition on the cluster

locals {
  role_names = {
    for label, arn in local.governance.roles : label => regex("role/([^/]+)$", arn)[0]
  }
  location_role_name = regex("role/([^/]+)$", local.governance.location.role_arn)[0]
  lake_objects       = "${aws_s3_bucket.lake.arn}/${local.lake_keys}*"
  artifacts_prefix   = "artifacts/"
  catalog_arn        = "arn:${local.partition}:glue:${local.region}:${local.account_id}:catalog"
  database_arns = [
    for db in aws_glue_catalog_database.zone : "arn:${local.partition}:glue:${local.region}:${local.account_id}:database/${db.name}"
  ]
  table_arns = [
    for db in aws_glue_catalog_database.zone : "arn:${local.partition}:glue:${local.region}:${local.account_id}:table/${db.name}/*"
  ]
}

locals {
  # Services that name the account they act for are held to it (the confused-deputy
  # guard); Glue and Lake Formation assume their roles without that context.
  trust = {
    etl       = { guarded = ["ecs-tasks.amazonaws.com"], plain = ["glue.amazonaws.com"] }
    execution = { guarded = ["ecs-tasks.amazonaws.com"], plain = [] }
    location  = { guarded = [], plain = ["lakeformation.amazonaws.com"] }
    scheduler = { guarded = ["scheduler.amazonaws.com"], plain = [] }
  }
}

data "aws_iam_policy_document" "assume" {
  for_each = local.trust
  dynamic "statement" {
    for_each = length(each.value.guarded) > 0 ? [each.value.guarded] : []
    content {
      actions = ["sts:AssumeRole"]
      principals {
        type        = "Service"
        identifiers = statement.value
      }
      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account_id]
      }
    }
  }
  dynamic "statement" {
    for_each = length(each.value.plain) > 0 ? [each.value.plain] : []
    content {
      actions = ["sts:AssumeRole"]
      principals {
        type        = "Service"
        identifiers = statement.value
      }
    }
  }
}

data "aws_iam_policy_document" "assume_analyst" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = length(var.analyst_trusted_arns) > 0 ? var.analyst_trusted_arns : ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }
}

# --- the run -----------------------------------------------------------------------------

resource "aws_iam_role" "etl" {
  name               = local.role_names["etl"]
  description        = "The etl-service run: ECS task role and Glue job role."
  assume_role_policy = data.aws_iam_policy_document.assume["etl"].json
}

data "aws_iam_policy_document" "etl" {
  statement {
    sid       = "ListTheLake"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [aws_s3_bucket.lake.arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["", local.lake_keys, "${local.lake_keys}*", local.artifacts_prefix, "${local.artifacts_prefix}*"]
    }
  }
  statement {
    sid       = "ReadWriteTheLake"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = [local.lake_objects]
  }
  statement {
    sid       = "ReadTheArtifacts"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.lake.arn}/${local.artifacts_prefix}*"]
  }
  statement {
    sid = "TheLakeCatalog"
    actions = [
      "glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables",
      "glue:CreateTable", "glue:UpdateTable",
    ]
    resources = concat([local.catalog_arn], local.database_arns, local.table_arns)
  }
  statement {
    sid       = "LakeFormationCredentials"
    actions   = ["lakeformation:GetDataAccess"]
    resources = ["*"] # the action takes no resource; the grants decide
  }
  statement {
    sid       = "GlueJobLogs"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws-glue/*"]
  }
  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]
    content {
      sid       = "TheLakeKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }
  dynamic "statement" {
    for_each = var.create_rds ? [aws_db_instance.etl[0].resource_id] : []
    content {
      sid       = "DatabaseLogin"
      actions   = ["rds-db:connect"]
      resources = ["arn:${local.partition}:rds-db:${local.region}:${local.account_id}:dbuser:${statement.value}/${var.database_user}"]
    }
  }
}

resource "aws_iam_role_policy" "etl" {
  name   = "etl-run"
  role   = aws_iam_role.etl.id
  policy = data.aws_iam_policy_document.etl.json
}

# --- ECS starting the task ---------------------------------------------------------------

resource "aws_iam_role" "execution" {
  name               = "${var.name}-execution"
  description        = "ECS pulling the etl-service image, writing its logs and reading its secrets."
  assume_role_policy = data.aws_iam_policy_document.assume["execution"].json
}

data "aws_iam_policy_document" "execution" {
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # the action takes no resource
  }
  statement {
    sid       = "PullTheImage"
    actions   = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]
    resources = [aws_ecr_repository.etl.arn]
  }
  statement {
    sid       = "WriteTheLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.etl.arn}:*"]
  }
  statement {
    sid       = "ReadTheSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = local.injected_secret_arns
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "start-etl-task"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

# --- Lake Formation's access to the lake -------------------------------------------------

resource "aws_iam_role" "location" {
  name               = local.location_role_name
  description        = "Lake Formation reading and writing the lake for the principals it grants."
  assume_role_policy = data.aws_iam_policy_document.assume["location"].json
}

data "aws_iam_policy_document" "location" {
  statement {
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.lake.arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [local.lake_keys, "${local.lake_keys}*"]
    }
  }
  statement {
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [local.lake_objects]
  }
  dynamic "statement" {
    for_each = var.kms_key_arn == null ? [] : [var.kms_key_arn]
    content {
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "location" {
  name   = "lake-location"
  role   = aws_iam_role.location.id
  policy = data.aws_iam_policy_document.location.json
}

# --- the analysts ------------------------------------------------------------------------

resource "aws_iam_role" "analyst" {
  name               = local.role_names["analyst"]
  description        = "Reads the curated tables; Lake Formation grants decide what."
  assume_role_policy = data.aws_iam_policy_document.assume_analyst.json
}

data "aws_iam_policy_document" "analyst" {
  statement {
    actions   = ["glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables"]
    resources = concat([local.catalog_arn], local.database_arns, local.table_arns)
  }
  statement {
    actions   = ["lakeformation:GetDataAccess"]
    resources = ["*"] # the action takes no resource; the grants decide
  }
}

resource "aws_iam_role_policy" "analyst" {
  name   = "read-the-catalog"
  role   = aws_iam_role.analyst.id
  policy = data.aws_iam_policy_document.analyst.json
}

# --- the schedule ------------------------------------------------------------------------

resource "aws_iam_role" "scheduler" {
  name               = "${var.name}-scheduler"
  description        = "EventBridge Scheduler starting the daily etl-service task."
  assume_role_policy = data.aws_iam_policy_document.assume["scheduler"].json
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    actions = ["ecs:RunTask"]
    # The schedule names the family (its newest revision); either form may be authorised.
    resources = [
      aws_ecs_task_definition.etl.arn_without_revision,
      "${aws_ecs_task_definition.etl.arn_without_revision}:*",
    ]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [aws_ecs_cluster.etl.arn]
    }
  }
  statement {
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.etl.arn, aws_iam_role.execution.arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "run-etl-task"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}
