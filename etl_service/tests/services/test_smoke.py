"""Each service fixture is proven by talking to the service with the real client."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from etl_service.tests.support.services import MotoServer


@pytest.mark.postgres
def test_postgres_is_a_real_postgresql_15(postgres_url: str) -> None:
    engine = sa.create_engine(postgres_url)
    with engine.connect() as conn:
        version: str = conn.execute(sa.text("SHOW server_version_num")).scalar_one()
        conn.execute(sa.text("CREATE TABLE t (x int)"))
        conn.execute(sa.text("INSERT INTO t VALUES (41), (1)"))
        assert conn.execute(sa.text("SELECT sum(x) FROM t")).scalar_one() == 42
    engine.dispose()
    assert 150000 <= int(version) < 160000


@pytest.mark.aws
def test_moto_takes_a_multipart_parquet_upload_from_pyarrow(moto: MotoServer) -> None:
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=moto.endpoint_url,
        region_name=moto.region,
        aws_access_key_id=moto.access_key,
        aws_secret_access_key=moto.secret_key,
    )
    s3.create_bucket(Bucket="smoke")
    fs = pafs.S3FileSystem(
        endpoint_override=moto.endpoint_url,
        access_key=moto.access_key,
        secret_key=moto.secret_key,
        region=moto.region,
        scheme="http",
    )
    # ~12 MB of incompressible data forces a multipart upload (parts of 5 MB+).
    import os

    table = pa.table({"blob": [os.urandom(1024) for _ in range(12_000)]})
    pq.write_table(table, "smoke/t/part-0.parquet", filesystem=fs, compression="none")
    listed = s3.list_objects_v2(Bucket="smoke", Prefix="t/")["Contents"]
    assert [o["Key"] for o in listed] == ["t/part-0.parquet"]
    assert pq.read_table("smoke/t/part-0.parquet", filesystem=fs).equals(table)


@pytest.mark.snowflake
def test_fakesnow_answers_the_snowflake_connector(fakesnow_conn_kwargs: dict[str, Any]) -> None:
    import snowflake.connector

    with snowflake.connector.connect(**fakesnow_conn_kwargs) as conn:
        cur = conn.cursor()
        cur.execute("CREATE DATABASE IF NOT EXISTS SMOKE")
        cur.execute("CREATE SCHEMA IF NOT EXISTS SMOKE.PUBLIC")
        cur.execute("CREATE OR REPLACE TABLE SMOKE.PUBLIC.T (X INT)")
        cur.execute("INSERT INTO SMOKE.PUBLIC.T VALUES (40), (2)")
        cur.execute("SELECT SUM(X) FROM SMOKE.PUBLIC.T")
        assert cur.fetchone() == (42,)
