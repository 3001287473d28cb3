"""``--out``: stdout, files, symlinks, devices and bad paths; a reader that goes away."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from etl_service import snapshot
from etl_service.cli import main

pytestmark = pytest.mark.unit

PAGE = str(snapshot.WIKIPEDIA_PAGE)


def _extract(*out: str) -> int:
    return main(["extract", "companies", "--input", PAGE, "--format", "csv", *out])


def test_out_dash_is_stdout(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert _extract("--out", "-") == 0
    lines = capsysbinary.readouterr().out.decode().splitlines()
    assert lines[0].startswith('"ticker","name",')
    assert len(lines) == 504


def test_a_symlinked_out_is_written_through_and_stays_a_link(tmp_path: Path) -> None:
    target = tmp_path / "real.csv"
    target.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    assert _extract("--out", str(link)) == 0
    assert link.is_symlink()
    assert link.resolve() == target
    assert target.read_text().startswith('"ticker","name",')
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_link_to_a_device_is_written_in_place_never_replaced(tmp_path: Path) -> None:
    link = tmp_path / "null.csv"
    link.symlink_to(os.devnull)
    assert _extract("--out", str(link)) == 0
    assert Path(os.devnull).is_char_device()
    assert link.is_symlink()


def _under_a_file(root: Path) -> Path:
    (root / "file").write_text("x")
    return root / "file" / "out.csv"


def _a_folder(root: Path) -> Path:
    (root / "folder").mkdir()
    return root / "folder"


@pytest.mark.parametrize(
    ("make", "message"),
    [(_under_a_file, "out.csv: cannot write (File exists)"), (_a_folder, "is a directory")],
    ids=["under-a-regular-file", "a-folder"],
)
def test_an_out_that_cannot_be_a_file_is_one_clear_line_and_exit_2(
    tmp_path: Path,
    make: Callable[[Path], Path],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = make(tmp_path)
    assert _extract("--out", str(out)) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not list(tmp_path.rglob(".*.tmp"))


def test_a_reader_that_goes_away_ends_the_command_quietly() -> None:
    # The bundled daily closes are ~3 MB of CSV, more than a pipe holds (up to 1 MB on
    # some kernels), so the write meets the closed pipe; nothing is said about it.
    prices = str(snapshot.STOOQ_DAILY)
    proc = subprocess.Popen(
        [sys.executable, "-m", "etl_service", "extract", "prices", "--input", prices],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "ETL_DATA_DIR": "/nonexistent-unused"},
    )
    assert proc.stdout is not None
    assert proc.stdout.read(10) == b'"ticker","'
    proc.stdout.close()  # like `| head -c 10`
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert err == b""
