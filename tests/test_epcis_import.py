"""`epcis.importer` on Anvil: GS1's examples refused with their reasons, our fixture recorded end
to end by each participant in turn, re-import and repeated events sending nothing, dry runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance.chain import Chain
from provenance.epcis.document import parse, read
from provenance.epcis.importer import (
    ALREADY,
    DUPLICATE,
    PLANNED,
    RECORDED,
    REJECTED,
    ImportReport,
    import_events,
)
from provenance.epcis.store import EventStore
from tests.support.epcis import (
    CERTIFIER,
    FARM,
    FIXTURE,
    PROCESSOR,
    Cast,
    make_cast,
    record_fixture,
    run,
)
from tests.support.epcis import reference as reference  # a fixture

pytestmark = pytest.mark.anvil


@pytest.fixture
def cast(anvil_chain: Chain, snapshot: None, tmp_path: Path) -> Cast:
    return make_cast(anvil_chain, tmp_path)


def statuses(report: ImportReport) -> list[str]:
    return [o.status for o in report.outcomes]


#: Why each event of GS1's four examples cannot be recorded as it stands.
OFFICIAL_REASONS = {
    ("Example_9.6.1-ObjectEvent.jsonld", 0): "is a serialised item (SGTIN)",
    ("Example_9.6.1-ObjectEvent.jsonld", 1): "is a serialised item (SGTIN)",
    ("Example_9.6.2-ObjectEvent.jsonld", 0): "a receipt of a shipment never recorded",
    ("Example_9.6.3-AggregationEvent.jsonld", 0): "AggregationEvent (packing items into a logistic",
    ("Example_9.6.4-TransformationEvent.jsonld", 0): "is a serialised item (SGTIN)",
}


def test_every_event_of_gs1s_examples_is_refused_with_its_reason(
    cast: Cast, reference: Path, tmp_path: Path
) -> None:
    paths = sorted((reference / "examples").glob("*.jsonld"))
    assert len(paths) == 4
    report = run(cast, FARM, *paths, store=EventStore(tmp_path / "store"))
    assert len(report.outcomes) == len(OFFICIAL_REASONS)
    for outcome in report.outcomes:
        assert outcome.status == REJECTED, outcome
        assert OFFICIAL_REASONS[(outcome.source, outcome.index)] in outcome.reason, outcome.reason
        assert outcome.event_id and outcome.event_id.startswith("ni:///sha-256;")
    assert report.transactions == 0


def test_the_fixture_is_recorded_end_to_end_by_each_participant_in_turn(
    cast: Cast, tmp_path: Path
) -> None:
    store = EventStore(tmp_path / "store")
    farm, processor, certifier = record_fixture(cast, store)
    assert statuses(farm) == [RECORDED, RECORDED, RECORDED, REJECTED, REJECTED, REJECTED, RECORDED]
    reasons = {o.index: o.reason for o in farm.outcomes}
    assert f"--account {PROCESSOR.address}" in reasons[3]  # the receipt is the processor's
    assert "has a pending handoff" in reasons[4]  # the farm cannot consume what it shipped
    assert "needs the certifier role" in reasons[5]
    assert statuses(processor) == [ALREADY, ALREADY, ALREADY, RECORDED, RECORDED, REJECTED, ALREADY]
    assert statuses(certifier) == [ALREADY] * 5 + [RECORDED, ALREADY]
    # bulk: the farm's two commissioning events (four batches) went out in one createBatches
    assert farm.outcomes[0].transactions == farm.outcomes[1].transactions
    registry = cast.reader()
    jam = registry.get_batch(processor.outcomes[4].batches[-1])
    assert (jam.quantity, jam.uom, jam.custodian) == (400250, "GRM", PROCESSOR.address)
    assert registry.get_batch(farm.outcomes[0].batches[1]).recalled  # FARM/7, 200500 GRM
    assert registry.get_batch(farm.outcomes[0].batches[1]).quantity == 200500


def test_importing_again_sends_no_transaction(cast: Cast, tmp_path: Path) -> None:
    store = EventStore(tmp_path / "store")
    record_fixture(cast, store)
    head = cast.chain.w3.eth.block_number
    for who in (FARM, PROCESSOR, CERTIFIER):
        again = run(cast, who, FIXTURE, store=store)
        assert set(statuses(again)) == {ALREADY}
        assert again.transactions == 0
    assert cast.chain.w3.eth.block_number == head


def test_a_dry_run_plans_and_sends_nothing(cast: Cast, tmp_path: Path) -> None:
    head = cast.chain.w3.eth.block_number
    report = run(cast, FARM, FIXTURE, store=EventStore(tmp_path / "s"), dry_run=True)
    assert statuses(report)[:3] == [PLANNED] * 3
    assert report.outcomes[0].action == "createBatches (2)"
    assert cast.chain.w3.eth.block_number == head
    assert not (tmp_path / "s").exists()


def test_the_same_event_twice_in_one_input_is_a_duplicate(cast: Cast, tmp_path: Path) -> None:
    events = read(FIXTURE)[:1] + read(FIXTURE)[:1]
    report = import_events(cast.client(FARM), events, store=EventStore(tmp_path / "s"))
    assert statuses(report) == [RECORDED, DUPLICATE]


GTIN_ELSEWHERE = b"""{
  "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
  "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-01-01T00:00:00Z",
  "epcisBody": {"eventList": [
    {"type": "ObjectEvent", "eventTime": "2026-01-01T00:00:00Z", "eventTimeZoneOffset": "+00:00",
     "action": "ADD", "bizStep": "commissioning",
     "quantityList": [{"epcClass": "https://id.gs1.org/01/09521234000013/10/X1", "quantity": 5}]},
    {"type": "ObjectEvent", "eventTime": "2026-01-01T00:00:00Z", "eventTimeZoneOffset": "+00:00",
     "action": "ADD", "bizStep": "commissioning",
     "quantityList": [{"epcClass": "https://id.gs1.org/01/09506000134352/10/X2",
                       "quantity": 0.0001, "uom": "MGM"}]},
    {"type": "ObjectEvent", "eventTime": "2026-01-01T00:00:00Z", "eventTimeZoneOffset": "+00:00",
     "action": "OBSERVE", "bizStep": "storing",
     "quantityList": [{"epcClass": "https://id.gs1.org/01/09506000134352/10/X2", "quantity": 1}]}
  ]}}"""


def test_refusals_name_the_prefix_the_exact_quantity_and_what_is_recorded(
    cast: Cast, tmp_path: Path
) -> None:
    report = import_events(
        cast.client(FARM), parse(GTIN_ELSEWHERE, "odd.jsonld"), store=EventStore(tmp_path / "s")
    )
    first, second, third = report.outcomes
    assert "outside" in first.reason and PROCESSOR.address in first.reason
    assert "cannot be held exactly" in second.reason and "not rounded" in second.reason
    assert "bizStep storing" in third.reason and "the registry records" in third.reason
    assert report.transactions == 0


def _doc(*events: str) -> bytes:
    body = ",".join(events)
    return (
        '{"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],'
        '"type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-01-01T00:00:00Z",'
        f'"epcisBody": {{"eventList": [{body}]}}}}'
    ).encode()


def _q(lot: str, quantity: str, gtin: str = "09506000134352") -> str:
    uri = f"https://id.gs1.org/01/{gtin}/10/{lot}"
    return f'{{"epcClass": "{uri}", "quantity": {quantity}, "uom": "KGM"}}'


T = '"eventTime": "2026-01-01T00:00:00Z", "eventTimeZoneOffset": "+00:00"'


def test_splits_merges_and_unbalanced_transformations(cast: Cast, tmp_path: Path) -> None:
    merge = (
        f'{{"type": "TransformationEvent", {T}, "inputQuantityList": [{_q("S-1", "60")},'
        f'{_q("S-2", "30")}], "outputQuantityList": [{_q("S-1X", "%s")}]}}'
    )
    doc = _doc(
        f'{{"type": "ObjectEvent", {T}, "action": "ADD", "quantityList": [{_q("S", "100")}]}}',
        # split: the lots extend the input's, 10 KGM lost
        f'{{"type": "TransformationEvent", {T}, "inputQuantityList": [{_q("S", "100")}],'
        f'"outputQuantityList": [{_q("S-1", "60")}, {_q("S-2", "30")}]}}',
        merge % "89.5",  # not a whole number of the inputs' unit
        merge % "89",  # merge: one output extending the first input's lot, 1 KGM lost
        # does not balance: the batch holds 89 KGM, the event consumes 80 KGM
        f'{{"type": "TransformationEvent", {T}, "inputQuantityList": [{_q("S-1X", "80")}],'
        f'"outputQuantityList": [{_q("S-1X-A", "80")}]}}',
        # a split whose outputs exceed the input
        f'{{"type": "TransformationEvent", {T}, "inputQuantityList": [{_q("S-1X", "89")}],'
        f'"outputQuantityList": [{_q("S-1X-A", "90")}]}}',
    )
    report = import_events(
        cast.client(FARM), parse(doc, "lineage.jsonld"), store=EventStore(tmp_path / "s")
    )
    assert statuses(report) == [RECORDED, RECORDED, REJECTED, RECORDED, REJECTED, REJECTED]
    assert report.outcomes[1].action == "splitBatch → 2"
    assert "cannot be expressed exactly in the input's unit KGM" in report.outcomes[2].reason
    assert report.outcomes[3].action == "mergeBatches (2) → 1"
    assert "do not balance" in report.outcomes[4].reason
    assert "exceed the input" in report.outcomes[5].reason
    registry = cast.reader()
    assert registry.get_batch(report.outcomes[3].batches[-1]).quantity == 89
