"""SupplyAgreements: every transition, every revert, time, hostile tokens, reentrancy, signatures.

Delivery is proven through a real ProvenanceRegistry: the supplier creates a batch, hands it off,
the buyer accepts, and only then can the agreement settle. `World` below is also used by
test_agreements_stateful.py and test_agreements_gas.py.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError, Web3RPCError
from web3.logs import DISCARD

from provenance.chain import LOCAL_POLL_SECONDS
from provenance.compiler import Artifact

pytestmark = pytest.mark.anvil

ETH = "0x" + "00" * 20
DAY = 86_400
PRODUCER, DISTRIBUTOR, RETAILER, CERTIFIER = 1, 8, 16, 32
SETTLER_ROLE = keccak(text="SETTLER_ROLE")
KGM, LTR = b"KGM", b"LTR"
CLAIM_ORGANIC = keccak(text="organic")
CLAIM_COLD_CHAIN = keccak(text="cold-chain")

# Status enum of ISupplyAgreements.
NONE, PROPOSED, ACCEPTED, FUNDED, SETTLED, REFUNDED, DISPUTED, RESOLVED, CANCELLED = range(9)
STATUS_NAMES = [
    "None",
    "Proposed",
    "Accepted",
    "Funded",
    "Settled",
    "Refunded",
    "Disputed",
    "Resolved",
    "Cancelled",
]
TERMINAL = (SETTLED, REFUNDED, RESOLVED, CANCELLED)


def gtin14(body: int) -> int:
    """A GTIN-14 (as a number) from its first 13 digits, with the GS1 mod-10 check digit."""
    digits = [int(d) for d in f"{body:013d}"]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(digits))
    return body * 10 + (10 - total % 10) % 10


GTIN = gtin14(950600013435)
OTHER_GTIN = gtin14(950600013436)


def lot_bytes(text: str) -> bytes:
    return text.encode("ascii").ljust(32, b"\0")


@dataclass(frozen=True)
class Terms:
    """ISupplyAgreements.Terms, field for field."""

    buyer: str
    supplier: str
    arbiter: str
    token: str
    gtin: int
    quantity: int
    uom: bytes
    price: int
    delivery_deadline: int
    grace_period: int
    penalty_bps_per_day: int
    penalty_cap_bps: int
    arbiter_timeout: int
    required_claims: tuple[bytes, ...] = ()
    document: bytes = b"\x11" * 32
    salt: int = 0

    def as_tuple(self) -> tuple[Any, ...]:
        return (
            self.buyer,
            self.supplier,
            self.arbiter,
            self.token,
            self.gtin,
            self.quantity,
            self.uom,
            self.price,
            self.delivery_deadline,
            self.grace_period,
            self.penalty_bps_per_day,
            self.penalty_cap_bps,
            self.arbiter_timeout,
            list(self.required_claims),
            self.document,
            self.salt,
        )

    def replace(self, **changes: Any) -> Terms:
        return dataclasses.replace(self, **changes)


def penalty_model(price: int, bps_per_day: int, cap_bps: int, days_late: int) -> int:
    """The penalty rule of docs/design.md, in plain Python."""
    return price * min(days_late * bps_per_day, cap_bps) // 10_000


class Reverted(Exception):
    """A transaction reverted; `name` is the decoded custom error (or the reason string)."""

    def __init__(self, name: str, args: tuple[Any, ...] = ()) -> None:
        super().__init__(name, args)
        self.name = name
        self.error_args = args


@dataclass
class World:
    """A registry + SupplyAgreements deployment with registered participants and helpers."""

    w3: Web3
    artifacts: dict[str, Artifact]
    accounts: list[LocalAccount]
    registry: Contract = field(init=False)
    agreements: Contract = field(init=False)
    errors: dict[bytes, tuple[str, list[str]]] = field(init=False)
    _lots: itertools.count = field(init=False, default_factory=lambda: itertools.count(1))
    _salts: itertools.count = field(init=False, default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.admin, self.buyer, self.supplier, self.arbiter, self.certifier, self.stranger = (
            a.address for a in self.accounts[:6]
        )
        self.errors = {}
        for artifact in self.artifacts.values():
            for item in artifact.abi:
                if item["type"] == "error":
                    types = [i["type"] if i["type"] != "tuple" else "tuple" for i in item["inputs"]]
                    sig = f"{item['name']}({','.join(types)})"
                    self.errors[keccak(text=sig)[:4]] = (item["name"], types)
        self.registry = self.deploy("ProvenanceRegistry")
        self.agreements = self.deploy("SupplyAgreements", self.registry.address)
        self.tx(
            self.registry.functions.grantRole(SETTLER_ROLE, self.agreements.address), self.admin
        )
        for account, roles in (
            (self.supplier, PRODUCER),
            (self.buyer, DISTRIBUTOR | RETAILER),
            (self.certifier, CERTIFIER),
            (self.stranger, DISTRIBUTOR),
        ):
            self.register(account, roles)

    # ------------------------------------------------------------ chain plumbing

    def deploy(self, name: str, *args: Any) -> Contract:
        artifact = self.artifacts[name]
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        receipt = self.wait(factory.constructor(*args).transact({"from": self.admin}))
        return self.w3.eth.contract(address=receipt.contractAddress, abi=artifact.abi)

    def wait(self, tx_hash: bytes) -> Any:
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, poll_latency=LOCAL_POLL_SECONDS)
        assert receipt.status == 1, receipt
        return receipt

    def tx(self, call: Any, sender: str, value: int = 0, gas: int | None = None) -> Any:
        """Send `call` from `sender`; raise `Reverted` with the decoded error if it reverts.

        With `gas` given, no estimate is made (faster; a revert then fails the receipt check).
        """
        params: dict[str, Any] = {"from": sender, "value": value}
        if gas is not None:
            params["gas"] = gas
        try:
            tx_hash = call.transact(params)
        except ContractCustomError as exc:
            raise self.decode(exc.data) from exc
        except ContractLogicError as exc:
            if exc.data and isinstance(exc.data, str) and len(exc.data) >= 10:
                raise self.decode(exc.data) from exc
            raise Reverted(str(exc.message)) from exc
        except Web3RPCError as exc:
            raise Reverted(str(exc)) from exc
        return self.wait(tx_hash)

    def decode(self, data: Any) -> Reverted:
        raw = bytes.fromhex(data[2:]) if isinstance(data, str) else bytes(data)
        name, types = self.errors.get(raw[:4], (f"unknown:{raw[:4].hex()}", []))
        if name.startswith("unknown") and raw[:4] == bytes.fromhex("08c379a0"):
            (reason,) = self.w3.codec.decode(["string"], raw[4:])
            return Reverted(f"Error({reason})")
        values = self.w3.codec.decode(types, raw[4:]) if types else ()
        args = tuple(
            Web3.to_checksum_address(v) if t == "address" else v
            for t, v in zip(types, values, strict=True)
        )
        return Reverted(name, args)

    def expect_revert(self, call: Any, sender: str, value: int = 0) -> Reverted:
        with pytest.raises(Reverted) as info:
            self.tx(call, sender, value)
        return info.value

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def travel(self, seconds: int) -> None:
        self.w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
        self.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

    def set_next_timestamp(self, timestamp: int) -> None:
        self.w3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])  # type: ignore[arg-type]

    # ------------------------------------------------------------ registry

    def register(self, account: str, roles: int) -> None:
        self.tx(
            self.registry.functions.registerParticipant(account, roles, 0, b"\0" * 32), self.admin
        )

    def new_lot(self) -> bytes:
        return lot_bytes(f"L{next(self._lots)}")

    def create_batch(self, gtin: int = GTIN, quantity: int = 100, uom: bytes = KGM) -> bytes:
        lot = self.new_lot()
        self.tx(
            self.registry.functions.createBatch(gtin, lot, quantity, uom, b"\0" * 32), self.supplier
        )
        return bytes(self.registry.functions.batchIdOf(gtin, lot).call())

    def hand_off(
        self, batch: bytes, to: str, *, accept: bool = True, sender: str | None = None
    ) -> None:
        sender = sender or self.supplier
        handoff = (batch, sender, to, 0, 0, 0, True, b"\0" * 32)
        self.tx(self.registry.functions.initiateHandoff(handoff), sender)
        if accept:
            self.tx(self.registry.functions.acceptHandoff(batch), to)

    def delivered_batch(self, gtin: int = GTIN, quantity: int = 100, uom: bytes = KGM) -> bytes:
        """A batch the supplier created and the buyer has accepted custody of."""
        batch = self.create_batch(gtin, quantity, uom)
        self.hand_off(batch, self.buyer)
        return batch

    def attest(
        self,
        batch: bytes,
        claim: bytes,
        *,
        valid_from: int | None = None,
        valid_for: int = 365 * DAY,
    ) -> tuple[str, bytes]:
        evidence = keccak(batch + claim)
        start = self.now() - 1 if valid_from is None else valid_from
        self.tx(
            self.registry.functions.attest(batch, claim, evidence, start, start + valid_for),
            self.certifier,
        )
        return (self.certifier, evidence)

    # ------------------------------------------------------------ agreements

    def terms(self, **changes: Any) -> Terms:
        base = Terms(
            buyer=self.buyer,
            supplier=self.supplier,
            arbiter=self.arbiter,
            token=ETH,
            gtin=GTIN,
            quantity=100,
            uom=KGM,
            price=10**18,
            delivery_deadline=self.now() + 10 * DAY,
            grace_period=5 * DAY,
            penalty_bps_per_day=100,
            penalty_cap_bps=1_000,
            arbiter_timeout=7 * DAY,
            salt=next(self._salts),
        )
        return base.replace(**changes)

    @property
    def fns(self) -> Any:
        return self.agreements.functions

    def propose(self, terms: Terms, sender: str | None = None) -> int:
        receipt = self.tx(self.fns.propose(terms.as_tuple()), sender or terms.buyer)
        (event,) = self.agreements.events.AgreementProposed().process_receipt(
            receipt, errors=DISCARD
        )
        return int(event.args.id)

    def fund_value(self, terms: Terms) -> int:
        return terms.price if terms.token == ETH else 0

    def reach(self, terms: Terms, status: int) -> int:
        """Create an agreement and drive it to `status` along the shortest path."""
        agreement = self.propose(terms)
        if status == PROPOSED:
            return agreement
        if status == CANCELLED:
            self.tx(self.fns.cancel(agreement, terms.as_tuple()), terms.buyer)
            return agreement
        self.tx(self.fns.accept(agreement, terms.as_tuple()), terms.supplier)
        if status == ACCEPTED:
            return agreement
        self.tx(self.fns.fund(agreement, terms.as_tuple()), terms.buyer, self.fund_value(terms))
        if status == FUNDED:
            return agreement
        if status == SETTLED:
            self.claim(
                agreement, terms, self.delivered_batch(terms.gtin, terms.quantity, terms.uom)
            )
        elif status == REFUNDED:
            self.travel(terms.delivery_deadline + terms.grace_period - self.now() + 1)
            self.tx(self.fns.reclaim(agreement, terms.as_tuple()), terms.buyer)
        elif status in (DISPUTED, RESOLVED):
            self.tx(self.fns.dispute(agreement, terms.as_tuple(), b"\x01" * 32), terms.buyer)
            if status == RESOLVED:
                self.tx(
                    self.fns.resolve(agreement, terms.as_tuple(), terms.price // 2), terms.arbiter
                )
        return agreement

    def claim(
        self,
        agreement: int,
        terms: Terms,
        batch: bytes,
        refs: list[tuple[str, bytes]] | None = None,
        sender: str | None = None,
    ) -> Any:
        call = self.fns.claimDelivery(agreement, terms.as_tuple(), batch, refs or [])
        return self.tx(call, sender or self.stranger)

    def status(self, agreement: int) -> int:
        return int(self.fns.statusOf(agreement).call())

    def credit(self, account: str, token: str = ETH) -> int:
        return int(self.fns.creditOf(account, token).call())

    def escrowed(self, token: str = ETH) -> int:
        """What the contract holds beyond the parties' credits: the escrow of Funded/Disputed
        agreements (no escrow total is stored on-chain; only buyer and supplier get credits
        here)."""
        owed = self.credit(self.buyer, token) + self.credit(self.supplier, token)
        return self.token_balance(token) - owed

    def token_balance(self, token: str) -> int:
        if token == ETH:
            return int(self.w3.eth.get_balance(self.agreements.address))
        return int(
            self.w3.eth.contract(address=token, abi=ERC20_ABI)
            .functions.balanceOf(self.agreements.address)
            .call()
        )


ERC20_ABI = [
    {
        "type": "function",
        "name": "balanceOf",
        "stateMutability": "view",
        "inputs": [{"name": "a", "type": "address"}],
        "outputs": [{"name": "", "type": "uint256"}],
    }
]


@pytest.fixture(scope="module")
def world(anvil_w3: Web3, artifacts: dict[str, Artifact], accounts: list[LocalAccount]) -> World:
    return World(anvil_w3, artifacts, accounts)


@pytest.fixture
def w(world: World, snapshot: None) -> World:
    """The module's deployment, rolled back after each test."""
    return world


