// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IProvenanceRegistry} from "./IProvenanceRegistry.sol";

/// @title ISupplyAgreements
/// @notice Escrowed supplier agreements paid on the buyer's acceptance of a delivery bound to them in
/// the ProvenanceRegistry.
/// @dev Many agreements live in one contract, numbered 1, 2, …. Per agreement the contract stores the
/// full `keccak256(abi.encode(terms))` and one state word (`AgreementState`); every call after
/// `propose` passes the terms and the contract checks them against the stored hash. The terms are
/// emitted in `AgreementProposed`, so a client rebuilds them from events.
///
/// How a delivery pays (the settlement rules):
/// - The supplier tenders with `tender`: a handoff, through the registry, of a batch the supplier owns
///   (and holds, or its carrier holds), bound to this agreement, to the tender point the terms name:
///   the buyer (`carrier == 0`, as DAP) or the named carrier for the buyer (as FCA). A bound batch moves
///   only to carriers or to the buyer and cannot be split, merged or transformed, so a bound delivery
///   ends at the buyer or not at all; title passes from the supplier to the buyer with it.
/// - Quantity: one batch per agreement, of the agreed GTIN and unit, within ±`toleranceBps` of the
///   agreed quantity. It is paid pro rata: `price × delivered / quantity` (rounded down); the buyer
///   escrows the most it can owe, `escrowOf(terms) = price + ⌈price × toleranceBps / 10_000⌉`, and gets
///   back what was not owed. Instalments are separate agreements.
/// - Lateness is measured at the tender: whole days from `deliveryDeadline` to the tender's block time.
///   Penalty = payment × min(daysLate × penaltyBpsPerDay, penaltyCapBps) / 10_000, credited to the
///   buyer. Everything the payout depends on (terms, tender time, quantity) is fixed at the tender.
/// - Required claims name their attester (never the buyer or the supplier); each is checked at the
///   tender on the delivered batch or any ancestor, valid now, from an active certifier.
/// - The buyer's `acceptDelivery` completes the delivery in the registry and settles in the same
///   transaction: nothing anyone does afterwards changes the payment.
/// - The buyer's `rejectDelivery` withdraws the tender (the goods stay the supplier's) and opens a
///   dispute whose default refunds the buyer in full. Before deadline + grace the supplier may cure
///   by tendering again; the new tender's time is what counts for lateness (a rejected tender does not
///   stop the clock). Rejected goods stay where they are: when the named carrier still holds them, it
///   hands them back to the supplier before a re-tender to that carrier (a tender is a handoff).
/// - If the buyer neither accepts nor rejects within `inspectionPeriod` of the tender, the supplier
///   may `escalate`: a dispute whose default pays the supplier as if accepted and passes title to the
///   buyer (a conforming tender is proven on chain). The buyer may still accept until it is resolved.
/// - A recall of the batch or an ancestor before acceptance blocks settlement: acceptance and the
///   escalation default revert, and the buyer may reject even after an escalation; after acceptance
///   the payment stands and the recall is a matter for the arbiter off chain.
///
/// Safety invariants (each a Foundry invariant in tests/foundry/ and a Hypothesis rule in
/// tests/contracts/):
/// 1. Solvency: for every token (address(0) = ETH) the contract's balance is at least the sum of the
///    escrows of its Funded, Tendered and Disputed agreements plus every account's unwithdrawn credit.
/// 2. Conservation: for every Settled, Refunded or Resolved agreement, supplier payout + buyer refund
///    == `escrowOf(terms)`, the amount escrowed by `fund`.
/// 3. Penalty: non-decreasing in whole days late, at most `penaltyCapBps` of the payment.
/// 4. Terminal states (Settled, Refunded, Resolved, Cancelled) are absorbing: each agreement pays out
///    at most once, and each delivery (a bound tender) pays at most one agreement.
/// 5. The supplier is paid only for a delivery it owned and tendered under this agreement, accepted by
///    the buyer, or by the arbiter's award or the default of an escalated tender.
/// 6. The buyer never ends with both the goods of a delivery (title from the supplier) and a refund of
///    the payment for them, except by the arbiter's award.
/// 7. Liveness: every funded agreement has a path to release for both sides without the other's
///    cooperation: tender → accept / reject / escalate → resolve or default; `reclaim` after deadline +
///    grace while nothing is tendered. Credits are pulled with `withdraw`.
/// 8. No admin, owner or upgrade path: the registry is the contract that created this one; no operator
///    action moves escrow or credits, and after a tender none changes what the delivery pays.
interface ISupplyAgreements {
    /// @notice Lifecycle of an agreement. Settled, Refunded, Resolved and Cancelled are terminal.
    enum Status {
        None,
        Proposed,
        Accepted,
        Funded,
        Tendered,
        Settled,
        Refunded,
        Disputed,
        Resolved,
        Cancelled
    }

