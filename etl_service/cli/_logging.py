"""Log handlers for the command line (human or JSON lines); library code never calls this."""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime

from etl_service.redact import RedactingFilter, environment_secrets

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with any ``extra=`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        payload.update({k: v for k, v in record.__dict__.items() if k not in _RESERVED})
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


def configure_logging(fmt: str, level: int) -> None:
    """Install one stderr handler on the root logger; it masks secrets in every record."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter(environment_secrets(os.environ)))
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    quiet = ("httpx", "httpcore", "botocore", "urllib3", "py4j", "alembic.runtime", "snowflake")
    for name in quiet:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    # PySpark logs every failed query as a JSON blob with the Java stack; the CLI already
    # prints the error in one line (and the traceback with --debug).
    for chatty in ("DataFrameQueryContextLogger", "SQLQueryContextLogger"):
        logging.getLogger(chatty).setLevel(
            logging.DEBUG if level <= logging.DEBUG else logging.CRITICAL
        )
