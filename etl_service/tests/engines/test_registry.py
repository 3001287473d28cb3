"""The engine registry and the two engines' shared contract on small frames."""

from __future__ import annotations

import pyarrow as pa
import pytest

from etl_service.engines import AVAILABLE_ENGINES, load_engine
from etl_service.engines.duckdb import DuckDbEngine
from etl_service.errors import ConfigError
from etl_service.settings import Settings
from etl_service.src.models.schemas import SUB_INDUSTRIES

pytestmark = pytest.mark.unit


def test_unknown_engine_is_a_configuration_error_naming_the_known_ones() -> None:
    with pytest.raises(
        ConfigError, match="unknown engine 'flink': choose one of glue, spark, standard"
    ):
        load_engine("flink", Settings())
    assert sorted(AVAILABLE_ENGINES) == ["glue", "spark", "standard"]


def test_standard_engine_conforms_to_the_canonical_schema_in_key_order() -> None:
    with load_engine("standard", Settings()) as engine:
        assert isinstance(engine, DuckDbEngine)
        raw = pa.table({"sector": ["Energy", "Utilities"], "sub_industry": ["Oil", "Gas"]})
        conformed = engine.conform(SUB_INDUSTRIES, raw)
    assert conformed.column_names == ["sub_industry", "sector"]
    assert conformed.column("sub_industry").to_pylist() == ["Gas", "Oil"]
    assert engine.num_rows(conformed) == 2
    assert engine.content_hash(conformed) == engine.content_hash(
        engine.conform(SUB_INDUSTRIES, raw.take([1, 0]))
    )
