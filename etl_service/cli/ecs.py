"""``etl-service ecs``: the pipeline as a one-off Fargate task of the deployed stack."""

from __future__ import annotations

import click

from etl_service.errors import EngineError
from etl_service.settings import Settings


@click.group()
def ecs() -> None:
    """Run on ECS/Fargate (ETL_ECS__*: cluster, task definition, container, network)."""


@ecs.command("run-task")
@click.argument("command", nargs=-1)
@click.option(
    "-e",
    "--env",
    "environment",
    multiple=True,
    metavar="ETL_NAME=VALUE",
    help="Add a setting to the task's environment (repeatable; never a secret).",
)
@click.option("--wait", is_flag=True, help="Wait for the task to stop; exit with its exit code.")
@click.option(
    "--timeout-s",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="With --wait: give up waiting after this many seconds (the task keeps running).",
)
@click.pass_context
def run_task(
    ctx: click.Context,
    command: tuple[str, ...],
    environment: tuple[str, ...],
    wait: bool,
    timeout_s: float | None,
) -> None:
    """Start the task definition once, running `etl-service COMMAND` (default: run).

    \b
    Examples:
      etl-service ecs run-task --wait
      etl-service ecs run-task -e ETL_SOURCE=snapshot -- run --allow-shrink
    """
    from etl_service.aws.ecs import start_task, wait_for_exit
    from etl_service.aws.session import boto3_session, client

    settings: Settings = ctx.obj
    overrides = dict(_pair(item) for item in environment)
    ecs_client = client(boto3_session(settings), "ecs", settings.aws_endpoint_url)
    task = start_task(ecs_client, settings.ecs, command or ("run",), overrides)
    click.echo(f"started task {task.task_id} on cluster {task.cluster} ({task.task_definition})")
    click.echo(task.where_logs_are())
    if not wait:
        return
    ended = wait_for_exit(
        ecs_client, task, settings.ecs.container, poll_s=settings.ecs.poll_s, timeout_s=timeout_s
    )
    if ended.exit_code is None:
        raise EngineError(f"task {task.task_id} stopped before its container ran: {ended.reason}")
    click.echo(f"task {task.task_id} stopped: exit code {ended.exit_code} ({ended.reason})")
    ctx.exit(ended.exit_code)


def _pair(item: str) -> tuple[str, str]:
    name, sep, value = item.partition("=")
    if not sep or not name:
        raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--env")
    return name, value
