"""Operator commands for registry participants: `participant register|update|suspend|reinstate|
migrate|show|list` and their GS1 company prefixes: `participant prefix assign|revoke|list`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from provenance.cli.context import CONTEXT_SETTINGS, Env, ProvenanceGroup, pass_env
from provenance.cli.options import (
    GLN,
    PREFIX,
    ROLES,
    AddressType,
    Text32Type,
    json_option,
    write_command,
)
from provenance.cli.output import console, print_json, show_tx, table

if TYPE_CHECKING:
    from provenance.records import Participant

ROLES_HELP = (
    "Comma-separated roles: producer, processor, carrier, distributor, retailer, certifier "
    "(or a bitmask)."
)


@click.group(
    cls=ProvenanceGroup,
    context_settings=CONTEXT_SETTINGS,
    short_help="Register and manage participants (operator).",
)
def participant() -> None:
    """Register and manage the participants of the registry and the GS1 company prefixes they
    hold (operator only for changes). Only a prefix's holder commissions batches of GTINs under
    it.

    \b
    Example:
        provenance participant register 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 \\
            --roles producer --gln 0614141000012 --account dev:0
        provenance participant prefix assign 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 \\
            9506000 --account dev:0
        provenance participant list
    """


PARTICIPANT = AddressType("participant address")


@participant.command()
@click.argument("address", type=PARTICIPANT)
@click.option("--roles", "-r", type=ROLES, required=True, help=ROLES_HELP)
@click.option("--gln", type=GLN, help="The participant's GLN (13 digits, with check digit).")
@click.option("--metadata", type=Text32Type("--metadata"), help="Metadata hash or short text.")
@write_command
@pass_env
def register(env: Env, address: str, roles: int, gln: int | None, metadata: str | None) -> None:
    """Register ADDRESS as a participant with ROLES (operator only).

    \b
    Example:
        provenance participant register 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 \\
            --roles producer,carrier --gln 0614141000012 --account dev:0
    """
    from provenance.encoding import ZERO32

    registry = env.registry(write=True)
    result = registry.register_participant(address, roles, gln or 0, metadata or ZERO32)
    show_tx(result, f"registered {address}")


@participant.command()
@click.argument("address", type=PARTICIPANT)
@click.option("--roles", "-r", type=ROLES, required=True, help=ROLES_HELP)
@click.option("--gln", type=GLN, help="The participant's GLN (13 digits, with check digit).")
@click.option("--metadata", type=Text32Type("--metadata"), help="Metadata hash or short text.")
@write_command
@pass_env
def update(env: Env, address: str, roles: int, gln: int | None, metadata: str | None) -> None:
    """Change the roles, GLN or metadata of a registered participant (operator only).

    \b
    Example:
        provenance participant update 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 \\
            --roles producer,processor --account dev:0
    """
    from provenance.encoding import ZERO32

    result = env.registry(write=True).update_participant(
        address, roles, gln or 0, metadata or ZERO32
    )
    show_tx(result, f"updated {address}")


@participant.command()
@click.argument("address", type=PARTICIPANT)
@click.option("--reason", type=Text32Type("--reason"), default="", help="Why (short text or hash).")
@write_command
@pass_env
def suspend(env: Env, address: str, reason: str) -> None:
    """Suspend a participant: it can no longer create, hand off, accept, attest, revoke, recall,
    or receive custody or title by its own act (a tendered delivery's payment is unaffected).

    \b
    Example:
        provenance participant suspend 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 \\
            --reason "audit failed" --account dev:0
    """
    result = env.registry(write=True).suspend_participant(address, reason)
    show_tx(result, f"suspended {address}")


@participant.command()
@click.argument("address", type=PARTICIPANT)
@write_command
@pass_env
def reinstate(env: Env, address: str) -> None:
    """Reinstate a suspended participant.

    \b
    Example:
        provenance participant reinstate 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --account dev:0
    """
    result = env.registry(write=True).reinstate_participant(address)
    show_tx(result, f"reinstated {address}")


@participant.command()
@click.argument("old", metavar="OLD_ADDRESS", type=AddressType("current participant address"))
@click.argument("new", metavar="NEW_ADDRESS", type=AddressType("new participant address"))
@click.option("--reason", type=Text32Type("--reason"), default="", help="Why (short text or hash).")
@write_command
@pass_env
def migrate(env: Env, old: str, new: str, reason: str) -> None:
    """Move a participant to a new key (a lost or compromised key; operator only): its id, roles,
    status, company prefixes, custody, title and recall rights follow. Agreements name addresses
    and are unchanged.

    \b
    Example:
        provenance participant migrate 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 \\
            0x976EA74026E726554dB657fA54763abd0C3a0aa9 --reason "key lost" --account dev:0
    """
    result = env.registry(write=True).migrate_participant(old, new, reason)
    show_tx(result, f"migrated {old} to {new}")


@participant.group(
    cls=ProvenanceGroup,
    context_settings=CONTEXT_SETTINGS,
    short_help="Assign, revoke and list GS1 company prefixes (operator).",
)
def prefix() -> None:
    """GS1 company prefixes (4-12 digits, matched against the GTIN-13 form of a GTIN): only the
    holder of a prefix commissions batches of GTINs under it, by creation or as transform outputs.
    Prefixes never overlap; restricted-circulation and coupon numbers (02, 04, 05, 20-29, 98, 99)
    are refused; a GTIN-8 is assigned as 00000 + its first 7 digits.

    \b
    Example:
        provenance participant prefix assign 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 \\
            9506000 --account dev:0
        provenance participant prefix list --json
    """


@prefix.command("assign")
@click.argument("address", type=AddressType("prefix holder"))
@click.argument("company_prefix", metavar="PREFIX", type=PREFIX)
@write_command
@pass_env
def prefix_assign(env: Env, address: str, company_prefix: str) -> None:
    """Assign company PREFIX (digits, leading zeros included) to ADDRESS (operator only).

    \b
    Example:
        provenance participant prefix assign 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 \\
            0614141 --account dev:0
    """
    result = env.registry(write=True).assign_prefix(address, company_prefix)
    show_tx(result, f"assigned company prefix {company_prefix} to {address}")


@prefix.command("revoke")
@click.argument("company_prefix", metavar="PREFIX", type=PREFIX)
@write_command
@pass_env
def prefix_revoke(env: Env, company_prefix: str) -> None:
    """Revoke company PREFIX (operator only); batches already created under it are unaffected.

    \b
    Example:
        provenance participant prefix revoke 0614141 --account dev:0
    """
    result = env.registry(write=True).revoke_prefix(company_prefix)
    show_tx(result, f"revoked company prefix {company_prefix}")


@prefix.command("list")
@click.option("--holder", type=AddressType("--holder"), help="Only this participant's prefixes.")
@json_option
@pass_env
def prefix_list(env: Env, holder: str | None, as_json: bool) -> None:
    """List the assigned company prefixes and their holders (rebuilt from the registry's
    events).

    \b
    Example:
        provenance participant prefix list --holder 0x70997970C51812dc3A010C7d01b50e0d17dc79C8
    """
    rows = [
        {
            "prefix": a.prefix.digits,
            "length": a.prefix.length,
            "holder": a.holder,
            "assignedAt": a.assigned_at,
        }
        for a in env.registry().list_prefixes(holder)
    ]
    if as_json:
        print_json(rows)
        return
    out = table("prefix", "digits", "holder")
    for row in rows:
        out.add_row(str(row["prefix"]), str(row["length"]), str(row["holder"]))
    console.print(out)


def _participant_json(p: Participant, chain_id: int) -> dict[str, Any]:
    from provenance.encoding import did_pkh
    from provenance.gs1 import gln_uri

    return {
        "address": p.address,
        "did": did_pkh(chain_id, p.address),
        "id": p.id,
        "roles": p.roles.names(),
        "active": p.active,
        "gln": p.gln or None,
        "glnUri": gln_uri(p.gln) if p.gln else None,
    }


@participant.command()
@click.argument("address", type=PARTICIPANT)
@json_option
@pass_env
def show(env: Env, address: str, as_json: bool) -> None:
    """Show one participant: id, roles, status, GLN, DID.

    \b
    Example:
        provenance participant show 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --json
    """
    account = address
    found = env.registry().require_participant(account)
    data = _participant_json(found, env.chain().chain_id)
    data["prefixes"] = [a.prefix.digits for a in env.registry().list_prefixes(account)]
    if as_json:
        print_json(data)
        return
    for key, value in data.items():
        console.print(f"{key:8} {value if not isinstance(value, list) else ', '.join(value)}")


@participant.command("list")
@json_option
@pass_env
def list_(env: Env, as_json: bool) -> None:
    """List every registered participant (rebuilt from the registry's events: one log scan,
    however many participants there are).

    \b
    Example:
        provenance participant list
    """
    chain_id = env.chain().chain_id
    rows = [_participant_json(p, chain_id) for p in env.registry().list_participants()]
    if as_json:
        print_json(rows)
        return
    out = table("id", "address", "roles", "active", "GLN")
    for row in rows:
        out.add_row(
            str(row["id"]),
            str(row["address"]),
            ", ".join(row["roles"]),
            "yes" if row["active"] else "SUSPENDED",
            str(row["gln"] or ""),
        )
    console.print(out)


COMMANDS = [participant]
