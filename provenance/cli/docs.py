"""`docs hash`: the document hashes that batches, handoffs and agreements anchor on chain."""

from __future__ import annotations

from pathlib import Path

import click

from provenance.cli.context import CONTEXT_SETTINGS, ProvenanceGroup
from provenance.cli.options import json_option
from provenance.cli.output import console, print_json, table


@click.group(
    cls=ProvenanceGroup,
    context_settings=CONTEXT_SETTINGS,
    short_help="Hash documents to anchor them on chain; list the accepted units.",
)
def docs() -> None:
    """Work with documents (certificates, bills of lading, contracts) anchored by hash, and
    look up the units of measure batches and agreements accept.

    \b
    Example:
        provenance docs hash invoice.pdf
        provenance docs units
    """


@docs.command("hash")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@json_option
def hash_(files: tuple[Path, ...], as_json: bool) -> None:
    """Print the keccak256 hash of each FILE, as anchored on chain with --doc. Files are read
    in chunks: their size does not matter.

    \b
    Example:
        provenance docs hash certificate.pdf bill-of-lading.pdf
        provenance batch create --gtin 09506000134352 --lot L1 --quantity 100 --doc certificate.pdf
    """
    from provenance.encoding import hash_file

    hashes = [(str(path), hash_file(path)) for path in files]
    if as_json:
        print_json([{"file": name, "hash": value} for name, value in hashes])
        return
    if len(hashes) == 1:
        click.echo(hashes[0][1])
        return
    out = table("file", "keccak256")
    for name, value in hashes:
        out.add_row(name, value)
    console.print(out)


@docs.command("units")
@json_option
def units(as_json: bool) -> None:
    """List the UN/ECE Recommendation 20 unit codes that batches and agreements accept (any
    other code is refused; units written by other clients are shown as stored).

    \b
    Example:
        provenance docs units --json
    """
    from provenance.units import UNITS

    if as_json:
        print_json([{"code": code, "name": name} for code, name in UNITS.items()])
        return
    out = table("code", "unit")
    for code, name in UNITS.items():
        out.add_row(code, name)
    console.print(out)


COMMANDS = [docs]
