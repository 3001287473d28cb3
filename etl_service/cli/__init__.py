"""The ``etl-service`` command: settings are built here, once, and passed down."""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Sequence

import click
from pydantic import ValidationError
from pydantic_settings import SettingsError

from etl_service import __version__
from etl_service.cli._logging import configure_logging
from etl_service.cli._summary import LOG_FORMAT_KEY, error_line, log_format_in
from etl_service.errors import (
    EXIT_CODES,
    ConfigError,
    DataQualityError,
    EtlError,
    TerminatedError,
)
from etl_service.redact import environment_secrets, one_line, redact_text
from etl_service.settings import Settings
from etl_service.shutdown import raise_on_sigterm
from etl_service.src.adapters.files import set_input_limit

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
    ctx.meta[LOG_FORMAT_KEY] = log_format
    ctx.obj = _settings()
    set_input_limit(ctx.obj.max_input_bytes)


_SECRET_PARTS = ("password", "secret", "key", "token", "database_url")


def _settings() -> Settings:
    """The settings, or a ``ConfigError`` of one line per problem: setting, value, expectation."""
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigError(f"invalid settings: {_problems(exc)}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"the .env file is not UTF-8 text (byte {exc.start})") from None
    except (SettingsError, ValueError) as exc:
        field = re.search(r'field "(\w+)"', str(exc))
        if field:
            raise ConfigError(
                f"invalid settings: ETL_{field.group(1).upper()}: not valid JSON "
                '(a list is written ["lake", "database"])'
            ) from None
        raise ConfigError(f"invalid settings: {' '.join(str(exc).split())}") from None


def _problems(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        name = "ETL_" + "__".join(str(part) for part in error["loc"]).upper()
        secret = any(part in name.lower() for part in _SECRET_PARTS)
        value = "" if secret or error["type"] == "missing" else f"={error.get('input')!r}"
        problems.append(f"{name}{value}: {error['msg']}")
    return "; ".join(problems)


def _register() -> None:
    from etl_service.cli import (
        audit,
        db,
        ecs,
        export,
        extract,
        glue,
        lake,
        query,
        recover,
        report,
        run,
    )

    cli.add_command(db.db)
    cli.add_command(ecs.ecs)
    cli.add_command(glue.glue)
    cli.add_command(export.export)
    cli.add_command(extract.extract)
    cli.add_command(lake.lake)
    cli.add_command(run.run)
    cli.add_command(query.query)
    cli.add_command(recover.recover)
    cli.add_command(report.report)
    cli.add_command(audit.runs)
    cli.add_command(audit.quarantine)


def _safe(exc: BaseException) -> str:
    """The error's message without any configured secret, on one line unless it is a
    data-quality report."""
    text = str(exc) if isinstance(exc, DataQualityError) else one_line(exc)
    return redact_text(text, environment_secrets(os.environ))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; map typed errors to exit codes with one clear line on stderr."""
    _register()
    args = list(argv if argv is not None else sys.argv[1:])
    with raise_on_sigterm():
        return _main(argv, "--debug" in args, log_format_in(args))


def _main(argv: Sequence[str] | None, debug: bool, log_format: str) -> int:
    # `etl-service ... | head`: click itself silences a reader that goes away during the
    # command and exits 0; what is still buffered is flushed here, quietly as well.
    try:
        cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        if log_format == "json":
            kind, message = type(exc).__name__, exc.format_message()
            error_line(log_format, message, kind=kind, message=message, exit_code=exc.exit_code)
        else:
            exc.show()  # the usage and the message, as click prints them
        return exc.exit_code
    except click.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except TerminatedError as exc:
        # Fixed text: a codec the signal interrupted rewraps the message ("decoding with ...").
        message = "terminated by SIGTERM"
        error_line(
            log_format,
            f"stopped: {message}",
            kind="TerminatedError",
            message=message,
            exit_code=exc.exit_code,
        )
        return exc.exit_code
    except EtlError as exc:
        if debug:
            logger.exception("failed")
        message = _safe(exc)
        error_line(
            log_format,
            f"error: {message}",
            kind=type(exc).__name__,
            message=message,
            exit_code=exc.exit_code,
        )
        return exc.exit_code
    except Exception as exc:
        if debug:
            raise
        message = f"{type(exc).__name__}: {_safe(exc)}"
        error_line(
            log_format,
            f"unexpected error: {message} (run with --debug for details)",
            kind="UnexpectedError",
            message=message,
            exit_code=1,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
