"""`provenance serve`'s EPCIS 2.0 query interface over plain HTTP, as an EPCIS client uses it, on
the demo's chain: every filter, paging through every page by the `Link` header, one event by its
eventID, problem details for bad input, HEAD/OPTIONS, no private figure, new events on the next
request; every answer validates against GS1's EPCIS 2.0 JSON Schema."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

import httpx
import pytest

from provenance.chain import connect, dev_accounts
from provenance.demo import CAST, RAW_GTIN
from provenance.epcis.export import export
from provenance.epcis.mapping import biz_step_of, disposition_of
from provenance.registry import RegistryClient
from provenance.transactions import Transactor
from provenance.web.app import SECURITY_HEADERS, create_app
from provenance.web.server import running
from provenance.web.source import RpcSource
from scripts.screenshots import Site
from tests.support.epcis import assert_schema_valid, assert_valid_document
from tests.support.epcis import reference as reference
from tests.support.web import Switch

pytestmark = pytest.mark.anvil

EVENTS = "/epcis/events"
#: What must never appear in a public answer (tests/test_web_pages.py): the demo's price, escrow,
#: payout, refund and penalty in any notation, and the names of the private fields.
PRIVATE_TEXT = (
    "ETH", "wei", "price", "penalt", "escrow", "supplier_amount", "buyer_amount", "days_late",
    "daysLate", "credited", "refund", "0.975", "0.025", "0.045", "1.02", "975000000000000000",
    "25000000000000000", "45000000000000000", "1020000000000000000", "1000000000000000000",
)  # fmt: skip
LINK_NEXT = re.compile(r'^<(?P<url>[^>]+)>; rel="next"$')


def get(site: Site, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(site.base + path, timeout=60, **kwargs)


def event_list(doc: dict[str, Any]) -> list[dict[str, Any]]:
    assert doc["type"] == "EPCISQueryDocument"
    return doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]  # type: ignore[no-any-return]


def query(site: Site, reference: Path, **params: Any) -> tuple[list[dict[str, Any]], str | None]:
    """One page: its events (after checking the answer is a valid EPCIS answer) and the URL of
    the next page from the `Link` header."""
    answer = get(site, EVENTS, params=params)
    assert answer.status_code == 200, answer.text
    assert_epcis_answer(answer, "application/ld+json")
    doc = answer.json()
    assert_schema_valid(doc, reference)
    link = answer.headers.get("link")
    if link is None:
        return event_list(doc), None
    match = LINK_NEXT.match(link)
    assert match, link
    return event_list(doc), match["url"]


def everything(site: Site, reference: Path) -> list[dict[str, Any]]:
    events, more = query(site, reference, perPage="1000")
    assert more is None
    return events


def assert_epcis_answer(answer: httpx.Response, media_type: str) -> None:
    assert answer.headers["content-type"] == media_type
    assert answer.headers["gs1-epcis-version"] == "2.0.0"
    for name, value in SECURITY_HEADERS.items():
        assert answer.headers[name] == value, name


def participant(site: Site, part: str, tmp: Path) -> RegistryClient:
    key = dev_accounts(len(CAST))[CAST.index(part)]
    transactor = Transactor(site.chain, key, None, root=tmp)
    return RegistryClient.from_deployment(site.chain, site.result.deployment, transactor)


def exported(site: Site) -> list[dict[str, Any]]:
    """`provenance epcis export --all --no-store` of the same chain."""
    out = io.StringIO()
    export(RegistryClient.from_deployment(site.chain, site.result.deployment), out, store=None)
    return json.loads(out.getvalue())["epcisBody"]["eventList"]  # type: ignore[no-any-return]


def key(event: dict[str, Any]) -> tuple[str, int]:
    chain = event["prv:onChain"]
    return chain["prv:transactionHash"], chain["prv:logIndex"]


# ------------------------------------------------------------------------------ the answers


def test_the_events_are_the_chain_export_as_a_valid_query_document(
    web_site: Site, reference: Path
) -> None:
    answer = get(web_site, EVENTS, params={"perPage": "1000"})
    expanded = assert_valid_document(answer.json(), reference)  # schema, and JSON-LD offline
    assert "https://ref.gs1.org/epcis/EPCISQueryDocument" in json.dumps(expanded)
    events = everything(web_site, reference)
    assert events == exported(web_site)
    kinds = {(e["type"], biz_step_of(e)) for e in events}
    assert {("ObjectEvent", "commissioning"), ("ObjectEvent", "shipping"),
            ("ObjectEvent", "receiving"), ("ObjectEvent", "inspecting"),
            ("TransformationEvent", "commissioning")} <= kinds  # fmt: skip
    assert len({e["eventID"] for e in events}) == len(events)


def test_the_default_page_has_30_events_at_most_and_links_to_the_next(
    web_site: Site, reference: Path
) -> None:
    total = len(everything(web_site, reference))
    first, more = query(web_site, reference)
    assert len(first) == min(total, 30)
    assert (more is None) == (total <= 30)


@pytest.mark.parametrize("per_page", [1, 2, 5, 7])
def follow(
    site: Site, reference: Path, page: list[dict[str, Any]], more: str | None, limit: int
) -> tuple[list[list[dict[str, Any]]], list[str]]:
    """Every page from `page` on, following the `Link: rel="next"` URLs as a client does (at
    most `limit` pages: a link that never ends fails), and the URLs followed."""
    pages, urls = [page], []
    while more is not None:
        assert len(pages) < limit, f"still a next page after {limit} pages"
        url = urlparse(more)
        assert f"{url.scheme}://{url.netloc}" == site.base and url.path == EVENTS
        urls.append(more)
        answer = httpx.get(more, timeout=60)
        assert answer.status_code == 200, answer.text
        assert_epcis_answer(answer, "application/ld+json")
        doc = answer.json()
        assert_schema_valid(doc, reference)
        pages.append(event_list(doc))
        link = answer.headers.get("link")
        match = LINK_NEXT.match(link) if link else None
        assert link is None or match, link
        more = match["url"] if match else None
    return pages, urls


@pytest.mark.parametrize("per_page", [1, 2, 5, 7])
def test_paging_by_the_link_header_visits_every_event_once_in_chain_order(
    web_site: Site, reference: Path, per_page: int
) -> None:
    events = everything(web_site, reference)
    assert len(events) > 7  # several pages for every page size here
    page, more = query(web_site, reference, perPage=str(per_page))
    pages, _urls = follow(web_site, reference, page, more, len(events) + 1)
    assert all(1 <= len(p) <= per_page for p in pages)
    seen = [key(e) for p in pages for e in p]
    assert seen == [key(e) for e in events]  # no gap, no repeat, same order
    assert len(pages) == -(-len(events) // per_page)


def test_paging_keeps_the_filters_in_the_next_link(web_site: Site, reference: Path) -> None:
    receipts = [e for e in everything(web_site, reference) if biz_step_of(e) == "receiving"]
    assert len(receipts) >= 2
    page, more = query(web_site, reference, EQ_bizStep="receiving", perPage="1")
    pages, urls = follow(web_site, reference, page, more, len(receipts) + 1)
    assert urls and all("EQ_bizStep=receiving" in url for url in urls)
    assert [key(e) for p in pages for e in p] == [key(e) for e in receipts]


def _classes(event: dict[str, Any], *fields: str) -> set[str]:
    return {q["epcClass"] for name in fields for q in event.get(name, [])}


def _time(event: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(event["eventTime"])


def test_each_filter_selects_what_the_standard_says(web_site: Site, reference: Path) -> None:
    """Each filter against the same predicate written out over the whole list; each one keeps
    some events and drops others, so none of them passes by matching everything or nothing."""
    events = everything(web_site, reference)
    raw_lot = next(
        q["epcClass"] for e in events for q in e.get("quantityList", [])
        if f"/01/{RAW_GTIN}/" in q["epcClass"]
    )  # fmt: skip
    times = sorted({_time(e) for e in events})
    assert len(times) >= 3
    middle = times[len(times) // 2]
    stamp = middle.strftime("%Y-%m-%dT%H:%M:%SZ")
    plus_one = (middle.astimezone(dt.timezone(dt.timedelta(hours=1)))).isoformat()
    cases: list[tuple[dict[str, str], Any]] = [
        ({"eventType": "TransformationEvent"}, lambda e: e["type"] == "TransformationEvent"),
        ({"eventType": "ObjectEvent|TransformationEvent"}, lambda e: True),
        ({"EQ_bizStep": "shipping"}, lambda e: biz_step_of(e) == "shipping"),
        ({"EQ_bizStep": "https://ref.gs1.org/cbv/BizStep-receiving"},
         lambda e: biz_step_of(e) == "receiving"),
        ({"EQ_disposition": "in_transit"}, lambda e: disposition_of(e) == "in_transit"),
        ({"EQ_disposition": "recalled"}, lambda e: disposition_of(e) == "recalled"),
        ({"MATCH_epcClass": raw_lot}, lambda e: raw_lot in _classes(e, "quantityList")),
        ({"MATCH_anyEPCClass": raw_lot},
         lambda e: raw_lot in _classes(e, "quantityList", "inputQuantityList",
                                       "outputQuantityList")),
        ({"GE_eventTime": stamp}, lambda e: _time(e) >= middle),
        ({"LT_eventTime": plus_one}, lambda e: _time(e) < middle),  # the same instant, +01:00
        ({"EQ_bizStep": "shipping", "EQ_disposition": "in_transit", "GE_eventTime": stamp},
         lambda e: biz_step_of(e) == "shipping" and _time(e) >= middle),
    ]  # fmt: skip
    for params, wanted in cases:
        expected = [key(e) for e in events if wanted(e)]
        assert expected or params.get("eventType"), params  # the demo has such events
        got, more = query(web_site, reference, perPage="1000", **params)
        assert more is None
        assert [key(e) for e in got] == expected, params
        if "|" not in params.get("eventType", "|"):
            assert len(got) < len(events), params
    # MATCH_anyEPCClass finds the lot where it went into the jam, MATCH_epcClass does not
    inputs = [e for e in events if raw_lot in _classes(e, "inputQuantityList")]
    assert inputs and all(e["type"] == "TransformationEvent" for e in inputs)


@pytest.mark.parametrize(
    "params",
    [
        {"MATCH_epc": "urn:epc:id:sgtin:9506000.013435.1"},  # the demo has no serialised item
        {"MATCH_anyEPC": "https://id.gs1.org/01/09506000134352/21/1"},
        {"EQ_bizLocation": "https://id.gs1.org/414/9506000000015"},  # no handoff has a place
        {"eventType": "AggregationEvent"},
    ],
)
def test_a_filter_nothing_matches_answers_an_empty_valid_document(
    web_site: Site, reference: Path, params: dict[str, str]
) -> None:
    got, more = query(web_site, reference, **params)
    assert got == [] and more is None


# ------------------------------------------------------------------------------ one event


def test_every_event_is_found_by_its_percent_encoded_event_id(
    web_site: Site, reference: Path
) -> None:
    events = everything(web_site, reference)
    for event in events:
        answer = get(web_site, f"{EVENTS}/{quote(event['eventID'], safe='')}")
        assert answer.status_code == 200, answer.text
        assert_epcis_answer(answer, "application/ld+json")
        body = answer.json()
        assert_schema_valid(body, reference)
        assert body.pop("@context")[0].startswith("https://ref.gs1.org/standards/epcis/2.0.0/")
        assert body == event


@pytest.mark.parametrize(
    "event_id",
    [
        "ni:///sha-256;" + "0" * 64 + "?ver=CBV2.0",
        "urn:uuid:6b6a0b07-0e4c-4b4f-9a3c-3a8b5f4f0f0f",
        "x" * 300,
    ],
)
def test_an_unknown_event_id_is_a_404_problem(
    web_site: Site, reference: Path, event_id: str
) -> None:
    answer = get(web_site, f"{EVENTS}/{quote(event_id, safe='')}")
    assert answer.status_code == 404
    assert_epcis_answer(answer, "application/problem+json")
    problem = answer.json()
    assert problem["type"] == "epcisException:NoSuchResourceException"
    assert problem["status"] == 404 and "percent-encode the whole eventID" in problem["detail"]


def test_an_event_id_sent_unencoded_is_a_404_that_says_to_encode_it(
    web_site: Site, reference: Path
) -> None:
    event = everything(web_site, reference)[0]
    answer = get(web_site, f"{EVENTS}/{event['eventID']}")  # `?ver=CBV2.0` becomes the query
    assert answer.status_code == 404
    assert "percent-encode the whole eventID" in answer.json()["detail"]


# ------------------------------------------------------------------------------ refusals


#: (query string as sent, the parameter the problem names, words of the detail)
BAD_QUERIES: list[tuple[str, str, str]] = [
    ("perPage=0", "perPage", "perPage must be 1..1000, got 0"),
    ("perPage=-5", "perPage", "perPage must be 1..1000, got -5"),
    ("perPage=1001", "perPage", "perPage must be 1..1000, got 1001"),
    (f"perPage={'9' * 1500}", "perPage", "perPage must be 1..1000, got 99999999999999999999…"),
    ("perPage=1e3", "perPage", "not a whole number"),
    ("perPage=ten", "perPage", "not a whole number"),
    ("perPage=%D9%A1%D9%A2", "perPage", "not a whole number"),  # Arabic-Indic digits
    ("perPage=5&perPage=6", "perPage", "perPage takes one value, got 2"),
    ("GE_eventTime=yesterday", "GE_eventTime", "not an ISO 8601 date-time"),
    ("GE_eventTime=2026-13-01T00:00:00Z", "GE_eventTime", "not an ISO 8601 date-time"),
    ("LT_eventTime=2026-01-01T00:00:00", "LT_eventTime", "needs a time zone"),
    ("LT_eventTime=2026-01-01", "LT_eventTime", "needs a time zone"),
    ("GE_eventTime=2026-01-01T00:00:00Z|2026-02-01T00:00:00Z", "GE_eventTime",
     "takes one value"),
    ("eventType=PartyEvent", "eventType", "not an EPCIS 2.0 event type"),
    ("eventType=objectevent", "eventType", "not an EPCIS 2.0 event type"),
    ("EQ_colour=red", "EQ_colour", "unknown query parameter"),
    ("perpage=5", "perpage", "unknown query parameter"),  # names are case-sensitive
    ("MATCH_parentID=urn:epc:id:sscc:0614141.1234567890", "MATCH_parentID",
     "unknown query parameter"),
    ("nextPageToken=%40%40%40", "nextPageToken", "malformed"),
    ("nextPageToken=eyJvIjogSW5maW5pdHksICJxIjogIiJ9", "nextPageToken", "malformed"),  # o=∞
    ("nextPageToken=W10", "nextPageToken", "malformed"),  # a JSON list
]  # fmt: skip


def test_the_refusal_table_is_long() -> None:
    assert len(BAD_QUERIES) >= 20


@pytest.mark.parametrize(("query_string", "parameter", "detail"), BAD_QUERIES)
def test_a_malformed_query_is_a_400_problem_naming_the_parameter(
    web_site: Site, query_string: str, parameter: str, detail: str
) -> None:
    answer = httpx.get(f"{web_site.base}{EVENTS}?{query_string}", timeout=60)
    assert answer.status_code == 400, answer.text
    assert_epcis_answer(answer, "application/problem+json")
    problem = answer.json()
    assert problem["type"] == "epcisException:QueryParameterException"
    assert problem["status"] == 400 and problem["title"] == "Invalid query parameter"
    assert problem["parameter"] == parameter
    assert detail in problem["detail"] and len(problem["detail"]) <= 300


def test_a_token_of_another_query_is_refused(web_site: Site, reference: Path) -> None:
    _page, more = query(web_site, reference, perPage="2")
    assert more is not None
    token = more.split("nextPageToken=", 1)[1]
    answer = get(web_site, f"{EVENTS}?perPage=3&nextPageToken={token}")
    assert answer.status_code == 400
    assert answer.json()["parameter"] == "nextPageToken"
    assert "belongs to another query" in answer.json()["detail"]


def test_an_overlong_query_string_is_refused(web_site: Site) -> None:
    answer = get(web_site, f"{EVENTS}?MATCH_epc={'x' * 5000}")
    assert answer.status_code == 414
    assert_epcis_answer(answer, "application/problem+json")


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({"Accept": "application/xml"}, "application/ld+json only"),
        ({"Accept": "application/ld+json;q=0"}, "application/ld+json only"),
        ({"GS1-EPCIS-Version": "1.2.0"}, "this server speaks EPCIS 2.0.0"),
    ],
)
def test_what_the_server_cannot_answer_is_a_406_problem(
    web_site: Site, headers: dict[str, str], detail: str
) -> None:
    answer = get(web_site, EVENTS, headers=headers)
    assert answer.status_code == 406
    problem = answer.json()
    assert problem["type"] == "epcisException:NotAcceptableException"
    assert detail in problem["detail"]


@pytest.mark.parametrize("accept", ["application/json", "application/*", "*/*",
                                    "text/html, application/ld+json;q=0.5"])  # fmt: skip
def test_json_clients_get_json_ld(web_site: Site, accept: str) -> None:
    answer = get(web_site, EVENTS, headers={"Accept": accept, "GS1-EPCIS-Version": "2.0.0"})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/ld+json"


def test_head_and_options_and_no_writes(web_site: Site) -> None:
    full = get(web_site, EVENTS)
    head = httpx.head(web_site.base + EVENTS, timeout=60)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == "application/ld+json"
    assert head.headers["gs1-epcis-version"] == "2.0.0"
    assert head.headers.get("link") == full.headers.get("link")
    event_id = full.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"][0]["eventID"]
    one = f"{web_site.base}{EVENTS}/{quote(event_id, safe='')}"
    assert httpx.head(one, timeout=60).status_code == 200
    for url in (web_site.base + EVENTS, one):
        options = httpx.options(url, timeout=60)
        assert options.status_code == 204 and options.headers["allow"] == "GET, HEAD, OPTIONS"
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            answer = httpx.request(method, url, json={"type": "EPCISDocument"}, timeout=60)
            assert answer.status_code == 405, method
            assert answer.headers["allow"] == "GET, HEAD, OPTIONS"
            assert answer.headers["content-type"] == "application/problem+json"
            assert "read-only" in answer.json()["detail"]


# ------------------------------------------------------------------------------ privacy


def test_no_price_amount_penalty_or_terms_document_is_served(
    web_site: Site, reference: Path
) -> None:
    """The demo settles an agreement (price, escrow, a late penalty, a terms document): the
    events are the registry's, and none of the agreement's business shows."""
    full = web_site.result.reports["farm batch"].to_dict()
    (agreement,) = full["agreements"]
    terms_document = str(agreement["document"]).lower()
    assert int(terms_document, 16)
    events = everything(web_site, reference)
    texts = [json.dumps(events)]
    texts += [get(web_site, f"{EVENTS}/{quote(e['eventID'], safe='')}").text for e in events[:3]]
    for text in texts:
        assert terms_document not in text.lower()
        for word in PRIVATE_TEXT:
            assert word not in text, word
    # the settled delivery itself is there: the tender's handoff and its acceptance
    records = [e["prv:onChain"]["prv:record"] for e in events]
    assert "HandoffInitiated" in records and "HandoffAccepted" in records


# ------------------------------------------------------------------------------ a chain that moves


def test_a_new_event_shows_up_on_the_next_request_and_only_new_blocks_are_read(
    fresh_site: Site, reference: Path, tmp_path: Path
) -> None:
    site = fresh_site
    cache = site.app.state.cache
    before, _ = query(site, reference, perPage="1000")
    first_page, more = query(site, reference, perPage="5")  # a token from before the change
    assert more is not None
    query(site, reference, perPage="1000")
    computed = cache.events_computed
    assert computed == 1  # the same head: the events were read once
    farm = participant(site, "farm", tmp_path)
    carrier = dev_accounts(len(CAST))[CAST.index("carrier")].address
    lot = "STRAW-2026-EXTRA"
    batch, _ = farm.create_batch(RAW_GTIN, lot, 250, "KGM")
    farm.initiate_handoff(
        farm.make_handoff(batch, carrier, location=9506000000015,
                          biz_step="shipping", disposition="in_transit")
    )  # fmt: skip
    after, _ = query(site, reference, perPage="1000")
    assert [key(e) for e in after[: len(before)]] == [key(e) for e in before]  # appended only
    new = after[len(before) :]
    assert [(e["action"], biz_step_of(e)) for e in new] == [
        ("ADD", "commissioning"), ("OBSERVE", "shipping"),
    ]  # fmt: skip
    assert all(e["quantityList"][0]["epcClass"].endswith(f"/10/{lot}") for e in new)
    assert cache.events_computed == computed + 1
    events = site.source.chain_events
    assert events is not None and events.full_scans == 1  # only the new blocks were read
    # the shipment has a place now: EQ_bizLocation finds it by Digital Link and by SGLN
    for where in ("https://id.gs1.org/414/9506000000015", "urn:epc:id:sgln:9506000.00001.0"):
        found, _ = query(site, reference, EQ_bizLocation=where)
        assert [key(e) for e in found] == [key(new[1])]
    # the token from before still pages on: every event once, the new ones at the end
    pages, _urls = follow(site, reference, first_page, more, len(after) + 1)
    assert [key(e) for p in pages for e in p] == [key(e) for e in after]
    assert after == exported(site)


def test_a_new_gln_renames_the_party_in_every_event(
    fresh_site: Site, reference: Path, tmp_path: Path
) -> None:
    site = fresh_site
    carrier = dev_accounts(len(CAST))[CAST.index("carrier")].address
    gln_uri = "https://id.gs1.org/417/9506000000022"
    before, _ = query(site, reference, perPage="1000")
    assert gln_uri not in json.dumps(before)
    operator = participant(site, "operator", tmp_path)
    roles = operator.get_participant(carrier).roles
    # a participant without a GLN changes nothing already served: no full read
    operator.register_participant(dev_accounts(9)[8].address, "retailer")
    query(site, reference, perPage="1000")
    events = site.source.chain_events
    assert events is not None and events.full_scans == 1
    operator.update_participant(carrier, roles, 9506000000022)
    after, _ = query(site, reference, perPage="1000")
    assert events.full_scans == 2
    assert [key(e) for e in after] == [key(e) for e in before]
    assert gln_uri in json.dumps(after)
    assert after == exported(site)


def test_a_down_chain_is_a_503_problem_then_recovers(web_site: Site, reference: Path) -> None:
    switch = Switch(int(urlparse(web_site.rpc).port or 0))
    chain = connect(switch.url)
    app = create_app(RpcSource(chain, web_site.result.deployment), head_ttl=0, retry_after=0)
    with running(app) as base:
        assert httpx.get(base + EVENTS, timeout=60).status_code == 200
        switch.down()
        down = httpx.get(base + EVENTS, timeout=60)
        assert down.status_code == 503 and down.headers["retry-after"] == "30"
        assert down.headers["content-type"] == "application/problem+json"
        assert "does not answer" in down.json()["detail"]
        switch.up()
        back = httpx.get(base + EVENTS, params={"perPage": "1000"}, timeout=60)
        assert back.status_code == 200
        assert event_list(back.json()) == everything(web_site, reference)
        switch.down()


def test_requests_at_one_head_share_one_reading_of_the_events(web_site: Site) -> None:
    import concurrent.futures

    app = create_app(RpcSource(web_site.chain, web_site.result.deployment), head_ttl=60)
    with running(app) as base, concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: httpx.get(base + EVENTS, timeout=60), range(16)))
    assert {a.status_code for a in answers} == {200}
    assert len({a.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"][0]["eventID"]
                for a in answers}) == 1  # fmt: skip
    assert app.state.cache.events_computed == 1


def test_events_of_blocks_that_went_away_go_with_them(
    fresh_site: Site, reference: Path, tmp_path: Path
) -> None:
    """A chain that goes back (a reorg, a node restored from a snapshot): the events of the
    lost blocks disappear, also when the new chain has as many blocks as the old one."""
    site = fresh_site
    w3 = site.chain.w3
    farm = participant(site, "farm", tmp_path)
    before, _ = query(site, reference, perPage="1000")
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    farm.create_batch(RAW_GTIN, "LOST-1", 10, "KGM")
    lost, _ = query(site, reference, perPage="1000")
    assert len(lost) == len(before) + 1
    height = w3.eth.block_number
    assert w3.provider.make_request("evm_revert", [snapshot])["result"]  # type: ignore[arg-type]
    farm.create_batch(RAW_GTIN, "KEPT-1", 20, "KGM")  # another block at the same height
    assert w3.eth.block_number == height
    after, _ = query(site, reference, perPage="1000")
    assert [key(e) for e in after[:-1]] == [key(e) for e in before]
    assert after[-1]["quantityList"][0]["epcClass"].endswith("/10/KEPT-1")
    assert "LOST-1" not in json.dumps(after)
    assert after == exported(site)


def test_a_reading_cut_short_is_started_over_not_half_kept(
    web_site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chain stops answering half-way through the new blocks (one block per window here):
    the next reading starts over, with no event missing or twice."""
    from provenance.epcis import export as export_module

    registry = RegistryClient.from_deployment(web_site.chain, web_site.result.deployment)
    whole = export_module.ChainEvents(registry).at(web_site.chain.w3.eth.block_number)
    events = export_module.ChainEvents(registry, window=1)
    real, calls = export_module.fetch_logs, []

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        if len(calls) == 8:
            raise ConnectionError("the node went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(export_module, "fetch_logs", failing)
    head = web_site.chain.w3.eth.block_number
    with pytest.raises(ConnectionError):
        events.at(head)
    again = events.at(head)
    assert len(calls) > 8 and events.full_scans == 2
    assert again.events == whole.events
    assert [again.find(e["eventID"]) for e in whole.events] == list(whole.events)
