// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

import {IProvenanceRegistry} from "./interfaces/IProvenanceRegistry.sol";

/// @title ProvenanceRegistry
/// @notice Custody, lineage, attestations and recalls of GS1-identified batches.
/// @dev Current state only, one storage slot per batch; the history lives in the events.
contract ProvenanceRegistry is IProvenanceRegistry, AccessControl, EIP712, Nonces {
    /// @notice Role of the contracts allowed to call `claimDelivery` (SupplyAgreements).
    bytes32 public constant SETTLER_ROLE = keccak256("SETTLER_ROLE");

    /// @notice EIP-712 type hash of `Handoff` with the signer's nonce and deadline.
    bytes32 public constant HANDOFF_TYPEHASH = keccak256(
        "Handoff(bytes32 batchId,address from,address to,uint64 location,uint8 bizStep,uint8 disposition,bool transferOwnership,bytes32 document,uint256 nonce,uint256 deadline)"
    );

    uint8 internal constant PRODUCER = 1;
    uint8 internal constant PROCESSOR = 2;
    uint8 internal constant CERTIFIER = 32;
    uint8 internal constant ALL_ROLES = 63;

    uint8 internal constant STATE_MASK = 0x03;
    uint8 internal constant ACTIVE = 1;
    uint8 internal constant CONSUMED = 2;
    uint8 internal constant RECALLED = 1 << 2;
    uint8 internal constant PENDING_OWNERSHIP = 1 << 3;
    uint8 internal constant DELIVERY_CLAIMED = 1 << 4;
    uint8 internal constant MULTI_PARENT = 1 << 5;

    uint8 internal constant KIND_SPLIT = 1;
    uint8 internal constant KIND_MERGE = 2;
    uint8 internal constant KIND_TRANSFORM = 3;

    uint256 internal constant GTIN_LIMIT = 1e14;
    uint256 internal constant GLN_LIMIT = 1e13;

    struct Participant {
        uint32 id;
        uint8 roles;
        bool active;
        uint64 gln;
    }

    /// @dev Exactly one slot: 4 * 32 + 8 + 24 + 48 + 48 = 256 bits.
    struct Batch {
        uint32 custodian;
        uint32 owner;
        uint32 pendingTo;
        uint32 creator;
        uint8 flags;
        bytes3 uom;
        uint48 gtin;
        uint48 quantity;
    }

    struct Attestation {
        uint64 validFrom;
        uint64 validUntil;
        uint64 revokedAt;
        uint32 issuerId;
    }

    mapping(address account => Participant) private _participants;
    mapping(uint32 id => address) private _accounts;
    uint32 private _count;

    mapping(bytes32 batchId => Batch) private _batches;
    mapping(bytes32 childId => bytes32) private _parentOf;
    mapping(bytes32 childId => bytes32[]) private _parentLists;
    mapping(bytes32 attestationId => Attestation) private _attestations;

    /// @notice The deployer becomes the operator (DEFAULT_ADMIN_ROLE).
    constructor() EIP712("ProvenanceRegistry", "1") {
        _grantRole(DEFAULT_ADMIN_ROLE, msg.sender);
    }

    // ----------------------------------------------------------- participants

    /// @inheritdoc IProvenanceRegistry
    function registerParticipant(address account, uint8 roles, uint64 gln, bytes32 metadataHash)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        if (account == address(0)) revert RegistryZeroAddress();
        if (_participants[account].id != 0) revert RegistryParticipantExists(account);
        _checkProfile(roles, gln);
        uint32 id = _count + 1; // checked: 2^32 participants cannot be registered anyway
        _count = id;
        _participants[account] = Participant({id: id, roles: roles, active: true, gln: gln});
        _accounts[id] = account;
        emit ParticipantRegistered(account, id, roles, gln, metadataHash, _now());
    }

    /// @inheritdoc IProvenanceRegistry
    function updateParticipant(address account, uint8 roles, uint64 gln, bytes32 metadataHash)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        Participant storage p = _registered(account);
        _checkProfile(roles, gln);
        p.roles = roles;
        p.gln = gln;
        emit ParticipantUpdated(account, roles, gln, metadataHash, _now());
    }

    /// @inheritdoc IProvenanceRegistry
    function suspendParticipant(address account, bytes32 reason) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Participant storage p = _registered(account);
        if (!p.active) revert RegistryParticipantInactive(account);
        p.active = false;
        emit ParticipantSuspended(account, reason, _now());
    }

    /// @inheritdoc IProvenanceRegistry
    function reinstateParticipant(address account) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Participant storage p = _registered(account);
        if (p.active) revert RegistryParticipantActive(account);
        p.active = true;
        emit ParticipantReinstated(account, _now());
    }

    // ---------------------------------------------------------------- batches

    /// @inheritdoc IProvenanceRegistry
    function createBatch(uint256 gtin, bytes32 lot, uint48 quantity, bytes3 uom, bytes32 document)
        external
        returns (bytes32 batchId)
    {
        uint32 id = _activeWithRole(msg.sender, PRODUCER);
        if (!_isValidGtin(gtin)) revert RegistryInvalidGtin(gtin);
        batchId = _newBatch(gtin, lot, quantity, uom, id, id, 0);
        emit BatchCreated(batchId, msg.sender, gtin, lot, quantity, uom, document, _now());
    }

    /// @inheritdoc IProvenanceRegistry
    function initiateHandoff(Handoff calldata h) external {
        if (msg.sender != h.from) revert RegistryCallerNotSender(h.from, msg.sender);
        uint32 fromId = _activeId(h.from);
        uint32 toId = _activeId(h.to);
        _initiate(h.batchId, fromId, toId, h.to, h.transferOwnership);
        emit HandoffInitiated(
            h.batchId, h.from, h.to, h.location, h.bizStep, h.disposition, h.transferOwnership, h.document, _now()
        );
    }

    /// @inheritdoc IProvenanceRegistry
    function initiateHandoffs(
        bytes32[] calldata batchIds,
        address to,
        uint64 location,
        uint8 bizStep,
        uint8 disposition,
        bool transferOwnership,
        bytes32 document
    ) external {
        if (batchIds.length == 0) revert RegistryInvalidInputCount(0);
        uint32 fromId = _activeId(msg.sender);
        uint32 toId = _activeId(to);
        uint64 timestamp = _now();
        for (uint256 i; i < batchIds.length; ++i) {
            // loop over calldata only
            _initiate(batchIds[i], fromId, toId, to, transferOwnership);
            emit HandoffInitiated(
                batchIds[i], msg.sender, to, location, bizStep, disposition, transferOwnership, document, timestamp
            );
        }
    }

    /// @inheritdoc IProvenanceRegistry
    function acceptHandoff(bytes32 batchId) external {
        uint32 toId = _activeId(msg.sender);
        _accept(batchId, toId);
    }

    /// @inheritdoc IProvenanceRegistry
    function acceptHandoffs(bytes32[] calldata batchIds) external {
        if (batchIds.length == 0) revert RegistryInvalidInputCount(0);
        uint32 toId = _activeId(msg.sender);
        for (uint256 i; i < batchIds.length; ++i) {
            // loop over calldata only
            _accept(batchIds[i], toId);
        }
    }

    /// @inheritdoc IProvenanceRegistry
    function rejectHandoff(bytes32 batchId, bytes32 reason) external {
        Batch storage b = _batches[batchId];
        uint32 pendingTo = b.pendingTo;
        if (pendingTo == 0) revert RegistryNoPendingHandoff(batchId);
        if (_participants[msg.sender].id != pendingTo) revert RegistryNotRecipient(batchId, msg.sender);
        uint32 custodian = b.custodian;
        b.pendingTo = 0;
        b.flags &= ~PENDING_OWNERSHIP;
        emit HandoffRejected(batchId, _accounts[custodian], msg.sender, reason, _now());
    }

    /// @inheritdoc IProvenanceRegistry
    function cancelHandoff(bytes32 batchId) external {
        Batch storage b = _batches[batchId];
        uint32 pendingTo = b.pendingTo;
        if (pendingTo == 0) revert RegistryNoPendingHandoff(batchId);
        if (_participants[msg.sender].id != b.custodian) revert RegistryNotCustodian(batchId, msg.sender);
        b.pendingTo = 0;
        b.flags &= ~PENDING_OWNERSHIP;
        emit HandoffCancelled(batchId, msg.sender, _accounts[pendingTo], _now());
    }

    /// @inheritdoc IProvenanceRegistry
    function recordHandoff(Handoff calldata h, Authorization calldata sender, Authorization calldata receiver)
        external
    {
        if (msg.sender != h.from || sender.signature.length != 0) _authorize(h, h.from, sender);
        if (msg.sender != h.to || receiver.signature.length != 0) _authorize(h, h.to, receiver);
        uint32 fromId = _activeId(h.from);
        uint32 toId = _activeId(h.to);
        Batch storage b = _batches[h.batchId];
        _initiate(h.batchId, fromId, toId, h.to, h.transferOwnership);
        uint64 timestamp = _now();
        emit HandoffInitiated(
            h.batchId, h.from, h.to, h.location, h.bizStep, h.disposition, h.transferOwnership, h.document, timestamp
        );
        b.custodian = toId;
        if (h.transferOwnership) b.owner = toId;
        b.pendingTo = 0;
        b.flags &= ~(PENDING_OWNERSHIP | DELIVERY_CLAIMED);
        emit HandoffAccepted(h.batchId, h.from, h.to, timestamp);
    }

    // ---------------------------------------------------------------- lineage

    /// @inheritdoc IProvenanceRegistry
    function splitBatch(bytes32 parentId, Part[] calldata parts, uint48 loss, bytes32 document)
        external
        returns (bytes32[] memory childIds)
    {
        uint256 n = parts.length;
        if (n == 0) revert RegistryInvalidInputCount(0);
        uint32 callerId = _activeId(msg.sender);
        uint256 parent = _consume(parentId, callerId);
        // child word: the parent's custodian (= caller), owner, uom and gtin; creator = caller,
        // flags = ACTIVE only, quantity filled in per child (pendingTo is already 0)
        uint256 template = (parent & ~(uint256(type(uint32).max) << 96 | uint256(type(uint8).max) << 128
                | uint256(type(uint48).max) << 208)) | (uint256(callerId) << 96) | (uint256(ACTIVE) << 128);
        uint256 total = loss;
        childIds = new bytes32[](n);
        for (uint256 i; i < n;) {
            // loop over calldata only
            bytes32 childLot;
            uint256 quantity;
            assembly ("memory-safe") {
                // safe: i < parts.length and a Part is two static words, so both loads lie inside
                // the calldata array whose bounds the ABI decoder already checked
                let part := add(parts.offset, shl(6, i))
                childLot := calldataload(part)
                quantity := calldataload(add(part, 0x20))
            }
            // the ABI decoder's uint48 range check, skipped by the raw load above
            if (quantity > type(uint48).max) revert RegistryQuantityMismatch(type(uint48).max, quantity);
            bytes32 childId = _newChild(template, childLot, uint48(quantity));
            _parentOf[childId] = parentId;
            childIds[i] = childId;
            total += quantity; // cannot overflow: at most calldata-length many uint48 values
            emit BatchSplit(childId, parentId, childLot, quantity);
            unchecked {
                ++i; // safe: i < n <= calldata length
            }
        }
        if (total != _quantityOf(parent)) revert RegistryQuantityMismatch(_quantityOf(parent), total);
        emit BatchConsumed(parentId, msg.sender, KIND_SPLIT, loss, document, _now());
    }

    /// @inheritdoc IProvenanceRegistry
    function mergeBatches(bytes32[] calldata parentIds, bytes32 lot, uint48 loss, bytes32 document)
        external
        returns (bytes32 childId)
    {
        uint256 n = parentIds.length;
        if (n < 2) revert RegistryInvalidInputCount(n);
        uint32 callerId = _activeId(msg.sender);
        uint64 timestamp = _now();
        uint256 first = _consume(parentIds[0], callerId);
        emit BatchConsumed(parentIds[0], msg.sender, KIND_MERGE, loss, document, timestamp);
        uint256 total = _quantityOf(first);
        // bits 32-63 owner, 136-207 uom and gtin must match between the merged batches
        uint256 sameMask = (uint256(type(uint32).max) << 32) | (uint256(type(uint72).max) << 136);
        for (uint256 i = 1; i < n; ++i) {
            // loop over calldata only; a repeated id fails in _consume (already CONSUMED)
            uint256 other = _consume(parentIds[i], callerId);
            if ((other ^ first) & sameMask != 0) revert RegistryIncompatibleBatches(parentIds[0], parentIds[i]);
            total += _quantityOf(other); // cannot overflow: calldata-length many uint48 values
            emit BatchConsumed(parentIds[i], msg.sender, KIND_MERGE, 0, document, timestamp);
        }
        if (total <= loss || total - loss > type(uint48).max) revert RegistryQuantityMismatch(total, loss);
        // total - loss fits uint48: checked just above
        childId = _newBatch(
            _gtinOf(first), lot, uint48(total - loss), _uomOf(first), callerId, _ownerOf(first), MULTI_PARENT
        );
        _parentLists[childId] = parentIds;
        emit BatchCreated(childId, msg.sender, _gtinOf(first), lot, total - loss, _uomOf(first), document, timestamp);
        for (uint256 i; i < n; ++i) {
            emit BatchDerived(childId, parentIds[i], KIND_MERGE);
        }
    }

    /// @inheritdoc IProvenanceRegistry
    function transformBatches(bytes32[] calldata inputIds, Output[] calldata outputs, bytes32 document)
        external
        returns (bytes32[] memory outputIds)
    {
        uint256 nIn = inputIds.length;
        uint256 nOut = outputs.length;
        if (nIn == 0) revert RegistryInvalidInputCount(0);
        if (nOut == 0) revert RegistryInvalidInputCount(0);
        uint32 callerId = _activeWithRole(msg.sender, PROCESSOR | PRODUCER);
        uint64 timestamp = _now();
        uint32 owner = _ownerOf(_consume(inputIds[0], callerId));
        emit BatchConsumed(inputIds[0], msg.sender, KIND_TRANSFORM, 0, document, timestamp);
        for (uint256 i = 1; i < nIn; ++i) {
            // loop over calldata only
            if (_ownerOf(_consume(inputIds[i], callerId)) != owner) {
                revert RegistryIncompatibleBatches(inputIds[0], inputIds[i]);
            }
            emit BatchConsumed(inputIds[i], msg.sender, KIND_TRANSFORM, 0, document, timestamp);
        }
        outputIds = new bytes32[](nOut);
        for (uint256 j; j < nOut; ++j) {
            // loop over calldata only
            outputIds[j] = _createOutput(outputs[j], inputIds, callerId, owner, document);
        }
    }

    function _createOutput(
        Output calldata o,
        bytes32[] calldata inputIds,
        uint32 callerId,
        uint32 owner,
        bytes32 document
    ) private returns (bytes32 outId) {
        if (!_isValidGtin(o.gtin)) revert RegistryInvalidGtin(o.gtin);
        outId = _newBatch(o.gtin, o.lot, o.quantity, o.uom, callerId, owner, MULTI_PARENT);
        _parentLists[outId] = inputIds;
        emit BatchCreated(outId, msg.sender, o.gtin, o.lot, o.quantity, o.uom, document, _now());
        for (uint256 i; i < inputIds.length; ++i) {
            // loop over calldata only
            emit BatchDerived(outId, inputIds[i], KIND_TRANSFORM);
        }
    }

    /// @inheritdoc IProvenanceRegistry
    function parentsOf(bytes32 batchId) external view returns (bytes32[] memory parents) {
        if (_batches[batchId].flags & MULTI_PARENT != 0) return _parentLists[batchId];
        bytes32 parent = _parentOf[batchId];
        parents = new bytes32[](parent == bytes32(0) ? 0 : 1);
        if (parent != bytes32(0)) parents[0] = parent;
    }

    // ----------------------------------------------------------- attestations

    /// @inheritdoc IProvenanceRegistry
    function attest(bytes32 subject, bytes32 claim, bytes32 evidence, uint64 validFrom, uint64 validUntil)
        external
        returns (bytes32 attestationId)
    {
        uint32 issuerId = _activeWithRole(msg.sender, CERTIFIER);
        if (validUntil < validFrom) revert RegistryInvalidValidity(validFrom, validUntil);
        attestationId = keccak256(abi.encode(subject, claim, msg.sender, evidence));
        Attestation storage a = _attestations[attestationId];
        if (a.issuerId != 0) revert RegistryAttestationExists(attestationId);
        a.validFrom = validFrom;
        a.validUntil = validUntil;
        a.issuerId = issuerId;
        emit AttestationIssued(subject, claim, msg.sender, attestationId, evidence, validFrom, validUntil, _now());
    }

    /// @inheritdoc IProvenanceRegistry
    function revokeAttestation(bytes32 subject, bytes32 claim, bytes32 evidence, bytes32 reason) external {
        bytes32 attestationId = keccak256(abi.encode(subject, claim, msg.sender, evidence));
        Attestation storage a = _attestations[attestationId];
        if (a.issuerId == 0) revert RegistryUnknownAttestation(attestationId);
        if (a.revokedAt != 0) revert RegistryAttestationRevoked(attestationId);
        uint64 timestamp = _now();
        a.revokedAt = timestamp;
        emit AttestationRevoked(subject, claim, msg.sender, attestationId, reason, timestamp);
    }

    /// @inheritdoc IProvenanceRegistry
    function isAttestationValid(bytes32 subject, bytes32 claim, address issuer, bytes32 evidence, uint64 at)
        external
        view
        returns (bool valid)
    {
        Attestation memory a = _attestations[keccak256(abi.encode(subject, claim, issuer, evidence))];
        return a.issuerId != 0 && a.validFrom <= at && at <= a.validUntil && (a.revokedAt == 0 || a.revokedAt > at);
    }

    // ---------------------------------------------------------------- recalls

    /// @inheritdoc IProvenanceRegistry
    function recallBatch(bytes32 batchId, bytes32 reason) external {
        Batch storage b = _batches[batchId];
        uint8 flags = b.flags;
        if (flags & STATE_MASK == 0) revert RegistryUnknownBatch(batchId);
        if (flags & RECALLED != 0) revert RegistryBatchRecalled(batchId);
        if (_participants[msg.sender].id != b.creator && !hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) {
            revert RegistryNotRecaller(batchId, msg.sender);
        }
        b.flags = flags | RECALLED;
        emit BatchRecalled(batchId, msg.sender, reason, _now());
    }

    // ------------------------------------------------------------- settlement

    /// @inheritdoc IProvenanceRegistry
    function claimDelivery(bytes32 batchId, address recipient)
        external
        onlyRole(SETTLER_ROLE)
        returns (uint256 gtin, uint256 quantity, bytes3 uom)
    {
        Batch memory m = _batches[batchId];
        _checkMovable(batchId, m);
        if (_participants[recipient].id != m.custodian) revert RegistryNotCustodian(batchId, recipient);
        if (m.flags & DELIVERY_CLAIMED != 0) revert RegistryDeliveryAlreadyClaimed(batchId);
        m.flags |= DELIVERY_CLAIMED;
        m.owner = m.custodian; // the buyer paid: title passes to it
        _batches[batchId] = m;
        emit DeliveryClaimed(batchId, recipient, msg.sender, _now());
        return (m.gtin, m.quantity, m.uom);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IProvenanceRegistry
    function getBatch(bytes32 batchId) external view returns (BatchInfo memory info) {
        Batch memory b = _batches[batchId];
        info = BatchInfo({
            custodian: _accounts[b.custodian],
            owner: _accounts[b.owner],
            pendingTo: _accounts[b.pendingTo],
            creator: _accounts[b.creator],
            state: b.flags & STATE_MASK,
            recalled: b.flags & RECALLED != 0,
            flags: b.flags,
            gtin: b.gtin,
            quantity: b.quantity,
            uom: b.uom
        });
    }

    /// @inheritdoc IProvenanceRegistry
    function getParticipant(address account) external view returns (ParticipantInfo memory info) {
        Participant memory p = _participants[account];
        info = ParticipantInfo({id: p.id, roles: p.roles, active: p.active, gln: p.gln});
    }

    /// @inheritdoc IProvenanceRegistry
    function participantAt(uint32 id) external view returns (address account) {
        return _accounts[id];
    }

    /// @inheritdoc IProvenanceRegistry
    function nonces(address owner) public view override(IProvenanceRegistry, Nonces) returns (uint256) {
        return super.nonces(owner);
    }

    /// @inheritdoc IProvenanceRegistry
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc IProvenanceRegistry
    function batchIdOf(uint256 gtin, bytes32 lot) public pure returns (bytes32 batchId) {
        assembly ("memory-safe") {
            // safe: hashes abi.encode(gtin, lot) in the scratch space (0x00-0x3f), which Solidity
            // reserves for exactly this kind of short-lived hashing
            mstore(0x00, gtin)
            mstore(0x20, lot)
            batchId := keccak256(0x00, 0x40)
        }
    }

    // --------------------------------------------------------------- internal

    function _initiate(bytes32 batchId, uint32 fromId, uint32 toId, address to, bool transferOwnership) private {
        Batch storage b = _batches[batchId];
        Batch memory m = b;
        _checkMovable(batchId, m);
        if (m.custodian != fromId) revert RegistryNotCustodian(batchId, _accounts[fromId]);
        if (toId == fromId) revert RegistrySelfHandoff(batchId, to);
        if (transferOwnership) {
            if (m.owner != fromId) revert RegistryNotOwner(batchId, _accounts[fromId]);
            b.flags = m.flags | PENDING_OWNERSHIP;
        }
        b.pendingTo = toId;
    }

    function _accept(bytes32 batchId, uint32 toId) private {
        Batch storage b = _batches[batchId];
        Batch memory m = b;
        if (m.pendingTo == 0) revert RegistryNoPendingHandoff(batchId);
        if (m.pendingTo != toId) revert RegistryNotRecipient(batchId, msg.sender);
        if (m.flags & RECALLED != 0) revert RegistryBatchRecalled(batchId);
        b.custodian = toId;
        if (m.flags & PENDING_OWNERSHIP != 0) b.owner = toId;
        b.pendingTo = 0;
        b.flags = m.flags & ~(PENDING_OWNERSHIP | DELIVERY_CLAIMED);
        emit HandoffAccepted(batchId, _accounts[m.custodian], msg.sender, _now());
    }

    /// @dev Checks that `callerId` may consume `batchId` and marks it CONSUMED; returns the batch's
    /// packed slot as it was before (decode with `_gtinOf`, `_uomOf`, `_ownerOf`, `_quantityOf`).
    function _consume(bytes32 batchId, uint32 callerId) private returns (uint256 word) {
        Batch storage b = _batches[batchId];
        assembly ("memory-safe") {
            // safe: reads the one slot of _batches[batchId] (layout documented in _newBatch)
            word := sload(b.slot)
        }
        uint8 flags = uint8(word >> 128);
        uint8 state = flags & STATE_MASK;
        if (state == 0) revert RegistryUnknownBatch(batchId);
        if (state != ACTIVE) revert RegistryBatchNotActive(batchId, state);
        if (flags & RECALLED != 0) revert RegistryBatchRecalled(batchId);
        uint32 pendingTo = uint32(word >> 64);
        if (pendingTo != 0) revert RegistryHandoffPending(batchId, _accounts[pendingTo]);
        if (uint32(word) != callerId) revert RegistryNotCustodian(batchId, msg.sender);
        // state bits 128-129 go from ACTIVE (01) to CONSUMED (10); nothing else changes
        uint256 consumed = word ^ (uint256(ACTIVE | CONSUMED) << 128);
        assembly ("memory-safe") {
            // safe: writes back the same slot with only the state bits changed
            sstore(b.slot, consumed)
        }
    }

    function _ownerOf(uint256 word) private pure returns (uint32) {
        return uint32(word >> 32);
    }

    function _uomOf(uint256 word) private pure returns (bytes3) {
        return bytes3(uint24(word >> 136));
    }

    function _gtinOf(uint256 word) private pure returns (uint48) {
        return uint48(word >> 160);
    }

    function _quantityOf(uint256 word) private pure returns (uint48) {
        return uint48(word >> 208);
    }

    function _checkMovable(bytes32 batchId, Batch memory m) private view {
        uint8 state = m.flags & STATE_MASK;
        if (state == 0) revert RegistryUnknownBatch(batchId);
        if (state != ACTIVE) revert RegistryBatchNotActive(batchId, state);
        if (m.flags & RECALLED != 0) revert RegistryBatchRecalled(batchId);
        if (m.pendingTo != 0) revert RegistryHandoffPending(batchId, _accounts[m.pendingTo]);
    }

    /// @dev Writes a split child: `template` is a complete packed Batch without quantity.
    function _newChild(uint256 template, bytes32 lot, uint48 quantity) private returns (bytes32 childId) {
        if (uint256(lot) >> 248 == 0 || uint256(lot) & type(uint96).max != 0) revert RegistryInvalidLot(lot);
        if (quantity == 0) revert RegistryZeroQuantity();
        uint256 word = template | (uint256(quantity) << 208);
        bool exists;
        assembly ("memory-safe") {
            // safe: scratch-space hashing only. childId = keccak256(abi.encode(gtin, lot)); the slot
            // of _batches[childId] = keccak256(abi.encode(childId, _batches.slot)) as Solidity
            // computes it; a non-zero word there is an existing batch; else `word` (a complete
            // Batch, layout in _newBatch) is stored
            mstore(0x00, and(shr(160, template), 0xffffffffffff))
            mstore(0x20, lot)
            childId := keccak256(0x00, 0x40)
            mstore(0x00, childId)
            mstore(0x20, _batches.slot)
            let slot := keccak256(0x00, 0x40)
            exists := iszero(iszero(sload(slot)))
            if iszero(exists) { sstore(slot, word) }
        }
        if (exists) revert RegistryBatchExists(childId);
    }

    /// @dev Writes a new ACTIVE batch in one SSTORE. `gtin` must already be validated (< 2^48).
    function _newBatch(
        uint256 gtin,
        bytes32 lot,
        uint48 quantity,
        bytes3 uom,
        uint32 custodian,
        uint32 owner,
        uint8 extraFlags
    ) private returns (bytes32 batchId) {
        // left-aligned, 1..20 bytes: first byte set, last 12 bytes clear
        if (uint256(lot) >> 248 == 0 || uint256(lot) & type(uint96).max != 0) revert RegistryInvalidLot(lot);
        if (quantity == 0) revert RegistryZeroQuantity();
        if (uom == bytes3(0)) revert RegistryInvalidUom(uom);
        batchId = batchIdOf(gtin, lot);
        Batch storage b = _batches[batchId];
        uint256 existing;
        assembly ("memory-safe") {
            // safe: reads the one slot of _batches[batchId]; any non-zero word is an existing batch
            existing := sload(b.slot)
        }
        if (existing != 0) revert RegistryBatchExists(batchId);
        // The packed word follows the `Batch` layout (low to high bits): custodian 0, owner 32,
        // pendingTo 64 (zero), creator 96, flags 128, uom 136, gtin 160, quantity 208. Every value is
        // masked to its width (gtin < 1e14 < 2^48 is checked by the callers), so no field bleeds
        // into another. One SSTORE instead of one read-modify-write per field.
        uint256 word = uint256(custodian) | (uint256(owner) << 32) | (uint256(custodian) << 96)
            | (uint256(ACTIVE | extraFlags) << 128) | (uint256(uint24(uom)) << 136)
            | (uint256(uint48(gtin)) << 160) | (uint256(quantity) << 208);
        assembly ("memory-safe") {
            // safe: `b` is the storage slot of _batches[batchId]; `word` is a complete Batch
            sstore(b.slot, word)
        }
    }

    /// @dev Verifies `auth` as `signer`'s EIP-712 consent to `h` and consumes its nonce.
    function _authorize(Handoff calldata h, address signer, Authorization calldata auth) private {
        bytes calldata sig = auth.signature;
        if (sig.length != 65) revert RegistryInvalidSignature(signer);
        if (block.timestamp > auth.deadline) revert RegistrySignatureExpired(signer, auth.deadline);
        uint256 current = _useNonce(signer);
        if (auth.nonce != current) revert RegistryInvalidNonce(signer, current, auth.nonce);
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(HANDOFF_TYPEHASH, h, auth.nonce, auth.deadline)));
        // ECDSA.tryRecover rejects high-s signatures and returns address(0) on failure
        (address recovered, ECDSA.RecoverError err,) =
            ECDSA.tryRecover(digest, uint8(sig[64]), bytes32(sig[0:32]), bytes32(sig[32:64]));
        if (err != ECDSA.RecoverError.NoError || recovered != signer) revert RegistryInvalidSignature(signer);
    }

    function _registered(address account) private view returns (Participant storage p) {
        p = _participants[account];
        if (p.id == 0) revert RegistryUnknownParticipant(account);
    }

    function _activeId(address account) private view returns (uint32) {
        return _activeWithRole(account, 0);
    }

    /// @dev The participant id of `account`, which must be registered, active and (unless `roles`
    /// is 0) hold one of `roles`.
    function _activeWithRole(address account, uint8 roles) private view returns (uint32 id) {
        Participant storage p = _participants[account];
        uint256 word;
        assembly ("memory-safe") {
            // safe: reads the one slot of _participants[account]; layout id 0-31, roles 32-39,
            // active 40-47, gln 48-111
            word := sload(p.slot)
        }
        id = uint32(word);
        if (id == 0) revert RegistryUnknownParticipant(account);
        if (uint8(word >> 40) == 0) revert RegistryParticipantInactive(account);
        if (roles != 0 && uint8(word >> 32) & roles == 0) revert RegistryMissingRole(account, roles);
    }

    function _checkProfile(uint8 roles, uint64 gln) private pure {
        if (roles == 0 || roles & ~ALL_ROLES != 0) revert RegistryInvalidRoles(roles);
        if (gln >= GLN_LIMIT) revert RegistryInvalidGln(gln);
    }

    /// @dev GS1 mod-10: from the right, the digits before the check digit weigh 3, 1, 3, ...
    function _isValidGtin(uint256 gtin) private pure returns (bool) {
        if (gtin == 0 || gtin >= GTIN_LIMIT) return false;
        uint256 rest = gtin / 10;
        uint256 sum;
        // safe: 13 digits, each weighted at most 3, sum <= 351; divisions cannot underflow
        unchecked {
            for (uint256 i; i < 13; ++i) {
                uint256 digit = rest % 10;
                sum += (i % 2 == 0) ? digit * 3 : digit;
                rest /= 10;
            }
            return (10 - (sum % 10)) % 10 == gtin % 10;
        }
    }

    function _now() private view returns (uint64) {
        return uint64(block.timestamp); // block timestamps fit uint64 for the next 5e11 years
    }
}