    /// @notice Why an agreement is Disputed, which decides the default when the arbiter is silent.
    enum DisputeKind {
        None,
        Rejected,
        Escalated
    }

    /// @notice A claim the delivered goods must carry, and who may attest it.
    /// @param claim The claim type (e.g. `bytes32("ORGANIC")`).
    /// @param attester The certifier whose attestation counts; neither the buyer nor the supplier.
    struct RequiredClaim {
        bytes32 claim;
        address attester;
    }

    /// @notice The full terms of an agreement; the contract stores their hash.
    /// @param buyer Pays and receives the goods.
    /// @param supplier Owns and tenders the goods; receives the payment minus any penalty.
    /// @param arbiter Resolves disputes; neither buyer nor supplier.
    /// @param carrier The tender point: 0 = the buyer itself; else the carrier the buyer named.
    /// @param token ERC-20 used for payment, address(0) for native ETH.
    /// @param gtin GTIN-14 of the goods as a number.
    /// @param quantity Agreed quantity, in `uom`.
    /// @param uom UN/ECE Rec 20 unit of measure.
    /// @param toleranceBps Accepted deviation of the delivered quantity, in basis points (<= 10_000).
    /// @param price Price of exactly `quantity`.
    /// @param deliveryDeadline Unix time by which the tender is due without penalty.
    /// @param gracePeriod Seconds after the deadline during which a (late) tender is still accepted.
    /// @param inspectionPeriod Seconds the buyer has, after a tender, to accept or reject it (> 0).
    /// @param arbiterTimeout Seconds the arbiter has to resolve a dispute (> 0).
    /// @param penaltyBpsPerDay Penalty in basis points of the payment per whole day late.
    /// @param penaltyCapBps Maximum total penalty in basis points (<= 10_000).
    /// @param requiredClaims Claims the goods must carry, with their attesters (at most `MAX_CLAIMS`).
    /// @param document Hash of the contract text.
    /// @param salt Lets identical terms coexist.
    struct Terms {
        address buyer;
        address supplier;
        address arbiter;
        address carrier;
        address token;
        uint256 gtin;
        uint256 quantity;
        bytes3 uom;
        uint16 toleranceBps;
        uint256 price;
        uint64 deliveryDeadline;
        uint32 gracePeriod;
        uint32 inspectionPeriod;
        uint32 arbiterTimeout;
        uint16 penaltyBpsPerDay;
        uint16 penaltyCapBps;
        RequiredClaim[] requiredClaims;
        bytes32 document;
        uint256 salt;
    }

    /// @notice A party's EIP-712 approval of an agreement, for `proposeSigned`.
    /// @param nonce The signer's current `nonces(signer)`.
    /// @param deadline Last second at which the signature is accepted.
    /// @param signature An ECDSA signature, or what the party's EIP-1271 `isValidSignature` accepts;
    /// empty when the party is `msg.sender`.
    struct Authorization {
        uint256 nonce;
        uint256 deadline;
        bytes signature;
    }

    /// @notice Where a required claim is attested (one per entry of `requiredClaims`, same order).
    /// @param subject The delivered batch, or the ancestor the attestation was issued on.
    /// @param evidence The evidence hash the attestation was issued with.
    struct ClaimProof {
        bytes32 subject;
        bytes32 evidence;
    }

    // ---------------------------------------------------------------- errors

