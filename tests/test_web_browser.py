"""The customer's path in a real browser: the system Chromium (Playwright) at a phone's size,
JavaScript off, on the demo's chain served from 127.0.0.1.

Each verdict page is checked for its texts (not just the presence of sections), no price or
amount anywhere, every request the page makes goes to the server only, and a screenshot of each
is left in build/test-artifacts/web/ (the README's come from `scripts/screenshots.py`, the same
harness). The jar's QR label, decoded by zxing-cpp, opens the same page.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from provenance.labels import Label, label_png, label_svg
from scripts.screenshots import BATCHES, JAM_GTIN, PHONE, RAW_GTIN, Site, path_of

pytestmark = [pytest.mark.anvil, pytest.mark.browser]


def section(page: Any, anchor: str) -> str:
    return " ".join(page.locator(f"#{anchor}").inner_text().split())


def verdict(page: Any) -> str:
    return " ".join(page.locator(".verdict").inner_text().split())


def visit(browser: Any, url: str) -> tuple[Any, list[str]]:
    """Open `url` at a phone's size; returns the page and every URL it requested."""
    context = browser.new_context(java_script_enabled=False, **PHONE)
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    response = page.goto(url)
    assert response is not None
    page.wait_for_load_state("load")
    return page, requested


@pytest.fixture(scope="module")
def pages(browser: Any, web_site: Site, web_artifacts: Path) -> Any:
    opened = {}
    for label in BATCHES:
        page, requested = visit(browser, web_site.url(label))
        page.screenshot(path=str(web_artifacts / f"verify-{label.replace(' ', '-')}.png"),
                        full_page=True)  # fmt: skip
        opened[label] = (page, requested)
    yield opened
    for page, _ in opened.values():
        page.context.close()


def test_lot_a_warns_in_words_that_its_sibling_lot_b_is_recalled(pages: Any) -> None:
    page, _ = pages["lot A"]
    top = verdict(page)
    assert top.startswith("! WARNING The record of this lot is consistent, but something "
                          "deserves your attention.")  # fmt: skip
    assert re.search(
        r"Lot JAM-2026-01-B, made from the same source as this lot, was recalled by Sunny Jam "
        r"Co\. on \d+ \w+ \d{4}, \d\d:\d\d UTC: glass fragments\. This lot itself is not "
        r"recalled\.",
        top,
    ), top
    assert "Lot JAM-2026-01-A of product GTIN 09521234000013" in top
    assert page.title() == "WARNING: lot JAM-2026-01-A · Provenance check"


def test_lot_b_fails_because_it_is_recalled(pages: Any) -> None:
    page, _ = pages["lot B"]
    top = verdict(page)
    assert top.startswith("✗ FAILED Do not rely on this lot: it, or something it was made from, "
                          "has been recalled")  # fmt: skip
    assert re.search(r"This lot was recalled by Sunny Jam Co\. on .* UTC: glass fragments\.", top)
    recalls = section(page, "recalls")
    assert "RECALLED Lot JAM-2026-01-B (this lot)" in recalls
    assert "Recalled by Sunny Jam Co. (processor) on" in recalls


def test_the_farm_batch_warns_that_a_descendant_is_recalled(pages: Any) -> None:
    page, _ = pages["farm batch"]
    top = verdict(page)
    assert top.startswith("! WARNING")
    assert re.search(r"Lot JAM-2026-01-B, made from this lot, was recalled by Sunny Jam Co\. on "
                     r".* UTC: glass fragments\.", top), top  # fmt: skip
    assert "(a lot made from this one)" in section(page, "recalls")
    deliveries = section(page, "deliveries")
    assert (
        "Agreement #1 for lot STRAW-2026-001 From Green Valley Farm (producer) to Sunny Jam Co. "
        "(processor), via Swift Haulage (carrier); tendered" in deliveries
    )
    assert "PAID Accepted by the buyer and paid on" in deliveries


def test_the_unrelated_batch_is_verified(pages: Any) -> None:
    page, _ = pages["unrelated batch"]
    top = verdict(page)
    assert top == (
        "✓ VERIFIED The record of this lot is complete and consistent. Lot STRAW-2026-002 of "
        "product GTIN 09506000134352"
    )
    assert "No recall of this lot" in section(page, "recalls")
    assert "No attestation on this lot" in section(page, "attestations")
    assert "No delivery of this lot" in section(page, "deliveries")
    timeline = section(page, "timeline")
    assert "lot STRAW-2026-002 Created by Green Valley Farm By Green Valley Farm (producer)" in (
        timeline
    )


