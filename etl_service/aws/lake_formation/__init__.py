"""AWS Lake Formation: the lake's governance (settings, location, LF-tags, grants) as code.

``LakeFormationSetup`` is imported on first use, so
``python -m etl_service.aws.lake_formation.setup`` runs its module once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from etl_service.aws.lake_formation.setup import LakeFormationSetup

__all__ = ["LakeFormationSetup"]


def __getattr__(name: str) -> Any:
    if name != "LakeFormationSetup":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from etl_service.aws.lake_formation.setup import LakeFormationSetup

    return LakeFormationSetup
