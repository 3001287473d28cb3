"""What a compute engine is: where the shared SQL runs and how its frames reach the stores.

An engine keeps its own frames from curation to the sinks (Arrow on DuckDB, DataFrames on
Spark); Arrow is only the form at the edges: the sources hand Arrow in, and small results
(quality failures, tests) come back as Arrow.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import pyarrow as pa
import sqlalchemy as sa

from etl_service.src.models.schemas import TableSpec

if TYPE_CHECKING:  # the lake (pyiceberg) and the loader load when a run needs them
    from etl_service.src.db.lake import Lake
    from etl_service.src.db.loader import TableWriter
    from etl_service.src.transforms.sql_runner import SqlSession


class Engine(Protocol):
    """A compute engine: SQL sessions, its frames' conversions, and its writers."""

    name: str

    def session(self) -> SqlSession:
        """A new SQL session; the caller closes it."""

    def size_for(self, rows: int) -> None:
        """Tune the engine for a run over ``rows`` input rows."""

    def from_arrow(self, table: pa.Table) -> Any:
        """A frame of this engine holding ``table``."""

    def to_arrow(self, frame: Any) -> pa.Table:
        """``frame``'s rows as Arrow, typed by the frame's own schema."""

    def conform(self, spec: TableSpec, frame: Any) -> Any:
        """``frame`` in the canonical columns and types of ``spec``, computed."""

    def num_rows(self, frame: Any) -> int:
        """The number of rows of ``frame``."""

    def content_hash(self, frame: Any) -> str:
        """A digest of ``frame``'s schema and rows, equal for equal content in every run."""

    def check(self, database: sa.Engine, lake: Lake) -> None:
        """Fail before any work when this engine cannot reach ``database`` or write ``lake``.

        Raises:
            ConfigError: a driver is missing.
        """

    def write_parquet(
        self, lake: Lake, frame: Any, folder: str, partition_by: Sequence[str]
    ) -> None:
        """Write ``frame`` as Parquet files into the new lake folder URI ``folder``.

        Each file of a partitioned table holds one value of ``partition_by`` and keeps the
        partition columns (the Iceberg commit reads the value from the file's statistics).

        Raises:
            LoadError: the files could not be written.
        """

    def database_writer(self, database: sa.Engine, run_id: str) -> TableWriter:
        """The way this engine's frames reach ``database`` (named after ``run_id``)."""

    def close(self) -> None:
        """Release what the engine holds (an injected Spark session stays running)."""
