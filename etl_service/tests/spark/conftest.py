"""Spark pipeline test fixtures: one local session, the snapshot's stages on both engines."""

from __future__ import annotations

import math
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pytest
import sqlalchemy as sa

from etl_service.pipelines.compose import build_pipeline
from etl_service.pipelines.curation_pipeline import CurationPipeline
from etl_service.settings import Settings
from etl_service.snapshot import SEC_COMPANYFACTS
from etl_service.src.models.quality import CheckResult
from etl_service.src.models.schemas import CURATED_TABLES
from etl_service.src.transforms.curate import Curated, SourceTables
from etl_service.src.transforms.sql_runner import sort_by_key
from etl_service.tests.pipelines.conftest import snapshot_settings
from etl_service.tests.support.services import PostgresServer
from etl_service.tests.support.spark import spark_fixture  # noqa: F401

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

APPLE, NVIDIA = "0000320193", "0001045810"

FLOAT_REL_TOLERANCE = 1e-12
"""Spark and DuckDB may add up averages in another order: floats agree to 12 digits."""


@dataclass
class Stages:
    """What extract, transform and validate produced."""

    processed: SourceTables
    curated: Curated
    results: list[CheckResult]


def only_apple(root: Path) -> Path:
    """A companyfacts folder holding Apple's file only."""
    folder = root / "only_apple"
    folder.mkdir(exist_ok=True)
    shutil.copy(SEC_COMPANYFACTS / f"CIK{APPLE}.json.gz", folder)
    return folder


@contextmanager
def pipeline(settings: Settings, spark: SparkSession | None = None) -> Iterator[CurationPipeline]:
    """The Spark pipeline (standard without ``spark``) over ``settings``' stores."""
    engine = "spark" if spark is not None else "standard"
    with build_pipeline(settings.model_copy(update={"engine": engine}), spark=spark) as pipe:
        yield pipe


def _stages(pipe: CurationPipeline, processed: SourceTables) -> Stages:
    """The stages up to the load, curated tables as Arrow in key order for comparisons."""
    curated = pipe.transform(processed)
    results = pipe.validate(curated)
    curated.tables = {
        spec.name: sort_by_key(spec, pipe.engine.to_arrow(curated.tables[spec.name]))
        for spec in CURATED_TABLES
    }
    return Stages(processed, curated, results)


def on_engine(pipe: CurationPipeline, curated: Curated) -> Curated:
    """``curated`` (Arrow tables) as frames of ``pipe``'s engine, ready for its load."""
    tables = {name: pipe.engine.from_arrow(table) for name, table in curated.tables.items()}
    return replace(curated, tables=tables, rejected=list(curated.rejected))


@pytest.fixture(scope="session")
def standard_stages(tmp_path_factory: pytest.TempPathFactory) -> Stages:
    """The standard pipeline's stages on the bundled snapshot."""
    settings = snapshot_settings(tmp_path_factory.mktemp("standard"))
    with pipeline(settings) as pipe:
        return _stages(pipe, pipe.extract())


@pytest.fixture(scope="session")
def spark_stages(
    spark: SparkSession,
    standard_stages: Stages,
    tmp_path_factory: pytest.TempPathFactory,
) -> Stages:
    """The Spark pipeline's stages on the very same extracted inputs."""
    settings = snapshot_settings(tmp_path_factory.mktemp("spark"))
    with pipeline(settings, spark) as pipe:
        return _stages(pipe, standard_stages.processed)


@contextmanager
def database(server: PostgresServer) -> Iterator[str]:
    """A fresh database on ``server`` for the block."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.url(name)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def staging_tables(engine: sa.Engine) -> list[str]:
    """The staging tables left in the database."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT tablename FROM pg_tables WHERE tablename LIKE 'stg%'"))
        return sorted(r[0] for r in rows)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=FLOAT_REL_TOLERANCE)
    return bool(a == b)


def assert_same_rows(
    name: str, expected: list[dict[str, Any]], actual: list[dict[str, Any]]
) -> None:
    """Row for row equality, floats within ``FLOAT_REL_TOLERANCE``."""
    assert len(actual) == len(expected), f"{name}: {len(actual)} rows, expected {len(expected)}"
    for i, (want, got) in enumerate(zip(expected, actual, strict=True)):
        assert want.keys() == got.keys(), f"{name}: columns differ"
        differing = {k: (want[k], got[k]) for k in want if not _same(want[k], got[k])}
        assert not differing, f"{name} row {i}: (expected, actual) {differing}"


def assert_same_table(name: str, expected: pa.Table, actual: pa.Table) -> None:
    """Same schema, then the same rows (floats within tolerance)."""
    assert actual.schema == expected.schema, f"{name}: schema differs"
    assert_same_rows(name, expected.to_pylist(), actual.to_pylist())
