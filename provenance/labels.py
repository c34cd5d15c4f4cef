"""Product labels: a QR code of the batch's GS1 Digital Link, with the GTIN and lot under it.

The QR code (segno, error correction M) encodes `<resolver>/01/<gtin14>/10/<lot>`, the lot
percent-encoded; the human-readable lines under it follow GS1's interpretation format:
``(01) 09521234000013`` and ``(10) JAM-2026-01-A``. Labels come as SVG (vector, for print) or
PNG, one per batch, and as printable A4 sheets of many labels (SVG, one file per page, or one
PDF with a page per sheet).

`batches_of_gtin` finds every batch of a GTIN on a chain (for `provenance label --all-of`).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import segno

from provenance.config import DEFAULT_RESOLVER, cannot_write
from provenance.encoding import Hex32, keccak_hex
from provenance.exceptions import InvalidInput
from provenance.gs1 import Gtin, Lot, batch_id, digital_link

#: Where labels point by default: the resolver `provenance serve` runs on this machine.
QUIET_ZONE = 4  # modules of white around the code (ISO/IEC 18004 minimum)
#: A4 in millimetres, and the grid of a sheet: 3 × 4 labels of 60 × 66 mm.
A4_MM = (210.0, 297.0)
SHEET_COLUMNS, SHEET_ROWS = 3, 4
CELL_MM = (60.0, 66.0)
PDF_DPI = 150


@dataclass(frozen=True)
class Label:
    """What one label shows: the batch's GTIN and lot, and the Digital Link its code encodes."""

    gtin: str  # 14 digits
    lot: str
    uri: str

    @classmethod
    def of(cls, gtin: str | int, lot: str, resolver: str = DEFAULT_RESOLVER) -> Label:
        """Validate GTIN and lot and build the Digital Link on `resolver` (scheme://host[/path])."""
        base = resolver.strip().rstrip("/")
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", base):
            raise InvalidInput(
                f"invalid resolver {resolver!r}: expected http(s)://host[:port][/path], "
                "e.g. https://id.example.com"
            )
        gtin14, checked = Gtin(gtin), Lot(lot)
        if checked in (".", ".."):  # a dot segment: URL parsers drop it from a path
            return cls(gtin14, checked, f"{base}/01/{gtin14}?10={checked}")
        return cls(gtin14, checked, digital_link(gtin14, checked, host=base))

    @property
    def batch_id(self) -> Hex32:
        return batch_id(self.gtin, self.lot)

    @property
    def lines(self) -> tuple[str, str]:
        """The human-readable interpretation under the code."""
        return (f"(01) {self.gtin}", f"(10) {self.lot}")

    @property
    def stem(self) -> str:
        """A file name for this label: GTIN and lot, any unsafe lot character replaced (and then
        a short hash of the lot added, so two lots never share a file)."""
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", self.lot)
        if safe != self.lot or safe.startswith("."):
            safe = f"{safe.lstrip('.')}-{keccak_hex(self.lot.encode())[2:8]}"
        return f"{self.gtin}_{safe}"

    def qr(self) -> segno.QRCode:
        return segno.make_qr(self.uri, error="m", boost_error=False)


def parse_label_ref(value: str, resolver: str = DEFAULT_RESOLVER) -> Label:
    """`GTIN:LOT` or a GS1 Digital Link (any host, or `01/<gtin>/10/<lot>`) → a Label."""
    from provenance.gs1 import parse_digital_link

    text = value.strip()
    if "/01/" in text or text.startswith(("01/", "http://", "https://")):
        gtin, lot = parse_digital_link(text)
        return Label.of(gtin, lot, resolver)
    gtin_text, sep, lot_text = text.partition(":")
    if not sep:
        raise InvalidInput(
            f"invalid batch {value!r}: expected GTIN:LOT (09521234000013:JAM-2026-01-A) or a "
            "GS1 Digital Link"
        )
    return Label.of(gtin_text, lot_text, resolver)


# --------------------------------------------------------------------------------- drawing


def _qr_path(matrix: Sequence[Sequence[int]], x0: float, y0: float, module: float) -> str:
    """SVG path data for the dark modules, one rectangle per horizontal run."""
    parts = []
    for row, cells in enumerate(matrix):
        col = 0
        while col < len(cells):
            if not cells[col]:
                col += 1
                continue
            start = col
            while col < len(cells) and cells[col]:
                col += 1
            parts.append(
                f"M{x0 + start * module:g} {y0 + row * module:g}"
                f"h{(col - start) * module:g}v{module:g}h{-(col - start) * module:g}z"
            )
    return "".join(parts)


