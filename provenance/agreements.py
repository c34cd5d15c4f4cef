"""Typed client of the SupplyAgreements contract (escrowed supplier agreements).

The contract stores only the hash of an agreement's `Terms`; every call after `propose` passes the
full terms. This client rebuilds them from the `AgreementProposed` event (`terms_of`, `get`), so
callers pass just the id; pass `terms=` to skip that lookup. Likewise the batch of a tender comes
from the `DeliveryTendered` events (`tendered_batch`, `agreement_of_batch`). Writes go through a
`Transactor`.

How a delivery pays (see `ISupplyAgreements`): the supplier `tender`s a batch it owns — a handoff
bound to the agreement, to the tender point the terms name (the buyer, or a carrier); the buyer's
`accept_delivery` completes it in the registry and settles in the same transaction (lateness was
fixed at the tender); `reject_delivery` opens a dispute whose default refunds the buyer, and the
supplier may re-tender before deadline + grace; an unanswered tender can be `escalate`d after the
inspection period, and the arbiter `resolve`s (or, when silent, `resolve_by_default` applies).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from eth_utils.address import to_checksum_address
from web3.logs import DISCARD

from provenance.chain import Chain
from provenance.client import ContractClient
from provenance.compiler import load_artifact
from provenance.encoding import (
    MAX_UINT256,
    ZERO32,
    ZERO_ADDRESS,
    Hex32,
    b32,
    bytes32_to_text,
    short_hex,
    text_to_bytes32,
    to_hex32,
    uint,
    validate_address,
)
from provenance.exceptions import InvalidInput
from provenance.money import BPS
from provenance.records import (
    Agreement,
    AgreementStatus,
    AgreementTerms,
    ClaimProof,
    DisputeKind,
    Leg,
    Role,
    TxResult,
)
from provenance.reverts import expected_revert, moment
from provenance.signing import AgreementApproval, sign_agreement
from provenance.transactions import Transactor
from provenance.units import MAX_UINT48, Uom

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from provenance.deploy import Deployment

AGREEMENTS = "SupplyAgreements"
DEFAULT_SIGNATURE_TTL = 24 * 3600
MAX_CLAIMS = 8

#: The part of the ERC-20 ABI `fund` needs.
ERC20_ABI: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": "approve",
        "stateMutability": "nonpayable",
        "inputs": [{"name": "spender", "type": "address"}, {"name": "amount", "type": "uint256"}],
        "outputs": [{"name": "", "type": "bool"}],
    },
    {
        "type": "function",
        "name": "allowance",
        "stateMutability": "view",
        "inputs": [{"name": "owner", "type": "address"}, {"name": "spender", "type": "address"}],
        "outputs": [{"name": "", "type": "uint256"}],
    },
    {
        "type": "function",
        "name": "balanceOf",
        "stateMutability": "view",
        "inputs": [{"name": "account", "type": "address"}],
        "outputs": [{"name": "", "type": "uint256"}],
    },
]


@lru_cache(maxsize=1)
def agreements_abi() -> list[dict[str, Any]]:
    return load_artifact(AGREEMENTS).abi


def _id_topic(agreement_id: int) -> str:
    return "0x" + agreement_id.to_bytes(32, "big").hex()


class AgreementsClient(ContractClient):
    """Client of one deployed SupplyAgreements contract.

    `from_block` bounds the event searches (use the deployment block).
    """

    kind = "agreements"

    def __init__(
        self,
        chain: Chain,
        address: str,
        transactor: Transactor | None = None,
        *,
        from_block: int = 0,
    ) -> None:
        super().__init__(chain, address, agreements_abi(), transactor, from_block=from_block)
        self._terms: dict[int, AgreementTerms] = {}

    @classmethod
    def from_deployment(
        cls, chain: Chain, deployment: Deployment, transactor: Transactor | None = None
    ) -> AgreementsClient:
        return cls(chain, deployment.agreements, transactor, from_block=deployment.deploy_block)

    # ------------------------------------------------------------------------------ reads

    def status_of(self, agreement_id: int) -> AgreementStatus:
        return AgreementStatus(int(self._read(self.contract.functions.statusOf(agreement_id))))

    def state_of(self, agreement_id: int) -> tuple[AgreementStatus, DisputeKind, int, int, str]:
        """(status, dispute kind, tendered at, disputed at, batch tag) as stored: the tag is the
        high 152 bits of the tendered batch id, as 0x hex (zero if nothing was tendered)."""
        status, kind, tendered, disputed, tag = self._read(
            self.contract.functions.stateOf(agreement_id)
        )
        return (
            AgreementStatus(int(status)),
            DisputeKind(int(kind)),
            int(tendered),
            int(disputed),
            "0x" + bytes(tag).hex(),
        )

    def count(self) -> int:
        return int(self._read(self.contract.functions.agreementCount()))

    def credit_of(self, account: str, token: str = ZERO_ADDRESS) -> int:
        """Unwithdrawn credit of `account` in `token` (zero address = ETH)."""
        return int(
            self._read(
                self.contract.functions.creditOf(
                    validate_address(account), validate_address(token, "token", allow_zero=True)
                )
            )
        )

    def nonce_of(self, account: str) -> int:
        return int(self._read(self.contract.functions.nonces(validate_address(account))))

    def hash_terms(self, terms: AgreementTerms) -> Hex32:
        """The contract's own hash of `terms` (equals `terms.terms_hash()`)."""
        return to_hex32(self._read(self.contract.functions.hashTerms(terms.to_tuple())))

    def terms_hash_of(self, agreement_id: int) -> Hex32:
        """The full terms hash stored for an agreement (zero if unknown)."""
        return to_hex32(self._read(self.contract.functions.termsHashOf(agreement_id)))

    def escrow_of(self, terms: AgreementTerms) -> int:
        """What the buyer escrows (the contract's `escrowOf`; equals `terms.escrow()`)."""
        return int(self._read(self.contract.functions.escrowOf(terms.to_tuple())))

    def payout_for(self, terms: AgreementTerms, quantity: int, days_late: int) -> tuple[int, int]:
        """(supplier, buyer) credits of a tender of `quantity`, `days_late` whole days late."""
        supplier, buyer = self._read(
            self.contract.functions.payoutFor(terms.to_tuple(), quantity, days_late)
        )
        return int(supplier), int(buyer)

    def terms_of(self, agreement_id: int) -> AgreementTerms:
        """The terms of an agreement, from its `AgreementProposed` event (cached)."""
        if agreement_id not in self._terms:
            self._terms[agreement_id] = self._proposed(agreement_id)[0]
        return self._terms[agreement_id]

    def _proposed(self, agreement_id: int) -> tuple[AgreementTerms, str]:
        events = self._events(("AgreementProposed",), _id_topic(agreement_id))
        if not events:
            raise expected_revert("AgreementsUnknown", id=str(agreement_id))
        args = events[0].args
        return AgreementTerms.from_tuple(args["terms"]), str(to_checksum_address(args["proposer"]))

    def tenders_of(self, agreement_id: int) -> list[tuple[Hex32, int, int]]:
        """Every tender of an agreement, oldest first: (batch id, days late, tendered at)."""
        return [
            (to_hex32(e.args["batchId"]), int(e.args["daysLate"]), int(e.args["at"]))
            for e in self._events(("DeliveryTendered",), _id_topic(agreement_id))
        ]

    def tendered_batch(self, agreement_id: int) -> Hex32:
        """The batch of the agreement's current (or last) tender."""
        tenders = self.tenders_of(agreement_id)
        if not tenders:
            raise expected_revert(
                "AgreementsWrongStatus",
                id=str(agreement_id),
                status=self.status_of(agreement_id).name.lower(),
            )
        return tenders[-1][0]

    def agreement_of_batch(self, batch: str) -> int | None:
        """The agreement whose delivery `batch` is (its latest tender), or None if it was never
        tendered. Found from `DeliveryTendered` (topic 2 = batch id)."""
        events = self._events(("DeliveryTendered",), None, to_hex32(batch))
        return int(events[-1].args["id"]) if events else None

    def get(self, agreement_id: int) -> Agreement:
        """Id, terms (from events), state, proposer and the batch of the current tender."""
        status, kind, tendered_at, disputed_at, _tag = self.state_of(agreement_id)
        if status == AgreementStatus.NONE:
            raise expected_revert("AgreementsUnknown", id=str(agreement_id))
        terms, proposer = self._proposed(agreement_id)
        self._terms[agreement_id] = terms
        tenders = self.tenders_of(agreement_id) if tendered_at else []
        return Agreement(
            id=agreement_id,
            terms=terms,
            status=status,
            proposer=proposer,
            dispute_kind=kind,
            tendered_at=tendered_at,
            disputed_at=disputed_at,
            tendered_batch=tenders[-1][0] if tenders else None,
            days_late=tenders[-1][1] if tenders else None,
        )

    # ----------------------------------------------------------------------------- writes

    def _id_from(self, result: TxResult) -> int:
        if result.receipt is None:  # queued offline: the id is only known once mined
            return 0
        events = self.contract.events.AgreementProposed().process_receipt(
            result.receipt, errors=DISCARD
        )
        return int(events[0]["args"]["id"]) if events else 0

    def propose(self, terms: AgreementTerms) -> tuple[int, TxResult]:
        """Propose as buyer or supplier; returns (agreement id, result). The id is 0 if the
        transaction was queued offline. The terms are checked as the contract will check them —
        the deadline against the next block's time, an ERC-20 token for contract code — so a
        proposal that would revert is refused before anything is signed."""
        self._check_terms(terms)
        self._check_live(terms)
        result = self._send(
            self.contract.functions.propose(terms.to_tuple()),
            f"propose agreement {terms.buyer} ← {terms.supplier}",
        )
        agreement_id = self._id_from(result)
        if agreement_id:
            self._terms[agreement_id] = terms
        return agreement_id, result

    def sign(
        self, account: LocalAccount, terms: AgreementTerms, *, deadline: int | None = None
    ) -> AgreementApproval:
        """Approve `terms` off-chain with `account` (buyer or supplier) for `propose_signed`."""
        return sign_agreement(
            account,
            terms,
            chain_id=self.chain.chain_id,
            agreements=self.address,
            nonce=self.nonce_of(account.address),
            deadline=deadline if deadline is not None else int(time.time()) + DEFAULT_SIGNATURE_TTL,
        )

    def propose_signed(
        self,
        terms: AgreementTerms,
        buyer: AgreementApproval | None = None,
        supplier: AgreementApproval | None = None,
    ) -> tuple[int, TxResult]:
        """Create an Accepted agreement from both parties' approvals (a party that sends the
        transaction may pass None)."""
        self._check_terms(terms)
        self._check_live(terms)
        auths = []
        for party, approval, role in (
            (terms.buyer, buyer, "buyer"),
            (terms.supplier, supplier, "supplier"),
        ):
            if approval is None:
                if party != self.sender:
                    raise InvalidInput(f"the {role} {party} must approve these terms first")
                auths.append((0, 0, b""))
            else:
                approval.verify(terms)
                auths.append(approval.authorization())
        result = self._send(
            self.contract.functions.proposeSigned(terms.to_tuple(), auths[0], auths[1]),
            "propose signed agreement",
        )
        agreement_id = self._id_from(result)
        if agreement_id:
            self._terms[agreement_id] = terms
        return agreement_id, result

    def accept(self, agreement_id: int, terms: AgreementTerms | None = None) -> TxResult:
        terms = terms or self.terms_of(agreement_id)
        return self._send(
            self.contract.functions.accept(agreement_id, terms.to_tuple()),
            f"accept agreement {agreement_id}",
        )

    def cancel(self, agreement_id: int, terms: AgreementTerms | None = None) -> TxResult:
        """Cancel: before funding by either party; once funded (nothing tendered) by the
        supplier, which refunds the buyer in full."""
        terms = terms or self.terms_of(agreement_id)
        return self._send(
            self.contract.functions.cancel(agreement_id, terms.to_tuple()),
            f"cancel agreement {agreement_id}",
        )

    def fund(self, agreement_id: int, terms: AgreementTerms | None = None) -> list[TxResult]:
        """Escrow `escrow_of(terms)` (price + tolerance): ETH as value, or ERC-20 (an `approve`
        first if the allowance is short). Returns the results in order (approve, fund) or
        (fund,)."""
        terms = terms or self.terms_of(agreement_id)
        if self._in_status(agreement_id, AgreementStatus.ACCEPTED):
            self._not_after(terms.delivery_deadline, "AgreementsFundingClosed", agreement_id,
                            deliveryDeadline=moment(terms.delivery_deadline))  # fmt: skip
        escrow = terms.escrow()
        results: list[TxResult] = []
        call = self.contract.functions.fund(agreement_id, terms.to_tuple())
        if terms.is_eth:
            results.append(self._send(call, f"fund agreement {agreement_id}", value=escrow))
            return results
        token = self.chain.w3.eth.contract(address=to_checksum_address(terms.token), abi=ERC20_ABI)
        allowance = int(self._read(token.functions.allowance(self.sender, self.address)))
        if allowance < escrow:
            results.append(
                self._send(
                    token.functions.approve(self.address, escrow),
                    f"approve {escrow} of {terms.token} for agreement {agreement_id}",
                )
            )
        results.append(self._send(call, f"fund agreement {agreement_id}"))
        return results

    def tender(
        self,
        agreement_id: int,
        batch: str,
        *,
        leg: Leg | None = None,
        proofs: Sequence[ClaimProof] = (),
        terms: AgreementTerms | None = None,
    ) -> TxResult:
        """Tender `batch` (the supplier owns it; it or its carrier holds it): bind it to the
        agreement and hand it to the tender point. `proofs` = one per required claim, in order
        (see `RegistryClient.claim_proofs`). Lateness is measured now, at the tender."""
        terms = terms or self.terms_of(agreement_id)
        if self._in_status(agreement_id, AgreementStatus.FUNDED, AgreementStatus.DISPUTED):
            self._not_after(terms.closes_at, "AgreementsTenderClosed", agreement_id,
                            closedAt=moment(terms.closes_at))  # fmt: skip
        if len(proofs) != len(terms.required_claims):
            raise expected_revert(
                "AgreementsClaimCount",
                required=str(len(terms.required_claims)),
                given=str(len(proofs)),
            )
        return self._send(
            self.contract.functions.tender(
                agreement_id,
                terms.to_tuple(),
                b32(batch),
                (leg or Leg()).to_tuple(),
                [p.to_tuple() for p in proofs],
            ),
            f"tender batch {short_hex(to_hex32(batch))} under agreement {agreement_id}",
        )

    def withdraw_tender(
        self, agreement_id: int, batch: str | None = None, terms: AgreementTerms | None = None
    ) -> TxResult:
        """Withdraw a tender the tender point has not accepted yet (the supplier)."""
        terms = terms or self.terms_of(agreement_id)
        bid = to_hex32(batch) if batch else self.tendered_batch(agreement_id)
        return self._send(
            self.contract.functions.withdrawTender(agreement_id, terms.to_tuple(), b32(bid)),
            f"withdraw the tender of agreement {agreement_id}",
        )

    def accept_delivery(
        self,
        agreement_id: int,
        batch: str | None = None,
        document: str = ZERO32,
        terms: AgreementTerms | None = None,
    ) -> TxResult:
        """Accept the delivery (the buyer): custody and title pass and the agreement settles in
        this transaction."""
        terms = terms or self.terms_of(agreement_id)
        bid = to_hex32(batch) if batch else self.tendered_batch(agreement_id)
        return self._send(
            self.contract.functions.acceptDelivery(
                agreement_id, terms.to_tuple(), b32(bid), b32(document)
            ),
            f"accept the delivery of agreement {agreement_id}",
        )

    def reject_delivery(
        self,
        agreement_id: int,
        batch: str | None = None,
        reason: str = "",
        terms: AgreementTerms | None = None,
    ) -> TxResult:
        """Reject the tender (the buyer): the goods stay the supplier's, a dispute opens whose
        default refunds the buyer; the supplier may tender again before deadline + grace."""
        terms = terms or self.terms_of(agreement_id)
        bid = to_hex32(batch) if batch else self.tendered_batch(agreement_id)
        return self._send(
            self.contract.functions.rejectDelivery(
                agreement_id, terms.to_tuple(), b32(bid), b32(text_to_bytes32(reason))
            ),
            f"reject the delivery of agreement {agreement_id}",
        )

    def escalate(
        self, agreement_id: int, reason: str = "", terms: AgreementTerms | None = None
    ) -> TxResult:
        """Escalate a tender the buyer left unanswered past the inspection period (the
        supplier): the default, if the arbiter is silent, pays as if accepted."""
        terms = terms or self.terms_of(agreement_id)
        return self._send(
            self.contract.functions.escalate(
                agreement_id, terms.to_tuple(), b32(text_to_bytes32(reason))
            ),
            f"escalate agreement {agreement_id}",
        )

    def reclaim(self, agreement_id: int, terms: AgreementTerms | None = None) -> TxResult:
        """Take the escrow back (the buyer) when nothing was tendered by deadline + grace."""
        terms = terms or self.terms_of(agreement_id)
        if self._in_status(agreement_id, AgreementStatus.FUNDED):
            self._not_before(terms.closes_at + 1, "AgreementsNotRefundableYet", agreement_id,
                             "refundableAfter")  # fmt: skip
        return self._send(
            self.contract.functions.reclaim(agreement_id, terms.to_tuple()),
            f"reclaim agreement {agreement_id}",
        )

    def resolve(
        self,
        agreement_id: int,
        supplier_amount: int,
        *,
        deliver: bool = False,
        batch: str | None = None,
        terms: AgreementTerms | None = None,
    ) -> TxResult:
        """The arbiter splits the escrow; `deliver` (escalated disputes only) passes title."""
        terms = terms or self.terms_of(agreement_id)
        escrow = terms.escrow()
        if not 0 <= supplier_amount <= escrow:
            raise expected_revert(
                "AgreementsAwardTooHigh",
                id=str(agreement_id),
                supplierAmount=str(supplier_amount),
                escrow=str(escrow),
            )
        bid = self._dispute_batch(agreement_id, batch)
        return self._send(
            self.contract.functions.resolve(
                agreement_id, terms.to_tuple(), b32(bid), supplier_amount, deliver
            ),
            f"resolve agreement {agreement_id}",
        )

    def resolve_by_default(
        self, agreement_id: int, batch: str | None = None, terms: AgreementTerms | None = None
    ) -> TxResult:
        """Apply the default after the arbiter timeout (anyone): a rejection refunds the buyer,
        an escalation pays the supplier as if accepted and passes title."""
        terms = terms or self.terms_of(agreement_id)
        status, _kind, _tendered, disputed_at, _tag = self.state_of(agreement_id)
        if status == AgreementStatus.DISPUTED and disputed_at:
            self._not_before(disputed_at + terms.arbiter_timeout, "AgreementsArbiterTimeoutPending",
                             agreement_id, "defaultAfter")  # fmt: skip
        bid = self._dispute_batch(agreement_id, batch)
        return self._send(
            self.contract.functions.resolveByDefault(agreement_id, terms.to_tuple(), b32(bid)),
            f"resolve agreement {agreement_id} by default",
        )

    def _dispute_batch(self, agreement_id: int, batch: str | None) -> Hex32:
        """The tendered batch (only an escalated dispute needs it; zero otherwise)."""
        if batch:
            return to_hex32(batch)
        tenders = self.tenders_of(agreement_id)
        return tenders[-1][0] if tenders else ZERO32

    def withdraw(self, token: str = ZERO_ADDRESS) -> TxResult:
        """Pull this account's whole credit in `token` (zero address = ETH)."""
        address = validate_address(token, "token", allow_zero=True)
        return self._send(self.contract.functions.withdraw(address), f"withdraw {address}")

    def use_nonce(self) -> TxResult:
        """Use up this account's current EIP-712 nonce: every outstanding approval it signed
        with that nonce becomes invalid."""
        return self._send(self.contract.functions.useNonce(), "invalidate signed approvals")

    def _in_status(self, agreement_id: int, *statuses: AgreementStatus) -> bool:
        """Whether the agreement is in one of `statuses` (a time check only applies there: in
        any other status the contract refuses the call for its status first)."""
        return self.chain.reachable and self.status_of(agreement_id) in statuses

    def _not_after(self, last: int, error: str, agreement_id: int, **args: str) -> None:
        """Refuse before sending when the next block comes after `last` (the contract's
        deadline check would revert with `error`)."""
        if not self.chain.reachable:
            return
        upcoming = self.next_block_time()
        if upcoming > last:
            raise expected_revert(error, id=str(agreement_id), now_=moment(upcoming), **args)

    def _not_before(self, first: int, error: str, agreement_id: int, name: str) -> None:
        """Refuse before sending when the next block comes before `first`."""
        if not self.chain.reachable:
            return
        upcoming = self.next_block_time()
        if upcoming < first:
            raise expected_revert(
                error, id=str(agreement_id), now_=moment(upcoming), **{name: moment(first)}
            )

    def _check_live(self, terms: AgreementTerms) -> None:
        """What `propose` checks against the chain: the deadline is after the next block's
        time, an ERC-20 token is a contract, and each required claim's certifier is one."""
        if not self.chain.reachable:
            return
        upcoming = self.next_block_time()
        if terms.delivery_deadline <= upcoming:
            raise expected_revert(
                "AgreementsDeadlineInPast",
                deliveryDeadline=moment(terms.delivery_deadline),
                now_=moment(upcoming),
            )
        if not terms.is_eth and not self.chain.has_code(terms.token):
            raise InvalidInput(
                f"token {terms.token} has no contract code on {self.chain.identity.describe()}: "
                "give the address of an ERC-20 token on this chain (or no --token, for ETH)"
            )
        if terms.required_claims:
            self._check_certifiers(terms)

    def _check_certifiers(self, terms: AgreementTerms) -> None:
        """Each required claim names a registered certifier: an attestation of anyone else
        can never be issued, so no delivery could meet the terms and the escrow would sit until
        the buyer reclaims it after the deadline."""
        from provenance.registry import RegistryClient

        registry = RegistryClient(self.chain, self._read(self.contract.functions.registry()))
        for required in terms.required_claims:
            certifier = registry.get_participant(required.attester)
            if not certifier.registered or not certifier.has(Role.CERTIFIER):
                raise InvalidInput(
                    f"the claim {bytes32_to_text(required.claim)!r} names {required.attester} as "
                    "its certifier, who is not a registered certifier: no attestation of theirs "
                    "could ever meet the terms (register them with the certifier role first, or "
                    "name a certifier who is)"
                )

    @staticmethod
    def _check_terms(terms: AgreementTerms) -> None:
        """The contract's `propose` checks, client-side, with its messages — plus the ranges
        of its integer types, so nothing out of range reaches the ABI encoder."""
        for what in ("buyer", "supplier", "arbiter"):
            validate_address(str(getattr(terms, what)), what)
        validate_address(terms.carrier, "carrier", allow_zero=True)
        validate_address(terms.token, "token", allow_zero=True)
        Uom(terms.uom)
        uint(terms.price, 256, "price")
        uint(terms.salt, 256, "salt")
        uint(terms.delivery_deadline, 64, "delivery deadline")
        for name in ("grace_period", "inspection_period", "arbiter_timeout"):
            uint(getattr(terms, name), 32, name.replace("_", " "))
        for name in ("penalty_bps_per_day", "tolerance_bps", "penalty_cap_bps"):
            uint(getattr(terms, name), 16, name.replace("_", " "))
        parties = {terms.buyer, terms.supplier, terms.arbiter}
        if len(parties) != 3 or terms.carrier in (terms.buyer, terms.supplier):
            raise expected_revert(
                "AgreementsInvalidParties",
                buyer=terms.buyer,
                supplier=terms.supplier,
                arbiter=terms.arbiter,
                carrier=terms.carrier,
            )
        if (
            terms.price <= 0
            or not 0 < terms.quantity <= MAX_UINT48
            or terms.price + -(-terms.price * terms.tolerance_bps // BPS) > MAX_UINT256
        ):
            raise expected_revert(
                "AgreementsInvalidAmounts", price=str(terms.price), quantity=str(terms.quantity)
            )
        if not 0 <= terms.penalty_cap_bps <= BPS or not 0 <= terms.tolerance_bps <= BPS:
            raise expected_revert(
                "AgreementsInvalidBps",
                penaltyCapBps=str(terms.penalty_cap_bps),
                toleranceBps=str(terms.tolerance_bps),
            )
        if terms.inspection_period <= 0 or terms.arbiter_timeout <= 0:
            raise expected_revert(
                "AgreementsInvalidPeriods",
                inspectionPeriod=str(terms.inspection_period),
                arbiterTimeout=str(terms.arbiter_timeout),
            )
        if len(terms.required_claims) > MAX_CLAIMS:
            raise expected_revert(
                "AgreementsTooManyClaims",
                count=str(len(terms.required_claims)),
                max=str(MAX_CLAIMS),
            )
        for required in terms.required_claims:
            if required.attester in (terms.buyer, terms.supplier):
                raise expected_revert(
                    "AgreementsInvalidAttester",
                    claim=bytes32_to_text(required.claim),
                    attester=required.attester,
                )
