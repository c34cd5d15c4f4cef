"""Typed client of the ProvenanceRegistry contract.

Reads return frozen records (`provenance.records`); writes go through a `Transactor` and return a
`TxResult` (plus the new ids where a call creates something — computed client-side, the same way
the contract does). Arguments are the library's value types (`Gtin`, `Lot`, `Uom`, `Quantity`,
`Address`, …: plain strings and ints are validated by the same constructors), and a few cheap
reads catch the common mistakes before a transaction is signed — an unknown batch, a lot that
does not extend its parent's, the same batch given twice, a merge whose loss swallows its
inputs, an attestation about nothing or already expired — with the message the contract's error
would carry; the contract stays the authority.

What the registry keeps only in its events is rebuilt from them here, with a constant number of
`eth_getLogs` calls: participants (`list_participants`), company prefixes (`list_prefixes`), a
batch's lot and parents (`lot_of`, `parents_of`, `ancestors_of`) and the attestation that proves a
required claim (`claim_proof`).

Byte32 values (batch ids, documents, claims, reasons) are accepted as 0x hex; reasons and claims
may also be short text (`provenance.encoding.text_to_bytes32`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from eth_utils.address import to_checksum_address

from provenance.cbv import biz_step_code, disposition_code
from provenance.chain import Chain
from provenance.client import ContractClient
from provenance.compiler import load_artifact
from provenance.encoding import (
    ZERO32,
    ZERO_ADDRESS,
    Address,
    Hex32,
    address_subject,
    attestation_id,
    b32,
    bytes32_to_text,
    required_text32,
    short_hex,
    text_to_bytes32,
    to_hex32,
)
from provenance.exceptions import InvalidInput, NotFoundError, StateConflict
from provenance.gs1 import (
    CompanyPrefix,
    Gln,
    Gtin,
    Lot,
    batch_id,
    gtin_to_int,
    lot_extends,
    lot_from_bytes32,
    lot_to_bytes32,
)
from provenance.logs import address_topic
from provenance.records import (
    Batch,
    BatchState,
    ClaimProof,
    Handoff,
    NewBatch,
    Participant,
    RequiredClaim,
    Role,
    TxResult,
)
from provenance.reverts import expected_revert, moment
from provenance.signing import SignedHandoff, sign_handoff
from provenance.times import DAY, Moment
from provenance.transactions import Transactor
from provenance.units import MAX_UINT48, Quantity, Uom, uom_from_bytes, uom_to_bytes

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from provenance.deploy import Deployment

REGISTRY = "ProvenanceRegistry"
#: How long a signed handoff stays valid by default.
DEFAULT_SIGNATURE_TTL = 24 * 3600
PARTICIPANT_EVENTS = (
    "ParticipantRegistered",
    "ParticipantUpdated",
    "ParticipantSuspended",
    "ParticipantReinstated",
    "ParticipantMigrated",
)
EDGE_EVENTS = ("BatchSplit", "BatchDerived")
#: How many ids one getLogs topic OR-list carries.
TOPIC_CHUNK = 100


@lru_cache(maxsize=1)
def registry_abi() -> list[dict[str, Any]]:
    return load_artifact(REGISTRY).abi


@dataclass(frozen=True)
class TransformOutput:
    """One output of `transform_batches` (its GTIN under a company prefix of the caller)."""

    gtin: str | int
    lot: str
    quantity: int
    uom: str = "KGM"


@dataclass(frozen=True)
class PrefixAssignment:
    """A GS1 company prefix and its current holder (rebuilt from the registry's events)."""

    prefix: CompanyPrefix
    holder: str
    assigned_at: int


def topic_chunks(items: Sequence[str], size: int = TOPIC_CHUNK) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])


