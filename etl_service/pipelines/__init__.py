"""Pipelines compose sources, engines and sinks; they hold no business logic.

``build_pipeline`` (``compose``) is the one way to get a ready pipeline from settings.
"""

from __future__ import annotations

from etl_service.pipelines.compose import build_pipeline
from etl_service.pipelines.spark_pipeline import SparkETLPipeline
from etl_service.pipelines.standard_pipeline import StandardETLPipeline

__all__ = ["SparkETLPipeline", "StandardETLPipeline", "build_pipeline"]
