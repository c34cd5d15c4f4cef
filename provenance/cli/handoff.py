"""Supplier commands for custody changes: `handoff send|accept|reject|cancel` (two transactions)
and `handoff sign` + `handoff relay` (EIP-712 consent signed offline, recorded in one).

A delivery under an agreement is a handoff too: `handoff send --agreement N` is the supplier's
tender (bound to agreement N, to the tender point its terms name), and the buyer's `handoff
accept` of its bound delivery accepts it through the agreements contract, which settles the
agreement in the same transaction; `handoff reject` by the buyer rejects the delivery."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from provenance.cli.context import CONTEXT_SETTINGS, CliError, Env, ProvenanceGroup, pass_env
from provenance.cli.options import (
    BATCH,
    BIZ_STEP,
    DISPOSITION,
    GLN,
    AddressType,
    F,
    IdType,
    MomentType,
    Text32Type,
    UintType,
    doc_options,
    document_hash,
    json_option,
    write_command,
)
from provenance.cli.output import console, print_json, progress_bar, show_tx


@click.group(
    cls=ProvenanceGroup,
    context_settings=CONTEXT_SETTINGS,
    short_help="Hand batches over: send/accept, or sign offline and relay.",
)
def handoff() -> None:
    """Hand batches from custodian to recipient: send then accept (two transactions), or sign
    offline and relay both consents in one transaction. A supplier tenders a delivery with
    `send --agreement N`; the buyer's `accept` of it settles the agreement.

    \b
    Example:
        provenance handoff send 0x5f… --to 0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC \\
            --biz-step shipping --account farm
        provenance handoff accept 0x5f… --account carrier
        provenance handoff send 0x5f… --agreement 1 --account farm
        provenance handoff accept 0x5f… --account processor
    """


def handoff_options(func: F) -> F:
    """What describes a handoff besides batch and parties."""
    for decorator in reversed(
        (
            click.option("--location", type=GLN, help="Where (GLN, 13 digits with check digit)."),
            click.option(
                "--biz-step",
                type=BIZ_STEP,
                default="shipping",
                show_default=True,
                help="CBV business step, e.g. shipping, receiving, storing.",
            ),
            click.option(
                "--disposition",
                type=DISPOSITION,
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
    location: int | None,
    biz_step: int,
    disposition: int,
    transfer_ownership: bool,
    doc: Path | None,
    doc_hash: str | None,
) -> Any:
    from provenance.encoding import Address
    from provenance.records import Handoff

    return Handoff(
        batch_id=batch_id,
        from_=Address(sender, "sender address"),
        to=Address(to, "recipient address"),
        location=location or 0,
        biz_step=biz_step,
        disposition=disposition,
        transfer_ownership=transfer_ownership,
        document=document_hash(doc, doc_hash),
    )


@handoff.command()
@click.argument("batch_ids", metavar="BATCH...", type=BATCH, nargs=-1, required=True)
@click.option("--to", type=AddressType("recipient"), help="The recipient (not with --agreement).")
@click.option(
    "--agreement",
    "agreement_id",
    type=IdType("agreement id"),
    metavar="N",
    help="Tender BATCH under agreement N: bound to it, to the tender point its terms name.",
)
@handoff_options
@write_command
@pass_env
def send(
    env: Env,
    batch_ids: tuple[str, ...],
    to: str | None,
    agreement_id: int | None,
    location: int | None,
    biz_step: int,
    disposition: int,
    transfer_ownership: bool,
    doc: Path | None,
    doc_hash: str | None,
) -> None:
    """Offer BATCH (you are its custodian) to a recipient, who then accepts or rejects it.
    Several (distinct) batches go in one transaction.

    With --agreement N you (its supplier, BATCH's owner) tender BATCH: it is bound to agreement
    N and handed to the tender point (the buyer, or the carrier the terms name); lateness counts
    from now. The terms come from the agreement's events and the proof of each required claim
    from the attestations on BATCH or its ancestors. A bound batch moves on only to carriers or
    the buyer; the buyer's `handoff accept` settles the agreement.

    \b
    Example:
        provenance handoff send 0x5f… --to 0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC \\
            --location 0614141000012 --doc bill-of-lading.pdf --account farm
        provenance handoff send 0x5f… --agreement 1 --doc despatch-advice.pdf --account farm
    """
    from provenance.exceptions import InvalidInput

    ids = list(batch_ids)
    if agreement_id is not None:
        if to is not None or transfer_ownership or len(ids) != 1:
            raise InvalidInput(
                "--agreement tenders one batch to the tender point its terms name: give no "
                "--to and no --transfer-ownership (title passes when the buyer accepts)"
            )
        _tender(env, ids[0], agreement_id, location, biz_step, disposition, doc, doc_hash)
        return
    if to is None:
        raise InvalidInput("give --to ADDRESS (or --agreement N to tender a delivery)")
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


def _tender(
    env: Env,
    batch: str,
    agreement_id: int,
    location: int | None,
    biz_step: int,
    disposition: int,
    doc: Path | None,
    doc_hash: str | None,
) -> None:
    from provenance.records import Leg

    leg = Leg(
        location=location or 0,
        biz_step=biz_step,
        disposition=disposition,
        document=document_hash(doc, doc_hash),
    )
    agreements = env.agreements(write=True)
    terms = agreements.terms_of(agreement_id)
    proofs = env.registry().claim_proofs(batch, terms.required_claims)
    result = agreements.tender(agreement_id, batch, leg=leg, proofs=proofs, terms=terms)
    show_tx(result, f"tendered {batch} under agreement {agreement_id} to {terms.tender_point}")


def _bound_agreement(env: Env, batch: str, me: str) -> int | None:
    """The agreement whose bound delivery `batch` is, when `me` is its buyer (else None)."""
    from provenance.exceptions import ChainUnreachable

    try:
        info = env.registry().get_batch(batch)
    except ChainUnreachable:  # offline: a plain registry call is queued instead
        return None
    if info.bound_to != me:
        return None
    found: int | None = env.agreements().agreement_of_batch(batch)
    return found


@handoff.command()
@click.argument("batch_ids", metavar="BATCH...", type=BATCH, nargs=-1, required=True)
@doc_options
@write_command
@pass_env
def accept(env: Env, batch_ids: tuple[str, ...], doc: Path | None, doc_hash: str | None) -> None:
    """Accept the handoff of BATCH offered to you: you become custodian (and owner if ownership
    transfers). For a delivery bound to an agreement whose buyer you are, this accepts the
    delivery: custody and title pass and the agreement settles in the same transaction.

    \b
    Example:
        provenance handoff accept 0x5f… 0x7a… --doc receiving-advice.pdf --account carrier
    """
    from provenance.exceptions import InvalidInput

    ids = list(batch_ids)
    if len(set(ids)) != len(ids):
        twice = next(b for b in ids if ids.count(b) > 1)
        raise InvalidInput(f"{twice[:10]}… is given twice: an acceptance names each batch once")
    document = document_hash(doc, doc_hash)
    registry = env.registry(write=True)
    me = env.signer().address
    plain: list[str] = []
    for bid in ids:
        agreement_id = _bound_agreement(env, bid, me)
        if agreement_id is None:
            plain.append(bid)
            continue
        result = env.agreements(write=True).accept_delivery(agreement_id, bid, document)
        show_tx(result, f"accepted the delivery {bid}: agreement {agreement_id} settled")
    if len(plain) > 1:
        show_tx(registry.accept_handoffs(plain, document), f"accepted {len(plain)} handoffs")
    elif plain:
        show_tx(registry.accept_handoff(plain[0], document), f"accept {plain[0]}")


@handoff.command()
@click.argument("batch_id", metavar="BATCH", type=BATCH)
@doc_options
@write_command
@pass_env
def cancel(env: Env, batch_id: str, doc: Path | None, doc_hash: str | None) -> None:
    """Withdraw a handoff you offered, before the recipient accepts it. For your tender of a
    delivery (as the agreement's supplier) this withdraws the tender.

    \b
    Example:
        provenance handoff cancel 0x5f… --account farm
    """
    from provenance.exceptions import ChainUnreachable

    registry = env.registry(write=True)
    try:
        info = registry.get_batch(batch_id)
    except ChainUnreachable:  # offline: queue the plain cancellation
        info = None
    if info is not None and info.tender_leg and info.owner == env.signer().address:
        agreement_id = env.agreements().agreement_of_batch(batch_id)
        if agreement_id is not None:
            result = env.agreements(write=True).withdraw_tender(agreement_id, batch_id)
            show_tx(result, f"withdrew the tender of {batch_id} under agreement {agreement_id}")
            return
    show_tx(registry.cancel_handoff(batch_id, document_hash(doc, doc_hash)), f"cancel {batch_id}")


@handoff.command()
@click.argument("batch_id", metavar="BATCH", type=BATCH)
@click.option("--reason", type=Text32Type("reason"), default="", help="Why (text or 0x hash).")
@doc_options
@write_command
@pass_env
def reject(env: Env, batch_id: str, reason: str, doc: Path | None, doc_hash: str | None) -> None:
    """Refuse a handoff offered to you; custody stays with the sender. As the buyer of a
    delivery bound to an agreement, this rejects the delivery: the goods stay the supplier's and
    a dispute opens (its default refunds you; the supplier may tender again in time).

    \b
    Example:
        provenance handoff reject 0x5f… --reason "damaged pallet" --account carrier
    """
    registry = env.registry(write=True)
    agreement_id = _bound_agreement(env, batch_id, env.signer().address)
    if agreement_id is not None:
        result = env.agreements(write=True).reject_delivery(agreement_id, batch_id, reason)
        show_tx(result, f"rejected the delivery {batch_id} under agreement {agreement_id}")
        return
    result = registry.reject_handoff(batch_id, reason, document_hash(doc, doc_hash))
    show_tx(result, f"rejected {batch_id}")


@handoff.command()
@click.argument("batch_id", metavar="BATCH", type=BATCH)
@click.option(
    "--from",
    "sender",
    type=AddressType("sender"),
    help="The custodian handing over (default: you, the signer).",
)
@click.option("--to", type=AddressType("recipient"), required=True, help="The recipient.")
@handoff_options
@click.option(
    "--deadline",
    type=MomentType("--deadline"),
    default="+1d",
    show_default=True,
    help="Signature expiry, in the future: unix time, ISO date or +N[smhdw].",
)
@click.option(
    "--nonce",
    type=UintType(256, "--nonce"),
    help="Your registry nonce (offline; default: read it from the chain).",
)
@click.option(
    "--chain-id",
    type=UintType(64, "--chain-id"),
    help="Chain id (offline; default: the connected chain).",
)
@click.option(
    "--registry",
    "registry_address",
    type=AddressType("registry address"),
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
    batch_id: str,
    sender: str | None,
    to: str,
    location: int | None,
    biz_step: int,
    disposition: int,
    transfer_ownership: bool,
    doc: Path | None,
    doc_hash: str | None,
    deadline: int,
    nonce: int | None,
    chain_id: int | None,
    registry_address: str | None,
    output: Path,
) -> None:
    """Sign your consent to a handoff (EIP-712) into a file, without sending anything. Sign as
    the sender or the receiver; the other party or anyone relays it with `handoff relay`. A
    deadline that has passed is refused.

    With --nonce and --chain-id (and --registry, or a deployment recorded for that chain id) it
    works fully offline.

    \b
    Example:
        provenance handoff sign 0x5f… --from 0x7099… --to 0x3C44… --deadline +2h \\
            -o handoff-carrier.json --account carrier
        provenance handoff relay handoff-carrier.json --account farm
    """
    from provenance.signing import sign_handoff

    offline = nonce is not None and chain_id is not None
    account = env.signer(offline=offline)
    h = _build(
        batch_id,
        sender or account.address,
        to,
        location,
        biz_step,
        disposition,
        transfer_ownership,
        doc,
        doc_hash,
    )
    if chain_id is None:
        chain_id = env.chain().chain_id
    if registry_address is None:
        registry_address = _recorded_registry(chain_id) if offline else env.deployment().registry
    if nonce is None:
        nonce = env.registry().nonce_of(account.address)
    signed = sign_handoff(
        account, h, chain_id=chain_id, registry=registry_address, nonce=nonce, deadline=deadline
    )
    signed.save(output)
    console.print(f"signed handoff of {batch_id} as {signed.role} ({account.address}) → {output}")


def _recorded_registry(chain_id: int) -> str:
    """The registry of the newest deployment recorded for `chain_id` (offline signing)."""
    from provenance.deploy import records
    from provenance.exceptions import ConfigError

    found = [r for _p, r in records() if r is not None and r.chain_id == chain_id]
    if not found:
        raise ConfigError(
            f"no deployment recorded for chain id {chain_id}: pass --registry ADDRESS"
        )
    return max(found, key=lambda r: r.deployed_at).registry


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
