"""brownie_hooks.py puts the project's scripts where brownie 1.22 will import them from, under the
dotted names it makes of their paths, and runs a script only when it is used (no brownie needed)."""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import brownie_hooks
from brownie_hooks import FINDER, brownie_module_name, module_alias, register_scripts

SCRIPT = """\
import os

os.environ["BROWNIE_HOOKS_TEST_RUNS"] = str(int(os.environ.get("BROWNIE_HOOKS_TEST_RUNS", "0")) + 1)


def main():
    return 42
"""


@pytest.fixture
def scripts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A scripts folder under folders with dots, a space and a leading dot (like ~/.cache)."""
    monkeypatch.delenv("BROWNIE_HOOKS_TEST_RUNS", raising=False)
    folder = tmp_path / ".cache" / "acme.provenance 1.x" / "scripts"
    folder.mkdir(parents=True)
    (folder / "deploy.py").write_text(SCRIPT)
    yield folder
    script = (folder / "deploy.py").resolve()
    for name in (brownie_module_name(script), module_alias(script)):
        sys.modules.pop(name, None)
    FINDER.scripts.pop(module_alias(script), None)


def runs() -> int:
    return int(os.environ.get("BROWNIE_HOOKS_TEST_RUNS", "0"))


def test_the_module_name_is_brownies_dotted_path() -> None:
    path = Path("/home/me/.cache/acme.provenance/scripts/deploy.py")
    assert brownie_module_name(path) == "home.me..cache.acme.provenance.scripts.deploy"


def test_brownies_import_finds_the_script_by_file_and_runs_it_on_first_use(scripts: Path) -> None:
    (module,) = register_scripts(scripts)
    script = (scripts / "deploy.py").resolve()
    imported = importlib.import_module(brownie_module_name(script))  # what brownie does
    assert imported is module
    assert module.__file__ == str(script) and module.__name__ == module_alias(script)
    inspect.getmodule(test_the_module_name_is_brownies_dotted_path)  # scans every module's dunders
    assert runs() == 0, "the script ran before brownie used it"
    assert module.main() == 42
    assert runs() == 1


def test_a_registered_script_reloads(scripts: Path) -> None:
    (module,) = register_scripts(scripts)
    assert module.main() == 42
    assert importlib.reload(module) is module  # brownie reloads a script it runs again
    assert runs() == 2


def test_registering_twice_keeps_one_module(scripts: Path) -> None:
    assert register_scripts(scripts) == register_scripts(scripts)


def test_without_brownie_the_scripts_folder_is_scripts() -> None:
    assert brownie_hooks.scripts_folder(Path("/x")) == Path("/x/scripts")
