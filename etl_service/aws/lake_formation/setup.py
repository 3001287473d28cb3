"""Lake Formation governance of the lake, declarative and idempotent: ``LakeFormationSetup``.

``plan`` reads the data lake settings, the LF-tags, the registered location, the Glue
databases and tables with their assigned LF-tags, and every grant, and compares them with
the config (``config.py``, by default the bundled ``governance.toml``):

- the data lake admins are the config's, and new databases and tables give
  ``IAM_ALLOWED_PRINCIPALS`` nothing (account settings and each database's own default),
  so Lake Formation permissions really apply;
- the lake's S3 location is registered with the configured role;
- the LF-tags exist; each database and its tables carry their database's tags, the chosen
  columns theirs;
- the grants on the lake (its databases, tables, location, managed LF-tags, and tag
  expressions that match the lake) are exactly the config's: missing ones are granted,
  others (``IAM_ALLOWED_PRINCIPALS`` included) revoked. Grants elsewhere are left alone.

``run`` applies the plan (``dry_run``: only returns it); a second run finds nothing to do
and makes no call that changes anything. An AWS error names the operation and the
resource: a request AWS refuses as invalid (a role that does not exist) is a ``ConfigError``
(exit 2), a refusal of access a ``LoadError`` and anything else a ``StoreUnavailableError``
(exit 7).

Run it with ``python -m etl_service.aws.lake_formation.setup [--dry-run] [--config FILE]``
or ``etl-service lake govern``.
"""

from __future__ import annotations

import logging
import sys
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from etl_service.aws.lake_formation.config import GovernanceConfig, load_config, resolve_arn
from etl_service.aws.lake_formation.plan import (
    KINDS,
    Atom,
    Change,
    Resource,
    Scope,
    atoms_of,
    database_change,
    definition_changes,
    in_scope,
    location_change,
    permission_changes,
    resource_key,
    settings_change,
    tag_changes,
    tag_expression,
)
from etl_service.errors import ConfigError, EtlError, LoadError, StoreUnavailableError
from etl_service.settings import Settings

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_lakeformation import LakeFormationClient
    from mypy_boto3_sts import STSClient

logger = logging.getLogger(__name__)

INVALID = frozenset({"InvalidInputException", "ValidationException"})
DENIED = frozenset({"AccessDeniedException", "AccessDenied"})
NOT_FOUND = "EntityNotFoundException"


@dataclass(frozen=True)
class GovernedLake:
    """The lake to govern: its S3 location and its Glue databases by the config's label."""

    location_uri: str
    databases: Mapping[str, str]

    @property
    def location_arn(self) -> str:
        return "arn:aws:s3:::" + self.location_uri.removeprefix("s3://").rstrip("/")


_TagItems = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class _Table:
    database: str
    name: str
    columns: tuple[str, ...]


def principal_arn(caller_arn: str) -> str:
    """The IAM ARN of an STS caller: an assumed role's session becomes the role."""
    prefix, _, rest = caller_arn.partition(":assumed-role/")
    if not rest:
        return caller_arn
    return f"{prefix.replace(':sts:', ':iam:')}:role/{rest.split('/')[0]}"


