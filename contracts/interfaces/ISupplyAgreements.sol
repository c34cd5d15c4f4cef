// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title ISupplyAgreements
/// @notice Escrowed supplier agreements whose delivery is proven by custody in the ProvenanceRegistry.
/// @dev Many agreements live in one contract, numbered 1, 2, …. Storage per agreement is one slot:
/// status (8 bits) | proposedByBuyer (8) | disputedAt (40) | the high 200 bits (25 bytes) of
/// `keccak256(abi.encode(terms))`. Every call after `propose` passes the full terms in calldata and
/// the contract checks their truncated hash (forging other terms for a stored agreement needs a
/// second preimage of 200 bits, ~2**200 work). The terms are emitted in `AgreementProposed`, so a
/// client rebuilds them from events. No per-token escrow total is stored: the escrow of a token is
/// the sum of the prices of its Funded and Disputed agreements, computed from events.
///
/// Safety invariants (checked by tests/contracts/test_agreements_stateful.py):
/// 1. Solvency: for every token (address(0) = ETH) the contract's balance is at least the sum of
///    the prices of its Funded and Disputed agreements + the sum of every account's unwithdrawn
///    `creditOf(account, token)`.
/// 2. Conservation: for every Settled, Refunded or Resolved agreement, supplier payout + buyer
///    refund == `price`, the amount escrowed by `fund`.
/// 3. Penalty: monotone (non-decreasing) in whole days late, never above `penaltyCapBps` of the
///    price and never above the price (`penaltyCapBps <= 10_000`).
/// 4. Terminal states (Settled, Refunded, Resolved, Cancelled) are absorbing: no function changes
///    them, so each agreement pays out at most once.
/// 5. Liveness: every funded agreement has a path to release for both sides without anyone's
///    cooperation: delivery (anyone may call `claimDelivery`), `reclaim` after deadline + grace,
///    and from Disputed either the arbiter's `resolve` or, after `arbiterTimeout`, anyone's
///    `resolveByDefault`. Credits are then pulled with `withdraw`.
/// 6. Only the agreement's arbiter resolves a dispute; after the timeout the default rule applies.
/// 7. There is no admin, owner or upgrade path in this contract: nobody can move escrowed funds or
///    credits except by the transitions above. The registry address is fixed at construction.
interface ISupplyAgreements {
    /// @notice Lifecycle of an agreement. Settled, Refunded, Resolved and Cancelled are terminal.
    enum Status {
        None,
        Proposed,
        Accepted,
        Funded,
        Settled,
        Refunded,
        Disputed,
        Resolved,
        Cancelled
    }

    /// @notice The full terms of an agreement; only the high 25 bytes of `keccak256(abi.encode(terms))`
    /// are stored.
    /// @param buyer Pays the price and must hold custody of the delivered batch.
    /// @param supplier Receives the price minus any lateness penalty.
    /// @param arbiter Resolves disputes; neither buyer nor supplier.
    /// @param token ERC-20 used for payment, address(0) for native ETH.
    /// @param gtin GTIN-14 of the goods as a number.
    /// @param quantity Minimum quantity delivered, in `uom`.
    /// @param uom UN/ECE Rec 20 unit of measure.
    /// @param price Amount escrowed by the buyer.
    /// @param deliveryDeadline Unix time by which delivery is due without penalty.
    /// @param gracePeriod Seconds after the deadline before the buyer may reclaim.
    /// @param penaltyBpsPerDay Penalty in basis points of the price per whole day late.
    /// @param penaltyCapBps Maximum total penalty in basis points (<= 10_000).
    /// @param arbiterTimeout Seconds the arbiter has to resolve a dispute.
    /// @param requiredClaims Attestation claim types the delivered batch must carry.
    /// @param document Hash of the contract text.
    /// @param salt Lets identical terms coexist.
    struct Terms {
        address buyer;
        address supplier;
        address arbiter;
        address token;
        uint256 gtin;
        uint256 quantity;
        bytes3 uom;
        uint256 price;
        uint64 deliveryDeadline;
        uint32 gracePeriod;
        uint16 penaltyBpsPerDay;
        uint16 penaltyCapBps;
        uint32 arbiterTimeout;
        bytes32[] requiredClaims;
        bytes32 document;
        uint256 salt;
    }

    /// @notice A party's EIP-712 approval of an agreement, for `proposeSigned`.
    /// @param nonce The signer's current `nonces(signer)`.
    /// @param deadline Last second at which the signature is accepted.
    /// @param signature 65-byte ECDSA signature; empty when the party is `msg.sender`.
    struct Authorization {
        uint256 nonce;
        uint256 deadline;
        bytes signature;
    }

