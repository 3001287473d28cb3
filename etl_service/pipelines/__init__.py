"""Pipelines compose sources, transformations and stores; they hold no business logic.

``SparkETLPipeline`` is imported on first use, so this package works without PySpark.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SparkETLPipeline", "StandardETLPipeline"]


def __getattr__(name: str) -> Any:
    if name == "StandardETLPipeline":
        from etl_service.pipelines.standard_pipeline import StandardETLPipeline

        return StandardETLPipeline
    if name == "SparkETLPipeline":
        from etl_service.pipelines.spark_pipeline import SparkETLPipeline

        return SparkETLPipeline
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
