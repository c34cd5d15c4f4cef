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
    SHIPPED,
    SOLC_VERSION,
    Artifact,
    find_solc,
    input_hash,
    load_artifact,
    write_artifacts,
)
from provenance.exceptions import CompilerError

DEPLOYABLE = {"ProvenanceRegistry", "SupplyAgreements"}
LIBRARIES = {"Membership", "Derivations"}


def test_committed_artifacts_are_fresh(artifacts: dict[str, Artifact]) -> None:
    """`artifacts` is compiled from every source, test doubles included: the shipped ones must be
    exactly the deployable contracts and libraries, byte for byte what the sources compile to."""
    manifest = json.loads((ARTIFACTS_DIR / MANIFEST).read_text())
    assert manifest["inputHash"] == input_hash(), "contracts changed: run `provenance compile`"
    shipped = {p.stem for p in ARTIFACTS_DIR.glob("*.json")} - {"manifest"}
    expected = {name for name, a in artifacts.items() if not a.test_double}
    assert shipped == expected == set(SHIPPED), "artifact set differs: run `provenance compile`"
    assert set(manifest["contracts"]) == shipped
    for name in shipped:
        fresh, committed = artifacts[name], load_artifact(name)
        assert committed.abi == fresh.abi, f"{name}: stale ABI, run `provenance compile`"
        assert committed.bytecode == fresh.bytecode, f"{name}: stale bytecode"
        assert committed.deployed_bytecode == fresh.deployed_bytecode, f"{name}: stale runtime"
        assert committed.link_references == fresh.link_references, f"{name}: stale links"


def test_test_doubles_are_compiled_but_never_shipped(artifacts: dict[str, Artifact]) -> None:
    doubles = {name for name, a in artifacts.items() if a.test_double}
    assert {"MockERC20", "ERC1271Wallet", "ReentrantAttacker"} <= doubles
    assert all(artifacts[name].source.startswith("contracts/mocks/") for name in doubles)
    assert not doubles & {p.stem for p in ARTIFACTS_DIR.glob("*.json")}
    with pytest.raises(CompilerError, match="never shipped"):
        write_artifacts({"MockERC20": artifacts["MockERC20"]}, out=Path("/nonexistent"))


def test_every_deployable_contract_is_shipped() -> None:
    for name in DEPLOYABLE | LIBRARIES:
        artifact = load_artifact(name)
        assert len(artifact.deployed_bytecode) > 1000 and len(artifact.abi) > 5
        # Creation code = constructor + the runtime code it returns.
        assert artifact.deployed_bytecode.removeprefix("0x") in artifact.bytecode


def test_the_registry_links_both_libraries_and_nothing_else_needs_linking() -> None:
    registry = load_artifact("ProvenanceRegistry")
    assert registry.libraries == sorted(LIBRARIES)
    for name in ("SupplyAgreements", *LIBRARIES):
        assert load_artifact(name).libraries == []
    addresses = {"Membership": "0x" + "11" * 20, "Derivations": "0x" + "22" * 20}
    linked = registry.linked_bytecode(addresses)
    runtime = registry.linked_runtime(addresses)
    for code in (linked, runtime):
        assert "__$" not in code and "11" * 20 in code and "22" * 20 in code
        bytes.fromhex(code[2:])  # valid hex once linked
    assert runtime[2:] in linked
    with pytest.raises(CompilerError, match="needs library Derivations deployed first"):
        registry.linked_bytecode({"Membership": addresses["Membership"]})


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
