"""SIGTERM as a typed exception in the main thread, held back while a run is being recorded.

ECS and Glue send SIGTERM some seconds before SIGKILL. Raising ``TerminatedError`` from the
handler unwinds the run like any failure: the pipeline records it as ``failed``, staged lake
files are discarded and the run lock's context manager releases the lock. Only entry
points install the handler; ``sigterm_deferred`` is harmless without it.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

from etl_service.errors import TerminatedError

logger = logging.getLogger(__name__)


@dataclass
class _State:
    deferring: int = 0
    pending: bool = False
    raised: bool = False


_state = _State()


def _terminate() -> None:
    _state.pending = False
    _state.raised = True
    raise TerminatedError("terminated by SIGTERM")


def _on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    if _state.raised:
        # The first SIGTERM is already unwinding the run; a second must not cut its cleanup.
        logger.warning("SIGTERM again while stopping; still stopping")
        return
    if _state.deferring:
        _state.pending = True
        return
    _terminate()


@contextmanager
def raise_on_sigterm() -> Iterator[None]:
    """For the block, SIGTERM raises ``TerminatedError`` in the main thread (entry points only)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers; an embedding host keeps its own
        return
    _state.pending = _state.raised = False
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def sigterm_deferred() -> Iterator[None]:
    """Hold SIGTERM back for the block, e.g. while writing a run record; raise it after."""
    _state.deferring += 1
    try:
        yield
    finally:
        _state.deferring -= 1
    if _state.pending and not _state.deferring:
        _terminate()
