"""Makes `brownie run` load the project's scripts by file location, in any folder.

eth-brownie 1.22 imports a script under a module name built from its absolute path
(`/home/me/acme.provenance/scripts/deploy.py` becomes `home.me.acme.provenance.scripts.deploy`,
imported with `/` on sys.path), so `brownie run` fails with `ModuleNotFoundError: No module named
'home.me.acme'` as soon as a folder on the path has a dot in its name (`~/.cache/...`, anything
made by `mktemp -d`). Upstream: eth-brownie/brownie PR #1070 and PR #1654, both unmerged.

brownie imports a module named `brownie_hooks` from the project root while it loads the project
(`brownie.project.main._load_sources`), before any script runs. On import, this module puts each
script of the project into `sys.modules` under the name brownie will ask for, as a module that
runs its file on first use: brownie's import finds it there and never walks the path. The script
still runs only when brownie runs it (brownie looks up its `main`), after brownie has put the
project's contracts in its namespace, so `from brownie import ProvenanceRegistry` at the top of a
script keeps working.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent


def brownie_module_name(script: Path) -> str:
    """The module name brownie 1.22 imports a script under (`scripts._import_from_path`)."""
    return f"{'.'.join(script.parts[1:-1])}.{script.stem}"


def module_alias(script: Path) -> str:
    """A plain module name for a script: `__name__` of the loaded script, found again on reload."""
    digest = hashlib.sha1(str(script).encode()).hexdigest()[:10]
    return f"brownie_script_{script.stem}_{digest}"


class ScriptFinder(importlib.abc.MetaPathFinder):
    """Finds registered scripts by alias, so `importlib.reload` works (brownie reloads a script
    it runs a second time in the same process, e.g. from `brownie console`)."""

    def __init__(self) -> None:
        self.scripts: dict[str, Path] = {}

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        script = self.scripts.get(fullname)
        return importlib.util.spec_from_file_location(fullname, script) if script else None


FINDER = ScriptFinder()


class LazyScript(ModuleType):
    """A script module that runs its file when one of the script's own names is first looked up.

    Dunder names never trigger it: `inspect.getmodule` (which brownie calls through
    `inspect.stack`) and other scanners of sys.modules probe them on every module.
    """

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        self.__class__ = ModuleType  # type: ignore[assignment]  # a plain module from now on
        spec = self.__spec__
        assert spec is not None and spec.loader is not None
        spec.loader.exec_module(self)
        return getattr(self, attr)


def register_script(script: Path) -> ModuleType:
    """Put `script` into sys.modules under brownie's name for it, loading on first use."""
    script = script.resolve()
    name, alias = brownie_module_name(script), module_alias(script)
    if alias in sys.modules:
        return sys.modules[alias]
    if FINDER not in sys.meta_path:
        sys.meta_path.append(FINDER)
    FINDER.scripts[alias] = script
    spec = importlib.util.spec_from_file_location(alias, script)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)  # __name__, __file__, __spec__, __loader__
    module.__class__ = LazyScript
    sys.modules[alias] = sys.modules[name] = module
    return module


def register_scripts(folder: Path) -> list[ModuleType]:
    """Register every script under `folder` (the project's scripts folder)."""
    return [register_script(path) for path in sorted(folder.rglob("*.py"))]


def scripts_folder(root: Path = ROOT) -> Path:
    """The project's scripts folder, as brownie reads it from brownie-config.yaml."""
    try:
        from brownie._config import _load_project_structure_config  # type: ignore[import-not-found]

        return root / str(_load_project_structure_config(root)["scripts"])
    except Exception:  # not under brownie, or another brownie version: its default
        return root / "scripts"


if "brownie" in sys.modules:
    register_scripts(scripts_folder())
