"""The plan: what must change for Lake Formation to match the config, as data.

Everything here is pure: it compares the intended state with the one read from AWS and
returns ``Change`` objects (the API call and a one-line summary), which ``setup`` prints
for ``--dry-run`` or applies in order. Permissions are compared as atoms (principal,
resource, permission, with or without grant option) on normalised resources, so neither
the grouping nor the field order of ``ListPermissions`` answers matters.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

IAM_ALLOWED_PRINCIPALS = "IAM_ALLOWED_PRINCIPALS"

KINDS = ("settings", "define", "register", "database", "tag", "untag", "revoke", "grant")
"""Kinds of change, in the order they are applied: the caller is an admin before it grants,
tags exist before resources carry them, and drift is revoked before anything is granted."""

Resource = dict[str, Any]


@dataclass(frozen=True)
class Change:
    """One call that moves Lake Formation (or a Glue database) towards the config."""

    kind: str
    summary: str
    service: Literal["lakeformation", "glue"]
    operation: str
    arguments: Mapping[str, Any]

    def __str__(self) -> str:
        return f"{self.kind:<8} {self.summary}"


@dataclass(frozen=True)
class Atom:
    """One permission of one principal on one resource."""

    principal: str
    resource: str
    """The normalised resource as JSON (``resource_key``)."""
    permission: str
    grant_option: bool = False


@dataclass
class Scope:
    """What the config owns: grants on anything else are left alone.

    ``tag_sets`` are the tags of the lake's databases (``DATABASE``) and of its tables and
    columns (``TABLE``): a tag-based grant whose expression matches one of them reaches the
    lake's data, so it is in scope.
    """

    account: str
    databases: frozenset[str]
    location_arn: str
    tag_keys: frozenset[str]
    tag_sets: dict[str, list[dict[str, str]]] = field(default_factory=dict)


def resource_key(resource: Mapping[str, Any], account: str) -> str:
    """``resource`` normalised (catalog id filled in, lists sorted) as JSON."""
    normal: dict[str, Any] = {}
    for kind, body in resource.items():
        inner = dict(body)
        if kind != "DataCellsFilter":
            inner.setdefault("CatalogId", account)
        if "Expression" in inner:
            inner["Expression"] = sorted(
                (
                    {"TagKey": t["TagKey"], "TagValues": sorted(t["TagValues"])}
                    for t in inner["Expression"]
                ),
                key=lambda t: str(t["TagKey"]),
            )
        for name in ("TagValues", "ColumnNames"):
            if name in inner:
                inner[name] = sorted(inner[name])
        if "ColumnWildcard" in inner:
            excluded = inner["ColumnWildcard"].get("ExcludedColumnNames", [])
            inner["ColumnWildcard"] = {"ExcludedColumnNames": sorted(excluded)}
        normal[kind] = inner
    return json.dumps(normal, sort_keys=True)


def tag_expression(where: Mapping[str, Sequence[str]]) -> list[dict[str, Any]]:
    """An LF-tag expression in API form, keys and values sorted."""
    return [{"TagKey": k, "TagValues": sorted(v)} for k, v in sorted(where.items())]


def matches(expression: Iterable[Mapping[str, Any]], tags: Mapping[str, str]) -> bool:
    """Whether a resource with ``tags`` satisfies every term of ``expression``."""
    return all(tags.get(term["TagKey"]) in term["TagValues"] for term in expression)


def in_scope(resource: Mapping[str, Any], scope: Scope) -> bool:
    """Whether a grant on ``resource`` governs the lake (and so must be in the config)."""
    for kind, body in resource.items():
        catalog = body.get("TableCatalogId" if kind == "DataCellsFilter" else "CatalogId")
        if catalog not in (None, scope.account):
            return False
        if kind == "Database":
            return body.get("Name") in scope.databases
        if kind in ("Table", "TableWithColumns", "DataCellsFilter"):
            return body.get("DatabaseName") in scope.databases
        if kind == "DataLocation":
            arn = str(body.get("ResourceArn", ""))
            return arn == scope.location_arn or arn.startswith(scope.location_arn + "/")
        if kind == "LFTag":
            return body.get("TagKey") in scope.tag_keys
        if kind == "LFTagPolicy":
            expression = body.get("Expression") or []
            candidates = scope.tag_sets.get(str(body.get("ResourceType")), [])
            return bool(expression) and any(matches(expression, t) for t in candidates)
    return False


def atoms_of(listing: Iterable[Mapping[str, Any]], account: str) -> dict[Atom, Resource]:
    """The atoms of ``ListPermissions`` entries, each with its resource as listed."""
    atoms: dict[Atom, Resource] = {}
    for entry in listing:
        principal = entry["Principal"]["DataLakePrincipalIdentifier"]
        key = resource_key(entry["Resource"], account)
        for name, grant_option in (("Permissions", False), ("PermissionsWithGrantOption", True)):
            for permission in entry.get(name) or []:
                atoms[Atom(principal, key, permission, grant_option)] = dict(entry["Resource"])
    return atoms


def permission_changes(
    wanted: Mapping[Atom, Resource], present: Mapping[Atom, Resource]
) -> list[Change]:
    """Revokes of what is present but not wanted, then grants of what is missing."""
    changes = [
        _permission_change("revoke", atoms, present)
        for atoms in _grouped(a for a in present if a not in wanted)
    ]
    changes += [
        _permission_change("grant", atoms, wanted)
        for atoms in _grouped(a for a in wanted if a not in present)
    ]
    return changes


def _grouped(atoms: Iterable[Atom]) -> list[list[Atom]]:
    groups: dict[tuple[str, str], list[Atom]] = defaultdict(list)
    for atom in atoms:
        groups[(atom.principal, atom.resource)].append(atom)
    return [groups[k] for k in sorted(groups)]


def _permission_change(
    kind: Literal["grant", "revoke"], atoms: list[Atom], resources: Mapping[Atom, Resource]
) -> Change:
    plain = sorted(a.permission for a in atoms if not a.grant_option)
    grantable = sorted(a.permission for a in atoms if a.grant_option)
    principal, resource = atoms[0].principal, resources[atoms[0]]
    what = ", ".join(plain + [f"{p} (grant option)" for p in grantable])
    preposition = "to" if kind == "grant" else "from"
    return Change(
        kind,
        f"{what} on {describe(resource)} {preposition} {principal}",
        "lakeformation",
        f"{kind}_permissions",
        {
            "Principal": {"DataLakePrincipalIdentifier": principal},
            "Resource": resource,
            "Permissions": plain,
            "PermissionsWithGrantOption": grantable,
        },
    )


def describe(resource: Mapping[str, Any]) -> str:
    """A resource in a few words: ``tables where domain=sp500``, ``database sp500``."""
    for kind, body in resource.items():
        if kind == "LFTagPolicy":
            terms = " AND ".join(
                f"{t['TagKey']}={'|'.join(t['TagValues'])}" for t in body.get("Expression", [])
            )
            noun = "databases" if body.get("ResourceType") == "DATABASE" else "tables"
            return f"{noun} where {terms or body.get('ExpressionName')}"
        if kind == "Database":
            return f"database {body.get('Name')}"
        if kind in ("Table", "TableWithColumns"):
            name = body.get("Name") or "*"
            columns = body.get("ColumnNames")
            return f"table {body.get('DatabaseName')}.{name}" + (
                f" ({', '.join(columns)})" if columns else ""
            )
        if kind == "DataLocation":
            return f"location {body.get('ResourceArn')}"
        if kind == "LFTag":
            return f"LF-tag {body.get('TagKey')}"
        return f"{kind} {json.dumps(body, sort_keys=True)}"
    return "nothing"


def tag_changes(
    resource: Resource,
    label: str,
    present: Mapping[str, str],
    wanted: Mapping[str, str],
    account: str,
) -> list[Change]:
    """Assign ``wanted`` to ``resource`` and remove managed tags it should not carry.

    ``present`` holds only the managed keys directly assigned to the resource. Every
    wanted tag is sent when any differs, so the call leaves the same tags whether the
    service merges them by key (AWS) or replaces the set.
    """
    changes = []
    stale = {k: v for k, v in present.items() if k not in wanted}
    if stale:
        changes.append(
            Change(
                "untag",
                f"{label}: {_tags_text(stale)}",
                "lakeformation",
                "remove_lf_tags_from_resource",
                {"Resource": resource, "LFTags": _lf_tags(stale, account)},
            )
        )
    if dict(present.items() - stale.items()) != dict(wanted):
        changes.append(
            Change(
                "tag",
                f"{label}: {_tags_text(wanted)}",
                "lakeformation",
                "add_lf_tags_to_resource",
                {"Resource": resource, "LFTags": _lf_tags(wanted, account)},
            )
        )
    return changes


def _lf_tags(tags: Mapping[str, str], account: str) -> list[dict[str, Any]]:
    return [{"CatalogId": account, "TagKey": k, "TagValues": [v]} for k, v in sorted(tags.items())]


def _tags_text(tags: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(tags.items()))


def definition_changes(
    wanted: Mapping[str, Sequence[str]], present: Mapping[str, Sequence[str]], account: str
) -> list[Change]:
    """Create missing LF-tags and add missing values; values are never removed (another
    team's resources may carry them)."""
    changes = []
    for key, values in sorted(wanted.items()):
        if key not in present:
            changes.append(
                Change(
                    "define",
                    f"LF-tag {key}={'|'.join(values)}",
                    "lakeformation",
                    "create_lf_tag",
                    {"CatalogId": account, "TagKey": key, "TagValues": list(values)},
                )
            )
            continue
        missing = [v for v in values if v not in present[key]]
        if missing:
            changes.append(
                Change(
                    "define",
                    f"LF-tag {key}: add {'|'.join(missing)}",
                    "lakeformation",
                    "update_lf_tag",
                    {"CatalogId": account, "TagKey": key, "TagValuesToAdd": missing},
                )
            )
    return changes


def settings_change(present: Mapping[str, Any], admins: Sequence[str]) -> Change | None:
    """The data lake settings with ``admins`` and no default grants to IAM principals on new
    databases and tables; None when they already are so. Other fields are kept."""
    current_admins = {a["DataLakePrincipalIdentifier"] for a in present.get("DataLakeAdmins", [])}
    defaults = ("CreateDatabaseDefaultPermissions", "CreateTableDefaultPermissions")
    if current_admins == set(admins) and not any(present.get(d) for d in defaults):
        return None
    wanted = dict(present)
    wanted["DataLakeAdmins"] = [{"DataLakePrincipalIdentifier": a} for a in sorted(admins)]
    for name in defaults:
        wanted[name] = []
    return Change(
        "settings",
        f"data lake admins {', '.join(sorted(admins))}; no default permissions for "
        f"{IAM_ALLOWED_PRINCIPALS} on new databases and tables",
        "lakeformation",
        "put_data_lake_settings",
        {"DataLakeSettings": wanted},
    )


DATABASE_INPUT_FIELDS = (
    "Name",
    "Description",
    "LocationUri",
    "Parameters",
    "CreateTableDefaultPermissions",
    "TargetDatabase",
    "FederatedDatabase",
)


def database_change(database: Mapping[str, Any]) -> Change | None:
    """Drop ``IAM_ALLOWED_PRINCIPALS`` from a Glue database's defaults for new tables."""
    defaults = database.get("CreateTableDefaultPermissions") or []
    kept = [
        d
        for d in defaults
        if d.get("Principal", {}).get("DataLakePrincipalIdentifier") != IAM_ALLOWED_PRINCIPALS
    ]
    if kept == defaults:
        return None
    database_input = {k: database[k] for k in DATABASE_INPUT_FIELDS if database.get(k) is not None}
    database_input["CreateTableDefaultPermissions"] = kept
    return Change(
        "database",
        f"{database['Name']}: no default permissions for {IAM_ALLOWED_PRINCIPALS} on new tables",
        "glue",
        "update_database",
        {"Name": database["Name"], "DatabaseInput": database_input},
    )


def location_change(location_arn: str, role_arn: str, present_role: str | None) -> Change | None:
    """Register the lake's location with ``role_arn``, or move it to that role."""
    if present_role == role_arn:
        return None
    arguments = {"ResourceArn": location_arn, "RoleArn": role_arn}
    if present_role is None:
        return Change(
            "register",
            f"location {location_arn} with role {role_arn}",
            "lakeformation",
            "register_resource",
            {**arguments, "UseServiceLinkedRole": False},
        )
    return Change(
        "register",
        f"location {location_arn}: role {present_role} -> {role_arn}",
        "lakeformation",
        "update_resource",
        arguments,
    )
