"""Pipelines compose sources, engines and sinks; they hold no business logic.

``build_pipeline`` (``compose``) is the one way to get a ready pipeline from settings.
The names below are imported on first use, so ``python -m etl_service.pipelines.<name>``
runs its module once, not after the package has imported it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from etl_service.pipelines.compose import build_pipeline
    from etl_service.pipelines.lake_formation_pipeline import PySparkLakeFormationETL
    from etl_service.pipelines.spark_pipeline import SparkETLPipeline
    from etl_service.pipelines.standard_pipeline import StandardETLPipeline

_EXPORTS = {
    "PySparkLakeFormationETL": "lake_formation_pipeline",
    "SparkETLPipeline": "spark_pipeline",
    "StandardETLPipeline": "standard_pipeline",
    "build_pipeline": "compose",
}

__all__ = ["PySparkLakeFormationETL", "SparkETLPipeline", "StandardETLPipeline", "build_pipeline"]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
