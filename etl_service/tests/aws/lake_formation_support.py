"""Lake Formation on the moto server: what moto gets wrong, set right, and a governed lake.

moto 5.2 implements the Lake Formation calls the setup makes except ``UpdateResource``
(moving a registered location to another role), checks none of their inputs (principals,
permissions per resource, tag values) and enforces no permission. One answer differs from
AWS in a way the setup cannot work around: ``GetResourceLFTags`` on a database or table
that never had an LF-tag fails with HTTP 500 (a KeyError in moto) where AWS answers with
no tags. ``aws_like_lf_tags`` patches that one method of the in-process moto server.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from etl_service.aws.session import boto3_session, client
from etl_service.settings import CatalogSettings, LakeFormationSettings, Settings
from etl_service.tests.support.services import MotoServer

IAM_ALLOWED: Any = {"DataLakePrincipalIdentifier": "IAM_ALLOWED_PRINCIPALS"}
MUTATING_PREFIXES = ("Put", "Register", "Update", "Grant", "Revoke", "Add", "Remove", "Create")


@contextmanager
def aws_like_lf_tags() -> Iterator[None]:
    """``GetResourceLFTags`` answers no tags for an untagged resource, as AWS does."""
    from moto.lakeformation.models import LakeFormationBackend

    original = LakeFormationBackend.get_resource_lf_tags

    def answer(self: Any, catalog_id: str, resource: dict[str, Any]) -> Any:
        self.lf_database_tags = defaultdict(list, self.lf_database_tags)
        self.lf_table_tags = defaultdict(list, self.lf_table_tags)
        return original(self, catalog_id, resource)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(LakeFormationBackend, "get_resource_lf_tags", answer)
        yield


@dataclass
class MotoLake:
    """A lake's Glue databases and tables on moto, and a governance config for it."""

    settings: Settings
    tag: str
    """Names this lake's roles and LF-tag domain apart from other tests'."""
    namespace: str
    domain: str
    config: Path
    account: str
    caller: str

    @property
    def location_arn(self) -> str:
        return "arn:aws:s3:::" + self.settings.lake_uri.removeprefix("s3://")

    @property
    def databases(self) -> dict[str, str]:
        return {"curated": self.namespace, "processed": f"{self.namespace}_processed"}

    def role(self, name: str) -> str:
        """The ARN of this lake's role ``name`` (etl, analyst, lf-location)."""
        return f"arn:aws:iam::{self.account}:role/{name}-{self.tag}"

    def clients(self) -> tuple[Any, Any, Any]:
        """Lake Formation, Glue and STS clients of the moto server."""
        session = boto3_session(self.settings)
        endpoint = self.settings.aws_endpoint_url
        return (
            client(session, "lakeformation", endpoint),
            client(session, "glue", endpoint),
            client(session, "sts", endpoint),
        )


CONFIG = """
admins = ["{{caller}}"]

[location]
role_arn = "arn:aws:iam::{{account}}:role/lf-location-{tag}"

[roles]
etl = "arn:aws:iam::{{account}}:role/etl-{tag}"
analyst = "arn:aws:iam::{{account}}:role/analyst-{tag}"

[lf_tags]
domain = ["{domain}"]
sensitivity = ["public", "internal"]

[databases.curated]
domain = "{domain}"
sensitivity = "public"

[databases.processed]
domain = "{domain}"
sensitivity = "internal"

[[columns]]
database = "curated"
table = "companies"
names = ["founded_raw", "source_revision"]
tags = {{ sensitivity = "internal" }}

[[grants]]
role = "etl"
on = "data_location"
permissions = ["DATA_LOCATION_ACCESS"]

[[grants]]
role = "etl"
on = "database"
where = {{ domain = ["{domain}"] }}
permissions = ["CREATE_TABLE", "ALTER", "DESCRIBE"]

[[grants]]
role = "etl"
on = "table"
where = {{ domain = ["{domain}"] }}
permissions = ["ALTER", "INSERT", "DESCRIBE"]

[[grants]]
role = "analyst"
on = "table"
where = {{ domain = ["{domain}"], sensitivity = ["public"] }}
permissions = ["SELECT", "DESCRIBE"]
"""
"""A config of its own per lake: moto's Lake Formation is one catalog for the whole session,
so each test's LF-tag values keep its tag-based grants apart from the others'."""


