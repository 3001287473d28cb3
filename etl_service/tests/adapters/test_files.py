"""The safe reader of local input files: kinds, bounds, gzip, text, JSON and CSV errors."""

from __future__ import annotations

import csv
import gzip
import math
import zipfile
from pathlib import Path

import pytest

from etl_service.errors import BadInputError, InputError, SchemaError
from etl_service.src.adapters import files
from etl_service.src.adapters.sec.client import BulkCompanyFacts

pytestmark = pytest.mark.unit


def test_bad_input_error_is_the_exit_4_input_error_on_one_line() -> None:
    assert InputError is BadInputError
    assert issubclass(SchemaError, BadInputError)
    error = BadInputError("two\nlines", source="f.csv", line=3, field="close", value="x" * 500)
    assert "\n" not in str(error)
    assert str(error).startswith("f.csv:line 3: two lines (field 'close', value 'xxx")
    assert str(error).endswith("...)")
    assert len(str(error)) < 200
    assert error.exit_code == 4


def test_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(b"x" * 2048)
    with pytest.raises(BadInputError, match=r"big.csv: is 2048 bytes, over the 1024 bytes limit"):
        files.read_bytes(path, max_bytes=1024)
    assert files.read_bytes(path, max_bytes=2048) == b"x" * 2048


def test_a_gzip_bomb_is_refused_at_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "bomb.csv.gz"
    path.write_bytes(gzip.compress(b"\0" * 100_000))
    assert path.stat().st_size < 1024
    with pytest.raises(BadInputError, match="decompresses to over the 1024 bytes limit"):
        files.read_bytes(path, max_bytes=1024)


def test_gzip_is_recognised_by_its_magic_bytes_too(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_bytes(gzip.compress(b"<html></html>"))
    assert files.read_bytes(path) == b"<html></html>"
    assert files.read_bytes(path, gunzip=False).startswith(files.GZIP_MAGIC)


def test_text_errors_name_the_offset_and_line() -> None:
    with pytest.raises(BadInputError) as info:
        files.decode_text(b"a\nb\nc\xe9d", "f.txt")
    assert str(info.value) == "f.txt:line 3: not UTF-8 text: byte b'\\xe9' at offset 5"
    with pytest.raises(BadInputError, match=r"f\.txt:line 2: binary content, not text: NUL"):
        files.decode_text(b"a\n\0", "f.txt")
    assert files.decode_text("\ufeffok".encode(), "f.txt") == "ok"


def test_json_numbers_out_of_range_decode_to_non_finite_values_for_the_caller() -> None:
    doc = files.parse_json(
        b'{"nan": NaN, "inf": -Infinity, "big": 1e400, "digits": ' + b"9" * 5000 + b"}", "f"
    )
    assert math.isnan(doc["nan"])
    assert doc["inf"] == -math.inf
    assert doc["big"] == math.inf
    assert doc["digits"] == math.inf  # Python refuses int() of over 4300 digits
    assert files.parse_json(b"[10000000000000000000000000000000]", "f") == [10**31]


def test_json_errors_are_bad_input_naming_line_and_column() -> None:
    with pytest.raises(BadInputError, match=r"^f.json:line 2: malformed JSON: .* at column 7$"):
        files.parse_json(b'{"a": 1,\n "b": }', "f.json")
    with pytest.raises(BadInputError, match=r"^f\.json: JSON nested too deeply$"):
        files.parse_json(b"[" * 50_000 + b"]" * 50_000, "f.json")


def test_csv_errors_name_the_line() -> None:
    reader = csv.reader(files.csv_text("a,b\n1,2\n3," + "x" * 200_000 + "\n"))
    with (
        pytest.raises(BadInputError, match=r"^f\.csv:line 3: unreadable CSV: field larger"),
        files.csv_errors(reader, "f.csv"),
    ):
        list(reader)


def test_a_bulk_zip_member_over_the_limit_is_refused_unread(tmp_path: Path) -> None:
    archive = tmp_path / "companyfacts.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("CIK0000320193.json", b" " * 10_000)
    with pytest.raises(BadInputError, match=r"CIK0000320193\.json: over the input size limit"):
        BulkCompanyFacts(archive, max_bytes=1000).get(320193)
