"""Where the toolkit keeps its local files, and how it writes them.

Everything lives in one project-local data directory, `./.provenance` (override with the
`PROVENANCE_HOME` environment variable): node record and state, deployment records, keystores,
the outbox. A folder that cannot be created or written is reported as such (`ConfigError`), with
the way out.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, TextIO

from provenance.exceptions import ConfigError

#: Where a label's QR code points unless told otherwise: `provenance serve` on this machine.
DEFAULT_RESOLVER = "http://127.0.0.1:8000"

HOME_ENV = "PROVENANCE_HOME"


def data_dir() -> Path:
    """The project-local data directory (created on first use)."""
    path = Path(os.environ.get(HOME_ENV) or Path.cwd() / ".provenance")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the data directory {path}: {exc.strerror or exc}; set {HOME_ENV} "
            "to a folder you can write"
        ) from exc
    return path


def cannot_write(path: Path, exc: OSError) -> ConfigError:
    """The error for a local file that could not be written."""
    reason = exc.strerror or str(exc)
    blocking = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        hint = f"{blocking} is a file, not a folder: give another path"
    elif not path.parent.exists():
        hint = f"the folder {path.parent} does not exist"
    elif isinstance(exc, PermissionError):
        hint = f"{path.parent} is not writable (set {HOME_ENV} to a folder you can write)"
    else:
        hint = "check the disk and the folder's permissions"
    return ConfigError(f"cannot write {path}: {reason}; {hint}")


def open_output(path: Path) -> TextIO:
    """Open a file the user named for writing (text, UTF-8); one line saying why it cannot be."""
    try:
        return path.open("w", encoding="utf-8")
    except OSError as exc:
        raise cannot_write(path, exc) from exc


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON so that a crash leaves either the old file or the new one, never half of one."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise cannot_write(path, exc) from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise cannot_write(path, exc) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
