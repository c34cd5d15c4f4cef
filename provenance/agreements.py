"""Typed client of the SupplyAgreements contract (escrowed supplier agreements).

The contract stores only the hash of an agreement's `Terms`; every call after `propose` passes the
full terms. This client rebuilds them from the `AgreementProposed` event (`get`), so callers pass
just the id; pass `terms=` to skip that lookup. Writes go through a `Transactor`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast

from eth_typing import HexStr
from eth_utils.address import to_checksum_address
from web3.logs import DISCARD

from provenance.chain import Chain
from provenance.client import ContractClient
from provenance.compiler import load_artifact
from provenance.exceptions import ChainError, InvalidInput
from provenance.logs import fetch_logs
from provenance.reverts import expected_revert
from provenance.signing import AgreementApproval, sign_agreement
from provenance.transactions import Transactor, is_connection_error
from provenance.types import (
    ZERO_ADDRESS,
    Agreement,
    AgreementStatus,
    AgreementTerms,
    Hex32,
    TxResult,
    text_to_bytes32,
    to_hex32,
    validate_address,
)

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from provenance.deploy import Deployment

AGREEMENTS = "SupplyAgreements"
DEFAULT_SIGNATURE_TTL = 24 * 3600

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


class AgreementsClient(ContractClient):
    """Client of one deployed SupplyAgreements contract.

    `from_block` bounds the event search of `get` (use the deployment block).
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
        super().__init__(chain, address, agreements_abi(), transactor)
        self.from_block = from_block
        self._terms: dict[int, AgreementTerms] = {}

    @classmethod
    def from_deployment(
        cls, chain: Chain, deployment: Deployment, transactor: Transactor | None = None
    ) -> AgreementsClient:
        return cls(chain, deployment.agreements, transactor, from_block=deployment.deploy_block)

    # ------------------------------------------------------------------------------ reads

    def status_of(self, agreement_id: int) -> AgreementStatus:
        return AgreementStatus(int(self._read(self.contract.functions.statusOf(agreement_id))))

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

    def penalty_for(self, terms: AgreementTerms, days_late: int) -> int:
        return int(self._read(self.contract.functions.penaltyFor(terms.to_tuple(), days_late)))

    def terms_of(self, agreement_id: int) -> AgreementTerms:
        """The terms of an agreement, from its `AgreementProposed` event (cached)."""
        if agreement_id not in self._terms:
            self._terms[agreement_id] = self._proposed(agreement_id)[0]
        return self._terms[agreement_id]

    def _proposed(self, agreement_id: int) -> tuple[AgreementTerms, str]:
        event = self.contract.events.AgreementProposed()
        topic = HexStr("0x" + str(event.topic).lower().removeprefix("0x"))
        try:
            logs = fetch_logs(
                self.chain,
                self.address,
                [topic, HexStr("0x" + agreement_id.to_bytes(32, "big").hex())],
                self.from_block,
            )
        except Exception as exc:
            if is_connection_error(exc):
                raise ChainError(f"cannot reach the chain at {self.chain.rpc}") from exc
            raise
        if not logs:
            raise expected_revert("AgreementsUnknown", id=str(agreement_id))
        args = event.process_log(logs[0])["args"]
        return AgreementTerms.from_tuple(args["terms"]), str(to_checksum_address(args["proposer"]))

    def get(self, agreement_id: int) -> Agreement:
        """Id, terms (from events), status, proposer and dispute time."""
        status = self.status_of(agreement_id)
        if status == AgreementStatus.NONE:
            raise expected_revert("AgreementsUnknown", id=str(agreement_id))
        terms, proposer = self._proposed(agreement_id)
        self._terms[agreement_id] = terms
        disputed_at = self._read(self.contract.functions.disputedAtOf(agreement_id))
        return Agreement(
            id=agreement_id,
            terms=terms,
            status=status,
            proposer=proposer,
            disputed_at=int(disputed_at),
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
        transaction was queued offline."""
        self._check_terms(terms)
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
        terms = terms or self.terms_of(agreement_id)
        return self._send(
            self.contract.functions.cancel(agreement_id, terms.to_tuple()),
            f"cancel agreement {agreement_id}",
        )

    def fund(self, agreement_id: int, terms: AgreementTerms | None = None) -> list[TxResult]:
        """Escrow the price: ETH as value, or ERC-20 (an `approve` first if the allowance is
        short). Returns the results in order (approve, fund) or (fund,)."""
        terms = terms or self.terms_of(agreement_id)
        results: list[TxResult] = []
        call = self.contract.functions.fund(agreement_id, terms.to_tuple())
        if terms.is_eth:
            results.append(self._send(call, f"fund agreement {agreement_id}", value=terms.price))
            return results
        token = self.chain.w3.eth.contract(address=to_checksum_address(terms.token), abi=ERC20_ABI)
        allowance = int(token.functions.allowance(self.sender, self.address).call())
        if allowance < terms.price:
            results.append(
                self._send(
                    token.functions.approve(self.address, terms.price),
                    f"approve {terms.price} of {terms.token} for agreement {agreement_id}",
                )
            )
        results.append(self._send(call, f"fund agreement {agreement_id}"))
        return results

    def claim_delivery(
        self,
        agreement_id: int,
        batch: str,
        refs: Sequence[tuple[str, str]] = (),
        terms: AgreementTerms | None = None,
    ) -> TxResult:
        """Settle by proving custody of `batch` by the buyer; `refs` = one (issuer, evidence)
        per required claim, in order."""
        terms = terms or self.terms_of(agreement_id)
        if len(refs) != len(terms.required_claims):
            raise expected_revert(
                "AgreementsAttestationCount",
                required=str(len(terms.required_claims)),
                given=str(len(refs)),
            )
        encoded = [
            (validate_address(issuer, "issuer"), bytes.fromhex(to_hex32(evidence)[2:]))
            for issuer, evidence in refs
        ]
        return self._send(
            self.contract.functions.claimDelivery(
                agreement_id, terms.to_tuple(), bytes.fromhex(to_hex32(batch)[2:]), encoded
            ),
            f"claim delivery for agreement {agreement_id}",
        )

    def reclaim(self, agreement_id: int, terms: AgreementTerms | None = None) -> TxResult:
        terms = terms or self.terms_of(agreement_id)
        return self._send(
            self.contract.functions.reclaim(agreement_id, terms.to_tuple()),
            f"reclaim agreement {agreement_id}",
        )

    def dispute(
        self, agreement_id: int, reason: str = "", terms: AgreementTerms | None = None
    ) -> TxResult:
        terms = terms or self.terms_of(agreement_id)
        return self._send(
            self.contract.functions.dispute(
                agreement_id, terms.to_tuple(), bytes.fromhex(text_to_bytes32(reason)[2:])
            ),
            f"dispute agreement {agreement_id}",
        )

    def resolve(
        self, agreement_id: int, supplier_amount: int, terms: AgreementTerms | None = None
    ) -> TxResult:
        terms = terms or self.terms_of(agreement_id)
        if not 0 <= supplier_amount <= terms.price:
            raise expected_revert(
                "AgreementsAwardTooHigh",
                id=str(agreement_id),
                supplierAmount=str(supplier_amount),
                price=str(terms.price),
            )
        return self._send(
            self.contract.functions.resolve(agreement_id, terms.to_tuple(), supplier_amount),
            f"resolve agreement {agreement_id}",
        )

    def resolve_by_default(
        self, agreement_id: int, terms: AgreementTerms | None = None
    ) -> TxResult:
        terms = terms or self.terms_of(agreement_id)
        return self._send(
            self.contract.functions.resolveByDefault(agreement_id, terms.to_tuple()),
            f"resolve agreement {agreement_id} by default",
        )

    def withdraw(self, token: str = ZERO_ADDRESS) -> TxResult:
        """Pull this account's whole credit in `token` (zero address = ETH)."""
        address = validate_address(token, "token", allow_zero=True)
        return self._send(self.contract.functions.withdraw(address), f"withdraw {address}")

    @staticmethod
    def _check_terms(terms: AgreementTerms) -> None:
        for what in ("buyer", "supplier", "arbiter"):
            validate_address(cast(str, getattr(terms, what)), what)
        if len({terms.buyer, terms.supplier, terms.arbiter}) != 3:
            raise expected_revert(
                "AgreementsInvalidParties",
                buyer=terms.buyer,
                supplier=terms.supplier,
                arbiter=terms.arbiter,
            )
        if terms.price <= 0 or terms.quantity <= 0:
            raise expected_revert(
                "AgreementsInvalidAmounts", price=str(terms.price), quantity=str(terms.quantity)
            )
        if terms.penalty_cap_bps > 10_000:
            raise expected_revert(
                "AgreementsInvalidPenalty",
                penaltyBpsPerDay=str(terms.penalty_bps_per_day),
                penaltyCapBps=str(terms.penalty_cap_bps),
            )