def token_of(w: World, name: str, *args: Any) -> Contract:
    token = w.deploy(name, *args)
    token.functions.mint(w.buyer, 10**24).transact({"from": w.admin})
    w.tx(token.functions.approve(w.agreements.address, 2**256 - 1), w.buyer)
    return token


# ==== happy paths


def test_eth_agreement_settles_on_time_and_both_sides_withdraw(w: World) -> None:
    terms = w.terms()
    agreement = w.propose(terms)
    assert (w.status(agreement), w.fns.agreementCount().call()) == (PROPOSED, agreement)
    # Only the high 25 bytes of the hash are stored (one slot per agreement).
    assert w.fns.termsHashOf(agreement).call() == w.fns.hashTerms(terms.as_tuple()).call()[:25]
    assert w.fns.hashTerms(terms.as_tuple()).call() == keccak(
        w.w3.codec.encode([TERMS_ABI_TYPE], [terms.as_tuple()])
    )
    w.tx(w.fns.accept(agreement, terms.as_tuple()), w.supplier)
    assert w.status(agreement) == ACCEPTED
    receipt = w.tx(w.fns.fund(agreement, terms.as_tuple()), w.buyer, terms.price)
    (funded,) = w.agreements.events.AgreementFunded().process_receipt(receipt, errors=DISCARD)
    assert (funded.args.token, funded.args.amount) == (ETH, terms.price)
    assert (w.status(agreement), w.escrowed(), w.token_balance(ETH)) == (
        FUNDED,
        terms.price,
        terms.price,
    )

    batch = w.delivered_batch()
    receipt = w.claim(agreement, terms, batch)
    (settled,) = w.agreements.events.DeliverySettled().process_receipt(receipt, errors=DISCARD)
    assert settled.args.batchId == batch
    assert (settled.args.supplierAmount, settled.args.buyerAmount, settled.args.daysLate) == (
        terms.price,
        0,
        0,
    )
    assert (w.status(agreement), w.escrowed()) == (SETTLED, 0)
    assert (w.credit(w.supplier), w.credit(w.buyer)) == (terms.price, 0)
    assert settled.args.at == w.now()

    before = w.w3.eth.get_balance(w.supplier)
    receipt = w.tx(w.fns.withdraw(ETH), w.supplier)
    fee = receipt.gasUsed * receipt.effectiveGasPrice
    assert w.w3.eth.get_balance(w.supplier) == before + terms.price - fee
    assert (w.credit(w.supplier), w.token_balance(ETH)) == (0, 0)
    assert w.expect_revert(w.fns.withdraw(ETH), w.supplier).name == "AgreementsNothingToWithdraw"