class RegistryClient(ContractClient):
    """Client of one deployed ProvenanceRegistry. `transactor` is needed for writes only."""

    kind = "registry"

    def __init__(
        self,
        chain: Chain,
        address: str,
        transactor: Transactor | None = None,
        *,
        deploy_block: int = 0,
    ) -> None:
        super().__init__(chain, address, registry_abi(), transactor, from_block=deploy_block)

    @property
    def deploy_block(self) -> int:
        return self.from_block

    @classmethod
    def from_deployment(
        cls, chain: Chain, deployment: Deployment, transactor: Transactor | None = None
    ) -> RegistryClient:
        return cls(chain, deployment.registry, transactor, deploy_block=deployment.deploy_block)

    # ------------------------------------------------------------------------------ reads

    def get_batch(self, batch: str) -> Batch:
        """Current state of a batch (`exists` is False for an unknown id)."""
        bid = to_hex32(batch)
        info = self._read(self.contract.functions.getBatch(b32(bid)))
        (
            custodian,
            owner,
            pending_to,
            origin,
            bound_to,
            state,
            recalled,
            lineage_recalled,
            tender_leg,
            pending_ownership,
            gtin,
            quantity,
            uom,
            lineage_number,
            ancestors,
        ) = info
        return Batch(
            batch_id=bid,
            state=BatchState(state),
            custodian=_addr_or_none(custodian),
            owner=_addr_or_none(owner),
            pending_to=_addr_or_none(pending_to),
            origin=_addr_or_none(origin),
            bound_to=_addr_or_none(bound_to),
            recalled=bool(recalled),
            lineage_recalled=bool(lineage_recalled),
            tender_leg=bool(tender_leg),
            pending_ownership=bool(pending_ownership),
            gtin=Gtin.from_chain(int(gtin)),
            quantity=int(quantity),
            uom=uom_from_bytes(uom),
            lineage_number=int(lineage_number),
            ancestors=int(ancestors),
        )

    def lineage_of(self, batch: str) -> list[int]:
        """The lineage numbers of a batch's ancestors (empty for a commissioned batch)."""
        return [int(n) for n in self._read(self.contract.functions.lineageOf(b32(batch)))]

    def get_participant(self, account: str) -> Participant:
        """A participant's registration (`registered` is False if unknown)."""
        address = Address(account, "participant address")
        pid, roles, active, gln = self._read(self.contract.functions.getParticipant(address))
        return Participant(
            address=address, id=int(pid), roles=Role(int(roles)), active=bool(active), gln=int(gln)
        )

    def list_participants(self) -> list[Participant]:
        """Every registered participant in id order, rebuilt from the registry's events
        (registered, updated, suspended, reinstated, migrated to a new key) in one log scan from
        the deploy block: a constant number of RPC calls however many participants there are."""
        found: dict[str, Participant] = {}
        for event in self._events(PARTICIPANT_EVENTS):
            if event.name == "ParticipantMigrated":
                old = found.pop(to_checksum_address(event.args["from"]), None)
                if old is not None:
                    new = str(to_checksum_address(event.args["to"]))
                    found[new] = replace(old, address=new)
                continue
            address = str(to_checksum_address(event.args["account"]))
            current = found.get(address)
            if event.name == "ParticipantRegistered":
                found[address] = Participant(
                    address=address,
                    id=int(event.args["id"]),
                    roles=Role(int(event.args["roles"])),
                    active=True,
                    gln=int(event.args["gln"]),
                )
            elif current is None:  # pragma: no cover - the contract registers before anything
                continue
            elif event.name == "ParticipantUpdated":
                found[address] = replace(
                    current, roles=Role(int(event.args["roles"])), gln=int(event.args["gln"])
                )
            else:
                found[address] = replace(current, active=event.name == "ParticipantReinstated")
        return sorted(found.values(), key=lambda p: p.id)

    def participant_at(self, pid: int) -> str | None:
        return _addr_or_none(self._read(self.contract.functions.participantAt(pid)))

    def prefix_of(self, gtin: str | int) -> tuple[str | None, CompanyPrefix | None]:
        """The holder of the company prefix that covers `gtin`, and that prefix (None, None if
        no assigned prefix covers it)."""
        holder, prefix, length = self._read(self.contract.functions.prefixOf(gtin_to_int(gtin)))
        if int(length) == 0:
            return None, None
        return _addr_or_none(holder), CompanyPrefix.of(int(prefix), int(length))

    def list_prefixes(self, holder: str | None = None) -> list[PrefixAssignment]:
        """Every assigned company prefix (of `holder`, if given), rebuilt from the registry's
        events (assigned, revoked, holder migrated to a new key), in prefix order."""
        found: dict[str, PrefixAssignment] = {}
        events = self._events(("PrefixAssigned", "PrefixRevoked", "ParticipantMigrated"))
        for event in events:
            if event.name == "ParticipantMigrated":
                old, new = (str(to_checksum_address(event.args[k])) for k in ("from", "to"))
                for key, entry in list(found.items()):
                    if entry.holder == old:
                        found[key] = replace(entry, holder=new)
                continue
            prefix = CompanyPrefix.of(int(event.args["prefix"]), int(event.args["length"]))
            if event.name == "PrefixAssigned":
                found[prefix.digits] = PrefixAssignment(
                    prefix, str(to_checksum_address(event.args["account"])), int(event.args["at"])
                )
            else:
                found.pop(prefix.digits, None)
        wanted = Address(holder, "holder") if holder else None
        return sorted(
            (a for a in found.values() if wanted is None or a.holder == wanted),
            key=lambda a: a.prefix.digits,
        )

    def lot_of(self, batch: str) -> str:
        """The lot of a batch, from its `BatchCreated` or `BatchSplit` event (the contract keeps
        only the hash of GTIN and lot)."""
        bid = to_hex32(batch)
        for event in self._events(("BatchCreated", "BatchSplit"), bid):
            return lot_from_bytes32(event.args["lot"])
        raise expected_revert("RegistryUnknownBatch", batchId=short_hex(bid))

    def parents_of(self, batch: str) -> list[Hex32]:
        """The batches `batch` was split, merged or transformed from (from the edge events)."""
        return [to_hex32(e.args["parentId"]) for e in self._events(EDGE_EVENTS, to_hex32(batch))]

    def ancestors_of(self, batch: str) -> list[Hex32]:
        """Every ancestor of `batch`, nearest first: one log query per lineage level."""
        seen = {to_hex32(batch)}
        level, found = [to_hex32(batch)], []
        while level:
            parents: list[Hex32] = []
            for chunk in topic_chunks(level):
                for event in self._events(EDGE_EVENTS, chunk):
                    parent = to_hex32(event.args["parentId"])
                    if parent not in seen:
                        seen.add(parent)
                        parents.append(parent)
            found.extend(parents)
            level = parents
        return found

    def nonce_of(self, account: str) -> int:
        """The EIP-712 nonce the account's next handoff signature must use."""
        return int(self._read(self.contract.functions.nonces(Address(account))))

    def is_attestation_valid(
        self, subject: str, claim: str, issuer: str, evidence: str, at: int | None = None
    ) -> bool:
        when = int(time.time()) if at is None else at
        return bool(
            self._read(
                self.contract.functions.isAttestationValid(
                    b32(self._subject(subject)),
                    b32(text_to_bytes32(claim)),
                    Address(issuer, "issuer"),
                    b32(evidence),
                    when,
                )
            )
        )

    def is_claim_valid_for(
        self, batch: str, subject: str, claim: str, attester: str, evidence: str
    ) -> bool:
        """Whether `attester` vouches for `claim` on `batch` now, by its attestation on `subject`
        (the batch or an ancestor): valid now, and the attester an active certifier still."""
        return bool(
            self._read(
                self.contract.functions.isClaimValidFor(
                    b32(batch),
                    b32(to_hex32(subject)),
                    b32(text_to_bytes32(claim)),
                    Address(attester, "attester"),
                    b32(evidence),
                )
            )
        )

    def claim_proof(self, batch: str, claim: str, attester: str) -> ClaimProof | None:
        """Where `attester`'s attestation of `claim` for `batch` is: on the batch itself or on
        an ancestor (a split does not strip a certificate). Found from `AttestationIssued`
        events and checked with `isClaimValidFor`; the newest valid one wins; None if none."""
        subjects = [to_hex32(batch), *self.ancestors_of(batch)]
        claim32 = text_to_bytes32(claim)
        issuer = address_topic(Address(attester, "attester"))
        issued = []
        for chunk in topic_chunks(subjects):
            issued += self._events(("AttestationIssued",), chunk, claim32, issuer)
        for event in sorted(issued, key=lambda e: e.key, reverse=True):
            subject, evidence = to_hex32(event.args["subject"]), to_hex32(event.args["evidence"])
            if self.is_claim_valid_for(batch, subject, claim32, attester, evidence):
                return ClaimProof(subject, evidence)
        return None

    def claim_proofs(self, batch: str, claims: Sequence[RequiredClaim]) -> list[ClaimProof]:
        """One proof per required claim, in order; `NotFoundError`-like `InvalidInput` naming
        the first claim nobody vouches for."""
        proofs = []
        for required in claims:
            proof = self.claim_proof(batch, required.claim, required.attester)
            if proof is None:
                raise expected_revert(
                    "AgreementsClaimInvalid",
                    batchId=short_hex(to_hex32(batch)),
                    claim=_claim_text(required.claim),
                    attester=required.attester,
                    subject="the batch or any ancestor",
                )
            proofs.append(proof)
        return proofs

    def is_admin(self, account: str) -> bool:
        return bool(self._read(self.contract.functions.hasRole(b"\0" * 32, Address(account))))

    def operator(self) -> str | None:
        """The operator (DEFAULT_ADMIN_ROLE holder)."""
        return _addr_or_none(self._read(self.contract.functions.defaultAdmin()))

    def admin_delay(self) -> int:
        """Seconds between the two steps of an operator hand-over."""
        return int(self._read(self.contract.functions.defaultAdminDelay()))

    def settlement(self) -> str:
        """The SupplyAgreements contract the registry created and trusts."""
        return str(to_checksum_address(self._read(self.contract.functions.settlement())))

    def domain_separator(self) -> Hex32:
        return to_hex32(self._read(self.contract.functions.DOMAIN_SEPARATOR()))

    # ------------------------------------------------------------------------ pre-checks

    def require_batch(self, batch: str) -> Batch:
        """The batch, or `NotFoundError` (same message as the contract's RegistryUnknownBatch)."""
        info = self.get_batch(batch)
        if not info.exists:
            raise expected_revert("RegistryUnknownBatch", batchId=short_hex(info.batch_id))
        return info

    def require_participant(self, account: str) -> Participant:
        """The participant, or `NotFoundError` (as RegistryUnknownParticipant)."""
        info = self.get_participant(account)
        if not info.registered:
            raise expected_revert("RegistryUnknownParticipant", account=info.address)
        return info

    def _known_to_exist(self, batch: Hex32) -> bool | None:
        """Whether `batch` exists, or None while the chain is down (the write is then queued
        and the contract judges it when it is sent)."""
        if not self.chain.reachable:
            return None
        return self.get_batch(batch).exists

    # ----------------------------------------------------------------------------- writes

    # participants and prefixes (operator only)

    def register_participant(
        self,
        account: str,
        roles: Role | str | int,
        gln: str | int | None = 0,
        metadata: str = ZERO32,
    ) -> TxResult:
        address = Address(account, "participant address")
        mask = Role.parse(roles)
        return self._send(
            self.contract.functions.registerParticipant(
                address, int(mask), Gln(gln), b32(text_to_bytes32(metadata, "metadata"))
            ),
            f"register participant {address} as {'|'.join(mask.names())}",
        )

    def update_participant(
        self,
        account: str,
        roles: Role | str | int,
        gln: str | int | None = 0,
        metadata: str = ZERO32,
    ) -> TxResult:
        address = Address(account, "participant address")
        mask = Role.parse(roles)
        return self._send(
            self.contract.functions.updateParticipant(
                address, int(mask), Gln(gln), b32(text_to_bytes32(metadata, "metadata"))
            ),
            f"update participant {address}",
        )

    def suspend_participant(self, account: str, reason: str = "") -> TxResult:
        address = Address(account, "participant address")
        return self._send(
            self.contract.functions.suspendParticipant(
                address, b32(text_to_bytes32(reason, "reason"))
            ),
            f"suspend participant {address}",
        )

    def reinstate_participant(self, account: str) -> TxResult:
        address = Address(account, "participant address")
        return self._send(
            self.contract.functions.reinstateParticipant(address),
            f"reinstate participant {address}",
        )

    def migrate_participant(self, old: str, new: str, reason: str = "") -> TxResult:
        """Move a participant (id, roles, prefixes, custody, title, recall rights) to a new key."""
        source = Address(old, "current participant address")
        target = Address(new, "new participant address")
        if source == target:
            raise InvalidInput(f"cannot migrate {source} to itself: give the new key's address")
        return self._send(
            self.contract.functions.migrateParticipant(
                source, target, b32(text_to_bytes32(reason, "reason"))
            ),
            f"migrate participant {source} to {target}",
        )

    def assign_prefix(self, account: str, prefix: CompanyPrefix | str) -> TxResult:
        """Assign a GS1 company prefix: from now on only `account` commissions GTINs under it."""
        address = Address(account, "prefix holder")
        value = CompanyPrefix(prefix)
        return self._send(
            self.contract.functions.assignPrefix(address, value.value, value.length),
            f"assign company prefix {value} to {address}",
        )

    def revoke_prefix(self, prefix: CompanyPrefix | str) -> TxResult:
        """Revoke a company prefix; batches already commissioned under it keep their origin."""
        value = CompanyPrefix(prefix)
        return self._send(
            self.contract.functions.revokePrefix(value.value, value.length),
            f"revoke company prefix {value}",
        )

    # batches

    def create_batch(
        self,
        gtin: str | int,
        lot: str,
        quantity: int | str,
        uom: str = "KGM",
        document: str = ZERO32,
    ) -> tuple[Hex32, TxResult]:
        """Commission a batch (caller: active producer holding the GTIN's company prefix);
        returns (batch id, result)."""
        gtin14, lot_value = Gtin(gtin), Lot(lot)
        amount, unit = Quantity(quantity), Uom(uom)
        bid = batch_id(gtin14, lot_value)
        if self._known_to_exist(bid):
            raise expected_revert("RegistryBatchExists", batchId=short_hex(bid))
        result = self._send(
            self.contract.functions.createBatch(
                int(gtin14), lot_to_bytes32(lot_value), amount, uom_to_bytes(unit), b32(document)
            ),
            f"create batch {gtin14}/{lot_value}",
        )
        return bid, result

    def create_batches(self, batches: Sequence[NewBatch]) -> tuple[list[Hex32], TxResult]:
        """Commission several batches in one transaction; returns (batch ids, result)."""
        if not batches:
            raise InvalidInput("no batches given")
        ids = [b.batch_id for b in batches]
        _refuse_duplicates(ids, "the same GTIN and lot appear twice")
        result = self._send(
            self.contract.functions.createBatches([b.to_tuple() for b in batches]),
            f"create {len(batches)} batches",
        )
        return ids, result

    def make_handoff(
        self,
        batch: str,
        to: str,
        *,
        from_: str | None = None,
        location: str | int | None = 0,
        biz_step: str | int | None = 0,
        disposition: str | int | None = 0,
        transfer_ownership: bool = False,
        document: str = ZERO32,
    ) -> Handoff:
        """A validated `Handoff` (sender defaults to this client's account)."""
        return Handoff(
            batch_id=to_hex32(batch),
            from_=Address(from_, "sender") if from_ else self.sender,
            to=Address(to, "recipient"),
            location=Gln(location),
            biz_step=biz_step_code(biz_step),
            disposition=disposition_code(disposition),
            transfer_ownership=transfer_ownership,
            document=to_hex32(document),
        )

    def initiate_handoff(self, handoff: Handoff) -> TxResult:
        """Offer custody (see `make_handoff`); the recipient then accepts or rejects.

        No pre-check reads here: the Transactor's pre-flight (gas estimation) already turns any
        revert into the same decoded error before anything is signed, and this is the hot path.
        """
        return self._send(
            self.contract.functions.initiateHandoff(handoff.to_tuple()),
            f"hand off batch {short_hex(handoff.batch_id)} to {handoff.to}",
        )

    def accept_handoff(self, batch: str, document: str = ZERO32) -> TxResult:
        """Accept the pending handoff of `batch` (pre-flight decodes refusals, as above). The
        buyer of a bound delivery accepts it through the agreements contract instead."""
        try:
            return self._send(
                self.contract.functions.acceptHandoff(b32(batch), b32(document)),
                f"accept batch {short_hex(to_hex32(batch))}",
            )
        except StateConflict:
            # "No pending handoff" also covers a batch that does not exist: say which it is.
            self.require_batch(batch)
            raise

    def reject_handoff(self, batch: str, reason: str = "", document: str = ZERO32) -> TxResult:
        return self._send(
            self.contract.functions.rejectHandoff(
                b32(batch), b32(text_to_bytes32(reason, "reason")), b32(document)
            ),
            f"reject batch {short_hex(to_hex32(batch))}",
        )

    def cancel_handoff(self, batch: str, document: str = ZERO32) -> TxResult:
        return self._send(
            self.contract.functions.cancelHandoff(b32(batch), b32(document)),
            f"cancel handoff of batch {short_hex(to_hex32(batch))}",
        )

    def initiate_handoffs(
        self,
        batches: Sequence[str],
        to: str,
        *,
        location: str | int | None = 0,
        biz_step: str | int | None = 0,
        disposition: str | int | None = 0,
        transfer_ownership: bool = False,
        document: str = ZERO32,
    ) -> TxResult:
        """One transaction handing off several (distinct) batches to the same recipient."""
        if not batches:
            raise InvalidInput("no batches given")
        ids = [to_hex32(b) for b in batches]
        _refuse_duplicates(ids, "a handoff names each batch once")
        recipient = Address(to, "recipient")
        return self._send(
            self.contract.functions.initiateHandoffs(
                [b32(b) for b in ids],
                recipient,
                Gln(location),
                biz_step_code(biz_step),
                disposition_code(disposition),
                transfer_ownership,
                b32(document),
            ),
            f"hand off {len(ids)} batches to {recipient}",
        )

    def accept_handoffs(self, batches: Sequence[str], document: str = ZERO32) -> TxResult:
        if not batches:
            raise InvalidInput("no batches given")
        ids = [to_hex32(b) for b in batches]
        _refuse_duplicates(ids, "an acceptance names each batch once")
        return self._send(
            self.contract.functions.acceptHandoffs([b32(b) for b in ids], b32(document)),
            f"accept {len(ids)} batches",
        )

    def sign_handoff(
        self, account: LocalAccount, handoff: Handoff, *, deadline: int | None = None
    ) -> SignedHandoff:
        """Sign `handoff` with `account` (its sender or receiver) using its current nonce."""
        return sign_handoff(
            account,
            handoff,
            chain_id=self.chain.chain_id,
            registry=self.address,
            nonce=self.nonce_of(account.address),
            deadline=deadline if deadline is not None else int(time.time()) + DEFAULT_SIGNATURE_TTL,
        )

    def record_handoff(
        self,
        handoff: Handoff,
        sender: SignedHandoff | None = None,
        receiver: SignedHandoff | None = None,
    ) -> TxResult:
        """Record a handoff in one transaction. A party that is this client's account may pass
        no signature; every other party needs a `SignedHandoff` (verified here first)."""
        auths = []
        for party, signed, role in (
            (handoff.from_, sender, "sender"),
            (handoff.to, receiver, "receiver"),
        ):
            if signed is None:
                if party != self.sender:
                    raise InvalidInput(
                        f"the {role} {party} must sign this handoff (`provenance handoff sign`) "
                        "unless it sends the transaction itself"
                    )
                auths.append((0, 0, b""))
                continue
            if signed.handoff != handoff or signed.role != role:
                raise InvalidInput(f"the {role}'s signed handoff is for a different handoff")
            signed.verify(chain_id=self.chain.chain_id, registry=self.address)
            auths.append(signed.authorization())
        return self._send(
            self.contract.functions.recordHandoff(handoff.to_tuple(), auths[0], auths[1]),
            f"record handoff of batch {short_hex(handoff.batch_id)} to {handoff.to}",
        )

    def use_nonce(self) -> TxResult:
        """Use up this account's current EIP-712 nonce: every outstanding handoff consent it
        signed with that nonce becomes invalid."""
        return self._send(self.contract.functions.useNonce(), "invalidate signed handoffs")

    # lineage

    def split_batch(
        self,
        parent: str,
        parts: Sequence[tuple[str, int]],
        loss: int = 0,
        document: str = ZERO32,
        *,
        parent_lot: str | None = None,
    ) -> tuple[list[Hex32], TxResult]:
        """Split into children `(lot, quantity)` whose lots extend the parent's lot (looked up
        from the events unless given); returns (child ids, result)."""
        info = self.require_batch(parent)
        if not parts:
            raise InvalidInput("a split needs at least one part")
        lot = Lot(parent_lot) if parent_lot is not None else self.lot_of(info.batch_id)
        for child, _ in parts:
            _require_extension(lot, Lot(child))
        _refuse_duplicates([Lot(child) for child, _ in parts], "a split names each new lot once")
        encoded = [(lot_to_bytes32(child), Quantity(qty)) for child, qty in parts]
        lost = Quantity(loss, "loss", allow_zero=True)
        total = sum(q for _, q in parts) + lost
        if info.active and total != info.quantity:
            raise InvalidInput(
                f"split quantities do not add up: parts {total - lost} + loss {lost} = {total}, "
                f"but batch {short_hex(info.batch_id)} holds {info.quantity} {info.uom}"
            )
        children = [batch_id(info.gtin, child) for child, _ in parts]
        result = self._send(
            self.contract.functions.splitBatch(
                b32(parent), lot_to_bytes32(lot), encoded, lost, b32(document)
            ),
            f"split batch {short_hex(info.batch_id)} into {len(parts)}",
        )
        return children, result

    def merge_batches(
        self,
        parents: Sequence[str],
        lot: str,
        loss: int = 0,
        document: str = ZERO32,
        *,
        first_lot: str | None = None,
    ) -> tuple[Hex32, TxResult]:
        """Merge distinct batches of one GTIN, unit, owner and origin into a new lot that
        extends the first batch's lot (looked up from the events unless given); returns (child
        id, result)."""
        ids = [to_hex32(p) for p in parents]
        if len(ids) < 2:
            raise InvalidInput("a merge needs at least two batches")
        _refuse_duplicates(ids, "a merge combines distinct batches")
        lost = Quantity(loss, "loss", allow_zero=True)
        inputs = [self.require_batch(p) for p in ids]  # the first's GTIN names the child
        first = inputs[0]
        base = Lot(first_lot) if first_lot is not None else self.lot_of(first.batch_id)
        _require_extension(base, Lot(lot))
        total = sum(i.quantity for i in inputs)
        if all(i.active for i in inputs) and not 0 <= lost < total:
            raise InvalidInput(
                f"invalid merge loss {lost}: the {len(ids)} batches hold {total} "
                f"{first.uom} together, so the loss must be less than {total}"
            )
        if all(i.active for i in inputs) and total - lost > MAX_UINT48:
            raise InvalidInput(
                f"the merged batch would hold {total - lost}, more than a batch holds "
                f"({MAX_UINT48}): merge fewer batches or record a loss"
            )
        child = batch_id(first.gtin, lot)
        result = self._send(
            self.contract.functions.mergeBatches(
                [b32(p) for p in ids],
                lot_to_bytes32(base),
                lot_to_bytes32(lot),
                lost,
                b32(document),
            ),
            f"merge {len(ids)} batches into lot {lot}",
        )
        return child, result

    def transform_batches(
        self,
        inputs: Sequence[str],
        outputs: Sequence[TransformOutput],
        document: str = ZERO32,
    ) -> tuple[list[Hex32], TxResult]:
        """Consume inputs whole into new outputs (GTINs under the caller's company prefixes);
        the caller becomes the outputs' origin. Returns (output ids, result)."""
        if not inputs or not outputs:
            raise InvalidInput("a transformation needs at least one input and one output")
        ids = [to_hex32(i) for i in inputs]
        _refuse_duplicates(ids, "a transformation consumes each input once")
        encoded = [
            (gtin_to_int(o.gtin), lot_to_bytes32(o.lot), Quantity(o.quantity), uom_to_bytes(o.uom))
            for o in outputs
        ]
        products = [batch_id(o.gtin, o.lot) for o in outputs]
        _refuse_duplicates(products, "each output is a new GTIN and lot")
        result = self._send(
            self.contract.functions.transformBatches([b32(i) for i in ids], encoded, b32(document)),
            f"transform {len(ids)} inputs into {len(outputs)} outputs",
        )
        return products, result

    # attestations

    @staticmethod
    def _subject(subject: str) -> Hex32:
        """A batch id (32-byte hex) or an account address."""
        text = subject.strip()
        if len(text) == 42 and text.lower().startswith("0x"):
            return address_subject(text)
        return to_hex32(text)

    def _require_subject(self, subject: str, subj: Hex32) -> None:
        """An attestation is about something: an existing batch, or a registered participant."""
        if not self.chain.reachable:
            return
        text = subject.strip()
        if len(text) == 42 and text.lower().startswith("0x"):
            if not self.get_participant(text).registered:
                raise NotFoundError(
                    f"cannot attest about {Address(text)}: it is not a registered participant "
                    "(attest about a batch, or ask the operator to register the account first)"
                )
            return
        self.require_batch(subj)

    def attest(
        self,
        subject: str,
        claim: str,
        evidence: str,
        valid_from: int | None = None,
        valid_until: int | None = None,
    ) -> tuple[Hex32, TxResult]:
        """Issue an attestation (caller: active CERTIFIER) about an existing batch or a
        registered participant; returns (attestation id, result). `valid_from` defaults to
        now, `valid_until` to a year later; both must lie between 2000 and 2200, and the window
        must not be over already (nobody could rely on it)."""
        subj = self._subject(subject)
        claim32 = required_text32(claim, "the claim")
        evidence32 = to_hex32(evidence)
        start = Moment(int(time.time()) if valid_from is None else valid_from, "valid-from")
        end = Moment(start + 365 * DAY if valid_until is None else valid_until, "valid-until")
        if end < start:
            raise expected_revert(
                "RegistryInvalidValidity", validFrom=moment(start), validUntil=moment(end)
            )
        if self.chain.reachable and end < self.next_block_time():
            raise InvalidInput(
                f"the attestation would be valid only until {moment(end)}, which is over "
                "already: give a --valid-until in the future"
            )
        self._require_subject(subject, subj)
        att_id = attestation_id(subj, claim32, self.sender, evidence32)
        result = self._send(
            self.contract.functions.attest(b32(subj), b32(claim32), b32(evidence32), start, end),
            f"attest {bytes32_to_text(claim32)} for {short_hex(subj)}",
        )
        return att_id, result

    def revoke_attestation(
        self,
        subject: str,
        claim: str,
        evidence: str,
        reason: str = "",
        *,
        issuer: str | None = None,
    ) -> TxResult:
        """Revoke an attestation from now on. `issuer` is the address that issued it (default:
        this account; give the old key after a migration)."""
        subj = self._subject(subject)
        by = Address(issuer, "issuer") if issuer else self.sender
        return self._send(
            self.contract.functions.revokeAttestation(
                b32(subj),
                b32(required_text32(claim, "the claim")),
                by,
                b32(evidence),
                b32(text_to_bytes32(reason, "reason")),
            ),
            f"revoke attestation {_claim_text(claim)} of {short_hex(subj)}",
        )

    # recalls

    def recall_batch(self, batch: str, reason: str, document: str = ZERO32) -> TxResult:
        """Recall a batch and, with it, every descendant (its active origin or the operator).
        The reason is required: customers see it."""
        why = required_text32(reason, "the recall reason")
        return self._send(
            self.contract.functions.recallBatch(b32(batch), b32(why), b32(document)),
            f"recall batch {short_hex(to_hex32(batch))}",
        )

    def lift_recall(self, batch: str, reason: str, document: str = ZERO32) -> TxResult:
        """Lift a mistaken recall (operator only); the reason is required."""
        why = required_text32(reason, "the reason for lifting the recall")
        return self._send(
            self.contract.functions.liftRecall(b32(batch), b32(why), b32(document)),
            f"lift the recall of batch {short_hex(to_hex32(batch))}",
        )


def _refuse_duplicates(items: Sequence[str], rule: str) -> None:
    seen: set[str] = set()
    for item in items:
        if item in seen:
            shown = short_hex(item) if item.startswith("0x") else item
            raise InvalidInput(f"{shown} is given twice: {rule}")
        seen.add(item)


def _require_extension(parent: str, lot: str) -> None:
    if not lot_extends(parent, lot):
        raise expected_revert("RegistryLotNotExtended", parentLot=parent, lot=lot)


def _claim_text(claim: str) -> str:
    return bytes32_to_text(text_to_bytes32(claim))


def _addr_or_none(value: str) -> str | None:
    address = to_checksum_address(value)
    return None if address == ZERO_ADDRESS else str(address)


__all__ = ["DEFAULT_SIGNATURE_TTL", "PrefixAssignment", "RegistryClient", "TransformOutput"]
