"""``etl-service lake``: set up the lake (bucket, catalog, Lake Formation governance), list its
tables and history."""

from __future__ import annotations

from pathlib import Path

import click

from etl_service.cli.query import FORMAT, emit
from etl_service.pipelines.compose import build_governance, build_lake
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
@click.option(
    "--dry-run", is_flag=True, help="Print the plan (grant, revoke, tag ...); change nothing."
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The governance config (TOML). Default: ETL_LAKE_FORMATION__CONFIG or the bundled "
    "etl_service/aws/lake_formation/governance.toml.",
)
@click.pass_obj
def govern(settings: Settings, dry_run: bool, config_path: Path | None) -> None:
    """Bring Lake Formation to the governance config (idempotent; prints each change).

    Data lake admins and no defaults for IAM_ALLOWED_PRINCIPALS, the s3:// lake's location
    registered, LF-tags on its databases, tables and columns, and exactly the configured
    grants on it: others are revoked. Needs ETL_CATALOG__TYPE=glue and `lake setup` first.
    """
    changes = build_governance(settings, build_lake(settings), config=config_path).run(dry_run)
    for change in changes:
        click.echo(str(change))
    click.echo(
        f"{len(changes)} changes" + (" planned (dry run: nothing changed)" if dry_run else "")
    )


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
