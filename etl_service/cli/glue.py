"""``etl-service glue``: deploy and start the AWS Glue job, run it locally, its DQDL."""

from __future__ import annotations

from itertools import groupby
from pathlib import Path

import click
from rich.console import Console

from etl_service.settings import Settings, SourceMode


@click.group()
def glue() -> None:
    """The AWS Glue job (ETL_GLUE__*): deploy, start, run locally, data quality as DQDL."""


@glue.command()
@click.option(
    "--wheel",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Upload this etl_service wheel instead of building one from the sources.",
)
@click.pass_obj
def deploy(settings: Settings, wheel: Path | None) -> None:
    """Upload the wheel and the script to the lake's bucket, create or update the job and
    its schedule (idempotent: says what changed)."""
    from etl_service.aws.glue.deploy import deploy as deploy_job

    changes = deploy_job(settings, wheel)
    for change in changes:
        click.echo(f"changed: {change}")
    if not changes:
        click.echo(f"nothing to change: {settings.glue.job_name} is deployed as intended")


@glue.command()
@click.option("--wait", is_flag=True, help="Follow the run to its end; fail unless it succeeds.")
@click.pass_obj
def start(settings: Settings, wait: bool) -> None:
    """Start a run of the deployed job and print its run id."""
    from etl_service.aws.glue.deploy import start_run, wait_for_run
    from etl_service.aws.session import boto3_session, client

    name = settings.glue.job_name
    client_ = client(boto3_session(settings), "glue", settings.aws_endpoint_url)
    run_id = start_run(client_, name)
    click.echo(f"started {name} run {run_id}")
    if wait:
        run = wait_for_run(
            client_,
            name,
            run_id,
            settings.glue.poll_s,
            on_state=lambda state: click.echo(f"{run_id}: {state}"),
        )
        click.echo(f"{run_id} succeeded in {run.get('ExecutionTime', '?')}s")


@glue.command("run-local")
@click.option(
    "--source",
    type=click.Choice([m.value for m in SourceMode]),
    default=None,
    help="live, snapshot, or auto. Default: ETL_SOURCE or auto.",
)
@click.pass_obj
def run_local(settings: Settings, source: str | None) -> None:
    """Run the Glue job script end to end on local Spark (awsglue's local stand-in)."""
    from etl_service.aws.glue.local_run import run_local as run_job
    from etl_service.cli.run import print_summary

    if source:
        settings = settings.model_copy(update={"source": SourceMode(source)})
    job = run_job(settings)
    if job.report is not None:
        print_summary(job.report, Console(width=120))
    click.echo(f"raw zone, new payloads since the last run: {job.new_raw_payloads or 'none'}")


@glue.command()
@click.pass_obj
def dqdl(settings: Settings) -> None:
    """The data-quality rules as DQDL rulesets per table, and the mapping rule by rule."""
    from etl_service.aws.glue.dqdl import export, ruleset

    mapped = export(settings.quality)
    for table, rules in groupby(sorted(mapped, key=lambda m: m.table), key=lambda m: m.table):
        click.echo(f"# {table}: EvaluateDataQuality ruleset")
        click.echo(ruleset(rules))
        click.echo()
    click.echo("# mapping, rule by rule")
    for m in mapped:
        target = m.dqdl if m.dqdl else "not expressible in DQDL"
        level = " [row-level]" if m.row_level else ""
        click.echo(f"{m.rule} on {m.table} ({m.severity}): {target}{level}")
        if m.note:
            click.echo(f"    note: {m.note}")
