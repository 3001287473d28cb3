"""Terraform on infra/terraform through the repository's CLI configuration, offline.

``infra/terraform/terraform.tfrc`` installs providers only from ``.providers`` in the stack
folder; this module links that name to the provider mirror it finds. The check keeps its own
data dir (``.terraform-check``), whose local backend points at a state file in a temp dir,
so a stack someone initialised and applied by hand in the same folder is never touched.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
STACK = REPO / "infra" / "terraform"
PROVIDER = Path("registry.terraform.io") / "hashicorp" / "aws"


def provider_mirror() -> Path | None:
    """A folder holding registry.terraform.io/hashicorp/aws in the unpacked mirror layout.

    ``$TF_PROVIDER_MIRROR`` first, then Terraform's own plugin folders, then any folder
    directly under /opt (where machine images put shared tool caches).
    """
    candidates = [os.environ.get("TF_PROVIDER_MIRROR", "")]
    candidates += [
        str(Path.home() / ".terraform.d" / "plugins"),
        str(Path.home() / ".local" / "share" / "terraform" / "plugins"),
        "/usr/local/share/terraform/plugins",
        "/usr/share/terraform/plugins",
        *sorted(glob.glob("/opt/*")),
    ]
    for candidate in filter(None, candidates):
        if (Path(candidate) / PROVIDER).is_dir():
            return Path(candidate)
    return None


def terraform_binary() -> str | None:
    """The terraform executable on PATH, if any."""
    return shutil.which("terraform")


class TerraformError(RuntimeError):
    """A terraform command failed; the message holds its output."""


@dataclass
class Terraform:
    """Terraform commands on the stack with a state file of their own."""

    binary: str
    mirror: Path
    state: Path
    stack: Path = STACK
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        link = self.stack / ".providers"
        if link.is_symlink() and link.resolve() != self.mirror.resolve():
            link.unlink()
        if not link.exists():
            link.symlink_to(self.mirror, target_is_directory=True)

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """``terraform ARGS`` in the stack folder, offline, without colour or prompts."""
        env = {
            **os.environ,
            "TF_CLI_CONFIG_FILE": str(self.stack / "terraform.tfrc"),
            "TF_DATA_DIR": str(self.stack / ".terraform-check"),
            "TF_IN_AUTOMATION": "1",
            "CHECKPOINT_DISABLE": "1",  # no version check over the network
            **self.env,
        }
        result = subprocess.run(
            [self.binary, *args], cwd=self.stack, env=env, capture_output=True, text=True
        )
        if check and result.returncode != 0:
            raise TerraformError(f"terraform {args[0]} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def init(self) -> None:
        """Install the pinned provider from the mirror; keep the state at ``self.state``."""
        self.run(
            "init",
            "-input=false",
            "-no-color",
            "-lockfile=readonly",
            "-reconfigure",
            f"-backend-config=path={self.state}",
        )

    def apply(self, variables: Mapping[str, Any]) -> None:
        self.run(*self._with_vars("apply", variables), "-auto-approve")

    def destroy(self, variables: Mapping[str, Any]) -> None:
        self.run(*self._with_vars("destroy", variables), "-auto-approve")

    def plan_from_scratch(self, variables: Mapping[str, Any], name: str) -> dict[str, Any]:
        """The plan of the whole stack against an empty state of its own, as JSON.

        It takes no lock and touches no other state, so it may run beside an apply.
        """
        empty = self.state.with_name(f"{name}.tfstate")
        plan_file = self.state.with_name(f"{name}.tfplan")
        self.run(
            *self._with_vars("plan", variables, name),
            "-refresh=false",
            "-lock=false",
            f"-state={empty}",  # deprecated for the local backend, still the way to a 2nd state
            f"-out={plan_file}",
        )
        shown = self.run("show", "-json", "-no-color", str(plan_file)).stdout
        plan: dict[str, Any] = json.loads(shown)
        return plan

    def outputs(self) -> dict[str, Any]:
        shown = self.run("output", "-json", "-no-color").stdout
        return {name: value["value"] for name, value in json.loads(shown).items()}

    def _with_vars(
        self, command: str, variables: Mapping[str, Any], name: str = "terraform"
    ) -> list[str]:
        var_file = self.state.with_name(f"{name}.tfvars.json")
        var_file.write_text(json.dumps(variables))
        return [
            command,
            "-input=false",
            "-no-color",
            "-parallelism=30",
            f"-var-file={var_file}",
        ]
