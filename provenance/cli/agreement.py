"""Supplier/buyer commands for escrowed supply agreements:
`agreement propose|accept|fund|deliver|dispute|resolve|withdraw|show|list`, and the exits that
keep funds from being locked: `agreement cancel|reclaim|resolve-default`."""

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
    format_eth,
    format_time,
    json_option,
    parse_amount,
    parse_batch_ref,
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
    """Escrowed supply agreements: the buyer funds, delivery of a batch into the buyer's custody
    pays the supplier (less a late penalty), disputes go to an arbiter. Exits: `cancel` before
    funding, `reclaim` by the buyer when nothing was delivered by deadline + grace,
    `resolve-default` when the arbiter does not rule in time.

    \b
    Example:
        provenance agreement propose --supplier 0x7099… --arbiter 0x3C44… --gtin 09506000134352 \\
            --quantity 500 --price 1eth --deadline +7d --account processor
        provenance agreement accept 1 --account farm
        provenance agreement fund 1 --account processor
    """


def _id(value: str) -> int:
    return positive_int(value, "agreement id")


@agreement.command()
@click.option("--supplier", metavar="ADDRESS", help="Supplier (you are the buyer).")
@click.option("--buyer", metavar="ADDRESS", help="Buyer (you are the supplier).")
@click.option("--arbiter", metavar="ADDRESS", required=True, help="Who resolves disputes.")
@click.option("--gtin", required=True, help="GTIN of the goods.")
@click.option("--quantity", "-q", required=True, help="Minimum quantity delivered.")
@click.option("--uom", default="KGM", show_default=True, help="Unit of the quantity.")
@click.option("--price", required=True, help="Price: 1.5eth, 20gwei, 1000wei (or token units).")
@click.option("--token", metavar="ADDRESS", help="ERC-20 token (default: native ETH).")
@click.option("--deadline", required=True, help="Delivery deadline: ISO date or +N[smhdw].")
@click.option("--grace", default="0", show_default=True, help="Grace period in seconds.")
@click.option(
    "--penalty-bps-per-day",
    type=click.IntRange(0, 10_000),
    default=0,
    show_default=True,
    help="Late penalty per full day late, in basis points.",
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
    default=7 * 24 * 3600,
    type=click.IntRange(min=1),
    show_default=True,
    help="Seconds the arbiter has to resolve a dispute.",
)
@click.option(
    "--require",
    "claims",
    multiple=True,
    metavar="CLAIM",
    help="Attestation claim the delivered batch must carry (repeatable).",
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
    gtin: str,
    quantity: str,
    uom: str,
    price: str,
    token: str | None,
    deadline: str,
    grace: str,
    penalty_bps_per_day: int,
    penalty_cap_bps: int,
    arbiter_timeout: int,
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
            --arbiter 0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC --gtin 09506000134352 \\
            --quantity 500 --price 1eth --deadline +7d --penalty-bps-per-day 100 \\
            --penalty-cap-bps 1000 --require ORGANIC --doc contract.pdf --account processor
    """
    from provenance.exceptions import InvalidInput
    from provenance.types import (
        ZERO_ADDRESS,
        AgreementTerms,
        normalize_gtin,
        text_to_bytes32,
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
        gtin=normalize_gtin(gtin),
        quantity=positive_int(quantity, "quantity"),
        uom=validate_uom(uom),
        price=parse_amount(price, "price"),
        delivery_deadline=parse_time(deadline, "--deadline"),
        token=validate_address(token, "token address") if token else ZERO_ADDRESS,
        grace_period=positive_int(grace, "grace period") if grace != "0" else 0,
        penalty_bps_per_day=penalty_bps_per_day,
        penalty_cap_bps=penalty_cap_bps,
        arbiter_timeout=arbiter_timeout,
        required_claims=tuple(text_to_bytes32(c) for c in claims),
        document=document_hash(doc, doc_hash),
        salt=salt,
    )
    agreement_id, result = env.agreements(write=True).propose(terms)
    if as_json:
        print_json({"id": agreement_id, "termsHash": terms.terms_hash(), "tx": result})
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
        """Accept a proposed agreement (the other party).

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
        """Fund an accepted agreement (the buyer): the price
    goes into escrow.

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
        """Cancel an agreement that is not funded yet (buyer or
    supplier). Nothing is escrowed, so nothing moves.

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
        """Take back the escrowed price (the buyer) when nothing
    was delivered by deadline + grace; the refund is credited to the buyer: collect it with
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
        "resolve-default",
        "resolve_by_default",
        """Close a dispute the arbiter left unresolved past the
    arbiter timeout: the buyer is refunded in full (anyone may call it) and collects it with
    `provenance agreement withdraw`.

    \b
    Example:
        provenance agreement resolve-default 1 --account farm
    """,
    )
)


@agreement.command()
@click.argument("agreement_id", metavar="ID")
@click.option(
    "--batch",
    "batch_ref",
    required=True,
    metavar="BATCH",
    help="The delivered batch (now in the buyer's custody).",
)
@click.option(
    "--attestation",
    "refs",
    multiple=True,
    metavar="ISSUER:EVIDENCE",
    help="Attestation for each required claim, in order (repeatable).",
)
@write_command
@pass_env
def deliver(env: Env, agreement_id: str, batch_ref: str, refs: tuple[str, ...]) -> None:
    """Settle a funded agreement by proving delivery: BATCH is in the buyer's custody and carries
    the required attestations. Anyone may call it; late delivery pays a penalty to the buyer.

    \b
    Example:
        provenance agreement deliver 1 --batch 0x5f… \\
            --attestation 0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC:0x9a… --account farm
    """
    from provenance.exceptions import InvalidInput
    from provenance.types import to_hex32, validate_address

    parsed = []
    for ref in refs:
        issuer, sep, evidence = ref.partition(":")
        if not sep:
            raise InvalidInput(f"invalid --attestation {ref!r}: expected ISSUER:EVIDENCE")
        parsed.append((validate_address(issuer, "attestation issuer"), to_hex32(evidence)))
    number = _id(agreement_id)
    result = env.agreements(write=True).claim_delivery(number, parse_batch_ref(batch_ref), parsed)
    show_tx(result, f"delivered agreement {number}")


@agreement.command()
@click.argument("agreement_id", metavar="ID")
@click.option("--reason", required=True, help="Why (text or 0x hash).")
@write_command
@pass_env
def dispute(env: Env, agreement_id: str, reason: str) -> None:
    """Raise a dispute on a funded agreement (buyer or supplier, before deadline + grace).

    \b
    Example:
        provenance agreement dispute 1 --reason "short delivery" --account processor
    """
    from provenance.types import text_to_bytes32

    number = _id(agreement_id)
    result = env.agreements(write=True).dispute(number, text_to_bytes32(reason))
    show_tx(result, f"disputed agreement {number}")


@agreement.command()
@click.argument("agreement_id", metavar="ID")
@click.option(
    "--supplier-amount",
    required=True,
    help="What the supplier gets (1.5eth, 1000wei…); the rest goes to the buyer.",
)
@write_command
@pass_env
def resolve(env: Env, agreement_id: str, supplier_amount: str) -> None:
    """Resolve a dispute (the arbiter).

    \b
    Example:
        provenance agreement resolve 1 --supplier-amount 0.8eth --account arbiter
    """
    number = _id(agreement_id)
    amount = parse_amount(supplier_amount, "--supplier-amount")
    result = env.agreements(write=True).resolve(number, amount)
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


@agreement.command()
@click.argument("agreement_id", metavar="ID")
@json_option
@pass_env
def show(env: Env, agreement_id: str, as_json: bool) -> None:
    """Show an agreement: parties, goods, price, deadline, penalty, status.

    \b
    Example:
        provenance agreement show 1 --json
    """
    found = env.agreements().get(_id(agreement_id))
    if as_json:
        print_json(found)
        return
    t = found.terms
    console.print(f"agreement  {found.id}  [{found.status.name}]")
    console.print(f"buyer      {t.buyer}\nsupplier   {t.supplier}\narbiter    {t.arbiter}")
    console.print(f"goods      {t.quantity} {t.uom} of GTIN {t.gtin}")
    price = format_eth(t.price) if t.is_eth else f"{t.price} of token {t.token}"
    console.print(f"price      {price}")
    console.print(f"deadline   {format_time(t.delivery_deadline)} (+{t.grace_period}s grace)")
    console.print(f"penalty    {t.penalty_bps_per_day} bps/day, capped at {t.penalty_cap_bps} bps")
    if t.required_claims:
        from provenance.types import bytes32_to_text

        console.print("requires   " + ", ".join(bytes32_to_text(c) for c in t.required_claims))


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