TERMS_ABI_TYPE = (
    "(address,address,address,address,uint256,uint256,bytes3,uint256,uint64,uint32,uint16,uint16,"
    "uint32,bytes32[],bytes32,uint256)"
)


def test_supplier_may_propose_and_buyer_accepts(w: World) -> None:
    terms = w.terms()
    agreement = w.propose(terms, sender=w.supplier)
    assert w.expect_revert(w.fns.accept(agreement, terms.as_tuple()), w.supplier).name == (
        "AgreementsNotCounterparty"
    )
    receipt = w.tx(w.fns.accept(agreement, terms.as_tuple()), w.buyer)
    (event,) = w.agreements.events.AgreementAccepted().process_receipt(receipt, errors=DISCARD)
    assert event.args.by == w.buyer
    assert w.status(agreement) == ACCEPTED


def test_proposed_event_carries_full_terms(w: World) -> None:
    terms = w.terms(required_claims=(CLAIM_ORGANIC, CLAIM_COLD_CHAIN))
    receipt = w.tx(w.fns.propose(terms.as_tuple()), w.buyer)
    (event,) = w.agreements.events.AgreementProposed().process_receipt(receipt, errors=DISCARD)
    assert (event.args.buyer, event.args.supplier, event.args.proposer) == (
        w.buyer,
        w.supplier,
        w.buyer,
    )
    rebuilt = event.args.terms
    assert rebuilt["price"] == terms.price and list(rebuilt["requiredClaims"]) == [
        CLAIM_ORGANIC,
        CLAIM_COLD_CHAIN,
    ]
    assert (
        w.fns.hashTerms(tuple(rebuilt.values())).call()[:25]
        == w.fns.termsHashOf(event.args.id).call()
    )


@pytest.mark.parametrize("canceller", ["buyer", "supplier"])
@pytest.mark.parametrize("status", [PROPOSED, ACCEPTED])
def test_either_party_cancels_before_funding(w: World, status: int, canceller: str) -> None:
    terms = w.terms()
    agreement = w.reach(terms, status)
    receipt = w.tx(w.fns.cancel(agreement, terms.as_tuple()), getattr(w, canceller))
    (event,) = w.agreements.events.AgreementCancelled().process_receipt(receipt, errors=DISCARD)
    assert event.args.by == getattr(w, canceller)
    assert w.status(agreement) == CANCELLED


def test_identical_terms_with_another_salt_coexist(w: World) -> None:
    terms = w.terms()
    first, second = w.propose(terms), w.propose(terms.replace(salt=terms.salt + 10**6))
    assert second == first + 1
    assert w.fns.termsHashOf(first).call() != w.fns.termsHashOf(second).call()


# ==== validation tables

PROPOSE_ERRORS: list[tuple[str, Callable[[World], dict[str, Any]], str]] = [
    ("zero supplier", lambda w: {"supplier": ETH}, "AgreementsInvalidParties"),
    ("zero arbiter", lambda w: {"arbiter": ETH}, "AgreementsInvalidParties"),
    ("buyer is supplier", lambda w: {"supplier": w.buyer}, "AgreementsInvalidParties"),
    ("arbiter is buyer", lambda w: {"arbiter": w.buyer}, "AgreementsInvalidParties"),
    ("arbiter is supplier", lambda w: {"arbiter": w.supplier}, "AgreementsInvalidParties"),
    ("zero price", lambda w: {"price": 0}, "AgreementsInvalidAmounts"),
    ("zero quantity", lambda w: {"quantity": 0}, "AgreementsInvalidAmounts"),
    ("cap above 100%", lambda w: {"penalty_cap_bps": 10_001}, "AgreementsInvalidPenalty"),
    ("deadline now", lambda w: {"delivery_deadline": w.now()}, "AgreementsDeadlineInPast"),
    ("deadline past", lambda w: {"delivery_deadline": w.now() - DAY}, "AgreementsDeadlineInPast"),
    ("no arbiter time", lambda w: {"arbiter_timeout": 0}, "AgreementsInvalidArbiterTimeout"),
    ("9 claims", lambda w: {"required_claims": (b"\x01" * 32,) * 9}, "AgreementsTooManyClaims"),
]


@pytest.mark.parametrize(
    ("change", "error"),
    [(c, e) for _, c, e in PROPOSE_ERRORS],
    ids=[i for i, _, _ in PROPOSE_ERRORS],
)
def test_propose_with_bad_terms_reverts(
    w: World, change: Callable[[World], dict[str, Any]], error: str
) -> None:
    terms = w.terms(**change(w))
    assert w.expect_revert(w.fns.propose(terms.as_tuple()), terms.buyer).name == error
    assert w.fns.agreementCount().call() == 0


@pytest.mark.parametrize("sender", ["arbiter", "stranger"])
def test_propose_by_non_party_reverts(w: World, sender: str) -> None:
    error = w.expect_revert(w.fns.propose(w.terms().as_tuple()), getattr(w, sender))
    assert (error.name, error.error_args) == ("AgreementsNotParty", (0, getattr(w, sender)))


def test_propose_accepts_full_cap_and_max_claims(w: World) -> None:
    terms = w.terms(penalty_cap_bps=10_000, required_claims=(b"\x01" * 32,) * 8)
    assert w.status(w.propose(terms)) == PROPOSED


# Which operation is allowed in which status; everything else must revert AgreementsWrongStatus.
OPS = [
    "accept",
    "cancel",
    "fund",
    "claimDelivery",
    "reclaim",
    "dispute",
    "resolve",
    "resolveByDefault",
]
ALLOWED = {
    PROPOSED: {"accept", "cancel"},
    ACCEPTED: {"cancel", "fund"},
    FUNDED: {"claimDelivery", "reclaim", "dispute"},
    DISPUTED: {"resolve", "resolveByDefault"},
    SETTLED: set(),
    REFUNDED: set(),
    RESOLVED: set(),
    CANCELLED: set(),
}


