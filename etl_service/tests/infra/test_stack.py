"""``make infra``: infra/terraform is formatted and valid, applies to a moto server, every
resource is checked with boto3, and destroy removes it all.

One apply serves the module (over a minute, most of it the provider's fixed waits: 55 s
for the lifecycle configuration's consistency check, 10 s for the ECS cluster). The
optional RDS instance is planned, not applied, unless ``INFRA_CREATE_RDS=true``: moto
creates it, but the provider waits 80 s after creating an instance and 60 s after
deleting one. The moto server runs in a process of its own, with the gaps
``etl_service/tests/support/moto_gaps.py`` lists filled.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from etl_service.aws.ecs import start_task, wait_for_exit
from etl_service.aws.s3.data_lake import DataLakeBucket, setup_data_lake
from etl_service.settings import Settings
from etl_service.tests.conftest import require
from etl_service.tests.support import services
from etl_service.tests.support.terraform import (
    STACK,
    Terraform,
    provider_mirror,
    terraform_binary,
)

pytestmark = pytest.mark.infra

BUCKET = "sp500-lake-check"
CREATE_RDS = os.environ.get("INFRA_CREATE_RDS", "").lower() == "true"
SNOWFLAKE = {"account": "xy12345", "user": "ETL", "password": "not-a-real-password"}
DATABASE_URL = "postgresql://etl@db.internal:5432/etl?sslmode=require"
GOVERNANCE = json.loads((STACK / "governance.tf.json").read_text())["locals"]["governance"]


@dataclass(frozen=True)
class Stack:
    """The applied stack: its outputs, variables and a session on the moto server."""

    outputs: dict[str, Any]
    variables: dict[str, Any]
    session: boto3.Session
    endpoint_url: str
    rds_plan: Future[dict[str, Any]] | None

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.endpoint_url)  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def terraform(tmp_path_factory: pytest.TempPathFactory) -> Terraform:
    binary = terraform_binary()
    require(binary is not None, "the terraform binary is not installed")
    mirror = provider_mirror()
    require(mirror is not None, "no hashicorp/aws provider mirror found (set TF_PROVIDER_MIRROR)")
    assert binary is not None
    assert mirror is not None
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    state = tmp_path_factory.mktemp("terraform") / "terraform.tfstate"
    return Terraform(binary, mirror, state, env=env)


@pytest.fixture(scope="module")
def initialised(terraform: Terraform) -> Terraform:
    terraform.init()
    return terraform


@pytest.fixture(scope="module")
def stack(initialised: Terraform, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with services.moto_process() as moto:
        session = boto3.Session(
            aws_access_key_id=moto.access_key,
            aws_secret_access_key=moto.secret_key,
            region_name=moto.region,
        )
        ec2 = session.client("ec2", endpoint_url=moto.endpoint_url)
        vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
        subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])
        script = tmp_path_factory.mktemp("glue") / "glue_job.py"
        script.write_text("print('the Glue job script')\n")
        variables = {
            "aws_endpoint_url": moto.endpoint_url,
            "aws_region": moto.region,
            "lake_bucket": BUCKET,
            "vpc_id": vpc["VpcId"],
            "subnet_ids": sorted(s["SubnetId"] for s in subnets["Subnets"])[:2],
            "force_destroy": True,
            "secret_recovery_window_days": 0,
            "sinks": ["lake", "database", "snowflake"],
            "snowflake_credentials": SNOWFLAKE,
            "database_url": DATABASE_URL,
            "create_rds": CREATE_RDS,
            "rds_deletion_protection": False,
            "glue_script": str(script),
        }
        with ThreadPoolExecutor(max_workers=1) as background:
            # Planned while the apply waits on the provider's fixed delays.
            rds_plan = None
            if not CREATE_RDS:
                rds = {**variables, "create_rds": True}
                rds_plan = background.submit(initialised.plan_from_scratch, rds, "rds-plan")
            initialised.apply(variables)
            stack = Stack(initialised.outputs(), variables, session, moto.endpoint_url, rds_plan)
            try:
                yield stack
            finally:
                if _resources_left(initialised):
                    initialised.destroy(variables)


def _resources_left(terraform: Terraform) -> bool:
    if not terraform.state.exists():
        return False
    return bool(json.loads(terraform.state.read_text())["resources"])


def test_the_stack_is_formatted(terraform: Terraform) -> None:
    result = terraform.run("fmt", "-check", "-recursive", "-diff", "-no-color", check=False)
    assert result.returncode == 0, result.stdout


def test_the_stack_is_valid_with_the_pinned_provider(initialised: Terraform) -> None:
    result = initialised.run("validate", "-json", "-no-color", check=False)
    report = json.loads(result.stdout)
    assert report["valid"], report["diagnostics"]
    assert report["warning_count"] == 0, report["diagnostics"]
    lock = (STACK / ".terraform.lock.hcl").read_text()
    assert 'version     = "5.100.0"' in lock


def test_the_bucket_is_what_lake_setup_would_make_it(stack: Stack) -> None:
    s3, glue = stack.client("s3"), stack.client("glue")
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    spec = DataLakeBucket(
        bucket=BUCKET,
        prefix="lake",
        region=stack.variables["aws_region"],
        databases={
            "sp500": f"s3://{BUCKET}/lake/curated",
            "sp500_processed": f"s3://{BUCKET}/lake/processed",
        },
    )
    # `etl-service lake setup` compares each aspect with its own intent: nothing differs.
    assert setup_data_lake(s3, glue, spec) == []
    policy = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_glue_databases_job_and_its_disabled_trigger(stack: Stack) -> None:
    glue = stack.client("glue")
    assert stack.outputs["glue_databases"] == {"curated": "sp500", "processed": "sp500_processed"}
    job = glue.get_job(JobName="sp500-etl-job")["Job"]
    assert job["Role"] == stack.outputs["roles"]["etl"]
    assert job["Command"]["ScriptLocation"] == f"s3://{BUCKET}/artifacts/glue_job.py"
    assert job["DefaultArguments"]["--ETL_LAKE_URI"] == f"s3://{BUCKET}/lake"
    assert job["DefaultArguments"]["--datalake-formats"] == "iceberg"
    assert job["ExecutionProperty"]["MaxConcurrentRuns"] == 1
    script = stack.client("s3").get_object(Bucket=BUCKET, Key="artifacts/glue_job.py")
    assert script["Body"].read() == b"print('the Glue job script')\n"
    trigger = glue.get_trigger(Name="sp500-etl-daily")["Trigger"]
    assert trigger["Type"] == "SCHEDULED"
    assert trigger["Schedule"] == "cron(30 6 * * ? *)"
    assert trigger["Actions"] == [{"JobName": "sp500-etl-job"}]
    assert trigger["State"] != "ACTIVATED"  # the ECS schedule runs the day's job


def test_lake_formation_matches_the_governance_declaration(stack: Stack) -> None:
    lf, sts = stack.client("lakeformation"), stack.client("sts")
    settings = lf.get_data_lake_settings()["DataLakeSettings"]
    caller = sts.get_caller_identity()["Arn"]
    assert [a["DataLakePrincipalIdentifier"] for a in settings["DataLakeAdmins"]] == [caller]
    assert settings.get("CreateDatabaseDefaultPermissions", []) == []
    assert settings.get("CreateTableDefaultPermissions", []) == []
    [location] = lf.list_resources()["ResourceInfoList"]
    assert location == {
        "ResourceArn": f"arn:aws:s3:::{BUCKET}/lake",
        "RoleArn": stack.outputs["roles"]["location"],
    }
    tags = {t["TagKey"]: t["TagValues"] for t in lf.list_lf_tags()["LFTags"]}
    assert tags == GOVERNANCE["lf_tags"]
    for label, name in stack.outputs["glue_databases"].items():
        found = lf.get_resource_lf_tags(Resource={"Database": {"Name": name}})["LFTagOnDatabase"]
        assert {t["TagKey"]: t["TagValues"] for t in found} == {
            key: [value] for key, value in GOVERNANCE["databases"][label].items()
        }
    assert _granted(lf) == _declared(stack.outputs["roles"], f"arn:aws:s3:::{BUCKET}/lake")


def _granted(lf: Any) -> set[tuple[str, str, str, frozenset[str]]]:
    granted = set()
    for p in lf.list_permissions()["PrincipalResourcePermissions"]:
        resource = p["Resource"]
        if "DataLocation" in resource:
            on, where = "data_location", resource["DataLocation"]["ResourceArn"]
        else:
            policy = resource["LFTagPolicy"]
            on = policy["ResourceType"].lower()
            where = json.dumps(
                {t["TagKey"]: sorted(t["TagValues"]) for t in policy["Expression"]}, sort_keys=True
            )
        principal = p["Principal"]["DataLakePrincipalIdentifier"]
        granted.add((principal, on, where, frozenset(p["Permissions"])))
    return granted


def _declared(roles: dict[str, str], location: str) -> set[tuple[str, str, str, frozenset[str]]]:
    declared = set()
    for grant in GOVERNANCE["grants"]:
        where = (
            location
            if grant["on"] == "data_location"
            else json.dumps({k: sorted(v) for k, v in grant["where"].items()}, sort_keys=True)
        )
        declared.add((roles[grant["role"]], grant["on"], where, frozenset(grant["permissions"])))
    return declared


def test_the_task_definition_runs_the_image_with_settings_and_secrets(stack: Stack) -> None:
    ecs = stack.client("ecs")
    env = stack.outputs["run_task_environment"]
    task = ecs.describe_task_definition(taskDefinition=env["ETL_ECS__TASK_DEFINITION"])
    definition = task["taskDefinition"]
    assert definition["requiresCompatibilities"] == ["FARGATE"]
    assert definition["taskRoleArn"] == stack.outputs["roles"]["etl"]
    assert definition["executionRoleArn"] == stack.outputs["roles"]["execution"]
    [container] = definition["containerDefinitions"]
    assert container["name"] == env["ETL_ECS__CONTAINER"] == "etl-service"
    assert container["image"] == f"{stack.outputs['ecr_repository_url']}:0.1.0"
    assert container["readonlyRootFilesystem"] is True
    assert container["user"] == "10001"
    assert container["stopTimeout"] == 120
    environment = {e["name"]: e["value"] for e in container["environment"]}
    assert environment["ETL_LAKE_URI"] == f"s3://{BUCKET}/lake"
    assert environment["ETL_CATALOG__TYPE"] == "glue"
    assert json.loads(environment["ETL_SINKS"]) == ["lake", "database", "snowflake"]
    assert environment["ETL_DATABASE__IAM_AUTH"] == str(CREATE_RDS).lower()
    secrets = {s["name"]: s["valueFrom"] for s in container["secrets"]}
    snowflake = stack.outputs["snowflake_secret_arn"]
    assert secrets == {
        "ETL_DATABASE_URL": stack.outputs["database_secret_arn"],
        "ETL_SNOWFLAKE__ACCOUNT": f"{snowflake}:account::",
        "ETL_SNOWFLAKE__PASSWORD": f"{snowflake}:password::",
        "ETL_SNOWFLAKE__USER": f"{snowflake}:user::",
    }
    assert not {"password", "not-a-real-password"} & set(environment.values())
    logs = container["logConfiguration"]
    assert logs["logDriver"] == "awslogs"
    assert logs["options"]["awslogs-group"] == stack.outputs["log_group"] == "/ecs/sp500-etl"
    group = stack.client("logs").describe_log_groups(logGroupNamePrefix="/ecs/sp500-etl")
    assert group["logGroups"][0]["retentionInDays"] == 90


def test_run_task_starts_the_stack_s_task_definition_from_its_output(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in stack.outputs["run_task_environment"].items():
        monkeypatch.setenv(name, value)
    settings = Settings()  # as `etl-service ecs run-task` reads them after an export
    ecs = stack.client("ecs")
    task = start_task(ecs, settings.ecs, ["run"], {"ETL_SOURCE": "snapshot"})
    assert task.log_group == "/ecs/sp500-etl"
    assert task.log_stream == f"etl/etl-service/{task.task_id}"
    [started] = ecs.describe_tasks(cluster="sp500-etl", tasks=[task.arn])["tasks"]
    assert started["taskDefinitionArn"].endswith(":task-definition/sp500-etl:1")
    network = started["attachments"][0]["details"]
    assert {"name": "subnetId", "value": stack.variables["subnet_ids"][0]} in network
    ended = wait_for_exit(ecs, task, settings.ecs.container, poll_s=0.01)
    assert ended.exit_code == 0


def test_the_secrets_hold_the_database_url_and_the_snowflake_login(stack: Stack) -> None:
    secrets = stack.client("secretsmanager")
    database = secrets.get_secret_value(SecretId=stack.outputs["database_secret_arn"])
    snowflake = secrets.get_secret_value(SecretId=stack.outputs["snowflake_secret_arn"])
    expected = DATABASE_URL
    if CREATE_RDS:  # IAM auth: the URL names the login and the instance, no password
        expected = f"postgresql://etl@{stack.outputs['database_endpoint']}/etl?sslmode=require"
    assert database["SecretString"] == expected
    assert json.loads(snowflake["SecretString"]) == SNOWFLAKE


def test_the_daily_schedule_starts_the_newest_task_definition(stack: Stack) -> None:
    scheduler, ecs = stack.client("scheduler"), stack.client("ecs")
    schedule = scheduler.get_schedule(Name=stack.outputs["schedule"])
    assert schedule["State"] == "ENABLED"
    assert schedule["ScheduleExpression"] == "cron(30 6 * * ? *)"
    target = schedule["Target"]
    cluster = ecs.describe_clusters(clusters=["sp500-etl"])["clusters"][0]
    assert target["Arn"] == cluster["clusterArn"]
    assert target["RoleArn"] == stack.outputs["roles"]["scheduler"]
    parameters = target["EcsParameters"]
    assert parameters["TaskDefinitionArn"].endswith(":task-definition/sp500-etl")
    assert parameters["LaunchType"] == "FARGATE"
    network = parameters["NetworkConfiguration"]["awsvpcConfiguration"]
    assert sorted(network["Subnets"]) == stack.variables["subnet_ids"]
    assert network["AssignPublicIp"] == "DISABLED"


def test_the_repository_keeps_tags_immutable_and_scans_images(stack: Stack) -> None:
    [repository] = stack.client("ecr").describe_repositories(repositoryNames=["sp500-etl"])[
        "repositories"
    ]
    assert repository["imageTagMutability"] == "IMMUTABLE"
    assert repository["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repository["repositoryUri"] == stack.outputs["ecr_repository_url"]


def test_roles_are_least_privilege(stack: Stack) -> None:
    iam = stack.client("iam")
    lake_objects = f"arn:aws:s3:::{BUCKET}/lake/*"
    statements = {role: _statements(iam, arn) for role, arn in stack.outputs["roles"].items()}
    for role, found in statements.items():
        for statement in found:
            assert statement.get("Effect", "Allow") == "Allow", role
            assert not any(a == "*" or a.endswith(":*") for a in statement["Action"]), role
            if statement["Resource"] == ["*"]:
                # Only actions that take no resource may name every resource.
                assert set(statement["Action"]) <= {
                    "ecr:GetAuthorizationToken",
                    "lakeformation:GetDataAccess",
                }, (role, statement)
    etl = _by_sid(statements["etl"])
    assert etl["ReadWriteTheLake"]["Resource"] == [lake_objects]
    assert etl["ReadTheArtifacts"]["Resource"] == [f"arn:aws:s3:::{BUCKET}/artifacts/*"]
    etl_resources = [r for s in statements["etl"] for r in s["Resource"]]
    assert not [r for r in etl_resources if r.startswith("arn:aws:secretsmanager")]
    secrets = {stack.outputs["database_secret_arn"], stack.outputs["snowflake_secret_arn"]}
    assert set(_by_sid(statements["execution"])["ReadTheSecrets"]["Resource"]) == secrets
    assert [s["Resource"] for s in statements["location"] if "s3:PutObject" in s["Action"]] == [
        [lake_objects]
    ]
    run_task = next(s for s in statements["scheduler"] if "ecs:RunTask" in s["Action"])
    family = parameters_family(stack)
    assert set(run_task["Resource"]) == {family, f"{family}:*"}
    trust = iam.get_role(RoleName="sp500-etl")["Role"]["AssumeRolePolicyDocument"]
    services_trusted = {
        service
        for statement in trust["Statement"]
        for service in _listed(statement["Principal"]["Service"])
    }
    assert services_trusted == {"ecs-tasks.amazonaws.com", "glue.amazonaws.com"}


def parameters_family(stack: Stack) -> str:
    family = stack.outputs["run_task_environment"]["ETL_ECS__TASK_DEFINITION"]
    return f"arn:aws:ecs:{stack.variables['aws_region']}:123456789012:task-definition/{family}"


def _statements(iam: Any, role_arn: str) -> list[dict[str, Any]]:
    name = role_arn.rsplit("/", 1)[1]
    found = []
    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
        for statement in document["Statement"]:
            statement["Action"] = _listed(statement["Action"])
            statement["Resource"] = _listed(statement["Resource"])
            found.append(statement)
    assert iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"] == []
    return found


def _by_sid(statements: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in statements if "Sid" in s}


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def test_the_database_instance_uses_iam_auth_and_tls(stack: Stack) -> None:
    if stack.rds_plan is None:
        rds = stack.client("rds")
        [instance] = rds.describe_db_instances(DBInstanceIdentifier="sp500-etl")["DBInstances"]
        planned = {
            "iam_database_authentication_enabled": instance["IAMDatabaseAuthenticationEnabled"],
            "publicly_accessible": instance["PubliclyAccessible"],
        }
    else:
        # The whole stack planned with create_rds=true: every reference resolves, and the
        # instance is what such an apply would create.
        plan = stack.rds_plan.result(timeout=300)
        changes = {c["address"]: c["change"] for c in plan["resource_changes"]}
        instance = changes["aws_db_instance.etl[0]"]
        assert instance["actions"] == ["create"]
        planned = instance["after"]
        assert planned["storage_encrypted"] is True
        assert planned["manage_master_user_password"] is True
        parameters = changes["aws_db_parameter_group.etl[0]"]["after"]["parameter"]
        assert {"name": "rds.force_ssl", "value": "1", "apply_method": "immediate"} in parameters
    assert planned["iam_database_authentication_enabled"] is True
    assert planned["publicly_accessible"] is False


def test_destroy_removes_the_stack(initialised: Terraform, stack: Stack) -> None:
    initialised.destroy(stack.variables)
    assert not _resources_left(initialised)
    buckets = [b["Name"] for b in stack.client("s3").list_buckets()["Buckets"]]
    assert BUCKET not in buckets
    roles = [r["RoleName"] for r in stack.client("iam").list_roles()["Roles"]]
    assert not [r for r in roles if r.startswith("sp500-")]
    assert stack.client("lakeformation").list_permissions()["PrincipalResourcePermissions"] == []
    assert stack.client("secretsmanager").list_secrets()["SecretList"] == []
    assert stack.client("glue").get_jobs()["Jobs"] == []


def test_the_state_file_stays_out_of_the_stack_folder() -> None:
    assert not list(Path(STACK).glob("*.tfstate*"))
