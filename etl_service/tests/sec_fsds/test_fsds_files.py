"""Locating a quarter's files: folders, .gz members, zips, and the errors for bad input."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pytest

from etl_service.errors import InputError, SchemaError
from etl_service.src.adapters.sec.fsds_files import check_header, locate_quarter
from etl_service.tests.sec_fsds.conftest import QUARTER_2009Q3
from etl_service.tests.sec_fsds.quarters import write_quarter, write_table

pytestmark = pytest.mark.unit

SUB_REQUIRED = ("adsh", "cik", "form")
NUM_REQUIRED = ("adsh", "tag", "value")


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_folder_of_gzipped_files_is_read_with_its_own_header_order(tmp_path: Path) -> None:
    found = locate_quarter(QUARTER_2009Q3, tmp_path, SUB_REQUIRED, NUM_REQUIRED)

    assert found.name == "2009q3"
    assert (found.sub.name, found.num.name) == ("sub.txt.gz", "num.txt.gz")
    assert found.num_columns == (
        "adsh", "tag", "version", "ddate", "qtrs", "uom", "segments", "coreg", "value", "footnote"
    )  # fmt: skip
    assert len(found.sub_columns) == 36
    assert found.sub_columns[:3] == ("adsh", "cik", "name")


def test_plain_txt_is_preferred_and_older_layout_accepted(tmp_path: Path) -> None:
    folder = write_quarter(tmp_path / "2009q3", [], [])

    found = locate_quarter(folder, tmp_path / "staging", SUB_REQUIRED, NUM_REQUIRED)

    assert found.sub == folder / "sub.txt"
    assert found.num_columns[3] == "coreg"  # the pre-2024 layout: no segments column


def test_zip_members_are_extracted_to_the_staging_folder(tmp_path: Path) -> None:
    sub = gzip.decompress((QUARTER_2009Q3 / "sub.txt.gz").read_bytes())
    num = gzip.decompress((QUARTER_2009Q3 / "num.txt.gz").read_bytes())
    archive = _zip(tmp_path / "2009q3.zip", {"sub.txt": sub, "num.txt": num, "tag.txt": b"x"})

    found = locate_quarter(archive, tmp_path / "staging", SUB_REQUIRED, NUM_REQUIRED)

    assert found.name == "2009q3"
    assert found.sub == tmp_path / "staging" / "2009q3" / "sub.txt"
    assert found.num.read_bytes() == num
    assert (found.sub_source, found.num_source) == (f"{archive}/sub.txt", f"{archive}/num.txt")
    assert not (tmp_path / "staging" / "2009q3" / "tag.txt").exists()


def test_zip_member_with_a_wrong_header_is_named_inside_the_zip(tmp_path: Path) -> None:
    archive = _zip(
        tmp_path / "2009q3.zip", {"sub.txt": b"adsh\tcik\tform\n", "num.txt": b"adsh\ttag\n"}
    )

    with pytest.raises(SchemaError) as info:
        locate_quarter(archive, tmp_path / "staging", SUB_REQUIRED, NUM_REQUIRED)

    assert (info.value.source, info.value.field) == (f"{archive}/num.txt", "value")


def test_zip_without_num_txt_names_the_member(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "2009q3.zip", {"sub.txt": b"adsh\tcik\tform\n"})

    with pytest.raises(InputError) as info:
        locate_quarter(archive, tmp_path, SUB_REQUIRED, NUM_REQUIRED)

    assert str(info.value) == f"{archive}: missing member num.txt (field 'num.txt')"


def test_corrupt_zip_is_an_input_error(tmp_path: Path) -> None:
    archive = tmp_path / "2009q3.zip"
    archive.write_bytes(b"PK not really a zip")

    with pytest.raises(InputError, match="not a readable zip file"):
        locate_quarter(archive, tmp_path, SUB_REQUIRED, NUM_REQUIRED)


def test_folder_without_num_txt_names_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "2009q3"
    folder.mkdir()
    write_table(folder / "sub.txt", SUB_REQUIRED, [])

    with pytest.raises(InputError) as info:
        locate_quarter(folder, tmp_path, SUB_REQUIRED, NUM_REQUIRED)

    assert str(info.value) == f"{folder}: missing file num.txt (or num.txt.gz) (field 'num.txt')"


@pytest.mark.parametrize(
    ("name", "message"),
    [("nowhere", "no such file"), ("2009q3.csv", "expected a quarter folder")],
)
def test_path_that_is_not_a_quarter(tmp_path: Path, name: str, message: str) -> None:
    if name.endswith(".csv"):
        (tmp_path / name).write_text("a,b\n")

    with pytest.raises(InputError, match=message) as info:
        locate_quarter(tmp_path / name, tmp_path, SUB_REQUIRED, NUM_REQUIRED)

    assert info.value.source == str(tmp_path / name)


def test_header_without_a_required_column_names_file_and_column(tmp_path: Path) -> None:
    path = write_table(tmp_path / "num.txt", ("adsh", "tag", "val"), [("a", "b", "1")])

    with pytest.raises(SchemaError) as info:
        check_header(path, NUM_REQUIRED)

    assert info.value.source == str(path)
    assert info.value.field == "value"
    assert info.value.line == 1
    assert "found: adsh, tag, val" in str(info.value)


def test_empty_file_and_duplicate_column_are_schema_errors(tmp_path: Path) -> None:
    empty = tmp_path / "sub.txt"
    empty.write_text("")
    doubled = write_table(tmp_path / "num.txt", ("adsh", "tag", "tag", "value"), [])

    with pytest.raises(SchemaError, match="empty file"):
        check_header(empty, SUB_REQUIRED)
    with pytest.raises(SchemaError, match="duplicate column") as info:
        check_header(doubled, NUM_REQUIRED)
    assert info.value.field == "tag"


def test_header_with_bom_and_crlf_is_read(tmp_path: Path) -> None:
    path = tmp_path / "sub.txt"
    path.write_bytes(b"\xef\xbb\xbfadsh\tcik\tform\r\nx\t1\t10-Q\r\n")

    assert check_header(path, SUB_REQUIRED) == ("adsh", "cik", "form")


def test_unreadable_gzip_header_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "num.txt.gz"
    path.write_bytes(b"not gzip at all")

    with pytest.raises(InputError, match="cannot read the header") as info:
        check_header(path, NUM_REQUIRED)

    assert info.value.source == str(path)
