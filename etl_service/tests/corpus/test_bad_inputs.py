"""Every case of the bad-input corpus through the real CLI entry: exit 4, one line naming
the input, no traceback, nothing written."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from etl_service.cli import main
from etl_service.errors import EXIT_CODES
from etl_service.tests.corpus.cases import CASES, Case

pytestmark = pytest.mark.unit


def _arguments(case: Case, given: Path, out: Path) -> list[str]:
    if case.by_cik is not None:
        return [*case.command, "--cik", case.by_cik, "--out", str(out)]
    if case.positional:
        return [*case.command, str(given), "--out", str(out)]
    return [*case.command, "--input", str(given), "--out", str(out)]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_one_clear_line_and_writes_nothing(
    case: Case,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    given = case.make(inputs)
    before = sorted(p.name for p in inputs.rglob("*"))
    if case.by_cik is not None:
        monkeypatch.setenv("ETL_SEC__BULK_PATH", str(given))
    out = tmp_path / "out" / "result.csv"

    code = main(_arguments(case, given, out))

    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert code == EXIT_CODES["bad input"], captured.err
    assert len(lines) == 1, captured.err
    [line] = lines
    assert line.startswith("error: ")
    assert given.name.replace("\n", "\\n") in line
    assert re.search(case.expect, line), line
    assert "Traceback" not in captured.err
    assert captured.out == ""
    assert not out.exists()
    # nothing else written: no output folder, no database, no lake, inputs untouched
    assert sorted(os.listdir(tmp_path)) == ["in"]
    assert sorted(p.name for p in inputs.rglob("*")) == before


def test_the_corpus_covers_every_input_kind_with_sixty_cases() -> None:
    kinds = {c.id.split("-")[0] for c in CASES}
    assert kinds == {"page", "companyfacts", "bulk", "prices", "fsds"}
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)
