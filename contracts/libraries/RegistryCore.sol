// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IProvenanceRegistry} from "../interfaces/IProvenanceRegistry.sol";
import {BatchState, BatchWord, BatchWordLib} from "../types/BatchWord.sol";
import {LineageLib, LineageSet} from "../types/Lineage.sol";

/// @notice A registered participant (one slot).
struct Participant {
    uint24 id;
    uint8 roles;
    bool active;
    uint64 gln;
}

/// @notice An attestation's validity window and issuer (one slot).
struct Attestation {
    uint64 validFrom;
    uint64 validUntil;
    uint64 revokedAt;
    uint24 issuerId;
}

/// @notice An entry of the GS1 company prefix table.
struct Prefix {
    uint24 holder;
    uint32 extensions; // assigned prefixes that start with this one
}

/// @notice Counters read by every commissioning and lineage operation (one slot).
struct Counters {
    uint24 participants;
    uint32 lineageNumbers; // last lineage number handed out
    uint32 lineageRecalls; // consumed batches currently recalled (0: no ancestor check needed)
    uint144 prefixLengths; // 16-bit count of assigned prefixes per length 4..12
}

/// @notice Everything the ProvenanceRegistry stores, in one struct so that its linked libraries
/// (`Membership`, `Derivations`) work on the same storage through a single pointer.
struct RegistryState {
    Counters counters;
    mapping(address account => Participant) participants;
    mapping(uint24 id => address) accounts;
    mapping(uint256 key => Prefix) prefixes;
    mapping(bytes32 batchId => BatchWord) batches;
    mapping(uint32 key => LineageSet) lineage; // keyed by the first input's lineage number
    mapping(uint256 word => uint256 bits) recalledLineage;
    mapping(bytes32 attestationId => Attestation) attestations;
}

