"""`epcis.export` on Anvil, and the two round trips of the fixture: anchoring (stored JSON hash =
on-chain anchor, export returns the exact event, verify flags a tampered one) and from the chain
alone (every field the design table maps is equal). Every export is validated against GS1's JSON
Schema, expanded as JSON-LD offline, and (when installed) checked by npm epcis2.js."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tracemalloc
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from provenance.chain import Chain
from provenance.epcis.document import parse
from provenance.epcis.export import DocumentWriter, export
from provenance.epcis.hashing import ON_CHAIN, anchor_of, event_hash, reference_event_hash
from provenance.epcis.identifiers import convert
from provenance.epcis.importer import RECORDED, scan
from provenance.epcis.mapping import EXPORT_CONTEXT, Intent, interpret
from provenance.epcis.store import EventStore, check_report
from provenance.gs1 import batch_id
from provenance.registry import RegistryClient
from provenance.verify import Verdict, verify
from tests.support import PROJECT_ROOT
from tests.support.epcis import (
    FARM,
    FIXTURE,
    OPERATOR,
    PROCESSOR,
    Cast,
    assert_valid_document,
    make_cast,
    record_fixture,
)
from tests.support.epcis import reference as reference  # a fixture

pytestmark = pytest.mark.anvil
VALIDATOR = PROJECT_ROOT / "tests" / "epcis2_validate.js"


@pytest.fixture
def cast(anvil_chain: Chain, snapshot: None, tmp_path: Path) -> Cast:
    return make_cast(anvil_chain, tmp_path)


def exported(registry: RegistryClient, store: EventStore | None, **kw: Any) -> dict[str, Any]:
    out = io.StringIO()
    export(registry, out, store=store, **kw)
    return json.loads(out.getvalue())  # type: ignore[no-any-return]


def events_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return doc["epcisBody"]["eventList"]  # type: ignore[no-any-return]


def epcis2js(doc: dict[str, Any]) -> None:
    """npm epcis2.js's validator, the independent check a user's clone runs too."""
    node = shutil.which("node")
    module = PROJECT_ROOT / "node_modules" / "epcis2.js"
    if node is None or not module.is_dir():
        pytest.skip("npm epcis2.js is not installed (make setup installs it)")
    result = subprocess.run(
        [node, str(VALIDATOR)], input=json.dumps(doc), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_exported_fixture_validates_three_ways(
    cast: Cast, reference: Path, tmp_path: Path
) -> None:
    store = EventStore(tmp_path / "store")
    record_fixture(cast, store)
    for source in (store, None):
        doc = exported(cast.reader(), source, batch=None)
        assert len(events_of(doc)) == 7
        assert_valid_document(doc, reference)
        epcis2js(doc)


def test_anchoring_round_trip_stored_hash_is_the_anchor_and_export_returns_the_exact_event(
    cast: Cast, tmp_path: Path
) -> None:
    store = EventStore(tmp_path / "store")
    reports = record_fixture(cast, store)
    recorded = {o.event_id: o for r in reports for o in r.outcomes if o.status == RECORDED}
    assert len(recorded) == 7
    anchored = scan(cast.reader()).records
    originals = {e.gs1_hash(): e for e in parse(FIXTURE.read_bytes(), FIXTURE.name)}
    for event_id in recorded:
        anchor = anchor_of(event_id)
        assert anchor in anchored  # the document hash of its on-chain record
        stored = store.get(anchor)
        assert stored is not None
        assert anchor_of(event_hash(stored, stored["@context"])) == anchor
    doc = exported(cast.reader(), store)
    for event in events_of(doc):
        on_chain = event.pop(ON_CHAIN)
        assert on_chain["prv:chainId"] == cast.chain.chain_id
        original = originals[f"ni:///sha-256;{on_chain['prv:document'][2:]}?ver=CBV2.0"]
        event.pop("@context", None)
        # the exact event, with its GS1 event hash as eventID (it had none)
        assert event.pop("eventID") == original.gs1_hash()
        assert event == json.loads(json.dumps(original.event))
        # its eventID is its GS1 event hash, by the reference implementation itself
        assert reference_event_hash(event, list(original.context)) == (
            f"ni:///sha-256;{on_chain['prv:document'][2:]}?ver=CBV2.0"
        )


def test_verify_flags_a_stored_event_that_no_longer_matches_its_anchor(
    cast: Cast, tmp_path: Path
) -> None:
    store = EventStore(tmp_path / "store")
    farm = record_fixture(cast, store)[0]
    ship = farm.outcomes[2]
    batch = ship.batches[0]
    report = check_report(verify(cast.chain, cast.deployment, batch), store)
    assert any("match their on-chain anchors" in r.message for r in report.reasons)
    path = store.path_of(anchor_of(ship.event_id or ""))
    data = json.loads(path.read_text())
    data["sensorElementList"][0]["sensorReport"][0]["value"] = 9.5  # the cold chain, rewritten
    path.write_text(json.dumps(data))
    tampered = check_report(verify(cast.chain, cast.deployment, batch), store)
    assert tampered.verdict == Verdict.FAILED
    assert any("no longer matches its on-chain anchor" in r.message for r in tampered.reasons)
    elsewhere = check_report(verify(cast.chain, cast.deployment, batch), EventStore(tmp_path / "x"))
    assert any("details not available here" in r.message for r in elsewhere.reasons)


def _amount(line: Any) -> tuple[str, str, Decimal]:
    """A quantity line as (GTIN, lot, amount in the base unit of its dimension)."""
    base = line.amount.uom
    for unit in ("MC", "ONZ", "4G", "MMT", "CMK", "C62"):
        converted = convert(Decimal(line.amount.quantity), line.amount.uom, unit)
        if converted is not None:
            return (line.key.gtin, line.key.lot, converted)
    return (line.key.gtin, line.key.lot, Decimal(line.amount.quantity) if base else Decimal(0))


def mapped(intent: Intent, people: dict[int, str]) -> dict[str, Any]:
    """The fields the design table maps, comparable across representations."""

    def parties(refs: dict[str, Any]) -> dict[str, set[str]]:
        return {kind: {r.address or people[r.gln] for r in found} for kind, found in refs.items()}

    return {
        "kind": intent.kind,
        "lines": sorted(_amount(x) for x in intent.lines),
        "inputs": sorted(_amount(x) for x in intent.inputs),
        "outputs": sorted(_amount(x) for x in intent.outputs),
        "biz_step": intent.biz_step,
        "disposition": intent.disposition,
        "location": intent.location,
        "source": parties(dict(intent.source)),
        "destination": parties(dict(intent.destination)),
        "claims": intent.claims,
    }


def test_round_trip_from_the_chain_alone_keeps_every_mapped_field(
    cast: Cast, reference: Path, tmp_path: Path
) -> None:
    record_fixture(cast, EventStore(tmp_path / "store"))
    people = {p.gln: p.address for p in cast.reader().list_participants() if p.gln}
    doc = exported(cast.reader(), None)  # another machine: no local store
    assert_valid_document(doc, reference)
    rebuilt = events_of(doc)
    originals = {anchor_of(e.gs1_hash()): e for e in parse(FIXTURE.read_bytes(), FIXTURE.name)}
    assert len(rebuilt) == len(originals)
    for event in rebuilt:
        original = originals.pop(event[ON_CHAIN]["prv:document"])  # anchored: the original's hash
        assert event["type"] == original.event["type"]
        assert event.get("action") == original.event.get("action")
        # eventID = the GS1 event hash of the rebuilt event (its chain coordinates left out)
        assert event["eventID"] == reference_event_hash(event, EXPORT_CONTEXT)
        assert mapped(interpret(event), people) == mapped(interpret(original.exact), people)


def test_the_query_logic_answers_over_an_export_with_valid_documents(
    cast: Cast, reference: Path, tmp_path: Path
) -> None:
    from provenance.epcis.query import find_event, query_document

    record_fixture(cast, EventStore(tmp_path / "store"))
    events = events_of(exported(cast.reader(), None))
    jam = "https://id.gs1.org/01/09521234000013/10/JAM-1"
    for params, count in (
        ({"MATCH_anyEPCClass": jam}, 2),
        ({"EQ_bizStep": "shipping"}, 1),
        ({"EQ_disposition": "recalled"}, 1),
        ({"eventType": "TransformationEvent"}, 1),
        ({"EQ_bizLocation": "https://id.gs1.org/414/9506000000015"}, 1),
        ({"perPage": "3"}, 3),
    ):
        doc, _ = query_document(events, params)
        assert_valid_document(doc, reference)
        assert len(doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == count
    assert find_event(events, events[3]["eventID"]) == events[3]


def test_one_batch_and_its_lineage(cast: Cast, reference: Path, tmp_path: Path) -> None:
    record_fixture(cast, EventStore(tmp_path / "store"))
    farm_lot = batch_id("09506000134352", "FARM-001")
    alone = events_of(exported(cast.reader(), None, batch=farm_lot))
    kinds = [(e["type"], e.get("bizStep")) for e in alone]
    assert kinds == [
        ("ObjectEvent", "commissioning"),
        ("ObjectEvent", "shipping"),
        ("ObjectEvent", "receiving"),
        ("TransformationEvent", "commissioning"),
    ]
    jam = batch_id("09521234000013", "JAM-1")
    lineage = exported(cast.reader(), None, batch=jam, lineage=True)
    assert_valid_document(lineage, reference)
    assert [e.get("bizStep") for e in events_of(lineage)] == [
        "commissioning", "shipping", "receiving", "commissioning", "inspecting",
    ]  # fmt: skip
    assert len(events_of(exported(cast.reader(), None, batch=jam))) == 2


def test_cli_made_history_exports_valid_epcis(cast: Cast, reference: Path) -> None:
    """Handoffs with title, rejections, cancellations, splits, merges, recalls and lifts made
    without EPCIS: the export still validates."""
    farm, processor = cast.client(FARM), cast.client(PROCESSOR)
    operator = cast.client(OPERATOR)
    gtin = "09506000134352"
    parent, _ = farm.create_batch(gtin, "P", 100, "KGM")
    children, _ = farm.split_batch(parent, [("P-A", 60), ("P-B", 30)], loss=10, parent_lot="P")
    child, _ = farm.merge_batches(children, "P-A1", first_lot="P-A")
    farm.initiate_handoff(farm.make_handoff(child, PROCESSOR.address, biz_step="shipping"))
    processor.reject_handoff(child, "damaged")
    farm.initiate_handoff(farm.make_handoff(child, PROCESSOR.address, transfer_ownership=True))
    farm.cancel_handoff(child)
    farm.recall_batch(child, "contamination")
    operator.lift_recall(child, "mistake")
    doc = exported(cast.reader(), None)
    assert_valid_document(doc, reference)
    steps = [e.get("bizStep") for e in events_of(doc)]
    assert steps == [
        "commissioning", "commissioning", "commissioning", "shipping", "void_shipping",
        "shipping", "void_shipping", "holding", "holding",
    ]  # fmt: skip


def test_the_writer_streams_with_flat_memory() -> None:
    """Peak memory while writing 20,000 events is that of writing 2,000."""
    event = {"type": "ObjectEvent", "eventTime": "2026-01-01T00:00:00.000Z",
             "eventTimeZoneOffset": "+00:00", "action": "OBSERVE", "quantityList": []}  # fmt: skip

    def peak(count: int) -> int:
        tracemalloc.start()
        writer = DocumentWriter(open(os.devnull, "w"))  # noqa: SIM115
        for i in range(count):
            writer.write({**event, "eventID": f"urn:uuid:{i}"})
        writer.close()
        writer.out.close()
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    assert peak(20_000) < peak(2_000) + 64_000


def test_a_delivery_accepted_from_the_carrier_names_no_carrier_as_owner(
    anvil_chain: Chain, snapshot: None, tmp_path: Path
) -> None:
    """The demo's strawberries travel farm → carrier → processor under an agreement; title
    passes from the farm to the processor at the acceptance. The carrier never owned them: the
    exported receipt names the farm as the previous owning party (the carrier only as the party
    that possessed them), and the retailer's purchase of lot A names the processor."""
    from provenance.demo import run

    result = run(anvil_chain, save=False, root=tmp_path)
    registry = RegistryClient(
        anvil_chain, result.deployment.registry, deploy_block=result.deployment.deploy_block
    )
    receipts = [
        e
        for e in events_of(exported(registry, None))
        if e.get("bizStep") == "receiving"
        and any(d["type"] == "owning_party" for d in e.get("destinationList", []))
    ]
    cast = result.cast

    def owners(event: dict[str, Any], side: str) -> list[str]:
        return [
            p[side].rsplit(":", 1)[-1].lower()
            for p in event.get(f"{side}List", [])
            if p["type"] == "owning_party" and p[side].startswith("did:pkh:")
        ]

    by_owner = {owners(e, "destination")[0]: e for e in receipts}
    delivery = by_owner[cast["processor"].lower()]
    assert owners(delivery, "source") == [cast["farm"].lower()]  # the supplier, not the carrier
    assert cast["carrier"].lower() in json.dumps(delivery["sourceList"]).lower()  # possessing
    sale = by_owner[cast["retailer"].lower()]
    assert owners(sale, "source") == [cast["processor"].lower()]
