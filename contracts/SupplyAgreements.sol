// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

import {IProvenanceRegistry} from "./interfaces/IProvenanceRegistry.sol";
import {ISupplyAgreements} from "./interfaces/ISupplyAgreements.sol";

/// @title SupplyAgreements
/// @notice Escrowed supplier agreements settled by custody proofs from the ProvenanceRegistry.
/// @dev No admin, owner or upgrade path: funds move only through the agreement transitions and
/// `withdraw`. Payments are pulled: every payout is a credit in `_credits[account][token]`.
/// State-changing functions update storage before any external call (checks-effects-interactions);
/// the only calls are to the fixed registry, to the agreement's token in `fund`, and the payout in
/// `withdraw`, which is also `nonReentrant`.
contract SupplyAgreements is ISupplyAgreements, ReentrancyGuard, EIP712, Nonces {
    using SafeERC20 for IERC20;

    /// @notice Maximum number of required attestation claims per agreement (bounds the check loop).
    uint256 public constant MAX_CLAIMS = 8;

    /// @dev CERTIFIER role bit in the registry's participant roles.
    uint8 private constant _CERTIFIER = 32;

    /// @dev EIP-712 type approved by each party in `proposeSigned`.
    bytes32 private constant _AGREEMENT_TYPEHASH =
        keccak256("Agreement(bytes32 termsHash,uint256 nonce,uint256 deadline)");

    /// @dev Everything stored for one agreement, packed into one slot (low to high bits):
    /// `status` (8) | `proposedByBuyer` (8) | `disputedAt` (40) | `termsHash` (200). `termsHash` is
    /// the high 25 bytes of `keccak256(abi.encode(terms))`: a caller passing other terms with the
    /// same 200-bit prefix needs a second preimage (~2**200 work) and even a party choosing both
    /// sets of terms needs a collision (~2**100 work). `disputedAt` is a Unix time in seconds
    /// (40 bits last until the year 36812).
    struct State {
        Status status;
        bool proposedByBuyer;
        uint40 disputedAt;
        bytes25 termsHash;
    }

    IProvenanceRegistry private immutable _registry;

    uint256 private _count;
    mapping(uint256 id => State) private _states;
    mapping(address account => mapping(address token => uint256)) private _credits;

    /// @param registry_ The ProvenanceRegistry that proves delivery (this contract needs its SETTLER_ROLE).
    constructor(IProvenanceRegistry registry_) EIP712("SupplyAgreements", "1") {
        _registry = registry_;
    }

    // ------------------------------------------------------------ lifecycle

    /// @inheritdoc ISupplyAgreements
    function propose(Terms calldata terms) external returns (uint256 id) {
        if (msg.sender != terms.buyer && msg.sender != terms.supplier) revert AgreementsNotParty(0, msg.sender);
        bytes32 termsHash = _validate(terms);
        id = _create(termsHash, Status.Proposed, msg.sender == terms.buyer);
        emit AgreementProposed(id, terms.buyer, terms.supplier, terms, msg.sender, uint64(block.timestamp));
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
        uint64 at = uint64(block.timestamp);
        emit AgreementProposed(id, terms.buyer, terms.supplier, terms, msg.sender, at);
        emit AgreementAccepted(id, msg.sender, at);
    }

    /// @inheritdoc ISupplyAgreements
    function accept(uint256 id, Terms calldata terms) external {
        (State storage s, Status status) = _load(id, terms);
        if (status != Status.Proposed) revert AgreementsWrongStatus(id, status);
        if (msg.sender != (s.proposedByBuyer ? terms.supplier : terms.buyer)) {
            revert AgreementsNotCounterparty(id, msg.sender);
        }
        s.status = Status.Accepted;
        emit AgreementAccepted(id, msg.sender, uint64(block.timestamp));
    }

    /// @inheritdoc ISupplyAgreements
    function cancel(uint256 id, Terms calldata terms) external {
        (State storage s, Status status) = _load(id, terms);
        if (status != Status.Proposed && status != Status.Accepted) revert AgreementsWrongStatus(id, status);
        if (msg.sender != terms.buyer && msg.sender != terms.supplier) revert AgreementsNotParty(id, msg.sender);
        s.status = Status.Cancelled;
        emit AgreementCancelled(id, msg.sender, uint64(block.timestamp));
    }

    /// @inheritdoc ISupplyAgreements
    function fund(uint256 id, Terms calldata terms) external payable {
        (State storage s, Status status) = _load(id, terms);
        if (status != Status.Accepted) revert AgreementsWrongStatus(id, status);
        if (msg.sender != terms.buyer) revert AgreementsNotBuyer(id, msg.sender);
        address token = terms.token;
        uint256 price = terms.price;
        uint256 expectedValue = token == address(0) ? price : 0;
        if (msg.value != expectedValue) revert AgreementsWrongValue(id, expectedValue, msg.value);
        // Effects before the token call: a re-entrant `fund` finds the agreement already Funded.
        s.status = Status.Funded;
        if (token != address(0)) {
            uint256 before = IERC20(token).balanceOf(address(this));
            IERC20(token).safeTransferFrom(msg.sender, address(this), price);
            uint256 received = IERC20(token).balanceOf(address(this)) - before;
            if (received != price) revert AgreementsTransferMismatch(token, price, received);
        }
        emit AgreementFunded(id, token, price, uint64(block.timestamp));
    }

    /// @inheritdoc ISupplyAgreements
    function claimDelivery(uint256 id, Terms calldata terms, bytes32 batchId, AttestationRef[] calldata refs)
        external
    {
        (State storage s, Status status) = _load(id, terms);
        if (status != Status.Funded) revert AgreementsWrongStatus(id, status);

        uint256 daysLate;
        if (block.timestamp > terms.deliveryDeadline) {
            // Cannot underflow: checked just above.
            unchecked {
                daysLate = (block.timestamp - terms.deliveryDeadline) / 1 days;
            }
        }
        uint256 price = terms.price;
        uint256 penalty = _penalty(price, terms.penaltyBpsPerDay, terms.penaltyCapBps, daysLate);
        uint256 supplierAmount;
        // Cannot underflow: `_penalty` is at most `penaltyCapBps <= 10_000` basis points of `price`.
        unchecked {
            supplierAmount = price - penalty;
        }

        // Effects first; every check against the registry below reverts the whole transaction.
        s.status = Status.Settled;
        _release(terms, supplierAmount, penalty);

        (uint256 gtin, uint256 quantity, bytes3 uom) = _registry.claimDelivery(batchId, terms.buyer);
        if (gtin != terms.gtin) revert AgreementsGtinMismatch(batchId, terms.gtin, gtin);
        if (uom != terms.uom) revert AgreementsUomMismatch(batchId, terms.uom, uom);
        if (quantity < terms.quantity) revert AgreementsQuantityTooSmall(batchId, terms.quantity, quantity);
        _checkAttestations(terms.requiredClaims, batchId, refs);

        emit DeliverySettled(id, batchId, supplierAmount, penalty, daysLate, uint64(block.timestamp));
    }

    /// @inheritdoc ISupplyAgreements
    function reclaim(uint256 id, Terms calldata terms) external {
        (State storage s, Status status) = _load(id, terms);
        if (status != Status.Funded) revert AgreementsWrongStatus(id, status);
        if (msg.sender != terms.buyer) revert AgreementsNotBuyer(id, msg.sender);
        uint256 refundableAfter = uint256(terms.deliveryDeadline) + terms.gracePeriod;
        if (block.timestamp <= refundableAfter) revert AgreementsNotRefundableYet(id, refundableAfter, block.timestamp);
        s.status = Status.Refunded;
        _release(terms, 0, terms.price);
        emit AgreementRefunded(id, terms.price, uint64(block.timestamp));
    }

    /// @inheritdoc ISupplyAgreements
    function dispute(uint256 id, Terms calldata terms, bytes32 reason) external {
        (State storage s, Status status) = _load(id, terms);
        if (status != Status.Funded) revert AgreementsWrongStatus(id, status);
        if (msg.sender != terms.buyer && msg.sender != terms.supplier) revert AgreementsNotParty(id, msg.sender);
        uint256 closedAt = uint256(terms.deliveryDeadline) + terms.gracePeriod;
        if (block.timestamp > closedAt) revert AgreementsDisputeWindowClosed(id, closedAt, block.timestamp);
        s.status = Status.Disputed;
        // Cannot truncate before the year 36812 (block timestamps are Unix seconds).
        s.disputedAt = uint40(block.timestamp);
        emit DisputeRaised(id, msg.sender, reason, uint64(block.timestamp));
    }

    /// @inheritdoc ISupplyAgreements
    function resolve(uint256 id, Terms calldata terms, uint256 supplierAmount) external {
        (State storage s, Status status) = _load(id, terms);
        if (status != Status.Disputed) revert AgreementsWrongStatus(id, status);
        if (msg.sender != terms.arbiter) revert AgreementsNotArbiter(id, msg.sender);
        uint256 price = terms.price;
        if (supplierAmount > price) revert AgreementsAwardTooHigh(id, supplierAmount, price);
        uint256 buyerAmount;
        // Cannot underflow: checked just above.
        unchecked {
            buyerAmount = price - supplierAmount;
        }
        s.status = Status.Resolved;
        _release(terms, supplierAmount, buyerAmount);
        emit DisputeResolved(id, supplierAmount, buyerAmount, false, uint64(block.timestamp));
    }

    /// @inheritdoc ISupplyAgreements
    function resolveByDefault(uint256 id, Terms calldata terms) external {
        (State storage s, Status status) = _load(id, terms);
        if (status != Status.Disputed) revert AgreementsWrongStatus(id, status);
        uint256 defaultAfter = uint256(s.disputedAt) + terms.arbiterTimeout;
        if (block.timestamp <= defaultAfter) revert AgreementsArbiterTimeoutPending(id, defaultAfter, block.timestamp);
        s.status = Status.Resolved;
        _release(terms, 0, terms.price);
        emit DisputeResolved(id, 0, terms.price, true, uint64(block.timestamp));
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

    // ---------------------------------------------------------------- views

    /// @inheritdoc ISupplyAgreements
    function creditOf(address account, address token) external view returns (uint256) {
        return _credits[account][token];
    }

    /// @inheritdoc ISupplyAgreements
    function statusOf(uint256 id) external view returns (Status) {
        return _states[id].status;
    }

    /// @inheritdoc ISupplyAgreements
    function termsHashOf(uint256 id) external view returns (bytes25) {
        return _states[id].termsHash;
    }

    /// @inheritdoc ISupplyAgreements
    function disputedAtOf(uint256 id) external view returns (uint64) {
        return _states[id].disputedAt;
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
    function penaltyFor(Terms calldata terms, uint256 daysLate) external pure returns (uint256) {
        // `_penalty` relies on the cap that `propose` enforces; these terms were never validated.
        if (terms.penaltyCapBps > 10_000) revert AgreementsInvalidPenalty(terms.penaltyBpsPerDay, terms.penaltyCapBps);
        return _penalty(terms.price, terms.penaltyBpsPerDay, terms.penaltyCapBps, daysLate);
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
        if (
            buyer == address(0) || supplier == address(0) || arbiter == address(0) || buyer == supplier
                || arbiter == buyer || arbiter == supplier
        ) revert AgreementsInvalidParties(buyer, supplier, arbiter);
        if (terms.price == 0 || terms.quantity == 0) revert AgreementsInvalidAmounts(terms.price, terms.quantity);
        if (terms.penaltyCapBps > 10_000) revert AgreementsInvalidPenalty(terms.penaltyBpsPerDay, terms.penaltyCapBps);
        if (terms.deliveryDeadline <= block.timestamp) {
            revert AgreementsDeadlineInPast(terms.deliveryDeadline, uint64(block.timestamp));
        }
        if (terms.arbiterTimeout == 0) revert AgreementsInvalidArbiterTimeout(terms.arbiterTimeout);
        if (terms.requiredClaims.length > MAX_CLAIMS) revert AgreementsTooManyClaims(terms.requiredClaims.length, MAX_CLAIMS);
        return keccak256(abi.encode(terms));
    }

    /// @dev Stores a new agreement and returns its id.
    function _create(bytes32 termsHash, Status status, bool proposedByBuyer) private returns (uint256 id) {
        // Cannot overflow: one id per transaction, 2**256 transactions will never happen.
        unchecked {
            id = ++_count;
        }
        _states[id] = State(status, proposedByBuyer, 0, bytes25(termsHash));
    }

    /// @dev Loads agreement `id`, reverting if it does not exist or `terms` are not its terms.
    function _load(uint256 id, Terms calldata terms) private view returns (State storage s, Status status) {
        s = _states[id];
        status = s.status;
        if (status == Status.None) revert AgreementsUnknown(id);
        bytes25 given = bytes25(_hashCalldata(terms));
        if (given != s.termsHash) revert AgreementsTermsMismatch(id, s.termsHash, given);
    }

    /// @dev `keccak256(abi.encode(terms))` without re-encoding: hashes the word 0x20 followed by the
    /// calldata bytes of `terms` (16 head words, the claims length, the claims). For canonically
    /// encoded terms these are exactly the bytes of `abi.encode(terms)`; any other encoding (another
    /// claims offset, dirty padding) hashes differently and fails the comparison with the stored
    /// hash, which `propose` computed with `abi.encode`.
    function _hashCalldata(Terms calldata terms) private pure returns (bytes32 h) {
        uint256 size = 0x220 + terms.requiredClaims.length * 32;
        // Memory-safe: writes only scratch memory at the free memory pointer, which is not moved and
        // holds nothing. `size` cannot overflow: the claims length was bounds-checked against
        // calldata size by the accessor above.
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, 0x20)
            calldatacopy(add(ptr, 0x20), terms, size)
            h := keccak256(ptr, add(size, 0x20))
        }
    }

    /// @dev Moves the escrowed `price` into the two parties' credits (`toSupplier + toBuyer == price`);
    /// the caller has just moved the agreement from Funded/Disputed to a terminal status, so this
    /// happens at most once per agreement.
    function _release(Terms calldata terms, uint256 toSupplier, uint256 toBuyer) private {
        address token = terms.token;
        if (toSupplier != 0) _credits[terms.supplier][token] += toSupplier;
        if (toBuyer != 0) _credits[terms.buyer][token] += toBuyer;
    }

    /// @dev Every required claim must be attested for the batch, valid now, by an active certifier.
    function _checkAttestations(bytes32[] calldata claims, bytes32 batchId, AttestationRef[] calldata refs)
        private
        view
    {
        uint256 n = claims.length;
        if (refs.length != n) revert AgreementsAttestationCount(n, refs.length);
        for (uint256 i; i < n; ++i) {
            AttestationRef calldata ref = refs[i];
            IProvenanceRegistry.ParticipantInfo memory issuer = _registry.getParticipant(ref.issuer);
            if (
                !issuer.active || issuer.roles & _CERTIFIER == 0
                    || !_registry.isAttestationValid(batchId, claims[i], ref.issuer, ref.evidence, uint64(block.timestamp))
            ) revert AgreementsAttestationInvalid(batchId, claims[i], ref.issuer, ref.evidence);
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
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, auth.signature);
        if (err != ECDSA.RecoverError.NoError || recovered != party) revert AgreementsInvalidSignature(party, recovered);
    }

    /// @dev `price × min(daysLate × bpsPerDay, capBps) / 10_000`, rounded down, exact for any price.
    /// Requires `capBps <= 10_000` (every caller checks it or has stored terms that `propose` checked).
    function _penalty(uint256 price, uint256 bpsPerDay, uint256 capBps, uint256 daysLate)
        private
        pure
        returns (uint256)
    {
        if (daysLate == 0 || bpsPerDay == 0) return 0;
        // Cannot overflow: past 10_000 days any non-zero daily rate exceeds every valid cap; below
        // that the product is < 10_001 * 2**16. Then `rate <= capBps <= 10_000` (checked at
        // proposal), so `(price / 10_000) * rate <= price`, `(price % 10_000) * rate < 10**8`, and
        // their sum is at most `price * rate / 10_000 <= price`.
        unchecked {
            uint256 rate = daysLate > 10_000 ? capBps : daysLate * bpsPerDay;
            if (rate > capBps) rate = capBps;
            // price = q * 10_000 + r, so price * rate / 10_000 = q * rate + r * rate / 10_000 exactly,
            // without the overflow of price * rate for prices near 2**256.
            return (price / 10_000) * rate + ((price % 10_000) * rate) / 10_000;
        }
    }
}
