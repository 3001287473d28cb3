"""The governance config: who may do what on the lake, declared in TOML and checked here.

The file names roles, LF-tags, the tags of each database, table column and the grants;
``load_config`` validates it against ``GovernanceConfig`` and refuses anything else (an
unknown key, a permission that does not apply to its resource, ``ALL``, a tag value that is
not declared), naming the field. ARNs may use ``{account}`` (the account of the caller,
from STS) and ``{caller}`` (the caller's own IAM ARN).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from etl_service.errors import ConfigError

DEFAULT_CONFIG = "governance.toml"
"""The bundled config, next to this module."""

ResourceKind = Literal["data_location", "database", "table"]

PERMISSIONS: dict[str, frozenset[str]] = {
    "data_location": frozenset({"DATA_LOCATION_ACCESS"}),
    "database": frozenset({"CREATE_TABLE", "ALTER", "DROP", "DESCRIBE"}),
    "table": frozenset({"SELECT", "INSERT", "DELETE", "DESCRIBE", "ALTER", "DROP"}),
}
"""What Lake Formation accepts on each kind of resource; ``ALL`` is never accepted here."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Location(_Strict):
    """How the lake's S3 location is registered."""

    role_arn: str
    """The role Lake Formation assumes to read and write the location for its principals."""


class ColumnTags(_Strict):
    """Tags on some columns of one table, overriding the tags they inherit from it."""

    database: str
    table: str
    names: tuple[str, ...] = Field(min_length=1)
    tags: dict[str, str] = Field(min_length=1)


class Grant(_Strict):
    """Permissions of one role on one kind of resource.

    ``where`` is an LF-tag expression (every key must match one of its values): database
    and table grants are always tag-based; the data location grant names the lake.
    """

    role: str
    on: ResourceKind
    permissions: tuple[str, ...] = Field(min_length=1)
    where: dict[str, tuple[str, ...]] | None = None

    @model_validator(mode="after")
    def _fits_its_resource(self) -> Grant:
        wrong = sorted(set(self.permissions) - PERMISSIONS[self.on])
        if wrong:
            allowed = ", ".join(sorted(PERMISSIONS[self.on]))
            raise ValueError(f"{wrong} cannot be granted on a {self.on} (allowed: {allowed})")
        if (self.on == "data_location") != (self.where is None):
            raise ValueError(
                "a data_location grant takes no 'where'; database and table grants need one"
            )
        return self


class GovernanceConfig(_Strict):
    """Who may do what on the lake (see the module docstring and the bundled file)."""

    admins: tuple[str, ...] = Field(min_length=1)
    location: Location
    roles: dict[str, str] = Field(min_length=1)
    lf_tags: dict[str, tuple[str, ...]] = Field(min_length=1)
    databases: dict[str, dict[str, str]] = Field(min_length=1)
    """The tags of each database (by its label: ``curated``, ``processed``) and its tables."""
    columns: tuple[ColumnTags, ...] = ()
    grants: tuple[Grant, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> GovernanceConfig:
        for label, tags in self.databases.items():
            self._declared(tags, f"databases.{label}")
        for column in self.columns:
            if column.database not in self.databases:
                raise ValueError(f"columns: unknown database {column.database!r}")
            self._declared(column.tags, f"columns {column.database}.{column.table}")
        for grant in self.grants:
            if grant.role not in self.roles:
                raise ValueError(f"grants: unknown role {grant.role!r}")
            for key, values in (grant.where or {}).items():
                for value in values:
                    self._declared({key: value}, f"grants ({grant.role} on {grant.on})")
        return self

    def _declared(self, tags: Mapping[str, str], where: str) -> None:
        for key, value in tags.items():
            if value not in self.lf_tags.get(key, ()):
                raise ValueError(f"{where}: {key}={value} is not declared in lf_tags")


def load_config(path: Path | None = None) -> GovernanceConfig:
    """The config at ``path`` (default: the bundled ``governance.toml``), validated.

    Raises:
        ConfigError: the file is missing, not TOML, or not a valid config; names the field.
    """
    where = str(path) if path else DEFAULT_CONFIG
    try:
        if path is None:
            text = resources.files(__package__).joinpath(DEFAULT_CONFIG).read_text("utf-8")
        else:
            text = path.read_text("utf-8")
        return GovernanceConfig.model_validate(tomllib.loads(text))
    except OSError as exc:
        raise ConfigError(f"governance config {where}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"governance config {where}: not TOML: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"governance config {where}: {problems}") from None


def resolve_arn(template: str, account: str, caller: str) -> str:
    """``template`` with ``{account}`` and ``{caller}`` filled in."""
    return template.replace("{account}", account).replace("{caller}", caller)