    /// @notice Which attestation proves a required claim (one per entry of `requiredClaims`, same order).
    /// @param issuer The certifier that issued the attestation.
    /// @param evidence The evidence hash the attestation was issued with.
    struct AttestationRef {
        address issuer;
        bytes32 evidence;
    }

    // ---------------------------------------------------------------- errors

    /// @notice No agreement has this id.
    error AgreementsUnknown(uint256 id);
    /// @notice The terms passed do not hash to the stored terms hash (both truncated to 25 bytes).
    error AgreementsTermsMismatch(uint256 id, bytes25 stored, bytes25 given);
    /// @notice Buyer, supplier or arbiter is zero, or two of them are the same account.
    error AgreementsInvalidParties(address buyer, address supplier, address arbiter);
    /// @notice Price or quantity is zero.
    error AgreementsInvalidAmounts(uint256 price, uint256 quantity);
    /// @notice The penalty cap is above 10_000 basis points.
    error AgreementsInvalidPenalty(uint16 penaltyBpsPerDay, uint16 penaltyCapBps);
    /// @notice The delivery deadline is not in the future at proposal time.
    error AgreementsDeadlineInPast(uint64 deliveryDeadline, uint64 now_);
    /// @notice The arbiter timeout is zero.
    error AgreementsInvalidArbiterTimeout(uint32 arbiterTimeout);
    /// @notice More required claims than `MAX_CLAIMS`.
    error AgreementsTooManyClaims(uint256 count, uint256 max);
    /// @notice The caller is neither buyer nor supplier.
    error AgreementsNotParty(uint256 id, address caller);
    /// @notice The caller is not the party that has to accept (the one that did not propose).
    error AgreementsNotCounterparty(uint256 id, address caller);
    /// @notice The caller is not the buyer.
    error AgreementsNotBuyer(uint256 id, address caller);
    /// @notice The caller is not the arbiter.
    error AgreementsNotArbiter(uint256 id, address caller);
    /// @notice The agreement is not in a status that allows this call.
    error AgreementsWrongStatus(uint256 id, Status status);
    /// @notice `msg.value` is not the ETH price (or not zero for a token agreement).
    error AgreementsWrongValue(uint256 id, uint256 expected, uint256 sent);
    /// @notice The token balance grew by a different amount than the price (fee-on-transfer token).
    error AgreementsTransferMismatch(address token, uint256 expected, uint256 received);
    /// @notice The delivered batch has another GTIN.
    error AgreementsGtinMismatch(bytes32 batchId, uint256 expected, uint256 actual);
    /// @notice The delivered batch has another unit of measure.
    error AgreementsUomMismatch(bytes32 batchId, bytes3 expected, bytes3 actual);
    /// @notice The delivered batch is smaller than agreed.
    error AgreementsQuantityTooSmall(bytes32 batchId, uint256 required, uint256 actual);
    /// @notice The number of attestation references differs from the number of required claims.
    error AgreementsAttestationCount(uint256 required, uint256 given);
    /// @notice A required claim is not backed by an attestation valid now from an active certifier.
    error AgreementsAttestationInvalid(bytes32 batchId, bytes32 claim, address issuer, bytes32 evidence);
    /// @notice The buyer tried to reclaim before deadline + grace.
    error AgreementsNotRefundableYet(uint256 id, uint256 refundableAfter, uint256 now_);
    /// @notice A dispute was raised after deadline + grace.
    error AgreementsDisputeWindowClosed(uint256 id, uint256 closedAt, uint256 now_);
    /// @notice `resolveByDefault` before the arbiter timeout ran out.
    error AgreementsArbiterTimeoutPending(uint256 id, uint256 defaultAfter, uint256 now_);
    /// @notice The arbiter awarded the supplier more than the price.
    error AgreementsAwardTooHigh(uint256 id, uint256 supplierAmount, uint256 price);
    /// @notice The caller has no credit in this token.
    error AgreementsNothingToWithdraw(address account, address token);
    /// @notice Sending ETH to the account failed; the credit is kept.
    error AgreementsEthTransferFailed(address account, uint256 amount);
    /// @notice A signature's deadline has passed.
    error AgreementsSignatureExpired(address signer, uint256 deadline);
    /// @notice The nonce is not the signer's current nonce.
    error AgreementsInvalidNonce(address signer, uint256 expected, uint256 given);
    /// @notice The signature does not recover to the party.
    error AgreementsInvalidSignature(address signer, address recovered);

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
    /// @notice The buyer escrowed the price.
    /// @param id The agreement.
    /// @param token The payment token.
    /// @param amount The price.
    /// @param at Block timestamp.
    event AgreementFunded(uint256 indexed id, address indexed token, uint256 amount, uint64 at);
    /// @notice Delivery was proven and the escrow split between supplier and buyer.
    /// @param id The agreement.
    /// @param batchId The delivered batch.
    /// @param supplierAmount Credited to the supplier.
    /// @param buyerAmount Penalty credited to the buyer.
    /// @param daysLate Whole days after the deadline.
    /// @param at Block timestamp.
    event DeliverySettled(
        uint256 indexed id, bytes32 indexed batchId, uint256 supplierAmount, uint256 buyerAmount, uint256 daysLate, uint64 at
    );
    /// @notice The buyer reclaimed the escrow after deadline + grace.
    /// @param id The agreement.
    /// @param amount Credited to the buyer.
    /// @param at Block timestamp.
    event AgreementRefunded(uint256 indexed id, uint256 amount, uint64 at);
    /// @notice A party raised a dispute.
    /// @param id The agreement.
    /// @param by The party.
    /// @param reason Hash or code of the reason.
    /// @param at Block timestamp.
    event DisputeRaised(uint256 indexed id, address indexed by, bytes32 reason, uint64 at);
    /// @notice A dispute was resolved by the arbiter or by default.
    /// @param id The agreement.
    /// @param supplierAmount Credited to the supplier.
    /// @param buyerAmount Credited to the buyer.
    /// @param byDefault True after the arbiter timeout.
    /// @param at Block timestamp.
    event DisputeResolved(uint256 indexed id, uint256 supplierAmount, uint256 buyerAmount, bool byDefault, uint64 at);
    /// @notice An account pulled its credit.
    /// @param account The receiver.
    /// @param token The token (0 = ETH).
    /// @param amount The amount sent.
    event Withdrawn(address indexed account, address indexed token, uint256 amount);

