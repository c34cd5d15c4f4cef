"""The repository is a working eth-brownie project: compile, test and run the deploy script.

brownie pins every dependency exactly, so it runs from its own virtual environment (.venv-brownie,
made by `make test`); its development network is Anvil from node_modules.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from provenance import node

ROOT = Path(__file__).resolve().parent.parent
BROWNIE = ROOT / ".venv-brownie" / "bin" / "brownie"

pytestmark = pytest.mark.brownie


def brownie(*args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    if not BROWNIE.exists():
        pytest.fail("brownie is not installed: run `make test` (it creates .venv-brownie)")
    anvil = node.find_binary("anvil")
    env = dict(os.environ)
    env["PATH"] = (
        f"{anvil.parent}{os.pathsep}{ROOT / 'node_modules' / '.bin'}{os.pathsep}{env['PATH']}"
    )
    env["SOLCX_BINARY_PATH"] = str(ROOT / "build" / "solcx")
    env["PROVENANCE_HOME"] = str(ROOT / "build" / "brownie-home")
    shutil.rmtree(env["PROVENANCE_HOME"], ignore_errors=True)
    result = subprocess.run(
        [str(BROWNIE), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, (
        f"brownie {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result


@pytest.fixture(scope="module", autouse=True)
def port_8545_free() -> None:
    if node.port_in_use(8545):
        pytest.fail("brownie's development network needs 127.0.0.1:8545, which is in use")


def test_brownie_compile() -> None:
    out = brownie("compile", "--all").stdout
    assert "ProvenanceRegistry" in out and "SupplyAgreements" in out


def test_brownie_test_suite_passes() -> None:
    out = brownie("test").stdout
    assert " passed" in out and "failed" not in out


def test_brownie_run_deploy_script() -> None:
    out = brownie("run", "scripts/deploy.py").stdout
    assert "registry     0x" in out and "agreements   0x" in out