/// @title RegistryCore
/// @notice The checks and encodings the registry and its libraries share (internal: inlined into each).
library RegistryCore {
    uint8 internal constant PRODUCER = 1;
    uint8 internal constant PROCESSOR = 2;
    uint8 internal constant CARRIER = 4;
    uint8 internal constant CERTIFIER = 32;
    uint8 internal constant ALL_ROLES = 63;

    uint256 internal constant GTIN_LIMIT = 1e14;
    uint256 internal constant GLN_LIMIT = 1e13;
    uint8 internal constant MIN_PREFIX = 4;
    uint8 internal constant MAX_PREFIX = 12;
    uint256 internal constant MAX_PER_LENGTH = type(uint16).max;

    /// @dev Bit `c` set for every character `c` of the GS1 AI encodable character set 82.
    uint256 internal constant LOT_CHARACTERS = 0x7fffffe87fffffeffffffe600000000;
    /// @dev Bit `c` set for 0-9 and A-Z (UN/ECE Rec 20 codes).
    uint256 internal constant UOM_CHARACTERS = 0x7fffffe03ff000000000000;

    // ----------------------------------------------------------- participants

    function registered(RegistryState storage s, address account) internal view returns (Participant storage p) {
        p = s.participants[account];
        if (p.id == 0) revert IProvenanceRegistry.RegistryUnknownParticipant(account);
    }

    /// @notice The id and roles of `account`, which must be registered and active.
    function activeIdRoles(RegistryState storage s, address account) internal view returns (uint24 id, uint8 roles) {
        Participant memory p = s.participants[account];
        if (p.id == 0) revert IProvenanceRegistry.RegistryUnknownParticipant(account);
        if (!p.active) revert IProvenanceRegistry.RegistryParticipantInactive(account);
        return (p.id, p.roles);
    }

    function activeId(RegistryState storage s, address account) internal view returns (uint24 id) {
        (id,) = activeIdRoles(s, account);
    }

    /// @notice The id of `account`, which must be registered, active and hold one of `roles`.
    function activeWithRole(RegistryState storage s, address account, uint8 roles) internal view returns (uint24 id) {
        uint8 held;
        (id, held) = activeIdRoles(s, account);
        if (held & roles == 0) revert IProvenanceRegistry.RegistryMissingRole(account, roles);
    }

    // ---------------------------------------------------------------- batches

    /// @notice Exists, Active, no pending handoff, neither it nor an ancestor recalled.
    function checkMovable(RegistryState storage s, bytes32 batchId, BatchWord w) internal view {
        BatchState state = w.state();
        if (state == BatchState.None) revert IProvenanceRegistry.RegistryUnknownBatch(batchId);
        if (state != BatchState.Active) revert IProvenanceRegistry.RegistryBatchNotActive(batchId, state);
        uint24 pending = w.pendingTo();
        if (pending != 0) revert IProvenanceRegistry.RegistryHandoffPending(batchId, s.accounts[pending]);
        checkLineage(s, batchId, w);
    }

    /// @notice Reverts if the batch or one of its ancestors is recalled. The ancestor check is skipped
    /// while no consumed batch anywhere is recalled (the common case: one extra read).
    function checkLineage(RegistryState storage s, bytes32 batchId, BatchWord w) internal view {
        if (w.recalled()) revert IProvenanceRegistry.RegistryBatchRecalled(batchId);
        if (!w.derived() || s.counters.lineageRecalls == 0) return;
        uint32[] memory ancestors = LineageLib.load(s.lineage[w.lineageKey()]);
        for (uint256 i; i < ancestors.length; ++i) {
            if (isLineageRecalled(s, ancestors[i])) {
                revert IProvenanceRegistry.RegistryAncestorRecalled(batchId, ancestors[i]);
            }
        }
    }

    /// @notice The lineage numbers of `w`'s ancestors (empty for a commissioned batch).
    function ancestorsOf(RegistryState storage s, BatchWord w) internal view returns (uint32[] memory) {
        return w.derived() ? LineageLib.load(s.lineage[w.lineageKey()]) : new uint32[](0);
    }

    /// @notice Who holds the recall right of `w`: its creator, or for a derived batch the origin kept
    /// in its lineage set.
    function originOf(RegistryState storage s, BatchWord w) internal view returns (uint24) {
        return w.derived() ? LineageLib.origin(s.lineage[w.lineageKey()]) : w.origin();
    }

    function isLineageRecalled(RegistryState storage s, uint32 number) internal view returns (bool) {
        return (s.recalledLineage[number >> 8] >> (number & 0xff)) & 1 != 0;
    }

    /// @notice Commissions `b` under the caller's company prefix: the caller (`callerId`) is its origin,
    /// custodian and owner.
    function commission(RegistryState storage s, IProvenanceRegistry.NewBatch memory b, uint24 callerId, uint144 lengths)
        internal
        returns (bytes32 batchId)
    {
        requirePrefixHolder(s, b.gtin, callerId, lengths);
        batchId = store(s, b.gtin, b.lot, BatchWordLib.create(callerId, callerId, callerId, b.uom, b.gtin, b.quantity));
        emitCreated(batchId, b);
    }

    /// @notice `gtin` is a valid GTIN under a company prefix that `callerId` holds.
    function requirePrefixHolder(RegistryState storage s, uint256 gtin, uint24 callerId, uint144 lengths)
        internal
        view
    {
        if (!isValidGtin(gtin)) revert IProvenanceRegistry.RegistryInvalidGtin(gtin);
        (uint24 holder,,) = holderOf(s, gtin, lengths);
        if (holder == 0 || holder != callerId) revert IProvenanceRegistry.RegistryNotPrefixHolder(gtin, msg.sender);
    }

    function emitCreated(bytes32 batchId, IProvenanceRegistry.NewBatch memory b) internal {
        emit IProvenanceRegistry.BatchCreated(batchId, msg.sender, b.gtin, b.lot, b.quantity, b.uom, b.document, now_());
    }

    /// @notice Validates the lot, quantity and unit of `w` and stores it as a new batch.
    function store(RegistryState storage s, uint256 gtin, bytes32 lot, BatchWord w) internal returns (bytes32 batchId) {
        lotLength(lot);
        if (w.quantity() == 0) revert IProvenanceRegistry.RegistryZeroQuantity();
        checkUom(w.uom());
        batchId = batchIdOf(gtin, lot);
        if (!s.batches[batchId].isEmpty()) revert IProvenanceRegistry.RegistryBatchExists(batchId);
        s.batches[batchId] = w;
    }

    // --------------------------------------------------------------- prefixes

    /// @notice The holder of the assigned prefix covering `gtin` (0 if none); tries only the lengths in
    /// use, at most nine. Prefixes are prefix-free, so at most one matches.
    function holderOf(RegistryState storage s, uint256 gtin, uint144 lengths)
        internal
        view
        returns (uint24 holder, uint64 prefix, uint8 length)
    {
        uint256 body = gtin % 1e13; // the GTIN-13 form: without the indicator digit
        for (uint8 l = MIN_PREFIX; l <= MAX_PREFIX; ++l) {
            if ((uint256(lengths) >> (16 * (l - MIN_PREFIX))) & MAX_PER_LENGTH == 0) continue;
            uint64 candidate = uint64(body / pow10(13 - l));
            holder = s.prefixes[prefixKey(candidate, l)].holder;
            if (holder != 0) return (holder, candidate, l);
        }
        return (0, 0, 0);
    }

    function prefixKey(uint64 prefix, uint8 length) internal pure returns (uint256) {
        return (uint256(length) << 64) | prefix;
    }

    // ---------------------------------------------------------------- formats

    /// @notice Length of a valid lot: 1-20 characters of the GS1 AI encodable set, left-aligned,
    /// zero-padded.
    function lotLength(bytes32 lot) internal pure returns (uint256 length) {
        uint256 value = uint256(lot);
        if (value & type(uint96).max != 0) revert IProvenanceRegistry.RegistryInvalidLot(lot);
        for (; length < 20; ++length) {
            uint256 c = uint8(lot[length]);
            if (c == 0) break;
            if ((LOT_CHARACTERS >> c) & 1 == 0) revert IProvenanceRegistry.RegistryInvalidLot(lot);
        }
        // after the first zero byte everything is zero; at least one character
        if (length == 0 || (length < 20 && value << (8 * length) != 0)) {
            revert IProvenanceRegistry.RegistryInvalidLot(lot);
        }
    }

    /// @notice 2-3 characters 0-9 / A-Z, left-aligned.
    function checkUom(bytes3 uom) internal pure {
        uint256 a = uint8(uom[0]);
        uint256 b = uint8(uom[1]);
        uint256 c = uint8(uom[2]);
        if (
            (UOM_CHARACTERS >> a) & 1 == 0 || (UOM_CHARACTERS >> b) & 1 == 0
                || (c != 0 && (UOM_CHARACTERS >> c) & 1 == 0)
        ) revert IProvenanceRegistry.RegistryInvalidUom(uom);
    }

    /// @notice GS1 mod-10: from the right, the digits before the check digit weigh 3, 1, 3, ...
    function isValidGtin(uint256 gtin) internal pure returns (bool) {
        if (gtin == 0 || gtin >= GTIN_LIMIT) return false;
        uint256 rest = gtin / 10;
        uint256 sum = 0;
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

    /// @notice `keccak256(abi.encode(gtin, lot))`.
    function batchIdOf(uint256 gtin, bytes32 lot) internal pure returns (bytes32 batchId) {
        assembly ("memory-safe") {
            // safe: hashes abi.encode(gtin, lot) in the scratch space (0x00-0x3f), which Solidity
            // reserves for exactly this kind of short-lived hashing
            mstore(0x00, gtin)
            mstore(0x20, lot)
            batchId := keccak256(0x00, 0x40)
        }
    }

    /// @notice 10^n for n <= 13 (every caller passes a digit count of at most 13).
    function pow10(uint256 n) internal pure returns (uint256) {
        // safe: 10^13 < 2^44
        unchecked {
            return 10 ** n;
        }
    }

    function now_() internal view returns (uint64) {
        return uint64(block.timestamp); // block timestamps fit uint64 for the next 5e11 years
    }
}
