"""The content hash of an Arrow table: equal for equal content, however it is chunked."""

from __future__ import annotations

import hashlib

import pyarrow as pa

HASH_SLICE_ROWS = 65_536


class _HashingSink:
    """A write-only file that feeds everything written to it into SHA-256."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.closed = False

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return len(data)

    def flush(self) -> None:
        return None

    def close(self) -> None:
        self.closed = True


def content_hash(table: pa.Table) -> str:
    """A hash of the table's schema and rows (Arrow IPC bytes), stable across runs.

    The rows are serialised in fixed slices, each made contiguous on its own, so the hash
    does not depend on how the table happens to be chunked and never needs a second copy
    of the whole table in memory.
    """
    sink = _HashingSink()
    with pa.PythonFile(sink, mode="w") as stream, pa.ipc.new_stream(stream, table.schema) as w:
        for start in range(0, table.num_rows, HASH_SLICE_ROWS):
            part = table.slice(start, HASH_SLICE_ROWS)
            # concat_arrays copies into fresh buffers: no slice offsets reach the bytes
            columns = [pa.concat_arrays(column.chunks) for column in part.columns]
            w.write_batch(pa.RecordBatch.from_arrays(columns, schema=table.schema))
    return sink.digest.hexdigest()
