"""The package's shape: imports only point down the layers of docs/design.md, one exception root
with its category bases, `--help` without the heavy libraries; the layout that README and
docs/design.md describe is the code's; tests share helpers through tests/support only."""

from __future__ import annotations

import ast
import re
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


# ------------------------------------------------------------------ the documented layout

LAYER_WORDS = {"base": 0, "transport": 1, "clients": 2, "services": 3, "shell": 4, "shells": 4}
NAME = re.compile(r"[a-z0-9_]+(?:\.py|/)")


def code_modules() -> set[str]:
    """Top-level modules (`name.py`) and packages (`name/`) of the library."""
    names = {p.name for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__")}
    names |= {f"{p.name}/" for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    return names


def files_of(package: str) -> set[str]:
    folder = PACKAGE / package
    found = {p.name for p in folder.glob("*.py") if p.name != "__init__.py"}
    return found | {
        f"{p.name}/" for p in folder.iterdir() if p.is_dir() and p.name != "__pycache__"
    }


def design_block() -> str:
    text = (PROJECT_ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    section = text.split("## Python library", 1)[1]
    return section.split("```", 2)[1]


def design_layers() -> dict[str, int]:
    """Module → layer, from the layer diagram of docs/design.md ("Python library")."""
    found: dict[str, int] = {}
    layer = -1
    for line in design_block().splitlines():
        word = line.split(" ", 1)[0]
        if word in LAYER_WORDS:
            layer = LAYER_WORDS[word]
        for name in NAME.findall(re.sub(r"\([^)]*\)", "", line)):
            found[name] = layer
    return found


def readme_layers() -> dict[str, int]:
    """Module → layer, from the `provenance/` rows of the README's "Layout" block."""
    block = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8").split("## Layout", 1)[1]
    lines = block.split("```", 2)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("provenance/"))
    found: dict[str, int] = {}
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        if line.startswith("   "):
            continue  # a continuation of the description column
        left, _, right = line.strip().partition("  ")
        layer = LAYER_WORDS.get(right.strip().split(":", 1)[0], LAYER_WORDS["base"])
        for name in NAME.findall(left):
            found[name] = layer
    return found


def test_the_design_doc_names_every_module_in_its_layer() -> None:
    documented = design_layers()
    documented.pop("scripts/", None)  # a shell outside the package
    assert set(documented) == code_modules()
    for name, layer in documented.items():
        if name != "artifacts/":
            assert LAYERS[name.removesuffix(".py").removesuffix("/")] == layer, name


def test_the_readme_layout_names_every_module_in_its_layer() -> None:
    documented = readme_layers()
    assert set(documented) == code_modules()
    for name, layer in documented.items():
        if name != "artifacts/":
            assert LAYERS[name.removesuffix(".py").removesuffix("/")] == layer, name


@pytest.mark.parametrize("package", ["verify", "index"])
def test_the_design_doc_lists_the_files_of_each_package(package: str) -> None:
    match = re.search(rf"{package}/ \(([^)]*)\)", design_block())
    assert match is not None, package
    assert set(match.group(1).split()) == files_of(package)


def test_the_cli_and_web_files_are_where_the_docs_say() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    for name in ("context.py", "options.py", "output.py"):
        assert name in design_block() and (PACKAGE / "cli" / name).is_file(), name
    web = readme.split("  web/", 1)[1].split("  cli/", 1)[0]
    assert set(NAME.findall(web)) == files_of("web")


def test_tests_share_helpers_through_the_support_package_only() -> None:
    """No test module imports from another test module or from a conftest."""
    for path in sorted((PROJECT_ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                last = name.split(".")[-1]
                assert not (last.startswith("test_") or last == "conftest"), (
                    f"{path.relative_to(PROJECT_ROOT)} imports {name}: move it to tests/support"
                )
