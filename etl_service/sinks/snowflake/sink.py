"""The Snowflake sink: curated tables through an internal stage, COPY INTO and one MERGE each.

``stage`` checks every target's schema first (a breaking change stops the export before
anything is written), then per table writes Parquet files of about ``ETL_SNOWFLAKE__FILE_MB``
each (COPY INTO loads files in parallel), PUTs them to a temporary stage of this session,
and COPYs them into a transient staging table (``MATCH_BY_COLUMN_NAME``, ``ON_ERROR =
ABORT_STATEMENT``, the files purged once loaded). Nothing a reader sees has changed.
``commit`` creates missing targets and applies additive schema changes, then MERGEs every
table in one transaction, updating only rows whose values differ; ``commit`` and
``discard`` drop the staging tables. A process killed in between leaves only its staging
tables (``<TABLE>__ETL_STAGE_<run>``), never a half-loaded target.

In a run the curated frames come as the engine's own and are turned into Arrow here (on
Spark that collects each table to the driver: the curated tables are small).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from etl_service.errors import ConfigError, LoadError, StoreUnavailableError
from etl_service.settings import SnowflakeSettings
from etl_service.sinks.base import RunOutputs
from etl_service.sinks.snowflake.connection import Connection, Session, endpoint
from etl_service.sinks.snowflake.schema import (
    ExistingColumn,
    create_table_sql,
    evolve_sql,
    ident,
)
from etl_service.sinks.snowflake.sql import copy_error, copy_sql, merge_sql, put_sql
from etl_service.src.db.loader import conform
from etl_service.src.models.schemas import CURATED_TABLES, TableSpec

if TYPE_CHECKING:
    from etl_service.sinks import SinkContext

logger = logging.getLogger(__name__)


@dataclass
class StagedTable:
    """One table loaded into its staging table, with the DDL its target needs first."""

    spec: TableSpec
    target: str
    staging: str
    ddl: list[str]
    rows: int = 0


@dataclass
class StagedExport:
    """Every table of an export in its staging table; ``commit`` merges them at once."""

    session: Session
    tables: list[StagedTable] = field(default_factory=list)
    merged: dict[str, dict[str, int]] = field(default_factory=dict)
    """Rows inserted, updated and deleted per table, once committed."""

    def commit(self) -> None:
        try:
            for table in self.tables:
                for statement in table.ddl:
                    self.session.execute(statement)
            with self.session.transaction():
                for table in self.tables:
                    self._merge(table)
        finally:
            self.discard()

    def discard(self) -> None:
        for table in self.tables:
            try:
                self.session.execute(f"DROP TABLE IF EXISTS {table.staging}")
            except (LoadError, StoreUnavailableError) as exc:
                logger.warning("could not drop the staging table %s: %s", table.staging, exc)

    def _merge(self, table: StagedTable) -> None:
        names, rows = self.session.query(merge_sql(table.spec, table.target, table.staging))
        prefix = "number of rows "
        counts = {n.removeprefix(prefix): int(v) for n, v in zip(names, rows[0], strict=True)}
        self.merged[table.spec.name] = counts
        logger.info("snowflake %s: %d rows staged, merged %s", table.target, table.rows, counts)


class SnowflakeSink:
    """Exports the curated tables to the Snowflake database and schema of the settings."""

    name = "snowflake"

    def __init__(
        self,
        connection: Connection,
        settings: SnowflakeSettings,
        run_id: str,
        to_arrow: Callable[[Any], pa.Table] = lambda frame: frame,
        tables: Sequence[TableSpec] = CURATED_TABLES,
    ) -> None:
        self.session = Session(connection)
        self.settings = settings
        self.run_id = run_id
        self.to_arrow = to_arrow
        self.tables = tables

    @classmethod
    def from_context(cls, context: SinkContext) -> SnowflakeSink:
        if context.snowflake is None:
            raise ConfigError(
                "the snowflake sink has no connection: set ETL_SNOWFLAKE__ACCOUNT, __USER and "
                "__PASSWORD (or __PRIVATE_KEY_FILE)"
            )
        return cls(
            context.snowflake, context.settings.snowflake, context.run_id, context.engine.to_arrow
        )

    def describe(self) -> str:
        return endpoint(self.settings)

    def stage(self, outputs: RunOutputs) -> StagedExport:
        return self.stage_tables({spec.name: outputs.curated[spec.name] for spec in self.tables})

    def stage_tables(self, frames: Mapping[str, Any]) -> StagedExport:
        """Load ``frames`` (by table name) into staging tables, not yet into the targets.

        Raises:
            SchemaError: a target's schema differs in a way that is not additive.
            CopyError: COPY INTO rejected a row; nothing of the export is kept.
            LoadError, StoreUnavailableError: nothing of the export is kept.
        """
        specs = [spec for spec in self.tables if spec.name in frames]
        if not specs:
            return StagedExport(self.session)
        existing = self._existing_columns(specs)
        plans = [self._target_ddl(spec, existing.get(spec.name.upper())) for spec in specs]
        stage = self._qualified(f"etl_export_{self.run_id}")
        self.session.execute(f"CREATE TEMPORARY STAGE IF NOT EXISTS {stage}")
        staged = StagedExport(self.session)
        try:
            with tempfile.TemporaryDirectory(prefix="etl-snowflake-") as tmp:
                for spec, ddl in zip(specs, plans, strict=True):
                    staging = self._qualified(f"{spec.name}__etl_stage_{self.run_id}")
                    table = StagedTable(spec, self._qualified(spec.name), staging, ddl)
                    staged.tables.append(table)  # from here on, discard drops its staging
                    data = conform(spec, self.to_arrow(frames[spec.name]))
                    folder = Path(tmp) / spec.name
                    table.rows = load_staging(
                        self.session,
                        table,
                        data,
                        folder,
                        f"@{stage}/{spec.name}/",
                        self.settings,
                    )
        except BaseException:
            staged.discard()
            raise
        return staged

    def _qualified(self, name: str) -> str:
        return ".".join(
            ident(part) for part in (self.settings.database, self.settings.schema_name, name)
        )

    def _existing_columns(self, specs: Sequence[TableSpec]) -> dict[str, list[ExistingColumn]]:
        names = [spec.name.upper() for spec in specs]
        marks = ", ".join(["%s"] * len(names))
        rows = self.session.execute(
            "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, IS_NULLABLE, NUMERIC_SCALE "
            f"FROM {ident(self.settings.database)}.INFORMATION_SCHEMA.COLUMNS "
            f"WHERE TABLE_SCHEMA = %s AND TABLE_NAME IN ({marks}) "
            "ORDER BY TABLE_NAME, ORDINAL_POSITION",
            [self.settings.schema_name.upper(), *names],
        )
        found: dict[str, list[ExistingColumn]] = {}
        for table, column, data_type, nullable, scale in rows:
            found.setdefault(table, []).append(
                ExistingColumn(column, data_type, nullable == "YES", scale)
            )
        return found

    def _target_ddl(self, spec: TableSpec, existing: list[ExistingColumn] | None) -> list[str]:
        target = self._qualified(spec.name)
        if existing is None:
            return [create_table_sql(spec, target)]
        return evolve_sql(spec, target, existing)


def load_staging(
    session: Session,
    table: StagedTable,
    data: pa.Table,
    folder: Path,
    stage_path: str,
    settings: SnowflakeSettings,
) -> int:
    """PUT ``data`` as Parquet files and COPY them into a new staging table of ``table.spec``.

    Returns:
        The rows loaded, all of ``data``'s.

    Raises:
        CopyError: COPY INTO rejected a row (the file and row named when the server does).
        LoadError: the upload failed, or not every row was loaded.
    """
    files = [f.name for f in write_parquet_files(data, folder, int(settings.file_mb * 2**20))]
    session.execute(create_table_sql(table.spec, table.staging, transient=True))
    session.execute(put_sql(folder, stage_path, settings.put_parallel))
    names, results = session.query(
        copy_sql(table.staging, stage_path),
        failure=lambda message: copy_error(table.staging, message, files),
    )
    loaded = sum(int(row[names.index("rows_loaded")]) for row in results)
    if loaded != data.num_rows:
        raise LoadError(
            f"COPY INTO {table.staging} loaded {loaded} of {data.num_rows} rows from "
            f"{len(files)} files; nothing of the export is kept"
        )
    return loaded


def write_parquet_files(table: pa.Table, folder: Path, file_bytes: int) -> list[Path]:
    """Write ``table`` into ``folder`` as Parquet files of about ``file_bytes`` (Arrow) each."""
    folder.mkdir(parents=True, exist_ok=True)
    per_row = max(table.nbytes / max(table.num_rows, 1), 1.0)
    rows_per_file = max(int(file_bytes / per_row), 1)
    files = []
    for index, start in enumerate(range(0, max(table.num_rows, 1), rows_per_file)):
        path = folder / f"part-{index:05d}.parquet"
        pq.write_table(table.slice(start, rows_per_file), path)
        files.append(path)
    return files