def op_call(w: World, op: str, agreement: int, terms: Terms, batch: bytes) -> tuple[Any, str, int]:
    """The call for `op`, its rightful sender and value."""
    t = terms.as_tuple()
    return {
        "accept": (w.fns.accept(agreement, t), terms.supplier, 0),
        "cancel": (w.fns.cancel(agreement, t), terms.buyer, 0),
        "fund": (w.fns.fund(agreement, t), terms.buyer, w.fund_value(terms)),
        "claimDelivery": (w.fns.claimDelivery(agreement, t, batch, []), w.stranger, 0),
        "reclaim": (w.fns.reclaim(agreement, t), terms.buyer, 0),
        "dispute": (w.fns.dispute(agreement, t, b"\0" * 32), terms.buyer, 0),
        "resolve": (w.fns.resolve(agreement, t, 0), terms.arbiter, 0),
        "resolveByDefault": (w.fns.resolveByDefault(agreement, t), w.stranger, 0),
    }[op]


@pytest.mark.parametrize("status", list(ALLOWED), ids=[STATUS_NAMES[s] for s in ALLOWED])
def test_operations_outside_their_status_revert_and_terminal_states_absorb(
    w: World, status: int
) -> None:
    terms = w.terms()
    agreement = w.reach(terms, status)
    batch = w.delivered_batch()
    # Make every time condition true, so only the status can be what refuses the call.
    if status != REFUNDED:
        w.travel(30 * DAY)
    credits = (w.credit(w.buyer), w.credit(w.supplier), w.escrowed())
    for op in OPS:
        if op in ALLOWED[status]:
            continue
        call, sender, value = op_call(w, op, agreement, terms, batch)
        error = w.expect_revert(call, sender, value)
        assert (op, error.name, error.error_args) == (
            op,
            "AgreementsWrongStatus",
            (agreement, status),
        )
    assert w.status(agreement) == status
    assert (w.credit(w.buyer), w.credit(w.supplier), w.escrowed()) == credits


def test_unknown_agreement_and_wrong_terms_revert(w: World) -> None:
    terms = w.terms()
    agreement = w.reach(terms, ACCEPTED)
    error = w.expect_revert(w.fns.accept(agreement + 1, terms.as_tuple()), w.supplier)
    assert (error.name, error.error_args) == ("AgreementsUnknown", (agreement + 1,))
    for changed in (
        terms.replace(price=terms.price - 1),
        terms.replace(required_claims=(CLAIM_ORGANIC,)),
    ):
        error = w.expect_revert(w.fns.fund(agreement, changed.as_tuple()), w.buyer, changed.price)
        assert error.name == "AgreementsTermsMismatch"
        assert error.error_args[0] == agreement


WRONG_CALLERS = [
    (PROPOSED, "accept", "buyer", "AgreementsNotCounterparty"),
    (PROPOSED, "accept", "stranger", "AgreementsNotCounterparty"),
    (PROPOSED, "cancel", "arbiter", "AgreementsNotParty"),
    (ACCEPTED, "cancel", "stranger", "AgreementsNotParty"),
    (ACCEPTED, "fund", "supplier", "AgreementsNotBuyer"),
    (FUNDED, "reclaim", "supplier", "AgreementsNotBuyer"),
    (FUNDED, "dispute", "arbiter", "AgreementsNotParty"),
    (DISPUTED, "resolve", "buyer", "AgreementsNotArbiter"),
    (DISPUTED, "resolve", "supplier", "AgreementsNotArbiter"),
]


@pytest.mark.parametrize(("status", "op", "sender", "error"), WRONG_CALLERS)
def test_wrong_caller_reverts(w: World, status: int, op: str, sender: str, error: str) -> None:
    terms = w.terms()
    agreement = w.reach(terms, status)
    if op == "reclaim":
        w.travel(16 * DAY)
    call, _, value = op_call(w, op, agreement, terms, b"\0" * 32)
    reverted = w.expect_revert(call, getattr(w, sender), value)
    assert (reverted.name, reverted.error_args) == (error, (agreement, getattr(w, sender)))
    assert w.status(agreement) == status


@pytest.mark.parametrize(
    ("value", "token"), [(10**18 - 1, "eth"), (10**18 + 1, "eth"), (0, "eth"), (1, "erc20")]
)
def test_fund_with_wrong_value_reverts(w: World, value: int, token: str) -> None:
    address = token_of(w, "MockERC20", "Mock", "MCK").address if token == "erc20" else ETH
    terms = w.terms(token=address)
    agreement = w.reach(terms, ACCEPTED)
    error = w.expect_revert(w.fns.fund(agreement, terms.as_tuple()), w.buyer, value)
    expected = terms.price if token == "eth" else 0
    assert (error.name, error.error_args) == ("AgreementsWrongValue", (agreement, expected, value))


# ==== time: penalties, refunds, disputes


@pytest.mark.parametrize(
    ("offset", "days_late"),
    [
        (-3600, 0),  # an hour early
        (3600, 0),  # late, but less than a whole day
        (DAY + 3600, 1),
        (3 * DAY + 3600, 3),
        (9 * DAY + 3600, 9),
        (12 * DAY + 3600, 12),  # 1,200 bps > cap 1,000 → capped
        (40 * DAY, 40),  # after deadline + grace, buyer has not reclaimed: still accepted, capped
    ],
)
def test_late_delivery_pays_penalty_per_whole_day_capped(
    w: World, offset: int, days_late: int
) -> None:
    terms = w.terms(price=10**18 + 7)
    agreement = w.reach(terms, FUNDED)
    batch = w.delivered_batch()
    w.travel(terms.delivery_deadline - w.now() + offset)
    receipt = w.claim(agreement, terms, batch)
    (event,) = w.agreements.events.DeliverySettled().process_receipt(receipt, errors=DISCARD)
    penalty = penalty_model(terms.price, 100, 1_000, days_late)
    assert event.args.daysLate == days_late
    assert (event.args.supplierAmount, event.args.buyerAmount) == (terms.price - penalty, penalty)
    assert (w.credit(w.supplier), w.credit(w.buyer)) == (terms.price - penalty, penalty)
    assert event.args.supplierAmount + event.args.buyerAmount == terms.price


def test_penalty_changes_exactly_at_whole_days(w: World) -> None:
    for seconds_late, days_late in ((DAY - 1, 0), (DAY, 1), (2 * DAY - 1, 1), (2 * DAY, 2)):
        terms = w.terms()
        agreement = w.reach(terms, FUNDED)
        batch = w.delivered_batch()
        w.set_next_timestamp(terms.delivery_deadline + seconds_late)
        receipt = w.claim(agreement, terms, batch)
        (event,) = w.agreements.events.DeliverySettled().process_receipt(receipt, errors=DISCARD)
        penalty = penalty_model(terms.price, 100, 1_000, days_late)
        assert (seconds_late, event.args.daysLate, event.args.buyerAmount) == (
            seconds_late,
            days_late,
            penalty,
        )


