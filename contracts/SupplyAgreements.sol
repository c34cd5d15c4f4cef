// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Signatures} from "./utils/Signatures.sol";

import {IProvenanceRegistry} from "./interfaces/IProvenanceRegistry.sol";
import {ISupplyAgreements} from "./interfaces/ISupplyAgreements.sol";
import {AgreementState, AgreementStateLib} from "./types/AgreementState.sol";

/// @title SupplyAgreements
/// @notice Escrowed supplier agreements paid on the buyer's acceptance of a delivery bound to them in
/// the ProvenanceRegistry (the settlement rules are in `ISupplyAgreements`).
/// @dev Created by the registry's constructor, which it then trusts and drives: the registry address is
/// immutable and the registry knows this contract as its only settlement contract. No admin, owner or
/// upgrade path. Payments are pulled: every payout is a credit in `_credits[account][token]`.
/// State-changing functions update storage before any external call; the calls go to the fixed
/// registry, to the agreement's token in `fund`, and to the payee in `withdraw`, which is `nonReentrant`.
// Deadlines are days long and a block producer moves `block.timestamp` by seconds at most; the
// AgreementState word packs times next to the status, which slither's taint reads as timestamp use.
// slither-disable-start timestamp,incorrect-equality
// The only external calls before these state writes and events go to the registry that created this
// contract, which calls nothing back; token and ETH transfers are in fund and withdraw (nonReentrant).
// slither-disable-start reentrancy-benign,reentrancy-events
contract SupplyAgreements is ISupplyAgreements, ReentrancyGuard, EIP712, Nonces {
    using SafeERC20 for IERC20;

    /// @inheritdoc ISupplyAgreements
    uint256 public constant MAX_CLAIMS = 8;

    /// @dev EIP-712 type approved by each party in `proposeSigned`.
    bytes32 private constant _AGREEMENT_TYPEHASH =
        keccak256("Agreement(bytes32 termsHash,uint256 nonce,uint256 deadline)");

    uint256 private constant _BPS = 10_000;

    /// @dev Byte size of the head of an ABI-encoded `Terms` tuple (19 words).
    uint256 private constant _TERMS_HEAD = 19 * 32;

    IProvenanceRegistry private immutable _registry;

    uint256 private _count;
    mapping(uint256 id => AgreementState) private _states;
    mapping(uint256 id => bytes32) private _termsHashes;
    mapping(address account => mapping(address token => uint256)) private _credits;

    /// @dev Deployed by the ProvenanceRegistry's constructor, which becomes `registry()`.
    constructor() EIP712("SupplyAgreements", "2") {
        _registry = IProvenanceRegistry(msg.sender);
    }

    // ------------------------------------------------------------ lifecycle

    /// @inheritdoc ISupplyAgreements
    function propose(Terms calldata terms) external returns (uint256 id) {
        if (msg.sender != terms.buyer && msg.sender != terms.supplier) revert AgreementsNotParty(0, msg.sender);
        bytes32 termsHash = _validate(terms);
        id = _create(termsHash, Status.Proposed, msg.sender == terms.buyer);
        emit AgreementProposed(id, terms.buyer, terms.supplier, terms, msg.sender, _now());
    }

    /// @inheritdoc ISupplyAgreements
    function proposeSigned(Terms calldata terms, Authorization calldata buyerAuth, Authorization calldata supplierAuth)
        external
        returns (uint256 id)
    {
        bytes32 termsHash = _validate(terms);
        _checkApproval(terms.buyer, termsHash, buyerAuth);
        _checkApproval(terms.supplier, termsHash, supplierAuth);
        id = _create(termsHash, Status.Accepted, msg.sender != terms.supplier);
        uint64 at = _now();
        emit AgreementProposed(id, terms.buyer, terms.supplier, terms, msg.sender, at);
        emit AgreementAccepted(id, msg.sender, at);
    }

    /// @inheritdoc ISupplyAgreements
    function accept(uint256 id, Terms calldata terms) external {
        AgreementState s = _load(id, terms);
        _expect(id, s, Status.Proposed);
        if (msg.sender != (s.proposedByBuyer() ? terms.supplier : terms.buyer)) {
            revert AgreementsNotCounterparty(id, msg.sender);
        }
        _states[id] = s.withStatus(Status.Accepted);
        emit AgreementAccepted(id, msg.sender, _now());
    }

    /// @inheritdoc ISupplyAgreements
    function cancel(uint256 id, Terms calldata terms) external {
        AgreementState s = _load(id, terms);
        Status status = s.status();
        if (status == Status.Funded) {
            if (msg.sender != terms.supplier) revert AgreementsNotSupplier(id, msg.sender);
            _states[id] = s.withStatus(Status.Refunded);
            uint256 escrow = _escrowOf(terms);
            _release(terms, 0, escrow);
            emit AgreementCancelled(id, msg.sender, _now());
            emit AgreementRefunded(id, escrow, _now());
            return;
        }
        if (status != Status.Proposed && status != Status.Accepted) revert AgreementsWrongStatus(id, status);
        if (msg.sender != terms.buyer && msg.sender != terms.supplier) revert AgreementsNotParty(id, msg.sender);
        _states[id] = s.withStatus(Status.Cancelled);
        emit AgreementCancelled(id, msg.sender, _now());
    }

    /// @inheritdoc ISupplyAgreements
    function fund(uint256 id, Terms calldata terms) external payable {
        AgreementState s = _load(id, terms);
        _expect(id, s, Status.Accepted);
        if (msg.sender != terms.buyer) revert AgreementsNotBuyer(id, msg.sender);
        if (block.timestamp > terms.deliveryDeadline) {
            revert AgreementsFundingClosed(id, terms.deliveryDeadline, block.timestamp);
        }
        address token = terms.token;
        uint256 escrow = _escrowOf(terms);
        uint256 expectedValue = token == address(0) ? escrow : 0;
        if (msg.value != expectedValue) revert AgreementsWrongValue(id, expectedValue, msg.value);
        // Effects before the token call: a re-entrant `fund` finds the agreement already Funded.
        _states[id] = s.withStatus(Status.Funded);
        if (token != address(0)) {
            uint256 before = IERC20(token).balanceOf(address(this));
            IERC20(token).safeTransferFrom(msg.sender, address(this), escrow);
            uint256 received = IERC20(token).balanceOf(address(this)) - before;
            if (received != escrow) revert AgreementsTransferMismatch(token, escrow, received);
        }
        emit AgreementFunded(id, token, escrow, _now());
    }

    // ------------------------------------------------------------- delivery

    /// @inheritdoc ISupplyAgreements
    function tender(
        uint256 id,
        Terms calldata terms,
        bytes32 batchId,
        IProvenanceRegistry.Leg calldata leg,
        ClaimProof[] calldata proofs
    ) external {
        AgreementState s = _load(id, terms);
        Status status = s.status();
        if (status != Status.Funded && !(status == Status.Disputed && s.disputeKind() == DisputeKind.Rejected)) {
            revert AgreementsWrongStatus(id, status);
        }
        if (msg.sender != terms.supplier) revert AgreementsNotSupplier(id, msg.sender);
        uint256 closedAt = uint256(terms.deliveryDeadline) + terms.gracePeriod;
        if (block.timestamp > closedAt) revert AgreementsTenderClosed(id, closedAt, block.timestamp);
        _states[id] = s.tendered(block.timestamp, batchId);
        _bind(terms, batchId, leg);
        _checkClaims(terms.requiredClaims, batchId, proofs);
        emit DeliveryTendered(id, batchId, _daysLate(terms.deliveryDeadline, block.timestamp), _now());
    }

    /// @inheritdoc ISupplyAgreements
    function withdrawTender(uint256 id, Terms calldata terms, bytes32 batchId) external {
        AgreementState s = _load(id, terms);
        _expect(id, s, Status.Tendered);
        if (msg.sender != terms.supplier) revert AgreementsNotSupplier(id, msg.sender);
        _checkTag(id, s, batchId);
        IProvenanceRegistry.BatchInfo memory info = _registry.getBatch(batchId);
        if (!info.tenderLeg) revert AgreementsTenderInTransit(id, batchId);
        _states[id] = s.withStatus(Status.Funded);
        _registry.releaseDelivery(batchId, id);
        emit TenderWithdrawn(id, batchId, _now());
    }

    /// @inheritdoc ISupplyAgreements
    function acceptDelivery(uint256 id, Terms calldata terms, bytes32 batchId, bytes32 document) external {
        AgreementState s = _load(id, terms);
        Status status = s.status();
        if (status != Status.Tendered && !(status == Status.Disputed && s.disputeKind() == DisputeKind.Escalated)) {
            revert AgreementsWrongStatus(id, status);
        }
        if (msg.sender != terms.buyer) revert AgreementsNotBuyer(id, msg.sender);
        _checkTag(id, s, batchId);
        _states[id] = s.withStatus(Status.Settled);
        uint256 quantity = _registry.completeDelivery(batchId, msg.sender, terms.supplier, document);
        uint256 daysLate = _daysLate(terms.deliveryDeadline, s.tenderedAt());
        (uint256 toSupplier, uint256 toBuyer) = _payout(terms, quantity, daysLate);
        _release(terms, toSupplier, toBuyer);
        emit DeliverySettled(id, batchId, toSupplier, toBuyer, daysLate, _now());
    }

    /// @inheritdoc ISupplyAgreements
    function rejectDelivery(uint256 id, Terms calldata terms, bytes32 batchId, bytes32 reason) external {
        AgreementState s = _load(id, terms);
        Status status = s.status();
        bool escalated = status == Status.Disputed && s.disputeKind() == DisputeKind.Escalated;
        if (status != Status.Tendered && !escalated) revert AgreementsWrongStatus(id, status);
        if (msg.sender != terms.buyer) revert AgreementsNotBuyer(id, msg.sender);
        _checkTag(id, s, batchId);
        // after an escalation the buyer may still refuse goods that a recall has reached
        if (escalated && !_registry.isRecalled(batchId)) revert AgreementsWrongStatus(id, status);
        _states[id] = s.disputed(DisputeKind.Rejected, block.timestamp);
        _registry.releaseDelivery(batchId, id);
        emit DisputeRaised(id, msg.sender, DisputeKind.Rejected, reason, _now());
    }

    /// @inheritdoc ISupplyAgreements
    function escalate(uint256 id, Terms calldata terms, bytes32 reason) external {
        AgreementState s = _load(id, terms);
        _expect(id, s, Status.Tendered);
        if (msg.sender != terms.supplier) revert AgreementsNotSupplier(id, msg.sender);
        uint256 escalableAfter = uint256(s.tenderedAt()) + terms.inspectionPeriod;
        if (block.timestamp <= escalableAfter) {
            revert AgreementsInspectionPending(id, escalableAfter, block.timestamp);
        }
        _states[id] = s.disputed(DisputeKind.Escalated, block.timestamp);
        emit DisputeRaised(id, msg.sender, DisputeKind.Escalated, reason, _now());
    }

    /// @inheritdoc ISupplyAgreements
    function reclaim(uint256 id, Terms calldata terms) external {
        AgreementState s = _load(id, terms);
        _expect(id, s, Status.Funded);
        if (msg.sender != terms.buyer) revert AgreementsNotBuyer(id, msg.sender);
        uint256 refundableAfter = uint256(terms.deliveryDeadline) + terms.gracePeriod;
        if (block.timestamp <= refundableAfter) {
            revert AgreementsNotRefundableYet(id, refundableAfter, block.timestamp);
        }
        _states[id] = s.withStatus(Status.Refunded);
        uint256 escrow = _escrowOf(terms);
        _release(terms, 0, escrow);
        emit AgreementRefunded(id, escrow, _now());
    }

    /// @inheritdoc ISupplyAgreements
    function resolve(uint256 id, Terms calldata terms, bytes32 batchId, uint256 supplierAmount, bool deliver)
        external
    {
        AgreementState s = _load(id, terms);
        _expect(id, s, Status.Disputed);
        if (msg.sender != terms.arbiter) revert AgreementsNotArbiter(id, msg.sender);
        uint256 escrow = _escrowOf(terms);
        if (supplierAmount > escrow) revert AgreementsAwardTooHigh(id, supplierAmount, escrow);
        _states[id] = s.withStatus(Status.Resolved);
        if (s.disputeKind() == DisputeKind.Escalated) {
            _checkTag(id, s, batchId);
            // slither-disable-next-line unused-return (the award, not the quantity, decides the split)
            if (deliver) _registry.transferTitle(batchId, id);
            else _registry.releaseDelivery(batchId, id);
        } else if (deliver) {
            revert AgreementsNothingToDeliver(id);
        }
        // cannot underflow: checked above
        uint256 toBuyer = escrow - supplierAmount;
        _release(terms, supplierAmount, toBuyer);
        emit DisputeResolved(id, supplierAmount, toBuyer, deliver, false, _now());
    }

    /// @inheritdoc ISupplyAgreements
    function resolveByDefault(uint256 id, Terms calldata terms, bytes32 batchId) external {
        AgreementState s = _load(id, terms);
        _expect(id, s, Status.Disputed);
        uint256 defaultAfter = uint256(s.disputedAt()) + terms.arbiterTimeout;
        if (block.timestamp <= defaultAfter) {
            revert AgreementsArbiterTimeoutPending(id, defaultAfter, block.timestamp);
        }
        _states[id] = s.withStatus(Status.Resolved);
        uint256 toSupplier = 0;
        uint256 toBuyer;
        bool delivered = s.disputeKind() == DisputeKind.Escalated;
        if (delivered) {
            // a conforming tender is proven on chain: paid as if accepted, title passes
            _checkTag(id, s, batchId);
            // a recall before acceptance blocks settlement, by default too
            if (_registry.isRecalled(batchId)) revert AgreementsGoodsRecalled(id, batchId);
            uint256 quantity = _registry.transferTitle(batchId, id);
            (toSupplier, toBuyer) = _payout(terms, quantity, _daysLate(terms.deliveryDeadline, s.tenderedAt()));
        } else {
            toBuyer = _escrowOf(terms);
        }
        _release(terms, toSupplier, toBuyer);
        emit DisputeResolved(id, toSupplier, toBuyer, delivered, true, _now());
    }

    /// @inheritdoc ISupplyAgreements
    function withdraw(address token) external nonReentrant {
        uint256 amount = _credits[msg.sender][token];
        if (amount == 0) revert AgreementsNothingToWithdraw(msg.sender, token);
        _credits[msg.sender][token] = 0;
        emit Withdrawn(msg.sender, token, amount);
        if (token == address(0)) {
            address to = msg.sender;
            bool ok;
            // A plain value call that copies no return data (a huge revert reason cannot burn our gas);
            // all memory arguments are zero-length, so no memory is read or written.
            assembly ("memory-safe") {
                ok := call(gas(), to, amount, 0, 0, 0, 0)
            }
            if (!ok) revert AgreementsEthTransferFailed(to, amount);
        } else {
            IERC20(token).safeTransfer(msg.sender, amount);
        }
    }

    /// @inheritdoc ISupplyAgreements
    function useNonce() external returns (uint256 nonce) {
        nonce = _useNonce(msg.sender);
        emit NonceInvalidated(msg.sender, nonce);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ISupplyAgreements
    function creditOf(address account, address token) external view returns (uint256) {
        return _credits[account][token];
    }

    /// @inheritdoc ISupplyAgreements
    function statusOf(uint256 id) external view returns (Status) {
        return _states[id].status();
    }

    /// @inheritdoc ISupplyAgreements
    function stateOf(uint256 id)
        external
        view
        returns (Status status, DisputeKind disputeKind, uint64 tenderedAt, uint64 disputedAt, bytes19 batchTag)
    {
        AgreementState s = _states[id];
        return (s.status(), s.disputeKind(), s.tenderedAt(), s.disputedAt(), s.batchTag());
    }

    /// @inheritdoc ISupplyAgreements
    function termsHashOf(uint256 id) external view returns (bytes32) {
        return _termsHashes[id];
    }

    /// @inheritdoc ISupplyAgreements
    function agreementCount() external view returns (uint256) {
        return _count;
    }

    /// @inheritdoc ISupplyAgreements
    function hashTerms(Terms calldata terms) external pure returns (bytes32) {
        return keccak256(abi.encode(terms));
    }

    /// @inheritdoc ISupplyAgreements
    function escrowOf(Terms calldata terms) external pure returns (uint256) {
        return _escrowOf(terms);
    }

    /// @inheritdoc ISupplyAgreements
    function payoutFor(Terms calldata terms, uint256 quantity, uint256 daysLate)
        external
        pure
        returns (uint256 supplierAmount, uint256 buyerAmount)
    {
        // `_payout` relies on what `propose` checks; these terms were never validated
        if (terms.penaltyCapBps > _BPS || terms.toleranceBps > _BPS) {
            revert AgreementsInvalidBps(terms.penaltyCapBps, terms.toleranceBps);
        }
        _checkEscrowFits(terms);
        if (terms.quantity == 0 || !_withinTolerance(terms, quantity)) {
            revert AgreementsQuantityOutOfTolerance(bytes32(0), terms.quantity, quantity);
        }
        return _payout(terms, quantity, daysLate);
    }

    /// @inheritdoc ISupplyAgreements
    function registry() external view returns (address) {
        return address(_registry);
    }

    /// @inheritdoc ISupplyAgreements
    function nonces(address owner) public view override(ISupplyAgreements, Nonces) returns (uint256) {
        return super.nonces(owner);
    }

    /// @inheritdoc ISupplyAgreements
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ------------------------------------------------------------- internals

    /// @dev Checks the terms of a new agreement and returns their hash.
    function _validate(Terms calldata terms) private view returns (bytes32) {
        address buyer = terms.buyer;
        address supplier = terms.supplier;
        address arbiter = terms.arbiter;
        address carrier = terms.carrier;
        if (
            buyer == address(0) || supplier == address(0) || arbiter == address(0) || buyer == supplier
                || arbiter == buyer || arbiter == supplier || carrier == buyer || carrier == supplier
        ) revert AgreementsInvalidParties(buyer, supplier, arbiter, carrier);
        if (terms.penaltyCapBps > _BPS || terms.toleranceBps > _BPS) {
            revert AgreementsInvalidBps(terms.penaltyCapBps, terms.toleranceBps);
        }
        if (terms.price == 0 || terms.quantity == 0 || terms.quantity > type(uint48).max) {
            revert AgreementsInvalidAmounts(terms.price, terms.quantity);
        }
        _checkEscrowFits(terms);
        if (terms.deliveryDeadline <= block.timestamp) {
            revert AgreementsDeadlineInPast(terms.deliveryDeadline, _now());
        }
        if (terms.inspectionPeriod == 0 || terms.arbiterTimeout == 0) {
            revert AgreementsInvalidPeriods(terms.inspectionPeriod, terms.arbiterTimeout);
        }
        uint256 n = terms.requiredClaims.length;
        if (n > MAX_CLAIMS) revert AgreementsTooManyClaims(n, MAX_CLAIMS);
        for (uint256 i; i < n; ++i) {
            RequiredClaim calldata c = terms.requiredClaims[i];
            if (c.attester == address(0) || c.attester == buyer || c.attester == supplier) {
                revert AgreementsInvalidAttester(c.claim, c.attester);
            }
        }
        return keccak256(abi.encode(terms));
    }

    /// @dev The escrow must fit 256 bits (price + ⌈price × tolerance⌉).
    function _checkEscrowFits(Terms calldata terms) private pure {
        uint256 extra = Math.mulDiv(terms.price, terms.toleranceBps, _BPS, Math.Rounding.Ceil);
        if (extra > type(uint256).max - terms.price) revert AgreementsInvalidAmounts(terms.price, terms.quantity);
    }

    /// @dev Stores a new agreement and returns its id.
    function _create(bytes32 termsHash, Status status, bool proposedByBuyer) private returns (uint256 id) {
        // Cannot overflow: one id per transaction, 2**256 transactions will never happen.
        unchecked {
            id = ++_count;
        }
        _states[id] = AgreementStateLib.create(status, proposedByBuyer);
        _termsHashes[id] = termsHash;
    }

    /// @dev Loads agreement `id`, reverting if it does not exist or `terms` are not its terms.
    function _load(uint256 id, Terms calldata terms) private view returns (AgreementState s) {
        s = _states[id];
        if (s.status() == Status.None) revert AgreementsUnknown(id);
        bytes32 stored = _termsHashes[id];
        bytes32 given = _hashCalldata(terms);
        if (given != stored) revert AgreementsTermsMismatch(id, stored, given);
    }

    function _expect(uint256 id, AgreementState s, Status expected) private pure {
        Status status = s.status();
        if (status != expected) revert AgreementsWrongStatus(id, status);
    }

    function _checkTag(uint256 id, AgreementState s, bytes32 batchId) private pure {
        if (s.batchTag() != AgreementStateLib.tagOf(batchId)) revert AgreementsNotTenderedBatch(id, batchId);
    }

    /// @dev `keccak256(abi.encode(terms))` without re-encoding: hashes the word 0x20 followed by the
    /// calldata bytes of `terms` (the 19-word head, the claims length, two words per claim). For
    /// canonically encoded terms these are exactly the bytes of `abi.encode(terms)`; any other encoding
    /// (another claims offset, dirty padding) hashes differently and fails the comparison with the
    /// stored hash, which `propose` computed with `abi.encode`. A match therefore means the decoder
    /// reads exactly the stored terms.
    function _hashCalldata(Terms calldata terms) private pure returns (bytes32 h) {
        uint256 size = _TERMS_HEAD + 0x20 + terms.requiredClaims.length * 0x40;
        // Memory-safe: writes only scratch memory at the free memory pointer, which is not moved and
        // holds nothing. `size` cannot overflow: the claims length was bounds-checked against calldata
        // size by the accessor above.
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, 0x20)
            calldatacopy(add(ptr, 0x20), terms, size)
            h := keccak256(ptr, add(size, 0x20))
        }
    }

    /// @dev Moves `toSupplier + toBuyer` (the escrow) into the two parties' credits; the caller has just
    /// moved the agreement to a terminal status, so this happens at most once per agreement.
    function _release(Terms calldata terms, uint256 toSupplier, uint256 toBuyer) private {
        address token = terms.token;
        if (toSupplier != 0) _credits[terms.supplier][token] += toSupplier;
        if (toBuyer != 0) _credits[terms.buyer][token] += toBuyer;
    }

    /// @dev Binds `batchId` in the registry, handing it to the tender point, and checks that it is the
    /// agreed product, unit and quantity.
    function _bind(Terms calldata terms, bytes32 batchId, IProvenanceRegistry.Leg calldata leg) private {
        address to = terms.carrier == address(0) ? terms.buyer : terms.carrier;
        (uint256 gtin, uint256 quantity, bytes3 uom) = _registry.bindDelivery(batchId, msg.sender, to, terms.buyer, leg);
        if (gtin != terms.gtin) revert AgreementsGtinMismatch(batchId, terms.gtin, gtin);
        if (uom != terms.uom) revert AgreementsUomMismatch(batchId, terms.uom, uom);
        if (!_withinTolerance(terms, quantity)) {
            revert AgreementsQuantityOutOfTolerance(batchId, terms.quantity, quantity);
        }
    }

    /// @dev Every required claim must be valid now on the batch or the named ancestor, from its attester.
    function _checkClaims(RequiredClaim[] calldata claims, bytes32 batchId, ClaimProof[] calldata proofs)
        private
        view
    {
        uint256 n = claims.length;
        if (proofs.length != n) revert AgreementsClaimCount(n, proofs.length);
        for (uint256 i; i < n; ++i) {
            RequiredClaim calldata c = claims[i];
            bytes32 subject = proofs[i].subject;
            // slither-disable-next-line calls-loop (at most MAX_CLAIMS views on the fixed registry)
            if (!_registry.isClaimValidFor(batchId, subject, c.claim, c.attester, proofs[i].evidence)) {
                revert AgreementsClaimInvalid(batchId, c.claim, c.attester, subject);
            }
        }
    }

    /// @dev Verifies one party's EIP-712 approval and uses up its nonce; `msg.sender` needs none.
    function _checkApproval(address party, bytes32 termsHash, Authorization calldata auth) private {
        if (party == msg.sender && auth.signature.length == 0) return;
        if (block.timestamp > auth.deadline) revert AgreementsSignatureExpired(party, auth.deadline);
        uint256 current = _useNonce(party);
        if (auth.nonce != current) revert AgreementsInvalidNonce(party, current, auth.nonce);
        bytes32 digest =
            _hashTypedDataV4(keccak256(abi.encode(_AGREEMENT_TYPEHASH, termsHash, auth.nonce, auth.deadline)));
        // ECDSA.tryRecover (used for accounts without code) rejects high-s signatures
        if (!Signatures.isValidNow(party, digest, auth.signature)) {
            revert AgreementsInvalidSignature(party);
        }
    }

    /// @dev `escrow = price + ⌈price × toleranceBps / 10_000⌉` (fits: checked at proposal).
    function _escrowOf(Terms calldata terms) private pure returns (uint256) {
        uint256 tolerance = terms.toleranceBps;
        if (tolerance == 0) return terms.price;
        return terms.price + Math.mulDiv(terms.price, tolerance, _BPS, Math.Rounding.Ceil);
    }

    /// @dev `|delivered − quantity| × 10_000 <= quantity × toleranceBps`.
    function _withinTolerance(Terms calldata terms, uint256 delivered) private pure returns (bool) {
        uint256 agreed = terms.quantity;
        if (agreed > type(uint48).max || delivered > type(uint48).max) return false;
        uint256 deviation = delivered > agreed ? delivered - agreed : agreed - delivered;
        // cannot overflow: both sides are below 2^48 * 2^16
        return deviation * _BPS <= agreed * terms.toleranceBps;
    }

    /// @dev payment = price × delivered / quantity (rounded down, at most the escrow for a delivery
    /// within tolerance); penalty = payment × min(daysLate × bpsPerDay, capBps) / 10_000 (rounded
    /// down, at most the payment since capBps <= 10_000). The supplier gets payment − penalty, the
    /// buyer the rest of the escrow.
    function _payout(Terms calldata terms, uint256 delivered, uint256 daysLate)
        private
        pure
        returns (uint256 toSupplier, uint256 toBuyer)
    {
        uint256 price = terms.price;
        // delivered < 2^48 (a batch quantity), so the plain product fits whenever price < 2^208
        uint256 payment = price < 1 << 208
            ? price * delivered / terms.quantity
            : Math.mulDiv(price, delivered, terms.quantity);
        uint256 rate = 0;
        if (daysLate != 0 && terms.penaltyBpsPerDay != 0) {
            // past 10_000 days any non-zero daily rate exceeds every valid cap
            rate = daysLate > _BPS ? terms.penaltyCapBps : daysLate * terms.penaltyBpsPerDay;
            if (rate > terms.penaltyCapBps) rate = terms.penaltyCapBps;
        }
        // rate <= 10_000 < 2^14: the plain product fits whenever payment < 2^242
        uint256 penalty = payment < 1 << 242 ? payment * rate / _BPS : Math.mulDiv(payment, rate, _BPS);
        toSupplier = payment - penalty;
        toBuyer = _escrowOf(terms) - toSupplier;
    }

    /// @dev Whole days from `deadline` to `at` (0 if on time).
    function _daysLate(uint64 deadline, uint256 at) private pure returns (uint256) {
        return at > deadline ? (at - deadline) / 1 days : 0;
    }

    function _now() private view returns (uint64) {
        return uint64(block.timestamp); // block timestamps fit uint64 for the next 5e11 years
    }
}
// slither-disable-end reentrancy-benign,reentrancy-events
// slither-disable-end timestamp,incorrect-equality
