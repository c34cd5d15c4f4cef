"""Operator commands for registry participants: `participant register|update|suspend|reinstate|
show|list`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from provenance.cli._common import (
    CONTEXT_SETTINGS,
    Env,
    ProvenanceGroup,
    console,
    json_option,
    pass_env,
    print_json,
    show_tx,
    table,
    write_command,
)

if TYPE_CHECKING:
    from provenance.types import Participant

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
    """Register and manage the participants of the registry (operator only for changes).

    \b
    Example:
        provenance participant register 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 \\
            --roles producer --gln 0614141000012 --account dev:0
        provenance participant list
    """


def _parse_roles(value: str) -> int:
    from provenance.types import Role

    parts = [p.strip() for p in value.split(",") if p.strip()]
    if len(parts) == 1 and parts[0].isdigit():
        return int(Role.parse(int(parts[0])))
    return int(Role.parse(parts))


@participant.command()
@click.argument("address")
@click.option("--roles", "-r", required=True, help=ROLES_HELP)
@click.option("--gln", help="The participant's GLN (13 digits, with check digit).")
@click.option("--metadata", help="Metadata hash (0x…32 bytes) or a short text.")
@write_command
@pass_env
def register(env: Env, address: str, roles: str, gln: str | None, metadata: str | None) -> None:
    """Register ADDRESS as a participant with ROLES (operator only).

    \b
    Example:
        provenance participant register 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 \\
            --roles producer,carrier --gln 0614141000012 --account dev:0
    """
    from provenance.types import text_to_bytes32, validate_address, validate_gln

    account = validate_address(address, "participant address")
    mask = _parse_roles(roles)
    gln_value = validate_gln(gln)
    meta = text_to_bytes32(metadata)
    registry = env.registry(write=True)
    result = registry.register_participant(account, mask, gln_value, meta)
    show_tx(result, f"registered {account}")


@participant.command()
@click.argument("address")
@click.option("--roles", "-r", required=True, help=ROLES_HELP)
@click.option("--gln", help="The participant's GLN (13 digits, with check digit).")
@click.option("--metadata", help="Metadata hash (0x…32 bytes) or a short text.")
@write_command
@pass_env
def update(env: Env, address: str, roles: str, gln: str | None, metadata: str | None) -> None:
    """Change the roles, GLN or metadata of a registered participant (operator only).

    \b
    Example:
        provenance participant update 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 \\
            --roles producer,processor --account dev:0
    """
    from provenance.types import text_to_bytes32, validate_address, validate_gln

    account = validate_address(address, "participant address")
    result = env.registry(write=True).update_participant(
        account, _parse_roles(roles), validate_gln(gln), text_to_bytes32(metadata)
    )
    show_tx(result, f"updated {account}")


@participant.command()
@click.argument("address")
@click.option("--reason", default="", help="Why (short text or 0x hash).")
@write_command
@pass_env
def suspend(env: Env, address: str, reason: str) -> None:
    """Suspend a participant: it can no longer create, hand off, accept or attest.

    \b
    Example:
        provenance participant suspend 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 \\
            --reason "audit failed" --account dev:0
    """
    from provenance.types import text_to_bytes32, validate_address

    account = validate_address(address, "participant address")
    result = env.registry(write=True).suspend_participant(account, text_to_bytes32(reason))
    show_tx(result, f"suspended {account}")


@participant.command()
@click.argument("address")
@write_command
@pass_env
def reinstate(env: Env, address: str) -> None:
    """Reinstate a suspended participant.

    \b
    Example:
        provenance participant reinstate 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --account dev:0
    """
    from provenance.types import validate_address

    account = validate_address(address, "participant address")
    result = env.registry(write=True).reinstate_participant(account)
    show_tx(result, f"reinstated {account}")


def _participant_json(p: Participant, chain_id: int) -> dict[str, Any]:
    from provenance.types import did_pkh, gln_uri

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
@click.argument("address")
@json_option
@pass_env
def show(env: Env, address: str, as_json: bool) -> None:
    """Show one participant: id, roles, status, GLN, DID.

    \b
    Example:
        provenance participant show 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --json
    """
    from provenance.exceptions import InvalidInput
    from provenance.types import validate_address

    account = validate_address(address, "participant address")
    found = env.registry().get_participant(account)
    if not found.registered:
        raise InvalidInput(
            f"{account} is not a registered participant: register it with "
            "`provenance participant register`"
        )
    data = _participant_json(found, env.chain().chain_id)
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
