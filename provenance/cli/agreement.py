"""Buyer/supplier commands for escrowed supply agreements:
`agreement propose|accept|fund|escalate|withdraw-tender|resolve|resolve-default|withdraw|show|list`
and the exits that keep funds from being locked: `agreement cancel|reclaim`.

A delivery itself goes through `handoff`: `handoff send BATCH --agreement N` is the supplier's
tender, the buyer's `handoff accept BATCH` accepts it and settles the agreement in the same
transaction, `handoff reject BATCH` rejects it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from provenance.cli._common import (
    CONTEXT_SETTINGS,
    Env,
    ProvenanceGroup,
    console,
    doc_options,
    document_hash,
    format_eth,
    format_time,
    json_option,
    parse_amount,
    parse_bps,
    parse_duration,
    parse_time,
    pass_env,
    positive_int,
    print_json,
    show_tx,
    table,
    write_command,
)


@click.group(
    cls=ProvenanceGroup,
    context_settings=CONTEXT_SETTINGS,
    short_help="Escrowed supply agreements between buyer and supplier.",
)
def agreement() -> None:
    """Escrowed supply agreements. The buyer escrows the price (plus the quantity tolerance);
    the supplier tenders a batch it owns with `handoff send BATCH --agreement N` (lateness counts
    at the tender); the buyer's `handoff accept BATCH` completes the delivery and settles in the
    same transaction (payment pro rata, minus the late penalty); `handoff reject` opens a
    dispute. Exits: `cancel` before funding (or by the supplier once funded: full refund),
    `reclaim` by the buyer when nothing was tendered by deadline + grace, `escalate` by the
    supplier when the buyer does not answer within the inspection period, `resolve-default` when
    the arbiter does not rule in time.

    \b
    Example:
        provenance agreement propose --supplier 0x7099… --arbiter 0x9965… --gtin 09506000134352 \\
            --quantity 500 --price 1eth --deadline +7d --require ORGANIC@0x15d3… --account processor
        provenance agreement accept 1 --account farm
        provenance agreement fund 1 --account processor
        provenance handoff send 0x5f… --agreement 1 --account farm
        provenance handoff accept 0x5f… --account processor
    """


def _id(value: str) -> int:
    return positive_int(value, "agreement id")


def _required(values: tuple[str, ...]) -> tuple[Any, ...]:
    from provenance.exceptions import InvalidInput
    from provenance.types import RequiredClaim, text_to_bytes32, validate_address

    found = []
    for value in values:
        claim, sep, attester = value.rpartition("@")
        if not sep or not claim:
            raise InvalidInput(
                f"invalid --require {value!r}: expected CLAIM@ATTESTER, e.g. "
                "ORGANIC@0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65 (the certifier whose "
                "attestation counts)"
            )
        found.append(
            RequiredClaim(
                text_to_bytes32(claim), validate_address(attester, "attester of " + claim)
            )
        )
    return tuple(found)


@agreement.command()
@click.option("--supplier", metavar="ADDRESS", help="Supplier (you are the buyer).")
@click.option("--buyer", metavar="ADDRESS", help="Buyer (you are the supplier).")
@click.option("--arbiter", metavar="ADDRESS", required=True, help="Who resolves disputes.")
@click.option(
    "--carrier",
    metavar="ADDRESS",
    help="The tender point, a carrier for the buyer (as FCA); default: the buyer (as DAP).",
)
@click.option("--gtin", required=True, help="GTIN of the goods.")
@click.option("--quantity", "-q", required=True, help="Agreed quantity, in --uom.")
@click.option("--uom", default="KGM", show_default=True, help="Unit of the quantity.")
@click.option(
    "--tolerance",
    default="0",
    show_default=True,
    help="Accepted deviation of the delivered quantity: basis points (200) or percent (2%).",
)
@click.option("--price", required=True, help="Price of --quantity: 1.5eth, 20gwei, 1000wei.")
@click.option("--token", metavar="ADDRESS", help="ERC-20 token (default: native ETH).")
@click.option("--deadline", required=True, help="Tender deadline: ISO date or +N[smhdw].")
@click.option(
    "--grace",
    default="0",
    show_default=True,
    help="How long after the deadline a late tender is still accepted (seconds, 12h, 5d…).",
)
@click.option(
    "--inspection",
    default="3d",
    show_default=True,
    help="How long the buyer has to accept or reject a tender before the supplier may escalate.",
)
@click.option(
    "--penalty-bps-per-day",
    type=click.IntRange(0, 10_000),
    default=0,
    show_default=True,
    help="Late penalty per whole day late at the tender, in basis points of the payment.",
)
@click.option(
    "--penalty-cap-bps",
    type=click.IntRange(0, 10_000),
    default=0,
    show_default=True,
    help="Maximum total penalty, in basis points.",
)
@click.option(
    "--arbiter-timeout",
    default="7d",
    show_default=True,
    help="How long the arbiter has to resolve a dispute (seconds, 12h, 7d…).",
)
@click.option(
    "--require",
    "claims",
    multiple=True,
    metavar="CLAIM@ATTESTER",
    help="A claim the goods (or an ancestor) must carry, attested by that certifier (repeat).",
)
@click.option("--salt", default=0, type=click.IntRange(min=0), help="Distinguishes equal terms.")
@doc_options
@json_option
@write_command
@pass_env
def propose(
    env: Env,
    supplier: str | None,
    buyer: str | None,
    arbiter: str,
    carrier: str | None,
    gtin: str,
    quantity: str,
    uom: str,
    tolerance: str,
    price: str,
    token: str | None,
    deadline: str,
    grace: str,
    inspection: str,
    penalty_bps_per_day: int,
    penalty_cap_bps: int,
    arbiter_timeout: str,
    claims: tuple[str, ...],
    salt: int,
    doc: Path | None,
    doc_hash: str | None,
    as_json: bool,
) -> None:
    """Propose an agreement to the other party (give --supplier if you buy, --buyer if you sell).

    \b
    Example:
        provenance agreement propose --supplier 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 \\
            --arbiter 0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc --gtin 09506000134352 \\
            --quantity 1000 --tolerance 2% --price 1eth --deadline +7d --grace 5d \\
            --inspection 2d --carrier 0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC \\
            --penalty-bps-per-day 250 --penalty-cap-bps 1000 \\
            --require ORGANIC@0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65 \\
            --doc contract.pdf --account processor
    """
    from provenance.exceptions import InvalidInput
    from provenance.types import (
        ZERO_ADDRESS,
        AgreementTerms,
        normalize_gtin,
        validate_address,
        validate_uom,
    )

    if (supplier is None) == (buyer is None):
        raise InvalidInput("give exactly one of --supplier (you buy) or --buyer (you sell)")
    me: str = env.signer().address
    if supplier is not None:
        buyer_addr, supplier_addr = me, validate_address(supplier, "supplier address")
    else:
        buyer_addr, supplier_addr = validate_address(str(buyer), "buyer address"), me
    terms = AgreementTerms(
        buyer=buyer_addr,
        supplier=supplier_addr,
        arbiter=validate_address(arbiter, "arbiter address"),
        carrier=validate_address(carrier, "carrier address") if carrier else ZERO_ADDRESS,
        gtin=normalize_gtin(gtin),
        quantity=positive_int(quantity, "quantity"),
        uom=validate_uom(uom),
        tolerance_bps=parse_bps(tolerance, "--tolerance"),
        price=parse_amount(price, "price"),
        delivery_deadline=parse_time(deadline, "--deadline"),
        token=validate_address(token, "token address") if token else ZERO_ADDRESS,
        grace_period=parse_duration(grace, "--grace"),
        inspection_period=parse_duration(inspection, "--inspection"),
        arbiter_timeout=parse_duration(arbiter_timeout, "--arbiter-timeout"),
        penalty_bps_per_day=penalty_bps_per_day,
        penalty_cap_bps=penalty_cap_bps,
        required_claims=_required(claims),
        document=document_hash(doc, doc_hash),
        salt=salt,
    )
    agreement_id, result = env.agreements(write=True).propose(terms)
    if as_json:
        print_json(
            {
                "id": agreement_id,
                "termsHash": terms.terms_hash(),
                "escrow": terms.escrow(),
                "tx": result,
            }
        )
        return
    show_tx(result, f"proposed agreement {agreement_id}")


def _simple(name: str, verb: str, doc: str) -> click.Command:
    @click.command(name, help=doc)
    @click.argument("agreement_id", metavar="ID")
    @write_command
    @pass_env
    def command(env: Env, agreement_id: str) -> None:
        number = _id(agreement_id)
        result = getattr(env.agreements(write=True), verb)(number)
        for item in result if isinstance(result, list) else [result]:
            show_tx(item, item.description or f"{name} agreement {number}")

    return command


agreement.add_command(
    _simple(
        "accept",
        "accept",
        """Accept a proposed agreement (the party that did not propose it).

    \b
    Example:
        provenance agreement accept 1 --account farm
    """,
    )
)
agreement.add_command(
    _simple(
        "fund",
        "fund",
        """Fund an accepted agreement (the buyer), before its
    deadline: the escrow (price + the quantity tolerance) goes into the contract; what a
    delivery does not use comes back on settlement.

    \b
    Example:
        provenance agreement fund 1 --account processor
    """,
    )
)
agreement.add_command(
    _simple(
        "cancel",
        "cancel",
        """Cancel an agreement: before funding either party
    (nothing moves); once funded and while nothing is tendered, the supplier (the buyer is
    refunded in full; collect with `provenance agreement withdraw`).

    \b
    Example:
        provenance agreement cancel 1 --account processor
    """,
    )
)
agreement.add_command(
    _simple(
        "reclaim",
        "reclaim",
        """Take back the escrow (the buyer) when nothing was
    tendered by deadline + grace; the refund is credited to the buyer: collect it with
    `provenance agreement withdraw`.

    \b
    Example:
        provenance agreement reclaim 1 --account processor
        provenance agreement withdraw --account processor
    """,
    )
)
agreement.add_command(
    _simple(
        "withdraw-tender",
        "withdraw_tender",
        """Withdraw your tender (the supplier) before the
    tender point accepts it; the agreement is funded again and you may tender another batch.

    \b
    Example:
        provenance agreement withdraw-tender 1 --account farm
    """,
    )
)
agreement.add_command(
    _simple(
        "resolve-default",
        "resolve_by_default",
        """Apply the default to a dispute the arbiter left
    unresolved past its timeout (anyone may): after a rejection the buyer is refunded in full;
    after an escalation the supplier is paid as if accepted and title passes to the buyer.

    \b
    Example:
        provenance agreement resolve-default 1 --account farm
    """,
    )
)


@agreement.command()
@click.argument("agreement_id", metavar="ID")
@click.option("--reason", required=True, help="Why (text or 0x hash).")
@write_command
@pass_env
def escalate(env: Env, agreement_id: str, reason: str) -> None:
    """Escalate your tender to the arbiter (the supplier) when the buyer neither accepted nor
    rejected it within the inspection period. If the arbiter stays silent past its timeout the
    default pays you as if accepted (the buyer may still accept until then).

    \b
    Example:
        provenance agreement escalate 1 --reason "no answer in 3 days" --account farm
    """
    number = _id(agreement_id)
    show_tx(env.agreements(write=True).escalate(number, reason), f"escalated agreement {number}")


@agreement.command()
@click.argument("agreement_id", metavar="ID")
@click.option(
    "--supplier-amount",
    required=True,
    help="What the supplier gets (1.5eth, 1000wei…); the rest of the escrow goes to the buyer.",
)
@click.option(
    "--deliver",
    is_flag=True,
    help="Title passes to the buyer (escalated disputes only; else the goods stay the supplier's).",
)
@write_command
@pass_env
def resolve(env: Env, agreement_id: str, supplier_amount: str, deliver: bool) -> None:
    """Resolve a dispute (the arbiter): split the escrow and, for an escalated tender, decide
    whether title passes to the buyer.

    \b
    Example:
        provenance agreement resolve 1 --supplier-amount 0.8eth --deliver --account arbiter
    """
    number = _id(agreement_id)
    amount = parse_amount(supplier_amount, "--supplier-amount")
    result = env.agreements(write=True).resolve(number, amount, deliver=deliver)
    show_tx(result, f"resolved agreement {number}")


@agreement.command()
@click.option("--token", metavar="ADDRESS", help="ERC-20 token (default: native ETH).")
@write_command
@pass_env
def withdraw(env: Env, token: str | None) -> None:
    """Withdraw everything the agreements contract owes you in ETH (or --token).

    \b
    Example:
        provenance agreement withdraw --account farm
    """
    from provenance.types import ZERO_ADDRESS, validate_address

    address = validate_address(token, "token address") if token else ZERO_ADDRESS
    result = env.agreements(write=True).withdraw(address)
    show_tx(result, "withdrew")


def _money(amount: int, terms: Any) -> str:
    return format_eth(amount) if terms.is_eth else f"{amount} of token {terms.token}"


@agreement.command()
@click.argument("agreement_id", metavar="ID")
@json_option
@pass_env
def show(env: Env, agreement_id: str, as_json: bool) -> None:
    """Show an agreement: parties, tender point, goods, price and escrow, deadline, periods,
    penalty, required claims, status and its current tender.

    \b
    Example:
        provenance agreement show 1 --json
    """
    from provenance.types import DAY, bytes32_to_text

    found = env.agreements().get(_id(agreement_id))
    if as_json:
        print_json(found)
        return
    t = found.terms
    status = found.status.name
    if found.dispute_kind.value:
        status += f" ({found.dispute_kind.name.lower()})"
    console.print(f"agreement  {found.id}  [{status}]")
    console.print(f"buyer      {t.buyer}\nsupplier   {t.supplier}\narbiter    {t.arbiter}")
    point = f"carrier {t.carrier} (as FCA)" if t.has_carrier else "the buyer (as DAP)"
    console.print(f"tender to  {point}")
    tolerance = f" ± {t.tolerance_bps / 100:g} %" if t.tolerance_bps else ""
    console.print(f"goods      {t.quantity} {t.uom}{tolerance} of GTIN {t.gtin}")
    console.print(f"price      {_money(t.price, t)} (escrow {_money(t.escrow(), t)})")
    console.print(
        f"deadline   {format_time(t.delivery_deadline)} (+{t.grace_period / DAY:g} day(s) "
        f"grace; inspection {t.inspection_period / DAY:g} day(s), arbiter "
        f"{t.arbiter_timeout / DAY:g} day(s))"
    )
    console.print(f"penalty    {t.penalty_bps_per_day} bps/day, capped at {t.penalty_cap_bps} bps")
    for claim in t.required_claims:
        console.print(f"requires   {bytes32_to_text(claim.claim)} attested by {claim.attester}")
    if found.tendered_batch:
        console.print(
            f"tender     batch {found.tendered_batch} at {format_time(found.tendered_at)} "
            f"({found.days_late} day(s) late)"
        )


@agreement.command("list")
@json_option
@pass_env
def list_(env: Env, as_json: bool) -> None:
    """List every agreement with its status.

    \b
    Example:
        provenance agreement list
    """
    client = env.agreements()
    found = [client.get(i) for i in range(1, client.count() + 1)]
    if as_json:
        print_json(found)
        return
    out = table("id", "status", "buyer", "supplier", "GTIN", "qty", "price", "deadline")
    for a in found:
        t = a.terms
        out.add_row(
            str(a.id),
            a.status.name,
            t.buyer,
            t.supplier,
            t.gtin,
            f"{t.quantity} {t.uom}",
            format_eth(t.price) if t.is_eth else str(t.price),
            format_time(t.delivery_deadline),
        )
    console.print(out)


COMMANDS = [agreement]
