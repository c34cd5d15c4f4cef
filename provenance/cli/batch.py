"""Supplier commands for batches: `batch create|create-many|show|split|merge|transform|recall|
lift-recall`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from provenance.cli.context import CONTEXT_SETTINGS, Env, ProvenanceGroup, pass_env
from provenance.cli.options import (
    BATCH,
    GTIN,
    LOT,
    UOM,
    UOM_HELP,
    LibraryType,
    QuantityType,
    Text32Type,
    doc_options,
    document_hash,
    json_option,
    write_command,
)
from provenance.cli.output import console, json_object, print_json, show_tx


@click.group(
    cls=ProvenanceGroup,
    context_settings=CONTEXT_SETTINGS,
    short_help="Create, show, split, merge, transform and recall batches.",
)
def batch() -> None:
    """Create batches (GTIN + lot) and change them: split, merge, transform, recall.

    A batch id is keccak256(abi.encode(gtin, lot)); commands also take its GS1 Digital Link
    (https://id.gs1.org/01/<GTIN>/10/<lot>, any host) or the short form 01/<GTIN>/10/<lot>.
    Only the holder of a GTIN's company prefix creates batches of it; the lots a split or merge
    creates extend the parent's lot (FARM-001 → FARM-001-A).

    \b
    Example:
        provenance batch create --gtin 09506000134352 --lot FARM-001 --quantity 1000 \\
            --uom KGM --account farm
        provenance batch show https://id.gs1.org/01/09506000134352/10/FARM-001
    """


@batch.command()
@click.option("--gtin", type=GTIN, required=True, help="GTIN-8/12/13/14 with a valid check digit.")
@click.option("--lot", type=LOT, required=True, help="Lot number (GS1 AI 10): 1–20 characters.")
@click.option(
    "--quantity", "-q", type=QuantityType(), required=True, help="How much, in --uom units (> 0)."
)
@click.option("--uom", type=UOM, default="KGM", show_default=True, help=UOM_HELP)
@doc_options
@json_option
@write_command
@pass_env
def create(
    env: Env,
    gtin: str,
    lot: str,
    quantity: int,
    uom: str,
    doc: Path | None,
    doc_hash: str | None,
    as_json: bool,
) -> None:
    """Create a batch; the caller (an active producer holding the GTIN's company prefix) becomes
    its origin (recall right), owner and custodian.

    \b
    Example:
        provenance batch create --gtin 09506000134352 --lot FARM-001 --quantity 1000 \\
            --uom KGM --doc harvest-report.pdf --account farm
    """
    from provenance.gs1 import digital_link

    document = document_hash(doc, doc_hash)
    bid, result = env.registry(write=True).create_batch(gtin, lot, quantity, uom, document)
    link = digital_link(gtin, lot)
    if as_json:
        print_json({"batchId": bid, "digitalLink": link, "tx": result})
        return
    show_tx(result, "created batch")
    console.print(f"batch id      {bid}")
    console.print(f"digital link  {link}")


@batch.command()
@click.argument("batch_id", metavar="BATCH", type=BATCH)
@json_option
@pass_env
def show(env: Env, batch_id: str, as_json: bool) -> None:
    """Show a batch's current state: lot, custodian, owner, origin, pending handoff or tender,
    the agreement it is bound to, quantity, recall of it or an ancestor.

    BATCH is a batch id or a GS1 Digital Link. For the whole history use `provenance verify`.

    \b
    Example:
        provenance batch show 0x5f…  --json
        provenance batch show https://id.gs1.org/01/09506000134352/10/FARM-001
    """
    registry = env.registry()
    info = registry.require_batch(batch_id)
    parents = registry.parents_of(batch_id)
    lot = registry.lot_of(batch_id)
    agreement = env.agreements().agreement_of_batch(batch_id) if info.bound else None
    data = {**json_object(info), "lot": lot, "parents": list(parents), "agreement": agreement}
    if as_json:
        print_json(data)
        return
    flags = [f for f, on in (("RECALLED", info.recalled),
                             ("ANCESTOR RECALLED", info.lineage_recalled)) if on]  # fmt: skip
    console.print(f"batch      {batch_id}")
    console.print(f"GTIN/lot   {info.gtin} / {lot}")
    console.print(f"quantity   {info.quantity} {info.uom}")
    console.print(f"state      {info.state.name}{''.join('  ' + f for f in flags)}")
    console.print(f"custodian  {info.custodian}")
    console.print(f"owner      {info.owner}")
    console.print(f"origin     {info.origin} (holds the recall right)")
    if info.bound:
        console.print(f"bound      delivery to buyer {info.bound_to} under agreement {agreement}")
    if info.pending_to:
        kind = " (the tender)" if info.tender_leg else ""
        kind += " (with ownership)" if info.pending_ownership else ""
        console.print(f"pending    handoff to {info.pending_to}{kind}")
    for parent in parents:
        console.print(f"parent     {parent}")


class PartType(LibraryType):
    """LOT:QUANTITY, one child of a split."""

    name = "lot:qty"

    def parse(self, value: str) -> Any:
        from provenance.exceptions import InvalidInput
        from provenance.gs1 import Lot
        from provenance.units import Quantity

        lot, sep, qty = value.rpartition(":")
        if not sep or not lot:
            raise InvalidInput(f"invalid --part {value!r}: expected LOT:QUANTITY, e.g. L1-A:400")
        return Lot(lot), Quantity(qty, f"quantity of part {lot}")


class OutputType(LibraryType):
    """GTIN:LOT:QUANTITY[:UOM], one product of a transformation."""

    name = "gtin:lot:qty[:uom]"

    def parse(self, value: str) -> Any:
        from provenance.exceptions import InvalidInput
        from provenance.gs1 import Gtin, Lot
        from provenance.units import Quantity, Uom

        fields = value.split(":")
        if len(fields) not in (3, 4):
            raise InvalidInput(
                f"invalid --output {value!r}: expected GTIN:LOT:QUANTITY[:UOM], "
                "e.g. 09506000134369:JAM-1:200:H87"
            )
        uom = Uom(fields[3]) if len(fields) == 4 else None
        return (
            Gtin(fields[0]),
            Lot(fields[1]),
            Quantity(fields[2], f"quantity of output {fields[1]}"),
            uom,
        )


@batch.command()
@click.argument("batch_id", metavar="BATCH", type=BATCH)
@click.option(
    "--part",
    "parts",
    type=PartType(),
    multiple=True,
    required=True,
    help="A child batch (repeat for each); quantities + --loss must equal the parent's.",
)
@click.option(
    "--loss",
    type=QuantityType("loss", allow_zero=True),
    default="0",
    show_default=True,
    help="Quantity lost in the split.",
)
@doc_options
@json_option
@write_command
@pass_env
def split(
    env: Env,
    batch_id: str,
    parts: tuple[tuple[str, int], ...],
    loss: int,
    doc: Path | None,
    doc_hash: str | None,
    as_json: bool,
) -> None:
    """Split BATCH into child batches (same GTIN); you must be its custodian. Each child's lot
    extends BATCH's lot (looked up from the chain's events).

    \b
    Example:
        provenance batch split 0x5f… --part FARM-001-A:600 --part FARM-001-B:390 --loss 10 \\
            --account farm
    """
    registry = env.registry(write=True)
    children, result = registry.split_batch(
        batch_id, list(parts), loss, document_hash(doc, doc_hash)
    )
    if as_json:
        print_json({"parent": batch_id, "children": children, "tx": result})
        return
    show_tx(result, f"split {batch_id}")
    for (lot, qty), child in zip(parts, children, strict=False):
        console.print(f"  child {lot}: {qty} → {child}")


@batch.command()
@click.argument("batch_ids", metavar="BATCH...", type=BATCH, nargs=-1, required=True)
@click.option("--lot", type=LOT, required=True, help="Lot of the merged batch.")
@click.option(
    "--loss",
    type=QuantityType("loss", allow_zero=True),
    default="0",
    show_default=True,
    help="Quantity lost in the merge (less than the inputs' total).",
)
@doc_options
@json_option
@write_command
@pass_env
def merge(
    env: Env,
    batch_ids: tuple[str, ...],
    lot: str,
    loss: int,
    doc: Path | None,
    doc_hash: str | None,
    as_json: bool,
) -> None:
    """Merge distinct batches of the same GTIN, unit, owner and origin into one new batch whose
    --lot extends the first batch's lot.

    \b
    Example:
        provenance batch merge 0x5f… 0x7a… --lot FARM-001-M --account processor
    """
    child, result = env.registry(write=True).merge_batches(
        list(batch_ids), lot, loss, document_hash(doc, doc_hash)
    )
    if as_json:
        print_json({"parents": list(batch_ids), "child": child, "tx": result})
        return
    show_tx(result, f"merged {len(batch_ids)} batches")
    console.print(f"  merged batch {child}")


@batch.command()
@click.argument("batch_ids", metavar="INPUT...", type=BATCH, nargs=-1, required=True)
@click.option(
    "--output",
    "outputs",
    type=OutputType(),
    multiple=True,
    required=True,
    help="A product batch to create (repeat for each).",
)
@click.option("--uom", type=UOM, default="H87", show_default=True, help="Default unit for outputs.")
@doc_options
@json_option
@write_command
@pass_env
def transform(
    env: Env,
    batch_ids: tuple[str, ...],
    outputs: tuple[tuple[str, str, int, str | None], ...],
    uom: str,
    doc: Path | None,
    doc_hash: str | None,
    as_json: bool,
) -> None:
    """Consume INPUT batches whole and create product batches (new GTINs allowed).

    You must be custodian of every input, an active processor (or producer), and hold the
    company prefix of every output GTIN; you become the products' origin (recall right).

    \b
    Example:
        provenance batch transform 0x5f… --output 09506000134369:JAM-1:200:H87 \\
            --doc recipe.pdf --account processor
    """
    from provenance.registry import TransformOutput

    parsed = [(g, lot, qty, unit or uom) for g, lot, qty, unit in outputs]
    products, result = env.registry(write=True).transform_batches(
        list(batch_ids), [TransformOutput(*o) for o in parsed], document_hash(doc, doc_hash)
    )
    if as_json:
        print_json({"inputs": list(batch_ids), "outputs": products, "tx": result})
        return
    show_tx(result, f"transformed {len(batch_ids)} batch(es)")
    for (g, lot, qty, unit), product in zip(parsed, products, strict=True):
        console.print(f"  product {g}/{lot}: {qty} {unit} → {product}")


@batch.command()
@click.argument("batch_id", metavar="BATCH", type=BATCH)
@click.option(
    "--reason",
    type=Text32Type("the recall reason", required=True),
    required=True,
    help="Why (short text or 0x hash; not empty): customers see it.",
)
@doc_options
@write_command
@pass_env
def recall(env: Env, batch_id: str, reason: str, doc: Path | None, doc_hash: str | None) -> None:
    """Recall BATCH: it and everything made from it (splits, merges, transformations) are frozen
    and fail verification. Its origin (the producer, or the transformer of a product) while
    active, or the operator, may recall.

    \b
    Example:
        provenance batch recall 0x5f… --reason "listeria found" --doc recall-notice.pdf \\
            --account farm
    """
    result = env.registry(write=True).recall_batch(batch_id, reason, document_hash(doc, doc_hash))
    show_tx(result, f"recalled {batch_id}")


@batch.command("lift-recall")
@click.argument("batch_id", metavar="BATCH", type=BATCH)
@click.option(
    "--reason",
    type=Text32Type("the reason for lifting the recall", required=True),
    required=True,
    help="Why the recall was a mistake (text or 0x hash; not empty).",
)
@doc_options
@write_command
@pass_env
def lift_recall(
    env: Env, batch_id: str, reason: str, doc: Path | None, doc_hash: str | None
) -> None:
    """Lift a mistaken recall of BATCH (operator only): it and its descendants move again;
    verification reports the lifted recall.

    \b
    Example:
        provenance batch lift-recall 0x5f… --reason "false positive" --doc lab-report.pdf \\
            --account dev:0
    """
    result = env.registry(write=True).lift_recall(batch_id, reason, document_hash(doc, doc_hash))
    show_tx(result, f"lifted the recall of {batch_id}")


def _read_batches(path: Path, default_uom: str) -> list[Any]:
    """NewBatch records from a CSV (header gtin,lot,quantity[,uom][,document]) or a JSON list
    of objects with the same keys."""
    import csv
    import json

    from provenance.encoding import ZERO32
    from provenance.exceptions import InvalidInput
    from provenance.records import NewBatch

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path} is not UTF-8 text: {exc.reason}") from exc
    if path.suffix.lower() == ".json":
        try:
            rows = json.loads(text)
        except ValueError as exc:
            raise InvalidInput(f"{path} is not valid JSON: {exc}") from exc
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise InvalidInput(f"{path}: expected a JSON list of objects (gtin, lot, quantity)")
    else:
        rows = list(csv.DictReader(text.splitlines()))
    batches = []
    for number, row in enumerate(rows, start=1):
        missing = [key for key in ("gtin", "lot", "quantity") if not str(row.get(key) or "")]
        if missing:
            raise InvalidInput(f"{path}, entry {number}: missing {', '.join(missing)}")
        try:
            batches.append(
                NewBatch(
                    gtin=str(row["gtin"]).strip(),
                    lot=str(row["lot"]).strip(),
                    quantity=str(row["quantity"]).strip(),  # type: ignore[arg-type]
                    uom=str(row.get("uom") or default_uom).strip(),
                    document=str(row.get("document") or ZERO32).strip(),
                )
            )
        except InvalidInput as exc:
            raise InvalidInput(f"{path}, entry {number}: {exc}") from exc
    if not batches:
        raise InvalidInput(f"{path} lists no batches")
    return batches


@batch.command("create-many")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--uom", type=UOM, default="KGM", show_default=True, help="Unit of rows without one.")
@json_option
@write_command
@pass_env
def create_many(env: Env, file: Path, uom: str, as_json: bool) -> None:
    """Create every batch listed in FILE in one transaction: a CSV with the header
    gtin,lot,quantity[,uom][,document] (document = 0x hash) or a JSON list of such objects.

    \b
    Example:
        provenance batch create-many harvest.csv --account farm
    """
    from provenance.gs1 import digital_link

    batches = _read_batches(file, uom)
    ids, result = env.registry(write=True).create_batches(batches)
    if as_json:
        print_json(
            {
                "batches": [
                    {"batchId": bid, "digitalLink": digital_link(b.gtin, b.lot)}
                    for b, bid in zip(batches, ids, strict=True)
                ],
                "tx": result,
            }
        )
        return
    show_tx(result, f"created {len(ids)} batches")
    for b, bid in zip(batches, ids, strict=True):
        console.print(f"  {b.gtin}/{b.lot}: {b.quantity} {b.uom} → {bid}")


COMMANDS = [batch]
