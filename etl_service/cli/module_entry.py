"""``python -m etl_service.pipelines.<engine>_pipeline``: the run command for one engine."""

from __future__ import annotations

import click

from etl_service.settings import SourceMode


def module_main(engine: str, prog: str, argv: list[str] | None = None) -> int:
    """Parse this engine's options and run ``etl-service run --engine ENGINE`` with them."""
    from etl_service.cli import main

    forwarded: list[str] = []

    @click.command(context_settings={"help_option_names": ["-h", "--help"]})
    @click.option(
        "--source",
        type=click.Choice([m.value for m in SourceMode]),
        default=None,
        help="live, snapshot, or auto (live, falling back to the bundled snapshot). "
        "Default: ETL_SOURCE or auto.",
    )
    @click.option(
        "--spark-mode",
        metavar="MASTER",
        default=None,
        hidden=engine != "spark",
        help="local[*], local[N] or spark://HOST:PORT. Default: ETL_SPARK__MASTER or local[*].",
    )
    @click.option(
        "--log-format", type=click.Choice(["human", "json"]), default="human", show_default=True
    )
    @click.option("-v", "--verbose", is_flag=True, help="Log at DEBUG level.")
    @click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
    def command(
        source: str | None, spark_mode: str | None, log_format: str, verbose: bool, debug: bool
    ) -> None:
        """Run the ETL job on this engine (settings come from ETL_* variables and .env)."""
        forwarded.extend(["--log-format", log_format])
        forwarded.extend(flag for flag, on in (("--verbose", verbose), ("--debug", debug)) if on)
        forwarded.extend(["run", "--engine", engine])
        if source:
            forwarded.extend(["--source", source])
        if spark_mode:
            forwarded.extend(["--spark-mode", spark_mode])

    try:
        command.main(args=argv, prog_name=prog, standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    if not forwarded:  # --help was shown
        return 0
    return main(forwarded)