@settings(max_examples=60, deadline=None)
@given(
    price=st.integers(1, 2**256 - 1),
    bps=st.integers(0, 2**16 - 1),
    cap=st.integers(0, 10_000),
    days=st.integers(0, 2**40),
)
def test_penalty_matches_model_is_monotone_and_capped(
    world: World, price: int, bps: int, cap: int, days: int
) -> None:
    terms = world.terms(price=price, penalty_bps_per_day=bps, penalty_cap_bps=cap).as_tuple()
    now, later = (int(world.fns.penaltyFor(terms, d).call()) for d in (days, days + 1))
    assert now == penalty_model(price, bps, cap, days)
    assert now <= later <= price * cap // 10_000 <= price


def test_penalty_for_refuses_a_cap_above_100_percent(w: World) -> None:
    terms = w.terms(price=2**256 - 1, penalty_bps_per_day=2**16 - 1, penalty_cap_bps=10_001)
    error = w.expect_revert(w.fns.penaltyFor(terms.as_tuple(), 10**6), w.stranger)
    assert (error.name, error.error_args) == ("AgreementsInvalidPenalty", (2**16 - 1, 10_001))


@pytest.mark.parametrize(
    ("offset", "error"),
    [
        (-DAY, "AgreementsNotRefundableYet"),
        (5 * DAY - 60, "AgreementsNotRefundableYet"),
        (5 * DAY + 60, None),
    ],
)
def test_reclaim_only_after_deadline_plus_grace(w: World, offset: int, error: str | None) -> None:
    terms = w.terms()
    agreement = w.reach(terms, FUNDED)
    w.travel(terms.delivery_deadline - w.now() + offset)
    if error:
        assert w.expect_revert(w.fns.reclaim(agreement, terms.as_tuple()), w.buyer).name == error
        assert w.status(agreement) == FUNDED
        return
    receipt = w.tx(w.fns.reclaim(agreement, terms.as_tuple()), w.buyer)
    (event,) = w.agreements.events.AgreementRefunded().process_receipt(receipt, errors=DISCARD)
    assert event.args.amount == terms.price
    assert (w.status(agreement), w.credit(w.buyer), w.escrowed()) == (REFUNDED, terms.price, 0)
    # A delivery arriving after the refund can no longer settle.
    error_after = w.expect_revert(
        w.fns.claimDelivery(agreement, terms.as_tuple(), w.delivered_batch(), []), w.stranger
    )
    assert error_after.name == "AgreementsWrongStatus"


@pytest.mark.parametrize("by", ["buyer", "supplier"])
def test_dispute_then_arbiter_splits(w: World, by: str) -> None:
    terms = w.terms()
    agreement = w.reach(terms, FUNDED)
    receipt = w.tx(w.fns.dispute(agreement, terms.as_tuple(), b"\x07" * 32), getattr(w, by))
    (raised,) = w.agreements.events.DisputeRaised().process_receipt(receipt, errors=DISCARD)
    assert (raised.args.by, raised.args.reason) == (getattr(w, by), b"\x07" * 32)
    assert w.fns.disputedAtOf(agreement).call() == w.now()
    assert (w.status(agreement), w.escrowed()) == (DISPUTED, terms.price)
    # A delivery proof cannot bypass the arbiter.
    assert (
        w.expect_revert(
            w.fns.claimDelivery(agreement, terms.as_tuple(), w.delivered_batch(), []), w.stranger
        ).name
        == "AgreementsWrongStatus"
    )
    too_much = w.expect_revert(
        w.fns.resolve(agreement, terms.as_tuple(), terms.price + 1), w.arbiter
    )
    assert (too_much.name, too_much.error_args) == (
        "AgreementsAwardTooHigh",
        (agreement, terms.price + 1, terms.price),
    )
    award = terms.price * 3 // 10
    receipt = w.tx(w.fns.resolve(agreement, terms.as_tuple(), award), w.arbiter)
    (resolved,) = w.agreements.events.DisputeResolved().process_receipt(receipt, errors=DISCARD)
    assert (resolved.args.supplierAmount, resolved.args.buyerAmount, resolved.args.byDefault) == (
        award,
        terms.price - award,
        False,
    )
    assert (w.credit(w.supplier), w.credit(w.buyer), w.escrowed()) == (
        award,
        terms.price - award,
        0,
    )


@pytest.mark.parametrize("award", [0, 10**18])
def test_arbiter_may_award_all_or_nothing(w: World, award: int) -> None:
    terms = w.terms()
    agreement = w.reach(terms, DISPUTED)
    w.tx(w.fns.resolve(agreement, terms.as_tuple(), award), w.arbiter)
    assert (w.credit(w.supplier), w.credit(w.buyer)) == (award, terms.price - award)


def test_dispute_after_deadline_plus_grace_reverts(w: World) -> None:
    terms = w.terms()
    agreement = w.reach(terms, FUNDED)
    w.travel(terms.delivery_deadline + terms.grace_period - w.now() + 60)
    error = w.expect_revert(w.fns.dispute(agreement, terms.as_tuple(), b"\0" * 32), w.supplier)
    assert error.name == "AgreementsDisputeWindowClosed"
    assert error.error_args[1] == terms.delivery_deadline + terms.grace_period


def test_arbiter_timeout_defaults_to_full_refund(w: World) -> None:
    terms = w.terms()
    agreement = w.reach(terms, DISPUTED)
    disputed_at = w.fns.disputedAtOf(agreement).call()
    w.travel(terms.arbiter_timeout - 120)
    error = w.expect_revert(w.fns.resolveByDefault(agreement, terms.as_tuple()), w.stranger)
    assert error.error_args[:2] == (agreement, disputed_at + terms.arbiter_timeout)
    assert error.name == "AgreementsArbiterTimeoutPending"
    w.travel(240)
    receipt = w.tx(w.fns.resolveByDefault(agreement, terms.as_tuple()), w.stranger)
    (event,) = w.agreements.events.DisputeResolved().process_receipt(receipt, errors=DISCARD)
    assert (event.args.supplierAmount, event.args.buyerAmount, event.args.byDefault) == (
        0,
        terms.price,
        True,
    )
    assert (w.status(agreement), w.credit(w.buyer), w.credit(w.supplier)) == (
        RESOLVED,
        terms.price,
        0,
    )
    # The arbiter is too late now.
    assert w.expect_revert(w.fns.resolve(agreement, terms.as_tuple(), 1), w.arbiter).name == (
        "AgreementsWrongStatus"
    )


# ==== delivery proof via the registry


def test_batch_not_in_buyers_custody_is_refused(w: World) -> None:
    terms = w.terms()
    agreement = w.reach(terms, FUNDED)
    batch = w.create_batch()
    error = w.expect_revert(w.fns.claimDelivery(agreement, terms.as_tuple(), batch, []), w.stranger)
    assert (error.name, error.error_args) == ("RegistryNotCustodian", (batch, w.buyer))
    # Pending (initiated, not accepted) handoff to the buyer is not a delivery either.
    w.hand_off(batch, w.buyer, accept=False)
    error = w.expect_revert(w.fns.claimDelivery(agreement, terms.as_tuple(), batch, []), w.stranger)
    assert error.name == "RegistryHandoffPending"
    # Delivered to somebody else.
    other = w.create_batch()
    w.hand_off(other, w.stranger)
    error = w.expect_revert(w.fns.claimDelivery(agreement, terms.as_tuple(), other, []), w.stranger)
    assert error.name == "RegistryNotCustodian"
    unknown = keccak(b"no such batch")
    assert w.expect_revert(
        w.fns.claimDelivery(agreement, terms.as_tuple(), unknown, []), w.stranger
    ).name in {"RegistryUnknownBatch", "RegistryBatchNotActive"}
    assert w.status(agreement) == FUNDED


