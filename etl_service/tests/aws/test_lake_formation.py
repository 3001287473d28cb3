"""Lake Formation governance on the moto server: exactly the configured grants, tags and
settings, idempotent, drift revoked (shown first by --dry-run), errors named.

What moto cannot show (see ``lake_formation_support``): that AWS accepts these principals,
permissions and expressions, that the grants take effect (moto enforces nothing, so that
analysts cannot read the excluded columns or the processed tables is not tested), and
``UpdateResource`` (moving the location to another role), which moto lacks.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from etl_service.aws.lake_formation.config import load_config
from etl_service.aws.lake_formation.setup import GovernedLake, LakeFormationSetup
from etl_service.cli.module_entry import governance_main
from etl_service.errors import EXIT_CODES
from etl_service.tests.aws.lake_formation_support import (
    MUTATING_PREFIXES,
    MotoLake,
    aws_env,
    aws_like_lf_tags,
    governed_lake,
    lake_permissions,
)
from etl_service.tests.support.services import MotoServer

pytestmark = pytest.mark.aws

SETUP = "python -m etl_service.aws.lake_formation.setup"


@pytest.fixture(scope="module", autouse=True)
def _lf_tags_as_on_aws(moto: MotoServer) -> Iterator[None]:
    with aws_like_lf_tags():
        yield


@pytest.fixture
def lake(moto: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MotoLake:
    governed = governed_lake(moto, tmp_path)
    for key, value in aws_env(governed.settings).items():
        monkeypatch.setenv(key, value)
    return governed


def _setup(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], str]:
    """Run the setup's ``python -m`` entry point: exit code, output lines, error output."""
    capsys.readouterr()
    code = governance_main(SETUP, list(args))
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


def _expected(lake: MotoLake) -> list[tuple[str, str, str, str]]:
    etl, analyst, domain = lake.role("etl"), lake.role("analyst"), lake.domain
    rows = [(etl, "location", "DATA_LOCATION_ACCESS", "")]
    rows += [
        (etl, f"DATABASE where domain={domain}", p, "")
        for p in ("ALTER", "CREATE_TABLE", "DESCRIBE")
    ]
    rows += [(etl, f"TABLE where domain={domain}", p, "") for p in ("ALTER", "DESCRIBE", "INSERT")]
    public = f"TABLE where domain={domain} & sensitivity=public"
    rows += [(analyst, public, p, "") for p in ("DESCRIBE", "SELECT")]
    return sorted(rows)


def test_setup_leaves_exactly_the_configured_governance(
    lake: MotoLake, capsys: pytest.CaptureFixture[str]
) -> None:
    assert any(p[0] == "IAM_ALLOWED_PRINCIPALS" for p in lake_permissions(lake))

    code, out, _err = _setup(capsys)

    assert code == 0, out
    assert lake_permissions(lake) == _expected(lake)
    analyst = {p[2] for p in lake_permissions(lake) if "analyst" in p[0]}
    assert analyst == {"SELECT", "DESCRIBE"}
    assert out[-1] == f"{len(out) - 1} changes"
    assert sum(line.startswith("revoke") for line in out) == 3  # IAM_ALLOWED_PRINCIPALS: ALL x 3
    lakeformation, glue, _sts = lake.clients()
    settings = lakeformation.get_data_lake_settings()["DataLakeSettings"]
    assert settings["DataLakeAdmins"] == [{"DataLakePrincipalIdentifier": lake.caller}]
    assert settings["CreateDatabaseDefaultPermissions"] == []
    assert settings["CreateTableDefaultPermissions"] == []
    for database in (lake.namespace, f"{lake.namespace}_processed"):
        assert glue.get_database(Name=database)["Database"]["CreateTableDefaultPermissions"] == []
    registered = lakeformation.describe_resource(ResourceArn=lake.location_arn)["ResourceInfo"]
    assert registered["RoleArn"] == lake.role("lf-location")
    tags = {t["TagKey"]: t["TagValues"] for t in lakeformation.list_lf_tags()["LFTags"]}
    assert tags["domain"] == [lake.domain]
    assert sorted(tags["sensitivity"]) == ["internal", "public"]
    assert _tags(lakeformation, {"Database": {"Name": lake.namespace}}) == {
        "LFTagOnDatabase": {"domain": lake.domain, "sensitivity": "public"}
    }
    processed = {"DatabaseName": f"{lake.namespace}_processed", "Name": "companies_page"}
    assert _tags(lakeformation, {"Table": processed}) == {
        "LFTagsOnTable": {"domain": lake.domain, "sensitivity": "internal"}
    }
    columns = ["ticker", "headquarters", "founded_raw", "source_revision"]
    companies = {"DatabaseName": lake.namespace, "Name": "companies", "ColumnNames": columns}
    column_tags = lakeformation.get_resource_lf_tags(Resource={"TableWithColumns": companies})
    assert {c["Name"]: _flat(c["LFTags"]) for c in column_tags["LFTagsOnColumns"]} == {
        "founded_raw": {"sensitivity": "internal"},
        "source_revision": {"sensitivity": "internal"},
    }