def _label_group(label: Label, x: float, y: float, width: float) -> str:
    """One label drawn in a box `width` wide at (x, y): the code on top, two lines under it."""
    matrix = label.qr().matrix
    modules = len(matrix) + 2 * QUIET_ZONE
    module = width / modules
    font = width * 0.062
    text_y = y + width + font * 0.6
    lines = "".join(
        f'<text x="{x + width / 2:g}" y="{text_y + (i + 1) * font * 1.3:g}" '
        f'font-size="{font:g}">{escape(line)}</text>'
        for i, line in enumerate(label.lines)
    )
    path = _qr_path(matrix, x + QUIET_ZONE * module, y + QUIET_ZONE * module, module)
    return (
        f"<g><title>{escape(label.uri)}</title>"
        f'<rect x="{x:g}" y="{y:g}" width="{width:g}" height="{width:g}" fill="#fff"/>'
        f'<path d="{path}" fill="#000"/>{lines}</g>'
    )


_TEXT_STYLE = (
    '<style>text{font-family:"DejaVu Sans Mono","Liberation Mono",Menlo,Consolas,monospace;'
    "text-anchor:middle;fill:#000}</style>"
)


def label_svg(label: Label, size_mm: float = 40.0) -> str:
    """One label as a standalone SVG document, `size_mm` wide (the code is that wide)."""
    height = size_mm * 1.25
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size_mm:g}mm" height="{height:g}mm" '
        f'viewBox="0 0 {size_mm:g} {height:g}">'
        f'<rect width="100%" height="100%" fill="#fff"/>{_TEXT_STYLE}'
        f"{_label_group(label, 0, 0, size_mm)}</svg>\n"
    )


