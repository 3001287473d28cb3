"""Typed errors of etl_service, each with retry semantics and a CLI exit code.

Retry decisions are made on the exception type (``TransientError``), never on its message.
"""

from __future__ import annotations


class TransientError(Exception):
    """Mixin: the operation may succeed if retried later."""


class TerminalError(Exception):
    """Mixin: retrying the same operation will fail the same way."""


class EtlError(Exception):
    """Base of every error raised on purpose by etl_service."""

    exit_code = 1


class ConfigError(EtlError, TerminalError):
    """A setting is missing or invalid."""

    exit_code = 2


class NotInstalledError(EtlError, TerminalError):
    """An optional backend is not installed; the message names the extra to install."""

    exit_code = 3

    def __init__(self, what: str, extra: str) -> None:
        super().__init__(f"{what} is not installed: pip install 'etl-service[{extra}]'")
        self.extra = extra


class BadInputError(EtlError, TerminalError):
    """An input file or payload is unusable; names the source, field and value."""

    exit_code = 4

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        field: str | None = None,
        value: object = None,
        line: int | None = None,
    ) -> None:
        parts = [p for p in (source, f"line {line}" if line is not None else None) if p]
        where = ":".join(parts).replace("\n", "\\n").replace("\r", "\\r")
        detail = " ".join(message.splitlines())  # one line on the terminal, always
        if field is not None:
            detail += f" (field {field!r}"
            detail += f", value {_shown(value)})" if value is not None else ")"
        super().__init__(f"{where}: {detail}" if where else detail)
        self.source = source
        self.field = field
        self.value = value
        self.line = line


def _shown(value: object, limit: int = 120) -> str:
    """``repr(value)``, cut to ``limit`` characters: a whole binary header helps nobody."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


InputError = BadInputError
"""The earlier name of ``BadInputError``, kept for existing callers."""


class SchemaError(BadInputError):
    """A table or file does not have the expected columns."""


class SourceUnavailableError(EtlError, TransientError):
    """A remote source could not be reached or kept failing after retries."""

    exit_code = 5


class SourceRefusedError(EtlError, TerminalError):
    """A remote source answered with a non-retryable refusal (e.g. 404, 401)."""

    exit_code = 5


class DataQualityError(EtlError, TerminalError):
    """A critical data-quality rule failed; nothing was loaded."""

    exit_code = 6


class StoreUnavailableError(EtlError, TransientError):
    """A database, lake or warehouse could not be reached."""

    exit_code = 7


class RunInProgressError(StoreUnavailableError):
    """Another run holds the run lock and kept it past ``ETL_RUN_LOCK_TIMEOUT_S``."""


class LoadError(EtlError, TerminalError):
    """Writing to a store failed; the previous state is intact."""

    exit_code = 7


class IncompatibleSchemaError(LoadError):
    """A lake table cannot take the canonical schema without breaking its readers."""


class CopyError(LoadError):
    """A bulk load rejected a row; names the table, the file and the row when the store does."""

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None) -> None:
        super().__init__(message)
        self.file = file
        self.row = row


class EngineError(EtlError, TerminalError):
    """A compute engine (Spark, DuckDB) failed to start or run."""

    exit_code = 8


class TerminatedError(BaseException):
    """SIGTERM arrived; a BaseException like KeyboardInterrupt, so `except Exception` passes it."""

    exit_code = 128 + 15  # the shell's convention for death by signal 15


EXIT_CODES: dict[str, int] = {
    "ok": 0,
    "unexpected error": 1,
    "configuration": ConfigError.exit_code,
    "missing extra": NotInstalledError.exit_code,
    "bad input": InputError.exit_code,
    "source unavailable or refused": SourceUnavailableError.exit_code,
    "data quality": DataQualityError.exit_code,
    "store unavailable or load failed": LoadError.exit_code,
    "another run in progress": RunInProgressError.exit_code,
    "engine": EngineError.exit_code,
    "terminated by SIGTERM": TerminatedError.exit_code,
}
"""Documented exit codes of the ``etl-service`` command."""
