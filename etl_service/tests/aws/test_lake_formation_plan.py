"""The governance config's schema and the plan's comparisons, offline."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from etl_service.aws.lake_formation.config import load_config
from etl_service.aws.lake_formation.plan import (
    Atom,
    Scope,
    atoms_of,
    in_scope,
    permission_changes,
    resource_key,
    settings_change,
)
from etl_service.aws.lake_formation.setup import principal_arn
from etl_service.errors import ConfigError
from etl_service.src.models.schemas import CURATED_TABLES

pytestmark = pytest.mark.unit

ACCOUNT = "123456789012"
BUNDLED = tomllib.loads(
    resources.files("etl_service.aws.lake_formation").joinpath("governance.toml").read_text()
)


def _changed(tmp_path: Path, **changes: Any) -> Path:
    """The bundled config with ``changes``, written as TOML (inline tables only)."""

    def value(v: Any) -> str:
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
        if isinstance(v, list | tuple):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return f'"{v}"'

    path = tmp_path / "governance.toml"
    path.write_text("\n".join(f"{k} = {value(v)}" for k, v in (BUNDLED | changes).items()))
    return path


def test_the_bundled_config_is_valid_and_its_columns_exist() -> None:
    config = load_config()
    columns = {(s.name, c.name) for s in CURATED_TABLES for c in s.columns}
    for entry in config.columns:
        assert entry.database == "curated"
        assert {(entry.table, name) for name in entry.names} <= columns
    analyst = [g for g in config.grants if g.role == "analyst"]
    assert {p for g in analyst for p in g.permissions} == {"SELECT", "DESCRIBE"}
    assert all(g.where and g.where["sensitivity"] == ("public",) for g in analyst)


@pytest.mark.parametrize(
    ("grant", "message"),
    [
        (
            {
                "role": "etl",
                "on": "database",
                "where": {"domain": ["sp500"]},
                "permissions": ["ALL"],
            },
            "cannot be granted on a database",
        ),
        (
            {
                "role": "etl",
                "on": "database",
                "where": {"domain": ["sp500"]},
                "permissions": ["INSERT"],
            },
            "cannot be granted on a database",
        ),
        ({"role": "etl", "on": "table", "permissions": ["SELECT"]}, "need one"),
        (
            {"role": "etl", "on": "table", "where": {"domain": ["spx"]}, "permissions": ["SELECT"]},
            "domain=spx is not declared",
        ),
        (
            {
                "role": "ops",
                "on": "table",
                "where": {"domain": ["sp500"]},
                "permissions": ["SELECT"],
            },
            "unknown role 'ops'",
        ),
    ],
)
def test_a_config_error_names_the_problem(
    tmp_path: Path, grant: dict[str, Any], message: str
) -> None:
    path = _changed(tmp_path, grants=[grant])
    with pytest.raises(ConfigError, match=message) as caught:
        load_config(path)
    assert str(path) in str(caught.value)


def test_an_unknown_key_or_a_missing_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="admin: Extra inputs are not permitted"):
        load_config(_changed(tmp_path, admin=["x"]))
    with pytest.raises(ConfigError, match=r"missing\.toml: No such file"):
        load_config(tmp_path / "missing.toml")


def test_resources_compare_whatever_the_order_and_catalog_id() -> None:
    listed = {
        "LFTagPolicy": {
            "ResourceType": "TABLE",
            "Expression": [
                {"TagKey": "sensitivity", "TagValues": ["public"]},
                {"TagKey": "domain", "TagValues": ["sp500"]},
            ],
        }
    }
    wanted = {
        "LFTagPolicy": {
            "CatalogId": ACCOUNT,
            "ResourceType": "TABLE",
            "Expression": [
                {"TagKey": "domain", "TagValues": ["sp500"]},
                {"TagKey": "sensitivity", "TagValues": ["public"]},
            ],
        }
    }
    assert resource_key(listed, ACCOUNT) == resource_key(wanted, ACCOUNT)
    other = {"Database": {"CatalogId": "999999999999", "Name": "sp500"}}
    assert resource_key(other, ACCOUNT) != resource_key({"Database": {"Name": "sp500"}}, ACCOUNT)


def test_scope_is_the_lake_and_the_tag_expressions_that_reach_it() -> None:
    scope = Scope(
        ACCOUNT,
        frozenset({"sp500", "sp500_processed"}),
        "arn:aws:s3:::lake/sp500",
        frozenset({"domain", "sensitivity"}),
        {
            "DATABASE": [{"domain": "sp500", "sensitivity": "public"}],
            "TABLE": [{"domain": "sp500", "sensitivity": "internal"}],
        },
    )

    def policy(kind: str, **where: list[str]) -> dict[str, Any]:
        terms = [{"TagKey": k, "TagValues": v} for k, v in where.items()]
        return {"LFTagPolicy": {"ResourceType": kind, "Expression": terms}}

    assert in_scope({"Table": {"DatabaseName": "sp500_processed", "Name": "x"}}, scope)
    assert in_scope({"DataLocation": {"ResourceArn": "arn:aws:s3:::lake/sp500/curated"}}, scope)
    assert in_scope(policy("TABLE", sensitivity=["internal", "x"]), scope)
    assert in_scope({"LFTag": {"TagKey": "domain", "TagValues": ["sp500"]}}, scope)
    assert not in_scope({"Database": {"Name": "payments"}}, scope)
    assert not in_scope({"DataLocation": {"ResourceArn": "arn:aws:s3:::lake/sp5000"}}, scope)
    assert not in_scope(policy("DATABASE", sensitivity=["internal"]), scope)
    assert not in_scope(policy("TABLE", domain=["payments"]), scope)
    assert not in_scope({"Database": {"CatalogId": "999999999999", "Name": "sp500"}}, scope)
    assert not in_scope({"Catalog": {}}, scope)


def test_grants_and_revokes_are_grouped_per_principal_and_resource() -> None:
    table = {"Table": {"DatabaseName": "sp500", "Name": "companies"}}
    present = atoms_of(
        [
            {
                "Principal": {"DataLakePrincipalIdentifier": "analyst"},
                "Resource": table,
                "Permissions": ["SELECT", "INSERT"],
                "PermissionsWithGrantOption": ["SELECT"],
            }
        ],
        ACCOUNT,
    )
    key = resource_key(table, ACCOUNT)
    wanted = {Atom("analyst", key, "SELECT"): table, Atom("analyst", key, "DESCRIBE"): table}
    changes = permission_changes(wanted, present)
    assert [
        (c.kind, c.arguments["Permissions"], c.arguments["PermissionsWithGrantOption"])
        for c in changes
    ] == [
        ("revoke", ["INSERT"], ["SELECT"]),
        ("grant", ["DESCRIBE"], []),
    ]
    assert str(changes[0]) == (
        "revoke   INSERT, SELECT (grant option) on table sp500.companies from analyst"
    )
    assert permission_changes(present, present) == []


def test_settings_keep_other_fields_and_change_only_when_needed() -> None:
    current = {
        "DataLakeAdmins": [{"DataLakePrincipalIdentifier": "arn:aws:iam::1:role/old"}],
        "CreateTableDefaultPermissions": [
            {
                "Principal": {"DataLakePrincipalIdentifier": "IAM_ALLOWED_PRINCIPALS"},
                "Permissions": ["ALL"],
            }
        ],
        "Parameters": {"CROSS_ACCOUNT_VERSION": "4"},
    }
    change = settings_change(current, ["arn:aws:iam::1:role/admin"])
    assert change is not None
    wanted = change.arguments["DataLakeSettings"]
    assert wanted["Parameters"] == {"CROSS_ACCOUNT_VERSION": "4"}
    assert wanted["CreateTableDefaultPermissions"] == []
    assert wanted["CreateDatabaseDefaultPermissions"] == []
    assert settings_change(wanted, ["arn:aws:iam::1:role/admin"]) is None


def test_an_assumed_role_caller_is_its_role() -> None:
    session = "arn:aws:sts::123456789012:assumed-role/sp500-admin/jane"
    assert principal_arn(session) == "arn:aws:iam::123456789012:role/sp500-admin"
    assert principal_arn("arn:aws:iam::123456789012:user/jane") == (
        "arn:aws:iam::123456789012:user/jane"
    )