    // ---------------------------------------------------------------- functions

    /// @notice Propose an agreement; the other party accepts it with `accept`.
    /// @param terms The terms.
    /// @return id The new agreement id.
    /// @dev Requirements:
    /// - caller is `terms.buyer` or `terms.supplier`;
    /// - buyer, supplier, arbiter non-zero and pairwise distinct;
    /// - price and quantity non-zero; `penaltyCapBps <= 10_000`; `arbiterTimeout > 0`;
    /// - `deliveryDeadline > block.timestamp`; at most `MAX_CLAIMS` required claims.
    function propose(Terms calldata terms) external returns (uint256 id);

    /// @notice Create an agreement in Accepted with both parties' EIP-712 approvals.
    /// @param terms The terms.
    /// @param buyerAuth The buyer's approval (empty signature if the buyer is `msg.sender`).
    /// @param supplierAuth The supplier's approval (empty signature if the supplier is `msg.sender`).
    /// @return id The new agreement id.
    /// @dev Requirements:
    /// - the terms are valid as for `propose` (any caller may relay);
    /// - each signature is over `Agreement(bytes32 termsHash,uint256 nonce,uint256 deadline)` in the
    ///   domain `SupplyAgreements`/`1` of this chain and contract, by the party, with its current
    ///   nonce (which is then used up) and `deadline >= block.timestamp`.
    function proposeSigned(Terms calldata terms, Authorization calldata buyerAuth, Authorization calldata supplierAuth)
        external
        returns (uint256 id);

    /// @notice Accept a proposed agreement.
    /// @param id The agreement.
    /// @param terms Its terms.
    /// @dev Requirements:
    /// - status Proposed, terms hash matches;
    /// - caller is the party that did not propose.
    function accept(uint256 id, Terms calldata terms) external;

    /// @notice Cancel an agreement that is not funded yet.
    /// @param id The agreement.
    /// @param terms Its terms.
    /// @dev Requirements:
    /// - status Proposed or Accepted, terms hash matches; caller is buyer or supplier.
    function cancel(uint256 id, Terms calldata terms) external;

    /// @notice Escrow the price.
    /// @param id The agreement.
    /// @param terms Its terms.
    /// @dev Requirements:
    /// - status Accepted, terms hash matches; caller is the buyer;
    /// - ETH: `msg.value == price`; token: `msg.value == 0`, allowance >= price, and the contract's
    ///   balance grows by exactly `price` (fee-on-transfer tokens are refused).
    function fund(uint256 id, Terms calldata terms) external payable;

