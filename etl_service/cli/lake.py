"""``etl-service lake``: set up the lake (bucket and catalog), list its tables and history."""

from __future__ import annotations

import click

from etl_service.cli.query import FORMAT, emit
from etl_service.pipelines.compose import build_lake
from etl_service.settings import Settings
from etl_service.src.db.lake import Lake
from etl_service.src.db.lake.tables import LAKE_ZONES
from etl_service.src.models.schemas import Zone


@click.group()
def lake() -> None:
    """The lake's Iceberg tables (ETL_LAKE_URI, ETL_CATALOG__*) and its S3 bucket."""


@lake.command()
@click.pass_obj
def setup(settings: Settings) -> None:
    """Create what the lake is missing and say what changed (idempotent).

    For an s3:// lake: the bucket's versioning, default encryption, public access block,
    lifecycle and replication (ETL_BUCKET__*), and the Glue databases; always: the
    catalog's namespaces.
    """
    the_lake = build_lake(settings)
    changes = _setup_bucket(settings, the_lake) if settings.lake_uri.startswith("s3://") else []
    changes += [f"created namespace {name}" for name in the_lake.ensure_namespaces()]
    for change in changes:
        click.echo(f"changed: {change}")
    if not changes:
        click.echo(f"nothing to change: {settings.lake_uri} is set up as intended")


def _setup_bucket(settings: Settings, the_lake: Lake) -> list[str]:
    from etl_service.aws.s3.data_lake import DataLakeBucket, setup_data_lake
    from etl_service.aws.session import boto3_session, client

    session = boto3_session(settings)
    bucket, _, prefix = settings.lake_uri.removeprefix("s3://").partition("/")
    databases = {the_lake.namespace_of(zone): the_lake.path(zone) for zone in LAKE_ZONES}
    spec = DataLakeBucket(
        bucket=bucket,
        prefix=prefix,
        region=settings.aws_region,
        databases=databases if settings.catalog.type == "glue" else None,
        **settings.bucket.model_dump(),
    )
    glue = client(session, "glue", settings.aws_endpoint_url)
    return setup_data_lake(client(session, "s3", settings.aws_endpoint_url), glue, spec)


@lake.command()
@FORMAT
@click.pass_obj
def tables(settings: Settings, fmt: str) -> None:
    """List the lake's tables with their current snapshot, rows and files."""
    emit(build_lake(settings).tables(), fmt, f"Lake tables: {settings.lake_uri}")


@lake.command()
@click.argument("table")
@click.option(
    "--zone",
    type=click.Choice([str(z) for z in LAKE_ZONES]),
    default=str(Zone.CURATED),
    show_default=True,
)
@FORMAT
@click.pass_obj
def history(settings: Settings, table: str, zone: str, fmt: str) -> None:
    """The snapshots of TABLE, oldest first, with the run that committed each."""
    emit(build_lake(settings).history(Zone(zone), table), fmt, f"History: {zone}.{table}")
