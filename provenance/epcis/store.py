"""The content-addressed local store of full EPCIS events, anchored by their GS1 event hash.

The chain holds only an event's hash (the document hash of its record); the whole event — sensor
data, business transactions, ILMD, extensions — lives here, one file per event:

    <store>/<first two hex digits>/<64 hex digits>.json

Each file is the event as a standalone JSON-LD object (its `@context` first), so its name can be
re-checked from its content alone: `check` recomputes the GS1 event hash and compares it with
the name, which is the on-chain anchor. Another read server gets the details by copying the
directory (or by `epcis export` here and `epcis import` there, which records nothing twice).

Files are written to a temporary name and renamed, so a killed process leaves either the whole
file or none; a file lost to a power cut is written again by the next import of its document.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from provenance.config import data_dir
from provenance.encoding import Hex32, to_hex32
from provenance.epcis.hashing import anchor_of, event_hash, merge_contexts, ni_of
from provenance.exceptions import InvalidInput


class Status(StrEnum):
    OK = "ok"  # stored, and its hash is its anchor
    MISMATCH = "mismatch"  # stored, but its content no longer hashes to its anchor
    UNREADABLE = "unreadable"  # stored, but not JSON / not an event
    MISSING = "missing"  # details not available here


@dataclass(frozen=True)
class StoredCheck:
    anchor: Hex32
    status: Status
    path: Path
    actual: str | None = None  # the hash the stored content has now (for a mismatch)
    detail: str = ""


def default_root() -> Path:
    return data_dir() / "epcis"


class EventStore:
    """The store under `root` (default `<data dir>/epcis`)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()

    def __repr__(self) -> str:
        return f"EventStore({str(self.root)!r})"

    def path_of(self, anchor: str) -> Path:
        digest = to_hex32(anchor)[2:]
        return self.root / digest[:2] / f"{digest}.json"

    def has(self, anchor: str) -> bool:
        return self.path_of(anchor).is_file()

    def put(self, anchor: str, event: Mapping[str, Any]) -> Path:
        """Store `event` (a standalone JSON-LD event: `@context` + event) under `anchor`.
        An existing file is kept when it still verifies (content-addressed: same content)."""
        path = self.path_of(anchor)
        if path.is_file() and self.check(anchor).status == Status.OK:
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(event, handle, ensure_ascii=False, indent=1)
                handle.write("\n")
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def get(self, anchor: str) -> dict[str, Any] | None:
        """The stored event (with its `@context`), or None when not stored or unreadable."""
        try:
            data = json.loads(self.path_of(anchor).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def check(self, anchor: str) -> StoredCheck:
        """Whether the stored event still hashes to `anchor`."""
        anchor = to_hex32(anchor)
        path = self.path_of(anchor)
        if not path.is_file():
            return StoredCheck(anchor, Status.MISSING, path, detail="details not available here")
        data = self.get(anchor)
        if data is None:
            return StoredCheck(anchor, Status.UNREADABLE, path, detail="not a JSON object")
        try:
            context = merge_contexts(data.get("@context"))
            actual = event_hash(data, context)
        except InvalidInput as exc:
            return StoredCheck(anchor, Status.UNREADABLE, path, detail=str(exc))
        if anchor_of(actual) != anchor:
            return StoredCheck(anchor, Status.MISMATCH, path, actual=actual)
        return StoredCheck(anchor, Status.OK, path, actual=actual)

    def anchors(self) -> Iterator[Hex32]:
        """Every stored anchor (file names; not re-checked)."""
        if not self.root.is_dir():
            return
        for path in sorted(self.root.glob("??/*.json")):
            if len(path.stem) == 64:
                yield "0x" + path.stem


def event_id_of(anchor: str) -> str:
    return ni_of(anchor)


def check_report(report: Any, store: EventStore) -> Any:
    """`verify`'s hook: check the stored EPCIS events of every document anchored in `report`'s
    history (a `provenance.verify.Report`); returns the report with the findings added. A stored
    event that no longer hashes to its anchor is an error; anchors with no stored event are
    noted as "details not available here"."""
    from provenance.verify import ERROR, INFO, Reason

    anchors: list[str] = []
    for entry in report.timeline:
        anchors.extend(entry.documents)
    anchors.extend(a.evidence for a in report.attestations)
    unique = [a for a in dict.fromkeys(to_hex32(x) for x in anchors if x) if int(a, 16)]
    found: list[Reason] = []
    ok = missing = 0
    for anchor in unique:
        check = store.check(anchor)
        if check.status == Status.OK:
            ok += 1
        elif check.status == Status.MISSING:
            missing += 1
        else:
            what = (
                f"its content now hashes to {check.actual}"
                if check.status == Status.MISMATCH
                else f"it is unreadable ({check.detail})"
            )
            found.append(
                Reason(
                    ERROR,
                    f"stored EPCIS event {ni_of(anchor)} no longer matches its on-chain anchor: "
                    f"{what} ({check.path})",
                )
            )
    if ok:
        found.append(Reason(INFO, f"{ok} stored EPCIS event(s) match their on-chain anchors"))
    if missing:
        found.append(
            Reason(
                INFO,
                f"{missing} anchored document(s): EPCIS details not available here (no stored "
                "event)",
            )
        )
    if not found:
        return report
    return report.with_reasons(*found)


__all__ = ["EventStore", "Status", "StoredCheck", "check_report", "default_root", "event_id_of"]
