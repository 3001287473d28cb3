"""Resolving a plug-in by name from a registry of ``"module:attribute"`` strings.

Registries name their entries as strings so a backend's module (and its optional extra)
is imported only when that entry is used.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from etl_service.errors import ConfigError


def resolve(registry: Mapping[str, str], name: str, kind: str) -> Any:
    """The attribute registered as ``name``; ConfigError lists the names there are."""
    try:
        module_name, _, attribute = registry[name].partition(":")
    except KeyError:
        known = ", ".join(sorted(registry))
        raise ConfigError(f"unknown {kind} {name!r}: choose one of {known}") from None
    return getattr(importlib.import_module(module_name), attribute)
