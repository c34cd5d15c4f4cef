"""`label`: QR labels of batches' GS1 Digital Links, one per batch and as printable sheets."""

from __future__ import annotations

from pathlib import Path

import click

from provenance.cli.context import CONTEXT_SETTINGS, Env, pass_env
from provenance.cli.output import console, print_json
from provenance.config import DEFAULT_RESOLVER


@click.command(
    context_settings=CONTEXT_SETTINGS,
    short_help="Print QR labels (GS1 Digital Link) for batches: SVG, PNG, A4 sheets.",
)
@click.argument("refs", nargs=-1, metavar="[BATCH]...")
@click.option(
    "--all-of",
    "all_of",
    metavar="GTIN",
    help="Every batch of this GTIN on the chain that still exists (needs --rpc and a deployment).",
)
@click.option(
    "--resolver",
    default=DEFAULT_RESOLVER,
    show_default=True,
    metavar="URL",
    help="Resolver base the codes point at (the public address of `provenance serve`).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("labels"),
    show_default=True,
    help="Folder for the labels, one <gtin>_<lot>.svg/.png per batch.",
)
@click.option(
    "--format",
    "formats",
    type=click.Choice(["svg", "png"]),
    multiple=True,
    help="Label format (repeatable; default: both).",
)
@click.option(
    "--sheet",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write a printable A4 sheet of all the labels (3 × 4 a page): FILE.pdf (one file) "
    "or FILE.svg (one file a page).",
)
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
@pass_env
def label(
    env: Env,
    refs: tuple[str, ...],
    all_of: str | None,
    resolver: str,
    output: Path,
    formats: tuple[str, ...],
    sheet: Path | None,
    as_json: bool,
) -> None:
    """Write a label for each BATCH: a QR code of its GS1 Digital Link on the --resolver, with
    the GTIN and lot under it in GS1's human-readable form. BATCH is GTIN:LOT or a Digital Link
    (https://…/01/<GTIN>/10/<lot>); --all-of GTIN adds every batch of that GTIN recorded on the
    chain (split lots included, batches split or transformed away left out).

    Scanning a label opens the batch's verification page on the resolver (`provenance serve`).

    \b
    Example:
        provenance label 09521234000013:JAM-2026-01-A --resolver https://id.example.com
        provenance --rpc http://127.0.0.1:8545 label --all-of 09521234000013 --sheet jam.pdf
    """
    from provenance.exceptions import InvalidInput
    from provenance.labels import Label, batches_of_gtin, parse_label_ref, write_labels

    if not refs and not all_of:
        raise click.UsageError("give at least one BATCH (GTIN:LOT or a Digital Link), or --all-of")
    labels = [parse_label_ref(ref, resolver) for ref in refs]
    if all_of:
        found = batches_of_gtin(env.chain(), env.deployment(), all_of)
        if not found:
            raise InvalidInput(f"no batch of GTIN {all_of} is recorded on this chain")
        labels += [Label.of(gtin, lot, resolver) for gtin, lot in found]
    unique = list({item.uri: item for item in labels}.values())
    written, sheets = write_labels(unique, output, formats or ("svg", "png"), sheet)
    if as_json:
        print_json(
            {
                "labels": [
                    {"gtin": i.gtin, "lot": i.lot, "uri": i.uri, "files": written[i.uri]}
                    for i in unique
                ],
                "sheet": sheets,
            }
        )
        return
    for item in unique:
        files = ", ".join(str(path) for path in written[item.uri])
        console.print(f"{item.gtin} {item.lot}: {files}  ({item.uri})")
    for path in sheets:
        console.print(f"sheet: {path}")


COMMANDS = [label]
