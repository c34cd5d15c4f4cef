"""The frozen records that travel between the library's modules: participants and their roles,
batches, handoffs, agreements and their terms (with the contract's escrow and payout arithmetic),
transaction results.

Values inside them are validated by the value types of `provenance.gs1`, `provenance.units`,
`provenance.encoding`; records built from chain data keep what the chain holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import IntEnum, IntFlag
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_utils.address import to_checksum_address

from provenance.encoding import (
    ZERO32,
    ZERO_ADDRESS,
    Address,
    Hex32,
    keccak_hex,
    text_to_bytes32,
    to_bytes,
    to_hex32,
)
from provenance.exceptions import InvalidInput
from provenance.gs1 import Gtin, Lot, batch_id, lot_to_bytes32
from provenance.money import BPS
from provenance.times import DAY
from provenance.units import MAX_UINT48, Quantity, Uom, uom_from_bytes, uom_to_bytes

# ---------------------------------------------------------------------------------- roles


class Role(IntFlag):
    """Participant roles, a `uint8` bitmask on chain."""

    PRODUCER = 1
    PROCESSOR = 2
    CARRIER = 4
    DISTRIBUTOR = 8
    RETAILER = 16
    CERTIFIER = 32

    @classmethod
    def parse(cls, value: str | int | Role | list[str] | tuple[str, ...]) -> Role:
        """From a mask, `"producer,carrier"`, `"PRODUCER|CARRIER"` or a list of names."""
        if isinstance(value, Role):
            return value
        if isinstance(value, int):
            if value <= 0 or value & ~int(ALL_ROLES):
                raise InvalidInput(f"invalid roles mask {value}: use bits 1..32 ({role_help()})")
            return cls(value)
        names = value if isinstance(value, list | tuple) else re.split(r"[,|+\s]+", value)
        result = cls(0)
        for name in (n.strip() for n in names):
            if not name:
                continue
            try:
                result |= cls[name.upper()]
            except KeyError:
                raise InvalidInput(f"unknown role {name!r}: choose from {role_help()}") from None
        if not result:
            raise InvalidInput(f"no role given: choose from {role_help()}")
        return result

    def names(self) -> list[str]:
        return [r.name.lower() for r in Role if r & self and r.name]


ALL_ROLES = Role(63)


def role_help() -> str:
    return ", ".join(r.name.lower() for r in Role if r.name)


# -------------------------------------------------------------------------------- records


class BatchState(IntEnum):
    NONE = 0
    ACTIVE = 1
    CONSUMED = 2


class OperationKind(IntEnum):
    """How a batch was consumed (`BatchConsumed.kind`, `BatchDerived.kind`)."""

    NONE = 0
    SPLIT = 1
    MERGE = 2
    TRANSFORM = 3


@dataclass(frozen=True)
class Participant:
    """A registry participant (`getParticipant`). `id == 0` means not registered."""

    address: str
    id: int
    roles: Role
    active: bool
    gln: int

    @property
    def registered(self) -> bool:
        return self.id != 0

    def has(self, role: Role) -> bool:
        return bool(self.roles & role)


@dataclass(frozen=True)
class Batch:
    """A batch's current state (`getBatch`); addresses are None when unset.

    `origin` holds the recall right (the creator, or the transformer of an output; kept by splits
    and merges); `bound_to` is the buyer of the bound delivery in progress (a tender), if any;
    `tender_leg` says the pending handoff is that tender; `lineage_recalled` that an ancestor is
    recalled; `lineage_number` is what descendants carry once the batch is consumed; `ancestors`
    how many lineage numbers it carries.
    """

    batch_id: Hex32
    state: BatchState
    custodian: str | None
    owner: str | None
    pending_to: str | None
    origin: str | None
    bound_to: str | None
    recalled: bool
    lineage_recalled: bool
    tender_leg: bool
    pending_ownership: bool
    gtin: str  # 14 digits ("00000000000000" for an unknown batch)
    quantity: int
    uom: str
    lineage_number: int = 0
    ancestors: int = 0

    @property
    def exists(self) -> bool:
        return self.state != BatchState.NONE

    @property
    def active(self) -> bool:
        return self.state == BatchState.ACTIVE

    @property
    def bound(self) -> bool:
        """Bound to an agreement's delivery: it moves only towards its buyer, through carriers."""
        return self.bound_to is not None

    @property
    def frozen(self) -> bool:
        """Recalled, or an ancestor is: it can no longer move, be accepted or consumed."""
        return self.recalled or self.lineage_recalled


