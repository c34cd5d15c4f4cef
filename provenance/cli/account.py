"""Supplier commands for signing keys: `account new|import|list` (encrypted keystores), and
`account balance|fund` (ETH to pay for gas)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from provenance.cli.context import CONTEXT_SETTINGS, Env, ProvenanceGroup, pass_env
from provenance.cli.options import AmountType, json_option, password_file_option, write_command
from provenance.cli.output import console, format_eth, print_json, show_tx, table

if TYPE_CHECKING:
    from provenance.accounts import Keystore


@click.group(
    cls=ProvenanceGroup,
    context_settings=CONTEXT_SETTINGS,
    short_help="Encrypted keystore accounts: new, import, list, balance, fund.",
)
def account() -> None:
    """Encrypted keystore accounts (<data dir>/keystore/<name>.json). Keys never leave them
    unencrypted and are never printed. A new account holds no ETH: fund it before its first
    transaction.

    \b
    Example:
        provenance account new farm
        provenance account fund farm --amount 1eth --account dev:0
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
    from provenance.accounts import Keystore, keystore_dir, validate_name

    store = Keystore(keystore_dir(env.session.root))
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
    from provenance.accounts import (
        Keystore,
        keystore_dir,
        parse_private_key,
        read_private_key,
        validate_name,
    )

    store = Keystore(keystore_dir(env.session.root))
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
@pass_env
def list_(env: Env, as_json: bool) -> None:
    """List keystore accounts (names and addresses only). A file in the keystore folder that
    cannot be used (truncated, not a keystore) is listed too, with what is wrong: restore it from
    a backup. dev:0 … dev:9 are always available on local chains.

    \b
    Example:
        provenance account list --json
    """
    from provenance.accounts import Keystore, keystore_dir

    found = Keystore(keystore_dir(env.session.root)).list()
    if as_json:
        print_json(found)
        return
    if not found:
        console.print("no keystore accounts yet: create one with `provenance account new NAME`")
        return
    out = table("name", "address", "state")
    for info in found:
        state = "ok" if info.usable else f"DAMAGED: {info.problem}"
        out.add_row(info.name, info.address or "?", state)
    console.print(out)
    damaged = [info for info in found if not info.usable]
    if damaged:
        names = ", ".join(info.name for info in damaged)
        env.stderr.print(
            f"warning: {len(damaged)} keystore file(s) cannot be used ({names}): restore them "
            "from your backup"
        )


@account.command()
@click.argument("target", metavar="NAME|ADDRESS")
@json_option
@pass_env
def balance(env: Env, target: str, as_json: bool) -> None:
    """Show the ETH balance of a keystore account, an address, or dev:N.

    \b
    Example:
        provenance account balance farm
        provenance account balance 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --json
    """
    from provenance.accounts import Keystore, address_of, keystore_dir

    address = address_of(target, keystore=Keystore(keystore_dir(env.session.root)))
    wei = env.chain().balance(address)
    if as_json:
        print_json({"address": address, "balance_wei": str(wei), "balance": format_eth(wei)})
        return
    console.print(f"{address}: {format_eth(wei)}")


@account.command()
@click.argument("target", metavar="NAME|ADDRESS")
@click.option(
    "--amount",
    type=AmountType("--amount", positive=True),
    required=True,
    help="How much ETH to send, exact: 1eth, 0.5eth, 20gwei, 1000wei.",
)
@json_option
@write_command
@pass_env
def fund(env: Env, target: str, amount: int, as_json: bool) -> None:
    """Send ETH from --account to a keystore account or address, so that it can pay for gas;
    prints the new balance.

    \b
    Example:
        provenance account fund farm --amount 1eth --account dev:0
    """
    from provenance.accounts import Keystore, address_of, keystore_dir

    address = address_of(target, keystore=Keystore(keystore_dir(env.session.root)))
    wei = amount
    result = env.transactor().transfer(address, wei)
    new_balance = None if result.queued else env.chain().balance(address)
    if as_json:
        print_json({"address": address, "tx": result, "balance_wei": _opt_str(new_balance)})
        return
    show_tx(result, f"sent {format_eth(wei)} to {address}")
    if new_balance is not None:
        console.print(f"{address}: {format_eth(new_balance)}")


def _opt_str(value: int | None) -> str | None:
    """Wei as a string in JSON (no precision loss in JavaScript readers)."""
    return None if value is None else str(value)


def _refuse_existing(store: Keystore, name: str) -> None:
    """Fail before asking for a password that would be thrown away."""
    from provenance.exceptions import KeystoreError

    if store.exists(name):
        raise KeystoreError(f"a keystore named {name!r} already exists: pick another name")


COMMANDS = [account]