    /// @notice Prove delivery through registry custody and settle: supplier gets price − penalty.
    /// @param id The agreement.
    /// @param terms Its terms.
    /// @param batchId A batch in the buyer's custody.
    /// @param refs One attestation per required claim.
    /// @dev Requirements:
    /// - status Funded, terms hash matches (any caller);
    /// - `registry.claimDelivery(batchId, buyer)` succeeds (active, not recalled, no pending handoff,
    ///   buyer is custodian, this custody not used for another agreement);
    /// - same GTIN and uom, quantity >= agreed;
    /// - for every required claim `i`: `refs[i].issuer` is an active CERTIFIER and
    ///   `isAttestationValid(batchId, claim, issuer, evidence, now)`.
    /// Penalty = price × min(daysLate × bpsPerDay, capBps) / 10_000 with daysLate whole days after
    /// the deadline; accepted after deadline + grace as long as the buyer has not reclaimed.
    function claimDelivery(uint256 id, Terms calldata terms, bytes32 batchId, AttestationRef[] calldata refs) external;

    /// @notice Take the escrow back when delivery did not happen in time.
    /// @param id The agreement.
    /// @param terms Its terms.
    /// @dev Requirements:
    /// - status Funded, terms hash matches; caller is the buyer;
    /// - `block.timestamp > deliveryDeadline + gracePeriod`.
    function reclaim(uint256 id, Terms calldata terms) external;

    /// @notice Freeze the escrow for the arbiter.
    /// @param id The agreement.
    /// @param terms Its terms.
    /// @param reason Hash or code of the reason.
    /// @dev Requirements:
    /// - status Funded, terms hash matches; caller is buyer or supplier;
    /// - `block.timestamp <= deliveryDeadline + gracePeriod`.
    function dispute(uint256 id, Terms calldata terms, bytes32 reason) external;

    /// @notice The arbiter splits the escrow.
    /// @param id The agreement.
    /// @param terms Its terms.
    /// @param supplierAmount Awarded to the supplier;
    /// the rest goes to the buyer.
    /// @dev Requirements:
    /// - status Disputed, terms hash matches; caller is the arbiter; `supplierAmount <= price`.
    function resolve(uint256 id, Terms calldata terms, uint256 supplierAmount) external;

    /// @notice Apply the default rule (full refund to the buyer) when the arbiter did not act in time.
    /// @param id The agreement.
    /// @param terms Its terms.
    /// @dev Requirements:
    /// - status Disputed, terms hash matches (any caller);
    /// - `block.timestamp > disputedAt + arbiterTimeout`.
    function resolveByDefault(uint256 id, Terms calldata terms) external;

    /// @notice Pull the caller's whole credit in `token` (address(0) = ETH).
    /// @param token The token.
    /// @dev Requirements:
    /// - the caller has a non-zero credit; the transfer succeeds (else everything reverts and the
    ///   credit is kept).
    function withdraw(address token) external;

    /// @notice Unwithdrawn credit of `account` in `token`.
    /// @param account The account.
    /// @param token The token (0 = ETH).
    function creditOf(address account, address token) external view returns (uint256);

    /// @notice Status of agreement `id` (None if unknown).
    /// @param id The agreement.
    function statusOf(uint256 id) external view returns (Status);

    /// @notice Stored terms hash of agreement `id`: the high 25 bytes of `hashTerms(terms)` (zero if unknown).
    /// @param id The agreement.
    function termsHashOf(uint256 id) external view returns (bytes25);

    /// @notice When the dispute on agreement `id` was raised (zero if it never was).
    /// @param id The agreement.
    /// @dev Settlement, refund and resolution times are in the events' `at` fields, not in storage.
    function disputedAtOf(uint256 id) external view returns (uint64);

    /// @notice Number of agreements created (ids are 1..count).
    function agreementCount() external view returns (uint256);

    /// @notice `keccak256(abi.encode(terms))`; the contract stores its high 25 bytes.
    /// @param terms The terms.
    function hashTerms(Terms calldata terms) external pure returns (bytes32);

    /// @notice The penalty for delivering `daysLate` whole days late under `terms`.
    /// @param terms The terms.
    /// @param daysLate Whole days after the deadline.
    /// @dev Requirements:
    /// - `penaltyCapBps <= 10_000` (as for `propose`).
    function penaltyFor(Terms calldata terms, uint256 daysLate) external pure returns (uint256);

    /// @notice The registry that proves delivery.
    function registry() external view returns (address);

    /// @notice The current EIP-712 nonce of `owner` (the one its next `proposeSigned` approval must use).
    /// @param owner The signer.
    function nonces(address owner) external view returns (uint256);

    /// @notice The EIP-712 domain separator (name `SupplyAgreements`, version `1`, this chain and contract).
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32);
}