def aws_env(settings: Settings) -> dict[str, str]:
    """The ETL_* variables of ``settings``' lake, catalog and AWS access."""
    assert settings.aws_access_key_id
    assert settings.aws_secret_access_key
    env = {
        "ETL_LAKE_URI": settings.lake_uri,
        "ETL_CATALOG__TYPE": settings.catalog.type,
        "ETL_CATALOG__NAMESPACE": settings.catalog.namespace,
        "ETL_AWS_ENDPOINT_URL": settings.aws_endpoint_url or "",
        "ETL_AWS_REGION": settings.aws_region,
        "ETL_AWS_ACCESS_KEY_ID": settings.aws_access_key_id.get_secret_value(),
        "ETL_AWS_SECRET_ACCESS_KEY": settings.aws_secret_access_key.get_secret_value(),
    }
    if settings.lake_formation.config:
        env["ETL_LAKE_FORMATION__CONFIG"] = str(settings.lake_formation.config)
    return env


def governed_lake(moto: MotoServer, folder: Path) -> MotoLake:
    """Glue databases made as AWS makes them before Lake Formation is set up (new tables
    default to ``IAM_ALLOWED_PRINCIPALS``, which also holds ALL on the database), two
    tables, and a config for them."""
    tag = uuid.uuid4().hex[:8]
    namespace, domain = f"lf_{tag}", f"sp500-{tag}"
    config = folder / "governance.toml"
    config.write_text(CONFIG.format(tag=tag, domain=domain))
    settings = moto.settings(
        lake_uri=f"s3://lake-{tag}/sp500",
        catalog=CatalogSettings(type="glue", namespace=namespace),
        lake_formation=LakeFormationSettings(config=config),
    )
    session = boto3_session(settings)
    glue = client(session, "glue", moto.endpoint_url)
    lakeformation = client(session, "lakeformation", moto.endpoint_url)
    default = [{"Principal": IAM_ALLOWED, "Permissions": ["ALL"]}]
    for database, zone in ((namespace, "curated"), (f"{namespace}_processed", "processed")):
        glue.create_database(
            DatabaseInput={
                "Name": database,
                "LocationUri": f"{settings.lake_uri}/{zone}",
                "CreateTableDefaultPermissions": default,  # type: ignore[typeddict-item]
            }
        )
        lakeformation.grant_permissions(
            Principal=IAM_ALLOWED, Resource={"Database": {"Name": database}}, Permissions=["ALL"]
        )
    columns = ["ticker", "name", "headquarters", "founded_raw", "source_revision"]
    _table(glue, namespace, "companies", columns)
    _table(glue, f"{namespace}_processed", "companies_page", ["ticker", "raw"])
    lakeformation.grant_permissions(
        Principal=IAM_ALLOWED,
        Resource={"Table": {"DatabaseName": namespace, "Name": "companies"}},
        Permissions=["ALL"],
    )
    identity = client(session, "sts", moto.endpoint_url).get_caller_identity()
    return MotoLake(settings, tag, namespace, domain, config, identity["Account"], identity["Arn"])


def _table(glue: Any, database: str, name: str, columns: list[str]) -> None:
    glue.create_table(
        DatabaseName=database,
        TableInput={
            "Name": name,
            "StorageDescriptor": {"Columns": [{"Name": c, "Type": "string"} for c in columns]},
        },
    )


def lake_permissions(lake: MotoLake) -> list[tuple[str, str, str, str]]:
    """Every grant on the lake's databases, tables and location, or on tag expressions with
    its domain: (principal, resource, permission, "grantable" or ""), sorted."""
    lakeformation = lake.clients()[0]
    databases = set(lake.databases.values())
    found = []
    for entry in lakeformation.list_permissions()["PrincipalResourcePermissions"]:
        kind, body = next(iter(entry["Resource"].items()))
        if kind == "LFTagPolicy":
            terms = {t["TagKey"]: t["TagValues"] for t in body["Expression"]}
            if lake.domain not in terms.get("domain", []):
                continue
            where = " & ".join(f"{k}={'|'.join(sorted(v))}" for k, v in sorted(terms.items()))
            resource = f"{body['ResourceType']} where {where}"
        elif kind == "DataLocation":
            if body["ResourceArn"] != lake.location_arn:
                continue
            resource = "location"
        else:
            name = body.get("Name")
            if body.get("DatabaseName", name) not in databases:
                continue
            resource = f"{kind} {body.get('DatabaseName', '')}.{name}".replace(" .", " ")
        principal = entry["Principal"]["DataLakePrincipalIdentifier"]
        found += [(principal, resource, p, "") for p in entry["Permissions"]]
        found += [
            (principal, resource, p, "grantable") for p in entry["PermissionsWithGrantOption"]
        ]
    return sorted(found)
