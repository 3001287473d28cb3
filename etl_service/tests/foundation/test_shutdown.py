"""SIGTERM: a typed exception in the main thread, held back while a run is recorded."""

from __future__ import annotations

import os
import signal
import time

import pytest

from etl_service.errors import TerminatedError
from etl_service.shutdown import raise_on_sigterm, sigterm_deferred

pytestmark = pytest.mark.unit


def _sigterm_self() -> None:
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(5)  # the handler interrupts this at once


def _record_under(steps: list[str]) -> None:
    with sigterm_deferred():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.01)
        steps.append("recorded")
    steps.append("after")


def test_sigterm_raises_in_the_main_thread_and_the_old_handler_comes_back() -> None:
    before = signal.getsignal(signal.SIGTERM)
    start = time.monotonic()
    with raise_on_sigterm(), pytest.raises(TerminatedError, match=r"^terminated by SIGTERM$"):
        _sigterm_self()
    assert time.monotonic() - start < 1
    assert signal.getsignal(signal.SIGTERM) is before
    assert TerminatedError.exit_code == 143


def test_sigterm_in_a_deferred_block_is_raised_when_the_block_ends() -> None:
    steps: list[str] = []
    with raise_on_sigterm(), pytest.raises(TerminatedError):
        _record_under(steps)
    assert steps == ["recorded"]


def test_a_second_sigterm_does_not_cut_the_cleanup_of_the_first() -> None:
    cleaned = False
    with raise_on_sigterm():
        try:
            _sigterm_self()
        except TerminatedError:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.01)
            cleaned = True
    assert cleaned
