"""`epcis.query`: the EPCIS query parameters and paging over GS1's examples and our fixture;
every result document validates against GS1's schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from provenance.epcis.query import Query, QueryError, find_event, query_document
from tests.support.epcis import (
    FIXTURES,
    assert_schema_valid,
)
from tests.support.epcis import (
    reference as reference,
)


def events(reference: Path) -> list[dict[str, Any]]:
    found = []
    for path in [
        *sorted((reference / "examples").glob("*.jsonld")),
        FIXTURES / "farm-to-jam.jsonld",
    ]:
        found.extend(json.loads(path.read_text())["epcisBody"]["eventList"])
    return found


def ask(reference: Path, **params: Any) -> list[dict[str, Any]]:
    doc, _token = query_document(events(reference), params)
    doc["@context"] = [doc["@context"][0], {"example": "http://ns.example.com/epcis/",
                                             "farm": "https://farm.example/epcis/"}]  # fmt: skip
    assert_schema_valid(doc, reference)
    return doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("params", "count"),
    [
        ({}, 12),
        ({"eventType": "AggregationEvent"}, 1),
        ({"eventType": "ObjectEvent|TransformationEvent"}, 11),
        ({"MATCH_epc": "urn:epc:id:sgtin:0614141.107346.2018"}, 3),
        ({"MATCH_epc": "https://id.gs1.org/01/10614141073464/21/2017"}, 2),  # same key as a DL
        ({"MATCH_anyEPC": "urn:epc:id:sgtin:4012345.011122.25"}, 1),  # an input of 9.6.4
        ({"MATCH_anyEPC": "urn:epc:id:sscc:0614141.1234567890"}, 1),  # parentID of 9.6.3
        ({"MATCH_epcClass": "urn:epc:class:lgtin:4012345.012345.998877"}, 2),
        ({"MATCH_anyEPCClass": "https://id.gs1.org/01/09506000134352/10/FARM-001"}, 4),
        ({"EQ_bizStep": "receiving"}, 4),
        ({"EQ_bizStep": "https://ref.gs1.org/cbv/BizStep-shipping"}, 2),
        ({"EQ_disposition": ["in_transit", "recalled"]}, 3),
        ({"GE_eventTime": "2026-01-01T00:00:00Z"}, 7),
        ({"LT_eventTime": "2006-01-01T00:00:00Z"}, 2),
        # 2026-03-01T18:40:12-08:00 is 2026-03-02T02:40:12Z: offsets count
        ({"GE_eventTime": "2026-03-02T00:00:00Z", "LT_eventTime": "2026-03-03T00:00:00+01:00"}, 3),
        ({"EQ_bizLocation": "urn:epc:id:sgln:0614141.00888.0"}, 2),
        ({"EQ_bizLocation": "https://id.gs1.org/414/9506000000015"}, 2),
    ],
)
def test_each_parameter_filters_as_the_standard_says(
    reference: Path, params: dict[str, Any], count: int
) -> None:
    assert len(ask(reference, **params)) == count


def test_paging_walks_every_event_once_with_the_token(reference: Path) -> None:
    seen: list[str] = []
    params: dict[str, Any] = {"perPage": "5"}
    pages = 0
    while True:
        doc, token = query_document(events(reference), params)
        batch = doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        seen.extend(json.dumps(e, sort_keys=True) for e in batch)
        pages += 1
        if token is None:
            break
        params = {"perPage": "5", "nextPageToken": token}
    assert pages == 3 and len(seen) == 12 == len(set(seen))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"EQ_colour": "red"}, "unknown query parameter"),
        ({"eventType": "PartyEvent"}, "not an EPCIS 2.0 event type"),
        ({"perPage": "0"}, "perPage must be"),
        ({"perPage": "many"}, "not a whole number"),
        ({"GE_eventTime": "yesterday"}, "not an ISO 8601"),
        ({"GE_eventTime": "2026-01-01T00:00:00"}, "needs a time zone"),
        ({"nextPageToken": "@@@"}, "malformed"),
        ({"perPage": "9" * 5000}, "perPage must be"),  # more digits than int() converts
        ({"perPage": "-1"}, "perPage must be"),
        ({"perPage": "--1"}, "not a whole number"),
        ({"perPage": "\u0661\u0662"}, "not a whole number"),  # Arabic-Indic 12: int() takes it
        ({"perPage": ["5", "6"]}, "takes one value"),
        ({"nextPageToken": "eyJvIjogSW5maW5pdHksICJxIjogIiJ9"}, "malformed"),  # offset Infinity
        ({"nextPageToken": "W10"}, "malformed"),  # a JSON list
    ],
)
def test_malformed_queries_are_refused_with_the_reason(
    params: dict[str, Any], message: str
) -> None:
    with pytest.raises(QueryError, match=message) as refused:
        Query.parse(params)
    assert refused.value.parameter in params


@pytest.mark.parametrize(
    "value",
    ["urn:epc:id:sgtin:abc", "urn:epc:id:sgtin:", "urn:epc:id:sgtin:a.b.c", "x" * 3000],
)
def test_an_epc_of_no_known_form_matches_only_itself(reference: Path, value: str) -> None:
    assert ask(reference, MATCH_anyEPC=value) == []


def test_a_token_of_another_query_is_refused(reference: Path) -> None:
    _, token = query_document(events(reference), {"perPage": "2"})
    assert token
    with pytest.raises(QueryError, match="another query"):
        Query.parse({"perPage": "2", "EQ_bizStep": "shipping", "nextPageToken": token})


def test_an_event_is_found_by_its_event_id(reference: Path) -> None:
    wanted = (
        "ni:///sha-256;87b5f18a69993f0052046d4687dfacdf48f7c988cfabda2819688c86b4066a49?ver=CBV2.0"
    )
    found = find_event(events(reference), wanted)
    assert found is not None and found["type"] == "AggregationEvent"
    assert find_event(events(reference), "ni:///sha-256;00?ver=CBV2.0") is None
