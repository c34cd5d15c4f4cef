// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Lifecycle of a batch: `Active` until a split, merge or transform consumes it.
enum BatchState {
    None,
    Active,
    Consumed
}

/// @notice Everything the registry keeps about one batch, in one storage slot.
/// @dev Layout, low to high bits (the only place it is written down; `BatchWordLib` is the only code
/// that shifts or masks it):
///
/// | bits    | field            | meaning                                                              |
/// |---------|------------------|----------------------------------------------------------------------|
/// | 0-23    | custodian        | participant id holding the goods                                     |
/// | 24-47   | owner            | participant id holding title                                         |
/// | 48-71   | pendingTo        | Active: recipient of the pending handoff, 0 if none                  |
/// | 72-95   | boundTo          | Active: buyer of the bound delivery, 0 if not bound                  |
/// | 48-79   | lineageNumber    | Consumed: the number its descendants' lineage sets carry             |
/// | 96-127  | origin           | commissioned batch: participant id holding the recall right          |
/// | 96-127  | lineageKey       | derived batch: key of the lineage set it shares with its siblings    |
/// | 128-129 | state            | `BatchState`                                                         |
/// | 130     | recalled         | the batch itself is recalled                                         |
/// | 131     | pendingOwnership | the pending handoff also transfers title                             |
/// | 132     | tenderLeg        | the pending handoff is the tender of a bound delivery                |
/// | 133     | derived          | the batch has ancestors: bits 96-127 are a lineage key               |
/// | 136-159 | uom              | UN/ECE Rec 20 unit code, ASCII                                       |
/// | 160-207 | gtin             | GTIN-14 as a number (< 10^14 < 2^47)                                 |
/// | 208-255 | quantity         | quantity in `uom`                                                    |
///
/// `pendingTo`/`boundTo` and `lineageNumber` share bits 48-95: a batch is consumed only when it has
/// no pending handoff and no binding, and a consumed batch never gets either again. A derived batch's
/// origin is kept in its lineage set (`LineageSet`), which all outputs of one operation share.
type BatchWord is uint256;

using BatchWordLib for BatchWord global;

