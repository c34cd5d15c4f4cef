"""Supplier commands for signing keys: `account new|import|list` (encrypted keystores)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from provenance.cli._common import (
    CONTEXT_SETTINGS,
    Env,
    ProvenanceGroup,
    console,
    json_option,
    pass_env,
    password_file_option,
    print_json,
    table,
)

if TYPE_CHECKING:
    from provenance.accounts import Keystore


@click.group(
    cls=ProvenanceGroup,
    context_settings=CONTEXT_SETTINGS,
    short_help="Encrypted keystore accounts: new, import, list.",
)
def account() -> None:
    """Encrypted keystore accounts (<data dir>/keystore/<name>.json). Keys never leave them
    unencrypted and are never printed.

    \b
    Example:
        provenance account new farm
        provenance account list
    """


@account.command()
@click.argument("name")
@password_file_option
@json_option
@pass_env
def new(env: Env, name: str, as_json: bool) -> None:
    """Create a new key, encrypted with a password, stored as keystore NAME.

    \b
    Example:
        provenance account new farm
        PROVENANCE_PASSWORD=secret provenance account new carrier
    """
    from provenance.accounts import Keystore, validate_name

    store = Keystore()
    _refuse_existing(store, validate_name(name))
    info = store.create(name, env.password("New keystore password", confirm=True))
    if as_json:
        print_json(info)
        return
    console.print(f"created keystore {info.name}: {info.address}")


@account.command("import")
@click.argument("name")
@click.option(
    "--key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the private key (hex) from FILE instead of a hidden prompt.",
)
@password_file_option
@json_option
@pass_env
def import_(env: Env, name: str, key_file: Path | None, as_json: bool) -> None:
    """Import an existing private key as keystore NAME (the key is read from a hidden prompt or
    --key-file, never from the command line).

    \b
    Example:
        provenance account import farm --key-file farm.key
    """
    from provenance.accounts import Keystore, parse_private_key, read_private_key, validate_name

    store = Keystore()
    _refuse_existing(store, validate_name(name))
    if key_file is not None:
        key = read_private_key(key_file)
    else:
        key = parse_private_key(str(click.prompt("Private key (hex)", hide_input=True)))
    info = store.import_account(name, key, env.password("New keystore password", confirm=True))
    del key
    if as_json:
        print_json(info)
        return
    console.print(f"imported keystore {info.name}: {info.address}")


@account.command("list")
@json_option
def list_(as_json: bool) -> None:
    """List keystore accounts (names and addresses only). dev:0 … dev:9 are always available on
    local chains.

    \b
    Example:
        provenance account list --json
    """
    from provenance.accounts import Keystore

    found = Keystore().list()
    if as_json:
        print_json(found)
        return
    if not found:
        console.print("no keystore accounts yet: create one with `provenance account new NAME`")
        return
    out = table("name", "address")
    for info in found:
        out.add_row(info.name, info.address)
    console.print(out)


def _refuse_existing(store: Keystore, name: str) -> None:
    """Fail before asking for a password that would be thrown away."""
    from provenance.exceptions import KeystoreError

    if store.exists(name):
        raise KeystoreError(f"a keystore named {name!r} already exists: pick another name")


COMMANDS = [account]