@pytest.mark.parametrize(
    ("gtin", "quantity", "uom", "error"),
    [
        (OTHER_GTIN, 100, KGM, "AgreementsGtinMismatch"),
        (GTIN, 100, LTR, "AgreementsUomMismatch"),
        (GTIN, 99, KGM, "AgreementsQuantityTooSmall"),
        (GTIN, 100, KGM, None),
        (GTIN, 1000, KGM, None),
    ],
)
def test_batch_must_match_gtin_uom_and_quantity(
    w: World, gtin: int, quantity: int, uom: bytes, error: str | None
) -> None:
    terms = w.terms()
    agreement = w.reach(terms, FUNDED)
    batch = w.delivered_batch(gtin, quantity, uom)
    if error is None:
        w.claim(agreement, terms, batch)
        assert w.status(agreement) == SETTLED
        return
    reverted = w.expect_revert(
        w.fns.claimDelivery(agreement, terms.as_tuple(), batch, []), w.stranger
    )
    assert reverted.name == error
    assert reverted.error_args[0] == batch
    assert w.status(agreement) == FUNDED
    # The failed claim left the registry's delivery mark clear: a matching agreement may use it.
    matching = terms.replace(gtin=gtin, quantity=quantity, uom=uom, salt=terms.salt + 99)
    other = w.reach(matching, FUNDED)
    w.claim(other, matching, batch)
    assert w.status(other) == SETTLED


def test_recalled_batch_is_refused(w: World) -> None:
    terms = w.terms()
    agreement = w.reach(terms, FUNDED)
    batch = w.delivered_batch()
    w.tx(w.registry.functions.recallBatch(batch, b"\x05" * 32), w.supplier)
    error = w.expect_revert(w.fns.claimDelivery(agreement, terms.as_tuple(), batch, []), w.stranger)
    assert error.name == "RegistryBatchRecalled"


def test_one_custody_arrival_pays_one_agreement(w: World) -> None:
    terms = w.terms()
    first, second = w.reach(terms, FUNDED), w.reach(terms.replace(salt=terms.salt + 1), FUNDED)
    batch = w.delivered_batch(quantity=200)
    w.claim(first, terms, batch)
    error = w.expect_revert(
        w.fns.claimDelivery(second, terms.replace(salt=terms.salt + 1).as_tuple(), batch, []),
        w.stranger,
    )
    assert error.name == "RegistryDeliveryAlreadyClaimed"
    # The same agreement cannot be paid twice either.
    assert (
        w.expect_revert(
            w.fns.claimDelivery(first, terms.as_tuple(), w.delivered_batch(), []), w.stranger
        ).name
        == "AgreementsWrongStatus"
    )
    assert w.credit(w.supplier) == terms.price


def test_registry_without_settler_role_for_agreements_refuses(w: World) -> None:
    terms = w.terms()
    agreement = w.reach(terms, FUNDED)
    w.tx(w.registry.functions.revokeRole(SETTLER_ROLE, w.agreements.address), w.admin)
    error = w.expect_revert(
        w.fns.claimDelivery(agreement, terms.as_tuple(), w.delivered_batch(), []), w.stranger
    )
    assert error.name == "AccessControlUnauthorizedAccount"


# ==== attestations


def attested_setup(w: World) -> tuple[Terms, int, bytes]:
    terms = w.terms(required_claims=(CLAIM_ORGANIC, CLAIM_COLD_CHAIN))
    return terms, w.reach(terms, FUNDED), w.delivered_batch()


def test_required_attestations_valid_now_settle(w: World) -> None:
    terms, agreement, batch = attested_setup(w)
    refs = [w.attest(batch, CLAIM_ORGANIC), w.attest(batch, CLAIM_COLD_CHAIN)]
    w.claim(agreement, terms, batch, refs)
    assert w.status(agreement) == SETTLED


def _missing(w: World, batch: bytes) -> list[tuple[str, bytes]]:
    return [w.attest(batch, CLAIM_ORGANIC)]


def _unissued(w: World, batch: bytes) -> list[tuple[str, bytes]]:
    return [w.attest(batch, CLAIM_ORGANIC), (w.certifier, b"\x09" * 32)]


def _swapped_claims(w: World, batch: bytes) -> list[tuple[str, bytes]]:
    return list(reversed([w.attest(batch, CLAIM_ORGANIC), w.attest(batch, CLAIM_COLD_CHAIN)]))


def _expired(w: World, batch: bytes) -> list[tuple[str, bytes]]:
    refs = [w.attest(batch, CLAIM_ORGANIC), w.attest(batch, CLAIM_COLD_CHAIN, valid_for=DAY)]
    w.travel(2 * DAY)
    return refs


def _not_yet_valid(w: World, batch: bytes) -> list[tuple[str, bytes]]:
    return [
        w.attest(batch, CLAIM_ORGANIC),
        w.attest(batch, CLAIM_COLD_CHAIN, valid_from=w.now() + DAY),
    ]


def _revoked(w: World, batch: bytes) -> list[tuple[str, bytes]]:
    refs = [w.attest(batch, CLAIM_ORGANIC), w.attest(batch, CLAIM_COLD_CHAIN)]
    w.tx(
        w.registry.functions.revokeAttestation(batch, CLAIM_COLD_CHAIN, refs[1][1], b"\0" * 32),
        w.certifier,
    )
    w.travel(10)
    return refs


def _suspended_certifier(w: World, batch: bytes) -> list[tuple[str, bytes]]:
    refs = [w.attest(batch, CLAIM_ORGANIC), w.attest(batch, CLAIM_COLD_CHAIN)]
    w.tx(w.registry.functions.suspendParticipant(w.certifier, b"\0" * 32), w.admin)
    return refs


def _wrong_issuer(w: World, batch: bytes) -> list[tuple[str, bytes]]:
    organic, cold = w.attest(batch, CLAIM_ORGANIC), w.attest(batch, CLAIM_COLD_CHAIN)
    return [organic, (w.stranger, cold[1])]


def _other_subject(w: World, batch: bytes) -> list[tuple[str, bytes]]:
    other = w.create_batch()
    return [w.attest(batch, CLAIM_ORGANIC), w.attest(other, CLAIM_COLD_CHAIN)]


@pytest.mark.parametrize(
    ("make_refs", "error"),
    [
        (_missing, "AgreementsAttestationCount"),
        (_unissued, "AgreementsAttestationInvalid"),
        (_swapped_claims, "AgreementsAttestationInvalid"),
        (_expired, "AgreementsAttestationInvalid"),
        (_not_yet_valid, "AgreementsAttestationInvalid"),
        (_revoked, "AgreementsAttestationInvalid"),
        (_suspended_certifier, "AgreementsAttestationInvalid"),
        (_wrong_issuer, "AgreementsAttestationInvalid"),
        (_other_subject, "AgreementsAttestationInvalid"),
    ],
    ids=lambda v: v.__name__.strip("_") if callable(v) else v,
)
def test_missing_or_invalid_attestations_are_refused(
    w: World, make_refs: Callable[[World, bytes], list[tuple[str, bytes]]], error: str
) -> None:
    terms, agreement, batch = attested_setup(w)
    refs = make_refs(w, batch)
    reverted = w.expect_revert(
        w.fns.claimDelivery(agreement, terms.as_tuple(), batch, refs), w.stranger
    )
    assert reverted.name == error
    assert w.status(agreement) == FUNDED


