"""AWS RDS: PostgreSQL logins with IAM authentication tokens."""

from etl_service.aws.rds.iam_auth import use_iam_auth

__all__ = ["use_iam_auth"]
