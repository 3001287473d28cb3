"""Data files of the lake: URIs to filesystem paths, Arrow to Parquet, and staged folders.

A staged folder holds Parquet files that no snapshot references yet. Each file of a
partitioned table holds one partition value and keeps the partition column itself, so the
Iceberg commit can read the value from the file's statistics (as ``add_files`` does).
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

SCHEMES = ("file://", "s3://")
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"


def fs_path(uri: str) -> str:
    """The path of ``uri`` on its pyarrow filesystem (``bucket/key`` on S3)."""
    for scheme in SCHEMES:
        if uri.startswith(scheme):
            return uri.removeprefix(scheme)
    return uri


def to_uri(scheme_of: str, path: str) -> str:
    """``path`` on the filesystem of the URI ``scheme_of``, as a URI."""
    scheme = next((s for s in SCHEMES if scheme_of.startswith(s)), "file://")
    return f"{scheme}{path}"


def write_arrow(
    fs: pafs.FileSystem, table: pa.Table, folder: str, partition_by: Sequence[str] = ()
) -> None:
    """Write ``table`` into the new folder ``folder``: one file per partition value."""
    fs.create_dir(folder, recursive=True)
    if table.num_rows == 0:
        return
    if not partition_by:
        pq.write_table(table, f"{folder}/part-00000.parquet", filesystem=fs)
        return
    values = table.select(list(partition_by)).group_by(list(partition_by)).aggregate([])
    for number, row in enumerate(values.to_pylist()):
        mask = None
        for column, value in row.items():
            test = pc.is_null(table[column]) if value is None else pc.equal(table[column], value)
            mask = test if mask is None else pc.and_(mask, test)
        sub = "/".join(f"{c}={NULL_PARTITION if v is None else v}" for c, v in row.items())
        fs.create_dir(f"{folder}/{sub}", recursive=True)
        part = table.filter(mask)
        pq.write_table(part, f"{folder}/{sub}/part-{number:05d}.parquet", filesystem=fs)


def data_files(fs: pafs.FileSystem, folder: str) -> list[str]:
    """The paths of the Parquet files with rows under ``folder``; other files are removed.

    Writers leave markers and checksums (Spark's ``_SUCCESS`` and ``.crc`` files) and a
    frame without rows may give an empty file: no snapshot will reference them.
    """
    selector = pafs.FileSelector(folder, recursive=True, allow_not_found=True)
    kept = []
    for info in fs.get_file_info(selector):
        if info.type != pafs.FileType.File:
            continue
        if info.path.endswith(".parquet") and _rows(fs, info.path) > 0:
            kept.append(info.path)
        else:
            fs.delete_file(info.path)
    return sorted(kept)


def remove_folder(fs: pafs.FileSystem, folder: str) -> None:
    """Remove ``folder`` and everything in it; nothing when it is already gone."""
    try:
        fs.delete_dir(folder)
    except FileNotFoundError:
        pass


def _rows(fs: pafs.FileSystem, path: str) -> int:
    with fs.open_input_file(path) as source:
        return int(pq.read_metadata(source).num_rows)