def test_a_second_run_changes_nothing_and_makes_no_changing_call(
    lake: MotoLake, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _setup(capsys)[0] == 0

    assert _setup(capsys)[:2] == (0, ["0 changes"])
    lakeformation, glue, sts = lake.clients()
    calls: list[str] = []
    for service in (lakeformation, glue):
        service.meta.events.register("before-call", lambda model, **_: calls.append(model.name))
    setup = LakeFormationSetup(
        load_config(lake.config),
        GovernedLake(lake.settings.lake_uri, lake.databases),
        lakeformation=lakeformation,
        glue=glue,
        sts=sts,
    )
    assert setup.run() == []
    assert "ListPermissions" in calls
    assert [c for c in calls if c.startswith(MUTATING_PREFIXES)] == []


def test_a_grant_added_by_hand_is_shown_by_dry_run_then_revoked(
    lake: MotoLake, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _setup(capsys)[0] == 0
    lakeformation = lake.clients()[0]
    intruder = lake.role("intruder")
    lakeformation.grant_permissions(
        Principal={"DataLakePrincipalIdentifier": intruder},
        Resource={
            "Table": {"DatabaseName": f"{lake.namespace}_processed", "Name": "companies_page"}
        },
        Permissions=["SELECT"],
        PermissionsWithGrantOption=["SELECT"],
    )
    before = lake_permissions(lake)

    code, out, _err = _setup(capsys, "--dry-run")

    assert code == 0
    assert out == [
        f"revoke   SELECT, SELECT (grant option) on table {lake.namespace}_processed."
        f"companies_page from {intruder}",
        "1 changes planned (dry run: nothing changed)",
    ]
    assert lake_permissions(lake) == before
    assert _setup(capsys)[1][-1] == "1 changes"
    assert lake_permissions(lake) == _expected(lake)


def test_a_column_the_table_lacks_is_a_configuration_error(
    lake: MotoLake, capsys: pytest.CaptureFixture[str]
) -> None:
    text = lake.config.read_text().replace('"founded_raw"', '"founded"')
    lake.config.write_text(text)
    code, _out, err = _setup(capsys)
    assert code == EXIT_CODES["configuration"]
    assert f"table {lake.namespace}.companies has no column 'founded'" in err


def test_an_aws_error_names_the_operation_and_the_resource(
    lake: MotoLake, capsys: pytest.CaptureFixture[str]
) -> None:
    """Moving the location to another role needs ``UpdateResource``, which moto lacks: its
    404 stands in for any AWS refusal here."""
    assert _setup(capsys)[0] == 0
    lake.config.write_text(lake.config.read_text().replace("lf-location-", "lf-other-"))
    code, _out, err = _setup(capsys)
    assert code == EXIT_CODES["store unavailable or load failed"]
    assert f"update_resource on location {lake.location_arn}: role" in err


def _flat(tags: list[dict[str, Any]]) -> dict[str, str]:
    return {t["TagKey"]: t["TagValues"][0] for t in tags}


def _tags(lakeformation: Any, resource: dict[str, Any]) -> dict[str, dict[str, str]]:
    answer = lakeformation.get_resource_lf_tags(Resource=resource)
    return {k: _flat(v) for k, v in answer.items() if k.startswith("LFTag")}
