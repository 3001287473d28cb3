"""Machine-readable output: with ``--log-format json`` summaries and errors are JSON lines."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click

LOG_FORMAT_KEY = "etl_service.log_format"
"""Where the root command keeps ``--log-format`` in the click context's ``meta``."""


def summary_is_json() -> bool:
    """True when the command line asked for JSON (``--log-format json``)."""
    context = click.get_current_context(silent=True)
    return context is not None and context.meta.get(LOG_FORMAT_KEY) == "json"


def write_summary(payload: dict[str, Any]) -> None:
    """One JSON object on stdout: the summary of a command."""
    click.echo(json.dumps(payload, default=str))


def log_format_in(argv: Sequence[str]) -> str:
    """The ``--log-format`` of a command line, before click has parsed it (for its errors)."""
    for index, arg in enumerate(argv):
        if arg == "--log-format" and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith("--log-format="):
            return arg.split("=", 1)[1]
    return "human"


def error_line(fmt: str, text: str, *, kind: str, message: str, exit_code: int) -> None:
    """The one line on stderr that says why a command failed: ``text``, or with
    ``--log-format json`` a JSON object of the error's ``kind``, ``message`` and exit code."""
    if fmt == "json":
        payload = {"level": "error", "error": kind, "exit_code": exit_code, "message": message}
        click.echo(json.dumps(payload), err=True)
        return
    click.echo(text, err=True)
