"""Typed client of the ProvenanceRegistry contract.

Reads return frozen dataclasses from `provenance.types`; writes go through a `Transactor` and
return a `TxResult` (plus the new ids where a call creates something — computed client-side, the
same way the contract does). Arguments are validated client-side first (GTIN, lot, addresses,
codes) and a few cheap reads catch the common mistakes (unknown batch, unregistered recipient)
before a transaction is signed; the contract stays the authority.

Byte32 values (batch ids, documents, claims, reasons) are accepted as 0x hex; reasons and claims
may also be short text (`provenance.types.text_to_bytes32`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from eth_utils.address import to_checksum_address

from provenance.chain import Chain
from provenance.client import ContractClient
from provenance.compiler import load_artifact
from provenance.exceptions import ChainError, InvalidInput, StateConflict
from provenance.reverts import expected_revert
from provenance.signing import SignedHandoff, sign_handoff
from provenance.transactions import Transactor, is_connection_error
from provenance.types import (
    MAX_UINT48,
    ZERO32,
    ZERO_ADDRESS,
    Batch,
    BatchState,
    Handoff,
    Hex32,
    Participant,
    Role,
    TxResult,
    address_subject,
    attestation_id,
    batch_id,
    biz_step_code,
    disposition_code,
    gtin_from_int,
    gtin_to_int,
    lot_to_bytes32,
    normalize_gtin,
    short_hex,
    text_to_bytes32,
    to_hex32,
    uom_from_bytes,
    uom_to_bytes,
    validate_address,
    validate_gln,
)

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from provenance.deploy import Deployment

REGISTRY = "ProvenanceRegistry"
#: How long a signed handoff stays valid by default.
DEFAULT_SIGNATURE_TTL = 24 * 3600


@lru_cache(maxsize=1)
def registry_abi() -> list[dict[str, Any]]:
    return load_artifact(REGISTRY).abi


@dataclass(frozen=True)
class TransformOutput:
    """One output of `transform_batches`."""

    gtin: str | int
    lot: str
    quantity: int
    uom: str = "KGM"


def _b32(value: str | bytes) -> bytes:
    return bytes.fromhex(to_hex32(value)[2:])


def _quantity(value: int, what: str = "quantity", *, allow_zero: bool = False) -> int:
    if (
        not isinstance(value, int)
        or value < 0
        or value > MAX_UINT48
        or (value == 0 and not allow_zero)
    ):
        low = 0 if allow_zero else 1
        raise InvalidInput(f"invalid {what} {value!r}: expected a whole number {low}..{MAX_UINT48}")
    return value


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
        super().__init__(chain, address, registry_abi(), transactor)
        self.deploy_block = deploy_block  # where event scans start

    @classmethod
    def from_deployment(
        cls, chain: Chain, deployment: Deployment, transactor: Transactor | None = None
    ) -> RegistryClient:
        return cls(chain, deployment.registry, transactor, deploy_block=deployment.deploy_block)

    # ------------------------------------------------------------------------------ reads

    def get_batch(self, batch: str) -> Batch:
        """Current state of a batch (`exists` is False for an unknown id)."""
        bid = to_hex32(batch)
        info = self._read(self.contract.functions.getBatch(_b32(bid)))
        custodian, owner, pending_to, creator, state, recalled, flags, gtin, quantity, uom = info
        return Batch(
            batch_id=bid,
            state=BatchState(state),
            recalled=bool(recalled),
            flags=int(flags),
            custodian=_addr_or_none(custodian),
            owner=_addr_or_none(owner),
            pending_to=_addr_or_none(pending_to),
            creator=_addr_or_none(creator),
            gtin=gtin_from_int(int(gtin)),
            quantity=int(quantity),
            uom=uom_from_bytes(uom),
        )

    def get_participant(self, account: str) -> Participant:
        """A participant's registration (`registered` is False if unknown)."""
        address = validate_address(account, "participant address")
        pid, roles, active, gln = self._read(self.contract.functions.getParticipant(address))
        return Participant(
            address=address, id=int(pid), roles=Role(int(roles)), active=bool(active), gln=int(gln)
        )

    def list_participants(self) -> list[Participant]:
        """Every registered participant in id order, rebuilt from the registry's events
        (ParticipantRegistered/Updated/Suspended/Reinstated) in one log scan from the deploy
        block: a constant number of RPC calls however many participants there are."""
        from provenance.logs import EventDecoder, fetch_logs

        decoder = EventDecoder(registry_abi())
        names = (
            "ParticipantRegistered",
            "ParticipantUpdated",
            "ParticipantSuspended",
            "ParticipantReinstated",
        )
        try:
            logs = fetch_logs(
                self.chain, self.address, [[decoder.topic(n) for n in names]], self.deploy_block
            )
        except ChainError:
            raise
        except Exception as exc:
            if is_connection_error(exc):
                raise ChainError(
                    f"cannot reach the chain at {self.chain.rpc}: {exc.__class__.__name__} "
                    "(is the node running? `provenance node start`)"
                ) from exc
            raise
        found: dict[str, Participant] = {}
        for event in decoder.decode_all(logs):
            address = to_checksum_address(event.args["account"])
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

    def parents_of(self, batch: str) -> list[Hex32]:
        return [to_hex32(p) for p in self._read(self.contract.functions.parentsOf(_b32(batch)))]

    def nonce_of(self, account: str) -> int:
        """The EIP-712 nonce the account's next handoff signature must use."""
        return int(self._read(self.contract.functions.nonces(validate_address(account))))

    def is_attestation_valid(
        self, subject: str, claim: str, issuer: str, evidence: str, at: int | None = None
    ) -> bool:
        when = int(time.time()) if at is None else at
        return bool(
            self._read(
                self.contract.functions.isAttestationValid(
                    _b32(self._subject(subject)),
                    _b32(text_to_bytes32(claim)),
                    validate_address(issuer, "issuer"),
                    _b32(evidence),
                    when,
                )
            )
        )

    def is_admin(self, account: str) -> bool:
        return bool(
            self._read(self.contract.functions.hasRole(b"\0" * 32, validate_address(account)))
        )

    def domain_separator(self) -> Hex32:
        return to_hex32(self._read(self.contract.functions.DOMAIN_SEPARATOR()))

    # ------------------------------------------------------------------------ pre-checks

    def _offline(self, exc: ChainError) -> bool:
        """Whether a failed pre-check read means "the endpoint is down" (then the write goes on
        and its transaction is queued in the outbox) rather than a real error."""
        return self.transactor is not None and is_connection_error(exc)

    def require_batch(self, batch: str) -> Batch:
        """The batch, or `NotFoundError` (same message as the contract's RegistryUnknownBatch)."""
        info = self.get_batch(batch)
        if not info.exists:
            raise expected_revert("RegistryUnknownBatch", batchId=short_hex(info.batch_id))
        return info

    def require_participant(self, account: str) -> Participant:
        info = self.get_participant(account)
        if not info.registered:
            raise expected_revert("RegistryUnknownParticipant", account=info.address)
        return info

    # ----------------------------------------------------------------------------- writes

    # participants (operator only)

    def register_participant(
        self,
        account: str,
        roles: Role | str | int,
        gln: str | int | None = 0,
        metadata: str = ZERO32,
    ) -> TxResult:
        address = validate_address(account, "participant address")
        mask = Role.parse(roles)
        return self._send(
            self.contract.functions.registerParticipant(
                address, int(mask), validate_gln(gln), _b32(metadata)
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
        address = validate_address(account, "participant address")
        mask = Role.parse(roles)
        return self._send(
            self.contract.functions.updateParticipant(
                address, int(mask), validate_gln(gln), _b32(metadata)
            ),
            f"update participant {address}",
        )

    def suspend_participant(self, account: str, reason: str = "") -> TxResult:
        address = validate_address(account, "participant address")
        return self._send(
            self.contract.functions.suspendParticipant(address, _b32(text_to_bytes32(reason))),
            f"suspend participant {address}",
        )

    def reinstate_participant(self, account: str) -> TxResult:
        address = validate_address(account, "participant address")
        return self._send(
            self.contract.functions.reinstateParticipant(address),
            f"reinstate participant {address}",
        )

    # batches

    def create_batch(
        self,
        gtin: str | int,
        lot: str,
        quantity: int,
        uom: str = "KGM",
        document: str = ZERO32,
    ) -> tuple[Hex32, TxResult]:
        """Commission a batch; returns (batch id, result)."""
        gtin14 = normalize_gtin(gtin)
        lot_bytes = lot_to_bytes32(lot)
        bid = batch_id(gtin14, lot)
        _quantity(quantity)
        try:
            existing = self.get_batch(bid)
        except ChainError as exc:
            if not self._offline(exc):
                raise
        else:
            if existing.exists:
                raise expected_revert("RegistryBatchExists", batchId=short_hex(bid))
        result = self._send(
            self.contract.functions.createBatch(
                int(gtin14), lot_bytes, quantity, uom_to_bytes(uom), _b32(document)
            ),
            f"create batch {gtin14}/{lot}",
        )
        return bid, result

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
            from_=validate_address(from_, "sender") if from_ else self.sender,
            to=validate_address(to, "recipient"),
            location=validate_gln(location),
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

    def accept_handoff(self, batch: str) -> TxResult:
        """Accept the pending handoff of `batch` (pre-flight decodes refusals, as above)."""
        try:
            return self._send(
                self.contract.functions.acceptHandoff(_b32(batch)),
                f"accept batch {short_hex(to_hex32(batch))}",
            )
        except StateConflict:
            # "No pending handoff" also covers a batch that does not exist: say which it is.
            self.require_batch(batch)
            raise

    def reject_handoff(self, batch: str, reason: str = "") -> TxResult:
        return self._send(
            self.contract.functions.rejectHandoff(_b32(batch), _b32(text_to_bytes32(reason))),
            f"reject batch {short_hex(to_hex32(batch))}",
        )

    def cancel_handoff(self, batch: str) -> TxResult:
        return self._send(
            self.contract.functions.cancelHandoff(_b32(batch)),
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
        """One transaction handing off several batches to the same recipient."""
        if not batches:
            raise InvalidInput("no batches given")
        recipient = validate_address(to, "recipient")
        return self._send(
            self.contract.functions.initiateHandoffs(
                [_b32(b) for b in batches],
                recipient,
                validate_gln(location),
                biz_step_code(biz_step),
                disposition_code(disposition),
                transfer_ownership,
                _b32(document),
            ),
            f"hand off {len(batches)} batches to {recipient}",
        )

    def accept_handoffs(self, batches: Sequence[str]) -> TxResult:
        if not batches:
            raise InvalidInput("no batches given")
        return self._send(
            self.contract.functions.acceptHandoffs([_b32(b) for b in batches]),
            f"accept {len(batches)} batches",
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

    # lineage

    def split_batch(
        self,
        parent: str,
        parts: Sequence[tuple[str, int]],
        loss: int = 0,
        document: str = ZERO32,
    ) -> tuple[list[Hex32], TxResult]:
        """Split into children `(lot, quantity)`; returns (child ids, result)."""
        info = self.require_batch(parent)
        if not parts:
            raise InvalidInput("a split needs at least one part")
        encoded = [(lot_to_bytes32(lot), _quantity(qty)) for lot, qty in parts]
        _quantity(loss, "loss", allow_zero=True)
        total = sum(q for _, q in parts) + loss
        if info.active and total != info.quantity:
            raise expected_revert(
                "RegistryQuantityMismatch", expected=str(info.quantity), actual=str(total)
            )
        children = [batch_id(info.gtin, lot) for lot, _ in parts]
        result = self._send(
            self.contract.functions.splitBatch(_b32(parent), encoded, loss, _b32(document)),
            f"split batch {short_hex(info.batch_id)} into {len(parts)}",
        )
        return children, result

    def merge_batches(
        self,
        parents: Sequence[str],
        lot: str,
        loss: int = 0,
        document: str = ZERO32,
    ) -> tuple[Hex32, TxResult]:
        """Merge batches of one GTIN/uom/owner into a new lot; returns (child id, result)."""
        if len(parents) < 2:
            raise InvalidInput("a merge needs at least two batches")
        first = self.require_batch(parents[0])  # its GTIN names the child: needs the chain
        child = batch_id(first.gtin, lot)
        result = self._send(
            self.contract.functions.mergeBatches(
                [_b32(p) for p in parents],
                lot_to_bytes32(lot),
                _quantity(loss, "loss", allow_zero=True),
                _b32(document),
            ),
            f"merge {len(parents)} batches into lot {lot}",
        )
        return child, result

    def transform_batches(
        self,
        inputs: Sequence[str],
        outputs: Sequence[TransformOutput],
        document: str = ZERO32,
    ) -> tuple[list[Hex32], TxResult]:
        """Consume inputs whole into new outputs; returns (output ids, result)."""
        if not inputs or not outputs:
            raise InvalidInput("a transformation needs at least one input and one output")
        encoded = [
            (gtin_to_int(o.gtin), lot_to_bytes32(o.lot), _quantity(o.quantity), uom_to_bytes(o.uom))
            for o in outputs
        ]
        ids = [batch_id(o.gtin, o.lot) for o in outputs]
        result = self._send(
            self.contract.functions.transformBatches(
                [_b32(i) for i in inputs], encoded, _b32(document)
            ),
            f"transform {len(inputs)} inputs into {len(outputs)} outputs",
        )
        return ids, result

    # attestations

    @staticmethod
    def _subject(subject: str) -> Hex32:
        """A batch id (32-byte hex) or an account address."""
        text = subject.strip()
        if len(text) == 42 and text.startswith("0x"):
            return address_subject(text)
        return to_hex32(text)

    def attest(
        self,
        subject: str,
        claim: str,
        evidence: str,
        valid_from: int | None = None,
        valid_until: int = 2**64 - 1,
    ) -> tuple[Hex32, TxResult]:
        """Issue an attestation (caller: active CERTIFIER); returns (attestation id, result)."""
        subj = self._subject(subject)
        claim32 = text_to_bytes32(claim)
        evidence32 = to_hex32(evidence)
        start = int(time.time()) if valid_from is None else valid_from
        if valid_until < start:
            raise expected_revert(
                "RegistryInvalidValidity", validFrom=str(start), validUntil=str(valid_until)
            )
        att_id = attestation_id(subj, claim32, self.sender, evidence32)
        result = self._send(
            self.contract.functions.attest(
                _b32(subj), _b32(claim32), _b32(evidence32), start, valid_until
            ),
            f"attest {claim} for {short_hex(subj)}",
        )
        return att_id, result

    def revoke_attestation(
        self, subject: str, claim: str, evidence: str, reason: str = ""
    ) -> TxResult:
        subj = self._subject(subject)
        return self._send(
            self.contract.functions.revokeAttestation(
                _b32(subj),
                _b32(text_to_bytes32(claim)),
                _b32(evidence),
                _b32(text_to_bytes32(reason)),
            ),
            f"revoke attestation {claim} of {short_hex(subj)}",
        )

    # recalls

    def recall_batch(self, batch: str, reason: str = "") -> TxResult:
        return self._send(
            self.contract.functions.recallBatch(_b32(batch), _b32(text_to_bytes32(reason))),
            f"recall batch {short_hex(to_hex32(batch))}",
        )


def _addr_or_none(value: str) -> str | None:
    address = to_checksum_address(value)
    return None if address == ZERO_ADDRESS else str(address)
