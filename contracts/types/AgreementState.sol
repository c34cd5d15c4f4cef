// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ISupplyAgreements} from "../interfaces/ISupplyAgreements.sol";

/// @notice The stored state of one agreement, in one storage slot (the terms hash is in another).
/// @dev Layout, low to high bits (`AgreementStateLib` is the only code that shifts or masks it):
///
/// | bits    | field           | meaning                                                       |
/// |---------|-----------------|---------------------------------------------------------------|
/// | 0-7     | status          | `ISupplyAgreements.Status`                                    |
/// | 8-15    | disputeKind     | `ISupplyAgreements.DisputeKind`                               |
/// | 16      | proposedByBuyer | which party must `accept`                                     |
/// | 24-63   | tenderedAt      | block time of the current (or last) tender, Unix seconds      |
/// | 64-103  | disputedAt      | block time the current dispute opened                         |
/// | 104-255 | batchTag        | high 152 bits of the tendered batch id                        |
///
/// 40-bit times last until the year 36812. The batch tag identifies the tendered batch: passing
/// another batch with the same tag needs a 152-bit second preimage of keccak256.
type AgreementState is uint256;

using AgreementStateLib for AgreementState global;

/// @title AgreementStateLib
/// @notice Named accessors for `AgreementState`; each setter returns a new word.
library AgreementStateLib {
    uint256 private constant STATUS = 0;
    uint256 private constant DISPUTE_KIND = 8;
    uint256 private constant PROPOSED_BY_BUYER = 16;
    uint256 private constant TENDERED_AT = 24;
    uint256 private constant DISPUTED_AT = 64;
    uint256 private constant BATCH_TAG = 104;
    uint256 private constant TIME_MASK = (1 << 40) - 1;
    uint256 private constant TAG_MASK = (1 << 152) - 1;

    /// @notice A new agreement's state.
    function create(ISupplyAgreements.Status status_, bool proposedByBuyer_)
        internal
        pure
        returns (AgreementState)
    {
        return AgreementState.wrap(uint256(uint8(status_)) | (uint256(proposedByBuyer_ ? 1 : 0) << PROPOSED_BY_BUYER));
    }

    function status(AgreementState s) internal pure returns (ISupplyAgreements.Status) {
        return ISupplyAgreements.Status(_get(s, STATUS, 0xff));
    }

    function disputeKind(AgreementState s) internal pure returns (ISupplyAgreements.DisputeKind) {
        return ISupplyAgreements.DisputeKind(_get(s, DISPUTE_KIND, 0xff));
    }

    function proposedByBuyer(AgreementState s) internal pure returns (bool) {
        return _get(s, PROPOSED_BY_BUYER, 1) != 0;
    }

    function tenderedAt(AgreementState s) internal pure returns (uint64) {
        return uint64(_get(s, TENDERED_AT, TIME_MASK));
    }

    function disputedAt(AgreementState s) internal pure returns (uint64) {
        return uint64(_get(s, DISPUTED_AT, TIME_MASK));
    }

    function batchTag(AgreementState s) internal pure returns (bytes19) {
        return bytes19(uint152(_get(s, BATCH_TAG, TAG_MASK)));
    }

    /// @notice The tag of a batch id: its high 152 bits.
    function tagOf(bytes32 batchId) internal pure returns (bytes19) {
        return bytes19(batchId);
    }

    function withStatus(AgreementState s, ISupplyAgreements.Status value) internal pure returns (AgreementState) {
        return _set(s, STATUS, 0xff, uint8(value));
    }

    /// @notice Tendered: records the tender's time and batch; clears any dispute.
    function tendered(AgreementState s, uint256 at, bytes32 batchId) internal pure returns (AgreementState) {
        s = _set(s, STATUS, 0xff, uint8(ISupplyAgreements.Status.Tendered));
        s = _set(s, DISPUTE_KIND, 0xff, uint8(ISupplyAgreements.DisputeKind.None));
        s = _set(s, DISPUTED_AT, TIME_MASK, 0);
        s = _set(s, TENDERED_AT, TIME_MASK, at);
        return _set(s, BATCH_TAG, TAG_MASK, uint152(bytes19(batchId)));
    }

    /// @notice Disputed for `kind` since `at`.
    function disputed(AgreementState s, ISupplyAgreements.DisputeKind kind, uint256 at)
        internal
        pure
        returns (AgreementState)
    {
        s = _set(s, STATUS, 0xff, uint8(ISupplyAgreements.Status.Disputed));
        s = _set(s, DISPUTE_KIND, 0xff, uint8(kind));
        return _set(s, DISPUTED_AT, TIME_MASK, at);
    }

    function _get(AgreementState s, uint256 offset, uint256 mask) private pure returns (uint256) {
        return (AgreementState.unwrap(s) >> offset) & mask;
    }

    function _set(AgreementState s, uint256 offset, uint256 mask, uint256 value)
        private
        pure
        returns (AgreementState)
    {
        return AgreementState.wrap((AgreementState.unwrap(s) & ~(mask << offset)) | ((value & mask) << offset));
    }
}
