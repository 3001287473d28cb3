"""The ``etl-service`` command: settings are built here, once, and passed down."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

import click
from pydantic import ValidationError

from etl_service import __version__
from etl_service.cli._logging import configure_logging
from etl_service.errors import EXIT_CODES, ConfigError, EtlError, TerminatedError
from etl_service.settings import Settings
from etl_service.shutdown import raise_on_sigterm

logger = logging.getLogger(__name__)

_EXIT_HELP = "\b\nExit codes:\n" + "\n".join(
    f"  {code:>3}  {what}" for what, code in EXIT_CODES.items()
)


@click.group(epilog=_EXIT_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="etl-service")
@click.option(
    "--log-format", type=click.Choice(["human", "json"]), default="human", show_default=True
)
@click.option("-v", "--verbose", is_flag=True, help="Log at DEBUG level.")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, log_format: str, verbose: bool, debug: bool) -> None:
    """ETL for S&P 500 constituents, quarterly financials, prices and P/E."""
    configure_logging(log_format, logging.DEBUG if verbose or debug else logging.INFO)
    ctx.meta["debug"] = debug
    ctx.obj = _settings()


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"ETL_{'__'.join(str(part) for part in e['loc']).upper()}: {e['msg']}"
            for e in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from exc


def _register() -> None:
    from etl_service.cli import db, export, extract, query, run

    cli.add_command(db.db)
    cli.add_command(export.export)
    cli.add_command(extract.extract)
    cli.add_command(run.run)
    cli.add_command(query.query)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; map typed errors to exit codes with one clear line on stderr."""
    _register()
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    with raise_on_sigterm():
        return _main(argv, debug)


def _main(argv: Sequence[str] | None, debug: bool) -> int:
    try:
        cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except TerminatedError as exc:
        click.echo(f"stopped: {exc}", err=True)
        return exc.exit_code
    except EtlError as exc:
        if debug:
            logger.exception("failed")
        click.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except Exception as exc:
        if debug:
            raise
        click.echo(
            f"unexpected error: {type(exc).__name__}: {exc} (run with --debug for details)",
            err=True,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
