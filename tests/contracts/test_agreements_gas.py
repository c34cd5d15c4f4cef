"""Gas budget of SupplyAgreements (docs/design.md, "Gas budget"): whole-transaction gasUsed.

Each measurement is appended to tests/.gas/agreements.jsonl as {"op", "gas", "limit", "floor"}.
Measured in the steady state of a live contract (earlier agreements exist, so the agreement counter
is non-zero) and on a fresh contract (the first propose writes the counter from zero, the first
fund is the first in its token); credits are always written fresh (the worst case for a payout).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_agreements import DAY, ETH, FUNDED, World, token_of
from test_agreements import world as world  # the module-scoped deployment fixture
from web3.logs import DISCARD

pytestmark = pytest.mark.anvil

GAS_LOG = Path(__file__).resolve().parent.parent / ".gas" / "agreements.jsonl"

# op -> (limit, floor from docs/design.md or None)
BUDGET: dict[str, tuple[int, int | None]] = {
    "propose": (100_000, 73_000),  # the floor for two packed slots; we use one
    "propose (first on a fresh contract)": (100_000, 73_000),
    "accept": (50_000, None),
    "fund (ETH)": (45_000, None),
    "fund (ETH, first on a fresh contract)": (45_000, None),
    "fund (ERC-20)": (80_000, None),
    "claimDelivery + settle (on time)": (100_000, None),
    # Writes two fresh credit slots (supplier and buyer, 2 x 22,100): the tightest row.
    "claimDelivery + settle (late, penalty)": (100_000, None),
    "withdraw (ETH)": (35_000, None),
}


def record(op: str, receipt: Any) -> int:
    limit, floor = BUDGET[op]
    gas = int(receipt.gasUsed)
    GAS_LOG.parent.mkdir(parents=True, exist_ok=True)
    with GAS_LOG.open("a") as log:
        log.write(json.dumps({"op": op, "gas": gas, "limit": limit, "floor": floor}) + "\n")
    assert gas <= limit, f"{op}: {gas} gas > limit {limit}"
    return gas


@pytest.fixture
def warm(world: World, snapshot: None) -> World:
    """A contract that has already seen one funded ETH agreement (counter non-zero)."""
    world.reach(world.terms(), FUNDED)
    return world


def test_first_propose_and_fund_on_a_fresh_contract_gas(world: World, snapshot: None) -> None:
    w = world
    assert int(w.fns.agreementCount().call()) == 0
    assert w.token_balance(ETH) == 0
    terms = w.terms()
    record("propose (first on a fresh contract)", w.tx(w.fns.propose(terms.as_tuple()), w.buyer))
    w.tx(w.fns.accept(1, terms.as_tuple()), w.supplier)
    record(
        "fund (ETH, first on a fresh contract)",
        w.tx(w.fns.fund(1, terms.as_tuple()), w.buyer, terms.price),
    )


def test_propose_accept_fund_eth_gas(warm: World) -> None:
    w = warm
    terms = w.terms()
    receipt = w.tx(w.fns.propose(terms.as_tuple()), w.buyer)
    record("propose", receipt)
    agreement = int(w.fns.agreementCount().call())
    record("accept", w.tx(w.fns.accept(agreement, terms.as_tuple()), w.supplier))
    record("fund (ETH)", w.tx(w.fns.fund(agreement, terms.as_tuple()), w.buyer, terms.price))


def test_fund_erc20_gas(warm: World) -> None:
    w = warm
    token = token_of(w, "MockERC20", "Mock", "MCK")
    first = w.terms(token=token.address, price=10**9)
    w.reach(first, FUNDED)
    terms = w.terms(token=token.address, price=10**9)
    agreement = w.propose(terms)
    w.tx(w.fns.accept(agreement, terms.as_tuple()), w.supplier)
    record("fund (ERC-20)", w.tx(w.fns.fund(agreement, terms.as_tuple()), w.buyer))


@pytest.mark.parametrize("late_days", [0, 3], ids=["on time", "late, penalty"])
def test_claim_delivery_and_settle_gas(warm: World, late_days: int) -> None:
    w = warm
    terms = w.terms()
    agreement = w.reach(terms, FUNDED)
    batch = w.delivered_batch()
    if late_days:
        w.travel(terms.delivery_deadline - w.now() + late_days * DAY + 3600)
    receipt = w.claim(agreement, terms, batch)
    (event,) = w.agreements.events.DeliverySettled().process_receipt(receipt, errors=DISCARD)
    assert event.args.daysLate == late_days
    assert (event.args.buyerAmount > 0) == bool(late_days)
    op = (
        "claimDelivery + settle (late, penalty)"
        if late_days
        else "claimDelivery + settle (on time)"
    )
    record(op, receipt)


def test_withdraw_eth_gas(warm: World) -> None:
    w = warm
    terms = w.terms()
    w.claim(w.reach(terms, FUNDED), terms, w.delivered_batch())
    record("withdraw (ETH)", w.tx(w.fns.withdraw(ETH), w.supplier))
