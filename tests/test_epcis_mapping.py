"""`epcis.identifiers`, `epcis.mapping`, `epcis.hashing`, `epcis.document` and `epcis.store`
without a chain: identifiers and exact quantities, the reasons for what cannot be mapped, the
event hash against the reference implementation's own path, the store's content addressing."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from provenance.epcis.document import parse
from provenance.epcis.hashing import (
    GS1_CONTEXT_URL,
    anchor_of,
    event_hash,
    ni_of,
    normalize_context,
    reference_event_hash,
)
from provenance.epcis.identifiers import (
    Amount,
    Unmappable,
    parse_class,
    parse_location,
    parse_party,
    whole_amount,
)
from provenance.epcis.mapping import Kind, interpret
from provenance.epcis.store import EventStore, Status
from provenance.exceptions import InvalidInput
from tests.support.epcis import (
    FIXTURES,
    assert_schema_valid,
)
from tests.support.epcis import (
    reference as reference,
)

FIXTURE = FIXTURES / "farm-to-jam.jsonld"
CONTEXT = [GS1_CONTEXT_URL]


@pytest.mark.parametrize(
    ("value", "uom", "expected"),
    [
        (200.5, "KGM", Amount(200500, "GRM")),
        (Decimal("200.5"), "KGM", Amount(200500, "GRM")),
        (1000, "KGM", Amount(1000, "KGM")),
        (Decimal("1.0"), "KGM", Amount(1, "KGM")),
        (Decimal("0.25"), "TNE", Amount(250, "KGM")),
        (Decimal("1.25"), "LTR", Amount(1250, "MLT")),
        (Decimal("1.5"), "LBR", Amount(24, "ONZ")),
        (Decimal("0.001"), "KGM", Amount(1, "GRM")),
        (12, None, Amount(12, "C62")),
        (Decimal("2.5"), "DZN", Amount(30, "C62")),
    ],
)
def test_decimal_quantities_convert_exactly_to_a_finer_unit(
    value: Any, uom: str | None, expected: Amount
) -> None:
    assert whole_amount(value, uom) == expected


@pytest.mark.parametrize(
    ("value", "uom", "message"),
    [
        (Decimal("200.0001"), "MC", "cannot be held exactly"),
        (Decimal("0.0000000001"), "KGM", "tried GRM, MGM, MC"),
        (Decimal("1.5"), "H87", "cannot be held exactly"),
        (Decimal("0.5"), None, "cannot be held exactly"),
        (0, "KGM", "positive quantities only"),
        (-3, "KGM", "positive quantities only"),
        (2**48, "KGM", "more than the registry holds"),
        (Decimal("281474976.710656"), "KGM", "more than the registry holds"),
        ("ten", "KGM", "not a number"),
        (1, "kg", "not a UN/ECE Rec 20 code"),
    ],
)
def test_quantities_the_registry_cannot_hold_are_refused_never_rounded(
    value: Any, uom: str | None, message: str
) -> None:
    with pytest.raises(Unmappable, match=message):
        whole_amount(value, uom)


@pytest.mark.parametrize(
    ("uri", "gtin", "lot"),
    [
        ("https://id.gs1.org/01/09506000134352/10/FARM-001", "09506000134352", "FARM-001"),
        ("https://id.gs1.org/01/9506000134369/10/FARM%2F7", "09506000134369", "FARM/7"),  # GTIN-13
        ("https://example.com/01/614141000036/10/L%25X", "00614141000036", "L%X"),  # GTIN-12
        ("https://id.gs1.org/01/95012346/10/G8-1", "00000095012346", "G8-1"),  # GTIN-8
        ("urn:epc:class:lgtin:0614141.000003.LOT12", "00614141000036", "LOT12"),
        ("urn:epc:class:lgtin:4012345.012345.998877", "04012345123456", "998877"),
    ],
)
def test_class_identifiers_in_every_form(uri: str, gtin: str, lot: str) -> None:
    key = parse_class(uri)
    assert (key.gtin, key.lot) == (gtin, lot)


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("urn:epc:idpat:sgtin:4012345.066666.*", "pattern of serialised items"),
        ("https://id.gs1.org/01/09506000134352/21/7", "serialised item"),
        ("https://id.gs1.org/01/09506000134352", "without a lot"),
        ("https://id.gs1.org/01/09506000134353/10/L1", "wrong check digit"),
        ("urn:epc:class:lgtin:0614141.00003.L", "13 digits"),
        ("https://id.gs1.org/00/106141412345678908", "not a product class"),
    ],
)
def test_class_identifiers_the_registry_does_not_hold(uri: str, message: str) -> None:
    with pytest.raises(Unmappable, match=message):
        parse_class(uri)


def test_parties_and_locations_by_gln_or_did() -> None:
    assert parse_party("https://id.gs1.org/417/9506000000015").gln == 9506000000015
    assert parse_party("urn:epc:id:pgln:9506000.00001").gln == 9506000000015
    assert parse_party("urn:epc:id:sgln:4012345.00001.0").gln == 4012345000016
    did = parse_party("did:pkh:eip155:31337:0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
    assert (did.chain_id, did.address) == (31337, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
    assert parse_location("urn:epc:id:sgln:0614141.00888.0") == 614141008889
    assert parse_location("https://id.gs1.org/414/9506000000015") == 9506000000015
    with pytest.raises(Unmappable):
        parse_party("mailto:farm@example.com")


def test_the_fixture_reads_as_the_design_table_says() -> None:
    events = parse(FIXTURE.read_bytes(), FIXTURE.name)
    kinds = [interpret(e.exact).kind for e in events]
    assert kinds == [Kind.COMMISSION, Kind.COMMISSION, Kind.SHIP, Kind.RECEIVE,
                     Kind.TRANSFORM, Kind.ATTEST, Kind.RECALL]  # fmt: skip
    ship = interpret(events[2].exact)
    assert ship.location == 9506000000015
    assert {k: [r.gln for r in v] for k, v in ship.destination.items()} == {
        "possessing_party": [9521234000020], "owning_party": [9521234000020]
    }  # fmt: skip
    assert interpret(events[5].exact).claims == ("https://cert.example/ORG-7",)


def test_the_fixture_and_the_examples_are_valid_epcis(reference: Path) -> None:
    for path in [FIXTURE, *sorted((reference / "examples").glob("*.jsonld"))]:
        assert_schema_valid(json.loads(path.read_text()), reference)


def test_the_event_hash_is_the_reference_implementations(reference: Path) -> None:
    """The memoised, offline path gives the reference's own document path's hash, for every
    event of GS1's examples and of the fixture."""
    paths = [FIXTURE, *sorted((reference / "examples").glob("*.jsonld"))]
    for path in paths:
        for event in parse(path.read_bytes(), path.name):
            assert event.gs1_hash() == reference_event_hash(event.event, list(event.context))