    /// @notice No agreement has this id.
    error AgreementsUnknown(uint256 id);
    /// @notice The terms passed do not hash to the stored terms hash.
    error AgreementsTermsMismatch(uint256 id, bytes32 stored, bytes32 given);
    /// @notice Buyer, supplier or arbiter is zero, two of them are the same account, or the carrier
    /// is the buyer or the supplier.
    error AgreementsInvalidParties(address buyer, address supplier, address arbiter, address carrier);
    /// @notice Price or quantity is zero, the quantity exceeds what a batch can hold (2^48 - 1), or the
    /// escrow would not fit 256 bits.
    error AgreementsInvalidAmounts(uint256 price, uint256 quantity);
    /// @notice A basis-point field (penalty cap, tolerance) is above 10_000.
    error AgreementsInvalidBps(uint16 penaltyCapBps, uint16 toleranceBps);
    /// @notice The delivery deadline is not in the future.
    error AgreementsDeadlineInPast(uint64 deliveryDeadline, uint64 now_);
    /// @notice The arbiter timeout or the inspection period is zero.
    error AgreementsInvalidPeriods(uint32 inspectionPeriod, uint32 arbiterTimeout);
    /// @notice More required claims than `MAX_CLAIMS`.
    error AgreementsTooManyClaims(uint256 count, uint256 max);
    /// @notice A required claim's attester is zero, the buyer or the supplier.
    error AgreementsInvalidAttester(bytes32 claim, address attester);
    /// @notice The caller is neither buyer nor supplier.
    error AgreementsNotParty(uint256 id, address caller);
    /// @notice The caller is not the party that has to accept (the one that did not propose).
    error AgreementsNotCounterparty(uint256 id, address caller);
    /// @notice The caller is not the buyer.
    error AgreementsNotBuyer(uint256 id, address caller);
    /// @notice The caller is not the supplier.
    error AgreementsNotSupplier(uint256 id, address caller);
    /// @notice The caller is not the arbiter.
    error AgreementsNotArbiter(uint256 id, address caller);
    /// @notice The agreement is not in a status that allows this call.
    error AgreementsWrongStatus(uint256 id, Status status);
    /// @notice `msg.value` is not the ETH escrow (or not zero for a token agreement).
    error AgreementsWrongValue(uint256 id, uint256 expected, uint256 sent);
    /// @notice The token balance grew by a different amount than the escrow (fee-on-transfer token).
    error AgreementsTransferMismatch(address token, uint256 expected, uint256 received);
    /// @notice Funding after the delivery deadline.
    error AgreementsFundingClosed(uint256 id, uint64 deliveryDeadline, uint256 now_);
    /// @notice A tender after deadline + grace.
    error AgreementsTenderClosed(uint256 id, uint256 closedAt, uint256 now_);
    /// @notice The tendered batch has another GTIN.
    error AgreementsGtinMismatch(bytes32 batchId, uint256 expected, uint256 actual);
    /// @notice The tendered batch has another unit of measure.
    error AgreementsUomMismatch(bytes32 batchId, bytes3 expected, bytes3 actual);
    /// @notice The tendered quantity is outside the agreed quantity ± tolerance.
    error AgreementsQuantityOutOfTolerance(bytes32 batchId, uint256 agreed, uint256 delivered);
    /// @notice The number of claim proofs differs from the number of required claims.
    error AgreementsClaimCount(uint256 required, uint256 given);
    /// @notice A required claim is not attested by its attester on the batch or the named ancestor.
    error AgreementsClaimInvalid(bytes32 batchId, bytes32 claim, address attester, bytes32 subject);
    /// @notice `batchId` is not the batch tendered under this agreement.
    error AgreementsNotTenderedBatch(uint256 id, bytes32 batchId);
    /// @notice `escalate` before the inspection period ran out.
    error AgreementsInspectionPending(uint256 id, uint256 escalableAfter, uint256 now_);
    /// @notice The buyer tried to reclaim before deadline + grace.
    error AgreementsNotRefundableYet(uint256 id, uint256 refundableAfter, uint256 now_);
    /// @notice `resolveByDefault` before the arbiter timeout ran out.
    error AgreementsArbiterTimeoutPending(uint256 id, uint256 defaultAfter, uint256 now_);
    /// @notice The arbiter awarded the supplier more than the escrow.
    error AgreementsAwardTooHigh(uint256 id, uint256 supplierAmount, uint256 escrow);
    /// @notice The arbiter ordered delivery of goods that a rejection already returned to the supplier.
    error AgreementsNothingToDeliver(uint256 id);
    /// @notice The tendered goods (or an ancestor) are recalled: no settlement by default; the buyer
    /// may reject, the arbiter may award.
    error AgreementsGoodsRecalled(uint256 id, bytes32 batchId);
    /// @notice The caller has no credit in this token.
    error AgreementsNothingToWithdraw(address account, address token);
    /// @notice Sending ETH to the account failed; the credit is kept.
    error AgreementsEthTransferFailed(address account, uint256 amount);
    /// @notice A signature's deadline has passed.
    error AgreementsSignatureExpired(address signer, uint256 deadline);
    /// @notice The nonce is not the signer's current nonce.
    error AgreementsInvalidNonce(address signer, uint256 expected, uint256 given);
    /// @notice The signature is not the party's approval (ECDSA or EIP-1271).
    error AgreementsInvalidSignature(address signer);
    /// @notice The tender point already accepted the tender: it can no longer be withdrawn.
    error AgreementsTenderInTransit(uint256 id, bytes32 batchId);

