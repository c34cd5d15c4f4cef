"""`docs hash`: the document hashes that batches, handoffs and agreements anchor on chain."""

from __future__ import annotations

from pathlib import Path

import click

from provenance.cli._common import (
    CONTEXT_SETTINGS,
    ProvenanceGroup,
    console,
    json_option,
    print_json,
    table,
)


@click.group(
    cls=ProvenanceGroup,
    context_settings=CONTEXT_SETTINGS,
    short_help="Hash documents to anchor them on chain.",
)
def docs() -> None:
    """Work with documents (certificates, bills of lading, contracts) anchored by hash.

    \b
    Example:
        provenance docs hash invoice.pdf
    """


@docs.command("hash")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@json_option
def hash_(files: tuple[Path, ...], as_json: bool) -> None:
    """Print the keccak256 hash of each FILE, as anchored on chain with --doc.

    \b
    Example:
        provenance docs hash certificate.pdf bill-of-lading.pdf
        provenance batch create --gtin 09506000134352 --lot L1 --quantity 100 --doc certificate.pdf
    """
    from provenance.types import hash_file

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


COMMANDS = [docs]
