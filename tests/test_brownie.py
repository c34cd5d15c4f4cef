"""The repository is a working eth-brownie project: compile, test and run the deploy script.

brownie pins every dependency exactly, so it runs from its own virtual environment (.venv-brownie,
made by `make test`); its development network is Anvil from node_modules.

Each brownie command here runs with a HOME of its own. brownie keeps its data folder in
`~/.brownie` (network settings, accounts, a deployments database) and reads `~/brownie-config.yaml`;
the per-run data folder holds a generated `network-config.yaml` whose only network, `development`,
is Anvil on a free port. So the tests neither need nor touch 127.0.0.1:8545 (brownie's default, and
`provenance node start`'s), ignore the user's brownie settings, and two test runs on one machine
share no brownie files.

brownie 1.22 also refuses a project folder whose name does not start with a letter
(`BadProjectName`, in `brownie.project.load`); in a clone named so, these tests run brownie on a
copy of the project in a folder that brownie accepts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from provenance import node
from tests.support import free_port

ROOT = Path(__file__).resolve().parent.parent
BROWNIE = ROOT / ".venv-brownie" / "bin" / "brownie"
PROJECT_FILES = ("contracts", "scripts", "brownie_tests", "brownie-config.yaml", "brownie_hooks.py")

pytestmark = [pytest.mark.brownie, pytest.mark.anvil]  # brownie launches Anvil


def network_config(port: int) -> dict[str, Any]:
    """brownie's network-config.yaml (JSON is YAML) with one network: Anvil on `port`, with the
    settings of brownie's own `development` network."""
    anvil = {
        "name": "Anvil (test run)",
        "id": "development",
        "cmd": "anvil",
        "host": "http://127.0.0.1",
        "cmd_settings": {"port": port, "gas_limit": 12_000_000, "accounts": 10, "base_fee": 0},
    }
    return {"live": [], "development": [anvil]}


def copy_project(dest: Path, files: Sequence[str] = PROJECT_FILES) -> Path:
    """A copy of the brownie project in `dest`, sharing node_modules. `dest` must be a real
    folder, not a link: brownie resolves links."""
    dest.mkdir(parents=True)
    for name in files:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, dest / name)
    (dest / "node_modules").symlink_to(ROOT / "node_modules")
    (dest / "build").mkdir()
    return dest


def run_brownie(
    *args: str, home: Path, cwd: Path, timeout: int = 600
) -> subprocess.CompletedProcess[str]:
    """`brownie ARGS` in `cwd`, with `home` as HOME and a fresh free port for its Anvil."""
    if not BROWNIE.exists():
        pytest.fail("brownie is not installed: run `make test` (it creates .venv-brownie)")
    data = home / ".brownie"
    data.mkdir(parents=True, exist_ok=True)
    (data / "network-config.yaml").write_text(json.dumps(network_config(free_port())))
    anvil = node.find_binary("anvil")
    env = dict(os.environ)
    env["HOME"] = str(home)
    env["PATH"] = (
        f"{anvil.parent}{os.pathsep}{ROOT / 'node_modules' / '.bin'}{os.pathsep}{env['PATH']}"
    )
    env["SOLCX_BINARY_PATH"] = str(ROOT / "build" / "solcx")
    env["PROVENANCE_HOME"] = str(home / "provenance")
    return subprocess.run(
        [str(BROWNIE), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def brownie(*args: str, home: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = run_brownie(*args, home=home, cwd=cwd)
    assert result.returncode == 0, (
        f"brownie {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository, or a copy of it if brownie would refuse the repository's folder name."""
    if ROOT.name[:1].isalpha():
        return ROOT
    return copy_project(tmp_path_factory.mktemp("brownie-project") / "provenance")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A HOME for brownie: its data folder (~/.brownie) is made for this test."""
    path = tmp_path / "home"
    path.mkdir()
    return path


def test_brownie_compile(project: Path, home: Path) -> None:
    out = brownie("compile", "--all", home=home, cwd=project).stdout
    assert "ProvenanceRegistry" in out and "SupplyAgreements" in out


def test_brownie_test_suite_passes(project: Path, home: Path) -> None:
    out = brownie("test", home=home, cwd=project).stdout
    assert " passed" in out and "failed" not in out


def test_brownie_run_deploy_script(project: Path, home: Path) -> None:
    result = brownie("run", "scripts/deploy.py", home=home, cwd=project)
    assert "registry     0x" in result.stdout and "agreements   0x" in result.stdout
    assert "Launching 'anvil" in result.stdout and "--port 8545" not in result.stdout


def test_brownie_run_deploy_script_from_a_folder_with_dots_and_spaces(
    tmp_path: Path, home: Path
) -> None:
    """brownie 1.22 imports a script under a module name made from its absolute path, which breaks
    on a folder name with a dot (eth-brownie/brownie PR #1070, #1654, unmerged); the project's
    brownie_hooks.py registers the scripts by file location instead. Without it, the same run
    fails: the day it does not, upstream has fixed the bug and the hook can go."""
    project = copy_project(
        tmp_path / "acme.provenance 1.x" / "clone", ("contracts", "scripts", "brownie-config.yaml")
    )
    without_hook = run_brownie("run", "scripts/deploy.py", home=home, cwd=project)
    output = without_hook.stdout + without_hook.stderr
    assert without_hook.returncode != 0, output
    assert "ModuleNotFoundError" in output and "No module named" in output, output[-3000:]

    shutil.copy2(ROOT / "brownie_hooks.py", project)
    out = brownie("run", "scripts/deploy.py", home=home, cwd=project).stdout
    assert "registry     0x" in out and "agreements   0x" in out
