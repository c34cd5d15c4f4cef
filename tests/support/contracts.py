"""What the contract suites share: a deployment with its participants, exact revert checks, time.

`World` deploys the ProvenanceRegistry (linked against its `Membership` and `Derivations`
libraries; its constructor creates the SupplyAgreements settlement contract), registers one
participant per role, assigns the farm's and the processor's GS1 company prefixes, and wraps the
chain plumbing every test needs:

- `send` mines a transaction with a fixed gas limit (no estimate) and raises `Reverted` with the
  decoded custom error if it fails;
- `reverts(call, sender, "Error", *args)` asserts that `call` reverts with exactly those bytes
  (selector and ABI-encoded arguments), as `eth_call` at the latest block;
- `at(t)` fixes the timestamp of the next transaction and `mine_at(t)` mines an empty block at `t`,
  so expectations come from block timestamps, never from the wall clock.

Plain Python models of the payout rules (`escrow_of`, `payout_of`) live here too: the unit tests,
the state machine and the gas tests all compare the contracts against the same arithmetic.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_abi import encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD

from provenance.compiler import Artifact

# ------------------------------------------------------------------ constants

PRODUCER, PROCESSOR, CARRIER, DISTRIBUTOR, RETAILER, CERTIFIER = 1, 2, 4, 8, 16, 32
ZERO = "0x" + "00" * 20
ETH = ZERO
ZERO32 = b"\0" * 32
DOC = b"\x0d" * 32
REASON = b"\x0e" * 32
DAY = 86_400
FAR = 2**40  # a signature deadline that never passes in a test
ADMIN_DELAY = 3 * DAY  # the operator hand-over delay of the test deployment
KGM, LTR, H87 = b"KGM", b"LTR", b"H87"
ADMIN_ROLE = b"\0" * 32  # DEFAULT_ADMIN_ROLE
GAS = 6_000_000  # gas limit of every test transaction (no estimate)
MAX_FEE = 10**11  # 100 gwei: above Anvil's base fee, so no fee lookup is needed
MAX_LINEAGE = 15
MAX_CLAIMS = 8

# BatchState, OperationKind (IProvenanceRegistry)
NO_BATCH, ACTIVE, CONSUMED = 0, 1, 2
SPLIT, MERGE, TRANSFORM = 1, 2, 3

# Status and DisputeKind (ISupplyAgreements)
(
    NONE,
    PROPOSED,
    ACCEPTED,
    FUNDED,
    TENDERED,
    SETTLED,
    REFUNDED,
    DISPUTED,
    RESOLVED,
    CANCELLED,
) = range(10)
STATUS_NAMES = (
    "None",
    "Proposed",
    "Accepted",
    "Funded",
    "Tendered",
    "Settled",
    "Refunded",
    "Disputed",
    "Resolved",
    "Cancelled",
)
TERMINAL = (SETTLED, REFUNDED, RESOLVED, CANCELLED)
NO_DISPUTE, REJECTED, ESCALATED = 0, 1, 2

CLAIM_ORGANIC = keccak(text="ORGANIC")
CLAIM_COLD_CHAIN = keccak(text="COLD-CHAIN")

# ---------------------------------------------------------------- GS1 numbers


def gtin14(body13: int) -> int:
    """The GTIN-14 (as a number) of its first 13 digits, with the GS1 mod-10 check digit."""
    digits = [int(d) for d in f"{body13:013d}"]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return body13 * 10 + (10 - total % 10) % 10


def gtin_under(prefix: int, length: int, item: int = 1, indicator: int = 0) -> int:
    """A valid GTIN-14 whose GTIN-13 form starts with the `length`-digit company `prefix`."""
    body12 = prefix * 10 ** (12 - length) + item  # 12 digits of the GTIN-13 form before its check
    assert item < 10 ** (12 - length)
    return gtin14(indicator * 10**12 + body12)


#: The farm's GS1 company prefix (7 digits) and its GTINs (the GS1 example GTIN 09506000134352).
FARM_PREFIX = (9506000, 7)
GTIN = gtin14(950600013435)
GTIN_B = gtin_under(*FARM_PREFIX, item=13436)
#: The processor's company prefix and a GTIN under it (04006381333931).
PROC_PREFIX = (4006381, 7)
GTIN_P = gtin14(400638133393)
GTIN_P2 = gtin_under(*PROC_PREFIX, item=33394)
#: A GTIN under no assigned prefix.
GTIN_FREE = gtin14(590123412345)


def lot(text: str) -> bytes:
    """A lot as the contracts store it: left-aligned ASCII, zero-padded to 32 bytes."""
    return text.encode("ascii").ljust(32, b"\0")


def batch_id(gtin: int, lot_: bytes) -> bytes:
    return keccak(encode(["uint256", "bytes32"], [gtin, lot_]))


def subject_of(account: str) -> bytes:
    """The attestation subject for an account: `bytes32(uint256(uint160(account)))`."""
    return bytes(12) + bytes.fromhex(account[2:])


def attestation_id(subject: bytes, claim: bytes, issuer: str, evidence: bytes) -> bytes:
    return keccak(
        encode(["bytes32", "bytes32", "address", "bytes32"], [subject, claim, issuer, evidence])
    )


# ------------------------------------------------------------------ the models


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def escrow_of(price: int, tolerance_bps: int) -> int:
    """`escrowOf(terms)`: price + ⌈price × tolerance / 10_000⌉."""
    return price + ceil_div(price * tolerance_bps, 10_000)


def within_tolerance(quantity: int, tolerance_bps: int, delivered: int) -> bool:
    return abs(delivered - quantity) * 10_000 <= quantity * tolerance_bps


def payout_of(
    price: int,
    quantity: int,
    tolerance_bps: int,
    bps_per_day: int,
    cap_bps: int,
    delivered: int,
    days_late: int,
) -> tuple[int, int]:
    """(supplier, buyer) credits of a delivery: pro rata payment minus the capped daily penalty."""
    payment = price * delivered // quantity
    rate = min(days_late * bps_per_day, cap_bps)
    penalty = payment * rate // 10_000
    supplier = payment - penalty
    return supplier, escrow_of(price, tolerance_bps) - supplier


def days_late(deadline: int, at: int) -> int:
    return (at - deadline) // DAY if at > deadline else 0


# ------------------------------------------------------------------- errors


class Reverted(Exception):
    """A call or transaction reverted: `name` and `args` of the decoded custom error, raw `data`."""

    def __init__(self, name: str, args: tuple[Any, ...], data: bytes) -> None:
        super().__init__(f"{name}{args}")
        self.name = name
        self.error_args = args
        self.data = data


def abi_type(item: dict[str, Any]) -> str:
    if item["type"].startswith("tuple"):
        inner = ",".join(abi_type(c) for c in item["components"])
        return f"({inner}){item['type'][5:]}"
    return str(item["type"])


class ErrorBook:
    """Every custom error of every compiled contract: encode by name, decode by selector."""

    def __init__(self, artifacts: dict[str, Artifact]) -> None:
        self.by_name: dict[str, list[str]] = {}
        self.by_selector: dict[bytes, tuple[str, list[str]]] = {}
        for artifact in artifacts.values():
            for item in artifact.abi:
                if item["type"] != "error":
                    continue
                types = [abi_type(i) for i in item["inputs"]]
                self.by_name[item["name"]] = types
                selector = keccak(text=f"{item['name']}({','.join(types)})")[:4]
                self.by_selector[selector] = (item["name"], types)

    def encode(self, name: str, *args: Any) -> bytes:
        types = self.by_name[name]
        selector = keccak(text=f"{name}({','.join(types)})")[:4]
        return selector + encode(types, list(args))

    def decode(self, data: bytes) -> Reverted:
        if data[:4] == bytes.fromhex("08c379a0"):
            (reason,) = Web3().codec.decode(["string"], data[4:])
            return Reverted(f"Error({reason})", (), data)
        if data[:4] not in self.by_selector:
            return Reverted(f"unknown:0x{data[:4].hex()}", (), data)
        name, types = self.by_selector[data[:4]]
        values = Web3().codec.decode(types, data[4:]) if types else ()
        args = tuple(
            to_checksum_address(v) if t == "address" else v
            for t, v in zip(types, values, strict=True)
        )
        return Reverted(name, args, data)


# ---------------------------------------------------------------- the views


@dataclass(frozen=True)
class BatchInfo:
    """IProvenanceRegistry.BatchInfo, field for field."""

    custodian: str
    owner: str
    pending_to: str
    origin: str
    bound_to: str
    state: int
    recalled: bool
    lineage_recalled: bool
    tender_leg: bool
    pending_ownership: bool
    gtin: int
    quantity: int
    uom: bytes
    lineage_number: int
    ancestors: int

    ABI = (
        "(address,address,address,address,address,uint8,bool,bool,bool,bool,uint256,uint256,"
        "bytes3,uint32,uint8)"
    )

    @classmethod
    def of(cls, values: Sequence[Any]) -> BatchInfo:
        fields = list(values)
        for i in range(5):
            fields[i] = to_checksum_address(fields[i])
        return cls(*fields)


@dataclass(frozen=True)
class Terms:
    """ISupplyAgreements.Terms, field for field (`required_claims`: (claim, attester) pairs)."""

    buyer: str
    supplier: str
    arbiter: str
    carrier: str
    token: str
    gtin: int
    quantity: int
    uom: bytes
    tolerance_bps: int
    price: int
    delivery_deadline: int
    grace_period: int
    inspection_period: int
    arbiter_timeout: int
    penalty_bps_per_day: int
    penalty_cap_bps: int
    required_claims: tuple[tuple[bytes, str], ...] = ()
    document: bytes = b"\x11" * 32
    salt: int = 0

    ABI = (
        "(address,address,address,address,address,uint256,uint256,bytes3,uint16,uint256,uint64,"
        "uint32,uint32,uint32,uint16,uint16,(bytes32,address)[],bytes32,uint256)"
    )

    def as_tuple(self) -> tuple[Any, ...]:
        values = [getattr(self, f.name) for f in dataclasses.fields(self)]
        values[16] = [tuple(c) for c in self.required_claims]
        return tuple(values)

    def replace(self, **changes: Any) -> Terms:
        return dataclasses.replace(self, **changes)

    @property
    def escrow(self) -> int:
        return escrow_of(self.price, self.tolerance_bps)

    @property
    def closes_at(self) -> int:
        """The last second a tender is accepted (and after which the buyer may reclaim)."""
        return self.delivery_deadline + self.grace_period

    @property
    def tender_point(self) -> str:
        return self.buyer if self.carrier == ZERO else self.carrier

    def payout(self, delivered: int, late: int) -> tuple[int, int]:
        return payout_of(
            self.price,
            self.quantity,
            self.tolerance_bps,
            self.penalty_bps_per_day,
            self.penalty_cap_bps,
            delivered,
            late,
        )

    def hash(self) -> bytes:
        return keccak(encode([self.ABI], [self.as_tuple()]))


LEG = (
    4012345000009,
    3,
    1,
    DOC,
)  # IProvenanceRegistry.Leg: location, bizStep, disposition, document

HANDOFF_TYPES = {
    "Handoff": [
        {"name": "batchId", "type": "bytes32"},
        {"name": "from", "type": "address"},
        {"name": "to", "type": "address"},
        {"name": "location", "type": "uint64"},
        {"name": "bizStep", "type": "uint8"},
        {"name": "disposition", "type": "uint8"},
        {"name": "transferOwnership", "type": "bool"},
        {"name": "document", "type": "bytes32"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
}
AGREEMENT_TYPES = {
    "Agreement": [
        {"name": "termsHash", "type": "bytes32"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
}
DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"


# ----------------------------------------------------------------- deployment


def deploy_registry(
    deploy: Callable[..., Contract], w3: Web3, artifacts: dict[str, Artifact], admin: str
) -> tuple[Contract, Contract]:
    """A fresh ProvenanceRegistry (libraries linked by `deploy`) and its SupplyAgreements."""
    registry = deploy(w3, "ProvenanceRegistry", ADMIN_DELAY, admin, sender=admin)
    agreements = w3.eth.contract(
        address=registry.functions.settlement().call(), abi=artifacts["SupplyAgreements"].abi
    )
    return registry, agreements


def extra_account(w3: Web3, label: str) -> str:
    """An account without a key that Anvil lets the tests send from (impersonated, funded)."""
    address = to_checksum_address(keccak(text=f"provenance-test:{label}")[-20:])
    w3.provider.make_request("anvil_impersonateAccount", [address])  # type: ignore[arg-type]
    w3.provider.make_request("anvil_setBalance", [address, hex(10**22)])  # type: ignore[arg-type]
    return address


@dataclass(repr=False)
class World:
    """A registry + agreements deployment with one participant per role and the test plumbing.

    Accounts (dev keys 0-9, then impersonated ones without keys):
    admin (the operator), producer (farm, PRODUCER, farm prefix; the agreements' supplier),
    processor (PROCESSOR, processor prefix), carrier (CARRIER), buyer (DISTRIBUTOR|RETAILER),
    certifier (CERTIFIER), arbiter (not registered), stranger (not registered), suspended
    (CARRIER, suspended), rival (PRODUCER, no prefix), carrier2 (CARRIER), buyer2 (RETAILER).
    """

    w3: Web3
    artifacts: dict[str, Artifact]
    deploy: Callable[..., Contract]
    keys: list[LocalAccount]
    registry: Contract = field(init=False)
    agreements: Contract = field(init=False)
    errors: ErrorBook = field(init=False)
    _lots: Iterable[int] = field(init=False, default_factory=lambda: itertools.count(1))
    _salts: Iterable[int] = field(init=False, default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        (
            self.admin,
            self.producer,
            self.processor,
            self.carrier,
            self.buyer,
            self.certifier,
            self.arbiter,
            self.stranger,
            self.suspended,
            self.rival,
        ) = (k.address for k in self.keys[:10])
        self.carrier2 = extra_account(self.w3, "carrier2")
        self.buyer2 = extra_account(self.w3, "buyer2")
        self.errors = ErrorBook(self.artifacts)
        self.rpc = self.w3.provider.make_request
        self.registry, self.agreements = deploy_registry(
            self.deploy, self.w3, self.artifacts, self.admin
        )
        for account, roles in (
            (self.producer, PRODUCER),
            (self.processor, PROCESSOR),
            (self.carrier, CARRIER),
            (self.buyer, DISTRIBUTOR | RETAILER),
            (self.certifier, CERTIFIER),
            (self.suspended, CARRIER),
            (self.rival, PRODUCER),
            (self.carrier2, CARRIER),
            (self.buyer2, RETAILER),
        ):
            self.register(account, roles)
        self.send(self.reg.suspendParticipant(self.suspended, REASON), self.admin)
        self.send(self.reg.assignPrefix(self.producer, *FARM_PREFIX), self.admin)
        self.send(self.reg.assignPrefix(self.processor, *PROC_PREFIX), self.admin)

    def __repr__(self) -> str:
        return f"World(registry={self.registry.address}, agreements={self.agreements.address})"

    @property
    def supplier(self) -> str:
        """The agreements' supplier: the farm."""
        return self.producer

    def key(self, address: str) -> LocalAccount:
        return next(k for k in self.keys if k.address == address)

    @property
    def reg(self) -> Any:
        return self.registry.functions

    @property
    def agr(self) -> Any:
        return self.agreements.functions

    # ------------------------------------------------------------ plumbing

    def request(self, method: str, params: list[Any]) -> Any:
        response = self.rpc(method, params)  # type: ignore[arg-type]
        if "error" in response:
            raise AssertionError(f"{method} failed: {response['error']}")
        return response["result"]

    def tx_params(self, call: Any, sender: str, value: int = 0) -> dict[str, Any]:
        return {
            "from": sender,
            "to": call.address,
            "data": call._encode_transaction_data(),
            "value": hex(value),
        }

    def send(self, call: Any, sender: str, value: int = 0) -> Any:
        """Mine `call` from `sender`; the receipt, or `Reverted` with the decoded error."""
        params = self.tx_params(call, sender, value)
        tx_hash = self.request(
            "eth_sendTransaction",
            [
                {
                    **params,
                    "gas": hex(GAS),
                    "maxFeePerGas": hex(MAX_FEE),
                    "maxPriorityFeePerGas": "0x0",
                }
            ],
        )
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, poll_latency=0.002)
        if receipt["status"] != 1:
            # replay on the state before the block to learn why (the refused tx changed nothing)
            raise self.call_error(params, hex(receipt["blockNumber"] - 1)) or Reverted(
                "reverted (no data)", (), b""
            )
        return receipt

    def call_error(self, params: dict[str, Any], block: str = "latest") -> Reverted | None:
        """`eth_call` of `params`: the decoded revert, or None when it would succeed."""
        response = self.rpc("eth_call", [params, block])  # type: ignore[arg-type]
        error = response.get("error")
        if error is None:
            return None
        data = error.get("data") or "0x"
        return self.errors.decode(bytes.fromhex(data[2:]))

    def revert_of(self, call: Any, sender: str, value: int = 0) -> Reverted:
        """The error `call` reverts with (`eth_call` at the latest block); fails if none."""
        error = self.call_error(self.tx_params(call, sender, value))
        assert error is not None, f"{call.fn_name} from {sender} would succeed"
        return error

    def reverts(self, call: Any, sender: str, name: str, *args: Any, value: int = 0) -> None:
        """`call` from `sender` reverts with exactly the custom error `name(*args)`."""
        error = self.revert_of(call, sender, value)
        expected = self.errors.encode(name, *args)
        assert (error.name, error.data.hex()) == (name, expected.hex()), (
            f"{call.fn_name}: got {error.name}{error.error_args}, expected {name}{args}"
        )

    def succeeds(self, call: Any, sender: str, value: int = 0) -> Any:
        """The return value of `call` from `sender` as `eth_call` (asserting it does not revert)."""
        return call.call({"from": sender, "value": value})

    def events(self, receipt: Any, name: str, contract: Contract | None = None) -> list[Any]:
        if contract is None:
            contract = self.registry if hasattr(self.registry.events, name) else self.agreements
            if hasattr(self.agreements.events, name) and hasattr(self.registry.events, name):
                raise AssertionError(f"say which contract's {name}")
        return list(getattr(contract.events, name)().process_receipt(receipt, errors=DISCARD))

    def event(self, receipt: Any, name: str, contract: Contract | None = None) -> Any:
        (single,) = self.events(receipt, name, contract)
        return single.args

    # ------------------------------------------------------------------ time

    def now(self) -> int:
        """The latest block's timestamp: what an `eth_call` sees as `block.timestamp`."""
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def at(self, timestamp: int) -> int:
        """Mine the next transaction at `timestamp` (not before the latest block)."""
        self.request("evm_setNextBlockTimestamp", [timestamp])
        return timestamp

    def mine_at(self, timestamp: int) -> int:
        """Mine an empty block at `timestamp`: calls from now on see it as `block.timestamp`."""
        self.request("evm_mine", [timestamp])
        return timestamp

    def balance(self, account: str, token: str = ETH) -> int:
        if token == ETH:
            return int(self.w3.eth.get_balance(account))
        contract = self.w3.eth.contract(address=token, abi=self.artifacts["MockERC20"].abi)
        return int(contract.functions.balanceOf(account).call())

    # -------------------------------------------------------------- registry

    def register(self, account: str, roles: int, gln: int = 0) -> Any:
        return self.send(self.reg.registerParticipant(account, roles, gln, DOC), self.admin)

    def new_lot(self, prefix: str = "L") -> str:
        return f"{prefix}{next(self._lots)}"  # type: ignore[call-overload]

    def create(
        self,
        lot_text: str | None = None,
        quantity: int = 100,
        gtin: int = GTIN,
        uom: bytes = KGM,
        by: str | None = None,
    ) -> bytes:
        """Commission a batch (by the producer unless `by`); its id."""
        lot_text = lot_text or self.new_lot()
        self.send(
            self.reg.createBatch(gtin, lot(lot_text), quantity, uom, DOC), by or self.producer
        )
        return batch_id(gtin, lot(lot_text))

    @staticmethod
    def handoff(bid: bytes, frm: str, to: str, own: bool = False, doc: bytes = DOC) -> tuple:
        """IProvenanceRegistry.Handoff with a fixed place and CBV codes."""
        return (bid, frm, to, 4012345000009, 3, 1, own, doc)

    def initiate(self, bid: bytes, frm: str, to: str, own: bool = False) -> Any:
        return self.send(self.reg.initiateHandoff(self.handoff(bid, frm, to, own)), frm)

    def move(self, bid: bytes, frm: str, to: str, own: bool = False) -> None:
        self.initiate(bid, frm, to, own)
        self.send(self.reg.acceptHandoff(bid, DOC), to)

    def batch(self, bid: bytes) -> BatchInfo:
        return BatchInfo.of(self.reg.getBatch(bid).call())

    def split(
        self, bid: bytes, parent: str, parts: Sequence[tuple[str, int]], loss: int, by: str
    ) -> list[bytes]:
        gtin = self.batch(bid).gtin
        call = self.reg.splitBatch(bid, lot(parent), [(lot(n), q) for n, q in parts], loss, DOC)
        self.send(call, by)
        return [batch_id(gtin, lot(n)) for n, _ in parts]

    def merge(self, bids: Sequence[bytes], first: str, child: str, by: str, loss: int = 0) -> bytes:
        gtin = self.batch(bids[0]).gtin
        self.send(self.reg.mergeBatches(list(bids), lot(first), lot(child), loss, DOC), by)
        return batch_id(gtin, lot(child))

    def transform(
        self, bids: Sequence[bytes], outputs: Sequence[tuple[int, str, int, bytes]], by: str
    ) -> list[bytes]:
        outs = [(g, lot(n), q, u) for g, n, q, u in outputs]
        self.send(self.reg.transformBatches(list(bids), outs, DOC), by)
        return [batch_id(g, lot(n)) for g, n, _, _ in outputs]

    def attest(
        self,
        subject: bytes,
        claim: bytes = CLAIM_ORGANIC,
        *,
        by: str | None = None,
        valid_from: int = 0,
        valid_until: int = 2**64 - 1,
        evidence: bytes | None = None,
    ) -> tuple[bytes, bytes]:
        """Issue an attestation (by the certifier); the proof (subject, evidence) that cites it."""
        evidence = keccak(subject + claim) if evidence is None else evidence
        self.send(
            self.reg.attest(subject, claim, evidence, valid_from, valid_until),
            by or self.certifier,
        )
        return (subject, evidence)

    # ------------------------------------------------------------ agreements

    def terms(self, **changes: Any) -> Terms:
        """Default terms: 100 KGM of GTIN from the farm to the buyer for 1 ETH, due in 10 days."""
        base = Terms(
            buyer=self.buyer,
            supplier=self.supplier,
            arbiter=self.arbiter,
            carrier=ZERO,
            token=ETH,
            gtin=GTIN,
            quantity=100,
            uom=KGM,
            tolerance_bps=0,
            price=10**18,
            delivery_deadline=self.now() + 10 * DAY,
            grace_period=5 * DAY,
            inspection_period=2 * DAY,
            arbiter_timeout=7 * DAY,
            penalty_bps_per_day=100,
            penalty_cap_bps=1_000,
            salt=next(self._salts),  # type: ignore[call-overload]
        )
        return base.replace(**changes)

    def propose(self, terms: Terms, by: str | None = None) -> int:
        receipt = self.send(self.agr.propose(terms.as_tuple()), by or terms.buyer)
        return int(self.event(receipt, "AgreementProposed").id)

    def fund_value(self, terms: Terms) -> int:
        return terms.escrow if terms.token == ETH else 0

    def funded(self, terms: Terms) -> int:
        """A new agreement with `terms`, proposed by the buyer, accepted and funded."""
        agreement = self.propose(terms)
        self.send(self.agr.accept(agreement, terms.as_tuple()), terms.supplier)
        self.send(self.agr.fund(agreement, terms.as_tuple()), terms.buyer, self.fund_value(terms))
        return agreement

    def tender(
        self,
        agreement: int,
        terms: Terms,
        bid: bytes,
        proofs: Sequence[tuple[bytes, bytes]] = (),
        by: str | None = None,
    ) -> Any:
        call = self.agr.tender(agreement, terms.as_tuple(), bid, LEG, list(proofs))
        return self.send(call, by or terms.supplier)

    def accept_delivery(self, agreement: int, terms: Terms, bid: bytes) -> Any:
        call = self.agr.acceptDelivery(agreement, terms.as_tuple(), bid, DOC)
        return self.send(call, terms.buyer)

    def status(self, agreement: int) -> int:
        return int(self.agr.statusOf(agreement).call())

    def state(self, agreement: int) -> tuple[int, int, int, int, bytes]:
        return tuple(self.agr.stateOf(agreement).call())  # type: ignore[return-value]

    def credit(self, account: str, token: str = ETH) -> int:
        return int(self.agr.creditOf(account, token).call())

    def token(self, name: str = "MockERC20", *args: Any, holder: str | None = None) -> Contract:
        """Deploy a token mock, mint to `holder` (the buyer) and approve the agreements for it."""
        if name == "MockERC20" and not args:
            args = ("Mock", "MCK")
        token = self.deploy(self.w3, name, *args, sender=self.admin)
        holder = holder or self.buyer
        self.send(token.functions.mint(holder, 10**30), self.admin)
        self.send(token.functions.approve(self.agreements.address, 2**256 - 1), holder)
        return token

    # ------------------------------------------------------------- signatures

    def sign_handoff(
        self,
        signer: LocalAccount,
        h: tuple,
        *,
        nonce: int | None = None,
        deadline: int = FAR,
        chain_id: int | None = None,
        contract: str | None = None,
        version: str = "2",
    ) -> tuple[int, int, bytes]:
        """`signer`'s Authorization (nonce, deadline, signature) of handoff `h`."""
        address = contract or self.registry.address
        if nonce is None:
            nonce = int(self.reg.nonces(signer.address).call())
        domain = {
            "name": "ProvenanceRegistry",
            "version": version,
            "chainId": self.w3.eth.chain_id if chain_id is None else chain_id,
            "verifyingContract": address,
        }
        names = [f["name"] for f in HANDOFF_TYPES["Handoff"]]
        message = dict(zip(names, [*h, nonce, deadline], strict=True))
        signed = Account.sign_typed_data(signer.key, domain, HANDOFF_TYPES, message)
        return (nonce, deadline, bytes(signed.signature))

    def sign_agreement(
        self,
        signer: LocalAccount,
        terms: Terms,
        *,
        party: str | None = None,
        nonce: int | None = None,
        deadline: int | None = None,
        chain_id: int | None = None,
        contract: str | None = None,
        version: str = "2",
    ) -> tuple[int, int, bytes]:
        """`signer`'s approval of `terms` for `party` (default: itself), for `proposeSigned`."""
        party = party or signer.address
        nonce = int(self.agr.nonces(party).call()) if nonce is None else nonce
        deadline = self.now() + 3600 if deadline is None else deadline
        domain = {
            "name": "SupplyAgreements",
            "version": version,
            "chainId": self.w3.eth.chain_id if chain_id is None else chain_id,
            "verifyingContract": contract or self.agreements.address,
        }
        message = {"termsHash": terms.hash(), "nonce": nonce, "deadline": deadline}
        signed = Account.sign_typed_data(signer.key, domain, AGREEMENT_TYPES, message)
        return (nonce, deadline, bytes(signed.signature))
