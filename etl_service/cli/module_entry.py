"""``python -m`` entry points: each parses its own options and runs the matching
``etl-service`` command with them (one place maps errors to exit codes)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from etl_service.settings import SourceMode

_GLOBAL_OPTIONS = (
    click.option(
        "--log-format", type=click.Choice(["human", "json"]), default="human", show_default=True
    ),
    click.option("-v", "--verbose", is_flag=True, help="Log at DEBUG level."),
    click.option("--debug", is_flag=True, help="Show tracebacks for errors."),
)


def _forward(
    prog: str,
    argv: list[str] | None,
    options: list[Callable[[Any], Any]],
    build: Callable[..., list[str]],
    doc: str,
) -> int:
    """Parse ``argv`` with ``options``, then run ``etl-service`` with the global options and
    what ``build`` makes of the rest."""
    from etl_service.cli import main

    forwarded: list[str] = []

    def command(log_format: str, verbose: bool, debug: bool, **rest: Any) -> None:
        forwarded.extend(["--log-format", log_format])
        forwarded.extend(flag for flag, on in (("--verbose", verbose), ("--debug", debug)) if on)
        forwarded.extend(build(**rest))

    command.__doc__ = doc
    for option in (*reversed(_GLOBAL_OPTIONS), *reversed(options)):
        command = option(command)
    parser = click.command(context_settings={"help_option_names": ["-h", "--help"]})(command)
    try:
        parser.main(args=argv, prog_name=prog, standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    if not forwarded:  # --help was shown
        return 0
    return main(forwarded)


def module_main(
    engine: str, prog: str, argv: list[str] | None = None, pipeline: str | None = None
) -> int:
    """Parse this pipeline's options and run ``etl-service run --engine ENGINE`` with them."""
    governed = pipeline == "lake_formation"
    options = [
        click.option(
            "--source",
            type=click.Choice([m.value for m in SourceMode]),
            default=None,
            help="live, snapshot, or auto (live, falling back to the bundled snapshot). "
            "Default: ETL_SOURCE or auto.",
        ),
        click.option(
            "--spark-mode",
            metavar="MASTER",
            default=None,
            hidden=engine != "spark",
            help="local[*], local[N] or spark://HOST:PORT. Default: ETL_SPARK__MASTER or local[*].",
        ),
    ]
    if governed:
        options += [
            click.option(
                "--dry-run-governance",
                is_flag=True,
                help="Only check the Lake Formation governance after the lake commits: log "
                "each change it would make as a warning, change nothing.",
            ),
            click.option("--skip-governance", is_flag=True, help="Leave Lake Formation alone."),
            click.option(
                "--governance-config",
                type=click.Path(dir_okay=False, path_type=Path),
                default=None,
                help="The governance config (TOML). Default: ETL_LAKE_FORMATION__CONFIG or "
                "the bundled etl_service/aws/lake_formation/governance.toml.",
            ),
        ]

    def build(
        source: str | None,
        spark_mode: str | None,
        dry_run_governance: bool = False,
        skip_governance: bool = False,
        governance_config: Path | None = None,
    ) -> list[str]:
        if dry_run_governance and skip_governance:
            raise click.UsageError("--dry-run-governance and --skip-governance exclude each other")
        args = ["run", "--engine", engine]
        args += ["--pipeline", pipeline] if pipeline else []
        args += ["--source", source] if source else []
        args += ["--spark-mode", spark_mode] if spark_mode else []
        if dry_run_governance or skip_governance:
            args += ["--governance", "check" if dry_run_governance else "skip"]
        args += ["--governance-config", str(governance_config)] if governance_config else []
        return args

    doc = "Run the ETL job on this engine (settings come from ETL_* variables and .env)."
    if governed:
        doc = (
            "Run the ETL job on Spark into an s3:// lake in the Glue catalog (ETL_LAKE_URI, "
            "ETL_CATALOG__TYPE=glue), then apply the lake's Lake Formation governance, then "
            "commit the other sinks (ETL_SINKS, e.g. snowflake)."
        )
    return _forward(prog, argv, options, build, doc)


def governance_main(prog: str, argv: list[str] | None = None) -> int:
    """Parse the governance setup's options and run ``etl-service lake govern`` with them."""
    options = [
        click.option(
            "--dry-run",
            is_flag=True,
            help="Print the plan (grant, revoke, tag ...); change nothing.",
        ),
        click.option(
            "--config",
            type=click.Path(dir_okay=False, path_type=Path),
            default=None,
            help="The governance config (TOML). Default: ETL_LAKE_FORMATION__CONFIG or the "
            "bundled etl_service/aws/lake_formation/governance.toml.",
        ),
    ]

    def build(dry_run: bool, config: Path | None) -> list[str]:
        return ["lake", "govern", *(["--dry-run"] if dry_run else [])] + (
            ["--config", str(config)] if config else []
        )

    doc = (
        "Bring Lake Formation to the governance config: data lake admins and defaults, the "
        "lake's S3 location, LF-tags on databases, tables and columns, and exactly the "
        "configured grants (others on the lake are revoked). Idempotent; prints each change "
        "and how many."
    )
    return _forward(prog, argv, options, build, doc)
