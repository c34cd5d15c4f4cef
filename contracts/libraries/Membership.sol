// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IProvenanceRegistry} from "../interfaces/IProvenanceRegistry.sol";
import {Counters, Participant, Prefix, RegistryCore, RegistryState} from "./RegistryCore.sol";

/// @title Membership
/// @notice The operator's actions on participants and GS1 company prefixes (see `IProvenanceRegistry`
/// for each rule). A linked library: its code runs in the registry's storage through DELEGATECALL, so
/// the registry stays under the 24,576-byte code limit; the registry checks the operator role before
/// calling it.
library Membership {
    using RegistryCore for RegistryState;

    /// @notice See `IProvenanceRegistry.registerParticipant`.
    function register(RegistryState storage s, address account, uint8 roles, uint64 gln, bytes32 metadataHash)
        external
    {
        if (account == address(0)) revert IProvenanceRegistry.RegistryZeroAddress();
        if (s.participants[account].id != 0) revert IProvenanceRegistry.RegistryParticipantExists(account);
        _checkProfile(roles, gln);
        uint256 next = uint256(s.counters.participants) + 1;
        if (next > type(uint24).max) revert IProvenanceRegistry.RegistryParticipantLimit();
        uint24 id = uint24(next);
        s.counters.participants = id;
        s.participants[account] = Participant({id: id, roles: roles, active: true, gln: gln});
        s.accounts[id] = account;
        emit IProvenanceRegistry.ParticipantRegistered(account, id, roles, gln, metadataHash, RegistryCore.now_());
    }

    /// @notice See `IProvenanceRegistry.updateParticipant`.
    function update(RegistryState storage s, address account, uint8 roles, uint64 gln, bytes32 metadataHash)
        external
    {
        Participant storage p = s.registered(account);
        _checkProfile(roles, gln);
        p.roles = roles;
        p.gln = gln;
        emit IProvenanceRegistry.ParticipantUpdated(account, roles, gln, metadataHash, RegistryCore.now_());
    }

    /// @notice See `IProvenanceRegistry.suspendParticipant` and `reinstateParticipant`.
    function setActive(RegistryState storage s, address account, bool active, bytes32 reason) external {
        Participant storage p = s.registered(account);
        if (p.active == active) {
            if (active) revert IProvenanceRegistry.RegistryParticipantActive(account);
            revert IProvenanceRegistry.RegistryParticipantInactive(account);
        }
        p.active = active;
        if (active) emit IProvenanceRegistry.ParticipantReinstated(account, RegistryCore.now_());
        else emit IProvenanceRegistry.ParticipantSuspended(account, reason, RegistryCore.now_());
    }

    /// @notice See `IProvenanceRegistry.migrateParticipant`.
    function migrate(RegistryState storage s, address from, address to, bytes32 reason) external {
        Participant memory p = s.registered(from);
        if (to == address(0)) revert IProvenanceRegistry.RegistryZeroAddress();
        if (s.participants[to].id != 0) revert IProvenanceRegistry.RegistryParticipantExists(to);
        s.participants[to] = p;
        delete s.participants[from];
        s.accounts[p.id] = to;
        emit IProvenanceRegistry.ParticipantMigrated(from, to, p.id, reason, RegistryCore.now_());
    }

    /// @notice See `IProvenanceRegistry.assignPrefix`.
    function assignPrefix(RegistryState storage s, address account, uint64 prefix, uint8 length) external {
        uint24 holder = s.registered(account).id;
        _checkPrefix(prefix, length);
        Prefix storage entry = s.prefixes[RegistryCore.prefixKey(prefix, length)];
        if (entry.holder != 0 || entry.extensions != 0) revert IProvenanceRegistry.RegistryPrefixOverlap(prefix, length);
        // every shorter prefix of this one must be free; each records one more extension
        uint64 shorter = prefix;
        for (uint8 l = length - 1; l >= RegistryCore.MIN_PREFIX; --l) {
            shorter /= 10;
            Prefix storage start = s.prefixes[RegistryCore.prefixKey(shorter, l)];
            if (start.holder != 0) revert IProvenanceRegistry.RegistryPrefixOverlap(prefix, length);
            ++start.extensions; // checked: at most one per assigned prefix
        }
        Counters storage c = s.counters;
        uint256 shift = 16 * (length - RegistryCore.MIN_PREFIX);
        if ((uint256(c.prefixLengths) >> shift) & RegistryCore.MAX_PER_LENGTH == RegistryCore.MAX_PER_LENGTH) {
            revert IProvenanceRegistry.RegistryPrefixOverlap(prefix, length);
        }
        // the count stays below 2^16 (checked just above): no carry into the next length's field
        c.prefixLengths += uint144(1 << shift);
        entry.holder = holder;
        emit IProvenanceRegistry.PrefixAssigned(account, prefix, length, RegistryCore.now_());
    }

    /// @notice See `IProvenanceRegistry.revokePrefix`.
    function revokePrefix(RegistryState storage s, uint64 prefix, uint8 length) external {
        if (length < RegistryCore.MIN_PREFIX || length > RegistryCore.MAX_PREFIX) {
            revert IProvenanceRegistry.RegistryInvalidPrefix(prefix, length);
        }
        Prefix storage entry = s.prefixes[RegistryCore.prefixKey(prefix, length)];
        uint24 holder = entry.holder;
        if (holder == 0) revert IProvenanceRegistry.RegistryPrefixNotAssigned(prefix, length);
        entry.holder = 0;
        uint64 shorter = prefix;
        for (uint8 l = length - 1; l >= RegistryCore.MIN_PREFIX; --l) {
            shorter /= 10;
            --s.prefixes[RegistryCore.prefixKey(shorter, l)].extensions; // counted when it was assigned
        }
        // this length counts this prefix (>= 1): no borrow from the next length's field
        s.counters.prefixLengths -= uint144(1 << (16 * (length - RegistryCore.MIN_PREFIX)));
        emit IProvenanceRegistry.PrefixRevoked(s.accounts[holder], prefix, length, RegistryCore.now_());
    }

    function _checkProfile(uint8 roles, uint64 gln) private pure {
        if (roles == 0 || roles & ~RegistryCore.ALL_ROLES != 0) revert IProvenanceRegistry.RegistryInvalidRoles(roles);
        if (gln >= RegistryCore.GLN_LIMIT) revert IProvenanceRegistry.RegistryInvalidGln(gln);
    }

    /// @dev 4-12 digits; not restricted circulation (02, 04, 20-29) or coupon space (05, 98, 99); the
    /// GTIN-8 space (first five digits 0) only as one explicit 12-digit GTIN-8 that is not an RCN-8
    /// (GTIN-8 starting with 0 or 2).
    function _checkPrefix(uint64 prefix, uint8 length) private pure {
        if (length < RegistryCore.MIN_PREFIX || length > RegistryCore.MAX_PREFIX || prefix >= RegistryCore.pow10(length))
        {
            revert IProvenanceRegistry.RegistryInvalidPrefix(prefix, length);
        }
        uint256 firstTwo = prefix / RegistryCore.pow10(length - 2);
        bool refused = firstTwo == 2 || firstTwo == 4 || firstTwo == 5 || (firstTwo >= 20 && firstTwo <= 29)
            || firstTwo >= 98;
        // the first min(length, 5) digits are zero: the prefix reaches into the GTIN-8 space
        if (length < 5 ? prefix == 0 : prefix < RegistryCore.pow10(length - 5)) {
            // digit six of a 12-digit prefix is the GTIN-8's first digit
            refused = length != RegistryCore.MAX_PREFIX || prefix / 1e6 == 0 || prefix / 1e6 == 2;
        }
        if (refused) revert IProvenanceRegistry.RegistryInvalidPrefix(prefix, length);
    }
}