def label_png(label: Label, scale: int = 8) -> bytes:
    """One label as PNG: the code at `scale` pixels per module, the two lines under it."""
    from PIL import Image, ImageDraw, ImageFont

    buffer = io.BytesIO()
    label.qr().save(buffer, kind="png", scale=scale, border=QUIET_ZONE)
    code = Image.open(io.BytesIO(buffer.getvalue())).convert("L")
    width = code.width
    font_size = max(12, width // 16)
    font = ImageFont.load_default(size=font_size)
    line_height = int(font_size * 1.35)
    image = Image.new("L", (width, width + line_height * 2 + font_size // 2), 255)
    image.paste(code, (0, 0))
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(label.lines):
        draw.text((width / 2, width + i * line_height), line, fill=0, font=font, anchor="ma")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def sheet_pages(labels: Sequence[Label]) -> list[list[Label]]:
    per_page = SHEET_COLUMNS * SHEET_ROWS
    return [list(labels[i : i + per_page]) for i in range(0, len(labels), per_page)] or [[]]


def sheet_svg(labels: Sequence[Label]) -> str:
    """One A4 page of up to 12 labels (3 × 4), as SVG in millimetres."""
    if len(labels) > SHEET_COLUMNS * SHEET_ROWS:
        raise InvalidInput(f"an SVG sheet holds {SHEET_COLUMNS * SHEET_ROWS} labels at most")
    page_w, page_h = A4_MM
    cell_w, cell_h = CELL_MM
    left = (page_w - SHEET_COLUMNS * cell_w) / 2
    top = (page_h - SHEET_ROWS * cell_h) / 2
    code = cell_w * 0.8
    groups = []
    for i, label in enumerate(labels):
        col, row = i % SHEET_COLUMNS, i // SHEET_COLUMNS
        x = left + col * cell_w + (cell_w - code) / 2
        y = top + row * cell_h + cell_h * 0.05
        groups.append(_label_group(label, x, y, code))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{page_w:g}mm" height="{page_h:g}mm" '
        f'viewBox="0 0 {page_w:g} {page_h:g}"><rect width="100%" height="100%" fill="#fff"/>'
        f"{_TEXT_STYLE}{''.join(groups)}</svg>\n"
    )


def sheet_images(labels: Sequence[Label]) -> list[Any]:
    """Every label on A4 pages of 3 × 4, as greyscale Pillow images at `PDF_DPI` (what
    `sheet_pdf` puts in the PDF)."""
    from PIL import Image

    px = PDF_DPI / 25.4
    page_w, page_h = (round(v * px) for v in A4_MM)
    cell_w, cell_h = (v * px for v in CELL_MM)
    left = (page_w - SHEET_COLUMNS * cell_w) / 2
    top = (page_h - SHEET_ROWS * cell_h) / 2
    pages = []
    for chunk in sheet_pages(labels):
        page = Image.new("L", (page_w, page_h), 255)
        for i, label in enumerate(chunk):
            drawn = Image.open(io.BytesIO(label_png(label, scale=4)))
            target = int(cell_w * 0.8)
            image = drawn.resize(
                (target, round(drawn.height * target / drawn.width)), Image.Resampling.NEAREST
            )
            col, row = i % SHEET_COLUMNS, i // SHEET_COLUMNS
            x = int(left + col * cell_w + (cell_w - target) / 2)
            y = int(top + row * cell_h + cell_h * 0.05)
            page.paste(image, (x, y))
        pages.append(page)
    return pages


def sheet_pdf(labels: Sequence[Label]) -> bytes:
    """Every label on A4 pages of 3 × 4, as one PDF (raster pages, see `sheet_images`)."""
    pages = sheet_images(labels)
    out = io.BytesIO()
    pages[0].save(out, format="PDF", save_all=True, append_images=pages[1:], resolution=PDF_DPI)
    return out.getvalue()


# ------------------------------------------------------------------------------- writing


def write_label(label: Label, folder: Path, formats: Sequence[str] = ("svg", "png")) -> list[Path]:
    """Write `<gtin>_<lot>.svg` / `.png` into `folder` (created if missing); returns the paths
    written. A folder or file that cannot be written is a `ConfigError` naming it."""
    written = []
    for kind in formats:
        if kind not in ("svg", "png"):
            raise InvalidInput(f"unknown label format {kind!r}: svg or png")
        path = folder / f"{label.stem}.{kind}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if kind == "svg":
                path.write_text(label_svg(label), encoding="utf-8")
            else:
                path.write_bytes(label_png(label))
        except OSError as exc:
            raise cannot_write(path, exc) from exc
        written.append(path)
    return written


def write_labels(
    labels: Sequence[Label], folder: Path, formats: Sequence[str], sheet: Path | None = None
) -> tuple[dict[str, list[Path]], list[Path]]:
    """Each label into `folder` (by URI: the files written), then the sheet, if any. The sheet's
    name and folder are checked first, so a bad `sheet` writes nothing at all."""
    if sheet is not None:
        _sheet_folder(sheet)
    written = {label.uri: write_label(label, folder, formats) for label in labels}
    return written, (write_sheet(labels, sheet) if sheet is not None else [])


def _sheet_folder(path: Path) -> None:
    if path.suffix.lower() not in (".pdf", ".svg"):
        raise InvalidInput(f"invalid sheet {path}: the file name must end in .svg or .pdf")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise cannot_write(path, exc) from exc


def write_sheet(labels: Sequence[Label], path: Path) -> list[Path]:
    """A printable sheet: `.pdf` (one file, a page per 12 labels) or `.svg` (one file per page:
    `sheet.svg`, `sheet-2.svg`, …). Returns the files written."""
    if not labels:
        raise InvalidInput("no labels to put on a sheet")
    _sheet_folder(path)
    if path.suffix.lower() == ".pdf":
        _write(path, sheet_pdf(labels))
        return [path]
    written = []
    for number, chunk in enumerate(sheet_pages(labels), start=1):
        target = path if number == 1 else path.with_name(f"{path.stem}-{number}{path.suffix}")
        _write(target, sheet_svg(chunk).encode("utf-8"))
        written.append(target)
    return written


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise cannot_write(path, exc) from exc


# ------------------------------------------------------------------------- from the chain


def batches_of_gtin(chain: Any, deployment: Any, gtin: str | int) -> list[tuple[str, str]]:
    """(gtin14, lot) of every batch of `gtin` recorded by `deployment` that still exists (not
    split, merged or transformed away), in chain order: batches created with the GTIN, and the
    lots split from them (a split keeps the GTIN)."""
    from eth_typing import HexStr

    from provenance.compiler import load_artifact
    from provenance.encoding import to_hex32
    from provenance.gs1 import Gtin, lot_from_bytes32
    from provenance.logs import EventDecoder, Topic, fetch_logs

    wanted = Gtin(gtin)
    decoder = EventDecoder(load_artifact("ProvenanceRegistry").abi)
    registry, start = deployment.registry, int(deployment.deploy_block)
    found: dict[str, tuple[tuple[int, int], str]] = {}  # batch id → (position, lot)
    for event in decoder.decode_all(
        fetch_logs(chain, registry, [decoder.topic("BatchCreated")], start)
    ):
        if Gtin.from_chain(int(event.args["gtin"])) == wanted:
            found[to_hex32(event.args["batchId"])] = (
                event.key,
                lot_from_bytes32(event.args["lot"]),
            )
    level = list(found)
    while level:
        children = []
        for i in range(0, len(level), 100):
            parents = [HexStr(b) for b in level[i : i + 100]]
            topics: list[Topic] = [decoder.topic("BatchSplit"), None, parents]
            for event in decoder.decode_all(fetch_logs(chain, registry, topics, start)):
                child = to_hex32(event.args["childId"])
                if child not in found:
                    found[child] = (event.key, lot_from_bytes32(event.args["lot"]))
                    children.append(child)
        level = children
    consumed: set[str] = set()
    ids = list(found)
    for i in range(0, len(ids), 100):
        batches = [HexStr(b) for b in ids[i : i + 100]]
        consumed_topics: list[Topic] = [decoder.topic("BatchConsumed"), batches]
        for event in decoder.decode_all(fetch_logs(chain, registry, consumed_topics, start)):
            consumed.add(to_hex32(event.args["batchId"]))
    ordered = sorted((key, lot) for bid, (key, lot) in found.items() if bid not in consumed)
    return [(wanted, lot) for _key, lot in ordered]


__all__ = [
    "DEFAULT_RESOLVER",
    "Label",
    "batches_of_gtin",
    "label_png",
    "label_svg",
    "parse_label_ref",
    "sheet_images",
    "sheet_pdf",
    "sheet_svg",
    "write_label",
    "write_labels",
    "write_sheet",
]