class LakeFormationSetup:
    """Brings Lake Formation to the config for one lake, through injected clients."""

    def __init__(
        self,
        config: GovernanceConfig,
        lake: GovernedLake,
        *,
        lakeformation: LakeFormationClient,
        glue: GlueClient,
        sts: STSClient,
    ) -> None:
        unknown = sorted(set(config.databases) - set(lake.databases))
        if unknown:
            raise ConfigError(
                f"governance config: unknown database label(s) {unknown}: the lake has "
                f"{sorted(lake.databases)}"
            )
        if not lake.location_uri.startswith("s3://"):
            raise ConfigError(
                f"Lake Formation governs an s3:// lake, not {lake.location_uri} (ETL_LAKE_URI)"
            )
        self.config = config
        self.lake = lake
        self.clients: dict[str, Any] = {"lakeformation": lakeformation, "glue": glue, "sts": sts}

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        databases: Mapping[str, str],
        boto3_session: boto3.Session | None = None,
        config: Path | None = None,
    ) -> LakeFormationSetup:
        """The setup of the settings' lake, with clients of ``boto3_session`` (or a new one).

        Raises:
            ConfigError: the lake is not on S3 in the Glue catalog, or the config is invalid.
        """
        from etl_service.aws.session import boto3_session as new_session
        from etl_service.aws.session import client

        if settings.catalog.type != "glue":
            raise ConfigError(
                "Lake Formation governs tables in the Glue Data Catalog: set "
                f"ETL_CATALOG__TYPE=glue (it is {settings.catalog.type!r})"
            )
        session = boto3_session or new_session(settings)
        endpoint = settings.aws_endpoint_url
        return cls(
            load_config(config or settings.lake_formation.config),
            GovernedLake(settings.lake_uri, databases),
            lakeformation=client(session, "lakeformation", endpoint),
            glue=client(session, "glue", endpoint),
            sts=client(session, "sts", endpoint),
        )

    def run(self, dry_run: bool = False) -> list[Change]:
        """Plan, and unless ``dry_run`` apply; the changes (empty: nothing to do)."""
        changes = self.plan()
        if not dry_run:
            self.apply(changes)
        return changes

    def apply(self, changes: list[Change]) -> None:
        """Make the changes, in the order of ``plan.KINDS``."""
        for change in sorted(changes, key=lambda c: KINDS.index(c.kind)):
            logger.debug("lake formation: %s", change)
            self._call(change.service, change.operation, change.summary, **change.arguments)

    def plan(self) -> list[Change]:
        """What must change for Lake Formation to match the config, in order of application.

        Raises:
            ConfigError: the config would lock its caller out, names a database that does
                not exist or a column a table does not have, or AWS finds it invalid.
            LoadError, StoreUnavailableError: AWS refused or could not answer a read.
        """
        identity = self._call("sts", "get_caller_identity", "the caller")
        account, caller = str(identity["Account"]), principal_arn(str(identity["Arn"]))
        config, lake = self.config, self.lake
        admins = [resolve_arn(a, account, caller) for a in config.admins]
        if caller not in admins:
            raise ConfigError(
                f"governance config: admins {admins} leave out the caller {caller}, who "
                "would lose the right to grant: add it (or {caller})"
            )
        settings = self._call("lakeformation", "get_data_lake_settings", "data lake settings")
        changes = [settings_change(settings["DataLakeSettings"], admins)]
        changes += definition_changes(config.lf_tags, self._lf_tags(), account)
        role = resolve_arn(config.location.role_arn, account, caller)
        registered = self._call(
            "lakeformation",
            "describe_resource",
            lake.location_arn,
            missing_ok=True,
            ResourceArn=lake.location_arn,
        )
        present_role = registered["ResourceInfo"].get("RoleArn") if registered else None
        changes.append(location_change(lake.location_arn, role, present_role))
        tables = []
        for label in sorted(config.databases):
            database = self._database(lake.databases[label])
            changes.append(database_change(database))
            tables += self._tables(database["Name"])
        changes += self._tag_changes(tables, account)
        changes += self._permission_changes(account, caller)
        return [c for c in changes if c is not None]

    def _database(self, name: str) -> dict[str, Any]:
        found = self._call(
            "glue", "get_database", f"Glue database {name}", missing_ok=True, Name=name
        )
        if found is None:
            raise ConfigError(
                f"Glue database {name} does not exist: run `etl-service lake setup` first"
            )
        return dict(found["Database"])

    def _tables(self, database: str) -> list[_Table]:
        tables = []
        for page in self._pages(
            "glue", "get_tables", f"tables of {database}", DatabaseName=database
        ):
            for table in page["TableList"]:
                descriptor = table.get("StorageDescriptor", {})
                columns = [c["Name"] for c in descriptor.get("Columns", [])]
                columns += [c["Name"] for c in table.get("PartitionKeys", [])]
                tables.append(_Table(database, table["Name"], tuple(columns)))
        return sorted(tables, key=lambda t: t.name)

    def _lf_tags(self) -> dict[str, list[str]]:
        return {
            tag["TagKey"]: list(tag["TagValues"])
            for page in self._pages("lakeformation", "list_lf_tags", "LF-tags")
            for tag in page.get("LFTags", [])
        }

    def _labels(self) -> dict[str, str]:
        return {name: label for label, name in self.lake.databases.items()}

    def _tag_changes(self, tables: list[_Table], account: str) -> list[Change]:
        config, labels = self.config, self._labels()
        changes = []
        for label in sorted(config.databases):
            name = self.lake.databases[label]
            resource = {"Database": {"CatalogId": account, "Name": name}}
            present = self._assigned(resource, "LFTagOnDatabase", f"database {name}")
            changes += tag_changes(
                resource, f"database {name}", present, config.databases[label], account
            )
        wanted_columns = self._wanted_columns(tables)
        for table in tables:
            label = f"table {table.database}.{table.name}"
            ref = {"CatalogId": account, "DatabaseName": table.database, "Name": table.name}
            present = self._assigned({"Table": ref}, "LFTagsOnTable", label)
            wanted = config.databases[labels[table.database]]
            changes += tag_changes({"Table": ref}, label, present, wanted, account)
            changes += self._column_changes(table, ref, wanted_columns, account)
        return changes

    def _wanted_columns(self, tables: list[_Table]) -> dict[tuple[str, str, str], dict[str, str]]:
        """The configured column tags, checked against the tables that exist."""
        existing = {(t.database, t.name): t.columns for t in tables}
        wanted = {}
        for entry in self.config.columns:
            database = self.lake.databases[entry.database]
            columns = existing.get((database, entry.table))
            if columns is None:
                logger.info("lake formation: %s.%s does not exist yet", database, entry.table)
                continue
            for name in entry.names:
                if name not in columns:
                    raise ConfigError(
                        f"governance config: table {database}.{entry.table} has no column "
                        f"{name!r} (columns: {', '.join(columns)})"
                    )
                wanted[(database, entry.table, name)] = dict(entry.tags)
        return wanted

    def _column_changes(
        self,
        table: _Table,
        ref: dict[str, Any],
        wanted: Mapping[tuple[str, str, str], dict[str, str]],
        account: str,
    ) -> list[Change]:
        if not table.columns:
            return []
        resource = {"TableWithColumns": {**ref, "ColumnNames": list(table.columns)}}
        answer = self._call(
            "lakeformation",
            "get_resource_lf_tags",
            f"columns of {table.database}.{table.name}",
            Resource=resource,
            ShowAssignedLFTags=True,
        )
        present = {
            c["Name"]: self._managed(c.get("LFTags", [])) for c in answer.get("LFTagsOnColumns", [])
        }
        # Columns that need the same change share one call.
        groups: dict[tuple[_TagItems, _TagItems], list[str]] = defaultdict(list)
        for column in table.columns:
            want = wanted.get((table.database, table.name, column), {})
            have = present.get(column, {})
            if want != have:
                groups[(tuple(sorted(have.items())), tuple(sorted(want.items())))].append(column)
        changes = []
        for (had, wants), columns in sorted(groups.items()):
            resource = {"TableWithColumns": {**ref, "ColumnNames": columns}}
            label = f"columns {table.database}.{table.name} ({', '.join(columns)})"
            changes += tag_changes(resource, label, dict(had), dict(wants), account)
        return changes

    def _assigned(self, resource: Resource, field: str, label: str) -> dict[str, str]:
        answer = self._call(
            "lakeformation",
            "get_resource_lf_tags",
            label,
            Resource=resource,
            ShowAssignedLFTags=True,
        )
        return self._managed(answer.get(field, []))

    def _managed(self, tags: list[Mapping[str, Any]]) -> dict[str, str]:
        """The assigned tags whose keys the config declares (one value per key)."""
        return {
            t["TagKey"]: t["TagValues"][0]
            for t in tags
            if t["TagKey"] in self.config.lf_tags and t.get("TagValues")
        }

    def _permission_changes(self, account: str, caller: str) -> list[Change]:
        wanted = self._wanted_grants(account, caller)
        wanted_resources = {atom.resource for atom in wanted}
        scope = self._scope(account)
        listing = [
            entry
            for page in self._pages("lakeformation", "list_permissions", "permissions")
            for entry in page.get("PrincipalResourcePermissions", [])
        ]
        present = {
            atom: resource
            for atom, resource in atoms_of(listing, account).items()
            if atom.resource in wanted_resources or in_scope(resource, scope)
        }
        return permission_changes(wanted, present)

    def _wanted_grants(self, account: str, caller: str) -> dict[Atom, Resource]:
        wanted = {}
        for grant in self.config.grants:
            principal = resolve_arn(self.config.roles[grant.role], account, caller)
            resource: Resource
            if grant.on == "data_location":
                resource = {
                    "DataLocation": {"CatalogId": account, "ResourceArn": self.lake.location_arn}
                }
            else:
                resource = {
                    "LFTagPolicy": {
                        "CatalogId": account,
                        "ResourceType": grant.on.upper(),
                        "Expression": tag_expression(grant.where or {}),
                    }
                }
            key = resource_key(resource, account)
            for permission in grant.permissions:
                wanted[Atom(principal, key, permission)] = resource
        return wanted

    def _scope(self, account: str) -> Scope:
        config = self.config
        database_tags = [dict(config.databases[label]) for label in sorted(config.databases)]
        column_tags = [{**config.databases[c.database], **c.tags} for c in config.columns]
        return Scope(
            account=account,
            databases=frozenset(self.lake.databases[label] for label in config.databases),
            location_arn=self.lake.location_arn,
            tag_keys=frozenset(config.lf_tags),
            tag_sets={"DATABASE": database_tags, "TABLE": database_tags + column_tags},
        )

    def _pages(self, service: str, operation: str, what: str, **arguments: Any) -> Iterator[Any]:
        token: str | None = None
        while True:
            extra: dict[str, Any] = {"NextToken": token} if token else {}
            page = self._call(service, operation, what, **arguments, **extra)
            yield page
            token = page.get("NextToken")
            if not token:
                return

    def _call(
        self,
        service: str,
        operation: str,
        resource: str,
        missing_ok: bool = False,
        **arguments: Any,
    ) -> Any:
        """``operation`` on ``service``; AWS errors become typed errors naming both."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = getattr(self.clients[service], operation)(**arguments)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            if missing_ok and code == NOT_FOUND:
                return None
            raise _typed(operation, resource, f"{code}: {error.get('Message', '')}", code) from exc
        except BotoCoreError as exc:
            raise StoreUnavailableError(f"{operation} on {resource} failed: {exc}") from exc
        failures = answer.get("Failures") if isinstance(answer, dict) else None
        if failures:
            error = failures[0].get("Error", {})
            code = str(error.get("ErrorCode", ""))
            raise _typed(operation, resource, f"{code}: {error.get('ErrorMessage', '')}", code)
        return answer


def _typed(operation: str, resource: str, detail: str, code: str) -> EtlError:
    message = f"Lake Formation: {operation} on {resource} failed: {detail}"
    if code in INVALID:
        return ConfigError(message)
    if code in DENIED:
        return LoadError(message)
    return StoreUnavailableError(message)


if __name__ == "__main__":
    from etl_service.cli.module_entry import governance_main

    sys.exit(governance_main("python -m etl_service.aws.lake_formation.setup"))
