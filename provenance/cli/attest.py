"""Certifier commands: `attest add|revoke` (claims about a batch or a participant)."""

from __future__ import annotations

from pathlib import Path

import click

from provenance.cli.context import CONTEXT_SETTINGS, Env, ProvenanceGroup, pass_env
from provenance.cli.options import (
    SUBJECT,
    AddressType,
    MomentType,
    Text32Type,
    doc_options,
    document_hash,
    json_option,
    write_command,
)
from provenance.cli.output import console, print_json, show_tx


@click.group(
    cls=ProvenanceGroup,
    context_settings=CONTEXT_SETTINGS,
    short_help="Issue and revoke attestations (certifiers).",
)
def attest() -> None:
    """Issue and revoke attestations (certifiers only): a claim such as ORGANIC about a batch
    or a participant, backed by an evidence document, valid for a period.

    \b
    Example:
        provenance attest add 0x5f… --claim ORGANIC --doc certificate.pdf --valid-until +365d \\
            --account certifier
    """


@attest.command()
@click.argument("subject", type=SUBJECT)
@click.option(
    "--claim",
    type=Text32Type("the claim", required=True),
    required=True,
    help="What is attested (text up to 32 bytes or 0x hash; not empty).",
)
@doc_options
@click.option(
    "--valid-from",
    type=MomentType("--valid-from"),
    default="now",
    show_default=True,
    help="Start: unix time in seconds, ISO date, `now` or +N[smhdw] (2000..2200).",
)
@click.option(
    "--valid-until",
    type=MomentType("--valid-until"),
    default="+365d",
    show_default=True,
    help="End, in the future: unix time in seconds, ISO date or +N[smhdw] (2000..2200).",
)
@json_option
@write_command
@pass_env
def add(
    env: Env,
    subject: str,
    claim: str,
    doc: Path | None,
    doc_hash: str | None,
    valid_from: int,
    valid_until: int,
    as_json: bool,
) -> None:
    """Attest CLAIM about SUBJECT: an existing batch (id or Digital Link) or a registered
    participant's address.

    \b
    Example:
        provenance attest add https://id.gs1.org/01/09506000134352/10/FARM-001 \\
            --claim ORGANIC --doc certificate.pdf --valid-until 2027-01-01 --account certifier
    """
    from provenance.encoding import bytes32_to_text

    evidence = document_hash(doc, doc_hash)
    registry = env.registry(write=True)
    att_id, result = registry.attest(subject, claim, evidence, valid_from, valid_until)
    if as_json:
        print_json({"attestationId": att_id, "subject": subject, "claim": claim, "tx": result})
        return
    show_tx(result, f"attested {bytes32_to_text(claim)}")
    console.print(f"attestation id {att_id}")


@attest.command()
@click.argument("subject", type=SUBJECT)
@click.option(
    "--claim",
    type=Text32Type("the claim", required=True),
    required=True,
    help="The claim that was attested.",
)
@doc_options
@click.option(
    "--reason",
    type=Text32Type("the reason", required=True),
    required=True,
    help="Why it is revoked (text or 0x hash; not empty).",
)
@click.option(
    "--issuer",
    type=AddressType("issuer"),
    help="The address that issued it (default: you; give your old key after a key migration).",
)
@write_command
@pass_env
def revoke(
    env: Env,
    subject: str,
    claim: str,
    doc: Path | None,
    doc_hash: str | None,
    reason: str,
    issuer: str | None,
) -> None:
    """Revoke your attestation of CLAIM about SUBJECT from now on (same evidence as when
    issued). Only the certifier that issued it, while active, may revoke it.

    \b
    Example:
        provenance attest revoke 0x5f… --claim ORGANIC --doc certificate.pdf \\
            --reason "certificate withdrawn" --account certifier
    """
    from provenance.encoding import bytes32_to_text

    result = env.registry(write=True).revoke_attestation(
        subject, claim, document_hash(doc, doc_hash), reason, issuer=issuer
    )
    show_tx(result, f"revoked {bytes32_to_text(claim)}")


COMMANDS = [attest]
