"""AWS ECS: the pipeline as a one-off Fargate task (``etl-service ecs run-task``)."""

from etl_service.aws.ecs.run_task import StartedTask, TaskExit, start_task, wait_for_exit

__all__ = ["StartedTask", "TaskExit", "start_task", "wait_for_exit"]
