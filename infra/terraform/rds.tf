# Optional: the run's PostgreSQL on RDS. The run logs in as var.database_user with IAM auth
# tokens (ETL_DATABASE__IAM_AUTH), over TLS; RDS keeps the master password in Secrets Manager
# and nothing here ever sees it.

locals {
  rds_database_url = var.create_rds ? "postgresql://${var.database_user}@${aws_db_instance.etl[0].address}:${aws_db_instance.etl[0].port}/${var.database_name}?sslmode=require" : null
}

resource "aws_db_subnet_group" "etl" {
  count      = var.create_rds ? 1 : 0
  name       = var.name
  subnet_ids = var.subnet_ids
}

resource "aws_security_group" "database" {
  count       = var.create_rds ? 1 : 0
  name        = "${var.name}-database"
  description = "The etl-service database: PostgreSQL from the task only."
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "database_from_task" {
  count                        = var.create_rds ? 1 : 0
  security_group_id            = aws_security_group.database[0].id
  description                  = "PostgreSQL from the etl-service task"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.task.id
}

resource "aws_db_parameter_group" "etl" {
  count  = var.create_rds ? 1 : 0
  name   = var.name
  family = "postgres${split(".", var.rds_engine_version)[0]}"
  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }
}

resource "aws_db_instance" "etl" {
  count                               = var.create_rds ? 1 : 0
  identifier                          = var.name
  engine                              = "postgres"
  engine_version                      = var.rds_engine_version
  instance_class                      = var.rds_instance_class
  allocated_storage                   = var.rds_allocated_storage_gb
  storage_type                        = "gp3"
  storage_encrypted                   = true
  db_name                             = var.database_name
  username                            = "etl_admin"
  manage_master_user_password         = true
  iam_database_authentication_enabled = true
  db_subnet_group_name                = aws_db_subnet_group.etl[0].name
  vpc_security_group_ids              = [aws_security_group.database[0].id]
  parameter_group_name                = aws_db_parameter_group.etl[0].name
  publicly_accessible                 = false
  backup_retention_period             = 7
  deletion_protection                 = var.rds_deletion_protection
  skip_final_snapshot                 = !var.rds_deletion_protection
  final_snapshot_identifier           = var.rds_deletion_protection ? "${var.name}-final" : null
  auto_minor_version_upgrade          = true
  apply_immediately                   = false
}
