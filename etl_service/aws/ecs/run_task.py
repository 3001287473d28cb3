"""One run of the pipeline as a Fargate task: start it, find its logs, wait for its exit code.

The task definition (infra/terraform) holds the image, the roles, the settings and the
secrets; a start only overrides the container's command and adds ``ETL_*`` variables.
Overrides are visible to anyone who may describe the task, so a secret is refused there:
secrets reach the container through the task definition's Secrets Manager references.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from etl_service.errors import ConfigError, EngineError, InputError
from etl_service.redact import environment_secrets
from etl_service.settings import EcsSettings

if TYPE_CHECKING:
    from mypy_boto3_ecs import ECSClient

logger = logging.getLogger(__name__)

_CONFIG_ERRORS = {"ClusterNotFoundException", "InvalidParameterException", "AccessDeniedException"}


@dataclass(frozen=True)
class StartedTask:
    """A task ECS accepted, and where its container's logs go."""

    arn: str
    cluster: str
    task_definition: str
    log_group: str | None
    log_stream: str | None

    @property
    def task_id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]

    def where_logs_are(self) -> str:
        """One line saying where the container logs."""
        if self.log_group is None:
            return "logs: the container does not log to CloudWatch (no awslogs driver)"
        return (
            f"logs: CloudWatch log group {self.log_group}, stream {self.log_stream} "
            f"(aws logs tail {self.log_group} --log-stream-names {self.log_stream} --follow)"
        )


@dataclass(frozen=True)
class TaskExit:
    """How a stopped task ended: its container's exit code, or why it never ran."""

    exit_code: int | None
    reason: str


def start_task(
    ecs: ECSClient,
    spec: EcsSettings,
    command: Sequence[str],
    environment: Mapping[str, str],
) -> StartedTask:
    """Start one Fargate task of ``spec.task_definition`` running ``command``.

    Args:
        ecs: the ECS client.
        spec: cluster, task definition, container and network (``ETL_ECS__*``).
        command: the container's command (the arguments after ``etl-service``).
        environment: ``ETL_*`` variables added to the container's environment.

    Raises:
        InputError: an environment name is not ``ETL_*`` or a value is a secret.
        ConfigError: no subnets, or ECS refused the cluster, task definition or network.
        EngineError: ECS accepted the call but placed no task.
    """
    _check_environment(environment)
    if not spec.subnets:
        raise ConfigError("ETL_ECS__SUBNETS is empty: the task needs subnets to run in")
    logging_ = _container_logging(ecs, spec)
    overrides: Any = {
        "containerOverrides": [
            {
                "name": spec.container,
                "command": list(command),
                "environment": [{"name": k, "value": v} for k, v in sorted(environment.items())],
            }
        ]
    }
    network: Any = {
        "awsvpcConfiguration": {
            "subnets": list(spec.subnets),
            "securityGroups": list(spec.security_groups),
            "assignPublicIp": "ENABLED" if spec.assign_public_ip else "DISABLED",
        }
    }
    response = _call(
        ecs.run_task,
        cluster=spec.cluster,
        taskDefinition=spec.task_definition,
        launchType="FARGATE",
        count=1,
        startedBy="etl-service",
        networkConfiguration=network,
        overrides=overrides,
    )
    if not response.get("tasks"):
        reasons = "; ".join(
            f"{f.get('arn', spec.task_definition)}: {f.get('reason')} {f.get('detail', '')}".strip()
            for f in response.get("failures", [])
        )
        raise EngineError(f"ECS started no task on {spec.cluster}: {reasons or 'no reason given'}")
    task = response["tasks"][0]
    group, stream = _log_location(logging_, spec.container, task["taskArn"])
    started = StartedTask(task["taskArn"], spec.cluster, task["taskDefinitionArn"], group, stream)
    logger.info("started task %s on %s", started.arn, spec.cluster)
    return started


def wait_for_exit(
    ecs: ECSClient,
    task: StartedTask,
    container: str,
    *,
    poll_s: float,
    timeout_s: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> TaskExit:
    """Poll until ``task`` stops; its container's exit code, or why the task never ran.

    Raises:
        EngineError: the task is still running after ``timeout_s`` (it keeps running), or
            ECS no longer knows it.
    """
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while True:
        described = _call(ecs.describe_tasks, cluster=task.cluster, tasks=[task.arn])
        if not described.get("tasks"):
            raise EngineError(f"ECS no longer knows task {task.arn}")
        found = described["tasks"][0]
        if found.get("lastStatus") == "STOPPED":
            return _exit_of(found, container)
        if deadline is not None and time.monotonic() >= deadline:
            raise EngineError(
                f"task {task.task_id} is still {found.get('lastStatus')} after {timeout_s:g}s; "
                "it keeps running"
            )
        sleep(poll_s)


def _exit_of(task: Mapping[str, Any], container: str) -> TaskExit:
    reason = str(task.get("stoppedReason") or task.get("stopCode") or "stopped")
    for found in task.get("containers", []):
        if found.get("name") == container:
            code = found.get("exitCode")
            detail = found.get("reason")
            return TaskExit(code, f"{reason}: {detail}" if detail else reason)
    return TaskExit(None, reason)


def _container_logging(ecs: ECSClient, spec: EcsSettings) -> Mapping[str, Any]:
    """The log configuration of ``spec.container``, which must be in the task definition."""
    described = _call(ecs.describe_task_definition, taskDefinition=spec.task_definition)
    for definition in described["taskDefinition"].get("containerDefinitions", []):
        if definition.get("name") == spec.container:
            return definition.get("logConfiguration") or {}
    raise ConfigError(
        f"ETL_ECS__CONTAINER={spec.container!r} is not a container of {spec.task_definition}"
    )


def _log_location(
    logging_: Mapping[str, Any], container: str, task_arn: str
) -> tuple[str | None, str | None]:
    options = logging_.get("options") or {}
    if logging_.get("logDriver") != "awslogs" or "awslogs-group" not in options:
        return None, None
    prefix = options.get("awslogs-stream-prefix")
    task_id = task_arn.rsplit("/", 1)[-1]
    # ECS names the stream <prefix>/<container>/<task id>; without a prefix it is unnamed.
    return options["awslogs-group"], f"{prefix}/{container}/{task_id}" if prefix else None


def _check_environment(environment: Mapping[str, str]) -> None:
    for name, value in environment.items():
        if not name.startswith("ETL_"):
            raise InputError("only ETL_* settings can be passed to the task", field=name)
        if environment_secrets({name: value}):
            raise InputError(
                "a secret cannot be passed as an override (anyone who may describe the task "
                "sees it); give it to the task definition as a Secrets Manager secret",
                field=name,
            )


def _call(operation: Callable[..., Any], **kwargs: Any) -> Any:
    from botocore.exceptions import BotoCoreError, ClientError

    name = getattr(operation, "__name__", "ECS call")
    try:
        return operation(**kwargs)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        message = exc.response.get("Error", {}).get("Message", str(exc))
        error = ConfigError if code in _CONFIG_ERRORS else EngineError
        raise error(f"ECS {name} refused: {code}: {message}") from exc
    except BotoCoreError as exc:
        raise EngineError(f"ECS {name} failed: {exc}") from exc