@dataclass(frozen=True)
class Handoff:
    """The registry's `Handoff` struct (also the EIP-712 message, plus nonce and deadline)."""

    batch_id: Hex32
    from_: str
    to: str
    location: int = 0
    biz_step: int = 0
    disposition: int = 0
    transfer_ownership: bool = False
    document: Hex32 = ZERO32

    def to_tuple(self) -> tuple[Any, ...]:
        return (
            to_bytes(self.batch_id),
            self.from_,
            self.to,
            self.location,
            self.biz_step,
            self.disposition,
            self.transfer_ownership,
            to_bytes(self.document),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "batchId": self.batch_id,
            "from": self.from_,
            "to": self.to,
            "location": self.location,
            "bizStep": self.biz_step,
            "disposition": self.disposition,
            "transferOwnership": self.transfer_ownership,
            "document": self.document,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Handoff:
        try:
            return cls(
                batch_id=to_hex32(data["batchId"]),
                from_=Address(data["from"], "handoff sender"),
                to=Address(data["to"], "handoff recipient"),
                location=int(data["location"]),
                biz_step=int(data["bizStep"]),
                disposition=int(data["disposition"]),
                transfer_ownership=bool(data["transferOwnership"]),
                document=to_hex32(data["document"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(f"malformed handoff: {exc!r}") from exc


@dataclass(frozen=True)
class Leg:
    """Place, CBV codes and document of a tender (the registry's `Leg`)."""

    location: int = 0
    biz_step: int = 0
    disposition: int = 0
    document: Hex32 = ZERO32

    def to_tuple(self) -> tuple[Any, ...]:
        return (self.location, self.biz_step, self.disposition, to_bytes(self.document))


@dataclass(frozen=True)
class NewBatch:
    """A batch to commission with `createBatches` (validated here)."""

    gtin: str
    lot: str
    quantity: int
    uom: str = "KGM"
    document: Hex32 = ZERO32

    def __post_init__(self) -> None:
        object.__setattr__(self, "gtin", Gtin(self.gtin))
        object.__setattr__(self, "lot", Lot(self.lot))
        object.__setattr__(self, "uom", Uom(self.uom))
        object.__setattr__(self, "document", to_hex32(self.document))
        object.__setattr__(self, "quantity", Quantity(self.quantity, f"quantity of lot {self.lot}"))

    @property
    def batch_id(self) -> Hex32:
        return batch_id(self.gtin, self.lot)

    def to_tuple(self) -> tuple[Any, ...]:
        return (
            int(self.gtin),
            lot_to_bytes32(self.lot),
            self.quantity,
            uom_to_bytes(self.uom),
            to_bytes(self.document),
        )


class AgreementStatus(IntEnum):
    """`ISupplyAgreements.Status`. Settled, Refunded, Resolved and Cancelled are terminal."""

    NONE = 0
    PROPOSED = 1
    ACCEPTED = 2
    FUNDED = 3
    TENDERED = 4
    SETTLED = 5
    REFUNDED = 6
    DISPUTED = 7
    RESOLVED = 8
    CANCELLED = 9

    @property
    def terminal(self) -> bool:
        return self in (
            AgreementStatus.SETTLED,
            AgreementStatus.REFUNDED,
            AgreementStatus.RESOLVED,
            AgreementStatus.CANCELLED,
        )


class DisputeKind(IntEnum):
    """Why an agreement is Disputed; decides the default when the arbiter is silent."""

    NONE = 0
    REJECTED = 1  # the buyer rejected the tender: default = full refund to the buyer
    ESCALATED = 2  # the supplier escalated an unanswered tender: default = paid as if accepted


@dataclass(frozen=True)
class RequiredClaim:
    """A claim the delivered goods must carry, and the certifier whose attestation counts."""

    claim: Hex32
    attester: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "claim", text_to_bytes32(self.claim))
        object.__setattr__(self, "attester", Address(self.attester, "attester"))

    def to_tuple(self) -> tuple[Any, ...]:
        return (to_bytes(self.claim), self.attester)


@dataclass(frozen=True)
class ClaimProof:
    """Where a required claim is attested: the delivered batch or the ancestor carrying it, and
    the evidence hash the attestation was issued with."""

    subject: Hex32
    evidence: Hex32

    def to_tuple(self) -> tuple[Any, ...]:
        return (to_bytes(self.subject), to_bytes(self.evidence))


TERMS_ABI_TYPE = (
    "(address,address,address,address,address,uint256,uint256,bytes3,uint16,uint256,uint64,"
    "uint32,uint32,uint32,uint16,uint16,(bytes32,address)[],bytes32,uint256)"
)
TERMS_KEYS = (
    "buyer",
    "supplier",
    "arbiter",
    "carrier",
    "token",
    "gtin",
    "quantity",
    "uom",
    "toleranceBps",
    "price",
    "deliveryDeadline",
    "gracePeriod",
    "inspectionPeriod",
    "arbiterTimeout",
    "penaltyBpsPerDay",
    "penaltyCapBps",
    "requiredClaims",
    "document",
    "salt",
)


@dataclass(frozen=True)
class AgreementTerms:
    """Mirror of `ISupplyAgreements.Terms`. `token` is the zero address for native ETH; `carrier`
    the zero address when the supplier tenders to the buyer itself (as DAP), else the carrier the
    buyer named as the tender point (as FCA)."""

    buyer: str
    supplier: str
    arbiter: str
    gtin: str  # 14 digits
    quantity: int
    uom: str
    price: int
    delivery_deadline: int
    token: str = ZERO_ADDRESS
    carrier: str = ZERO_ADDRESS
    tolerance_bps: int = 0
    grace_period: int = 0
    inspection_period: int = 3 * DAY
    arbiter_timeout: int = 7 * DAY
    penalty_bps_per_day: int = 0
    penalty_cap_bps: int = 0
    required_claims: tuple[RequiredClaim, ...] = ()
    document: Hex32 = ZERO32
    salt: int = 0

    def to_tuple(self) -> tuple[Any, ...]:
        """The ABI tuple web3 takes for a `Terms` argument."""
        return (
            self.buyer,
            self.supplier,
            self.arbiter,
            self.carrier,
            self.token,
            int(self.gtin),
            self.quantity,
            uom_to_bytes(self.uom),
            self.tolerance_bps,
            self.price,
            self.delivery_deadline,
            self.grace_period,
            self.inspection_period,
            self.arbiter_timeout,
            self.penalty_bps_per_day,
            self.penalty_cap_bps,
            [c.to_tuple() for c in self.required_claims],
            to_bytes(self.document),
            self.salt,
        )

    @classmethod
    def from_tuple(cls, value: Any) -> AgreementTerms:
        """From a decoded `Terms` (tuple, list, or web3's AttributeDict/dict by field name)."""
        if isinstance(value, dict) or hasattr(value, "keys"):
            value = tuple(value[k] for k in TERMS_KEYS)
        (
            buyer,
            supplier,
            arbiter,
            carrier,
            token,
            gtin,
            quantity,
            uom,
            tolerance,
            price,
            deadline,
            grace,
            inspection,
            timeout,
            bps,
            cap,
            claims,
            document,
            salt,
        ) = value
        required = []
        for claim in claims:
            if isinstance(claim, dict) or hasattr(claim, "keys"):
                claim = (claim["claim"], claim["attester"])
            required.append(RequiredClaim(to_hex32(claim[0]), to_checksum_address(claim[1])))
        return cls(
            buyer=to_checksum_address(buyer),
            supplier=to_checksum_address(supplier),
            arbiter=to_checksum_address(arbiter),
            carrier=to_checksum_address(carrier),
            token=to_checksum_address(token),
            gtin=Gtin.from_chain(int(gtin)),
            quantity=int(quantity),
            uom=uom_from_bytes(uom),
            tolerance_bps=int(tolerance),
            price=int(price),
            delivery_deadline=int(deadline),
            grace_period=int(grace),
            inspection_period=int(inspection),
            arbiter_timeout=int(timeout),
            penalty_bps_per_day=int(bps),
            penalty_cap_bps=int(cap),
            required_claims=tuple(required),
            document=to_hex32(document),
            salt=int(salt),
        )

    def terms_hash(self) -> Hex32:
        """`keccak256(abi.encode(terms))`, what the contract stores."""
        return keccak_hex(abi_encode([TERMS_ABI_TYPE], [self.to_tuple()]))

    @property
    def is_eth(self) -> bool:
        return int(self.token, 16) == 0

    @property
    def has_carrier(self) -> bool:
        return int(self.carrier, 16) != 0

    @property
    def tender_point(self) -> str:
        """Who receives the tender: the named carrier (as FCA), else the buyer (as DAP)."""
        return self.carrier if self.has_carrier else self.buyer

    @property
    def closes_at(self) -> int:
        """The last moment a tender is accepted: deadline + grace."""
        return self.delivery_deadline + self.grace_period

    def escrow(self) -> int:
        """What the buyer escrows: price + ⌈price × tolerance / 10,000⌉ (`escrowOf`)."""
        return self.price + -(-self.price * self.tolerance_bps // BPS)

    def within_tolerance(self, delivered: int) -> bool:
        """Whether a batch of `delivered` units may be tendered (agreed quantity ± tolerance)."""
        if self.quantity > MAX_UINT48 or delivered > MAX_UINT48 or delivered < 0:
            return False
        return abs(delivered - self.quantity) * BPS <= self.quantity * self.tolerance_bps

    def days_late(self, tendered_at: int) -> int:
        """Whole days from the deadline to the tender (0 if on time): what the penalty counts."""
        return max(0, tendered_at - self.delivery_deadline) // DAY

    def penalty_bps(self, days_late: int) -> int:
        return min(days_late * self.penalty_bps_per_day, self.penalty_cap_bps)

    def payout(self, delivered: int, days_late: int) -> tuple[int, int]:
        """(supplier, buyer) credits of a tender of `delivered` units `days_late` whole days late,
        as `payoutFor` computes them: payment = price × delivered / quantity (rounded down),
        penalty = payment × rate / 10,000, supplier = payment − penalty, buyer = escrow − that."""
        payment = self.price * delivered // self.quantity
        penalty = payment * self.penalty_bps(days_late) // BPS
        supplier = payment - penalty
        return supplier, self.escrow() - supplier

    def penalty_for(self, days_late: int, delivered: int | None = None) -> int:
        """The late penalty on a delivery of `delivered` units (default: the agreed quantity)."""
        payment = self.price * (self.quantity if delivered is None else delivered) // self.quantity
        return payment * self.penalty_bps(days_late) // BPS


@dataclass(frozen=True)
class Agreement:
    """An agreement: its id, terms (rebuilt from `AgreementProposed`) and current state
    (`stateOf`), with the batch of its current or last tender (from `DeliveryTendered`)."""

    id: int
    terms: AgreementTerms
    status: AgreementStatus
    proposer: str | None = None
    dispute_kind: DisputeKind = DisputeKind.NONE
    tendered_at: int = 0
    disputed_at: int = 0
    tendered_batch: Hex32 | None = None
    days_late: int | None = None

    @property
    def escrow(self) -> int:
        return self.terms.escrow()


@dataclass(frozen=True)
class TxResult:
    """Outcome of sending one transaction.

    - `queued`: the endpoint was unreachable; the signed tx waits in the outbox (no receipt yet).
    - `already_recorded`: the tx was found mined already (e.g. on outbox replay).
    - `return_value`: what the call returned in the pre-flight (e.g. a new batch id), if anything.
    """

    tx_hash: str
    block_number: int | None = None
    gas_used: int | None = None
    status: int | None = None
    queued: bool = False
    already_recorded: bool = False
    description: str = ""
    nonce: int | None = None
    return_value: Any = None
    receipt: Any = field(default=None, compare=False, repr=False)
    contract_address: str | None = None  # of a contract creation

    @property
    def ok(self) -> bool:
        return self.status == 1
