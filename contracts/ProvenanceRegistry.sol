// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

import {IProvenanceRegistry} from "./interfaces/IProvenanceRegistry.sol";
import {SupplyAgreements} from "./SupplyAgreements.sol";
import {Derivations} from "./libraries/Derivations.sol";
import {Membership} from "./libraries/Membership.sol";
import {Attestation, Participant, RegistryCore, RegistryState} from "./libraries/RegistryCore.sol";
import {BatchState, BatchWord, BatchWordLib} from "./types/BatchWord.sol";
import {LineageLib} from "./types/Lineage.sol";
import {Signatures} from "./utils/Signatures.sol";

/// @title ProvenanceRegistry
/// @notice Custody, title, lineage, attestations and recalls of GS1-identified batches.
/// @dev Current state only; the history lives in the events. One slot per batch (`BatchWord`), one or
/// two more per derived batch (its `LineageSet`), all in one `RegistryState`. The operator's actions
/// on participants and prefixes (`Membership`) and splits, merges and transformations (`Derivations`)
/// are linked libraries running on that state. The operator is `DEFAULT_ADMIN_ROLE`, handed over in two
/// steps with a delay (OpenZeppelin `AccessControlDefaultAdminRules`); its powers are listed in
/// docs/design.md and none of them moves escrow. The settlement contract is created here, once.
contract ProvenanceRegistry is IProvenanceRegistry, AccessControlDefaultAdminRules, EIP712, Nonces {
    using RegistryCore for RegistryState;

    /// @notice EIP-712 type hash of `Handoff` with the signer's nonce and deadline.
    bytes32 public constant HANDOFF_TYPEHASH = keccak256(
        "Handoff(bytes32 batchId,address from,address to,uint64 location,uint8 bizStep,uint8 disposition,bool transferOwnership,bytes32 document,uint256 nonce,uint256 deadline)"
    );

    /// @notice The most ancestors a batch carries (see `LineageLib`).
    uint256 public constant MAX_LINEAGE = LineageLib.MAX;

    address private immutable _settlement;
    RegistryState private _s;

    modifier onlySettlement() {
        if (msg.sender != _settlement) revert RegistryNotSettlement(msg.sender);
        _;
    }

    /// @param initialAdminDelay Seconds an operator hand-over waits between its two steps.
    /// @param initialAdmin The operator (DEFAULT_ADMIN_ROLE).
    constructor(uint48 initialAdminDelay, address initialAdmin)
        AccessControlDefaultAdminRules(initialAdminDelay, initialAdmin)
        EIP712("ProvenanceRegistry", "2")
    {
        _settlement = address(new SupplyAgreements());
    }

    // ----------------------------------------------------------- participants

    /// @inheritdoc IProvenanceRegistry
    function registerParticipant(address account, uint8 roles, uint64 gln, bytes32 metadataHash)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        Membership.register(_s, account, roles, gln, metadataHash);
    }

    /// @inheritdoc IProvenanceRegistry
    function updateParticipant(address account, uint8 roles, uint64 gln, bytes32 metadataHash)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        Membership.update(_s, account, roles, gln, metadataHash);
    }

    /// @inheritdoc IProvenanceRegistry
    function suspendParticipant(address account, bytes32 reason) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Membership.setActive(_s, account, false, reason);
    }

    /// @inheritdoc IProvenanceRegistry
    function reinstateParticipant(address account) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Membership.setActive(_s, account, true, bytes32(0));
    }

    /// @inheritdoc IProvenanceRegistry
    function migrateParticipant(address from, address to, bytes32 reason) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Membership.migrate(_s, from, to, reason);
    }

    /// @inheritdoc IProvenanceRegistry
    function assignPrefix(address account, uint64 prefix, uint8 length) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Membership.assignPrefix(_s, account, prefix, length);
    }

    /// @inheritdoc IProvenanceRegistry
    function revokePrefix(uint64 prefix, uint8 length) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Membership.revokePrefix(_s, prefix, length);
    }

    // ---------------------------------------------------------------- batches

    /// @inheritdoc IProvenanceRegistry
    function createBatch(uint256 gtin, bytes32 lot, uint48 quantity, bytes3 uom, bytes32 document)
        external
        returns (bytes32 batchId)
    {
        uint24 id = _s.activeWithRole(msg.sender, RegistryCore.PRODUCER);
        batchId = _s.commission(NewBatch(gtin, lot, quantity, uom, document), id, _s.counters.prefixLengths);
    }

    /// @inheritdoc IProvenanceRegistry
    function createBatches(NewBatch[] calldata batches) external returns (bytes32[] memory batchIds) {
        uint256 n = batches.length;
        if (n == 0) revert RegistryInvalidInputCount(0);
        uint24 id = _s.activeWithRole(msg.sender, RegistryCore.PRODUCER);
        uint144 lengths = _s.counters.prefixLengths;
        batchIds = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            // loop over calldata only
            batchIds[i] = _s.commission(batches[i], id, lengths);
        }
    }

    /// @inheritdoc IProvenanceRegistry
    function initiateHandoff(Handoff calldata h) external {
        if (msg.sender != h.from) revert RegistryCallerNotSender(h.from, msg.sender);
        _initiate(h);
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
        uint24 fromId = _s.activeId(msg.sender);
        (uint24 toId, uint8 toRoles) = _s.activeIdRoles(to);
        Handoff memory h = Handoff(0, msg.sender, to, location, bizStep, disposition, transferOwnership, document);
        for (uint256 i; i < batchIds.length; ++i) {
            // loop over calldata only
            h.batchId = batchIds[i];
            _initiateFor(h, fromId, toId, toRoles);
        }
    }

    /// @inheritdoc IProvenanceRegistry
    function acceptHandoff(bytes32 batchId, bytes32 document) external {
        _accept(batchId, _s.activeId(msg.sender), msg.sender, document);
    }

    /// @inheritdoc IProvenanceRegistry
    function acceptHandoffs(bytes32[] calldata batchIds, bytes32 document) external {
        if (batchIds.length == 0) revert RegistryInvalidInputCount(0);
        uint24 toId = _s.activeId(msg.sender);
        for (uint256 i; i < batchIds.length; ++i) {
            // loop over calldata only
            _accept(batchIds[i], toId, msg.sender, document);
        }
    }

    /// @inheritdoc IProvenanceRegistry
    function rejectHandoff(bytes32 batchId, bytes32 reason, bytes32 document) external {
        BatchWord w = _s.batches[batchId];
        uint24 pending = w.pendingTo();
        if (pending == 0) revert RegistryNoPendingHandoff(batchId);
        if (_s.participants[msg.sender].id != pending) revert RegistryNotRecipient(batchId, msg.sender);
        if (w.tenderLeg()) revert RegistryTenderPending(batchId);
        _s.batches[batchId] = w.withPending(0, false, false);
        emit HandoffRejected(batchId, _s.accounts[w.custodian()], msg.sender, reason, document, RegistryCore.now_());
    }

    /// @inheritdoc IProvenanceRegistry
    function cancelHandoff(bytes32 batchId, bytes32 document) external {
        BatchWord w = _s.batches[batchId];
        uint24 pending = w.pendingTo();
        if (pending == 0) revert RegistryNoPendingHandoff(batchId);
        if (_s.participants[msg.sender].id != w.custodian()) revert RegistryNotCustodian(batchId, msg.sender);
        if (w.tenderLeg()) revert RegistryTenderPending(batchId);
        _s.batches[batchId] = w.withPending(0, false, false);
        emit HandoffCancelled(batchId, msg.sender, _s.accounts[pending], document, RegistryCore.now_());
    }

    /// @inheritdoc IProvenanceRegistry
    function recordHandoff(Handoff calldata h, Authorization calldata sender, Authorization calldata receiver)
        external
    {
        if (msg.sender != h.from || sender.signature.length != 0) _authorize(h, h.from, sender);
        if (msg.sender != h.to || receiver.signature.length != 0) _authorize(h, h.to, receiver);
        uint24 toId = _initiate(h);
        _accept(h.batchId, toId, h.to, h.document);
    }

    /// @inheritdoc IProvenanceRegistry
    function useNonce() external returns (uint256 nonce) {
        nonce = _useNonce(msg.sender);
        emit NonceInvalidated(msg.sender, nonce);
    }

    // ---------------------------------------------------------------- lineage

    /// @inheritdoc IProvenanceRegistry
    function splitBatch(bytes32 parentId, bytes32 parentLot, Part[] calldata parts, uint48 loss, bytes32 document)
        external
        returns (bytes32[] memory childIds)
    {
        return Derivations.split(_s, parentId, parentLot, parts, loss, document);
    }

    /// @inheritdoc IProvenanceRegistry
    function mergeBatches(bytes32[] calldata parentIds, bytes32 firstLot, bytes32 lot, uint48 loss, bytes32 document)
        external
        returns (bytes32 childId)
    {
        return Derivations.merge(_s, parentIds, firstLot, lot, loss, document);
    }

    /// @inheritdoc IProvenanceRegistry
    function transformBatches(bytes32[] calldata inputIds, Output[] calldata outputs, bytes32 document)
        external
        returns (bytes32[] memory outputIds)
    {
        return Derivations.transform(_s, inputIds, outputs, document);
    }

    // ----------------------------------------------------------- attestations

    /// @inheritdoc IProvenanceRegistry
    function attest(bytes32 subject, bytes32 claim, bytes32 evidence, uint64 validFrom, uint64 validUntil)
        external
        returns (bytes32 attestationId)
    {
        uint24 issuerId = _s.activeWithRole(msg.sender, RegistryCore.CERTIFIER);
        if (validUntil < validFrom) revert RegistryInvalidValidity(validFrom, validUntil);
        attestationId = _attestationId(subject, claim, msg.sender, evidence);
        Attestation storage a = _s.attestations[attestationId];
        if (a.issuerId != 0) revert RegistryAttestationExists(attestationId);
        a.validFrom = validFrom;
        a.validUntil = validUntil;
        a.issuerId = issuerId;
        emit AttestationIssued(
            subject, claim, msg.sender, attestationId, evidence, validFrom, validUntil, RegistryCore.now_()
        );
    }

    /// @inheritdoc IProvenanceRegistry
    function revokeAttestation(bytes32 subject, bytes32 claim, address issuer, bytes32 evidence, bytes32 reason)
        external
    {
        uint24 callerId = _s.activeId(msg.sender);
        bytes32 attestationId = _attestationId(subject, claim, issuer, evidence);
        Attestation storage a = _s.attestations[attestationId];
        uint24 issuerId = a.issuerId;
        if (issuerId == 0) revert RegistryUnknownAttestation(attestationId);
        if (issuerId != callerId) revert RegistryNotIssuer(attestationId, msg.sender);
        if (a.revokedAt != 0) revert RegistryAttestationRevoked(attestationId);
        uint64 timestamp = RegistryCore.now_();
        a.revokedAt = timestamp;
        emit AttestationRevoked(subject, claim, issuer, attestationId, reason, timestamp);
    }

    /// @inheritdoc IProvenanceRegistry
    function isAttestationValid(bytes32 subject, bytes32 claim, address issuer, bytes32 evidence, uint64 at)
        external
        view
        returns (bool valid)
    {
        return _isValidAt(_s.attestations[_attestationId(subject, claim, issuer, evidence)], at);
    }

    /// @inheritdoc IProvenanceRegistry
    function isClaimValidFor(bytes32 batchId, bytes32 subject, bytes32 claim, address attester, bytes32 evidence)
        external
        view
        returns (bool valid)
    {
        Attestation memory a = _s.attestations[_attestationId(subject, claim, attester, evidence)];
        if (!_isValidAt(a, RegistryCore.now_())) return false;
        // the participant that issued it (under `attester`, or under the key it migrated to) is active
        // and a certifier
        Participant memory issuer = _s.participants[attester];
        if (issuer.id != a.issuerId) issuer = _s.participants[_s.accounts[a.issuerId]];
        if (!issuer.active || issuer.roles & RegistryCore.CERTIFIER == 0) return false;
        if (subject == batchId) return true;
        uint32 number = _s.batches[subject].lineageNumber();
        if (number == 0) return false;
        uint32[] memory ancestors = _s.ancestorsOf(_s.batches[batchId]);
        for (uint256 i; i < ancestors.length; ++i) {
            if (ancestors[i] == number) return true;
        }
        return false;
    }

    // ---------------------------------------------------------------- recalls

    /// @inheritdoc IProvenanceRegistry
    function recallBatch(bytes32 batchId, bytes32 reason, bytes32 document) external {
        BatchWord w = _s.batches[batchId];
        if (w.isEmpty()) revert RegistryUnknownBatch(batchId);
        if (w.recalled()) revert RegistryBatchRecalled(batchId);
        if (!hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) {
            Participant memory p = _s.participants[msg.sender];
            if (p.id == 0 || p.id != _s.originOf(w) || !p.active) revert RegistryNotRecaller(batchId, msg.sender);
        }
        _setRecalled(batchId, w, true);
        emit BatchRecalled(batchId, msg.sender, reason, document, RegistryCore.now_());
    }

    /// @inheritdoc IProvenanceRegistry
    function liftRecall(bytes32 batchId, bytes32 reason, bytes32 document) external onlyRole(DEFAULT_ADMIN_ROLE) {
        BatchWord w = _s.batches[batchId];
        if (w.isEmpty()) revert RegistryUnknownBatch(batchId);
        if (!w.recalled()) revert RegistryBatchNotRecalled(batchId);
        _setRecalled(batchId, w, false);
        emit RecallLifted(batchId, msg.sender, reason, document, RegistryCore.now_());
    }

    // ----------------------------------------------------- bound deliveries (settlement only)

    /// @inheritdoc IProvenanceRegistry
    function bindDelivery(
        bytes32 batchId,
        address supplier,
        address to,
        address buyer,
        Leg calldata leg
    ) external onlySettlement returns (uint256 gtin, uint256 quantity, bytes3 uom) {
        (BatchWord w, bool direct) = _bind(batchId, supplier, to, buyer);
        address from = w.custodian() == w.owner() ? supplier : _s.accounts[w.custodian()];
        emit HandoffInitiated(
            batchId, from, to, leg.location, leg.bizStep, leg.disposition, direct, leg.document, RegistryCore.now_()
        );
        return (w.gtin(), w.quantity(), w.uom());
    }

    /// @inheritdoc IProvenanceRegistry
    function completeDelivery(bytes32 batchId, address buyer, address supplier, bytes32 document)
        external
        onlySettlement
        returns (uint256 quantity)
    {
        uint24 buyerId = _s.activeId(buyer);
        BatchWord w = _s.batches[batchId];
        if (w.boundTo() != buyerId) revert RegistryNotBound(batchId, buyer);
        if (w.pendingTo() != buyerId) revert RegistryNotRecipient(batchId, buyer);
        _s.checkLineage(batchId, w);
        _s.batches[batchId] = w.withCustodian(buyerId).withOwner(buyerId).withPending(0, false, false).withBoundTo(0);
        // the buyer accepting its bound delivery is the completion: title passed with custody. A tender
        // straight from the owner is received from the supplier that tendered it.
        address from = w.custodian() == w.owner() ? supplier : _s.accounts[w.custodian()];
        emit HandoffAccepted(batchId, from, buyer, document, RegistryCore.now_());
        return w.quantity();
    }

    /// @inheritdoc IProvenanceRegistry
    function releaseDelivery(bytes32 batchId, uint256 agreementId) external onlySettlement {
        BatchWord w = _s.batches[batchId];
        uint24 buyerId = w.boundTo();
        if (buyerId == 0) revert RegistryNotBound(batchId, address(0));
        uint64 timestamp = RegistryCore.now_();
        uint24 pending = w.pendingTo();
        if (pending != 0 && (w.tenderLeg() || pending == buyerId)) {
            w = w.withPending(0, false, false);
            emit HandoffCancelled(batchId, _s.accounts[w.custodian()], _s.accounts[pending], bytes32(0), timestamp);
        }
        _s.batches[batchId] = w.withBoundTo(0);
        emit DeliveryReleased(batchId, agreementId, timestamp);
    }

    /// @inheritdoc IProvenanceRegistry
    function transferTitle(bytes32 batchId, uint256 agreementId) external onlySettlement returns (uint256 quantity) {
        BatchWord w = _s.batches[batchId];
        uint24 buyerId = w.boundTo();
        if (buyerId == 0) revert RegistryNotBound(batchId, address(0));
        // a pending handoff stays pending, as an ordinary custody handoff
        _s.batches[batchId] = w.withOwner(buyerId).withBoundTo(0).withPending(w.pendingTo(), false, false);
        emit TitleTransferred(batchId, agreementId, _s.accounts[w.owner()], _s.accounts[buyerId], RegistryCore.now_());
        return w.quantity();
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IProvenanceRegistry
    function getBatch(bytes32 batchId) external view returns (BatchInfo memory info) {
        BatchWord w = _s.batches[batchId];
        uint32[] memory ancestors = _s.ancestorsOf(w);
        bool lineageRecalled = false;
        for (uint256 i; i < ancestors.length; ++i) {
            if (_s.isLineageRecalled(ancestors[i])) lineageRecalled = true;
        }
        info = BatchInfo({
            custodian: _s.accounts[w.custodian()],
            owner: _s.accounts[w.owner()],
            pendingTo: _s.accounts[w.pendingTo()],
            origin: _s.accounts[_s.originOf(w)],
            boundTo: _s.accounts[w.boundTo()],
            state: w.state(),
            recalled: w.recalled(),
            lineageRecalled: lineageRecalled,
            tenderLeg: w.tenderLeg(),
            // effective, as in HandoffInitiated: the leg of a bound delivery to its buyer passes title
            pendingOwnership: w.pendingOwnership() || (w.boundTo() != 0 && w.pendingTo() == w.boundTo()),
            gtin: w.gtin(),
            quantity: w.quantity(),
            uom: w.uom(),
            lineageNumber: w.lineageNumber(),
            ancestors: uint8(ancestors.length)
        });
    }

    /// @inheritdoc IProvenanceRegistry
    function isRecalled(bytes32 batchId) external view returns (bool recalled) {
        BatchWord w = _s.batches[batchId];
        if (w.recalled()) return true;
        uint32[] memory ancestors = _s.ancestorsOf(w);
        for (uint256 i; i < ancestors.length; ++i) {
            if (_s.isLineageRecalled(ancestors[i])) return true;
        }
    }

    /// @inheritdoc IProvenanceRegistry
    function lineageOf(bytes32 batchId) external view returns (uint32[] memory numbers) {
        return _s.ancestorsOf(_s.batches[batchId]);
    }

    /// @inheritdoc IProvenanceRegistry
    function getParticipant(address account) external view returns (ParticipantInfo memory info) {
        Participant memory p = _s.participants[account];
        info = ParticipantInfo({id: p.id, roles: p.roles, active: p.active, gln: p.gln});
    }

    /// @inheritdoc IProvenanceRegistry
    function participantAt(uint24 id) external view returns (address account) {
        return _s.accounts[id];
    }

    /// @inheritdoc IProvenanceRegistry
    function prefixOf(uint256 gtin) external view returns (address holder, uint64 prefix, uint8 length) {
        uint24 id;
        (id, prefix, length) = _s.holderOf(gtin, _s.counters.prefixLengths);
        holder = _s.accounts[id];
    }

    /// @inheritdoc IProvenanceRegistry
    function settlement() external view returns (address) {
        return _settlement;
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
    function batchIdOf(uint256 gtin, bytes32 lot) external pure returns (bytes32 batchId) {
        return RegistryCore.batchIdOf(gtin, lot);
    }

    // --------------------------------------------------------------- internal

    /// @dev Initiates `h` (its `from` checked by the caller): returns the recipient's id.
    function _initiate(Handoff calldata h) private returns (uint24 toId) {
        uint24 fromId = _s.activeId(h.from);
        uint8 toRoles;
        (toId, toRoles) = _s.activeIdRoles(h.to);
        _initiateFor(h, fromId, toId, toRoles);
    }

    function _initiateFor(Handoff memory h, uint24 fromId, uint24 toId, uint8 toRoles) private {
        bool title = _setPending(h.batchId, fromId, toId, toRoles, h.to, h.transferOwnership);
        emit HandoffInitiated(
            h.batchId, h.from, h.to, h.location, h.bizStep, h.disposition, title, h.document, RegistryCore.now_()
        );
    }

    /// @dev Records a pending handoff of `batchId` from `fromId` to `toId`; returns whether title moves
    /// on acceptance (asked for by the owner, or the leg that ends a bound delivery at its buyer).
    function _setPending(bytes32 batchId, uint24 fromId, uint24 toId, uint8 toRoles, address to, bool transferOwnership)
        private
        returns (bool title)
    {
        BatchWord w = _s.batches[batchId];
        _s.checkMovable(batchId, w);
        if (w.custodian() != fromId) revert RegistryNotCustodian(batchId, _s.accounts[fromId]);
        if (toId == fromId) revert RegistrySelfHandoff(batchId, to);
        uint24 buyer = w.boundTo();
        if (buyer != 0) {
            // a bound delivery moves only towards its buyer, through carriers; title waits for the buyer
            if (transferOwnership || (toId != buyer && toRoles & RegistryCore.CARRIER == 0)) {
                revert RegistryBoundDelivery(batchId, _s.accounts[buyer]);
            }
            title = toId == buyer;
        } else {
            if (transferOwnership && w.owner() != fromId) revert RegistryNotOwner(batchId, _s.accounts[fromId]);
            title = transferOwnership;
        }
        _s.batches[batchId] = w.withPending(toId, transferOwnership, false);
    }

    function _accept(bytes32 batchId, uint24 toId, address to, bytes32 document) private {
        BatchWord w = _s.batches[batchId];
        uint24 pending = w.pendingTo();
        if (pending == 0) revert RegistryNoPendingHandoff(batchId);
        if (pending != toId) revert RegistryNotRecipient(batchId, to);
        if (w.boundTo() == toId) revert RegistryBoundDelivery(batchId, to);
        _s.checkLineage(batchId, w);
        BatchWord accepted = w.withCustodian(toId);
        if (w.pendingOwnership()) accepted = accepted.withOwner(toId);
        _s.batches[batchId] = accepted.withPending(0, false, false);
        emit HandoffAccepted(batchId, _s.accounts[w.custodian()], to, document, RegistryCore.now_());
    }

    /// @dev Checks and records a tender of `batchId` by `supplier` to `to` for `buyer`; returns the word
    /// as it was and whether the tender goes straight to the buyer.
    function _bind(bytes32 batchId, address supplier, address to, address buyer)
        private
        returns (BatchWord w, bool direct)
    {
        uint24 supplierId = _s.activeId(supplier);
        (uint24 toId, uint8 toRoles) = _s.activeIdRoles(to);
        uint24 buyerId = _s.participants[buyer].id;
        if (buyerId == 0) revert RegistryUnknownParticipant(buyer);
        w = _s.batches[batchId];
        _s.checkMovable(batchId, w);
        if (w.boundTo() != 0) revert RegistryBoundDelivery(batchId, _s.accounts[w.boundTo()]);
        if (w.owner() != supplierId) revert RegistryNotOwner(batchId, supplier);
        uint24 custodian = w.custodian();
        if (custodian != supplierId && _s.participants[_s.accounts[custodian]].roles & RegistryCore.CARRIER == 0) {
            revert RegistryNotCustodian(batchId, supplier);
        }
        if (toId == custodian) revert RegistrySelfHandoff(batchId, to);
        direct = toId == buyerId;
        if (!direct && toRoles & RegistryCore.CARRIER == 0) revert RegistryMissingRole(to, RegistryCore.CARRIER);
        _s.batches[batchId] = w.withPending(toId, false, true).withBoundTo(buyerId);
    }

    /// @dev Sets or clears a recall; a consumed batch's recall is also flagged for its descendants.
    function _setRecalled(bytes32 batchId, BatchWord w, bool recalled) private {
        _s.batches[batchId] = w.withRecalled(recalled);
        uint32 number = w.lineageNumber();
        if (number == 0) return;
        uint256 bit = 1 << (number & 0xff);
        if (recalled) {
            _s.recalledLineage[number >> 8] |= bit;
            ++_s.counters.lineageRecalls; // checked: at most one per consumed batch (< 2^32)
        } else {
            _s.recalledLineage[number >> 8] &= ~bit;
            --_s.counters.lineageRecalls; // this batch was counted when it was recalled
        }
    }

    /// @dev Verifies `auth` as `signer`'s EIP-712 consent to `h` (ECDSA or EIP-1271) and uses its nonce.
    function _authorize(Handoff calldata h, address signer, Authorization calldata auth) private {
        // slither-disable-next-line timestamp (a consent's deadline; seconds of drift do not matter)
        if (block.timestamp > auth.deadline) revert RegistrySignatureExpired(signer, auth.deadline);
        uint256 current = _useNonce(signer);
        if (auth.nonce != current) revert RegistryInvalidNonce(signer, current, auth.nonce);
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(HANDOFF_TYPEHASH, h, auth.nonce, auth.deadline)));
        if (!Signatures.isValidNow(signer, digest, auth.signature)) revert RegistryInvalidSignature(signer);
    }

    function _attestationId(bytes32 subject, bytes32 claim, address issuer, bytes32 evidence)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(subject, claim, issuer, evidence));
    }

    function _isValidAt(Attestation memory a, uint64 at) private pure returns (bool) {
        return a.issuerId != 0 && a.validFrom <= at && at <= a.validUntil && (a.revokedAt == 0 || a.revokedAt > at);
    }
}
