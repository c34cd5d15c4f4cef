"""The compiled artifacts shipped in the package are exactly what the sources compile to."""

from __future__ import annotations

import json
import subprocess

from provenance.compiler import (
    ARTIFACTS_DIR,
    MANIFEST,
    SOLC_VERSION,
    Artifact,
    find_solc,
    input_hash,
    load_artifact,
)

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