    // ---------------------------------------------------------------- events

    /// @notice An agreement was proposed (or, via `proposeSigned`, created already accepted).
    /// @param id The new agreement id.
    /// @param buyer The buyer.
    /// @param supplier The supplier.
    /// @param terms The full terms; their hash is what the contract stores.
    /// @param proposer The account that sent the transaction.
    /// @param at Block timestamp.
    event AgreementProposed(
        uint256 indexed id, address indexed buyer, address indexed supplier, Terms terms, address proposer, uint64 at
    );
    /// @notice The counterparty accepted (or both signed, in `proposeSigned`).
    /// @param id The agreement.
    /// @param by The accepting account.
    /// @param at Block timestamp.
    event AgreementAccepted(uint256 indexed id, address indexed by, uint64 at);
    /// @notice A party cancelled before funding.
    /// @param id The agreement.
    /// @param by The cancelling party.
    /// @param at Block timestamp.
    event AgreementCancelled(uint256 indexed id, address indexed by, uint64 at);
    /// @notice The buyer escrowed the payment.
    /// @param id The agreement.
    /// @param token The payment token.
    /// @param amount The escrow (`escrowOf(terms)`).
    /// @param at Block timestamp.
    event AgreementFunded(uint256 indexed id, address indexed token, uint256 amount, uint64 at);
    /// @notice The supplier tendered a batch under the agreement (to the buyer, or to `terms.carrier`):
    /// the registry's `HandoffInitiated` of the same transaction is the tender.
    /// @param id The agreement.
    /// @param batchId The tendered batch, bound to this agreement from now on.
    /// @param daysLate Whole days after the deadline at the tender.
    /// @param at Block timestamp.
    event DeliveryTendered(uint256 indexed id, bytes32 indexed batchId, uint256 daysLate, uint64 at);
    /// @notice The supplier withdrew its tender before the tender point accepted it.
    /// @param id The agreement.
    /// @param batchId The batch.
    /// @param at Block timestamp.
    event TenderWithdrawn(uint256 indexed id, bytes32 indexed batchId, uint64 at);
    /// @notice The buyer accepted the delivery; the escrow was split between supplier and buyer.
    /// @param id The agreement.
    /// @param batchId The delivered batch.
    /// @param supplierAmount Credited to the supplier (payment minus penalty).
    /// @param buyerAmount Credited to the buyer (penalty plus what the quantity did not use).
    /// @param daysLate Whole days after the deadline at the tender.
    /// @param at Block timestamp.
    event DeliverySettled(
        uint256 indexed id, bytes32 indexed batchId, uint256 supplierAmount, uint256 buyerAmount, uint256 daysLate, uint64 at
    );
    /// @notice The escrow went back to the buyer (reclaim after deadline + grace, or the supplier's cancellation).
    /// @param id The agreement.
    /// @param amount Credited to the buyer.
    /// @param at Block timestamp.
    event AgreementRefunded(uint256 indexed id, uint256 amount, uint64 at);
    /// @notice A dispute opened: the buyer rejected the tender, or the supplier escalated an unanswered one.
    /// @param id The agreement.
    /// @param by The party.
    /// @param kind Rejected or Escalated.
    /// @param reason Hash or code of the reason.
    /// @param at Block timestamp.
    event DisputeRaised(uint256 indexed id, address indexed by, DisputeKind kind, bytes32 reason, uint64 at);
    /// @notice A dispute was resolved by the arbiter or by default.
    /// @param id The agreement.
    /// @param supplierAmount Credited to the supplier.
    /// @param buyerAmount Credited to the buyer.
    /// @param delivered Whether title passed to the buyer.
    /// @param byDefault True after the arbiter timeout.
    /// @param at Block timestamp.
    event DisputeResolved(
        uint256 indexed id, uint256 supplierAmount, uint256 buyerAmount, bool delivered, bool byDefault, uint64 at
    );
    /// @notice An account pulled its credit.
    /// @param account The receiver.
    /// @param token The token (0 = ETH).
    /// @param amount The amount sent.
    event Withdrawn(address indexed account, address indexed token, uint256 amount);
    /// @notice An account used up its current EIP-712 nonce, invalidating every approval signed with it.
    /// @param account The signer.
    /// @param nonce The nonce used.
    event NonceInvalidated(address indexed account, uint256 nonce);

