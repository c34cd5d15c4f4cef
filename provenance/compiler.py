"""Compile `contracts/` with py-solc-x into the artifacts shipped inside the package.

One compiler version and one set of settings for everything (see docs/design.md). A native solc of
the pinned version is used when one is installed; otherwise the project's `bin/solc`, a
solc-compatible wrapper around the npm `solc` package (WebAssembly), which gives identical bytecode.

The package ships what users deploy: the two contracts and the libraries the registry links
(`SHIPPED`). Test doubles (`contracts/mocks/`) are compiled by the tests from source and never
shipped, and not part of the artifacts' input hash (no shipped bytecode depends on them).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import solcx
from eth_utils.crypto import keccak
from solcx.exceptions import SolcError
from solcx.install import get_executable

from provenance.exceptions import CompilerError

SOLC_VERSION = "0.8.37"
EVM_VERSION = "shanghai"  # Ganache 7.9 stops at shanghai; OpenZeppelin 5.4 compiles for it.
OPTIMIZER_RUNS = 200
REMAPPINGS = ("@openzeppelin/=node_modules/@openzeppelin/",)

#: Where the test doubles live: compiled by the tests, never shipped in the package.
MOCKS_DIR = "contracts/mocks/"
#: The contracts users deploy: the registry (which creates SupplyAgreements in its constructor)
#: and the two libraries it is linked against.
SHIPPED = ("ProvenanceRegistry", "SupplyAgreements", "Membership", "Derivations")

PACKAGE_DIR = Path(__file__).resolve().parent
ARTIFACTS_DIR = PACKAGE_DIR / "artifacts"
PROJECT_ROOT = PACKAGE_DIR.parent
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Artifact:
    """ABI and bytecode of one deployable contract."""

    name: str
    source: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    metadata: str
    #: Byte ranges of the runtime code that the constructor fills in (immutables).
    immutable_references: dict[str, list[dict[str, int]]] = field(default_factory=dict)
    #: Where the creation code needs the address of a linked library: {source: {library: [ranges]}}.
    link_references: dict[str, dict[str, list[dict[str, int]]]] = field(default_factory=dict)

    @property
    def libraries(self) -> list[str]:
        """Names of the linked libraries this contract needs deployed first."""
        return sorted({lib for refs in self.link_references.values() for lib in refs})

    def linked_bytecode(self, addresses: dict[str, str]) -> str:
        """The creation code with every library placeholder replaced by its deployed address."""
        code = self.bytecode.removeprefix("0x")
        for refs in self.link_references.values():
            for library, ranges in refs.items():
                if library not in addresses:
                    raise CompilerError(f"{self.name} needs library {library} deployed first")
                address = addresses[library].lower().removeprefix("0x")
                for ref in ranges:
                    start = 2 * ref["start"]
                    code = code[:start] + address + code[start + 2 * ref["length"] :]
        return "0x" + code

    def placeholders(self) -> dict[str, str]:
        """The link placeholder of each library this contract needs (`__$<34 hex>$__`, from the
        library's fully qualified name), as solc writes it into both creation and runtime code."""
        return {
            library: "__$" + keccak(text=f"{source}:{library}").hex()[:34] + "$__"
            for source, refs in self.link_references.items()
            for library in refs
        }

    def linked_runtime(self, addresses: dict[str, str]) -> str:
        """The runtime code with every library placeholder replaced by its deployed address (what
        the chain holds, apart from the immutables)."""
        code = self.deployed_bytecode.removeprefix("0x")
        for library, placeholder in self.placeholders().items():
            if library not in addresses:
                raise CompilerError(f"{self.name} needs library {library} deployed first")
            code = code.replace(placeholder, addresses[library].lower().removeprefix("0x"))
        return "0x" + code

    def runtime_code_masked(self, code: str) -> str:
        """`code` (deployed runtime hex) with the immutable ranges zeroed, for comparisons."""
        raw = bytearray(bytes.fromhex(code.removeprefix("0x")))
        for ranges in self.immutable_references.values():
            for ref in ranges:
                raw[ref["start"] : ref["start"] + ref["length"]] = bytes(ref["length"])
        return "0x" + raw.hex()

    @property
    def test_double(self) -> bool:
        """Whether this is a test double under `contracts/mocks/` (never shipped)."""
        return is_test_double(self.source)

    def to_json(self) -> dict[str, Any]:
        return {
            "contractName": self.name,
            "sourceName": self.source,
            "abi": self.abi,
            "bytecode": self.bytecode,
            "deployedBytecode": self.deployed_bytecode,
            "metadata": self.metadata,
            "immutableReferences": self.immutable_references,
            "linkReferences": self.link_references,
        }


def settings() -> dict[str, Any]:
    """The compiler settings used for every build (and recorded in the manifest)."""
    return {
        "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS},
        "evmVersion": EVM_VERSION,
        "remappings": list(REMAPPINGS),
        "outputSelection": {
            "*": {
                "*": [
                    "abi",
                    "evm.bytecode.object",
                    "evm.bytecode.linkReferences",
                    "evm.deployedBytecode.object",
                    "evm.deployedBytecode.immutableReferences",
                    "metadata",
                ]
            }
        },
    }


def find_solc(root: Path = PROJECT_ROOT) -> Path:
    """Return the solc executable to use: a native solc of the pinned version, else `bin/solc`."""
    override = os.environ.get("PROVENANCE_SOLC")
    if override:
        return Path(override)
    native = shutil.which("solc")
    if native and _version_of(Path(native)) == SOLC_VERSION:
        return Path(native)
    try:
        for installed in solcx.get_installed_solc_versions():
            if str(installed) == SOLC_VERSION:
                return Path(get_executable(installed))
    except (SolcError, OSError):  # pragma: no cover - broken ~/.solcx folder
        pass
    wrapper = root / "bin" / "solc"
    if wrapper.exists() and (root / "node_modules" / "solc").exists():
        return wrapper
    raise CompilerError(
        f"no solc {SOLC_VERSION} found: run `npm ci` in {root} (installs the WebAssembly compiler "
        "that bin/solc wraps) or put a native solc of that version on PATH"
    )


def _version_of(executable: Path) -> str | None:
    try:
        return str(solcx.wrapper.get_solc_version(executable)).split("+")[0]
    except (SolcError, OSError, ValueError):
        return None


def is_test_double(source: str) -> bool:
    """Whether `source` (a path relative to the project root) is a test double."""
    return source.replace("\\", "/").startswith(MOCKS_DIR)


def source_files(root: Path = PROJECT_ROOT, *, mocks: bool = True) -> list[Path]:
    """The Solidity sources under `contracts/` (without the test doubles unless `mocks`)."""
    return sorted(
        path
        for path in (root / "contracts").rglob("*.sol")
        if mocks or not is_test_double(path.relative_to(root).as_posix())
    )


def standard_input(root: Path = PROJECT_ROOT, *, mocks: bool = True) -> dict[str, Any]:
    sources = {
        path.relative_to(root).as_posix(): {"content": path.read_text(encoding="utf-8")}
        for path in source_files(root, mocks=mocks)
    }
    return {"language": "Solidity", "sources": sources, "settings": settings()}


def compile_contracts(
    root: Path = PROJECT_ROOT, solc: Path | None = None, *, mocks: bool = True
) -> dict[str, Artifact]:
    """Compile the contracts under `contracts/` (with the test doubles unless `mocks` is False);
    return every contract with bytecode by name: contracts, linked libraries, test doubles."""
    executable = solc or find_solc(root)
    try:
        output = solcx.compile_standard(
            standard_input(root, mocks=mocks),
            solc_binary=executable,
            base_path=str(root),
            allow_paths=[str(root)],
        )
    except SolcError as exc:
        raise CompilerError(f"compilation failed:\n{exc.stderr_data or exc}") from exc
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise CompilerError(
            "compilation failed:\n" + "\n".join(e["formattedMessage"] for e in errors)
        )
    artifacts: dict[str, Artifact] = {}
    for source, contracts in output["contracts"].items():
        if not source.startswith("contracts/"):
            continue  # OpenZeppelin and other libraries
        for name, data in contracts.items():
            bytecode = data["evm"]["bytecode"]["object"]
            if not bytecode or not data["abi"]:
                continue  # interfaces, abstract contracts, libraries of internal functions
            artifacts[name] = Artifact(
                name=name,
                source=source,
                abi=data["abi"],
                bytecode="0x" + bytecode,
                deployed_bytecode="0x" + data["evm"]["deployedBytecode"]["object"],
                metadata=data["metadata"],
                immutable_references=data["evm"]["deployedBytecode"].get("immutableReferences", {}),
                link_references=data["evm"]["bytecode"].get("linkReferences", {}),
            )
    return artifacts


def input_hash(root: Path = PROJECT_ROOT) -> str:
    """Hash of everything that determines the shipped bytecode: sources (without the test
    doubles), settings, compiler version."""
    digest = hashlib.sha256()
    digest.update(
        json.dumps({"solc": SOLC_VERSION, "settings": settings()}, sort_keys=True).encode()
    )
    for path in source_files(root, mocks=False):
        digest.update(
            path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0"
        )
    return "0x" + digest.hexdigest()


def shipped(artifacts: dict[str, Artifact]) -> dict[str, Artifact]:
    """The artifacts the package ships: `SHIPPED`, never a test double."""
    missing = [name for name in SHIPPED if name not in artifacts]
    if missing:
        raise CompilerError(f"the sources define no {', '.join(missing)}: nothing to ship")
    return {name: artifacts[name] for name in SHIPPED if not artifacts[name].test_double}


def write_artifacts(
    artifacts: dict[str, Artifact], root: Path = PROJECT_ROOT, out: Path = ARTIFACTS_DIR
) -> None:
    """Replace the package artifacts with `artifacts` and record the manifest."""
    if any(a.test_double for a in artifacts.values()):
        raise CompilerError("test doubles (contracts/mocks/) are never shipped in the package")
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.json"):
        stale.unlink()
    for artifact in artifacts.values():
        (out / f"{artifact.name}.json").write_text(json.dumps(artifact.to_json(), indent=1) + "\n")
    manifest = {
        "compiler": SOLC_VERSION,
        "settings": settings(),
        "inputHash": input_hash(root),
        "contracts": {
            a.name: {"source": a.source, "bytecodeHash": _sha256(a.bytecode)}
            for a in sorted(artifacts.values(), key=lambda a: a.name)
        },
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")


def build(root: Path = PROJECT_ROOT) -> dict[str, Artifact]:
    """Compile and write the package artifacts (what `provenance compile` runs): the shipped
    contracts only, compiled without the test doubles."""
    artifacts = shipped(compile_contracts(root, mocks=False))
    write_artifacts(artifacts, root)
    return artifacts


def load_artifact(name: str, directory: Path = ARTIFACTS_DIR) -> Artifact:
    path = directory / f"{name}.json"
    if not path.exists():
        raise CompilerError(f"no artifact for {name} in {directory}: run `provenance compile`")
    data = json.loads(path.read_text())
    return Artifact(
        name=data["contractName"],
        source=data["sourceName"],
        abi=data["abi"],
        bytecode=data["bytecode"],
        deployed_bytecode=data["deployedBytecode"],
        metadata=data["metadata"],
        immutable_references=data.get("immutableReferences", {}),
        link_references=data.get("linkReferences", {}),
    )


def artifacts_hash(directory: Path = ARTIFACTS_DIR) -> str:
    """Hash of the shipped artifact set, recorded with each deployment."""
    manifest = directory / MANIFEST
    if not manifest.exists():
        raise CompilerError(f"no {MANIFEST} in {directory}: run `provenance compile`")
    return "0x" + _sha256(manifest.read_text())


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