def test_lot_a_tells_its_story_timeline_lineage_and_attestations(pages: Any) -> None:
    page, _ = pages["lot A"]
    product = section(page, "product")
    assert "GTIN 09521234000013 Lot JAM-2026-01-A Quantity 1,200 pieces" in product
    assert "Origin split from lot JAM-2026-01" in product
    assert "Held by Corner Shop (retailer) Owned by Corner Shop (retailer)" in product
    timeline = section(page, "timeline")
    for text in (
        "lot STRAW-2026-001 Created by Green Valley Farm",
        "Green Valley Farm handed it to Swift Haulage, as the delivery under agreement #1",
        "Swift Haulage received it from Green Valley Farm",
        "Sunny Jam Co. received it from Swift Haulage: delivery accepted, agreement #1 paid, "
        "ownership passed",
        "Transformed into a new product by Sunny Jam Co.",
        "lot JAM-2026-01 Created by Sunny Jam Co.",
        "Split from lot JAM-2026-01 (1,200 pieces) by Sunny Jam Co.",
        "Sunny Jam Co. handed it to Corner Shop (with ownership)",
        "Corner Shop received it from Sunny Jam Co., with ownership",
        "shipping / in transit",
    ):
        assert text in timeline, text
    events = page.locator("#timeline ol > li")
    assert events.count() == 11  # 6 of the strawberries, 2 of the jam, 3 of lot A
    assert page.locator("#timeline time").first.get_attribute("datetime").endswith("Z")
    lineage = section(page, "lineage")
    assert (
        "JAM-2026-01-A (this lot) GTIN 09521234000013 · 1,200 pieces · split from lot JAM-2026-01"
        in lineage
    )
    assert "JAM-2026-01 GTIN 09521234000013 · 2,000 pieces · made from lot STRAW-2026-001" in (
        lineage
    )
    assert "STRAW-2026-001 GTIN 09506000134352 · 1,000 kg · origin batch, created by Green " in (
        lineage
    )
    assert page.locator("#lineage a", has_text="STRAW-2026-001").get_attribute("href") == (
        path_of(RAW_GTIN, "STRAW-2026-001")
    )
    attestations = section(page, "attestations")
    assert "ORGANIC on lot STRAW-2026-001 Issued by EcoCert Lab (certifier), valid" in attestations
    assert re.search(r"When the lot was used \(.*\): valid · Now: valid", attestations)
    participants = section(page, "participants")
    for name in ("Corner Shop", "EcoCert Lab", "Green Valley Farm", "Sunny Jam Co.",
                 "Swift Haulage"):  # fmt: skip
        assert name in participants


@pytest.mark.parametrize("label", list(BATCHES))
def test_no_price_amount_or_penalty_anywhere_on_the_page(pages: Any, label: str) -> None:
    page, _ = pages[label]
    text = page.locator("body").inner_text()
    notice = "Prices, amounts and penalties are the parties' business and are not shown."
    assert text.count(notice) == 1
    rest = text.replace(notice, "")
    assert not re.search(r"\bETH\b|\bwei\b|price|penalt|escrow|credited|refund", rest, re.I)
    assert not re.search(r"0\.975|0\.025|0\.045|1\.02\b|day\(s\) late", rest)


@pytest.mark.parametrize("label", list(BATCHES))
def test_the_page_requests_nothing_but_the_server(pages: Any, web_site: Site, label: str) -> None:
    _page, requested = pages[label]
    server = urlparse(web_site.base).netloc
    assert requested, "the browser made no request at all?"
    assert {urlparse(url).netloc for url in requested} == {server}, requested
    assert any(url.endswith(".css?v=" + url.rsplit("=", 1)[-1]) for url in requested)


@pytest.mark.parametrize("label", list(BATCHES))
def test_the_page_is_accessible_without_colour_or_script(pages: Any, label: str) -> None:
    page, _ = pages[label]
    _gtin, _lot, word = BATCHES[label]
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").count() == 1
    assert page.locator("h1").inner_text().split()[-1] == word  # the verdict in words
    assert page.locator("main").count() == 1 and page.locator("script").count() == 0
    for anchor in ("product", "timeline", "lineage", "attestations", "recalls", "deliveries",
                   "participants"):  # fmt: skip
        assert page.locator(f"section#{anchor} h2").count() == 1
    colours = page.locator(".verdict").evaluate(
        "e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]"
    )
    assert contrast(*colours) >= 7.0, colours  # WCAG AAA for the verdict
    body = page.locator("body").evaluate(
        "e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]"
    )
    assert contrast(*body) >= 7.0
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width} px)"


def contrast(foreground: str, background: str) -> float:
    """WCAG contrast ratio of two CSS rgb() colours."""

    def luminance(colour: str) -> float:
        r, g, b = (int(v) / 255 for v in re.findall(r"\d+", colour)[:3])
        return sum(
            w * (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
            for w, c in zip((0.2126, 0.7152, 0.0722), (r, g, b), strict=True)
        )

    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_qr_label_of_lot_a_decoded_opens_the_same_page(
    browser: Any, web_site: Site, pages: Any
) -> None:
    import zxingcpp
    from PIL import Image

    jar = Label.of(JAM_GTIN, "JAM-2026-01-A", web_site.base)
    (code,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(label_png(jar))))
    assert code.format == zxingcpp.BarcodeFormat.QRCode
    assert code.text == web_site.url("lot A")
    scanned, requested = visit(browser, code.text)
    shelf, _ = pages["lot A"]
    assert scanned.url == shelf.url
    assert verdict(scanned) == verdict(shelf)
    assert section(scanned, "timeline") == section(shelf, "timeline")
    assert {urlparse(u).netloc for u in requested} == {urlparse(web_site.base).netloc}
    scanned.context.close()


def test_the_svg_label_drawn_by_chromium_decodes_to_the_link(browser: Any, web_site: Site) -> None:
    """The SVG label (vector, for print) as a browser renders it decodes to the exact URI."""
    import zxingcpp
    from PIL import Image

    jar = Label.of(JAM_GTIN, "JAM/2026%01-A", web_site.base)
    context = browser.new_context(java_script_enabled=False, device_scale_factor=3)
    page = context.new_page()
    svg = label_svg(jar).split("\n", 1)[1]
    page.set_content(f"<body style='margin:0;background:#fff'>{svg}</body>")
    image = Image.open(io.BytesIO(page.locator("svg").screenshot()))
    context.close()
    (code,) = zxingcpp.read_barcodes(image)
    assert code.text == f"{web_site.base}/01/{JAM_GTIN}/10/JAM%2F2026%2501-A"
