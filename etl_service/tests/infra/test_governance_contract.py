"""Terraform's Lake Formation declaration and the setup module's config say the same thing.

The contract: ``infra/terraform/governance.tf.json`` holds ``local.governance`` with the keys
and values of ``etl_service/aws/lake_formation/governance.toml`` (admins, location, roles,
lf_tags, databases, grants) but not its ``[[columns]]``, which only the setup module applies
(tables exist only after a run). Terraform grants at apply time, the setup module repairs
drift later by revoking what its config does not declare: if the two differed they would undo
each other on every run. Change both files together.
"""

from __future__ import annotations

import json
import tomllib
from typing import Any

import pytest

from etl_service.tests.support.terraform import REPO, STACK

pytestmark = pytest.mark.unit

SETUP_CONFIG = REPO / "etl_service" / "aws" / "lake_formation" / "governance.toml"
PERMISSIONS = {
    "data_location": {"DATA_LOCATION_ACCESS"},
    "database": {"CREATE_TABLE", "ALTER", "DROP", "DESCRIBE"},
    "table": {"SELECT", "INSERT", "DELETE", "DESCRIBE", "ALTER", "DROP"},
}
"""What Lake Formation accepts on each kind of resource (``ALL`` is never granted)."""
ZONES = {"curated", "processed"}
"""The database labels lake.tf knows (local.databases)."""


def _declared() -> dict[str, Any]:
    text = (STACK / "governance.tf.json").read_text()
    governance: dict[str, Any] = json.loads(text)["locals"]["governance"]
    return governance


def _normalised(governance: dict[str, Any]) -> dict[str, Any]:
    """The declaration with list order and the setup module's column tags left out."""
    grants = sorted(
        (
            {
                "role": g["role"],
                "on": g["on"],
                "permissions": sorted(g["permissions"]),
                "where": {k: sorted(v) for k, v in (g.get("where") or {}).items()},
            }
            for g in governance["grants"]
        ),
        key=lambda g: (g["role"], g["on"]),
    )
    return {
        "admins": sorted(governance["admins"]),
        "location": governance["location"],
        "roles": governance["roles"],
        "lf_tags": {k: sorted(v) for k, v in governance["lf_tags"].items()},
        "databases": governance["databases"],
        "grants": grants,
    }


def test_every_grant_is_least_privilege_and_names_declared_roles_and_tags() -> None:
    governance = _declared()
    tags = {k: set(v) for k, v in governance["lf_tags"].items()}
    assert set(governance["databases"]) == ZONES
    for label, assigned in governance["databases"].items():
        for key, value in assigned.items():
            assert value in tags[key], f"databases.{label}: {key}={value} is not an LF-tag value"
    seen = set()
    for grant in governance["grants"]:
        where = (grant["role"], grant["on"])
        assert where not in seen, f"two grants of {where}: Terraform keys them role:on"
        seen.add(where)
        assert grant["role"] in governance["roles"], grant
        assert set(grant["permissions"]) <= PERMISSIONS[grant["on"]], grant
        assert ("where" in grant) == (grant["on"] != "data_location"), grant
        for key, values in grant.get("where", {}).items():
            assert set(values) <= tags[key], grant
    analyst = [g for g in governance["grants"] if g["role"] == "analyst"]
    assert {p for g in analyst for p in g["permissions"]} == {"SELECT", "DESCRIBE"}
    assert all(g["where"]["sensitivity"] == ["public"] for g in analyst)


def test_terraform_declares_what_the_setup_module_applies() -> None:
    config = tomllib.loads(SETUP_CONFIG.read_text())
    assert _normalised(_declared()) == _normalised(config)
