"""The awsglue API the job uses: AWS Glue's own inside Glue, the local adapter elsewhere."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from typing import Any


@dataclass(frozen=True)
class GlueApi:
    """The awsglue names the job calls, and whether they are AWS Glue's own."""

    on_aws: bool
    getResolvedOptions: Any  # noqa: N815
    GlueContext: Any
    Job: Any
    DynamicFrame: Any
    ApplyMapping: Any
    ResolveChoice: Any
    SelectFromCollection: Any
    EvaluateDataQuality: Any


@cache
def load() -> GlueApi:
    """AWS Glue's awsglue and awsgluedq when importable, else ``aws.glue.local``."""
    try:
        utils = importlib.import_module("awsglue.utils")
        context = importlib.import_module("awsglue.context")
        job = importlib.import_module("awsglue.job")
        frames = importlib.import_module("awsglue.dynamicframe")
        transforms = importlib.import_module("awsglue.transforms")
        dq = importlib.import_module("awsgluedq.transforms")
    except ImportError:
        import etl_service.aws.glue.local as local

        return GlueApi(
            False,
            local.getResolvedOptions,
            local.GlueContext,
            local.Job,
            local.DynamicFrame,
            local.ApplyMapping,
            local.ResolveChoice,
            local.SelectFromCollection,
            local.EvaluateDataQuality,
        )
    return GlueApi(
        True,
        utils.getResolvedOptions,
        context.GlueContext,
        job.Job,
        frames.DynamicFrame,
        transforms.ApplyMapping,
        transforms.ResolveChoice,
        transforms.SelectFromCollection,
        dq.EvaluateDataQuality,
    )