    // ---------------------------------------------------------------- lifecycle

    /// @notice Propose an agreement; the other party accepts it with `accept`.
    /// @dev Requirements:
    /// - caller is `terms.buyer` or `terms.supplier`;
    /// - buyer, supplier, arbiter non-zero and pairwise distinct; carrier zero or neither party;
    /// - price and quantity non-zero, quantity below 2^48, and the escrow fits 256 bits; `penaltyCapBps` and `toleranceBps`
    ///   at most 10_000; `inspectionPeriod` and `arbiterTimeout` non-zero;
    /// - `deliveryDeadline > block.timestamp`; at most `MAX_CLAIMS` required claims, each attester
    ///   non-zero and neither buyer nor supplier.
    /// @param terms The terms.
    /// @return id The new agreement id.
    function propose(Terms calldata terms) external returns (uint256 id);

    /// @notice Create an agreement in Accepted with both parties' EIP-712 approvals.
    /// @dev Requirements:
    /// - the terms are valid as for `propose` (any caller may relay);
    /// - each party that is not `msg.sender` approved `Agreement(bytes32 termsHash,uint256 nonce,uint256 deadline)`
    ///   in the domain `SupplyAgreements`/`2` of this chain and contract with its current nonce (then
    ///   used up), `deadline >= block.timestamp`: a low-s ECDSA signature, or EIP-1271 for a contract.
    /// @param terms The terms.
    /// @param buyerAuth The buyer's approval (empty signature if the buyer is `msg.sender`).
    /// @param supplierAuth The supplier's approval (empty signature if the supplier is `msg.sender`).
    /// @return id The new agreement id.
    function proposeSigned(Terms calldata terms, Authorization calldata buyerAuth, Authorization calldata supplierAuth)
        external
        returns (uint256 id);

    /// @notice Accept a proposed agreement.
    /// @dev Requirements: status Proposed, terms match; caller is the party that did not propose.
    /// @param id The agreement.
    /// @param terms Its terms.
    function accept(uint256 id, Terms calldata terms) external;

    /// @notice Cancel an agreement: before funding either party, once funded (nothing tendered) the
    /// supplier, which refunds the buyer in full.
    /// @dev Requirements: terms match; status Proposed or Accepted and caller buyer or supplier, or
    /// status Funded and caller the supplier.
    /// @param id The agreement.
    /// @param terms Its terms.
    function cancel(uint256 id, Terms calldata terms) external;

    /// @notice Escrow `escrowOf(terms)`.
    /// @dev Requirements:
    /// - status Accepted, terms match; caller is the buyer; `block.timestamp <= deliveryDeadline`;
    /// - ETH: `msg.value == escrow`; token: `msg.value == 0`, allowance >= escrow, and the contract's
    ///   balance grows by exactly the escrow (fee-on-transfer tokens are refused).
    /// @param id The agreement.
    /// @param terms Its terms.
    function fund(uint256 id, Terms calldata terms) external payable;

