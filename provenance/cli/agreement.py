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

from provenance.cli.context import CONTEXT_SETTINGS, Env, ProvenanceGroup, pass_env
from provenance.cli.options import (
    GTIN,
    REQUIRED_CLAIM,
    UOM,
    UOM_HELP,
    AddressType,
    AmountType,
    BpsType,
    DurationType,
    IdType,
    MomentType,
    QuantityType,
    Text32Type,
    UintType,
    doc_options,
    document_hash,
    json_option,
    write_command,
)
from provenance.cli.output import console, format_eth, format_time, print_json, show_tx, table

AGREEMENT_ID = IdType("agreement id")


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


@agreement.command()
@click.option("--supplier", type=AddressType("supplier address"), help="Supplier (you buy).")
@click.option("--buyer", type=AddressType("buyer address"), help="Buyer (you sell).")
@click.option(
    "--arbiter", type=AddressType("arbiter address"), required=True, help="Who resolves disputes."
)
@click.option(
    "--carrier",
    type=AddressType("carrier address"),
    help="The tender point, a carrier for the buyer (as FCA); default: the buyer (as DAP).",
)
@click.option("--gtin", type=GTIN, required=True, help="GTIN of the goods.")
@click.option("--quantity", "-q", type=QuantityType(), required=True, help="Agreed quantity.")
@click.option("--uom", type=UOM, default="KGM", show_default=True, help=UOM_HELP)
@click.option(
    "--tolerance",
    type=BpsType("--tolerance"),
    default="0",
    show_default=True,
    help="Accepted deviation of the delivered quantity: basis points (200) or percent (2%).",
)
@click.option(
    "--price",
    type=AmountType("--price", positive=True),
    required=True,
    help="Price of --quantity, exact: 1.5eth, 20gwei, 1000wei (token units with --token).",
)
@click.option("--token", type=AddressType("--token"), help="ERC-20 token (default: native ETH).")
@click.option(
    "--deadline",
    type=MomentType("--deadline"),
    required=True,
    help="Tender deadline, after the next block: unix time (s), ISO date or +N[smhdw].",
)
@click.option(
    "--grace",
    type=DurationType("--grace"),
    default="0",
    show_default=True,
    help="How long after the deadline a late tender is still accepted (seconds, 12h, 5d…).",
)
@click.option(
    "--inspection",
    type=DurationType("--inspection"),
    default="3d",
    show_default=True,
    help="How long the buyer has to accept or reject a tender before the supplier may escalate.",
)
@click.option(
    "--penalty-bps-per-day",
    type=BpsType("--penalty-bps-per-day"),
    default="0",
    show_default=True,
    help="Late penalty per whole day late at the tender, in basis points of the payment.",
)
@click.option(
    "--penalty-cap-bps",
    type=BpsType("--penalty-cap-bps"),
    default="0",
    show_default=True,
    help="Maximum total penalty, in basis points.",
)
@click.option(
    "--arbiter-timeout",
    type=DurationType("--arbiter-timeout"),
    default="7d",
    show_default=True,
    help="How long the arbiter has to resolve a dispute (seconds, 12h, 7d…).",
)
@click.option(
    "--require",
    "claims",
    type=REQUIRED_CLAIM,
    multiple=True,
    help="A claim the goods (or an ancestor) must carry, attested by that certifier (repeat).",
)
@click.option(
    "--salt",
    type=UintType(256, "--salt"),
    default="0",
    help="Distinguishes equal terms (a whole number below 2^256).",
)
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
    quantity: int,
    uom: str,
    tolerance: int,
    price: int,
    token: str | None,
    deadline: int,
    grace: int,
    inspection: int,
    penalty_bps_per_day: int,
    penalty_cap_bps: int,
    arbiter_timeout: int,
    claims: tuple[Any, ...],
    salt: int,
    doc: Path | None,
    doc_hash: str | None,
    as_json: bool,
) -> None:
    """Propose an agreement to the other party (give --supplier if you buy, --buyer if you sell).

    The terms are checked as the contract will check them before anything is signed: the
    deadline after the next block's time, an ERC-20 --token that is a contract on this chain.

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
    from provenance.encoding import ZERO_ADDRESS
    from provenance.exceptions import InvalidInput
    from provenance.records import AgreementTerms

    if (supplier is None) == (buyer is None):
        raise InvalidInput("give exactly one of --supplier (you buy) or --buyer (you sell)")
    me: str = env.signer().address
    buyer_addr, supplier_addr = (me, str(supplier)) if supplier is not None else (str(buyer), me)
    terms = AgreementTerms(
        buyer=buyer_addr,
        supplier=supplier_addr,
        arbiter=arbiter,
        carrier=carrier or ZERO_ADDRESS,
        gtin=gtin,
        quantity=quantity,
        uom=uom,
        tolerance_bps=tolerance,
        price=price,
        delivery_deadline=deadline,
        token=token or ZERO_ADDRESS,
        grace_period=grace,
        inspection_period=inspection,
        arbiter_timeout=arbiter_timeout,
        penalty_bps_per_day=penalty_bps_per_day,
        penalty_cap_bps=penalty_cap_bps,
        required_claims=tuple(claims),
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
    @click.argument("agreement_id", metavar="ID", type=AGREEMENT_ID)
    @write_command
    @pass_env
    def command(env: Env, agreement_id: int) -> None:
        result = getattr(env.agreements(write=True), verb)(agreement_id)
        for item in result if isinstance(result, list) else [result]:
            show_tx(item, item.description or f"{name} agreement {agreement_id}")

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
@click.argument("agreement_id", metavar="ID", type=AGREEMENT_ID)
@click.option(
    "--reason", type=Text32Type("reason", required=True), required=True, help="Why (text or hash)."
)
@write_command
@pass_env
def escalate(env: Env, agreement_id: int, reason: str) -> None:
    """Escalate your tender to the arbiter (the supplier) when the buyer neither accepted nor
    rejected it within the inspection period. If the arbiter stays silent past its timeout the
    default pays you as if accepted (the buyer may still accept until then).

    \b
    Example:
        provenance agreement escalate 1 --reason "no answer in 3 days" --account farm
    """
    result = env.agreements(write=True).escalate(agreement_id, reason)
    show_tx(result, f"escalated agreement {agreement_id}")


@agreement.command()
@click.argument("agreement_id", metavar="ID", type=AGREEMENT_ID)
@click.option(
    "--supplier-amount",
    type=AmountType("--supplier-amount"),
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
def resolve(env: Env, agreement_id: int, supplier_amount: int, deliver: bool) -> None:
    """Resolve a dispute (the arbiter): split the escrow and, for an escalated tender, decide
    whether title passes to the buyer.

    \b
    Example:
        provenance agreement resolve 1 --supplier-amount 0.8eth --deliver --account arbiter
    """
    result = env.agreements(write=True).resolve(agreement_id, supplier_amount, deliver=deliver)
    show_tx(result, f"resolved agreement {agreement_id}")


@agreement.command()
@click.option("--token", type=AddressType("--token"), help="ERC-20 token (default: native ETH).")
@write_command
@pass_env
def withdraw(env: Env, token: str | None) -> None:
    """Withdraw everything the agreements contract owes you in ETH (or --token).

    \b
    Example:
        provenance agreement withdraw --account farm
    """
    from provenance.encoding import ZERO_ADDRESS

    result = env.agreements(write=True).withdraw(token or ZERO_ADDRESS)
    show_tx(result, "withdrew")


def _money(amount: int, terms: Any) -> str:
    return format_eth(amount) if terms.is_eth else f"{amount} of token {terms.token}"


@agreement.command()
@click.argument("agreement_id", metavar="ID", type=AGREEMENT_ID)
@json_option
@pass_env
def show(env: Env, agreement_id: int, as_json: bool) -> None:
    """Show an agreement: parties, tender point, goods, price and escrow, deadline, periods,
    penalty, required claims, status and its current tender.

    \b
    Example:
        provenance agreement show 1 --json
    """
    from provenance.encoding import bytes32_to_text
    from provenance.times import DAY

    found = env.agreements().get(agreement_id)
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
