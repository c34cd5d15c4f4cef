"""Stateful property test of SupplyAgreements and the bound deliveries it drives in the registry.

A Hypothesis `RuleBasedStateMachine` proposes agreements (ETH or an ERC-20, delivered to the buyer
or to a named carrier, with or without a required claim and a quantity tolerance), then accepts,
cancels, funds, tenders (fresh batches, batches out of tolerance, of another product, or batches
already in use), withdraws tenders, moves the goods through the carrier, accepts and rejects
deliveries, escalates, resolves, applies defaults, reclaims, withdraws credits, recalls goods and
travels in time, sending every operation from its rightful party or from anyone. A Python model
predicts each outcome: success, or the exact custom error with its arguments.

Time never comes from the wall clock: every transaction is mined at exactly one second after the
previous block (`evm_setNextBlockTimestamp`), and a call the model expects to revert is checked
with `eth_call` on an empty block mined at that same second, so deadlines, grace periods,
inspection periods and arbiter timeouts are compared with the block time the contract sees.

After every step the invariants of `ISupplyAgreements` are checked on chain:

1. solvency: per token, the contract holds exactly the escrows of Funded, Tendered and Disputed
   agreements plus every unwithdrawn credit (and the credits equal the model's);
2. conservation: every Settled, Refunded or Resolved agreement paid out exactly its escrow;
3. penalty: the supplier of a delivery gets the pro-rata payment minus at most `penaltyCapBps`;
4. terminal states absorb, each agreement pays out once, each delivery pays one agreement;
5./6. the buyer owns goods only through the agreement that paid for them (accepted, or awarded
   by default or by the arbiter), never through one that refunded it;
and custody, title, pending handoffs and bindings of every batch equal the model's.

Each example starts from the same chain snapshot. `HYPOTHESIS_PROFILE=deep` runs 2000 examples
instead of 200 (tests/conftest.py), at most 15 steps each.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from eth_abi import decode, encode
from eth_utils import keccak
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.support.contracts import (
    ACCEPTED,
    CANCELLED,
    CLAIM_ORGANIC,
    DAY,
    DISPUTED,
    DOC,
    ESCALATED,
    ETH,
    FUNDED,
    GTIN,
    GTIN_B,
    LEG,
    NO_DISPUTE,
    PROPOSED,
    REASON,
    REFUNDED,
    REJECTED,
    RESOLVED,
    SETTLED,
    STATUS_NAMES,
    TENDERED,
    TERMINAL,
    ZERO,
    ZERO32,
    BatchInfo,
    Terms,
    World,
    days_late,
    within_tolerance,
)

STEPS = 15
ROLES = ("buyer", "supplier", "arbiter", "carrier", "stranger")
ESCROWED = (FUNDED, TENDERED, DISPUTED)
Expected = tuple[str, tuple[Any, ...]] | None
OUTCOMES: Counter[str] = Counter()  # what the run exercised: "fn: ok" or "fn: Error"

INDEX = st.integers(0, 99)
ROLE = st.sampled_from(ROLES)
RIGHTFUL = st.integers(0, 3).map(bool)  # three in four: the operation's rightful sender
TERMS = {
    "erc20": st.booleans(),
    "fca": st.booleans(),
    "claim": st.booleans(),
    "price": st.integers(1, 10**20),
    "tolerance": st.sampled_from([0, 0, 250, 1_000]),
    "bps": st.integers(0, 3_000),
    "cap": st.integers(0, 10_000),
    "deadline_in": st.integers(3_600, 10 * DAY),
    "grace": st.integers(0, 5 * DAY),
    "inspection": st.integers(1, 3 * DAY),
    "timeout": st.integers(1, 5 * DAY),
    "by_supplier": st.booleans(),
}

# Which operation each (status, dispute kind) allows; everything else is AgreementsWrongStatus.
ALLOWED: dict[tuple[int, int], set[str]] = {
    (PROPOSED, NO_DISPUTE): {"accept", "cancel"},
    (ACCEPTED, NO_DISPUTE): {"cancel", "fund"},
    (FUNDED, NO_DISPUTE): {"cancel", "tender", "reclaim"},
    (TENDERED, NO_DISPUTE): {"withdrawTender", "acceptDelivery", "rejectDelivery", "escalate"},
    (DISPUTED, REJECTED): {"tender", "resolve", "resolveByDefault"},
    # rejectDelivery after an escalation only when a recall reached the goods (checked in predict)
    (DISPUTED, ESCALATED): {"acceptDelivery", "rejectDelivery", "resolve", "resolveByDefault"},
}
OPS = (
    "accept",
    "cancel",
    "fund",
    "tender",
    "withdrawTender",
    "acceptDelivery",
    "rejectDelivery",
    "escalate",
    "reclaim",
    "resolve",
    "resolveByDefault",
)
RIGHTFUL_SENDER = {
    "accept": "counterparty",
    "cancel": "buyer",
    "fund": "buyer",
    "tender": "supplier",
    "withdrawTender": "supplier",
    "acceptDelivery": "buyer",
    "rejectDelivery": "buyer",
    "escalate": "supplier",
    "reclaim": "buyer",
    "resolve": "arbiter",
    "resolveByDefault": "stranger",
}


@dataclass
class Agreement:
    id: int
    terms: Terms
    proposed_by_buyer: bool
    status: int = PROPOSED
    kind: int = NO_DISPUTE
    tendered_at: int = 0
    disputed_at: int = 0
    batch: bytes = ZERO32  # the current (or last) tendered batch
    payouts: int = 0
    paid: tuple[int, int] = (0, 0)  # (supplier, buyer)
    delivered: bool = False  # title passed to the buyer through this agreement
    by_arbiter: bool = False


@dataclass(frozen=True)
class Goods:
    gtin: int
    quantity: int
    custodian: str
    owner: str
    attested: bool
    pending_to: str | None = None
    tender_leg: bool = False
    bound: int | None = None  # the agreement the batch is bound to
    recalled: bool = False


@dataclass
class Ledger:
    credits: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(self, account: str, token: str, amount: int) -> None:
        if amount:
            self.credits[(account, token)] = self.credits.get((account, token), 0) + amount


class AgreementsMachine(RuleBasedStateMachine):
    world: ClassVar[World]
    token: ClassVar[str]
    snapshot_id: ClassVar[Any] = None

    def __init__(self) -> None:
        super().__init__()
        w = self.world
        w.request("evm_revert", [type(self).snapshot_id])
        type(self).snapshot_id = w.request("evm_snapshot", [])
        self.clock = w.now()
        self.deals: dict[int, Agreement] = {}
        self.goods: dict[bytes, Goods] = {}
        self.ledger = Ledger()
        self.lots = 0

    # ------------------------------------------------------------ plumbing

    def who(self, role: str) -> str:
        return str(getattr(self.world, role))

    def attempt(self, fn: str, call: Any, sender: str, expected: Expected, value: int = 0) -> int:
        """Run `call` at the next second: sent if the model expects success, else `eth_call`ed on
        an empty block of that second and compared byte for byte. Returns the block time."""
        w = self.world
        outcome = f"{fn}: {'ok' if expected is None else expected[0]}"
        OUTCOMES[outcome] += 1
        if currently_in_test_context():
            event(outcome)
        self.clock += 1
        if expected is None:
            w.at(self.clock)
            w.send(call, sender, value)
            return self.clock
        w.mine_at(self.clock)
        error = w.revert_of(call, sender, value)
        want = w.errors.encode(expected[0], *expected[1])
        assert (fn, error.name, error.data.hex()) == (fn, expected[0], want.hex()), (
            f"{fn}: got {error.name}{error.error_args}, expected {expected[0]}{expected[1]}"
        )
        return self.clock

    def pick(self, index: int, op: str) -> Agreement:
        """An agreement whose state allows `op` for three indexes in four, else any."""
        ids = sorted(self.deals)
        fitting = [i for i in ids if op in ALLOWED.get(self.state_of(self.deals[i]), set())]
        pool = fitting if fitting and index % 4 else ids
        return self.deals[pool[index // 4 % len(pool)]]

    @staticmethod
    def state_of(d: Agreement) -> tuple[int, int]:
        return (d.status, d.kind if d.status in (DISPUTED, RESOLVED) else NO_DISPUTE)

    def sender_for(self, op: str, d: Agreement, role: str, rightful: bool) -> str:
        if not rightful:
            return self.who(role)
        want = RIGHTFUL_SENDER[op]
        if want == "counterparty":
            return d.terms.supplier if d.proposed_by_buyer else d.terms.buyer
        return self.who(want)

    def pay(self, d: Agreement, supplier: int, buyer: int, status: int) -> None:
        assert d.status not in TERMINAL, "a terminal agreement paid again"
        self.ledger.add(d.terms.supplier, d.terms.token, supplier)
        self.ledger.add(d.terms.buyer, d.terms.token, buyer)
        d.status, d.payouts, d.paid = status, d.payouts + 1, (supplier, buyer)

    def release(self, bid: bytes) -> None:
        """`releaseDelivery`: a pending tender, or a pending leg to the buyer, is withdrawn."""
        g = self.goods[bid]
        if g.pending_to is not None and (g.tender_leg or g.pending_to == self.world.buyer):
            g = replace(g, pending_to=None, tender_leg=False)
        self.goods[bid] = replace(g, bound=None)

    def new_batch(self, quantity: int, gtin: int, attest: bool) -> bytes:
        """The supplier commissions a batch (and the certifier attests ORGANIC on it)."""
        w = self.world
        self.lots += 1
        self.clock += 1
        w.at(self.clock)
        bid = w.create(f"S{self.lots}", quantity=quantity, gtin=gtin, by=w.supplier)
        if attest:
            self.clock += 1
            w.at(self.clock)
            w.attest(bid, CLAIM_ORGANIC)
        self.goods[bid] = Goods(gtin, quantity, w.supplier, w.supplier, attest)
        return bid

    # ------------------------------------------------------------ rules

    @initialize(**TERMS)
    def first_agreement(self, **terms: Any) -> None:
        """Every example starts with one funded agreement, so the steps go deeper."""
        d = self.new_agreement(**terms)
        self.act("accept", d, "buyer", True)
        self.act("fund", d, "buyer", True)
        assert d.status == FUNDED

    @precondition(lambda self: len(self.deals) < 3)
    @rule(**TERMS)
    def propose(self, **terms: Any) -> None:
        self.new_agreement(**terms)

    def new_agreement(
        self,
        erc20: bool,
        fca: bool,
        claim: bool,
        price: int,
        tolerance: int,
        bps: int,
        cap: int,
        deadline_in: int,
        grace: int,
        inspection: int,
        timeout: int,
        by_supplier: bool,
    ) -> Agreement:
        w = self.world
        terms = w.terms(
            token=self.token if erc20 else ETH,
            carrier=w.carrier if fca else ZERO,
            required_claims=((CLAIM_ORGANIC, w.certifier),) if claim else (),
            price=price,
            tolerance_bps=tolerance,
            penalty_bps_per_day=bps,
            penalty_cap_bps=cap,
            delivery_deadline=self.clock + 1 + deadline_in,
            grace_period=grace,
            inspection_period=inspection,
            arbiter_timeout=timeout,
            salt=len(self.deals) + 1,
        )
        sender = terms.supplier if by_supplier else terms.buyer
        self.attempt("propose", w.agr.propose(terms.as_tuple()), sender, None)
        d = Agreement(len(self.deals) + 1, terms, proposed_by_buyer=not by_supplier)
        self.deals[d.id] = d
        return d

    @precondition(lambda self: self.deals)
    @rule(
        which=INDEX,
        any_op=st.integers(0, 3).map(lambda n: n == 0),
        index=INDEX,
        role=ROLE,
        rightful=RIGHTFUL,
        goods=st.sampled_from(["fresh", "fresh", "fresh", "off", "other", "reuse"]),
        spread=st.integers(-1_000, 1_000),
        reuse=INDEX,
        award=st.integers(0, 10_001),
        deliver=st.booleans(),
        jump=st.booleans(),
    )
    def operate(
        self,
        which: int,
        any_op: bool,
        index: int,
        role: str,
        rightful: bool,
        goods: str,
        spread: int,
        reuse: int,
        award: int,
        deliver: bool,
        jump: bool,
    ) -> None:
        """Try an operation that some agreement's state allows (three times in four, else any) on
        an agreement whose state allows it (three times in four), from its rightful sender (three
        times in four) or from anyone, at the current time."""
        available = sorted(
            set().union(*(ALLOWED.get(self.state_of(d), set()) for d in self.deals.values()))
        )
        op = (
            available[which % len(available)] if available and not any_op else OPS[which % len(OPS)]
        )
        d = self.pick(index, op)
        if jump:
            self.jump_to_gate(op, d)
        if op == "cancel" and rightful and d.status == FUNDED:
            role, rightful = "supplier", False  # once funded, only the supplier cancels
        extra = {"goods": goods, "spread": spread, "reuse": reuse, "award": award}
        self.act(op, d, role, rightful, deliver=deliver, **extra)

    @precondition(lambda self: any(d.status not in TERMINAL for d in self.deals.values()))
    @rule(
        index=INDEX,
        choices=st.lists(st.integers(0, 5), min_size=1, max_size=4),
        award=st.integers(0, 10_001),
        deliver=st.booleans(),
        spread=st.integers(-1_000, 1_000),
    )
    def advance(
        self, index: int, choices: list[int], award: int, deliver: bool, spread: int
    ) -> None:
        """Drive a live agreement up to four steps forward with its rightful senders; a
        time-gated step first jumps to the second it opens, and the goods of an FCA delivery are
        carried on. (Several steps in one rule: within 15 rules a run then reaches the far states
        — a rejected or escalated delivery — in most examples, not by luck.)"""
        live = [d for d in self.deals.values() if d.status not in TERMINAL]
        d = live[index % len(live)]
        for choice in choices:
            if d.status in TERMINAL:
                break
            ops = sorted(ALLOWED[self.state_of(d)] - {"cancel"})
            op = ops[choice % len(ops)]
            self.jump_to_gate(op, d)
            if op == "acceptDelivery":
                for _ in range(2):
                    self.carry(d.batch)
            self.act(
                op,
                d,
                "buyer",
                True,
                goods="fresh",
                spread=spread,
                reuse=0,
                award=award,
                deliver=deliver,
            )
            d = self.deals[d.id]

    def jump_to_gate(self, op: str, d: Agreement) -> None:
        """For a time-gated step, move the clock to the last second it is refused (the step's
        transaction is then mined one second later, the first second it is allowed)."""
        t = d.terms
        gate = {
            "reclaim": t.closes_at,
            "escalate": d.tendered_at + t.inspection_period,
            "resolveByDefault": d.disputed_at + t.arbiter_timeout,
        }.get(op)
        if gate is not None and gate > self.clock:
            self.clock = gate
            self.world.mine_at(gate)

    @precondition(lambda self: self.goods)
    @rule(index=INDEX)
    def move_goods(self, index: int) -> None:
        """Carry goods on: mostly ones whose next step can succeed, sometimes any."""
        bids = sorted(self.goods)
        movable = [b for b in bids if self.carriable(self.goods[b])]
        pool = movable if movable and index % 4 else bids
        self.carry(pool[index // 4 % len(pool)])

    def carriable(self, g: Goods) -> bool:
        if g.pending_to is not None:
            return not (g.bound is not None and g.pending_to == self.world.buyer)
        return g.custodian == self.world.carrier

    @precondition(lambda self: self.ledger.credits)
    @rule(
        index=INDEX, role=ROLE, erc20=st.booleans(), anyone=st.integers(0, 3).map(lambda n: n == 0)
    )
    def withdraw(self, index: int, role: str, erc20: bool, anyone: bool) -> None:
        w = self.world
        account, token = self.who(role), self.token if erc20 else ETH
        if not anyone:
            account, token = sorted(self.ledger.credits)[index % len(self.ledger.credits)]
        owed = self.ledger.credits.get((account, token), 0)
        expected = None if owed else ("AgreementsNothingToWithdraw", (account, token))
        before = w.balance(account, token)
        self.attempt("withdraw", w.agr.withdraw(token), account, expected)
        if expected is None:
            del self.ledger.credits[(account, token)]
            if token != ETH:
                assert w.balance(account, token) == before + owed

    @rule(seconds=st.sampled_from([3_600, DAY - 1, DAY, 3 * DAY, 8 * DAY, 20 * DAY]))
    def travel(self, seconds: int) -> None:
        self.clock += seconds
        self.world.mine_at(self.clock)

    @precondition(lambda self: self.goods)
    @rule(index=INDEX, dice=st.integers(0, 5))
    def recall_or_lift(self, index: int, dice: int) -> None:
        if dice:
            return  # recalls are rare: they freeze deliveries
        w = self.world
        bid = sorted(self.goods)[index % len(self.goods)]
        g = self.goods[bid]
        fn = "liftRecall" if g.recalled else "recallBatch"
        self.attempt(fn, getattr(w.reg, fn)(bid, REASON, DOC), w.admin, None)
        self.goods[bid] = replace(g, recalled=not g.recalled)

    # ------------------------------------------------------------ the registry legs

    def carry(self, bid: bytes) -> None:
        """The goods' next registry step: the recipient of a pending handoff accepts it, or the
        carrier holding them hands them on (to the buyer while bound, else to their owner)."""
        if bid == ZERO32:
            return
        w = self.world
        g = self.goods[bid]
        if g.pending_to is not None:
            to = g.pending_to
            expected: Expected = None
            if g.bound is not None and to == w.buyer:
                expected = ("RegistryBoundDelivery", (bid, w.buyer))
            elif g.recalled:
                expected = ("RegistryBatchRecalled", (bid,))
            self.attempt("acceptHandoff", w.reg.acceptHandoff(bid, DOC), to, expected)
            if expected is None:
                self.goods[bid] = replace(g, custodian=to, pending_to=None, tender_leg=False)
        elif g.custodian == w.carrier:
            to = w.buyer if g.bound is not None else g.owner
            expected = ("RegistryBatchRecalled", (bid,)) if g.recalled else None
            call = w.reg.initiateHandoff(w.handoff(bid, w.carrier, to))
            self.attempt("initiateHandoff", call, w.carrier, expected)
            if expected is None:
                self.goods[bid] = replace(g, pending_to=to)

    # ------------------------------------------------------------ predictions

    def act(self, op: str, d: Agreement, role: str, rightful: bool, **extra: Any) -> None:
        """Try `op` on `d` from its rightful sender or from `role`; predict, then check."""
        w = self.world
        t = d.terms
        sender = self.sender_for(op, d, role, rightful)
        status, kind = self.state_of(d)
        bid = d.batch
        if op == "tender" and op in ALLOWED.get((status, kind), set()):
            bid = self.goods_for(d, extra["goods"], extra["spread"], extra["reuse"])
        now = self.clock + 1
        award = extra.get("award", 0)
        award = t.escrow + 1 if award > 10_000 else t.escrow * award // 10_000
        deliver = bool(extra.get("deliver", False))
        expected = self.predict(op, d, sender, now, bid, award, deliver)
        tt = t.as_tuple()
        call = {
            "accept": lambda: w.agr.accept(d.id, tt),
            "cancel": lambda: w.agr.cancel(d.id, tt),
            "fund": lambda: w.agr.fund(d.id, tt),
            "tender": lambda: w.agr.tender(d.id, tt, bid, LEG, self.proofs(t, bid)),
            "withdrawTender": lambda: w.agr.withdrawTender(d.id, tt, bid),
            "acceptDelivery": lambda: w.agr.acceptDelivery(d.id, tt, bid, DOC),
            "rejectDelivery": lambda: w.agr.rejectDelivery(d.id, tt, bid, REASON),
            "escalate": lambda: w.agr.escalate(d.id, tt, REASON),
            "reclaim": lambda: w.agr.reclaim(d.id, tt),
            "resolve": lambda: w.agr.resolve(d.id, tt, bid, award, deliver),
            "resolveByDefault": lambda: w.agr.resolveByDefault(d.id, tt, bid),
        }[op]()
        value = t.escrow if op == "fund" and t.token == ETH else 0
        at = self.attempt(op, call, sender, expected, value)
        if expected is None:
            self.apply(op, d, at, bid, award, deliver)

    def proofs(self, t: Terms, bid: bytes) -> list[tuple[bytes, bytes]]:
        return [(bid, keccak(bid + claim)) for claim, _ in t.required_claims]

    def goods_for(self, d: Agreement, goods: str, spread: int, reuse: int) -> bytes:
        t = d.terms
        band = t.quantity * t.tolerance_bps // 10_000
        attest = bool(t.required_claims)
        if goods == "reuse" and self.goods:
            return sorted(self.goods)[reuse % len(self.goods)]
        if goods == "off":
            return self.new_batch(t.quantity + band + 1, GTIN, attest)
        if goods == "other":
            return self.new_batch(t.quantity, GTIN_B, attest)
        return self.new_batch(t.quantity + spread * band // 1_000, GTIN, attest)

    def predict(
        self, op: str, d: Agreement, sender: str, now: int, bid: bytes, award: int, deliver: bool
    ) -> Expected:
        w = self.world
        t = d.terms
        status, kind = self.state_of(d)
        if op == "cancel" and d.status == FUNDED:
            return None if sender == t.supplier else ("AgreementsNotSupplier", (d.id, sender))
        if op not in ALLOWED.get((status, kind), set()):
            return ("AgreementsWrongStatus", (d.id, d.status))
        counterparty = t.supplier if d.proposed_by_buyer else t.buyer
        party = {
            "accept": (counterparty, "AgreementsNotCounterparty"),
            "fund": (t.buyer, "AgreementsNotBuyer"),
            "tender": (t.supplier, "AgreementsNotSupplier"),
            "withdrawTender": (t.supplier, "AgreementsNotSupplier"),
            "acceptDelivery": (t.buyer, "AgreementsNotBuyer"),
            "rejectDelivery": (t.buyer, "AgreementsNotBuyer"),
            "escalate": (t.supplier, "AgreementsNotSupplier"),
            "reclaim": (t.buyer, "AgreementsNotBuyer"),
            "resolve": (t.arbiter, "AgreementsNotArbiter"),
        }.get(op)
        if op == "cancel" and sender not in (t.buyer, t.supplier):
            return ("AgreementsNotParty", (d.id, sender))
        if party is not None and sender != party[0]:
            return (party[1], (d.id, sender))
        if op == "fund" and now > t.delivery_deadline:
            return ("AgreementsFundingClosed", (d.id, t.delivery_deadline, now))
        if op == "tender":
            return self.predict_tender(d, now, bid)
        if op == "withdrawTender" and not self.goods[bid].tender_leg:
            return ("AgreementsTenderInTransit", (d.id, bid))
        if op == "rejectDelivery" and status == DISPUTED and not self.goods[bid].recalled:
            return ("AgreementsWrongStatus", (d.id, d.status))
        if op == "acceptDelivery":
            g = self.goods[bid]
            if g.pending_to != t.buyer:
                return ("RegistryNotRecipient", (bid, t.buyer))
            if g.recalled:
                return ("RegistryBatchRecalled", (bid,))
        if op == "escalate" and now <= d.tendered_at + t.inspection_period:
            after = d.tendered_at + t.inspection_period
            return ("AgreementsInspectionPending", (d.id, after, now))
        if op == "reclaim" and now <= t.closes_at:
            return ("AgreementsNotRefundableYet", (d.id, t.closes_at, now))
        if op == "resolve" and award > t.escrow:
            return ("AgreementsAwardTooHigh", (d.id, award, t.escrow))
        if op == "resolve" and deliver and kind == REJECTED:
            return ("AgreementsNothingToDeliver", (d.id,))
        if op == "resolveByDefault" and now <= d.disputed_at + t.arbiter_timeout:
            after = d.disputed_at + t.arbiter_timeout
            return ("AgreementsArbiterTimeoutPending", (d.id, after, now))
        if op == "resolveByDefault" and kind == ESCALATED and self.goods[bid].recalled:
            return ("AgreementsGoodsRecalled", (d.id, bid))
        assert w is not None
        return None

    def predict_tender(self, d: Agreement, now: int, bid: bytes) -> Expected:
        """`tender` after the status and caller checks: the time, the registry's `bindDelivery`,
        then product, unit, quantity and claims."""
        w = self.world
        t = d.terms
        if now > t.closes_at:
            return ("AgreementsTenderClosed", (d.id, t.closes_at, now))
        g = self.goods[bid]
        if g.pending_to is not None:
            return ("RegistryHandoffPending", (bid, g.pending_to))
        if g.recalled:
            return ("RegistryBatchRecalled", (bid,))
        if g.bound is not None:
            return ("RegistryBoundDelivery", (bid, w.buyer))
        if g.owner != t.supplier:
            return ("RegistryNotOwner", (bid, t.supplier))
        if g.custodian not in (t.supplier, w.carrier):
            return ("RegistryNotCustodian", (bid, t.supplier))
        if t.tender_point == g.custodian:
            return ("RegistrySelfHandoff", (bid, t.tender_point))
        if g.gtin != t.gtin:
            return ("AgreementsGtinMismatch", (bid, t.gtin, g.gtin))
        if not within_tolerance(t.quantity, t.tolerance_bps, g.quantity):
            return ("AgreementsQuantityOutOfTolerance", (bid, t.quantity, g.quantity))
        if t.required_claims and not g.attested:
            return ("AgreementsClaimInvalid", (bid, CLAIM_ORGANIC, w.certifier, bid))
        return None

    def apply(self, op: str, d: Agreement, at: int, bid: bytes, award: int, deliver: bool) -> None:
        t = d.terms
        if op == "accept":
            d.status = ACCEPTED
        elif op == "cancel":
            if d.status == FUNDED:
                self.pay(d, 0, t.escrow, REFUNDED)
            else:
                d.status = CANCELLED
        elif op == "fund":
            d.status = FUNDED
        elif op == "tender":
            d.status, d.kind, d.tendered_at, d.disputed_at, d.batch = (
                TENDERED,
                NO_DISPUTE,
                at,
                0,
                bid,
            )
            g = self.goods[bid]
            self.goods[bid] = replace(g, pending_to=t.tender_point, tender_leg=True, bound=d.id)
        elif op == "withdrawTender":
            d.status = FUNDED
            self.release(bid)
        elif op == "acceptDelivery":
            g = self.goods[bid]
            self.pay(
                d, *t.payout(g.quantity, days_late(t.delivery_deadline, d.tendered_at)), SETTLED
            )
            d.delivered = True
            self.goods[bid] = replace(
                g, custodian=t.buyer, owner=t.buyer, pending_to=None, tender_leg=False, bound=None
            )
        elif op == "rejectDelivery":
            d.status, d.kind, d.disputed_at = DISPUTED, REJECTED, at
            self.release(bid)
        elif op == "escalate":
            d.status, d.kind, d.disputed_at = DISPUTED, ESCALATED, at
        elif op == "reclaim":
            self.pay(d, 0, t.escrow, REFUNDED)
        elif op == "resolve":
            if d.kind == ESCALATED and deliver:
                self.transfer_title(d)
            elif d.kind == ESCALATED:
                self.release(bid)
            d.by_arbiter = True
            self.pay(d, award, t.escrow - award, RESOLVED)
        elif op == "resolveByDefault":
            if d.kind == ESCALATED:
                g = self.goods[bid]
                self.transfer_title(d)
                late = days_late(t.delivery_deadline, d.tendered_at)
                self.pay(d, *t.payout(g.quantity, late), RESOLVED)
            else:
                self.pay(d, 0, t.escrow, RESOLVED)

    def transfer_title(self, d: Agreement) -> None:
        g = self.goods[d.batch]
        self.goods[d.batch] = replace(g, owner=d.terms.buyer, bound=None, tender_leg=False)
        d.delivered = True

    # ------------------------------------------------------------ invariants

    def read(self, calls: list[tuple[str, str, list[str], list[Any]]]) -> list[bytes]:
        """Many views in one JSON-RPC batch (web3's contract layer costs milliseconds a call)."""
        requests: list[tuple[str, Any]] = []
        for to, signature, types, args in calls:
            if signature == "balance":
                requests.append(("eth_getBalance", [args[0], "latest"]))
                continue
            data = keccak(text=signature)[:4] + encode(types, args)
            requests.append(("eth_call", [{"to": to, "data": "0x" + data.hex()}, "latest"]))
        responses = self.world.w3.provider.make_batch_request(requests)  # type: ignore[arg-type]
        assert isinstance(responses, list)
        return [bytes.fromhex(r["result"][2:].rjust(64, "0")) for r in responses]

    @invariant()
    def the_chain_keeps_the_invariants(self) -> None:
        w = self.world
        contract, registry = w.agreements.address, w.registry.address
        tokens = (ETH, self.token)
        accounts = [self.who(r) for r in ROLES]
        ids, bids = sorted(self.deals), sorted(self.goods)
        calls: list[tuple[str, str, list[str], list[Any]]] = [
            ("", "balance", [], [contract]),
            (self.token, "balanceOf(address)", ["address"], [contract]),
        ]
        calls += [
            (contract, "creditOf(address,address)", ["address", "address"], [a, token])
            for token in tokens
            for a in accounts
        ]
        calls += [(contract, "stateOf(uint256)", ["uint256"], [i]) for i in ids]
        calls += [(registry, "getBatch(bytes32)", ["bytes32"], [b]) for b in bids]
        results = iter(self.read(calls))
        balances = {ETH: int.from_bytes(next(results), "big")}
        balances[self.token] = int.from_bytes(next(results), "big")
        for token in tokens:
            credits = [int.from_bytes(next(results), "big") for _ in accounts]
            assert credits == [self.ledger.credits.get((a, token), 0) for a in accounts]
            escrowed = sum(
                d.terms.escrow
                for d in self.deals.values()
                if d.status in ESCROWED and d.terms.token == token
            )
            assert balances[token] == escrowed + sum(credits)  # 1. solvency, to the wei
        for i in ids:
            d = self.deals[i]
            status, kind, tendered_at, disputed_at, tag = decode(
                ["uint8", "uint8", "uint64", "uint64", "bytes19"], next(results)
            )
            assert (i, STATUS_NAMES[status], kind, tendered_at, disputed_at) == (
                i,
                STATUS_NAMES[d.status],
                d.kind,
                d.tendered_at,
                d.disputed_at,
            )
            assert tag == d.batch[:19]
            self.check_payout(d)
        for b in bids:
            info = BatchInfo.of(decode([BatchInfo.ABI], next(results))[0])
            g = self.goods[b]
            bound_to = w.buyer if g.bound is not None else ZERO
            assert (info.custodian, info.owner, info.pending_to, info.bound_to) == (
                g.custodian,
                g.owner,
                g.pending_to or ZERO,
                bound_to,
            )
            assert (info.tender_leg, info.recalled, info.quantity) == (
                g.tender_leg,
                g.recalled,
                g.quantity,
            )
        self.check_deliveries()

    def check_payout(self, d: Agreement) -> None:
        t = d.terms
        assert d.payouts == (1 if d.status in (SETTLED, REFUNDED, RESOLVED) else 0)  # 4.
        if d.payouts:
            assert sum(d.paid) == t.escrow  # 2. conservation
        if d.delivered and not d.by_arbiter:  # 3. penalty bounds
            payment = t.price * self.goods[d.batch].quantity // t.quantity
            assert payment - payment * t.penalty_cap_bps // 10_000 <= d.paid[0] <= payment

    def check_deliveries(self) -> None:
        """4./5./6.: each batch the buyer owns came through exactly one agreement that paid for it
        (accepted, or awarded by default or by the arbiter); no refund paid for goods kept."""
        w = self.world
        delivered = [d for d in self.deals.values() if d.delivered]
        batches = [d.batch for d in delivered]
        assert len(batches) == len(set(batches)), "one delivery paid two agreements"
        for bid, g in self.goods.items():
            if g.owner == w.buyer:
                (d,) = [d for d in delivered if d.batch == bid]
                assert d.status in (SETTLED, RESOLVED)
        for d in self.deals.values():
            refunded = d.status == REFUNDED or (d.status == RESOLVED and not d.delivered)
            if refunded and d.batch != ZERO32 and not d.by_arbiter:
                owner = self.goods[d.batch].owner
                assert owner != w.buyer or d.batch in batches


#: The far states a run must reach, or the machine has stopped exploring (a coverage check).
OPS_THAT_MUST_SUCCEED = ("tender", "acceptDelivery", "rejectDelivery", "escalate", "withdraw")


def prepare(world: World) -> None:
    token = world.token()
    AgreementsMachine.world = world
    AgreementsMachine.token = token.address
    AgreementsMachine.snapshot_id = world.request("evm_snapshot", [])


def test_agreements_keep_their_invariants(world: World) -> None:
    prepare(world)
    run_state_machine_as_test(
        AgreementsMachine,
        settings=settings(
            stateful_step_count=STEPS,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    world.request("evm_revert", [AgreementsMachine.snapshot_id])
    reached = {op: OUTCOMES[f"{op}: ok"] for op in OPS_THAT_MUST_SUCCEED}
    print("operations that went through:", reached)  # shown with -s, and on a failure
    for op, count in reached.items():
        assert count, f"the run never got a {op} through: {reached}"


# ---------------------------------------------------------------- explicit edge cases

BASE_TERMS: dict[str, Any] = {
    "erc20": False,
    "fca": False,
    "claim": True,
    "price": 10**18 + 1,
    "tolerance": 250,
    "bps": 300,
    "cap": 5_000,
    "deadline_in": 10 * DAY,
    "grace": 5 * DAY,
    "inspection": DAY,
    "timeout": 2 * DAY,
    "by_supplier": False,
}


class Example:
    """Drives the machine by hand, checking every invariant after each action: the deep paths
    that random runs reach only now and then."""

    def __init__(self, world: World, **changes: Any) -> None:
        prepare(world)
        self.world = world
        self.m = AgreementsMachine()
        self.m.first_agreement(**{**BASE_TERMS, **changes})
        self.d = self.m.deals[1]
        self.check()

    def check(self) -> None:
        self.m.the_chain_keeps_the_invariants()

    def act(self, op: str, *, jump: bool = False, **extra: Any) -> None:
        if jump:
            self.m.jump_to_gate(op, self.d)
        extra = {"goods": "fresh", "spread": 0, "reuse": 0, "award": 0, **extra}
        role = RIGHTFUL_SENDER[op] if RIGHTFUL_SENDER[op] != "counterparty" else "supplier"
        self.m.act(op, self.d, role, True, **extra)
        self.check()

    def carry(self) -> None:
        self.m.carry(self.d.batch)
        self.check()

    def reuse(self) -> dict[str, Any]:
        return {"goods": "reuse", "reuse": sorted(self.m.goods).index(self.d.batch)}

    def close(self) -> None:
        self.world.request("evm_revert", [AgreementsMachine.snapshot_id])


def test_example_an_fca_delivery_rejected_at_the_carrier_is_cured(world: World) -> None:
    ex = Example(world, fca=True)
    try:
        ex.act("tender")
        ex.carry()  # the named carrier takes the goods: the tender can no longer be withdrawn
        ex.act("withdrawTender")  # refused: AgreementsTenderInTransit
        ex.act("rejectDelivery")  # the goods stay at the carrier, the supplier's
        ex.act("tender", **ex.reuse())  # refused while the tender point itself holds them
        ex.carry()  # the carrier brings them back ...
        ex.carry()  # ... to the supplier
        ex.act("tender", **ex.reuse())  # the cure
        ex.carry()
        ex.carry()  # the carrier hands them to the buyer (title moves only on acceptance)
        ex.act("acceptDelivery")
        assert ex.d.status == SETTLED
        assert OUTCOMES["withdrawTender: AgreementsTenderInTransit"]
        assert OUTCOMES["tender: RegistrySelfHandoff"]
    finally:
        ex.close()


def test_example_a_late_escalated_tender_defaults_to_the_capped_penalty(world: World) -> None:
    ex = Example(world)
    try:
        deadline = ex.d.terms.delivery_deadline
        ex.m.clock = deadline + 20 * 3_600 + 2 * DAY  # tendered 2 days and 21 hours late
        ex.world.mine_at(ex.m.clock)
        ex.act("tender")
        ex.act("escalate")  # refused: the inspection period runs
        ex.act("escalate", jump=True)
        ex.act("resolveByDefault")  # refused: the arbiter still has time
        ex.act("resolveByDefault", jump=True)
        supplier, _ = ex.d.paid
        payment = ex.d.terms.price * ex.m.goods[ex.d.batch].quantity // 100
        assert supplier == payment - payment * 600 // 10_000  # 2 days x 300 bps
        assert (ex.d.status, ex.d.delivered) == (RESOLVED, True)
    finally:
        ex.close()


def test_example_a_recall_before_acceptance_ends_in_a_refund(world: World) -> None:
    ex = Example(world, erc20=True)
    try:
        ex.act("tender")
        ex.m.recall_or_lift(sorted(ex.m.goods).index(ex.d.batch), 0)
        ex.check()
        ex.act("acceptDelivery")  # refused: RegistryBatchRecalled
        ex.act("rejectDelivery")
        ex.act("resolveByDefault", jump=True)
        assert ex.d.paid == (0, ex.d.terms.escrow)
        assert ex.m.goods[ex.d.batch].owner == ex.world.supplier
    finally:
        ex.close()


def test_example_the_arbiter_passes_title_of_an_escalated_delivery(world: World) -> None:
    ex = Example(world, fca=True, claim=False, tolerance=0)
    try:
        ex.act("tender")
        ex.act("escalate", jump=True)
        ex.act("resolve", award=7_500, deliver=True)
        ex.carry()  # the carrier still takes the goods: custody, now the buyer's property
        ex.carry()
        ex.carry()  # the buyer accepts custody through the registry: nothing is bound any more
        goods = ex.m.goods[ex.d.batch]
        assert (goods.owner, goods.custodian) == (ex.world.buyer, ex.world.buyer)
    finally:
        ex.close()


def test_example_funding_closes_at_the_deadline(world: World) -> None:
    ex = Example(world)
    try:
        second = ex.m.new_agreement(**{**BASE_TERMS, "deadline_in": 3_600})
        ex.m.act("accept", second, "supplier", True)
        ex.m.clock = second.terms.delivery_deadline
        ex.world.mine_at(ex.m.clock)
        ex.m.act("fund", second, "buyer", True)  # refused: AgreementsFundingClosed
        ex.check()
        ex.m.act("cancel", second, "buyer", True)
        ex.check()
        assert second.status == CANCELLED
    finally:
        ex.close()
