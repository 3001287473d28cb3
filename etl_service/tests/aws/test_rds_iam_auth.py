"""``ETL_DATABASE__IAM_AUTH``: each new connection logs in with an RDS IAM token over TLS.

moto's RDS API describes the instance; the token is botocore's own presigned login for that
endpoint. No RDS server runs here, so the connection itself goes to a local PostgreSQL with
TLS on and trust auth: it proves the hook's parameters make a real TLS connection, not that
RDS would accept the token (only AWS can check its signature).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from etl_service.aws.rds import use_iam_auth
from etl_service.errors import ConfigError
from etl_service.pipelines.compose import build_database
from etl_service.settings import DatabaseSettings
from etl_service.src.db.engine import create_engine
from etl_service.tests.conftest import require
from etl_service.tests.support import services
from etl_service.tests.support.services import MotoServer, PostgresServer

SSL_IN_USE = sa.text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")


@pytest.fixture(scope="module")
def tls_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server that takes TLS connections (trust auth: any password passes),
    with the run's login ``etl`` (on RDS: ``CREATE USER etl; GRANT rds_iam TO etl``)."""
    require(services.postgres_bin_dir() is not None, "PostgreSQL server binaries not installed")
    with services.postgres_server(tls=True) as server:
        admin = sa.create_engine(server.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text("CREATE ROLE etl LOGIN"))
        admin.dispose()
        yield server


def _rds_client(moto: MotoServer) -> Any:
    import boto3

    session = boto3.Session(
        aws_access_key_id=moto.access_key,
        aws_secret_access_key=moto.secret_key,
        region_name=moto.region,
    )
    return session.client("rds", endpoint_url=moto.endpoint_url)


def _record_logins(engine: sa.Engine) -> list[dict[str, Any]]:
    """The connection parameters of each new connection, as the IAM hook left them."""
    seen: list[dict[str, Any]] = []
    sa.event.listen(engine, "do_connect", lambda _d, _r, _a, cparams: seen.append(dict(cparams)))
    return seen


def _token_query(token: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(f"https://{token}").query)


@pytest.mark.aws
@pytest.mark.postgres
def test_the_token_for_the_rds_endpoint_is_the_password_over_tls(
    moto: MotoServer, tls_postgres: PostgresServer
) -> None:
    rds = _rds_client(moto)
    name = f"etl-{uuid.uuid4().hex[:8]}"
    rds.create_db_instance(
        DBInstanceIdentifier=name,
        DBInstanceClass="db.t4g.small",
        Engine="postgres",
        MasterUsername="etl_admin",
        MasterUserPassword="not-used-here",
        EnableIAMDatabaseAuthentication=True,
        AllocatedStorage=20,
    )
    [instance] = rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"]
    assert instance["IAMDatabaseAuthenticationEnabled"] is True
    endpoint = instance["Endpoint"]
    engine = create_engine(f"postgresql://etl@{endpoint['Address']}:{endpoint['Port']}/postgres")
    use_iam_auth(engine, rds, moto.region)
    seen = _record_logins(engine)

    # The RDS host does not exist here: connect to the local TLS server with the
    # parameters the hook made for it (returning a connection ends the event chain).
    @sa.event.listens_for(engine, "do_connect")
    def _to_local(dialect: Any, _r: Any, _a: Any, cparams: dict[str, Any]) -> Any:
        local = {**cparams, "host": tls_postgres.host, "port": tls_postgres.port}
        return dialect.loaded_dbapi.connect(**local)

    with engine.connect() as conn:
        assert conn.execute(SSL_IN_USE).scalar_one() is True
    [login] = seen
    assert login["sslmode"] == "require"
    assert login["host"] == endpoint["Address"]
    token = login["password"]
    assert token.startswith(f"{endpoint['Address']}:{endpoint['Port']}/?")
    query = _token_query(token)
    assert query["Action"] == ["connect"]
    assert query["DBUser"] == ["etl"]
    assert query["X-Amz-Credential"][0].startswith(f"{moto.access_key}/")
    assert query["X-Amz-Credential"][0].endswith(f"/{moto.region}/rds-db/aws4_request")
    assert len(query["X-Amz-Signature"][0]) == 64
    assert "not-used-here" not in str(engine.url)
    engine.dispose()


@pytest.mark.aws
@pytest.mark.postgres
def test_every_new_connection_of_the_run_s_database_gets_its_own_token(
    moto: MotoServer, tls_postgres: PostgresServer, tmp_path: Any
) -> None:
    settings = moto.settings(
        data_dir=tmp_path,
        database_url=SecretStr(f"postgresql://postgres@127.0.0.1:{tls_postgres.port}/postgres"),
        database=DatabaseSettings(iam_auth=True),
    )
    engine = build_database(settings)  # connects once, through the hook, to check
    seen = _record_logins(engine)
    engine.dispose()  # the next two connections are new ones
    with engine.connect() as first, engine.connect() as second:
        assert first.execute(SSL_IN_USE).scalar_one() is True
        assert second.execute(SSL_IN_USE).scalar_one() is True
    assert len(seen) == 2
    for login in seen:
        assert _token_query(login["password"])["DBUser"] == ["postgres"]
        assert login["sslmode"] == "require"
    engine.dispose()


@pytest.mark.unit
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:///etl.db", "needs a PostgreSQL"),
        ("postgresql://etl:hunter22@db.example.com/etl", "remove the password"),
        ("postgresql://etl@db.example.com/etl?sslmode=disable", "sslmode=disable"),
        ("postgresql://etl@db.example.com/etl?sslmode=prefer", "only over TLS"),
        ("postgresql:///etl", "must name the user and host"),
    ],
)
def test_iam_auth_refuses_what_rds_would_refuse(url: str, message: str) -> None:
    engine = create_engine(url)
    with pytest.raises(ConfigError, match=message) as raised:
        use_iam_auth(engine, rds=None, region="us-east-1")  # type: ignore[arg-type]
    assert "hunter22" not in str(raised.value)


@pytest.mark.unit
def test_a_verifying_sslmode_in_the_url_is_kept() -> None:
    engine = create_engine("postgresql://etl@db.example.com/etl?sslmode=verify-full")

    class Tokens:
        def generate_db_auth_token(self, **kwargs: Any) -> str:
            return f"token-for-{kwargs['DBUsername']}"

    use_iam_auth(engine, Tokens(), "us-east-1")  # type: ignore[arg-type]
    seen = _record_logins(engine)

    @sa.event.listens_for(engine, "do_connect")
    def _stop(*_args: Any) -> Any:
        raise ConnectionAbortedError("no server needed")

    with pytest.raises(ConnectionAbortedError):
        engine.connect()
    assert seen[0]["sslmode"] == "verify-full"
    assert seen[0]["password"] == "token-for-etl"
