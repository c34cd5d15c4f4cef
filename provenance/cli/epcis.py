"""EPCIS 2.0 commands: `epcis import FILE…` and `epcis export`."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any

import click

from provenance.cli.context import CONTEXT_SETTINGS, Env, ProvenanceGroup, pass_env
from provenance.cli.options import BATCH, GTIN, LOT, write_command
from provenance.cli.output import console, print_json

STATUS_STYLE = {
    "recorded": "green",
    "planned": "cyan",
    "already recorded": "dim",
    "duplicate": "dim",
    "rejected": "yellow",
    "failed": "bold red",
}


def _store(path: Path | None) -> Any:
    from provenance.epcis.store import EventStore

    return EventStore(path)


store_option = click.option(
    "--store",
    "store_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="The local EPCIS event store (default: <data dir>/epcis).",
)


@click.group(
    cls=ProvenanceGroup,
    context_settings=CONTEXT_SETTINGS,
    short_help="Import EPCIS 2.0 events onto the chain; export the chain as EPCIS.",
)
def epcis() -> None:
    """Speak GS1 EPCIS 2.0 (JSON-LD): import the events a supplier's systems already produce,
    export the on-chain history that every EPCIS tool reads.

    Every imported event is anchored by its GS1 event hash (the document hash of its on-chain
    record) and kept whole in a local, content-addressed store; `verify` checks the stored
    events against their anchors.

    \b
    Example:
        provenance epcis import shipment.jsonld --account farm --dry-run
        provenance epcis import shipment.jsonld --account farm
        provenance epcis export https://id.gs1.org/01/09506000134352/10/FARM-001 --lineage
    """


@epcis.command("import")
@click.argument("files", nargs=-1, required=True, metavar="FILE…")
@click.option("--dry-run", is_flag=True, help="Print the plan; send nothing, store nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--chunk-size",
    default=150,
    show_default=True,
    type=click.IntRange(1, 500),
    help="Batches per createBatches transaction.",
)
@store_option
@write_command
@pass_env
def import_cmd(
    env: Env,
    files: tuple[str, ...],
    dry_run: bool,
    as_json: bool,
    chunk_size: int,
    store_dir: Path | None,
) -> None:
    """Record the events of EPCIS documents (EPCISDocument or EPCISQueryDocument; `-` reads
    standard input) as the --account participant.

    Commissioning (ObjectEvent ADD with quantityList) becomes batches, shipping with a
    destination a handoff, receiving an acceptance, a TransformationEvent a split, merge or
    transformation, an inspection with certificationInfo an attestation, disposition recalled a
    recall. Every other event is rejected with the reason; nothing is dropped silently. An event
    whose GS1 event hash is already anchored sends nothing, so re-importing is safe, and an
    interrupted import resumes where it stopped.

    Exit code 1 if a transaction failed; rejected events are reported, not errors.

    \b
    Example:
        provenance epcis import events.jsonld --account farm --dry-run
        cat events.jsonld | provenance epcis import - --account farm --json
    """
    from provenance.epcis.document import iter_files
    from provenance.epcis.importer import import_events

    events = list(iter_files(list(files)))
    registry = env.registry(write=True)
    store = _store(store_dir)
    if as_json or not sys.stderr.isatty():
        report = import_events(
            registry, events, store=store, dry_run=dry_run, chunk_size=chunk_size
        )
    else:
        from provenance.cli.output import progress_bar

        with progress_bar("importing EPCIS events", len(events)) as advance:
            report = import_events(
                registry,
                events,
                store=store,
                dry_run=dry_run,
                chunk_size=chunk_size,
                progress=lambda n, _text: advance(n),
            )
    if as_json:
        print_json(report.to_json())
    else:
        render_import(report)
    if not report.ok:
        click.get_current_context().exit(1)


def render_import(report: Any) -> None:
    from rich.markup import escape
    from rich.table import Table

    sources = list(dict.fromkeys(o.source for o in report.outcomes))
    rows = Table(show_header=True, header_style="bold", expand=True)
    rows.add_column("event", no_wrap=True)
    rows.add_column("type", no_wrap=True)
    rows.add_column("status", no_wrap=True)
    rows.add_column("action / reason", ratio=1)
    for outcome in report.outcomes:
        style = STATUS_STYLE.get(outcome.status, "")
        detail = outcome.reason if outcome.status not in ("planned", "recorded") else outcome.action
        label = outcome.label if len(sources) > 1 else f"#{outcome.index + 1}"
        kind = outcome.event_type.removesuffix("Event")
        rows.add_row(escape(label), kind, f"[{style}]{outcome.status}[/]", escape(detail))
    if len(sources) == 1:
        console.print(f"{sources[0]} (importer {report.importer}, chain {report.chain_id})")
    console.print(rows)
    counts = ", ".join(
        f"{report.count(s)} {s}"
        for s in ("planned", "recorded", "already recorded", "duplicate", "rejected", "failed")
        if report.count(s)
    )
    verb = "plan (dry run, nothing sent)" if report.dry_run else "imported"
    speed = (
        f"; {report.transactions} transactions, {report.seconds:.1f} s, "
        f"{report.events_per_second:.0f} events/s"
        if not report.dry_run
        else ""
    )
    console.print(f"{verb}: {counts}{speed}")


@epcis.command("export")
@click.argument("batch_ref", metavar="[BATCH]", type=BATCH, required=False)
@click.option("--gtin", type=GTIN, help="GTIN of the batch (with --lot, instead of BATCH).")
@click.option("--lot", type=LOT, help="Lot of the batch (with --gtin).")
@click.option("--lineage", is_flag=True, help="Also its ancestors and descendants.")
@click.option("--all", "everything", is_flag=True, help="Every event of the deployment.")
@click.option("--from-block", type=click.IntRange(0), help="First block (with --all).")
@click.option("--to-block", type=click.IntRange(0), help="Last block (with --all).")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the document to FILE (default: standard output).",
)
@click.option(
    "--no-store",
    is_flag=True,
    help="Rebuild every event from the chain alone (ignore the local event store).",
)
@store_option
@pass_env
def export_cmd(
    env: Env,
    batch_ref: str | None,
    gtin: str | None,
    lot: str | None,
    lineage: bool,
    everything: bool,
    from_block: int | None,
    to_block: int | None,
    output: Path | None,
    no_store: bool,
    store_dir: Path | None,
) -> None:
    """Write the on-chain history as an EPCIS 2.0 EPCISDocument (JSON-LD): one batch (id or
    Digital Link, or --gtin/--lot), with --lineage its ancestors and descendants, or --all (or a
    --from-block/--to-block range) of the deployment. Read-only: needs no key.

    Events imported on this machine come back exactly as imported (same eventID, from the local
    store); the others are rebuilt from the chain per the design table, with an eventID equal
    to their GS1 event hash. Every event carries its chain coordinates (prv:onChain). The
    document is streamed: memory stays flat for any length of history.

    \b
    Example:
        provenance epcis export https://id.gs1.org/01/09506000134352/10/FARM-001 --lineage
        provenance epcis export --all --from-block 100 -o history.jsonld
    """
    from provenance.config import open_output
    from provenance.epcis.export import export
    from provenance.gs1 import batch_id

    if sum(bool(x) for x in (batch_ref, gtin or lot, everything)) > 1:
        raise click.UsageError("give one of BATCH, --gtin/--lot or --all")
    bid: str | None = None
    if batch_ref:
        bid = batch_ref
    elif gtin or lot:
        if not (gtin and lot):
            raise click.UsageError("--gtin and --lot go together")
        bid = batch_id(gtin, lot)
    elif not everything and from_block is None and to_block is None:
        raise click.UsageError("give a BATCH, --gtin/--lot, or --all (optionally with a range)")
    if bid is not None and (from_block is not None or to_block is not None):
        raise click.UsageError("--from-block/--to-block go with --all")
    if lineage and bid is None:
        raise click.UsageError("--lineage needs a batch")
    registry = env.registry()
    store = None if no_store else _store(store_dir)
    handle = open_output(output) if output else sys.stdout
    run = functools.partial(
        export,
        registry,
        handle,
        batch=bid,
        lineage=lineage,
        from_block=from_block,
        to_block=to_block,
        store=store,
    )
    try:
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                Progress,
                TaskProgressColumn,
                TextColumn,
                TimeRemainingColumn,
            )

            with Progress(
                TextColumn("exporting blocks"),
                BarColumn(),
                TaskProgressColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            ) as bar:
                task = bar.add_task("export", total=None)
                stats = run(
                    progress=lambda done, total: bar.update(task, completed=done, total=total)
                )
        else:
            stats = run()
    finally:
        if output:
            handle.close()
    note = f"{stats.events} events ({stats.stored} from the local store, {stats.rebuilt} rebuilt"
    note += " from the chain)"
    if stats.mismatched:
        note += (
            f"; {len(stats.mismatched)} stored events no longer match their anchors (rebuilt "
            "from the chain instead; run `provenance verify`)"
        )
    click.echo(note, err=True)


COMMANDS = [epcis]