/// @title BatchWordLib
/// @notice Named accessors for `BatchWord`; each setter returns a new word and touches only its field.
library BatchWordLib {
    uint256 private constant ID_MASK = (1 << 24) - 1;
    uint256 private constant NUMBER_MASK = (1 << 32) - 1;
    uint256 private constant QUANTITY_MASK = (1 << 48) - 1;
    uint256 private constant GTIN_MASK = (1 << 48) - 1;
    uint256 private constant UOM_MASK = (1 << 24) - 1;

    uint256 private constant CUSTODIAN = 0;
    uint256 private constant OWNER = 24;
    uint256 private constant PENDING_TO = 48;
    uint256 private constant BOUND_TO = 72;
    uint256 private constant LINEAGE_NUMBER = 48;
    uint256 private constant ORIGIN_OR_KEY = 96;
    uint256 private constant STATE = 128;
    uint256 private constant RECALLED = 130;
    uint256 private constant PENDING_OWNERSHIP = 131;
    uint256 private constant TENDER_LEG = 132;
    uint256 private constant DERIVED = 133;
    uint256 private constant UOM = 136;
    uint256 private constant GTIN = 160;
    uint256 private constant QUANTITY = 208;

    /// @notice A new Active commissioned batch held and owned as given, `origin_` holding the recall
    /// right. `gtin` must be below 10^14 (callers check).
    function create(uint24 custodian_, uint24 owner_, uint24 origin_, bytes3 uom_, uint256 gtin_, uint48 quantity_)
        internal
        pure
        returns (BatchWord)
    {
        return BatchWord.wrap(_new(custodian_, owner_, uom_, gtin_, quantity_) | (uint256(origin_) << ORIGIN_OR_KEY));
    }

    /// @notice A new Active derived batch whose lineage set (and origin) is stored under `key`.
    function createDerived(uint24 custodian_, uint24 owner_, uint32 key, bytes3 uom_, uint256 gtin_, uint48 quantity_)
        internal
        pure
        returns (BatchWord)
    {
        return BatchWord.wrap(
            _new(custodian_, owner_, uom_, gtin_, quantity_) | (uint256(key) << ORIGIN_OR_KEY) | (1 << DERIVED)
        );
    }

    function isEmpty(BatchWord w) internal pure returns (bool) {
        return BatchWord.unwrap(w) == 0;
    }

    function custodian(BatchWord w) internal pure returns (uint24) {
        return uint24(_get(w, CUSTODIAN, ID_MASK));
    }

    function owner(BatchWord w) internal pure returns (uint24) {
        return uint24(_get(w, OWNER, ID_MASK));
    }

    /// @notice The recall right's holder of a commissioned batch (0 for a derived one: see its lineage set).
    function origin(BatchWord w) internal pure returns (uint24) {
        return w.derived() ? 0 : uint24(_get(w, ORIGIN_OR_KEY, ID_MASK));
    }

    /// @notice The key of a derived batch's lineage set (0 for a commissioned one).
    function lineageKey(BatchWord w) internal pure returns (uint32) {
        return w.derived() ? uint32(_get(w, ORIGIN_OR_KEY, NUMBER_MASK)) : 0;
    }

    function pendingTo(BatchWord w) internal pure returns (uint24) {
        return w.state() == BatchState.Active ? uint24(_get(w, PENDING_TO, ID_MASK)) : 0;
    }

    function boundTo(BatchWord w) internal pure returns (uint24) {
        return w.state() == BatchState.Active ? uint24(_get(w, BOUND_TO, ID_MASK)) : 0;
    }

    function lineageNumber(BatchWord w) internal pure returns (uint32) {
        return w.state() == BatchState.Consumed ? uint32(_get(w, LINEAGE_NUMBER, NUMBER_MASK)) : 0;
    }

    function state(BatchWord w) internal pure returns (BatchState) {
        return BatchState(_get(w, STATE, 3));
    }

    function recalled(BatchWord w) internal pure returns (bool) {
        return _get(w, RECALLED, 1) != 0;
    }

    function pendingOwnership(BatchWord w) internal pure returns (bool) {
        return _get(w, PENDING_OWNERSHIP, 1) != 0;
    }

    function tenderLeg(BatchWord w) internal pure returns (bool) {
        return _get(w, TENDER_LEG, 1) != 0;
    }

    function derived(BatchWord w) internal pure returns (bool) {
        return _get(w, DERIVED, 1) != 0;
    }

    function uom(BatchWord w) internal pure returns (bytes3) {
        return bytes3(uint24(_get(w, UOM, UOM_MASK)));
    }

    function gtin(BatchWord w) internal pure returns (uint256) {
        return _get(w, GTIN, GTIN_MASK);
    }

    function quantity(BatchWord w) internal pure returns (uint48) {
        return uint48(_get(w, QUANTITY, QUANTITY_MASK));
    }

    function withCustodian(BatchWord w, uint24 id) internal pure returns (BatchWord) {
        return _set(w, CUSTODIAN, ID_MASK, id);
    }

    function withOwner(BatchWord w, uint24 id) internal pure returns (BatchWord) {
        return _set(w, OWNER, ID_MASK, id);
    }

    /// @notice Sets the pending handoff (`to` = 0 clears it) and whether it carries title and is a tender.
    function withPending(BatchWord w, uint24 to, bool ownership, bool tender) internal pure returns (BatchWord) {
        w = _set(w, PENDING_TO, ID_MASK, to);
        w = _set(w, PENDING_OWNERSHIP, 1, ownership ? 1 : 0);
        return _set(w, TENDER_LEG, 1, tender ? 1 : 0);
    }

    function withBoundTo(BatchWord w, uint24 buyer) internal pure returns (BatchWord) {
        return _set(w, BOUND_TO, ID_MASK, buyer);
    }

    /// @notice The word of a consumed batch: state Consumed, its lineage number in bits 48-79.
    /// @dev Requires no pending handoff and no binding (bits 48-95 zero), which every caller checks.
    function consumed(BatchWord w, uint32 number) internal pure returns (BatchWord) {
        w = _set(w, STATE, 3, uint256(uint8(BatchState.Consumed)));
        return _set(w, LINEAGE_NUMBER, NUMBER_MASK, number);
    }

    function withRecalled(BatchWord w, bool value) internal pure returns (BatchWord) {
        return _set(w, RECALLED, 1, value ? 1 : 0);
    }

    function _new(uint24 custodian_, uint24 owner_, bytes3 uom_, uint256 gtin_, uint48 quantity_)
        private
        pure
        returns (uint256)
    {
        return uint256(custodian_) | (uint256(owner_) << OWNER) | (uint256(uint8(BatchState.Active)) << STATE)
            | (uint256(uint24(uom_)) << UOM) | ((gtin_ & GTIN_MASK) << GTIN) | (uint256(quantity_) << QUANTITY);
    }

    function _get(BatchWord w, uint256 offset, uint256 mask) private pure returns (uint256) {
        return (BatchWord.unwrap(w) >> offset) & mask;
    }

    function _set(BatchWord w, uint256 offset, uint256 mask, uint256 value) private pure returns (BatchWord) {
        return BatchWord.wrap((BatchWord.unwrap(w) & ~(mask << offset)) | ((value & mask) << offset));
    }
}
