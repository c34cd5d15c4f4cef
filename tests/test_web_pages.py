"""The resolver over HTTP on the demo's chain: the four pages, their JSON, linksets, content
negotiation, Digital Link forms, names from the directory, and the report cache."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from provenance.chain import dev_accounts
from provenance.demo import CAST, PUBLISHED_NAMES
from provenance.directory import Directory
from provenance.encoding import keccak_hex
from provenance.registry import RegistryClient
from provenance.transactions import Transactor
from provenance.web.public import PRIVATE_DELIVERY_FIELDS
from provenance.web.source import RpcSource
from scripts.screenshots import BATCHES, JAM_GTIN, Site, path_of

pytestmark = pytest.mark.anvil

LOT_A = path_of(JAM_GTIN, "JAM-2026-01-A")
#: What must never appear in a public answer: the demo's price, escrow, payout, refund and penalty
#: in any notation, and the names of the private fields.
PRIVATE_TEXT = (
    "ETH", "wei", "price", "penalt", "escrow", "supplier_amount", "buyer_amount", "days_late",
    "daysLate", "credited", "refund", "0.975", "0.025", "0.045", "1.02", "975000000000000000",
    "25000000000000000", "45000000000000000", "1020000000000000000", "1000000000000000000",
)  # fmt: skip


def get(site: Site, path: str, **kwargs: object) -> httpx.Response:
    return httpx.get(site.base + path, timeout=60, **kwargs)  # type: ignore[arg-type]


def visible_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize("label", list(BATCHES))
def test_each_demo_batch_has_its_verdict_in_words_as_html_and_json(
    web_site: Site, label: str
) -> None:
    gtin, lot, verdict = BATCHES[label]
    page = get(web_site, path_of(gtin, lot))
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert f'class="verdict verdict--{verdict.lower()}"' in page.text
    assert f"</span> {verdict}</h1>" in page.text
    data = get(web_site, path_of(gtin, lot) + "?format=json").json()
    assert data["verdict"] == verdict == web_site.result.reports[label].verdict.value
    assert data["resolver"]["link"] == web_site.base + path_of(gtin, lot)
    assert (data["resolver"]["gtin"], data["resolver"]["lot"]) == (gtin, lot)


@pytest.mark.parametrize("label", list(BATCHES))
def test_json_is_the_verify_report_without_amounts(web_site: Site, label: str) -> None:
    gtin, lot, _verdict = BATCHES[label]
    public = get(web_site, path_of(gtin, lot), headers={"Accept": "application/json"}).json()
    full = web_site.result.reports[label].to_dict()
    assert set(public) == set(full) | {"resolver"}
    for key in ("batch_id", "verdict", "exit_code", "lineage", "recalls", "custodian", "owner"):
        assert public[key] == full[key], key
    assert [t["event"] for t in public["timeline"]] == [t["event"] for t in full["timeline"]]
    assert len(public["agreements"]) == len(full["agreements"])
    for delivery in public["agreements"]:
        assert not set(delivery) & PRIVATE_DELIVERY_FIELDS
        assert delivery["status"] in {"settled", "tendered"}
    text = json.dumps({k: v for k, v in public.items() if k != "resolver"})
    for word in PRIVATE_TEXT:
        assert word not in text, f"{word!r} in the public JSON of {label}"


def test_public_json_keeps_whether_the_farm_delivery_was_paid(web_site: Site) -> None:
    gtin, lot, _ = BATCHES["farm batch"]
    data = get(web_site, path_of(gtin, lot) + "?format=json").json()
    (delivery,) = data["agreements"]
    assert delivery["status"] == "settled" and delivery["agreement_id"] == 1
    assert delivery["supplier"] == web_site.result.cast["farm"]
    assert "delivery under agreement 1: accepted by the buyer and paid" in [
        r["message"] for r in data["reasons"]
    ]


@pytest.mark.parametrize("label", list(BATCHES))
def test_no_page_shows_a_price_amount_or_penalty(web_site: Site, label: str) -> None:
    gtin, lot, _ = BATCHES[label]
    text = visible_text(get(web_site, path_of(gtin, lot)).text)
    notice = "Prices, amounts and penalties are the parties' business and are not shown."
    assert notice in text
    text = text.replace(notice, "")
    for word in PRIVATE_TEXT:
        found = word in text if word[0].isdigit() or word.isupper() else word in text.lower()
        assert not found, f"{word!r} on the page of {label}"


def test_the_page_says_what_it_proves_and_who_took_part_by_name_address_and_did(
    web_site: Site,
) -> None:
    text = visible_text(get(web_site, LOT_A).text)
    assert (
        "It does not prove that the item in your hand is genuine: a copied label leads to this "
        "same page." in text
    )
    chain_id = web_site.chain.chain_id
    for part, name in PUBLISHED_NAMES.items():
        address = web_site.result.cast[part]
        assert name in text, name
        assert address in text and f"did:pkh:eip155:{chain_id}:{address}" in text


def test_a_name_shows_only_where_the_directory_entry_is_the_on_chain_metadata(
    web_site: Site,
) -> None:
    cast = web_site.result.cast
    forged = dict(PUBLISHED_NAMES) | {"farm": "Totally Organic Farm"}
    directory = Directory.of({cast[part]: name for part, name in forged.items()})
    source = RpcSource(web_site.chain, web_site.result.deployment, directory)
    verified = source.verify(web_site.result.product)
    assert verified.names[cast["processor"]] == "Sunny Jam Co."
    assert cast["farm"] not in verified.names  # edited entry: its hash no longer matches
    assert verified.report is not None
    creators = {e.actor.address: e.actor.name for e in verified.report.timeline if e.actor}
    assert creators[cast["farm"]] is None and creators[cast["processor"]] == "Sunny Jam Co."
    assert web_site.result.directory.entry(cast["farm"]).metadata_hash == keccak_hex(  # type: ignore[union-attr]
        json.dumps(
            {"address": cast["farm"], "name": "Green Valley Farm"},
            sort_keys=True,
            separators=(",", ":"),
        ).encode()
    )


def test_linkset_lists_the_page_the_json_report_and_the_recall_status(web_site: Site) -> None:
    for kwargs in (
        {"params": {"linkType": "linkset"}},
        {"params": {"linkType": "all"}},
        {"headers": {"Accept": "application/linkset+json"}},
    ):
        answer = get(web_site, LOT_A, **kwargs)
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/linkset+json"
        (links,) = answer.json()["linkset"]
        anchor = web_site.base + LOT_A
        assert links["anchor"] == anchor
        service = links["https://gs1.org/voc/verificationService"]
        assert {(s["href"], s["type"]) for s in service} == {
            (anchor, "text/html"),
            (anchor + "?format=json", "application/json"),
        }
        assert links["https://gs1.org/voc/defaultLink"][0]["href"] == anchor
        assert links["https://gs1.org/voc/recallStatus"][0]["href"] == anchor + "#recalls"
    page = get(web_site, LOT_A)
    assert 'rel="linkset"' in page.headers["link"]


def test_well_known_describes_the_resolver(web_site: Site) -> None:
    data = get(web_site, "/.well-known/gs1resolver").json()
    assert data["resolverRoot"] == web_site.base
    assert data["supportedPrimaryKeys"] == ["01"]
    assert data["readOnly"] is True
    assert data["registry"] == web_site.result.deployment.registry
    assert "https://gs1.org/voc/verificationService" in data["linkTypes"]


@pytest.mark.parametrize(
    ("accept", "query", "expected"),
    [
        ("application/json", "", "application/json"),
        ("text/html", "", "text/html; charset=utf-8"),
        ("*/*", "", "text/html; charset=utf-8"),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "",
         "text/html; charset=utf-8"),
        ("application/json;q=0.5, text/html;q=0.9", "", "text/html; charset=utf-8"),
        ("application/json, text/html;q=0.1", "", "application/json"),
        ("text/html", "?format=json", "application/json"),
        ("application/json", "?format=html", "text/html; charset=utf-8"),
        ("*/*", "?linkType=gs1:verificationService", "text/html; charset=utf-8"),
        ("application/json", "?linkType=https://gs1.org/voc/verificationService",
         "application/json"),
        ("*/*", "?linkType=gs1:defaultLink", "text/html; charset=utf-8"),
        ("*/*", "?linkType=linkset", "application/linkset+json"),
        ("application/linkset+json", "", "application/linkset+json"),
    ],
)  # fmt: skip
def test_content_negotiation(web_site: Site, accept: str, query: str, expected: str) -> None:
    answer = get(web_site, LOT_A + query, headers={"Accept": accept})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == expected
    assert answer.headers["vary"] == "Accept, Accept-Encoding"


@pytest.mark.parametrize(
    "path",
    [
        "/01/09521234000013/10/JAM-2026-01-A",
        "/01/9521234000013/10/JAM-2026-01-A",  # GTIN-13
        "/01/09521234000013/10/JAM-2026-01-A/",  # a trailing slash
        "/01/09521234000013/10/JAM%2D2026%2D01%2DA",  # percent-encoded lot
        "/01/09521234000013?10=JAM-2026-01-A",  # uncompressed query form
        "/01/9521234000013?10=JAM%2D2026-01-A",
        "/01/09521234000013/10/JAM-2026-01-A?17=271231",  # a data attribute in the query
    ],
)
def test_every_form_of_the_link_reaches_the_same_batch(web_site: Site, path: str) -> None:
    sep = "&" if "?" in path else "?"
    answer = get(web_site, f"{path}{sep}format=json")
    assert answer.status_code == 200, answer.text
    assert answer.json()["batch_id"] == web_site.result.product


@pytest.mark.parametrize(
    "path",
    [
        "/01/09521234000013/10/JAM-2026-01-A/21/SERIAL-0042",
        "/01/09521234000013/22/VARIANT-2/10/JAM-2026-01-A",
    ],
)
def test_qualifiers_the_registry_does_not_record_redirect_to_the_lot(
    web_site: Site, path: str
) -> None:
    answer = get(web_site, path + "?format=json")
    assert answer.status_code == 307
    assert answer.headers["location"] == LOT_A + "?format=json"


def test_unknown_lot_is_a_plain_404(web_site: Site) -> None:
    answer = get(web_site, "/01/09521234000013/10/JAM-2099-99-Z")
    assert answer.status_code == 404
    assert (
        "no batch with lot JAM-2099-99-Z of GTIN 09521234000013 is recorded in this registry"
        in answer.text
    )
    data = get(web_site, "/01/09521234000013/10/JAM-2099-99-Z?format=json").json()
    assert data["status"] == 404 and "is recorded in this registry" in data["error"]


def test_home_page_looks_a_product_up_without_javascript(web_site: Site) -> None:
    home = get(web_site, "/")
    assert home.status_code == 200 and '<form class="lookup" method="get"' in home.text
    found = get(web_site, "/lookup", params={"gtin": "9521234000013", "lot": "JAM-2026-01-A"})
    assert found.status_code == 303 and found.headers["location"] == LOT_A
    wrong = get(web_site, "/lookup", params={"gtin": "9521234000014", "lot": "X"})
    assert wrong.status_code == 400 and "wrong check digit 4, expected 3" in wrong.text


def test_head_and_options_answer_like_a_read_only_resource(web_site: Site) -> None:
    page = get(web_site, LOT_A)
    head = httpx.head(web_site.base + LOT_A, timeout=30)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == page.headers["content-length"]
    options = httpx.options(web_site.base + LOT_A, timeout=30)
    assert options.status_code == 204 and options.headers["allow"] == "GET, HEAD, OPTIONS"


def test_pages_forbid_anything_from_elsewhere(web_site: Site) -> None:
    page = get(web_site, LOT_A)
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "style-src 'self'" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert not re.search(r"<script|https?://(?!127\.0\.0\.1)[^\s\"'<]+\.(css|js|woff)", page.text)
    css = get(web_site, "/static/provenance.css")
    assert css.status_code == 200 and "@import" not in css.text and "url(" not in css.text


# ---------------------------------------------------------------------------- the cache


def registry(site: Site, part: str, tmp: Path) -> RegistryClient:
    key = dev_accounts(len(CAST))[CAST.index(part)]
    transactor = Transactor(site.chain, key, None, root=tmp)
    return RegistryClient.from_deployment(site.chain, site.result.deployment, transactor)


def test_a_cached_report_lasts_until_an_event_touches_its_family(
    fresh_site: Site, tmp_path: Path
) -> None:
    site, source = fresh_site, fresh_site.source
    first = get(site, LOT_A)
    assert first.status_code == 200 and source.computed == 1
    assert get(site, LOT_A).text == first.text and source.computed == 1  # cached
    # An event outside the family: the head moves, the report is not rebuilt.
    stranger = dev_accounts(9)[8].address
    registry(site, "operator", tmp_path).register_participant(stranger, "retailer")
    after = get(site, LOT_A)
    assert source.computed == 1
    head = site.chain.w3.eth.block_number
    assert f"checked against block {head} (" in after.text
    # An attestation on lot A touches the family: rebuilt, and it shows.
    now = site.chain.now()
    registry(site, "certifier", tmp_path).attest(
        site.result.product,
        "FAIRTRADE",
        keccak_hex(b"fairtrade certificate"),
        now - 10,
        now + 86400,
    )
    page = get(site, LOT_A)
    assert source.computed == 2 and "FAIRTRADE" in page.text
    # A recall of lot A by its origin: FAILED on the next request.
    registry(site, "processor", tmp_path).recall_batch(site.result.product, "mislabelled")
    failed = get(site, LOT_A + "?format=json").json()
    assert failed["verdict"] == "FAILED" and source.computed == 3


def test_long_answers_are_gzipped_for_clients_that_accept_it(web_site: Site) -> None:
    plain = get(web_site, LOT_A, headers={"Accept-Encoding": "identity"})
    packed = get(web_site, LOT_A, headers={"Accept-Encoding": "gzip, deflate"})
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.text == plain.text
    assert int(packed.headers["content-length"]) < len(plain.content) / 2


def test_a_long_history_shows_its_first_and_last_events_and_points_to_the_json(
    web_site: Site,
) -> None:
    from dataclasses import replace

    from provenance.web.public import TIMELINE_FIRST, TIMELINE_LAST, page_view

    report = web_site.result.reports["lot A"]
    long = replace(report, timeline=report.timeline * 10)  # 110 events
    view = page_view(long, {}, web_site.chain.chain_id)
    assert view.hidden == 110 - TIMELINE_FIRST - TIMELINE_LAST
    assert len(view.timeline) == TIMELINE_FIRST + TIMELINE_LAST
