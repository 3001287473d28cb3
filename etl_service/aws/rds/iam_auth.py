"""IAM authentication to PostgreSQL on RDS: a fresh token is the password of each connection.

An RDS auth token is a request presigned with the session's credentials (botocore makes it
locally, no call to AWS), valid for 15 minutes and checked only when a connection opens.
So it is made in SQLAlchemy's ``do_connect`` event for every new DBAPI connection, and
never kept in the URL, where it would expire and could be printed. RDS takes IAM logins
only over TLS: the connection requires it (``sslmode=require``), or verifies the server too
when the URL asks for ``verify-ca`` or ``verify-full`` (with ``sslrootcert`` the RDS CA).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from etl_service.errors import ConfigError

if TYPE_CHECKING:
    from mypy_boto3_rds import RDSClient

logger = logging.getLogger(__name__)

TLS_MODES = ("require", "verify-ca", "verify-full")
"""The sslmode values that encrypt; ``require`` is the default here."""


def use_iam_auth(engine: sa.Engine, rds: RDSClient, region: str) -> None:
    """Make every new connection of ``engine`` log in with an IAM token, over TLS.

    Raises:
        ConfigError: the URL is not PostgreSQL, holds a password, lacks a user or host,
            or asks for an sslmode that does not encrypt.
    """
    url = engine.url
    if url.get_backend_name() != "postgresql":
        raise ConfigError("ETL_DATABASE__IAM_AUTH needs a PostgreSQL ETL_DATABASE_URL")
    if url.password:
        raise ConfigError(
            "ETL_DATABASE__IAM_AUTH: remove the password from ETL_DATABASE_URL "
            "(each connection's IAM token is its password)"
        )
    if not url.username or not url.host:
        raise ConfigError("ETL_DATABASE__IAM_AUTH: ETL_DATABASE_URL must name the user and host")
    sslmode = url.query.get("sslmode", "require")
    if sslmode not in TLS_MODES:
        raise ConfigError(
            f"ETL_DATABASE__IAM_AUTH: sslmode={sslmode} in ETL_DATABASE_URL; RDS takes IAM "
            f"logins only over TLS ({', '.join(TLS_MODES)})"
        )

    def log_in_with_a_token(
        _dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]
    ) -> None:
        host, port, user = cparams["host"], int(cparams.get("port") or 5432), cparams["user"]
        cparams["password"] = rds.generate_db_auth_token(
            DBHostname=host, Port=port, DBUsername=user, Region=region
        )
        cparams["sslmode"] = sslmode
        logger.debug("IAM auth token made for %s@%s:%s", user, host, port)

    sa.event.listen(engine, "do_connect", log_in_with_a_token)
