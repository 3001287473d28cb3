"""B10: the Snowflake export's throughput against a plain COPY INTO of the same staged files.

The measured call is the sink's whole export of ``quarterly_reports`` into a new target:
Parquet files written, PUT to the internal stage, COPY INTO a staging table, MERGE, staging
dropped. The baseline, interleaved with each run, is one ``COPY INTO`` of Parquet files of
the same rows and sizes, PUT to a stage beforehand (untimed), into an empty table. A
comparison reruns the export on the same rows (everything is sent again; nothing is
updated). The endpoint is the local fakesnow server (DuckDB behind Snowflake's wire
protocol), so the ratio says what the export adds to a COPY, not how fast Snowflake is.
"""

from __future__ import annotations

import logging
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa

from bench.config import Profile
from bench.measure import Comparison, Figure, Sample, timed
from bench.synthetic import reports_only
from etl_service.settings import SnowflakeSettings
from etl_service.sinks.snowflake import SnowflakeSink
from etl_service.sinks.snowflake.connection import Connection, Session, connection_for
from etl_service.sinks.snowflake.schema import create_table_sql, ident
from etl_service.sinks.snowflake.sink import write_parquet_files
from etl_service.sinks.snowflake.sql import copy_sql, put_sql
from etl_service.src.models.schemas import QUARTERLY_REPORTS

logger = logging.getLogger(__name__)

FILE_MB = 16.0
"""Arrow MB per staged file: several files at the full size, as a real export stages."""


@contextmanager
def fakesnow(server: dict[str, Any] | None = None) -> Iterator[SnowflakeSettings]:
    """Settings for a fakesnow server (``server``'s, or one started for the block)."""
    from etl_service.tests.support.services import fakesnow_server, fakesnow_settings

    with ExitStack() as stack:
        kwargs = server or stack.enter_context(fakesnow_server())
        database = f"BENCH_{uuid.uuid4().hex[:8]}"
        settings = fakesnow_settings(kwargs, database, file_mb=FILE_MB)
        with connection_for(settings) as conn:
            session = Session(conn)
            session.execute(f"CREATE DATABASE IF NOT EXISTS {ident(settings.database)}")
            session.execute(f"CREATE SCHEMA IF NOT EXISTS {ident(settings.database)}.PUBLIC")
        yield settings


def export(
    conn: Connection, settings: SnowflakeSettings, table: pa.Table, *, again: bool = False
) -> None:
    """The measured call: the sink's stage and commit of ``quarterly_reports``.

    ``again``: the same rows were exported before, so the MERGE must change none.
    """
    sink = SnowflakeSink(conn, settings, uuid.uuid4().hex, tables=[QUARTERLY_REPORTS])
    staged = sink.stage_tables({QUARTERLY_REPORTS.name: table})
    staged.commit()
    merged = staged.merged[QUARTERLY_REPORTS.name]
    expected = {"inserted": 0 if again else table.num_rows, "updated": 0}
    if merged != expected:
        raise RuntimeError(f"B10: the export merged {merged}, expected {expected}")


def _name(settings: SnowflakeSettings, name: str) -> str:
    return f"{ident(settings.database)}.{ident(settings.schema_name)}.{ident(name)}"


def run(profile: Profile, server: dict[str, Any] | None = None) -> Figure:
    """Measure B10 on ``profile.b10_rows`` quarterly reports (on ``server``, or its own)."""
    table = reports_only(profile.b10_rows)
    rows = table.num_rows
    export_s, rerun_s, copy_s = [], [], []
    with (
        fakesnow(server) as settings,
        connection_for(settings) as conn,
        tempfile.TemporaryDirectory(prefix="etl-bench-b10-") as tmp,
    ):
        session = Session(conn)
        stage = f"@{_name(settings, 'bench_stage')}/files/"
        session.execute(f"CREATE TEMPORARY STAGE {_name(settings, 'bench_stage')}")
        files = write_parquet_files(table, Path(tmp), int(FILE_MB * 2**20))
        session.execute(put_sql(Path(tmp), stage, settings.put_parallel))

        def plain_copy(target: str) -> float:
            session.execute(create_table_sql(QUARTERLY_REPORTS, target))
            return timed(lambda: session.execute(copy_sql(target, stage, purge=False)))

        plain_copy(_name(settings, "warm_copy"))  # untimed: warms the server
        for index in range(profile.runs):
            copy_s.append(plain_copy(_name(settings, f"copy_{index}")))
            schema = f"RUN_{index}"  # each run's export creates its target
            session.execute(f"CREATE SCHEMA {ident(settings.database)}.{schema}")
            target = settings.model_copy(update={"schema_name": schema})
            export_s.append(timed(partial(export, conn, target, table)))
            rerun_s.append(timed(partial(export, conn, target, table, again=True)))
    measured = Sample("export (Parquet, PUT, COPY, MERGE)", "rows/s", [rows / s for s in export_s])
    baseline = Sample("COPY INTO of the staged files", "rows/s", [rows / s for s in copy_s])
    rerun = Sample("export again, same rows", "rows/s", [rows / s for s in rerun_s])
    return Figure(
        id="B10",
        title="Snowflake export (fakesnow)",
        workload=f"{rows:,} quarterly_reports rows in {len(files)} Parquet files",
        measured=measured,
        baseline=baseline,
        ratio=measured.median / baseline.median,
        ratio_means="export throughput / plain COPY INTO throughput of the same staged files",
        goal=None,
        comparisons=[
            Comparison(
                rerun,
                rerun.median / baseline.median,
                "every row is sent and compared again; the MERGE updates none",
            )
        ],
        notes=[
            "The endpoint is the fakesnow server started for the figure (DuckDB behind the "
            "Snowflake connector's protocol): PUT writes to a local folder and COPY reads it, "
            "so the ratio is what the export's own steps add to the COPY, not Snowflake's speed.",
            f"Files of about {FILE_MB:g} MB of Arrow each, PUT with PARALLEL = "
            f"{SnowflakeSettings().put_parallel}.",
        ],
        details={"rows": rows, "files": len(files)},
    )