words = st.sampled_from(["shipping", "receiving", "in_transit", "owning_party", "KGM", "x y"])
values = st.one_of(
    words,
    st.text(alphabet="abxyz -_:/", max_size=12),  # ("INF" crashes the reference itself)
    st.integers(-5, 10**6),
    st.floats(0, 1e6, allow_nan=False),
    st.sampled_from(["urn:epc:id:sgln:0614141.00888.0", "https://ref.gs1.org/cbv/Disp-active",
                     "2026-01-01T00:00:00+02:00", "cbv:BizStep-holding"]),
)  # fmt: skip


@given(
    step=st.sampled_from(["shipping", "receiving", "holding", "inspecting", None]),
    extension=st.dictionaries(st.sampled_from(["ex:a", "ex:b", "ex:c"]), values, max_size=3),
    quantity=st.one_of(st.integers(1, 10**6), st.floats(0.001, 1e6, allow_nan=False)),
    lot=st.text(alphabet="ABC-/%019", min_size=1, max_size=8),
)
@example(step="shipping", extension={"ex:a": "shipping"}, quantity=1, lot="A")
def test_the_event_hash_matches_the_reference_on_generated_events(
    step: str | None, extension: dict[str, Any], quantity: float, lot: str
) -> None:
    event: dict[str, Any] = {
        "type": "ObjectEvent",
        "eventTime": "2026-03-01T08:15:00.000+05:30",
        "eventTimeZoneOffset": "+05:30",
        "action": "OBSERVE",
        "quantityList": [
            {
                "epcClass": f"https://id.gs1.org/01/09506000134352/10/{lot}",
                "quantity": quantity,
                "uom": "KGM",
            }
        ],
        **extension,
    }
    if step:
        event["bizStep"] = step
    context = [GS1_CONTEXT_URL, {"ex": "https://ex.example/"}]
    assert event_hash(event, context) == reference_event_hash(event, context)