    /// @notice Tender a batch: bind it to this agreement and hand it to the tender point.
    /// @dev Requirements:
    /// - status Funded, or Disputed after a rejection (a re-tender); terms match; caller is the supplier;
    /// - `block.timestamp <= deliveryDeadline + gracePeriod`;
    /// - the registry's `bindDelivery` succeeds (the supplier owns the batch and holds it or its
    ///   carrier does; nothing pending; nothing recalled in its lineage; the tender point is active);
    /// - same GTIN and unit, quantity within tolerance;
    /// - for every required claim `i`: `registry.isClaimValidFor(batchId, proofs[i].subject, claim,
    ///   attester, proofs[i].evidence)`.
    /// @param id The agreement.
    /// @param terms Its terms.
    /// @param batchId The batch.
    /// @param leg Place, CBV codes and document of the handoff.
    /// @param proofs One per required claim.
    function tender(
        uint256 id,
        Terms calldata terms,
        bytes32 batchId,
        IProvenanceRegistry.Leg calldata leg,
        ClaimProof[] calldata proofs
    ) external;

    /// @notice Withdraw a tender that the tender point has not accepted yet; the agreement is Funded again.
    /// @dev Requirements: status Tendered, terms match; caller is the supplier; `batchId` is the
    /// tendered batch and its tender handoff is still pending.
    /// @param id The agreement.
    /// @param terms Its terms.
    /// @param batchId The tendered batch.
    function withdrawTender(uint256 id, Terms calldata terms, bytes32 batchId) external;

    /// @notice Accept the delivery: custody and title pass to the buyer and the agreement settles.
    /// @dev Requirements:
    /// - status Tendered (or Disputed after an escalation), terms match; caller is the buyer;
    /// - `batchId` is the tendered batch; the registry's `completeDelivery` succeeds (pending to the
    ///   buyer, the buyer active, nothing recalled in the batch's lineage).
    /// Credits the supplier `payment − penalty` and the buyer the rest of the escrow.
    /// @param id The agreement.
    /// @param terms Its terms.
    /// @param batchId The tendered batch.
    /// @param document Hash of the receiving document.
    function acceptDelivery(uint256 id, Terms calldata terms, bytes32 batchId, bytes32 document) external;

    /// @notice Reject the tender: it is withdrawn (goods stay the supplier's) and a dispute opens whose
    /// default refunds the buyer.
    /// @dev Requirements: terms match; caller is the buyer; `batchId` is the tendered batch; status
    /// Tendered, or Disputed after an escalation when the goods or an ancestor are recalled.
    /// @param id The agreement.
    /// @param terms Its terms.
    /// @param batchId The tendered batch.
    /// @param reason Hash or code of the reason.
    function rejectDelivery(uint256 id, Terms calldata terms, bytes32 batchId, bytes32 reason) external;

    /// @notice Escalate a tender the buyer did not answer within the inspection period; the dispute's
    /// default pays the supplier as if accepted.
    /// @dev Requirements: status Tendered, terms match; caller is the supplier;
    /// `block.timestamp > tenderedAt + inspectionPeriod`.
    /// @param id The agreement.
    /// @param terms Its terms.
    /// @param reason Hash or code of the reason.
    function escalate(uint256 id, Terms calldata terms, bytes32 reason) external;

    /// @notice Take the escrow back when nothing was tendered by deadline + grace.
    /// @dev Requirements: status Funded, terms match; caller is the buyer;
    /// `block.timestamp > deliveryDeadline + gracePeriod`.
    /// @param id The agreement.
    /// @param terms Its terms.
    function reclaim(uint256 id, Terms calldata terms) external;

    /// @notice The arbiter splits the escrow and, for an escalated tender, decides whether title passes.
    /// @dev Requirements: status Disputed, terms match; caller is the arbiter; `supplierAmount <=
    /// escrow`; `deliver` only for an escalated dispute, with `batchId` the tendered batch.
    /// @param id The agreement.
    /// @param terms Its terms.
    /// @param batchId The tendered batch (ignored after a rejection).
    /// @param supplierAmount Awarded to the supplier; the rest goes to the buyer.
    /// @param deliver Whether title passes to the buyer (else the goods stay the supplier's).
    function resolve(uint256 id, Terms calldata terms, bytes32 batchId, uint256 supplierAmount, bool deliver) external;