# ==== tokens


def test_erc20_agreement_full_cycle_with_penalty(w: World) -> None:
    token = token_of(w, "MockERC20", "Mock", "MCK")
    terms = w.terms(token=token.address, price=5_000_000)
    agreement = w.reach(terms, FUNDED)
    assert (w.escrowed(token.address), w.token_balance(token.address)) == (terms.price, terms.price)
    assert w.escrowed(ETH) == 0
    batch = w.delivered_batch()
    w.travel(terms.delivery_deadline - w.now() + 2 * DAY + 60)
    w.claim(agreement, terms, batch)
    penalty = penalty_model(terms.price, 100, 1_000, 2)
    assert (w.credit(w.supplier, token.address), w.credit(w.buyer, token.address)) == (
        terms.price - penalty,
        penalty,
    )
    for account, amount in ((w.supplier, terms.price - penalty), (w.buyer, penalty)):
        before = token.functions.balanceOf(account).call()
        w.tx(w.fns.withdraw(token.address), account)
        assert token.functions.balanceOf(account).call() == before + amount
    assert w.token_balance(token.address) == 0


def test_no_return_token_works_through_safe_erc20(w: World) -> None:
    token = token_of(w, "NoReturnToken")
    terms = w.terms(token=token.address, price=1_000)
    agreement = w.reach(terms, SETTLED)
    w.tx(w.fns.withdraw(token.address), w.supplier)
    assert token.functions.balanceOf(w.supplier).call() == 1_000
    assert w.status(agreement) == SETTLED


def test_no_return_token_without_allowance_reverts(w: World) -> None:
    token = token_of(w, "NoReturnToken")
    w.tx(token.functions.approve(w.agreements.address, 0), w.buyer)
    terms = w.terms(token=token.address, price=1_000)
    agreement = w.reach(terms, ACCEPTED)
    error = w.expect_revert(w.fns.fund(agreement, terms.as_tuple()), w.buyer)
    assert error.name == "Error(NoReturnToken: allowance)"
    assert w.status(agreement) == ACCEPTED


def test_fee_on_transfer_token_is_refused(w: World) -> None:
    token = token_of(w, "FeeOnTransferToken")
    terms = w.terms(token=token.address, price=10_000)
    agreement = w.reach(terms, ACCEPTED)
    error = w.expect_revert(w.fns.fund(agreement, terms.as_tuple()), w.buyer)
    assert (error.name, error.error_args) == (
        "AgreementsTransferMismatch",
        (token.address, 10_000, 9_900),
    )
    assert (w.status(agreement), w.escrowed(token.address)) == (ACCEPTED, 0)


def test_reverting_token_keeps_credit_until_transfers_work(w: World) -> None:
    token = token_of(w, "RevertingToken")
    terms = w.terms(token=token.address, price=777)
    w.reach(terms, SETTLED)
    w.tx(token.functions.setBroken(True), w.admin)
    assert w.expect_revert(w.fns.withdraw(token.address), w.supplier).name == "RevertingTokenBroken"
    assert w.credit(w.supplier, token.address) == 777
    w.tx(token.functions.setBroken(False), w.admin)
    w.tx(w.fns.withdraw(token.address), w.supplier)
    assert (w.credit(w.supplier, token.address), token.functions.balanceOf(w.supplier).call()) == (
        0,
        777,
    )


def test_reverting_token_blocks_funding(w: World) -> None:
    token = token_of(w, "RevertingToken")
    terms = w.terms(token=token.address, price=777)
    agreement = w.reach(terms, ACCEPTED)
    w.tx(token.functions.setBroken(True), w.admin)
    assert (
        w.expect_revert(w.fns.fund(agreement, terms.as_tuple()), w.buyer).name
        == "RevertingTokenBroken"
    )
    assert (w.status(agreement), w.escrowed(token.address)) == (ACCEPTED, 0)


# ==== reentrancy


def attacker_supplier(w: World) -> tuple[Contract, Terms, int]:
    """An agreement whose supplier is a ReentrantAttacker contract, settled, credit unwithdrawn."""
    attacker = w.deploy("ReentrantAttacker")
    w.register(attacker.address, PRODUCER)
    terms = w.terms(supplier=attacker.address, price=3 * 10**17)
    propose = w.fns.propose(terms.as_tuple())._encode_transaction_data()
    w.tx(attacker.functions.execute(w.agreements.address, propose), w.admin)
    agreement = int(w.fns.agreementCount().call())
    w.tx(w.fns.accept(agreement, terms.as_tuple()), w.buyer)
    w.tx(w.fns.fund(agreement, terms.as_tuple()), w.buyer, terms.price)
    lot = w.new_lot()
    for call in (
        w.registry.functions.createBatch(GTIN, lot, 100, KGM, b"\0" * 32),
        w.registry.functions.initiateHandoff(
            (
                w.registry.functions.batchIdOf(GTIN, lot).call(),
                attacker.address,
                w.buyer,
                0,
                0,
                0,
                True,
                b"\0" * 32,
            )
        ),
    ):
        w.tx(
            attacker.functions.execute(w.registry.address, call._encode_transaction_data()), w.admin
        )
    batch = bytes(w.registry.functions.batchIdOf(GTIN, lot).call())
    w.tx(w.registry.functions.acceptHandoff(batch), w.buyer)
    w.claim(agreement, terms, batch)
    return attacker, terms, agreement


def test_reentrant_withdraw_fails_and_pays_once(w: World) -> None:
    attacker, terms, _ = attacker_supplier(w)
    other_funds = w.reach(w.terms(), FUNDED)  # more ETH in the contract than the attacker's credit
    assert other_funds
    withdraw = w.fns.withdraw(ETH)._encode_transaction_data()
    w.tx(attacker.functions.arm(w.agreements.address, withdraw), w.admin)
    w.tx(attacker.functions.execute(w.agreements.address, withdraw), w.admin)
    assert attacker.functions.attempted().call() is True
    assert attacker.functions.reentrySucceeded().call() is False
    assert (
        w.decode(attacker.functions.reentryResult().call()).name == "ReentrancyGuardReentrantCall"
    )
    assert attacker.functions.received().call() == terms.price
    assert w.credit(attacker.address) == 0
    assert w.token_balance(ETH) == w.escrowed() == 10**18


def test_reentrant_claim_of_settled_agreement_fails(w: World) -> None:
    attacker, terms, agreement = attacker_supplier(w)
    again = w.fns.claimDelivery(agreement, terms.as_tuple(), w.delivered_batch(), [])
    w.tx(attacker.functions.arm(w.agreements.address, again._encode_transaction_data()), w.admin)
    withdraw = w.fns.withdraw(ETH)._encode_transaction_data()
    w.tx(attacker.functions.execute(w.agreements.address, withdraw), w.admin)
    assert attacker.functions.reentrySucceeded().call() is False
    assert w.decode(attacker.functions.reentryResult().call()).name == "AgreementsWrongStatus"
    assert attacker.functions.received().call() == terms.price


