// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IProvenanceRegistry} from "../interfaces/IProvenanceRegistry.sol";
import {BatchWord, BatchWordLib} from "../types/BatchWord.sol";
import {LineageLib} from "../types/Lineage.sol";
import {RegistryCore, RegistryState} from "./RegistryCore.sol";

/// @title Derivations
/// @notice Splits, merges and transformations: consume inputs, create outputs, carry the lineage
/// (see `IProvenanceRegistry` for each rule). A linked library: its code runs in the registry's storage
/// through DELEGATECALL, so the registry stays under the 24,576-byte code limit.
/// @dev Every consumed batch gets the next lineage number. The outputs of one operation share one
/// lineage set, stored under the first input's number: the union of the inputs' sets and numbers (at
/// most `LineageLib.MAX`, else the operation is refused) and the origin that holds the recall right
/// (kept by splits and merges, the transformer for transform outputs).
library Derivations {
    using RegistryCore for RegistryState;

    /// @dev What one operation's outputs share.
    struct Outputs {
        uint24 callerId;
        uint24 owner;
        uint32 key; // lineage set key: the first input's lineage number
        bytes32 document;
    }

    /// @notice See `IProvenanceRegistry.splitBatch`.
    function split(
        RegistryState storage s,
        bytes32 parentId,
        bytes32 parentLot,
        IProvenanceRegistry.Part[] calldata parts,
        uint48 loss,
        bytes32 document
    ) external returns (bytes32[] memory childIds) {
        if (parts.length == 0) revert IProvenanceRegistry.RegistryInvalidInputCount(0);
        (BatchWord parent, uint32 key) = _consumeAll(s, _one(parentId), s.activeId(msg.sender), true);
        if (RegistryCore.batchIdOf(parent.gtin(), parentLot) != parentId) {
            revert IProvenanceRegistry.RegistryLotMismatch(parentId, parentLot);
        }
        uint256 parentLength = RegistryCore.lotLength(parentLot);
        uint256 total = loss;
        childIds = new bytes32[](parts.length);
        for (uint256 i; i < parts.length; ++i) {
            // loop over calldata only
            _checkExtends(parentLot, parentLength, parts[i].lot);
            childIds[i] = _createChild(s, parent, key, parentId, parts[i]);
            total += parts[i].quantity; // cannot overflow: calldata-length many uint48 values
        }
        if (total != parent.quantity()) {
            revert IProvenanceRegistry.RegistryQuantityMismatch(parent.quantity(), total);
        }
        emit IProvenanceRegistry.BatchConsumed(
            parentId, msg.sender, IProvenanceRegistry.OperationKind.Split, loss, document, RegistryCore.now_()
        );
    }

    /// @notice See `IProvenanceRegistry.mergeBatches`.
    function merge(
        RegistryState storage s,
        bytes32[] calldata parentIds,
        bytes32 firstLot,
        bytes32 lot,
        uint48 loss,
        bytes32 document
    ) external returns (bytes32 childId) {
        if (parentIds.length < 2) revert IProvenanceRegistry.RegistryInvalidInputCount(parentIds.length);
        _checkExtends(firstLot, RegistryCore.lotLength(firstLot), lot);
        BatchWord merged = _mergeInputs(s, parentIds, firstLot, loss);
        childId = s.store(merged.gtin(), lot, merged);
        _emitConsumed(parentIds, IProvenanceRegistry.OperationKind.Merge, loss, document);
        RegistryCore.emitCreated(
            childId, IProvenanceRegistry.NewBatch(merged.gtin(), lot, merged.quantity(), merged.uom(), document)
        );
        for (uint256 i; i < parentIds.length; ++i) {
            emit IProvenanceRegistry.BatchDerived(childId, parentIds[i], IProvenanceRegistry.OperationKind.Merge);
        }
    }

    /// @dev Consumes a merge's inputs (the first one's lot being `firstLot`) and returns the output's
    /// word: held by the caller, owned by the inputs' owner, their summed quantity minus `loss`.
    function _mergeInputs(RegistryState storage s, bytes32[] calldata parentIds, bytes32 firstLot, uint48 loss)
        private
        returns (BatchWord)
    {
        uint24 callerId = s.activeId(msg.sender);
        (BatchWord first, uint32 key) = _consumeAll(s, parentIds, callerId, true);
        if (RegistryCore.batchIdOf(first.gtin(), firstLot) != parentIds[0]) {
            revert IProvenanceRegistry.RegistryLotMismatch(parentIds[0], firstLot);
        }
        uint48 quantity = _mergedQuantity(s, parentIds, loss);
        return BatchWordLib.createDerived(callerId, first.owner(), key, first.uom(), first.gtin(), quantity);
    }

    /// @notice See `IProvenanceRegistry.transformBatches`.
    function transform(
        RegistryState storage s,
        bytes32[] calldata inputIds,
        IProvenanceRegistry.Output[] calldata outputs,
        bytes32 document
    ) external returns (bytes32[] memory outputIds) {
        if (inputIds.length == 0 || outputs.length == 0) revert IProvenanceRegistry.RegistryInvalidInputCount(0);
        uint24 callerId = s.activeWithRole(msg.sender, RegistryCore.PROCESSOR | RegistryCore.PRODUCER);
        (BatchWord first, uint32 key) = _consumeAll(s, inputIds, callerId, false);
        _emitConsumed(inputIds, IProvenanceRegistry.OperationKind.Transform, 0, document);
        Outputs memory ctx = Outputs(callerId, first.owner(), key, document);
        uint144 lengths = s.counters.prefixLengths;
        outputIds = new bytes32[](outputs.length);
        for (uint256 j; j < outputs.length; ++j) {
            // loop over calldata only
            outputIds[j] = _createOutput(s, ctx, outputs[j], lengths);
            for (uint256 i; i < inputIds.length; ++i) {
                emit IProvenanceRegistry.BatchDerived(
                    outputIds[j], inputIds[i], IProvenanceRegistry.OperationKind.Transform
                );
            }
        }
    }

    /// @dev Stores one split child: the parent's custodian, owner, GTIN and unit, the split's lineage set.
    function _createChild(
        RegistryState storage s,
        BatchWord parent,
        uint32 key,
        bytes32 parentId,
        IProvenanceRegistry.Part calldata part
    ) private returns (bytes32 childId) {
        BatchWord child =
            BatchWordLib.createDerived(parent.custodian(), parent.owner(), key, parent.uom(), parent.gtin(), part.quantity);
        childId = s.store(parent.gtin(), part.lot, child);
        emit IProvenanceRegistry.BatchSplit(childId, parentId, part.lot, part.quantity);
    }

    /// @dev Commissions one transform output under the caller's prefix, owned by the inputs' owner.
    function _createOutput(
        RegistryState storage s,
        Outputs memory ctx,
        IProvenanceRegistry.Output calldata o,
        uint144 lengths
    ) private returns (bytes32 outputId) {
        s.requirePrefixHolder(o.gtin, ctx.callerId, lengths);
        outputId =
            s.store(o.gtin, o.lot, BatchWordLib.createDerived(ctx.callerId, ctx.owner, ctx.key, o.uom, o.gtin, o.quantity));
        RegistryCore.emitCreated(outputId, IProvenanceRegistry.NewBatch(o.gtin, o.lot, o.quantity, o.uom, ctx.document));
    }

    /// @dev Consumes every input (custodian `callerId`, one owner; for a split or merge also one GTIN,
    /// unit and origin), numbers them, and stores the outputs' shared lineage set under the first
    /// input's number, with the inputs' common origin (`keepOrigin`) or the caller as origin.
    function _consumeAll(RegistryState storage s, bytes32[] memory ids, uint24 callerId, bool keepOrigin)
        private
        returns (BatchWord first, uint32 key)
    {
        key = _allocateNumbers(s, ids.length);
        uint32[] memory lineage = new uint32[](LineageLib.MAX);
        uint256 count = 0;
        uint24 origin = 0;
        for (uint256 i; i < ids.length; ++i) {
            // ids is calldata or a one-element array; a repeated id fails in _consume (already Consumed).
            // key + i <= the last number handed out, which fits uint32 (checked in _allocateNumbers)
            uint32 number = key + uint32(i);
            BatchWord w = _consume(s, ids[i], callerId, number);
            uint24 wOrigin = s.originOf(w);
            if (i == 0) {
                first = w;
                origin = wOrigin;
            } else if (
                w.owner() != first.owner()
                    || (keepOrigin && (w.gtin() != first.gtin() || w.uom() != first.uom() || wOrigin != origin))
            ) {
                revert IProvenanceRegistry.RegistryIncompatibleBatches(ids[0], ids[i]);
            }
            uint32[] memory ancestors = s.ancestorsOf(w);
            for (uint256 j; j < ancestors.length; ++j) {
                count = _insert(lineage, count, ancestors[j]);
            }
            count = _insert(lineage, count, number);
        }
        LineageLib.store(s.lineage[key], keepOrigin ? origin : callerId, lineage, count);
    }

    /// @dev Checks that `callerId` may consume `batchId` and marks it Consumed with lineage number `number`.
    function _consume(RegistryState storage s, bytes32 batchId, uint24 callerId, uint32 number)
        private
        returns (BatchWord w)
    {
        w = s.batches[batchId];
        s.checkMovable(batchId, w);
        uint24 buyer = w.boundTo();
        if (buyer != 0) revert IProvenanceRegistry.RegistryBoundDelivery(batchId, s.accounts[buyer]);
        if (w.custodian() != callerId) revert IProvenanceRegistry.RegistryNotCustodian(batchId, msg.sender);
        s.batches[batchId] = w.consumed(number);
    }

    /// @dev The inputs' summed quantity (their consumed words keep it) minus `loss`: positive, fits uint48.
    function _mergedQuantity(RegistryState storage s, bytes32[] calldata ids, uint48 loss)
        private
        view
        returns (uint48)
    {
        uint256 total = 0;
        for (uint256 i; i < ids.length; ++i) {
            total += s.batches[ids[i]].quantity(); // cannot overflow: calldata-length many uint48 values
        }
        if (total <= loss || total - loss > type(uint48).max) {
            revert IProvenanceRegistry.RegistryQuantityMismatch(total, loss);
        }
        return uint48(total - loss); // fits: checked just above
    }

    /// @dev One `BatchConsumed` per input; the first carries the operation's loss.
    function _emitConsumed(
        bytes32[] calldata ids,
        IProvenanceRegistry.OperationKind kind,
        uint48 loss,
        bytes32 document
    ) private {
        uint64 timestamp = RegistryCore.now_();
        for (uint256 i; i < ids.length; ++i) {
            emit IProvenanceRegistry.BatchConsumed(ids[i], msg.sender, kind, i == 0 ? loss : 0, document, timestamp);
        }
    }

    /// @dev Hands out `n` consecutive lineage numbers; returns the first.
    function _allocateNumbers(RegistryState storage s, uint256 n) private returns (uint32 first) {
        uint256 current = s.counters.lineageNumbers;
        uint256 last = current + n;
        if (last > type(uint32).max) revert IProvenanceRegistry.RegistryLineageTooLarge(type(uint32).max);
        s.counters.lineageNumbers = uint32(last);
        first = uint32(current + 1);
    }

    function _insert(uint32[] memory buffer, uint256 count, uint32 number) private pure returns (uint256) {
        count = LineageLib.insert(buffer, count, number);
        if (count > LineageLib.MAX) revert IProvenanceRegistry.RegistryLineageTooLarge(LineageLib.MAX);
        return count;
    }

    function _one(bytes32 id) private pure returns (bytes32[] memory ids) {
        ids = new bytes32[](1);
        ids[0] = id;
    }

    /// @dev `lot` starts with `parentLot` (of length `parentLength`) and is longer; `lot` itself is
    /// validated when it is stored (a valid lot has no zero byte before its end).
    function _checkExtends(bytes32 parentLot, uint256 parentLength, bytes32 lot) private pure {
        uint256 mask = ~(type(uint256).max >> (8 * parentLength));
        if (parentLength >= 20 || lot[parentLength] == 0 || uint256(lot) & mask != uint256(parentLot)) {
            revert IProvenanceRegistry.RegistryLotNotExtended(parentLot, lot);
        }
    }
}