    /// @notice Apply the default when the arbiter did not act in time: after a rejection a full refund
    /// to the buyer; after an escalation the supplier is paid as if accepted and title passes.
    /// @dev Requirements: status Disputed, terms match (any caller); `block.timestamp > disputedAt +
    /// arbiterTimeout`; after an escalation `batchId` is the tendered batch and no recall reaches it.
    /// @param id The agreement.
    /// @param terms Its terms.
    /// @param batchId The tendered batch (ignored after a rejection).
    function resolveByDefault(uint256 id, Terms calldata terms, bytes32 batchId) external;

    /// @notice Pull the caller's whole credit in `token` (address(0) = ETH).
    /// @dev Requirements: the caller has a non-zero credit; the transfer succeeds (else everything
    /// reverts and the credit is kept).
    /// @param token The token.
    function withdraw(address token) external;

    /// @notice Use up the caller's current EIP-712 nonce, invalidating outstanding approvals.
    /// @return nonce The nonce used.
    function useNonce() external returns (uint256 nonce);

    // ---------------------------------------------------------------- views

    /// @notice Unwithdrawn credit of `account` in `token`.
    /// @param account The account.
    /// @param token The token (0 = ETH).
    /// @return amount The credit.
    function creditOf(address account, address token) external view returns (uint256 amount);

    /// @notice Status of agreement `id` (None if unknown).
    /// @param id The agreement.
    /// @return status The status.
    function statusOf(uint256 id) external view returns (Status status);

    /// @notice The stored state of agreement `id`.
    /// @param id The agreement.
    /// @return status The status.
    /// @return disputeKind Why it is disputed (None otherwise).
    /// @return tenderedAt Time of the current or last tender (0 if none).
    /// @return disputedAt Time the current dispute opened (0 if none).
    /// @return batchTag The high 152 bits of the tendered batch id (0 if none).
    function stateOf(uint256 id)
        external
        view
        returns (Status status, DisputeKind disputeKind, uint64 tenderedAt, uint64 disputedAt, bytes19 batchTag);

    /// @notice Stored terms hash of agreement `id` (zero if unknown).
    /// @param id The agreement.
    /// @return termsHash `hashTerms(terms)`.
    function termsHashOf(uint256 id) external view returns (bytes32 termsHash);

    /// @notice Number of agreements created (ids are 1..count).
    /// @return count The count.
    function agreementCount() external view returns (uint256 count);

    /// @notice `keccak256(abi.encode(terms))`.
    /// @param terms The terms.
    /// @return termsHash The hash.
    function hashTerms(Terms calldata terms) external pure returns (bytes32 termsHash);

    /// @notice What the buyer escrows: `price + ⌈price × toleranceBps / 10_000⌉`.
    /// @param terms The terms.
    /// @return escrow The escrow.
    function escrowOf(Terms calldata terms) external pure returns (uint256 escrow);

    /// @notice What a tender of `quantity`, `daysLate` whole days late, pays each side.
    /// @dev Requirements: `penaltyCapBps <= 10_000`, `toleranceBps <= 10_000` and the escrow fits 256
    /// bits (as for `propose`); `quantity` within the tolerance of the agreed quantity.
    /// @param terms The terms.
    /// @param quantity The delivered quantity.
    /// @param daysLate Whole days late at the tender.
    /// @return supplierAmount Payment minus penalty.
    /// @return buyerAmount Escrow minus `supplierAmount`.
    function payoutFor(Terms calldata terms, uint256 quantity, uint256 daysLate)
        external
        pure
        returns (uint256 supplierAmount, uint256 buyerAmount);

    /// @notice The registry that created this contract and drives its deliveries.
    /// @return registry_ The registry.
    function registry() external view returns (address registry_);

    /// @notice Maximum number of required claims per agreement.
    /// @return max The maximum.
    // solhint-disable-next-line func-name-mixedcase
    function MAX_CLAIMS() external view returns (uint256 max);

    /// @notice The current EIP-712 nonce of `owner`.
    /// @param owner The signer.
    /// @return nonce The nonce.
    function nonces(address owner) external view returns (uint256 nonce);

    /// @notice The EIP-712 domain separator (name `SupplyAgreements`, version `2`, this chain and contract).
    /// @return separator The separator.
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32 separator);
}
