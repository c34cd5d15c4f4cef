"""QR labels: every code the toolkit draws (PNG labels, sheet pages) decodes, with an independent
reader (zxing-cpp), to the exact Digital Link; `provenance label` writes them, for a list of
batches or every batch of a GTIN on the chain."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import zxingcpp
from click.testing import CliRunner
from hypothesis import example, given
from hypothesis import strategies as st
from PIL import Image

from provenance.cli import cli
from provenance.exceptions import InvalidInput
from provenance.gs1 import GS1_CSET82, digital_link
from provenance.labels import (
    Label,
    label_png,
    label_svg,
    parse_label_ref,
    sheet_images,
    sheet_svg,
    write_label,
    write_sheet,
)
from provenance.web.links import parse, query_params, segments
from scripts.screenshots import Site

RESOLVER = "https://id.example.com"


def decode(image: Image.Image) -> list[str]:
    return sorted(code.text for code in zxingcpp.read_barcodes(image))


@pytest.mark.parametrize(
    ("gtin", "lot", "uri"),
    [
        ("09521234000013", "JAM-2026-01-A", f"{RESOLVER}/01/09521234000013/10/JAM-2026-01-A"),
        ("9521234000013", "JAM-2026-01-B", f"{RESOLVER}/01/09521234000013/10/JAM-2026-01-B"),
        ("95060002", "L1", f"{RESOLVER}/01/00000095060002/10/L1"),  # GTIN-8
        ("614141000036", "A/B%C", f"{RESOLVER}/01/00614141000036/10/A%2FB%25C"),  # GTIN-12
        ("09506000134352", "!\"%&'()*+,-./:;<=>?_", f"{RESOLVER}/01/09506000134352/10/"
         "%21%22%25%26%27%28%29%2A%2B%2C-.%2F%3A%3B%3C%3D%3E%3F_"),
    ],
)  # fmt: skip
def test_png_label_decodes_to_the_exact_digital_link(gtin: str, lot: str, uri: str) -> None:
    label = Label.of(gtin, lot, RESOLVER)
    assert label.uri == uri
    assert decode(Image.open(io.BytesIO(label_png(label)))) == [uri]
    # and the resolver reads that link back as the same batch
    path = uri.removeprefix(RESOLVER)
    assert parse(segments(path.encode()), []).batch_id == label.batch_id


@given(st.text(alphabet=sorted(GS1_CSET82), min_size=1, max_size=20))
@example("JAM-2026-01-A")
@example("..")
def test_any_lot_round_trips_through_the_code_and_the_resolver(lot: str) -> None:
    label = Label.of("09521234000013", lot, "http://127.0.0.1:8000")
    (text,) = decode(Image.open(io.BytesIO(label_png(label, scale=3))))
    assert text == label.uri
    if lot not in (".", ".."):  # those two travel in the query (?10=..), see Label.of
        assert text == digital_link("09521234000013", lot, "http://127.0.0.1:8000")
    target = urlsplit(text)
    link = parse(segments(target.path.encode()), query_params(target.query.encode()))
    assert (link.gtin, link.lot) == ("09521234000013", lot)


def test_every_code_on_the_sheet_pages_decodes() -> None:
    labels = [Label.of("09521234000013", f"LOT-{i:02d}", RESOLVER) for i in range(14)]
    pages = sheet_images(labels)
    assert len(pages) == 2  # 12 a page
    assert decode(pages[0]) == sorted(label.uri for label in labels[:12])
    assert decode(pages[1]) == sorted(label.uri for label in labels[12:])


def test_svg_label_and_sheet_are_well_formed_and_carry_the_text() -> None:
    label = Label.of("09521234000013", "JAM-2026-01-A", RESOLVER)
    root = ET.fromstring(label_svg(label).encode())
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert texts == ["(01) 09521234000013", "(10) JAM-2026-01-A"]
    assert root.find("{http://www.w3.org/2000/svg}g/{http://www.w3.org/2000/svg}title").text == (
        label.uri
    )
    sheet = ET.fromstring(sheet_svg([label] * 12).encode())
    assert sheet.get("width") == "210mm" and sheet.get("height") == "297mm"
    assert len(sheet.findall("{http://www.w3.org/2000/svg}g")) == 12
    with pytest.raises(InvalidInput, match="12 labels at most"):
        sheet_svg([label] * 13)


def test_files_get_safe_distinct_names(tmp_path: Path) -> None:
    a = Label.of("09521234000013", "A/B", RESOLVER)
    b = Label.of("09521234000013", "A_B", RESOLVER)
    assert a.stem != b.stem and "/" not in a.stem
    written = write_label(a, tmp_path) + write_label(b, tmp_path)
    assert [p.suffix for p in written] == [".svg", ".png", ".svg", ".png"]
    pages = write_sheet([a, b] * 7, tmp_path / "sheet.svg")
    assert [p.name for p in pages] == ["sheet.svg", "sheet-2.svg"]
    (pdf,) = write_sheet([a, b], tmp_path / "sheet.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("09521234000014:JAM", "wrong check digit 4, expected 3"),
        ("09521234000013", "expected GTIN:LOT"),
        ("09521234000013:" + "L" * 21, "21 characters, at most 20"),
        ("09521234000013:JAM 1", "not in the GS1 character set 82"),
    ],
)
def test_bad_batch_references_are_refused_with_the_reason(ref: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_label_ref(ref)


def test_bad_resolver_is_refused() -> None:
    with pytest.raises(InvalidInput, match="invalid resolver"):
        Label.of("09521234000013", "JAM", "ftp://example.com")


def test_label_command_writes_labels_and_a_sheet_for_a_list(tmp_path: Path) -> None:
    out = tmp_path / "labels"
    result = CliRunner().invoke(
        cli,
        [
            "label",
            "09521234000013:JAM-2026-01-A",
            "https://id.gs1.org/01/09521234000013/10/JAM-2026-01-B",
            "--resolver",
            RESOLVER,
            "-o",
            str(out),
            "--sheet",
            str(tmp_path / "sheet.pdf"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    uris = [item["uri"] for item in data["labels"]]
    assert uris == [
        f"{RESOLVER}/01/09521234000013/10/JAM-2026-01-A",
        f"{RESOLVER}/01/09521234000013/10/JAM-2026-01-B",
    ]
    for item in data["labels"]:
        png = next(Path(f) for f in item["files"] if f.endswith(".png"))
        assert decode(Image.open(png)) == [item["uri"]]
    assert data["sheet"] == [str(tmp_path / "sheet.pdf")]


def test_label_command_needs_a_batch() -> None:
    result = CliRunner().invoke(cli, ["label"])
    assert result.exit_code == 2 and "give at least one BATCH" in result.output


@pytest.mark.anvil
def test_label_all_of_a_gtin_labels_every_lot_that_still_exists(
    web_site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from provenance.deploy import record_path

    home = tmp_path / "home"
    path = record_path(web_site.chain.identity, home)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(web_site.result.deployment.to_json()))
    monkeypatch.setenv("PROVENANCE_HOME", str(home))
    result = CliRunner().invoke(
        cli,
        ["--rpc", web_site.rpc, "label", "--all-of", "9521234000013", "--resolver",
         web_site.base, "-o", str(tmp_path / "out"), "--sheet", str(tmp_path / "jam.svg")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    # JAM-2026-01 was split into lots A and B: only those two exist
    assert "JAM-2026-01-A" in result.output and "JAM-2026-01-B" in result.output
    assert "09521234000013 JAM-2026-01 " not in result.output
    pngs = sorted((tmp_path / "out").glob("*.png"))
    assert [decode(Image.open(p)) for p in pngs] == [
        [web_site.url("lot A")],
        [web_site.url("lot B")],
    ]
    assert (tmp_path / "jam.svg").exists()