def test_party_that_rejects_eth_keeps_its_credit(w: World) -> None:
    attacker, terms, _ = attacker_supplier(w)
    w.tx(attacker.functions.setRejectPayments(True), w.admin)
    withdraw = w.fns.withdraw(ETH)._encode_transaction_data()
    error = w.expect_revert(attacker.functions.execute(w.agreements.address, withdraw), w.admin)
    assert (error.name, error.error_args) == (
        "AgreementsEthTransferFailed",
        (attacker.address, terms.price),
    )
    assert w.credit(attacker.address) == terms.price


# ==== signatures


def sign_agreement(
    w: World,
    key: LocalAccount,
    terms: Terms,
    *,
    nonce: int | None = None,
    deadline: int | None = None,
    chain_id: int | None = None,
    contract: str | None = None,
) -> tuple[int, int, bytes]:
    nonce = int(w.fns.nonces(key.address).call()) if nonce is None else nonce
    deadline = w.now() + 3600 if deadline is None else deadline
    domain = {
        "name": "SupplyAgreements",
        "version": "1",
        "chainId": w.w3.eth.chain_id if chain_id is None else chain_id,
        "verifyingContract": contract or w.agreements.address,
    }
    types = {
        "Agreement": [
            {"name": "termsHash", "type": "bytes32"},
            {"name": "nonce", "type": "uint256"},
            {"name": "deadline", "type": "uint256"},
        ]
    }
    message = {
        "termsHash": w.fns.hashTerms(terms.as_tuple()).call(),
        "nonce": nonce,
        "deadline": deadline,
    }
    signed = Account.sign_typed_data(key.key, domain, types, message)
    return (nonce, deadline, bytes(signed.signature))


EMPTY = (0, 0, b"")
DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"


def test_relayer_creates_accepted_agreement_from_two_signatures(w: World) -> None:
    buyer_key, supplier_key = w.accounts[1], w.accounts[2]
    terms = w.terms()
    buyer_auth, supplier_auth = (
        sign_agreement(w, buyer_key, terms),
        sign_agreement(w, supplier_key, terms),
    )
    domain = w.fns.DOMAIN_SEPARATOR().call()
    assert domain == keccak(
        w.w3.codec.encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                keccak(text=DOMAIN_TYPE),
                keccak(text="SupplyAgreements"),
                keccak(text="1"),
                w.w3.eth.chain_id,
                w.agreements.address,
            ],
        )
    )
    receipt = w.tx(w.fns.proposeSigned(terms.as_tuple(), buyer_auth, supplier_auth), w.stranger)
    (proposed,) = w.agreements.events.AgreementProposed().process_receipt(receipt, errors=DISCARD)
    agreement = proposed.args.id
    assert w.status(agreement) == ACCEPTED
    assert (w.fns.nonces(w.buyer).call(), w.fns.nonces(w.supplier).call()) == (1, 1)
    # Replaying the same approvals is refused (nonces are used up).
    error = w.expect_revert(
        w.fns.proposeSigned(terms.as_tuple(), buyer_auth, supplier_auth), w.stranger
    )
    assert (error.name, error.error_args) == ("AgreementsInvalidNonce", (w.buyer, 1, 0))
    w.tx(w.fns.fund(agreement, terms.as_tuple()), w.buyer, terms.price)
    assert w.status(agreement) == FUNDED


def test_party_sending_the_transaction_needs_no_signature(w: World) -> None:
    terms = w.terms()
    supplier_auth = sign_agreement(w, w.accounts[2], terms)
    w.tx(w.fns.proposeSigned(terms.as_tuple(), EMPTY, supplier_auth), w.buyer)
    assert (w.fns.nonces(w.buyer).call(), w.fns.nonces(w.supplier).call()) == (0, 1)
    assert w.status(int(w.fns.agreementCount().call())) == ACCEPTED


def _bad_signatures(w: World, terms: Terms) -> list[tuple[str, Any, Any, str]]:
    buyer, supplier, stranger = w.accounts[1], w.accounts[2], w.accounts[5]
    good_supplier = sign_agreement(w, supplier, terms)
    other_terms = terms.replace(price=terms.price + 1)
    return [
        (
            "wrong chain",
            sign_agreement(w, buyer, terms, chain_id=1),
            good_supplier,
            "AgreementsInvalidSignature",
        ),
        (
            "wrong contract",
            sign_agreement(w, buyer, terms, contract=w.registry.address),
            good_supplier,
            "AgreementsInvalidSignature",
        ),
        (
            "other terms",
            sign_agreement(w, buyer, other_terms),
            good_supplier,
            "AgreementsInvalidSignature",
        ),
        (
            "wrong signer",
            sign_agreement(w, stranger, terms, nonce=0),
            good_supplier,
            "AgreementsInvalidSignature",
        ),
        (
            "expired",
            sign_agreement(w, buyer, terms, deadline=w.now() - 1),
            good_supplier,
            "AgreementsSignatureExpired",
        ),
        (
            "future nonce",
            sign_agreement(w, buyer, terms, nonce=1),
            good_supplier,
            "AgreementsInvalidNonce",
        ),
        ("empty, not sender", EMPTY, good_supplier, "AgreementsSignatureExpired"),
        (
            "empty, live deadline",
            (0, w.now() + 3600, b""),
            good_supplier,
            "AgreementsInvalidSignature",
        ),
        (
            "supplier signs buyer's part",
            sign_agreement(w, supplier, terms),
            good_supplier,
            "AgreementsInvalidSignature",
        ),
    ]


def test_bad_signatures_are_refused(w: World) -> None:
    terms = w.terms()
    for label, buyer_auth, supplier_auth, error in _bad_signatures(w, terms):
        reverted = w.expect_revert(
            w.fns.proposeSigned(terms.as_tuple(), buyer_auth, supplier_auth), w.stranger
        )
        assert (label, reverted.name) == (label, error)
    assert w.fns.agreementCount().call() == 0
    assert (w.fns.nonces(w.buyer).call(), w.fns.nonces(w.supplier).call()) == (0, 0)


def test_signed_terms_are_still_validated(w: World) -> None:
    terms = w.terms(penalty_cap_bps=20_000)
    auths = sign_agreement(w, w.accounts[1], terms), sign_agreement(w, w.accounts[2], terms)
    assert w.expect_revert(w.fns.proposeSigned(terms.as_tuple(), *auths), w.stranger).name == (
        "AgreementsInvalidPenalty"
    )


# ==== no admin


def test_contract_has_no_admin_surface(w: World) -> None:
    writes = sorted(
        item["name"]
        for item in w.agreements.abi
        if item["type"] == "function" and item["stateMutability"] in ("nonpayable", "payable")
    )
    assert writes == sorted(
        [
            "accept",
            "cancel",
            "claimDelivery",
            "dispute",
            "fund",
            "propose",
            "proposeSigned",
            "reclaim",
            "resolve",
            "resolveByDefault",
            "withdraw",
        ]
    )
    assert not any(item["type"] in ("receive", "fallback") for item in w.agreements.abi)
    # Plain ETH sent to the contract is refused (it could only be stuck there).
    with pytest.raises((ContractLogicError, Web3RPCError, ValueError)):
        w.w3.eth.send_transaction({"from": w.admin, "to": w.agreements.address, "value": 1})
