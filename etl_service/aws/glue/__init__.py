"""AWS Glue: the Glue job (``glue_job.py``), its deployment, and awsglue for local runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from etl_service.aws.glue.glue_job import GlueS3ETLPipeline

__all__ = ["GlueS3ETLPipeline"]


def __getattr__(name: str) -> Any:
    # Lazy: the job pulls in the whole pipeline, which the deploy and local modules need not.
    if name == "GlueS3ETLPipeline":
        from etl_service.aws.glue.glue_job import GlueS3ETLPipeline

        return GlueS3ETLPipeline
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
