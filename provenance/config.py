"""Where the toolkit keeps its local files, and the deployment records it reads them back from.

Everything lives in one project-local data directory, `./.provenance` (override with the
`PROVENANCE_HOME` environment variable): node state, deployment records, keystores, the outbox.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

HOME_ENV = "PROVENANCE_HOME"


def data_dir() -> Path:
    """The project-local data directory (created on first use)."""
    path = Path(os.environ.get(HOME_ENV) or Path.cwd() / ".provenance")
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON so that a crash leaves either the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
