"""Certifier commands: `attest add|revoke` (claims about a batch or a participant)."""

from __future__ import annotations

from pathlib import Path

import click

from provenance.cli._common import (
    CONTEXT_SETTINGS,
    Env,
    ProvenanceGroup,
    console,
    doc_options,
    document_hash,
    json_option,
    parse_subject,
    parse_time,
    pass_env,
    print_json,
    show_tx,
    write_command,
)


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
@click.argument("subject")
@click.option("--claim", required=True, help="What is attested (text up to 32 bytes or 0x hash).")
@doc_options
@click.option(
    "--valid-from",
    default="now",
    show_default=True,
    help="Start: unix time, ISO date, `now` or +N[smhdw].",
)
@click.option(
    "--valid-until",
    default="+365d",
    show_default=True,
    help="End: unix time, ISO date or +N[smhdw].",
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
    valid_from: str,
    valid_until: str,
    as_json: bool,
) -> None:
    """Attest CLAIM about SUBJECT (a batch id, Digital Link or participant address).

    \b
    Example:
        provenance attest add https://id.gs1.org/01/09506000134352/10/FARM-001 \\
            --claim ORGANIC --doc certificate.pdf --valid-until 2027-01-01 --account certifier
    """
    from provenance.types import text_to_bytes32

    subj = parse_subject(subject)
    claim32 = text_to_bytes32(claim)
    evidence = document_hash(doc, doc_hash)
    start = parse_time(valid_from, "--valid-from")
    end = parse_time(valid_until, "--valid-until")
    att_id, result = env.registry(write=True).attest(subj, claim32, evidence, start, end)
    if as_json:
        print_json({"attestationId": att_id, "subject": subj, "claim": claim32, "tx": result})
        return
    show_tx(result, f"attested {claim}")
    console.print(f"attestation id {att_id}")


@attest.command()
@click.argument("subject")
@click.option("--claim", required=True, help="The claim that was attested.")
@doc_options
@click.option("--reason", required=True, help="Why it is revoked (text or 0x hash).")
@click.option(
    "--issuer",
    metavar="ADDRESS",
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
    from provenance.types import text_to_bytes32

    subj = parse_subject(subject)
    result = env.registry(write=True).revoke_attestation(
        subj,
        text_to_bytes32(claim),
        document_hash(doc, doc_hash),
        text_to_bytes32(reason),
        issuer=issuer,
    )
    show_tx(result, f"revoked {claim}")


COMMANDS = [attest]
