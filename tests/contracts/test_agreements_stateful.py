"""Stateful property test of the SupplyAgreements lifecycle against a Python model.

A Hypothesis `RuleBasedStateMachine` proposes, accepts, cancels, funds, delivers (through real
registry custody), reclaims, disputes, resolves, resolves by default, withdraws and travels in
time, sending every operation from a random account. The model predicts the exact outcome (success
or the exact custom error) and after every step checks, on-chain and in the model:

- solvency: for ETH and the ERC-20, contract balance >= escrow + sum of unwithdrawn credits, where
  the escrow is the sum of the prices of the model's Funded / Disputed agreements (the contract
  stores no escrow total), and every on-chain `creditOf(account, token)` equals the model's;
- conservation: every Settled / Refunded / Resolved agreement paid supplier + buyer == price;
- terminal states are absorbing and each agreement pays out at most once;
- every status on-chain equals the model's.

Each example starts from the same chain snapshot (evm_snapshot / evm_revert). The profile comes from
HYPOTHESIS_PROFILE ("default": 200 examples, "deep": 2000; see tests/conftest.py), with at most
10 steps per example.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from test_agreements import (
    ACCEPTED,
    ALLOWED,
    CANCELLED,
    DAY,
    DISPUTED,
    ETH,
    FUNDED,
    GTIN,
    KGM,
    PROPOSED,
    REFUNDED,
    RESOLVED,
    SETTLED,
    STATUS_NAMES,
    TERMINAL,
    Reverted,
    Terms,
    World,
    penalty_model,
)
from test_agreements import world as world  # the module-scoped deployment fixture
from web3.logs import DISCARD

pytestmark = pytest.mark.anvil

STEPS = 10
ROLES = ["buyer", "supplier", "arbiter", "stranger"]
ACT_INDEX = st.integers(0, 50)  # which agreement (modulo the count; biased to ones the op fits)
ACT_ROLE = st.sampled_from(ROLES)
ACT_RIGHTFUL = st.integers(0, 3).map(bool)  # 3 in 4: the op's rightful sender
ACT_AWARD = st.integers(0, 10_001)  # resolve: basis points to the supplier, 10_001 = price + 1
ACT_REUSE = st.integers(0, 4).map(lambda n: n == 0)  # 1 in 5: present an already-claimed batch
# The forward steps `advance` takes (cancel is left to the `cancel` rule).
FORWARD = {
    PROPOSED: ["accept"],
    ACCEPTED: ["fund"],
    FUNDED: ["claimDelivery", "reclaim", "dispute"],
    DISPUTED: ["resolve", "resolveByDefault"],
}
ACT = rule(
    index=ACT_INDEX, role=ACT_ROLE, rightful=ACT_RIGHTFUL, award=ACT_AWARD, reuse_batch=ACT_REUSE
)


# The strategies of one agreement's terms, shared by the first agreement and later proposals.
TERMS = {
    "erc20": st.booleans(),
    "price": st.integers(1, 10**20),
    "bps": st.integers(0, 3_000),
    "cap": st.integers(0, 10_000),
    "deadline_in": st.integers(1, 10 * DAY),
    "grace": st.integers(0, 5 * DAY),
    "timeout": st.integers(1, 5 * DAY),
    "by_supplier": st.booleans(),
}


@dataclass
class Model:
    terms: Terms
    status: int
    proposed_by_buyer: bool
    disputed_at: int = 0
    payouts: int = 0  # payout events seen (settle / refund / resolve)
    paid_supplier: int = 0
    paid_buyer: int = 0


class AgreementsMachine(RuleBasedStateMachine):
    w: World
    token: str
    snapshot_id: Any = None

    def __init__(self) -> None:
        super().__init__()
        w = self.w
        rpc = w.w3.provider.make_request
        rpc("evm_revert", [type(self).snapshot_id])  # type: ignore[arg-type]
        type(self).snapshot_id = rpc("evm_snapshot", [])["result"]  # type: ignore[arg-type]
        self.clock = w.now()
        self.agreements: dict[int, Model] = {}
        self.escrow = {ETH: 0, self.token: 0}
        self.credits: dict[tuple[str, str], int] = {}
        self.used_batches: list[bytes] = []

    # ------------------------------------------------------------ helpers

    def send(self, call: Any, sender: str, value: int = 0, *, succeeds: bool = True) -> Any:
        """Mine `call` at exactly clock + 1 so the model knows `block.timestamp`.

        A call the model expects to succeed skips gas estimation; if it reverts after all, the
        receipt check fails the test.
        """
        self.clock += 1
        self.w.set_next_timestamp(self.clock)
        return self.w.tx(call, sender, value, gas=1_000_000 if succeeds else None)

    def expect_revert(self, call: Any, sender: str, value: int = 0) -> Reverted | None:
        """Send a call the model expects to revert; return the error (None if it did not revert)."""
        try:
            self.send(call, sender, value, succeeds=False)
        except Reverted as exc:
            # The refused transaction mined nothing; mine an empty block at the timestamp it was
            # given so the node's next-timestamp override does not linger.
            self.w.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
            return exc
        return None

    def who(self, role: str) -> str:
        return str(getattr(self.w, role))

    def pick(self, index: int, op: str) -> tuple[int, Model]:
        """An agreement whose status allows `op` for three of four indexes, else any agreement."""
        ids = sorted(self.agreements)
        fitting = [i for i in ids if op in ALLOWED[self.agreements[i].status]]
        pool = fitting if fitting and index % 4 else ids
        agreement = pool[index % len(pool)]
        return agreement, self.agreements[agreement]

    def credit(self, account: str, token: str, amount: int) -> None:
        if amount:
            self.credits[(account, token)] = self.credits.get((account, token), 0) + amount

    def predict(self, op: str, m: Model, sender: str, now: int, amount: int) -> str | None:
        t = m.terms
        if op not in ALLOWED[m.status]:
            return "AgreementsWrongStatus"
        parties = (t.buyer, t.supplier)
        if op == "accept" and sender != (t.supplier if m.proposed_by_buyer else t.buyer):
            return "AgreementsNotCounterparty"
        if op in ("cancel", "dispute") and sender not in parties:
            return "AgreementsNotParty"
        if op in ("fund", "reclaim") and sender != t.buyer:
            return "AgreementsNotBuyer"
        if op == "resolve" and sender != t.arbiter:
            return "AgreementsNotArbiter"
        if op == "reclaim" and now <= t.delivery_deadline + t.grace_period:
            return "AgreementsNotRefundableYet"
        if op == "dispute" and now > t.delivery_deadline + t.grace_period:
            return "AgreementsDisputeWindowClosed"
        if op == "resolve" and amount > t.price:
            return "AgreementsAwardTooHigh"
        if op == "resolveByDefault" and now <= m.disputed_at + t.arbiter_timeout:
            return "AgreementsArbiterTimeoutPending"
        return None

    def pay(self, agreement: int, m: Model, to_supplier: int, to_buyer: int, status: int) -> None:
        t = m.terms
        self.escrow[t.token] -= t.price
        self.credit(t.supplier, t.token, to_supplier)
        self.credit(t.buyer, t.token, to_buyer)
        m.status = status
        m.payouts += 1
        m.paid_supplier, m.paid_buyer = to_supplier, to_buyer

    # ------------------------------------------------------------ rules

    @initialize(**TERMS)
    def first_agreement(
        self,
        erc20: bool,
        price: int,
        bps: int,
        cap: int,
        deadline_in: int,
        grace: int,
        timeout: int,
        by_supplier: bool,
    ) -> None:
        """Every example starts with one funded agreement, so the steps go deeper."""
        self.propose(erc20, price, bps, cap, deadline_in, grace, timeout, by_supplier)
        self.act("accept", 0, "buyer", True, 0, False, chosen=len(self.agreements))
        self.act("fund", 0, "buyer", True, 0, False, chosen=len(self.agreements))
        assert self.agreements[len(self.agreements)].status == FUNDED

    @rule(**TERMS)
    def propose(
        self,
        erc20: bool,
        price: int,
        bps: int,
        cap: int,
        deadline_in: int,
        grace: int,
        timeout: int,
        by_supplier: bool,
    ) -> None:
        w = self.w
        terms = w.terms(
            token=self.token if erc20 else ETH,
            price=price,
            penalty_bps_per_day=bps,
            penalty_cap_bps=cap,
            delivery_deadline=self.clock + 1 + deadline_in,
            grace_period=grace,
            arbiter_timeout=timeout,
        )
        sender = terms.supplier if by_supplier else terms.buyer
        receipt = self.send(w.fns.propose(terms.as_tuple()), sender)
        (event,) = w.agreements.events.AgreementProposed().process_receipt(receipt, errors=DISCARD)
        assert event.args.id == len(self.agreements) + 1
        self.agreements[event.args.id] = Model(terms, PROPOSED, proposed_by_buyer=not by_supplier)

    @precondition(lambda self: self.agreements)
    @ACT
    def accept(self, index: int, role: str, rightful: bool, award: int, reuse_batch: bool) -> None:
        self.act("accept", index, role, rightful, award, reuse_batch)

    @precondition(lambda self: self.agreements)
    @ACT
    def cancel(self, index: int, role: str, rightful: bool, award: int, reuse_batch: bool) -> None:
        self.act("cancel", index, role, rightful, award, reuse_batch)

    @precondition(lambda self: self.agreements)
    @ACT
    def fund(self, index: int, role: str, rightful: bool, award: int, reuse_batch: bool) -> None:
        self.act("fund", index, role, rightful, award, reuse_batch)

    @precondition(lambda self: self.agreements)
    @ACT
    def claim_delivery(
        self, index: int, role: str, rightful: bool, award: int, reuse_batch: bool
    ) -> None:
        self.act("claimDelivery", index, role, rightful, award, reuse_batch)

    @precondition(lambda self: self.agreements)
    @ACT
    def reclaim(self, index: int, role: str, rightful: bool, award: int, reuse_batch: bool) -> None:
        self.act("reclaim", index, role, rightful, award, reuse_batch)

    @precondition(lambda self: self.agreements)
    @ACT
    def dispute(self, index: int, role: str, rightful: bool, award: int, reuse_batch: bool) -> None:
        self.act("dispute", index, role, rightful, award, reuse_batch)

    @precondition(lambda self: self.agreements)
    @ACT
    def resolve(self, index: int, role: str, rightful: bool, award: int, reuse_batch: bool) -> None:
        self.act("resolve", index, role, rightful, award, reuse_batch)

    @precondition(lambda self: self.agreements)
    @ACT
    def resolve_by_default(
        self, index: int, role: str, rightful: bool, award: int, reuse_batch: bool
    ) -> None:
        self.act("resolveByDefault", index, role, rightful, award, reuse_batch)

    @precondition(lambda self: any(m.status not in TERMINAL for m in self.agreements.values()))
    @rule(index=ACT_INDEX, choice=st.integers(0, 5), award=ACT_AWARD)
    def advance(self, index: int, choice: int, award: int) -> None:
        """Drive a live agreement one step along its lifecycle with the rightful sender.

        A time-gated step (reclaim, resolveByDefault) first jumps to the moment it becomes
        possible, so deep paths are reached within a few steps; the `reclaim` and
        `resolve_by_default` rules try them at random times.
        """
        live = [i for i in sorted(self.agreements) if self.agreements[i].status not in TERMINAL]
        agreement = live[index % len(live)]
        m = self.agreements[agreement]
        ops = FORWARD[m.status]
        op = ops[choice % len(ops)]
        t = m.terms
        if op in ("reclaim", "resolveByDefault"):
            gate = (
                t.delivery_deadline + t.grace_period
                if op == "reclaim"
                else m.disputed_at + t.arbiter_timeout
            )
            if gate + 1 > self.clock + 1:
                self.clock = gate  # the step's transaction is mined at gate + 1
                self.w.set_next_timestamp(gate)
                self.w.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        self.act(op, index, "buyer", True, award, False, chosen=agreement)

    def act(
        self,
        op: str,
        index: int,
        role: str,
        rightful: bool,
        award: int,
        reuse_batch: bool,
        chosen: int | None = None,
    ) -> None:
        """Try `op` on an agreement: from its rightful sender or a random one, in any status."""
        w = self.w
        if chosen is None:
            agreement, m = self.pick(index, op)
        else:
            agreement, m = chosen, self.agreements[chosen]
        t = m.terms
        sender = self.who(role)
        if rightful:
            sender = {
                "accept": t.supplier if m.proposed_by_buyer else t.buyer,
                "cancel": t.buyer,
                "fund": t.buyer,
                "reclaim": t.buyer,
                "dispute": t.supplier,
                "resolve": t.arbiter,
            }.get(op, sender)
        amount = t.price + 1 if award > 10_000 else t.price * award // 10_000
        tt = t.as_tuple()
        batch = b"\0" * 32
        registry_error = None
        if op == "claimDelivery" and m.status == FUNDED:
            if reuse_batch and self.used_batches:
                batch, registry_error = self.used_batches[0], "RegistryDeliveryAlreadyClaimed"
            else:
                batch = self.deliver()
        call = {
            "accept": w.fns.accept(agreement, tt),
            "cancel": w.fns.cancel(agreement, tt),
            "fund": w.fns.fund(agreement, tt),
            "claimDelivery": w.fns.claimDelivery(agreement, tt, batch, []),
            "reclaim": w.fns.reclaim(agreement, tt),
            "dispute": w.fns.dispute(agreement, tt, b"\x01" * 32),
            "resolve": w.fns.resolve(agreement, tt, amount),
            "resolveByDefault": w.fns.resolveByDefault(agreement, tt),
        }[op]
        value = t.price if op == "fund" and t.token == ETH else 0
        now = self.clock + 1
        expected = self.predict(op, m, sender, now, amount) or registry_error
        if expected is not None:
            error = self.expect_revert(call, sender, value)
            state = STATUS_NAMES[m.status]
            assert error is not None, f"{op} on {state} by {role} should revert {expected}"
            assert (op, state, error.name) == (op, state, expected)
            return
        receipt = self.send(call, sender, value)
        self.apply(op, agreement, m, now, amount, receipt, batch)

    def deliver(self) -> bytes:
        """Create a batch as the supplier, hand it to the buyer, who accepts: custody proven."""
        w = self.w
        lot = w.new_lot()
        self.send(w.registry.functions.createBatch(GTIN, lot, 100, KGM, b"\0" * 32), w.supplier)
        batch = bytes(w.registry.functions.batchIdOf(GTIN, lot).call())
        handoff = (batch, w.supplier, w.buyer, 0, 0, 0, True, b"\0" * 32)
        self.send(w.registry.functions.initiateHandoff(handoff), w.supplier)
        self.send(w.registry.functions.acceptHandoff(batch), w.buyer)
        return batch

    def apply(
        self, op: str, agreement: int, m: Model, now: int, amount: int, receipt: Any, batch: bytes
    ) -> None:
        t = m.terms
        events = self.w.agreements.events
        if op == "accept":
            m.status = ACCEPTED
        elif op == "cancel":
            m.status = CANCELLED
        elif op == "fund":
            m.status = FUNDED
            self.escrow[t.token] += t.price
        elif op == "claimDelivery":
            days_late = (now - t.delivery_deadline) // DAY if now > t.delivery_deadline else 0
            penalty = penalty_model(t.price, t.penalty_bps_per_day, t.penalty_cap_bps, days_late)
            (event,) = events.DeliverySettled().process_receipt(receipt, errors=DISCARD)
            assert (event.args.supplierAmount, event.args.buyerAmount, event.args.daysLate) == (
                t.price - penalty,
                penalty,
                days_late,
            )
            self.pay(agreement, m, t.price - penalty, penalty, SETTLED)
            self.used_batches.append(batch)
        elif op == "reclaim":
            (event,) = events.AgreementRefunded().process_receipt(receipt, errors=DISCARD)
            assert event.args.amount == t.price
            self.pay(agreement, m, 0, t.price, REFUNDED)
        elif op == "dispute":
            m.status = DISPUTED
            m.disputed_at = now
        elif op in ("resolve", "resolveByDefault"):
            (event,) = events.DisputeResolved().process_receipt(receipt, errors=DISCARD)
            supplier_amount = amount if op == "resolve" else 0
            assert (event.args.supplierAmount, event.args.buyerAmount, event.args.byDefault) == (
                supplier_amount,
                t.price - supplier_amount,
                op == "resolveByDefault",
            )
            self.pay(agreement, m, supplier_amount, t.price - supplier_amount, RESOLVED)

    @rule(role=st.sampled_from(ROLES), erc20=st.booleans())
    def withdraw(self, role: str, erc20: bool) -> None:
        w = self.w
        account, token = self.who(role), self.token if erc20 else ETH
        owed = self.credits.get((account, token), 0)
        if owed == 0:
            error = self.expect_revert(w.fns.withdraw(token), account)
            assert error is not None, "withdraw without credit succeeded"
            assert error.name == "AgreementsNothingToWithdraw"
            return
        balance_before = self.balance_of(account, token)
        receipt = self.send(w.fns.withdraw(token), account)
        fee = receipt.gasUsed * receipt.effectiveGasPrice if token == ETH else 0
        assert self.balance_of(account, token) == balance_before + owed - fee
        del self.credits[(account, token)]

    @rule(seconds=st.sampled_from([60, 3_600, DAY - 1, DAY, 3 * DAY, 8 * DAY, 20 * DAY]))
    def travel(self, seconds: int) -> None:
        # evm_increaseTime moves the node's clock, which may lag our per-transaction timestamps by a
        # few seconds; the model simply continues from the mined block's time.
        self.w.travel(seconds)
        now = self.w.now()
        assert now > self.clock
        self.clock = now

    def balance_of(self, account: str, token: str) -> int:
        if token == ETH:
            return int(self.w.w3.eth.get_balance(account))
        return int(self.erc20.functions.balanceOf(account).call())

    # ------------------------------------------------------------ invariants

    def read(self, calls: list[tuple[str, str, list[str], list[Any]]]) -> list[int]:
        """Many uint256 views in one JSON-RPC batch (web3's contract layer costs ~7 ms a call)."""
        requests: list[tuple[str, Any]] = []
        for to, signature, types, args in calls:
            if signature == "balance":
                requests.append(("eth_getBalance", [args[0], "latest"]))
                continue
            data = keccak(text=signature)[:4] + abi_encode(types, args)
            requests.append(("eth_call", [{"to": to, "data": "0x" + data.hex()}, "latest"]))
        responses = self.w.w3.provider.make_batch_request(requests)  # type: ignore[arg-type]
        assert isinstance(responses, list)
        return [int(r["result"], 16) for r in responses]

    @invariant()
    def solvent_and_matching_the_model(self) -> None:
        w = self.w
        contract = w.agreements.address
        accounts = [self.who(r) for r in ROLES]
        calls: list[tuple[str, str, list[str], list[Any]]] = [
            ("", "balance", [], [contract]),
            (self.token, "balanceOf(address)", ["address"], [contract]),
        ]
        for token in (ETH, self.token):
            calls += [
                (contract, "creditOf(address,address)", ["address", "address"], [a, token])
                for a in accounts
            ]
        calls += [
            (contract, "statusOf(uint256)", ["uint256"], [i]) for i in sorted(self.agreements)
        ]
        results = self.read(calls)
        balances = {ETH: results[0], self.token: results[1]}
        cursor = 2
        for token in (ETH, self.token):
            # No escrow total is stored on-chain: the model's escrow is the sum of the prices of
            # its Funded and Disputed agreements in this token.
            escrowed = sum(
                m.terms.price
                for m in self.agreements.values()
                if m.status in (FUNDED, DISPUTED) and m.terms.token == token
            )
            assert escrowed == self.escrow[token]  # the model's running total agrees
            credits = results[cursor : cursor + len(accounts)]
            cursor += len(accounts)
            model_credits = [self.credits.get((a, token), 0) for a in accounts]
            assert credits == model_credits
            assert balances[token] >= escrowed + sum(credits)
            # Nothing leaks in: this machine never sends tokens to the contract outside `fund`.
            assert balances[token] == escrowed + sum(credits)
        statuses = results[cursor:]
        for (agreement, m), status in zip(sorted(self.agreements.items()), statuses, strict=True):
            assert (agreement, STATUS_NAMES[status]) == (agreement, STATUS_NAMES[m.status])

    @invariant()
    def conservation_and_single_payout(self) -> None:
        for m in self.agreements.values():
            assert m.payouts <= 1
            if m.status in (SETTLED, REFUNDED, RESOLVED):
                assert m.payouts == 1
                assert m.paid_supplier + m.paid_buyer == m.terms.price
            else:
                assert m.payouts == 0
            assert m.status in TERMINAL or m.status in (PROPOSED, ACCEPTED, FUNDED, DISPUTED)


def test_agreement_lifecycle_keeps_its_invariants(world: World) -> None:
    w = world
    token = w.deploy("MockERC20", "Mock", "MCK")
    w.tx(token.functions.mint(w.buyer, 10**30), w.admin)
    w.tx(token.functions.approve(w.agreements.address, 2**256 - 1), w.buyer)
    rpc = w.w3.provider.make_request
    AgreementsMachine.w = w
    AgreementsMachine.token = token.address
    AgreementsMachine.erc20 = token  # type: ignore[attr-defined]
    AgreementsMachine.snapshot_id = rpc("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    profile = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
    run_state_machine_as_test(
        AgreementsMachine,
        settings=settings(
            profile,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    rpc("evm_revert", [AgreementsMachine.snapshot_id])  # type: ignore[arg-type]
