"""``etl-service recover``: finish or clean up after a run killed between database and lake."""

from __future__ import annotations

import click

from etl_service.pipelines.compose import recovery_session
from etl_service.pipelines.recovery import recover as recover_stores
from etl_service.settings import Settings


@click.command()
@click.pass_obj
def recover(settings: Settings) -> None:
    """Roll the lake forward to the committed database, or discard what a run staged and
    never committed, and say which (every run does this first, too)."""
    with recovery_session(settings) as (database, lake):
        outcome = recover_stores(database, lake, scan=True)
    click.echo(outcome.describe())
