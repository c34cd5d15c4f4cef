"""The package's shape: imports only point down the layers of docs/design.md, one exception root
with its category bases, and `--help` without the heavy libraries."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from provenance import exceptions
from tests.support import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "provenance"

#: Layer of every module (docs/design.md, "Python library"); a module imports from its own
#: layer or below, never above.
LAYERS: dict[str, int] = {
    **dict.fromkeys(
        [
            "exceptions",
            "config",
            "encoding",
            "gs1",
            "cbv",
            "units",
            "money",
            "times",
            "records",
            "chain",
            "compiler",
            "snapshots",
            "node",
        ],
        0,
    ),
    **dict.fromkeys(["reverts", "logs", "rpc", "outbox", "transactions", "signing", "accounts"], 1),
    **dict.fromkeys(["client", "registry", "agreements", "deploy"], 2),
    **dict.fromkeys(["session", "verify", "demo", "index", "epcis", "directory", "labels"], 3),
    "cli": 4,
    "web": 4,
    "__main__": 4,
}
NAMES = {0: "base", 1: "transport", 2: "clients", 3: "services", 4: "shells"}


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py"))


def layer_of(path: Path) -> int:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return LAYERS[parts[0]] if parts[0] != "__init__" else 0


def imported(path: Path) -> set[str]:
    """Every provenance module `path` imports, lazily inside functions too."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("provenance."):
                found.add(node.module.split(".")[1])
            elif node.module == "provenance":
                found.update(alias.name for alias in node.names if alias.name in LAYERS)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("provenance."):
                    found.add(alias.name.split(".")[1])
    return found


def test_every_module_has_a_layer() -> None:
    for path in modules():
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        assert parts[0] in LAYERS or parts == ("__init__",), f"{path}: add it to LAYERS"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_only_point_down(path: Path) -> None:
    mine = layer_of(path)
    for name in imported(path):
        assert LAYERS[name] <= mine, (
            f"{path.relative_to(PROJECT_ROOT)} ({NAMES[mine]}) imports provenance.{name} "
            f"({NAMES[LAYERS[name]]})"
        )


def test_chain_imports_nothing_above_the_exceptions_and_the_encoding() -> None:
    assert imported(PACKAGE / "chain.py") <= {"exceptions", "encoding"}


def test_only_the_shells_import_click() -> None:
    for path in modules():
        if layer_of(path) < LAYERS["cli"]:
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
            names |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
            assert not any(name.split(".")[0] == "click" for name in names), path


def test_one_exception_root_with_the_built_in_categories() -> None:
    assert issubclass(exceptions.InvalidInput, ValueError)
    assert issubclass(exceptions.NotFoundError, LookupError)
    assert issubclass(exceptions.ChainUnreachable, ConnectionError)
    assert not issubclass(exceptions.InvalidInput, exceptions.ContractRevert)
    assert issubclass(exceptions.RevertedInvalid, exceptions.InvalidInput)
    assert issubclass(exceptions.RevertedInvalid, exceptions.ContractRevert)
    for name in dir(exceptions):
        value = getattr(exceptions, name)
        if isinstance(value, type) and issubclass(value, Exception):
            assert (
                value is exceptions.ProvenanceError
                or issubclass(value, exceptions.ProvenanceError)
                or value.__module__ != exceptions.__name__
            ), name
    revert = exceptions.ContractRevert("message", "Err", (1, 2))
    assert revert.args == ("message",) and revert.error_args == (1, 2)  # args not shadowed


def test_help_loads_no_heavy_library() -> None:
    probe = (
        "import sys, provenance.cli; "
        "print(sorted(m for m in ('web3', 'eth_abi', 'eth_account', 'rich', 'requests', "
        "'provenance.session') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True,
        cwd=PROJECT_ROOT,
    )  # fmt: skip
    assert done.stdout.strip() == "[]"
