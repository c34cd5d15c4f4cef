"""Reading EPCIS 2.0 JSON-LD files: an `EPCISDocument` or an `EPCISQueryDocument`, from a path
or standard input.

This is the package's own validation of what it imports: enough structure to find the events and
their `@context` safely (no network). Whether an event can be mapped is `mapping`'s question; a
malformed or unreadable event is not an error of the file but a refusal of that event.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from provenance.epcis.hashing import event_hash, merge_contexts, normalize_context
from provenance.exceptions import InvalidInput

DOCUMENT_TYPES = ("EPCISDocument", "EPCISQueryDocument")


@dataclass(frozen=True)
class SourceEvent:
    """One event of an input file.

    `event` is the event as JSON reads it (what is hashed and stored, without `@context`);
    `exact` is the same with decimal numbers kept exact (what quantities are read from);
    `context` is its effective `@context` (document + its own), empty when `context_error`
    says why it cannot be read offline.
    """

    source: str
    index: int
    event: dict[str, Any]
    exact: dict[str, Any]
    context: tuple[Any, ...]
    context_error: str | None = None

    @property
    def label(self) -> str:
        """`file.jsonld#3` (1-based), how reports name the event."""
        return f"{self.source}#{self.index + 1}"

    @property
    def event_type(self) -> str:
        return str(self.event.get("type", "?"))

    def gs1_hash(self) -> str:
        """Its GS1 event hash (raises `InvalidInput` when its context cannot be read)."""
        if self.context_error:
            raise InvalidInput(self.context_error)
        return event_hash(self.event, list(self.context))

    def standalone(self) -> dict[str, Any]:
        """The event as a standalone JSON-LD object: its effective `@context` first."""
        return {"@context": list(self.context), **self.event}


def plain(value: Any) -> Any:
    """Decimal numbers as the float `json.loads` would have made of the same text."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def _events_of(doc: Mapping[str, Any], source: str) -> list[Any]:
    kind = doc.get("type")
    body = doc.get("epcisBody")
    if kind not in DOCUMENT_TYPES:
        raise InvalidInput(
            f"{source}: not an EPCIS document (type {kind!r}; expected EPCISDocument or "
            "EPCISQueryDocument)"
        )
    if not isinstance(body, Mapping):
        raise InvalidInput(f"{source}: the {kind} has no epcisBody object")
    if kind == "EPCISQueryDocument":
        results = body.get("queryResults")
        body = results.get("resultsBody") if isinstance(results, Mapping) else None
        if not isinstance(body, Mapping):
            raise InvalidInput(f"{source}: the EPCISQueryDocument has no queryResults.resultsBody")
    events = body.get("eventList", [body["event"]] if "event" in body else None)
    if not isinstance(events, list):
        raise InvalidInput(f"{source}: epcisBody has no eventList array")
    return events


def parse(text: str | bytes, source: str = "-") -> list[SourceEvent]:
    """The events of one EPCIS JSON-LD document, in file order."""
    try:
        doc = json.loads(text, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{source}: not JSON ({exc})") from None
    if not isinstance(doc, Mapping):
        raise InvalidInput(f"{source}: not an EPCIS document (a JSON object is expected)")
    raw_events = _events_of(doc, source)
    doc_context: Any = doc.get("@context")
    doc_error = None
    try:
        normalize_context(doc_context)
    except InvalidInput as exc:
        doc_error = f"{exc}"
    found = []
    for index, exact in enumerate(raw_events):
        if not isinstance(exact, dict):
            exact = {"type": f"<{type(exact).__name__}>"}
        own = exact.get("@context")
        error = doc_error
        context: tuple[Any, ...] = ()
        if error is None:
            try:
                context = tuple(merge_contexts(doc_context, own))
            except InvalidInput as exc:
                error = f"{exc}"
        body = {k: v for k, v in exact.items() if k != "@context"}
        found.append(SourceEvent(source, index, plain(body), body, context, error))
    return found


def read(path: str | Path) -> list[SourceEvent]:
    """The events of the file at `path` (`-` = standard input)."""
    if str(path) == "-":
        return parse(sys.stdin.buffer.read(), "-")
    location = Path(path)
    try:
        data = location.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
    return parse(data, location.name)


def iter_files(paths: list[str]) -> Iterator[SourceEvent]:
    for path in paths:
        yield from read(path)


__all__ = ["DOCUMENT_TYPES", "SourceEvent", "iter_files", "parse", "plain", "read"]
