"""The compiled artifacts shipped in the package are exactly what the sources compile to."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from provenance.compiler import (
    ARTIFACTS_DIR,
    MANIFEST,
    PROJECT_ROOT,
    SOLC_VERSION,
    Artifact,
    find_solc,
    input_hash,
    load_artifact,
)
from provenance.exceptions import CompilerError

DEPLOYABLE = {"ProvenanceRegistry", "SupplyAgreements"}


def test_committed_artifacts_are_fresh(artifacts: dict[str, Artifact]) -> None:
    manifest = json.loads((ARTIFACTS_DIR / MANIFEST).read_text())
    assert manifest["inputHash"] == input_hash(), "contracts changed: run `provenance compile`"
    shipped = {p.stem for p in ARTIFACTS_DIR.glob("*.json")} - {"manifest"}
    assert shipped == set(artifacts), "artifact set differs from the sources: `provenance compile`"
    for name, fresh in artifacts.items():
        committed = load_artifact(name)
        assert committed.abi == fresh.abi, f"{name}: stale ABI, run `provenance compile`"
        assert committed.bytecode == fresh.bytecode, f"{name}: stale bytecode"
        assert committed.deployed_bytecode == fresh.deployed_bytecode, f"{name}: stale runtime"


def test_every_deployable_contract_is_shipped() -> None:
    for name in DEPLOYABLE:
        artifact = load_artifact(name)
        assert len(artifact.deployed_bytecode) > 1000 and len(artifact.abi) > 10
        # Creation code = constructor + the runtime code it returns.
        assert artifact.deployed_bytecode.removeprefix("0x") in artifact.bytecode


def test_solc_executable_reports_the_pinned_version() -> None:
    solc = find_solc()
    out = subprocess.run([str(solc), "--version"], capture_output=True, text=True, check=True)
    assert f"Version: {SOLC_VERSION}+commit." in out.stdout


def test_manifest_pins_compiler_and_shanghai() -> None:
    manifest = json.loads((ARTIFACTS_DIR / MANIFEST).read_text())
    assert manifest["compiler"] == SOLC_VERSION
    assert manifest["settings"]["evmVersion"] == "shanghai"
    assert manifest["settings"]["optimizer"] == {"enabled": True, "runs": 200}


def test_native_solc_of_the_pinned_version_is_preferred(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stand-in "native" solc on PATH (it delegates to the wrapper, so it compiles identically).
    native = tmp_path / "solc"
    native.write_text(f'#!/bin/sh\nexec "{PROJECT_ROOT / "bin" / "solc"}" "$@"\n')
    native.chmod(0o755)
    monkeypatch.delenv("PROVENANCE_SOLC", raising=False)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert find_solc() == native


def test_other_solc_versions_on_path_are_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "solc"
    other.write_text("#!/bin/sh\necho 'Version: 0.8.20+commit.a1b79de6.Linux.g++'\n")
    other.chmod(0o755)
    monkeypatch.delenv("PROVENANCE_SOLC", raising=False)
    monkeypatch.setenv("SOLCX_BINARY_PATH", str(tmp_path / "no-solcx-installs"))
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert find_solc() == PROJECT_ROOT / "bin" / "solc"


def test_missing_compiler_names_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROVENANCE_SOLC", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("SOLCX_BINARY_PATH", str(tmp_path))
    with pytest.raises(CompilerError, match=r"no solc 0\.8\.37 found: run `npm ci`"):
        find_solc(tmp_path)
