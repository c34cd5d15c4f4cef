"""Supplier commands for batches: `batch create|create-many|show|split|merge|transform|recall|
lift-recall`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from provenance.cli._common import (
    CONTEXT_SETTINGS,
    Env,
    ProvenanceGroup,
    console,
    doc_options,
    document_hash,
    json_object,
    json_option,
    parse_batch_ref,
    pass_env,
    positive_int,
    print_json,
    show_tx,
    write_command,
)


@click.group(
    cls=ProvenanceGroup,
    context_settings=CONTEXT_SETTINGS,
    short_help="Create, show, split, merge, transform and recall batches.",
)
def batch() -> None:
    """Create batches (GTIN + lot) and change them: split, merge, transform, recall.

    A batch id is keccak256(abi.encode(gtin, lot)); commands also take its GS1 Digital Link.
    Only the holder of a GTIN's company prefix creates batches of it; the lots a split or merge
    creates extend the parent's lot (FARM-001 → FARM-001-A).

    \b
    Example:
        provenance batch create --gtin 09506000134352 --lot FARM-001 --quantity 1000 \\
            --uom KGM --account farm
        provenance batch show https://id.gs1.org/01/09506000134352/10/FARM-001
    """


@batch.command()
@click.option("--gtin", required=True, help="GTIN-8/12/13/14 with a valid check digit.")
@click.option("--lot", required=True, help="Lot number (GS1 AI 10): 1–20 characters.")
@click.option("--quantity", "-q", required=True, help="How much, in --uom units (> 0).")
@click.option(
    "--uom",
    default="KGM",
    show_default=True,
    help="UN/ECE Rec. 20 unit: KGM, GRM, LTR, H87 (piece)…",
)
@doc_options
@json_option
@write_command
@pass_env
def create(
    env: Env,
    gtin: str,
    lot: str,
    quantity: str,
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
    from provenance.types import (
        digital_link,
        normalize_gtin,
        validate_lot,
        validate_uom,
    )

    gtin14 = normalize_gtin(gtin)
    lot = validate_lot(lot)
    qty = positive_int(quantity, "quantity")
    unit = validate_uom(uom)
    document = document_hash(doc, doc_hash)
    bid, result = env.registry(write=True).create_batch(gtin14, lot, qty, unit, document)
    if as_json:
        print_json({"batchId": bid, "digitalLink": digital_link(gtin14, lot), "tx": result})
        return
    show_tx(result, "created batch")
    console.print(f"batch id      {bid}\ndigital link  {digital_link(gtin14, lot)}")


@batch.command()
@click.argument("batch_ref", metavar="BATCH")
@json_option
@pass_env
def show(env: Env, batch_ref: str, as_json: bool) -> None:
    """Show a batch's current state: lot, custodian, owner, origin, pending handoff or tender,
    the agreement it is bound to, quantity, recall of it or an ancestor.

    BATCH is a batch id or a GS1 Digital Link. For the whole history use `provenance verify`.

    \b
    Example:
        provenance batch show 0x5f…  --json
        provenance batch show https://id.gs1.org/01/09506000134352/10/FARM-001
    """
    from provenance.exceptions import NotFoundError

    bid = parse_batch_ref(batch_ref)
    registry = env.registry()
    info = registry.get_batch(bid)
    if not info.exists:
        raise NotFoundError(f"unknown batch {bid}: create it first with `provenance batch create`")
    parents = registry.parents_of(bid)
    lot = registry.lot_of(bid)
    agreement = env.agreements().agreement_of_batch(bid) if info.bound else None
    data = {**json_object(info), "lot": lot, "parents": list(parents), "agreement": agreement}
    if as_json:
        print_json(data)
        return
    flags = [f for f, on in (("RECALLED", info.recalled),
                             ("ANCESTOR RECALLED", info.lineage_recalled)) if on]  # fmt: skip
    console.print(f"batch      {bid}")
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


def _parse_part(text: str) -> tuple[str, int]:
    from provenance.exceptions import InvalidInput
    from provenance.types import validate_lot

    lot, sep, qty = text.rpartition(":")
    if not sep or not lot:
        raise InvalidInput(f"invalid --part {text!r}: expected LOT:QUANTITY, e.g. L1-A:400")
    return validate_lot(lot), positive_int(qty, f"quantity of part {lot}")


@batch.command()
@click.argument("batch_ref", metavar="BATCH")
@click.option(
    "--part",
    "parts",
    multiple=True,
    required=True,
    metavar="LOT:QTY",
    help="A child batch (repeat for each); quantities + --loss must equal the parent's.",
)
@click.option(
    "--loss",
    default=0,
    type=click.IntRange(min=0),
    show_default=True,
    help="Quantity lost in the split.",
)
@doc_options
@json_option
@write_command
@pass_env
def split(
    env: Env,
    batch_ref: str,
    parts: tuple[str, ...],
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
    from provenance.exceptions import InvalidInput

    bid = parse_batch_ref(batch_ref)
    parsed = [_parse_part(p) for p in parts]
    registry = env.registry(write=True)
    parent = registry.require_batch(bid)
    total = sum(q for _, q in parsed) + loss
    if parent.active and total != parent.quantity:
        raise InvalidInput(
            f"split quantities do not add up: parts {sum(q for _, q in parsed)} + loss "
            f"{loss} = {total}, but batch {bid} holds {parent.quantity} {parent.uom}"
        )
    children, result = registry.split_batch(bid, parsed, loss, document_hash(doc, doc_hash))
    if as_json:
        print_json({"parent": bid, "children": children, "tx": result})
        return
    show_tx(result, f"split {bid}")
    for (lot, qty), child in zip(parsed, children, strict=False):
        console.print(f"  child {lot}: {qty} → {child}")


@batch.command()
@click.argument("batch_refs", metavar="BATCH...", nargs=-1, required=True)
@click.option("--lot", required=True, help="Lot of the merged batch.")
@click.option(
    "--loss",
    default=0,
    type=click.IntRange(min=0),
    show_default=True,
    help="Quantity lost in the merge.",
)
@doc_options
@json_option
@write_command
@pass_env
def merge(
    env: Env,
    batch_refs: tuple[str, ...],
    lot: str,
    loss: int,
    doc: Path | None,
    doc_hash: str | None,
    as_json: bool,
) -> None:
    """Merge batches of the same GTIN, unit, owner and origin into one new batch whose --lot
    extends the first batch's lot.

    \b
    Example:
        provenance batch merge 0x5f… 0x7a… --lot FARM-001-M --account processor
    """
    from provenance.exceptions import InvalidInput
    from provenance.types import validate_lot

    ids = [parse_batch_ref(r) for r in batch_refs]
    if len(ids) < 2:
        raise InvalidInput("merge needs at least two batches")
    child, result = env.registry(write=True).merge_batches(
        ids, validate_lot(lot), loss, document_hash(doc, doc_hash)
    )
    if as_json:
        print_json({"parents": ids, "child": child, "tx": result})
        return
    show_tx(result, f"merged {len(ids)} batches")
    console.print(f"  merged batch {child}")


def _parse_output(text: str, default_uom: str) -> tuple[str, str, int, str]:
    from provenance.exceptions import InvalidInput
    from provenance.types import normalize_gtin, validate_lot, validate_uom

    fields = text.split(":")
    if len(fields) not in (3, 4):
        raise InvalidInput(
            f"invalid --output {text!r}: expected GTIN:LOT:QUANTITY[:UOM], "
            "e.g. 09506000134369:JAM-1:200:H87"
        )
    uom = fields[3] if len(fields) == 4 else default_uom
    return (
        normalize_gtin(fields[0]),
        validate_lot(fields[1]),
        positive_int(fields[2], f"quantity of output {fields[1]}"),
        validate_uom(uom),
    )


@batch.command()
@click.argument("batch_refs", metavar="INPUT...", nargs=-1, required=True)
@click.option(
    "--output",
    "outputs",
    multiple=True,
    required=True,
    metavar="GTIN:LOT:QTY[:UOM]",
    help="A product batch to create (repeat for each).",
)
@click.option("--uom", default="H87", show_default=True, help="Default unit for outputs.")
@doc_options
@json_option
@write_command
@pass_env
def transform(
    env: Env,
    batch_refs: tuple[str, ...],
    outputs: tuple[str, ...],
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

    ids = [parse_batch_ref(r) for r in batch_refs]
    parsed = [_parse_output(o, uom) for o in outputs]
    products, result = env.registry(write=True).transform_batches(
        ids, [TransformOutput(*o) for o in parsed], document_hash(doc, doc_hash)
    )
    if as_json:
        print_json({"inputs": ids, "outputs": products, "tx": result})
        return
    show_tx(result, f"transformed {len(ids)} batch(es)")
    for (g, lot, qty, unit), product in zip(parsed, products, strict=True):
        console.print(f"  product {g}/{lot}: {qty} {unit} → {product}")


@batch.command()
@click.argument("batch_ref", metavar="BATCH")
@click.option("--reason", required=True, help="Why (short text or 0x hash); shown to customers.")
@doc_options
@write_command
@pass_env
def recall(env: Env, batch_ref: str, reason: str, doc: Path | None, doc_hash: str | None) -> None:
    """Recall BATCH: it and everything made from it (splits, merges, transformations) are frozen
    and fail verification. Its origin (the producer, or the transformer of a product) while
    active, or the operator, may recall.

    \b
    Example:
        provenance batch recall 0x5f… --reason "listeria found" --doc recall-notice.pdf \\
            --account farm
    """
    bid = parse_batch_ref(batch_ref)
    result = env.registry(write=True).recall_batch(bid, reason, document_hash(doc, doc_hash))
    show_tx(result, f"recalled {bid}")


@batch.command("lift-recall")
@click.argument("batch_ref", metavar="BATCH")
@click.option("--reason", required=True, help="Why the recall was a mistake (text or 0x hash).")
@doc_options
@write_command
@pass_env
def lift_recall(
    env: Env, batch_ref: str, reason: str, doc: Path | None, doc_hash: str | None
) -> None:
    """Lift a mistaken recall of BATCH (operator only): it and its descendants move again;
    verification reports the lifted recall.

    \b
    Example:
        provenance batch lift-recall 0x5f… --reason "false positive" --doc lab-report.pdf \\
            --account dev:0
    """
    bid = parse_batch_ref(batch_ref)
    result = env.registry(write=True).lift_recall(bid, reason, document_hash(doc, doc_hash))
    show_tx(result, f"lifted the recall of {bid}")


def _read_batches(path: Path, default_uom: str) -> list[Any]:
    """NewBatch records from a CSV (header gtin,lot,quantity[,uom][,document]) or a JSON list
    of objects with the same keys."""
    import csv
    import json

    from provenance.exceptions import InvalidInput
    from provenance.types import ZERO32, NewBatch

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from exc
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
                    quantity=positive_int(str(row["quantity"]).strip(), "quantity"),
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
@click.option("--uom", default="KGM", show_default=True, help="Unit when a row gives none.")
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
    from provenance.types import digital_link

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
