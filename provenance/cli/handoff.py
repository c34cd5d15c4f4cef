"""Supplier commands for custody changes: `handoff send|accept|reject|cancel` (two transactions)
and `handoff sign` + `handoff relay` (EIP-712 consent signed offline, recorded in one)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from provenance.cli._common import (
    CONTEXT_SETTINGS,
    CliError,
    Env,
    F,
    ProvenanceGroup,
    console,
    doc_options,
    document_hash,
    json_option,
    parse_batch_ref,
    parse_time,
    pass_env,
    print_json,
    progress_bar,
    show_tx,
    write_command,
)


@click.group(
    cls=ProvenanceGroup,
    context_settings=CONTEXT_SETTINGS,
    short_help="Hand batches over: send/accept, or sign offline and relay.",
)
def handoff() -> None:
    """Hand batches from custodian to recipient: send then accept (two transactions), or sign
    offline and relay both consents in one transaction.

    \b
    Example:
        provenance handoff send 0x5f… --to 0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC \\
            --biz-step shipping --account farm
        provenance handoff accept 0x5f… --account carrier
    """


def handoff_options(func: F) -> F:
    """What describes a handoff besides batch and parties."""
    for decorator in reversed(
        (
            click.option("--location", metavar="GLN", help="Where (GLN, 13 digits)."),
            click.option(
                "--biz-step",
                default="shipping",
                show_default=True,
                help="CBV business step, e.g. shipping, receiving, storing.",
            ),
            click.option(
                "--disposition",
                default="in_transit",
                show_default=True,
                help="CBV disposition, e.g. in_transit, in_progress, active.",
            ),
            click.option(
                "--transfer-ownership",
                is_flag=True,
                help="Ownership moves with custody (a sale), not custody only.",
            ),
            doc_options,
        )
    ):
        func = decorator(func)
    return func


def _build(
    batch_id: str,
    sender: str,
    to: str,
    location: str | None,
    biz_step: str,
    disposition: str,
    transfer_ownership: bool,
    doc: Path | None,
    doc_hash: str | None,
) -> Any:
    from provenance.types import (
        Handoff,
        biz_step_code,
        disposition_code,
        validate_address,
        validate_gln,
    )

    return Handoff(
        batch_id=batch_id,
        from_=validate_address(sender, "sender address"),
        to=validate_address(to, "recipient address"),
        location=validate_gln(location),
        biz_step=biz_step_code(biz_step),
        disposition=disposition_code(disposition),
        transfer_ownership=transfer_ownership,
        document=document_hash(doc, doc_hash),
    )


@handoff.command()
@click.argument("batch_refs", metavar="BATCH...", nargs=-1, required=True)
@click.option("--to", required=True, metavar="ADDRESS", help="The recipient.")
@handoff_options
@write_command
@pass_env
def send(
    env: Env,
    batch_refs: tuple[str, ...],
    to: str,
    location: str | None,
    biz_step: str,
    disposition: str,
    transfer_ownership: bool,
    doc: Path | None,
    doc_hash: str | None,
) -> None:
    """Offer BATCH (you are its custodian) to a recipient, who then accepts or rejects it.
    Several batches go in one transaction.

    \b
    Example:
        provenance handoff send 0x5f… --to 0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC \\
            --location 0614141000012 --doc bill-of-lading.pdf --account farm
    """
    ids = [parse_batch_ref(r) for r in batch_refs]
    registry = env.registry(write=True)
    sender = env.signer().address
    first = _build(
        ids[0], sender, to, location, biz_step, disposition, transfer_ownership, doc, doc_hash
    )
    if len(ids) == 1:
        result = registry.initiate_handoff(first)
    else:
        result = registry.initiate_handoffs(
            ids,
            first.to,
            location=first.location,
            biz_step=first.biz_step,
            disposition=first.disposition,
            transfer_ownership=first.transfer_ownership,
            document=first.document,
        )
    show_tx(result, f"offered {len(ids)} batch(es) to {first.to}")


def _batch_verb(name: str, method: str, many: str | None, doc: str) -> click.Command:
    @click.command(name, help=doc)
    @click.argument("batch_refs", metavar="BATCH...", nargs=-1, required=True)
    @write_command
    @pass_env
    def command(env: Env, batch_refs: tuple[str, ...]) -> None:
        ids = [parse_batch_ref(r) for r in batch_refs]
        registry = env.registry(write=True)
        if len(ids) > 1 and many:
            result = getattr(registry, many)(ids)
            show_tx(result, f"{name}ed {len(ids)} handoffs")
            return
        for bid in ids:
            show_tx(getattr(registry, method)(bid), f"{name} {bid}")

    return command


handoff.add_command(
    _batch_verb(
        "accept",
        "accept_handoff",
        "accept_handoffs",
        """Accept the
    handoff of BATCH offered to you: you become custodian (and owner if ownership transfers).

    \b
    Example:
        provenance handoff accept 0x5f… 0x7a… --account carrier
    """,
    )
)
handoff.add_command(
    _batch_verb(
        "cancel",
        "cancel_handoff",
        None,
        """Withdraw a handoff you
    offered, before the recipient accepts it.

    \b
    Example:
        provenance handoff cancel 0x5f… --account farm
    """,
    )
)


@handoff.command()
@click.argument("batch_ref", metavar="BATCH")
@click.option("--reason", default="", help="Why (text or 0x hash).")
@write_command
@pass_env
def reject(env: Env, batch_ref: str, reason: str) -> None:
    """Refuse a handoff offered to you; custody stays with the sender.

    \b
    Example:
        provenance handoff reject 0x5f… --reason "damaged pallet" --account carrier
    """
    from provenance.types import text_to_bytes32

    bid = parse_batch_ref(batch_ref)
    show_tx(
        env.registry(write=True).reject_handoff(bid, text_to_bytes32(reason)), f"rejected {bid}"
    )


@handoff.command()
@click.argument("batch_ref", metavar="BATCH")
@click.option(
    "--from",
    "sender",
    metavar="ADDRESS",
    help="The custodian handing over (default: you, the signer).",
)
@click.option("--to", required=True, metavar="ADDRESS", help="The recipient.")
@handoff_options
@click.option(
    "--deadline",
    default="+1d",
    show_default=True,
    help="Signature expiry: unix time, ISO date or +N[smhdw].",
)
@click.option(
    "--nonce",
    type=click.IntRange(min=0),
    help="Your registry nonce (offline; default: read it from the chain).",
)
@click.option("--chain-id", type=int, help="Chain id (offline; default: the connected chain).")
@click.option(
    "--registry",
    "registry_address",
    metavar="ADDRESS",
    help="Registry address (offline; default: the deployment record).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Write the signed handoff file here.",
)
@write_command
@pass_env
def sign(
    env: Env,
    batch_ref: str,
    sender: str | None,
    to: str,
    location: str | None,
    biz_step: str,
    disposition: str,
    transfer_ownership: bool,
    doc: Path | None,
    doc_hash: str | None,
    deadline: str,
    nonce: int | None,
    chain_id: int | None,
    registry_address: str | None,
    output: Path,
) -> None:
    """Sign your consent to a handoff (EIP-712) into a file, without sending anything. Sign as
    the sender or the receiver; the other party or anyone relays it with `handoff relay`.

    With --nonce, --chain-id and --registry (or a deployment record for --chain-id) it works
    fully offline.

    \b
    Example:
        provenance handoff sign 0x5f… --from 0x7099… --to 0x3C44… --deadline +2h \\
            -o handoff-carrier.json --account carrier
        provenance handoff relay handoff-carrier.json --account farm
    """
    from provenance.deploy import read_record
    from provenance.exceptions import ConfigError
    from provenance.signing import sign_handoff
    from provenance.types import validate_address

    offline = nonce is not None and chain_id is not None
    account = env.signer(offline=offline)
    bid = parse_batch_ref(batch_ref)
    h = _build(
        bid,
        sender or account.address,
        to,
        location,
        biz_step,
        disposition,
        transfer_ownership,
        doc,
        doc_hash,
    )
    expires = parse_time(deadline, "--deadline")
    if chain_id is None:
        chain_id = env.chain().chain_id
    if registry_address is None:
        if offline:
            record = read_record(chain_id)
            if record is None:
                raise ConfigError(
                    f"no deployment recorded for chain id {chain_id}: pass --registry ADDRESS"
                )
        else:
            record = env.deployment()
        registry_address = record.registry
    registry_address = validate_address(registry_address, "registry address")
    if nonce is None:
        nonce = env.registry().nonce_of(account.address)
    signed = sign_handoff(
        account, h, chain_id=chain_id, registry=registry_address, nonce=nonce, deadline=expires
    )
    signed.save(output)
    console.print(f"signed handoff of {bid} as {signed.role} ({account.address}) → {output}")


def _require_signature(party: str, signed: Any | None, relayer: str) -> None:
    from provenance.exceptions import SignatureError

    if signed is not None or party == relayer:
        return
    raise SignatureError(
        f"no signature from {party} for this handoff: they must sign it (`provenance handoff "
        "sign`) or send it themselves (--account)"
    )


@handoff.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@json_option
@write_command
@pass_env
def relay(env: Env, files: tuple[Path, ...], as_json: bool) -> None:
    """Record signed handoffs with `recordHandoff`, one transaction each. Pass both parties'
    files, or one file if you (--account) are the other party. Every file is checked (chain,
    registry, signer, expiry, tampering) before anything is sent.

    \b
    Example:
        provenance handoff relay handoff-carrier.json --account farm
        provenance handoff relay signed/*.json --account relayer
    """
    from provenance.exceptions import SignatureError
    from provenance.signing import SignedHandoff

    chain = env.chain()
    deployment = env.deployment()
    groups: dict[Any, dict[str, Any]] = {}
    for path in files:
        signed = SignedHandoff.load(path)
        try:
            signed.verify(chain_id=chain.chain_id, registry=deployment.registry)
        except SignatureError as exc:
            raise SignatureError(f"{path}: {exc}") from exc
        slot = groups.setdefault(signed.handoff, {})
        if signed.role in slot:
            raise SignatureError(f"{path}: a second {signed.role} signature for the same handoff")
        slot[signed.role] = signed
    registry = env.registry(write=True)
    relayer = env.signer().address
    plans = [(h, s.get("sender"), s.get("receiver")) for h, s in groups.items()]
    for h, sender, receiver in plans:  # check every file before sending anything
        _require_signature(h.from_, sender, relayer)
        _require_signature(h.to, receiver, relayer)
    results = []
    advance: Callable[..., None]
    with progress_bar("relaying handoffs", len(plans)) as advance:
        for h, sender, receiver in plans:
            results.append(registry.record_handoff(h, sender, receiver))
            advance()
    if as_json:
        print_json(
            [{"batchId": h.batch_id, "tx": r} for (h, _, _), r in zip(plans, results, strict=True)]
        )
        return
    for (h, _, _), result in zip(plans, results, strict=True):
        show_tx(result, f"recorded handoff of {h.batch_id} {h.from_} → {h.to}")
    if not results:
        raise CliError("nothing to relay")


COMMANDS = [handoff]
