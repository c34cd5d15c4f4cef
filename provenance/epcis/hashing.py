"""The GS1 EPCIS event hash (`ni:///sha-256;<hex>?ver=CBV2.0`), computed with the reference
implementation (PyPI `epcis-event-hash-generator`), offline.

The reference canonicalises an event into a "pre-hash string" and hashes it with SHA-256. Before
that it expands the whole document as JSON-LD (pyld) only to learn which bare words stand for CBV
web-vocabulary URIs (`shipping` → `https://ref.gs1.org/cbv/BizStep-shipping`). That expansion
costs ~1.5 ms an event, and it fetches unknown `@context` URLs from the internet. Here:

- the event is hashed on its own (wrapped in a one-event document with its effective context),
  so its hash never depends on the other events of a file;
- the expansion runs with an offline document loader (the GS1 contexts the reference ships) and
  is memoised on the event's *vocabulary skeleton*: the event with every value that cannot expand
  to a CBV or GS1 vocabulary URI (URNs, absolute IRIs outside those vocabularies, times, numbers)
  replaced by a placeholder. Such a value only ever expands to itself, so the set of CBV values
  is the same; events of one shape share one expansion;
- the rest is the reference's own code: bare-string replacement, the XML/JSON model correction,
  the pre-hash string and the hash.

`tests/test_epcis_hashing.py` checks this against the unmodified reference path on the official
examples, the fixtures and generated events. The chain anchors the 32 bytes of the hash
(`anchor_of`); `ni_of` turns an anchor back into the URI.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from provenance.encoding import Hex32, to_hex32
from provenance.exceptions import InvalidInput

GS1_CONTEXT_URL = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
#: The context URLs the reference implementation ships (and so can read offline).
KNOWN_CONTEXTS = (GS1_CONTEXT_URL, "https://gs1.github.io/EPCIS/epcis-context.jsonld")
NI_PREFIX = "ni:///sha-256;"
NI_SUFFIX = "?ver=CBV2.0"
_NI = re.compile(r"^ni:///sha-256;([0-9a-fA-F]{64})\?ver=CBV2\.0$")
_VOCABULARIES = ("https://ref.gs1.org/cbv", "https://gs1.org/voc")
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T")
_PLACEHOLDER = "urn:x"
_LOCK = threading.Lock()  # the reference keeps its namespace table in a module global

#: This toolkit's JSON-LD namespace for its EPCIS extensions, and its prefix in exports.
NAMESPACE = "https://w3id.org/provenance-toolkit/epcis#"
PREFIX = "prv"
#: The extension carrying an event's chain coordinates: where it is recorded, not what happened,
#: so (like `recordTime`) it is left out of the event hash.
ON_CHAIN = f"{PREFIX}:onChain"

Context = list[Any]


def ni_of(anchor: str | bytes) -> str:
    """The event-hash URI of a 32-byte anchor."""
    return f"{NI_PREFIX}{to_hex32(anchor)[2:]}{NI_SUFFIX}"


def anchor_of(ni: str) -> Hex32:
    """The 32 bytes an event-hash URI anchors on chain (0x hex)."""
    match = _NI.match(ni.strip())
    if not match:
        raise InvalidInput(
            f"not a GS1 EPCIS event hash (ni:///sha-256;<64 hex>?ver=CBV2.0): {ni!r}"
        )
    return "0x" + match.group(1).lower()


def is_event_hash(value: object) -> bool:
    return isinstance(value, str) and bool(_NI.match(value.strip()))


def normalize_context(value: Any) -> Context:
    """A document's or event's `@context` as a list; refuses what cannot be read offline.

    Accepted: the GS1 EPCIS 2.0 context by URL, and inline objects mapping namespace prefixes to
    IRIs (`{"example": "http://ns.example.com/epcis/"}`). Anything else would need the network or
    redefine EPCIS terms, so it is refused with the reason.
    """
    items = value if isinstance(value, list) else [value]
    result: Context = []
    for item in items:
        if isinstance(item, str):
            if item not in KNOWN_CONTEXTS:
                raise InvalidInput(
                    f"@context {item!r} cannot be read offline: only the GS1 EPCIS 2.0 context "
                    f"({GS1_CONTEXT_URL}) and inline namespace prefixes are read, never fetched"
                )
        elif isinstance(item, dict):
            for key, iri in item.items():
                if not isinstance(key, str) or not isinstance(iri, str) or ":" not in iri:
                    raise InvalidInput(
                        f"@context entry {key!r}: only namespace prefixes mapped to IRIs are "
                        'supported inline (e.g. {"example": "http://ns.example.com/epcis/"})'
                    )
        else:
            raise InvalidInput(f"unsupported @context entry {item!r}")
        if item not in result:
            result.append(item)
    if not any(isinstance(item, str) for item in result):
        raise InvalidInput(f"@context must include the GS1 EPCIS 2.0 context {GS1_CONTEXT_URL}")
    return result


def merge_contexts(*contexts: Any) -> Context:
    """Document context + event context, as one normalized list."""
    merged: list[Any] = []
    for context in contexts:
        if context is None:
            continue
        merged.extend(context if isinstance(context, list) else [context])
    return normalize_context(merged)


@functools.lru_cache(maxsize=4)
def _bundled_context(url: str) -> dict[str, Any]:
    import importlib.resources

    names = {  # the reference's own copies, named by their SHA-256
        GS1_CONTEXT_URL: "e532647e8eb371379b8b0e8602d8981c8566bc60f7351f22c76a5bc865962008",
        KNOWN_CONTEXTS[1]: "14b10c9d3e92d35f577bfc610fe5ec15aa2941124987919389d7cd9998516861",
    }
    package = importlib.resources.files("epcis_event_hash_generator")
    text = package.joinpath(names[url] + ".jsonld").read_text()
    return json.loads(text)  # type: ignore[no-any-return]


def offline_loader(url: str, options: Any = None) -> dict[str, Any]:
    """A pyld document loader that serves the GS1 contexts the reference ships, and nothing
    else (no network)."""
    if url not in KNOWN_CONTEXTS:
        from pyld.jsonld import JsonLdError

        raise JsonLdError(
            f"{url} is not available offline",
            "jsonld.LoadDocumentError",
            code="loading document failed",
        )
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": _bundled_context(url),
    }


def _skeleton(value: Any) -> Any:
    """`value` with every string that cannot expand to a CBV/GS1-vocabulary URI replaced."""
    if isinstance(value, dict):
        return {k: _skeleton(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_skeleton(v) for v in value]
    if isinstance(value, str):
        if value.startswith(_VOCABULARIES):
            return value
        if (
            value.startswith(("urn:", "did:", "ni:", "http://", "https://"))
            or _TIME.match(value)
            or value.replace(".", "", 1).lstrip("+-").isdigit()
        ):
            return _PLACEHOLDER
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return 0
    return value


@functools.lru_cache(maxsize=1024)
def _vocabulary_values(skeleton_json: str) -> frozenset[str]:
    """The CBV / GS1-vocabulary URIs of a document's JSON-LD expansion (what the reference's
    bare-string replacement looks for)."""
    from epcis_event_hash_generator import json_to_py
    from pyld import jsonld

    expanded = jsonld.expand(json.loads(skeleton_json), {"documentLoader": offline_loader})
    found: list[str] = []
    json_to_py._find_expanded_values(expanded, found)
    return frozenset(v for v in found if v.startswith(_VOCABULARIES))


def _wrap(event: Mapping[str, Any], context: Sequence[Any]) -> dict[str, Any]:
    body = {k: copy.deepcopy(v) for k, v in event.items() if k != "@context"}
    return {"@context": list(context), "type": "EPCISDocument", "epcisBody": {"eventList": [body]}}


def event_hash(event: Mapping[str, Any], context: Sequence[Any]) -> str:
    """The GS1 event hash URI of `event` read with `context` (its document's `@context`, plus
    its own if it has one). Its `eventID`, `recordTime` and `errorDeclaration` do not count,
    as the algorithm says; nor does this toolkit's chain-coordinate extension
    (`mapping.ON_CHAIN`), which is where the event is recorded, not what happened."""
    from epcis_event_hash_generator import hash_generator, json_to_py
    from epcis_event_hash_generator.json_xml_model_mismatch_correction import (
        deep_structure_correction,
    )

    clean = {k: v for k, v in event.items() if k != ON_CHAIN}
    doc = _wrap(clean, context)
    skeleton = {**doc, "epcisBody": _skeleton(doc["epcisBody"])}
    values = _vocabulary_values(json.dumps(skeleton, sort_keys=True))
    doc = json_to_py._replace_bare_string_values(doc, set(values))
    with _LOCK:
        json_to_py._namespaces.clear()
        json_to_py._collect_namespaces_from_jsonld_context(doc["@context"])
        tree = deep_structure_correction(json_to_py._json_to_py(doc["epcisBody"]["eventList"][0]))
        prehashes = hash_generator.derive_prehashes_from_events(("EventList", "", [tree]))
    if len(prehashes) != 1:
        raise InvalidInput("the event could not be canonicalised for hashing (malformed event)")
    return str(hash_generator.calculate_hashes_from_pre_hashes(prehashes)[0])


def reference_event_hash(event: Mapping[str, Any], context: Sequence[Any]) -> str:
    """The same hash through the reference's unmodified document path (full pyld expansion).
    Slow; used by the tests to check `event_hash`."""
    from epcis_event_hash_generator import hash_generator, json_to_py
    from pyld import jsonld

    clean = {k: v for k, v in event.items() if k != ON_CHAIN}
    previous = jsonld.get_document_loader()
    jsonld.set_document_loader(offline_loader)
    try:
        with _LOCK:
            json_to_py._namespaces.clear()
            events = json_to_py.event_list_from_epcis_document_json(_wrap(clean, context))
    finally:
        jsonld.set_document_loader(previous)
    prehashes = hash_generator.derive_prehashes_from_events(events)
    return str(hash_generator.calculate_hashes_from_pre_hashes(prehashes)[0])


__all__ = [
    "GS1_CONTEXT_URL",
    "KNOWN_CONTEXTS",
    "NAMESPACE",
    "ON_CHAIN",
    "PREFIX",
    "anchor_of",
    "event_hash",
    "is_event_hash",
    "merge_contexts",
    "ni_of",
    "normalize_context",
    "offline_loader",
    "reference_event_hash",
]