def test_the_chain_coordinates_do_not_change_the_hash() -> None:
    event = parse(FIXTURE.read_bytes())[0]
    with_coords = {**event.event, "prv:onChain": {"prv:chainId": 1}}
    assert event_hash(with_coords, list(event.context)) == event.gs1_hash()


@pytest.mark.parametrize(
    ("context", "message"),
    [
        (["https://example.com/my-context.jsonld"], "cannot be read offline"),
        ([GS1_CONTEXT_URL, {"bizStep": {"@id": "x"}}], "only namespace prefixes"),
        ([{"ex": "https://ex.example/"}], "must include the GS1 EPCIS 2.0 context"),
    ],
)
def test_contexts_that_would_need_the_network_are_refused(context: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        normalize_context(context)


def test_an_unreadable_context_rejects_its_events_with_the_reason() -> None:
    doc = json.loads(FIXTURE.read_text())
    doc["@context"] = ["https://example.com/other.jsonld"]
    events = parse(json.dumps(doc))
    assert all("cannot be read offline" in (e.context_error or "") for e in events)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not JSON"),
        ("[]", "a JSON object is expected"),
        ('{"type": "Thing"}', "not an EPCIS document"),
        ('{"type": "EPCISDocument"}', "no epcisBody"),
        ('{"type": "EPCISQueryDocument", "epcisBody": {}}', "no queryResults"),
    ],
)
def test_files_that_are_not_epcis_documents(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse(text)


def test_a_query_document_is_read_too() -> None:
    doc = json.loads(FIXTURE.read_text())
    query = {
        "@context": doc["@context"],
        "type": "EPCISQueryDocument",
        "epcisBody": {"queryResults": {"queryName": "SimpleEventQuery",
                                       "resultsBody": doc["epcisBody"]}},
    }  # fmt: skip
    assert [e.gs1_hash() for e in parse(json.dumps(query))] == [
        e.gs1_hash() for e in parse(json.dumps(doc))
    ]


def test_the_store_is_content_addressed_and_detects_changes(tmp_path: Path) -> None:
    store = EventStore(tmp_path)
    event = parse(FIXTURE.read_bytes())[2]
    anchor = anchor_of(event.gs1_hash())
    path = store.put(anchor, event.standalone())
    assert path.name == anchor[2:] + ".json" and path.parent.name == anchor[2:4]
    assert store.check(anchor).status == Status.OK
    assert list(store.anchors()) == [anchor]
    assert ni_of(anchor) == event.gs1_hash()
    data = json.loads(path.read_text())
    data["bizTransactionList"] = []
    path.write_text(json.dumps(data))
    assert store.check(anchor).status == Status.MISMATCH
    path.write_text("not json")
    assert store.check(anchor).status == Status.UNREADABLE
    assert store.check("0x" + "11" * 32).status == Status.MISSING
    store.put(anchor, event.standalone())  # a bad file is replaced by the good content
    assert store.check(anchor).status == Status.OK


def test_missing_reference_data_fails_under_ci_and_is_skipped_by_name_elsewhere(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tests.support.epcis import REFERENCE_ENV, require_reference

    monkeypatch.setenv(REFERENCE_ENV, str(tmp_path / "nowhere"))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="reference data not found"):
        require_reference(request)
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match=request.node.name):
        require_reference(request)
